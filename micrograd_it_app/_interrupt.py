"""Ctrl-C in the command: an interrupt that is never lost, even where Python swallows it.

Python drops a KeyboardInterrupt that lands inside a weakref callback or a
``__del__`` (it prints "Exception ignored in ..." and goes on), so a long run
could carry on to the end after the user pressed Ctrl-C. While the command
runs, `catch_interrupts` installs a SIGINT handler that also *records* the
interrupt, and `checkpoint()` -- called before each file is written and at
each training step -- raises it again if it was swallowed. The swallowed one
is kept off the screen (no traceback for the user), through
`sys.unraisablehook`; every other unraisable exception is reported as before.
"""

import signal
import sys
import threading

__all__ = ["catch_interrupts", "checkpoint"]

_pending = False


def _on_sigint(signum, frame):
    global _pending
    _pending = True
    raise KeyboardInterrupt


def checkpoint():
    """Raise KeyboardInterrupt if Ctrl-C was pressed (even if the first one was swallowed); else return None."""
    if _pending:
        raise KeyboardInterrupt


def _quiet_about_ctrl_c(previous_hook):
    def hook(unraisable):
        if not isinstance(unraisable.exc_value, KeyboardInterrupt):
            previous_hook(unraisable)
    return hook


class catch_interrupts:
    """Context manager: record Ctrl-C while the block runs; restores the previous handlers on exit.

    ``interrupted`` tells, after the block, whether Ctrl-C was pressed. Does
    nothing outside the main thread or when SIGINT is not Python's default.
    """

    def __enter__(self):
        global _pending
        _pending = False
        self.interrupted = False
        self._previous = None
        if threading.current_thread() is threading.main_thread() \
                and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, _on_sigint)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = _quiet_about_ctrl_c(self._previous_hook)
        return self

    def __exit__(self, *exc_info):
        global _pending
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            sys.unraisablehook = self._previous_hook
        self.interrupted = _pending
        _pending = False
        return False
