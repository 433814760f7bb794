"""Ctrl-C and SIGTERM in the command: an interrupt that is never lost, even where Python swallows it.

Both stop the command the same way: SIGTERM raises `Terminated`, a kind of
KeyboardInterrupt, so every clean-up path written for Ctrl-C (workers
stopped, temporary files removed, finished files kept) serves both; the
command exits with 130 after Ctrl-C and 143 after SIGTERM (128 + the signal's
number, as a shell reports a process killed by it).

Python drops a KeyboardInterrupt that lands inside a weakref callback or a
``__del__`` (it prints "Exception ignored in ..." and goes on), so a long run
could carry on to the end after the user pressed Ctrl-C. While the command
runs, `catch_interrupts` installs a handler that also *records* the signal,
and `checkpoint()` -- called before each file is written and at each training
step -- raises it again if it was swallowed. The swallowed one is kept off the
screen through `sys.unraisablehook`; every other unraisable exception is
reported as before.

At start-up (`start.py`, before argparse or the engine is imported) the
handler is installed in *holding* mode: a signal is only recorded, and raised
at the first checkpoint, once the command's own error handling is in place.
This module imports nothing but the standard library's signal, sys and
threading, which Python's start-up has already loaded.
"""

import signal
import sys
import threading

__all__ = ["Terminated", "catch_interrupts", "checkpoint", "held", "hold_signals", "in_worker", "exit_code",
           "interrupted_line", "EXIT_INTERRUPTED", "EXIT_TERMINATED"]

EXIT_INTERRUPTED = 128 + signal.SIGINT  # 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that every clean-up written for Ctrl-C serves it too."""


class _State:
    received = None  # the number of the signal received and not yet reported, or None
    raising = False  # True: the handler raises at once; False: it only records (start-up, see hold_signals)


_state = _State()


def _exception(signum):
    return Terminated() if signum == signal.SIGTERM else KeyboardInterrupt()


def _on_signal(signum, frame):
    _state.received = signum
    if _state.raising:
        raise _exception(signum)


def checkpoint():
    """Raise KeyboardInterrupt (Terminated after SIGTERM) if one was received, even if it was swallowed; else None."""
    if _state.received is not None:
        raise _exception(_state.received)


class held:
    """Context manager: Ctrl-C and SIGTERM are recorded, not raised, while the block runs; one received meanwhile is
    raised as the block ends.

    For imports: a KeyboardInterrupt raised in the middle of a C extension's
    initialisation (numpy's, matplotlib's) leaves it half made, and the
    interpreter may then fail at exit (an abort, or death by SIGINT instead
    of exit code 130). An import takes at most a second or so: the command
    stops right after it.
    """

    def __enter__(self):
        self._raising = _state.raising
        _state.raising = False
        return self

    def __exit__(self, exc_type, *exc_info):
        _state.raising = self._raising
        if exc_type is None and self._raising:
            checkpoint()
        return False


def exit_code(interrupt=None):
    """Return the exit code of an interrupt: 143 for Terminated (or a SIGTERM received), else 130."""
    if isinstance(interrupt, Terminated) or (interrupt is None and _state.received == signal.SIGTERM):
        return EXIT_TERMINATED
    return EXIT_INTERRUPTED


def interrupted_line(code):
    """The one line said when the command stops on a signal (exit code `code`)."""
    what = "terminated" if code == EXIT_TERMINATED else "interrupted"
    return f"micrograd-it: {what}; the files written so far are kept\n"


def hold_signals():
    """At start-up: Ctrl-C and SIGTERM are recorded (not raised) until a catch_interrupts block begins; return None.

    Takes only the signals that are ours to take (see `_ours`).
    """
    for signum in _ours():
        signal.signal(signum, _on_signal)


def _ours():
    """The signals whose handling is ours to take: in the main thread, SIGINT if it is Python's default handler and
    SIGTERM if it is the system's default (or either is already ours). A signal the caller chose to handle or to
    ignore -- a job started in the background ignores Ctrl-C -- keeps the caller's choice."""
    if threading.current_thread() is not threading.main_thread():
        return ()
    defaults = {signal.SIGINT: signal.default_int_handler, signal.SIGTERM: signal.SIG_DFL}
    return tuple(signum for signum in _SIGNALS if signal.getsignal(signum) in (defaults[signum], _on_signal))


def _held():
    """True when a handler of ours is installed (by hold_signals or an enclosing catch_interrupts block)."""
    return any(signal.getsignal(signum) is _on_signal for signum in _SIGNALS)


def _quiet_about_ctrl_c(previous_hook):
    def hook(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)
    return hook


class catch_interrupts:
    """Context manager: Ctrl-C and SIGTERM raise at once, and are recorded, while the block runs; restores the
    previous handlers on exit.

    ``interrupted`` tells, after the block, whether a signal was received
    (``code`` is then its exit code). A signal held since start-up (see
    `hold_signals`) is raised at the block's first checkpoint. Takes only the
    signals that are ours to take (none outside the main thread; see `_ours`).
    """

    def __enter__(self):
        self.interrupted, self.code = False, None
        self._previous = None
        signals = _ours()
        if signals:
            if not _held():
                _state.received = None  # a fresh start: nothing is held for us
            self._previous = {signum: signal.getsignal(signum) for signum in signals}
            self._previous_raising = _state.raising
            self._previous_hook = sys.unraisablehook
            for signum in signals:
                signal.signal(signum, _on_signal)
            sys.unraisablehook = _quiet_about_ctrl_c(self._previous_hook)
            _state.raising = True
        return self

    def __exit__(self, *exc_info):
        if self._previous is not None:
            _state.raising = self._previous_raising
            for signum, handler in self._previous.items():
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            sys.unraisablehook = self._previous_hook
        self.interrupted = _state.received is not None
        self.code = exit_code() if self.interrupted else None
        if not _held():
            _state.received = None  # no handler of ours is left to answer for it
        return False


def in_worker():
    """In a forked worker of the study: Ctrl-C ignored (the parent decides), SIGTERM kills at once; return None."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _state.received, _state.raising = None, False
