"""The study's progress bar: tqdm's, in a notebook or on a terminal, and nothing in logs or pipes.

`Progress` picks the bar where it runs: in a Jupyter kernel, `tqdm.auto`'s
(a widget with ipywidgets, else tqdm's text bar, with tqdm's own warning);
on a terminal, tqdm's text bar on stderr (rate, ETA and the loss beside it,
cleared when done); when stderr is a file or a pipe, none at all, so logs hold
no carriage returns. Each update is also a Ctrl-C `checkpoint`. In a worker
process of the study (`_parallel`), updates go to the parent, which draws the
one bar.
"""

import functools
import os
import sys

from ._interrupt import checkpoint

__all__ = ["Progress", "forward_steps"]

_forward = None  # in a worker process: where each update goes instead of a bar (see _parallel)


def forward_steps(send):
    """In a worker process: send every bar's ``loss`` per update to `send` (the parent draws one bar); return None."""
    global _forward
    _forward = send


def in_notebook():
    """Return True inside a Jupyter kernel (the test tqdm.auto makes too), False in a terminal or a script."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and "IPKernelApp" in shell.config


def _bar_class(stream, enabled):
    """The tqdm class to draw with and whether it draws on a terminal, or (None, False) for no bar."""
    if enabled is False or _forward is not None:
        return None, False
    if stream is None and in_notebook():
        from tqdm.auto import tqdm
        return _without_monitor(tqdm), False
    stream = sys.stderr if stream is None else stream
    if enabled or _isatty(stream):
        from tqdm.std import tqdm
        return _without_monitor(tqdm), _isatty(stream)
    return None, False


def _columns(stream):
    """The width of the bar on a terminal: two columns short of it, so that the ``^C`` the terminal
    echoes stays on the bar's line (a full-width line would wrap) and is cleared with it."""
    try:
        return os.get_terminal_size(stream.fileno()).columns - 2
    except (AttributeError, OSError, ValueError):  # not a real terminal (a test's stream): tqdm's default
        return None


@functools.cache
def _without_monitor(tqdm):
    """`tqdm` without its monitor thread (tqdm starts one by default): the study forks its
    workers while the bar is open, and a process that forks should hold no other thread."""
    return type(f"{tqdm.__name__}_without_monitor", (tqdm,), {"monitor_interval": 0})


def _isatty(stream):
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class Progress:
    """Context manager: ``with Progress(total, "bad init") as bar: bar.update(loss=...)``.

    Draws ``label:  50%|#####     | 2/4 [00:01<00:01, 1.9step/s, loss=0.5000]``
    on `stream` (stderr by default) when it is a terminal or `enabled` is True,
    as a widget in a notebook, redrawn at most once every `mininterval` seconds,
    and clears it on exit. Does nothing when the stream is not a TTY or
    `enabled` is False.
    """

    def __init__(self, total, label="", stream=None, enabled=None, mininterval=0.1):
        self.total = max(int(total), 1)
        self.label = label
        self.stream, self.mininterval = stream, mininterval
        self._bar_class, self._on_terminal = _bar_class(stream, enabled)
        self.enabled = self._bar_class is not None
        self._bar = None

    def __enter__(self):
        if self.enabled:
            stream = sys.stderr if self.stream is None else self.stream
            width = {"ncols": _columns(stream)} if self._on_terminal else {}
            self._bar = self._bar_class(total=self.total, desc=self.label, file=self.stream, leave=False,
                                        unit="step", mininterval=self.mininterval, **width)
        return self

    def update(self, steps=1, loss=None):
        """Advance by `steps`; `loss` (a float) is shown beside the bar. Raises KeyboardInterrupt after Ctrl-C."""
        checkpoint()
        if _forward is not None:
            _forward(loss)
            return
        if self._bar is not None:
            if loss is not None:
                self._bar.set_postfix_str(f"loss={loss:.4f}", refresh=False)
            self._bar.update(min(steps, self.total - self._bar.n))

    def __exit__(self, *exc_info):
        if self._bar is not None:
            bar, self._bar = self._bar, None
            bar.close()  # leave=False: tqdm writes spaces over the bar and returns to the line's start
            if self._on_terminal:  # and the rest of the line (an echoed ^C) goes too
                bar.fp.write("\033[K")
                bar.fp.flush()
        return False
