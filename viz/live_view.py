"""Watch it die live: a training view that updates while the loop runs (``from viz import live``).

    view = live(net)                     # or live() / live(params=...) for code without a Module
    for step in range(steps):
        with net.trace() as tr:          # or trace_values() / trace_torch(model), or no trace at all
            loss = ...
        loss.backward(); opt.step()
        view.update(loss=loss, trace=tr) # one call per step, after the optimiser's step
    view.close()                         # draws the final state; or use the view as a with-block
    view.save("run.html")                # the study's replay page of the run it watched

In a Jupyter kernel it shows one output area, replaced in place through the IPython display protocol
(a PNG per frame, no widget); on a terminal, the study's progress line. Each update measures the
step (compute first, then one append: a Ctrl-C leaves the view as it was, and usable); a frame is
drawn at most `max_fps` times a second and only as often as keeps drawing under `draw_budget` of the
time (a frame costing 0.2 s at 4% is followed by at least 5 s without one), so a fast loop pays for the
numbers only. `close()` always draws the final step.
"""

import math
import numbers
import sys
import time

from micrograd_it.files import atomic_write

from ._arrays import describe
from .display import _kernel_shell
from .live_frame import draw_frame, frame_png, frame_summary, frame_text
from .live_numbers import ParameterWatch, drawable, named_parameters, step_numbers
from .live_outputs import CallbackOutput, Frame, NoOutput, NotebookOutput, TerminalLine
from .plots_common import check_threshold

__all__ = ["live", "LiveView"]

MAX_LAYERS = 4  # layers drawn by default: a row each, so a frame stays about a laptop screen tall


def live(net=None, **options):
    """Return a `LiveView` watching the training of `net` (a Module, a torch model, or None); see LiveView."""
    return LiveView(net, **options)


def _positive(value, what, at_most=math.inf):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value <= at_most:
        bound = "" if at_most == math.inf else f" and <= {at_most:g}"
        raise ValueError(f"live() {what} must be a number > 0{bound}, got {describe(value)}")
    return float(value)


class LiveView:
    """The live training view made by `live()`.

    Options: `params` (the parameters whose update:data ratios are shown, when `net` is None or not the
    Module to watch: a Module, Values, tensors or (name, parameter) pairs); `layers` (names or indices of
    the traced layers to draw, "all", or None: the first four that are not linear); `threshold`
    (saturated when the layer's rule says so at it, 0.99); `output` ("auto": a notebook's output area in
    a Jupyter kernel, else the progress line when stderr is a terminal, else nothing; "notebook",
    "terminal", "none", or a function called with each `Frame`); `max_fps` (2), `draw_budget` (0.04 of
    the time), `clock` (time.monotonic, injectable for tests), `title`, `total` (steps, for the
    terminal's bar), `stream` (the terminal's, stderr by default), `dpi` (72).
    Raises TypeError/ValueError naming a bad option.
    """

    def __init__(self, net=None, *, params=None, layers=None, threshold=0.99, output="auto", max_fps=2.0,
                 draw_budget=0.04, clock=time.monotonic, title="training", total=None, stream=None, dpi=72):
        self.threshold = check_threshold(threshold)
        self.max_fps = _positive(max_fps, "max_fps")
        self.draw_budget = _positive(draw_budget, "draw_budget", at_most=1.0)
        if not callable(clock):
            raise TypeError(f"live() clock must be a function returning seconds, got {describe(clock)}")
        self.clock, self.title, self.dpi = clock, str(title), _positive(dpi, "dpi")
        self.layers = self._check_layers(layers)
        if total is not None and (isinstance(total, bool) or not isinstance(total, int) or total < 1):
            raise ValueError(f"live() total must be a positive int (the number of steps) or None, got {describe(total)}")
        self.net = net
        named = named_parameters(net, params)
        self._watch = ParameterWatch(named) if named else None
        self._initial_data = self._watch.read() if self._watch else None
        self._output = self._make_output(output, total, stream)
        self._records = []
        self._figure = None
        self.last_frame = None  # the Frame drawn last: its png, its text and the numbers it shows
        self.frames_drawn = 0
        self.draw_seconds = 0.0  # the time spent drawing frames (by `clock`), for the curious and the benchmark
        self._next_draw_at = -math.inf
        self._first_update_at = None  # the clock at the first update: the draw budget counts from there
        self.closed = False

    # -- options --------------------------------------------------------------------------------------

    @staticmethod
    def _check_layers(layers):
        if layers is None or layers == "all":
            return layers
        if isinstance(layers, (str, int)):
            layers = [layers]
        layers = list(layers)
        for item in layers:
            if isinstance(item, bool) or not isinstance(item, (str, int)):
                raise TypeError(f"live() layers must be names or indices of traced layers, got {describe(item)}")
        return layers

    def _make_output(self, output, total, stream):
        if callable(output):
            return CallbackOutput(output)
        if output == "auto":
            if _kernel_shell() is not None:
                return NotebookOutput()
            tty = getattr(sys.stderr if stream is None else stream, "isatty", None)
            output = "terminal" if tty is not None and tty() else "none"
        if output == "notebook":
            return NotebookOutput()
        if output == "terminal":
            return TerminalLine(total=total, label=self.title, stream=stream)
        if output == "none":
            return NoOutput()
        raise ValueError(f"live() output must be 'auto', 'notebook', 'terminal', 'none' or a function, "
                         f"got {describe(output)}")

    def _shown(self, record):
        """Indices (in record.layers) of the layers a frame draws."""
        measured = [index for index, numbers in enumerate(record.layers) if numbers is not None]
        if self.layers == "all":
            return measured
        if self.layers is None:
            active = [index for index in measured if record.layers[index].activation != "linear"]
            return (active or measured)[:MAX_LAYERS]
        names = {record.layers[index].name: index for index in measured}
        shown = []
        for item in self.layers:
            index = names.get(item) if isinstance(item, str) else item
            if index is None or not 0 <= index < len(record.layers):
                raise ValueError(f"live() layers: no traced layer {item!r}; the trace has {list(names)}")
            shown.append(index)
        return shown

    # -- the loop's calls -----------------------------------------------------------------------------

    def update(self, loss=None, trace=None):
        """Record one training step (its `loss`: a Value, tensor or number; its `trace`), draw when due; return None.

        Call it after the optimiser's step: the update:data ratio compares the parameters with the
        previous call's. Raises RuntimeError after close(), TypeError for a loss or trace of the wrong kind.
        """
        if self.closed:
            raise RuntimeError("this live view is closed; make a new one with live()")
        started = self.clock()
        previous = self._records[-1].param_data if self._records else self._initial_data
        record = step_numbers(len(self._records), loss, trace, self.threshold, self._watch, previous)
        self._shown(record)  # a bad layers= option fails here, before anything is kept
        self._records.append(record)  # the commit: one append
        if self._first_update_at is None:
            self._first_update_at = started
        if len(self._records) > 1:
            # Only the newest step's parameters and trace are needed (the frame draws that step's map and
            # histograms): an older trace would keep its step's whole graph alive, 15 MB a step of the makemore MLP.
            self._records[-2].param_data = None
            self._records[-2].trace_layers = None
        self._output.step(frame_summary(record, self._shown(record)))
        if self._output.draws and self.clock() >= self._next_draw_at:
            self._draw()

    def _draw(self):
        """Draw the newest step into the reused Figure and show it; the view changes only once it is shown."""
        import matplotlib.figure  # here: a terminal loop never pays for matplotlib's import

        started = self.clock()
        if self._figure is None:
            self._figure = matplotlib.figure.Figure()
        summary = draw_frame(self._figure, self._records, self._shown(self._records[-1]), self.threshold, self.title)
        text = frame_text(summary)
        frame = Frame(frame_png(self._figure, text, self.dpi), text, summary)
        self._output.put(frame)
        cost = max(0.0, self.clock() - started)
        self.last_frame, self.frames_drawn, self.draw_seconds = frame, self.frames_drawn + 1, self.draw_seconds + cost
        # The budget holds over the whole run: the frames drawn so far, the next one and the final one (close()
        # draws it), each guessed to cost what this one did, take at most draw_budget of the time since the
        # first update. Only a run shorter than two frames' cost / draw_budget pays more: its first and final frame.
        origin = started if self._first_update_at is None else self._first_update_at
        self._next_draw_at = max(started + 1.0 / self.max_fps, origin + (self.draw_seconds + 2.0 * cost) / self.draw_budget)

    def close(self):
        """Draw the final step (unless it is the frame shown) and finish the output; return None. Idempotent."""
        if self.closed:
            return
        if self._output.draws and self._records and (
                self.last_frame is None or self.last_frame.summary["step"] != self._records[-1].step):
            self._draw()
        self._output.close()
        self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            # Ctrl-C: stop at once, leaving the last frame drawn; the numbers stay (save() works)
            self._output.close()
            self.closed = True
        else:
            self.close()
        return False

    # -- what it watched ------------------------------------------------------------------------------

    @property
    def steps(self):
        """How many updates the view has recorded."""
        return len(self._records)

    @property
    def losses(self):
        """The loss of every step (None where update() got none)."""
        return [record.loss for record in self._records]

    @property
    def ratio_history(self):
        """Per step {group: log10(std(update) / std(data))} (SGD.ratio_history's shape); empty without parameters."""
        return [record.ratios for record in self._records if record.ratios is not None]

    def layer_history(self, layer):
        """Return {"steps", "dead", "saturated_pct", "dead_neurons"} of one traced layer (its name or index)."""
        history = {"steps": [], "dead": [], "saturated_pct": [], "dead_neurons": []}
        for record in self._records:
            for index, numbers in enumerate(record.layers):
                if numbers is not None and (numbers.name == layer if isinstance(layer, str) else index == layer):
                    history["steps"].append(record.step)
                    history["dead"].append(len(numbers.dead))
                    history["saturated_pct"].append(numbers.saturated_pct)
                    history["dead_neurons"].append(list(numbers.dead))
        if not history["steps"]:
            raise ValueError(f"the view recorded no traced layer {layer!r}")
        return history

    def save(self, path, layer=None):
        """Write the replay page (viz.replay, the study's) of one traced layer over the watched steps; return the path.

        `layer`: its name or index (default: the first drawn). Steps on which it recorded no sample are left
        out. The network map is drawn in when the net is an MLP (or has one as .mlp) and a layout engine
        is installed. Raises ValueError when nothing was recorded for the layer, OSError naming the path.
        """
        from .replay import replay_page

        if not self._records:
            raise ValueError("save(): the view has recorded no step yet")
        index = self._layer_index(layer)
        frames = [record.layers[index].frame(math.nan if record.loss is None else record.loss)
                  for record in self._records if index < len(record.layers) and record.layers[index] is not None]
        frames = [frame for frame in frames if math.isfinite(frame["loss"])] or frames
        if not frames or not all(math.isfinite(frame["loss"]) for frame in frames):
            raise ValueError("save(): the replay page needs a finite loss per step; update(loss=...) got none")
        title = f"{self.title}: {len(frames)} training steps watched live, replayed"
        page = replay_page(frames, self._network_svg(index), title=title, layer_key=f"l{index}",
                           threshold=self.threshold)
        return atomic_write(path, page)

    def _layer_index(self, layer):
        last = self._records[-1]
        if layer is None:
            shown = self._shown(last)
            if not shown:
                raise ValueError("save(): no traced layer was recorded (update(trace=...))")
            return shown[0]
        for index, numbers in enumerate(last.layers):
            if numbers is not None and (numbers.name == layer if isinstance(layer, str) else index == layer):
                return index
        raise ValueError(f"save(): no traced layer {layer!r}; the last step has "
                         f"{[numbers.name for numbers in last.layers if numbers is not None]}")

    def _network_svg(self, index):
        """viz.network's drawing of the watched MLP over the last step's trace, as SVG text; None when impossible."""
        mlp = self.net if hasattr(self.net, "layers") else getattr(self.net, "mlp", None)
        if mlp is None:
            return None
        try:
            from .graph import render
            from .network import draw_network

            trace = type("LastTrace", (), {"layers": [drawable(layer) for layer in self._records[-1].trace_layers]})()
            svg = render(draw_network(mlp, trace, threshold=self.threshold), format="svg")
        except (ImportError, TypeError, ValueError, RuntimeError, OSError):
            return None  # not an MLP of ours, no layout engine: the page says it has no drawing
        return svg.decode("utf-8") if isinstance(svg, bytes) else svg

    def __repr__(self):
        return (f"<live training view {self.title!r}: {self.steps} steps, {self.frames_drawn} frames drawn, "
                f"{type(self._output).__name__}{', closed' if self.closed else ''}>")
