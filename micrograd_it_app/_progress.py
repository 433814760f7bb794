"""A small progress bar on stderr, shown only when stderr is a terminal (never in logs or pipes)."""

import sys
import time

from ._interrupt import checkpoint

__all__ = ["Progress", "forward_steps"]

_forward = None  # in a worker process: where each update goes instead of a bar (see _parallel)


def forward_steps(send):
    """In a worker process: send every bar's ``loss`` per update to `send` (the parent draws one bar); return None."""
    global _forward
    _forward = send


class Progress:
    """Context manager: ``with Progress(total, "bad init") as bar: bar.update(loss=...)``.

    Draws ``label [#####.....] step/total loss=...`` on one line of `stream`
    (stderr by default), redrawn at most 10 times a second, and clears the line
    on exit. Does nothing when the stream is not a TTY or `enabled` is False.
    """

    def __init__(self, total, label="", stream=None, enabled=None, width=30):
        self.total = max(int(total), 1)
        self.label = label
        self.stream = sys.stderr if stream is None else stream
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = (bool(isatty and isatty())) if enabled is None else enabled
        self.enabled = self.enabled and _forward is None
        self.width = width
        self.done = 0
        self._last_draw = 0.0

    def __enter__(self):
        self._draw()
        return self

    def update(self, steps=1, loss=None):
        """Advance by `steps`; `loss` (a float) is shown beside the bar. Raises KeyboardInterrupt after Ctrl-C."""
        checkpoint()
        if _forward is not None:
            _forward(loss)
            return
        self.done = min(self.done + steps, self.total)
        now = time.monotonic()
        if self.done == self.total or now - self._last_draw > 0.1:
            self._last_draw = now
            self._draw(loss)

    def line(self, loss=None):
        """Return the text of the bar as it would be drawn."""
        filled = self.width * self.done // self.total
        bar = "#" * filled + "." * (self.width - filled)
        text = f"{self.label} [{bar}] {self.done}/{self.total}"
        return text if loss is None else f"{text} loss={loss:.4f}"

    def _draw(self, loss=None):
        if self.enabled:
            self.stream.write("\r" + self.line(loss) + "\033[K")
            self.stream.flush()

    def __exit__(self, *exc_info):
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()
        return False
