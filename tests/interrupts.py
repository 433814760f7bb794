"""Interrupting code at every line and at random moments: the two harnesses of the "state survives
interruption" tests (STYLE.md's example 14), shared by the tests of files, nets, the engine, the
optimizer and the collector's pause."""

import signal
import sys

__all__ = ["interrupted_at_line", "interrupt_after"]


def interrupted_at_line(function, module, at_line):
    """Run ``function()`` with KeyboardInterrupt raised at the start of the `at_line`-th line it runs in
    `module`'s file (0: never); return how many lines of that file ran. The interrupt is swallowed.

    Lines of other files run untraced, so `at_line` counts only the code under test: calling it with
    0 first gives the number of lines, then 1 ... that number interrupts it at every one of them.
    """
    seen = 0

    def tracer(frame, event, arg):
        nonlocal seen
        if frame.f_code.co_filename != module.__file__:
            return None
        if event == "line":
            seen += 1
            if seen == at_line:
                raise KeyboardInterrupt
        return tracer

    sys.settrace(tracer)
    try:
        function()
    except KeyboardInterrupt:
        if seen != at_line:
            raise
    finally:
        sys.settrace(None)
    return seen


def interrupt_after(delay, function, where=lambda frame: True, exception=KeyboardInterrupt):
    """Run ``function()`` with a real signal (SIGALRM, its handler raising `exception` as Ctrl-C's raises
    KeyboardInterrupt) `delay` seconds in; return ``where(frame)`` of the frame it landed in (which may
    be just after ``function`` returned), or None if it never came (the timer stops when ``function``
    returns). The interrupt is swallowed.

    POSIX only (``signal.setitimer``); call it from the main thread.
    """
    landed = []

    def on_alarm(signum, frame):
        if not landed:
            landed.append(where(frame))
            raise exception

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, delay)
            function()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except exception:
        if not landed:
            raise
    finally:
        signal.signal(signal.SIGALRM, previous)
    return landed[0] if landed else None
