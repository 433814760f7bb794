"""Where the live training view goes: one output area of a Jupyter notebook, a progress line on a terminal,
a function of yours, or nowhere.

- `NotebookOutput`: the IPython display protocol only. The first frame is shown with
  ``display(bundle, raw=True, display_id=True)``, every later one replaces it through the handle's
  ``update``: one output area, no widget, no JavaScript. The bundle is a PNG (base64) and its text
  (``text/plain``, the numbers it was drawn from); the numbers are in the metadata too. A notebook
  saved or executed headless keeps the last frame as an ordinary image. IPython is imported only here,
  only when a notebook output is made.
- `TerminalLine`: the study's progress line (tqdm on stderr: steps, rate, and the loss, dead and
  saturated counts beside it), drawn by tqdm at most every `mininterval` seconds.
- `CallbackOutput`: each frame handed to a function (to write PNGs, to test, to benchmark).
"""

import base64
import math
import sys

__all__ = ["Frame", "NotebookOutput", "TerminalLine", "CallbackOutput", "NoOutput", "progress_text"]


class Frame:
    """One drawn frame: `png` (bytes), `text` (one line of what it shows), `summary` (its numbers: step, loss,
    and per shown layer name, dead, saturated_pct, n_samples, n_neurons)."""

    __slots__ = ("png", "text", "summary")

    def __init__(self, png, text, summary):
        self.png, self.text, self.summary = png, text, summary

    def _repr_png_(self):
        return self.png


def progress_text(summary):
    """'loss=2.3412, dead=3/32, saturated=41.2%' (one dead/saturated pair per layer, joined by ' | ')."""
    parts = [] if summary["loss"] is None else [f"loss={summary['loss']:.4f}"]
    parts += [f"{layer['name']}: dead={layer['dead']}/{layer['n_neurons']}, saturated={layer['saturated_pct']:.1f}%"
              for layer in summary["layers"]]
    return " | ".join(parts)


def _json_safe(summary):
    """The summary with a nan/inf loss written as text (JSON has no nan)."""
    loss = summary["loss"]
    return dict(summary, loss=loss if loss is None or math.isfinite(loss) else repr(loss))


class NotebookOutput:
    """Frames shown in one output area of the running Jupyter cell, replaced in place (see the module docstring)."""

    draws = True

    def __init__(self):
        from IPython.display import display  # only in a notebook: the library works without IPython

        self._display = display
        self.handle = None

    def put(self, frame):
        """Show `frame` (the first time) or replace the one shown; return None."""
        bundle = {"image/png": base64.b64encode(frame.png).decode("ascii"), "text/plain": frame.text}
        metadata = {"micrograd_it": {"live_view": _json_safe(frame.summary)}}
        if self.handle is None:
            self.handle = self._display(bundle, raw=True, metadata=metadata, display_id=True)
        else:
            self.handle.update(bundle, raw=True, metadata=metadata)

    def step(self, summary):
        """Every update: nothing to do (frames carry everything)."""

    def close(self):
        """Nothing to release: the last frame stays in the notebook."""


class TerminalLine:
    """The study's progress line on `stream` (stderr by default): tqdm's bar, the numbers beside it."""

    draws = False

    def __init__(self, total=None, label="training", stream=None, mininterval=0.1):
        from tqdm.std import tqdm

        # no monitor thread (tqdm starts one by default): a training loop may fork workers, as the study does
        bar_class = type("tqdm_without_monitor", (tqdm,), {"monitor_interval": 0})
        self.bar = bar_class(total=total, desc=label, file=sys.stderr if stream is None else stream, leave=True,
                             unit="step", mininterval=mininterval, dynamic_ncols=True)

    def put(self, frame):
        """Terminals get no pictures."""

    def step(self, summary):
        """Advance by one step and put `summary`'s loss, dead and saturated counts beside the bar."""
        self.bar.set_postfix_str(progress_text(summary), refresh=False)
        self.bar.update(1)

    def close(self):
        """Draw the line one last time, with the final numbers, and leave it."""
        self.bar.close()


class CallbackOutput:
    """Every frame handed to `function(frame)` (a `Frame`)."""

    draws = True

    def __init__(self, function):
        self.function = function

    def put(self, frame):
        self.function(frame)

    def step(self, summary):
        """Every update: nothing to do."""

    def close(self):
        """Nothing to release."""


class NoOutput:
    """Nothing shown: a script whose stderr is a file or a pipe (its log gets no carriage returns)."""

    draws = False

    def put(self, frame):
        """Nothing."""

    def step(self, summary):
        """Nothing."""

    def close(self):
        """Nothing."""
