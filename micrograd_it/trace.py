"""Per-neuron tracing: what each neuron received, what it output, and how much gradient it let through.

    with net.trace() as tr:
        loss = mse([net(x) for x in X], Y)
        loss.backward()
    lt = tr.layers[0]
    lt.preact, lt.act          # samples x neurons, plain floats
    lt.grad_out, lt.grad_in    # d loss / d act, d loss / d preact (valid after backward)
    lt.saturation(0.99)        # per neuron: fraction of samples on which it is saturated
    lt.dead(0.99)              # neurons saturated on EVERY sample: they pass (almost) no gradient

A trace keeps the Value objects themselves and reads ``.data``/``.grad``
lazily, so it sees the gradients of a ``backward()`` run after the forward
pass. It keeps the graph alive while you hold it. Tracing computes exactly the
same ops as an untraced call: values and gradients are identical.

When is a neuron saturated on one sample? When it passes (almost) no gradient.
Each activation's rule sits in its entry of the op catalogue (micrograd_it/ops.py):
- by default, when its local derivative ``|d act / d preact|`` is below
  ``1 - threshold``: relu whenever preact <= 0 (act and its derivative are 0);
  elu's far negative tail (preact < ln(1 - threshold), about -4.6 at 0.99),
  gelu's (preact below about -3.1), softplus's (below about -4.6); never
  leaky_relu at thresholds >= 0.99, since its slope 0.01 always passes 1% of the
  gradient -- the leak is what keeps it alive;
- tanh: ``|act| > threshold`` (local derivative 1 - act**2 < 1 - threshold**2);
- sigmoid: ``act > threshold`` or ``act < 1 - threshold``;
- linear: never.
The rule is computed from the op's own local derivative (the numbers training
uses), never through backward(), so it is the same inside and outside no_grad().
A neuron is dead when it is saturated on every sample of the traced batch.
"""

import inspect
import math
import sys
import weakref

from .catalogue import ACTIVATIONS

__all__ = ["Trace", "LayerTrace", "is_saturated", "saturation_rule"]


def _never(preact, act, threshold):
    return False


def saturation_rule(activation):
    """Return the function ``(preact, act, threshold) -> bool`` saying when a neuron with this
    activation passes (almost) no gradient; raises ValueError for an unknown activation."""
    if activation == "linear":
        return _never
    op = ACTIVATIONS.get(activation)
    if op is None:
        raise ValueError(f"unknown activation {activation!r}; known: {sorted(ACTIVATIONS) + ['linear']}")
    if op.activation.saturated is not None:
        return op.activation.saturated
    local_at = op.local_at

    def local_below(preact, act, threshold):
        # local derivative below 1 - threshold, written as `local + threshold < 1`
        # because 1 - 0.99 is 0.010000000000000009 in floats
        return abs(local_at(preact)) + threshold < 1.0
    return local_below


def is_saturated(activation, preact, act, threshold=0.99):
    """Return True when a neuron with this `activation`, `preact` and `act` passes (almost) no gradient."""
    return saturation_rule(activation)(preact, act, threshold)


def _check_threshold(threshold):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r} ({type(threshold).__name__})")
    return threshold


def _mean_std(numbers):
    """Return (mean, population std) of a list of floats, or (None, None) when empty."""
    if not numbers:
        return None, None
    mean = sum(numbers) / len(numbers)
    return mean, math.sqrt(sum((x - mean) ** 2 for x in numbers) / len(numbers))


class _Numbers:
    """One traced number and its gradient, for a LayerTrace made from numbers."""

    __slots__ = ("data", "grad")

    def __init__(self, data, grad):
        self.data, self.grad = data, grad


class LayerTrace:
    """What one Layer computed during a trace: one row per call (sample), one column per neuron."""

    def __init__(self, name, activation, n_neurons):
        self.name = name
        self.activation = activation
        self.n_neurons = n_neurons
        self.preact_nodes = []  # samples x neurons of Values
        self.act_nodes = []     # the same objects as preact_nodes for "linear"

    @classmethod
    def from_numbers(cls, name, activation, preact, act, grad_out, grad_in):
        """Return a LayerTrace of numbers computed elsewhere (samples x neurons lists of floats each).

        It reads like a recorded one (preact, act, grad_out, grad_in, saturated...); its
        ``*_nodes`` hold plain number records, not Values of a graph.
        """
        layer = cls(name, activation, len(act[0]) if act else 0)
        layer.preact_nodes = [[_Numbers(data, grad) for data, grad in zip(*rows)] for rows in zip(preact, grad_in)]
        if activation == "linear":
            layer.act_nodes = layer.preact_nodes
        else:
            layer.act_nodes = [[_Numbers(data, grad) for data, grad in zip(*rows)] for rows in zip(act, grad_out)]
        return layer

    def record(self, neurons, x):
        """Compute every neuron on x (preactivation, then activate), keep the Values, return the acts."""
        preact_row = [neuron.preactivation(x) for neuron in neurons]
        act_row = [neuron.activate(preact) for neuron, preact in zip(neurons, preact_row)]
        self.preact_nodes.append(preact_row)
        self.act_nodes.append(act_row)
        return act_row

    @property
    def n_samples(self):
        """How many times the layer was called inside the trace."""
        return len(self.act_nodes)

    @property
    def preact(self):
        """samples x neurons of pre-activation values (floats)."""
        return [[node.data for node in row] for row in self.preact_nodes]

    @property
    def act(self):
        """samples x neurons of activation values (floats)."""
        return [[node.data for node in row] for row in self.act_nodes]

    @property
    def grad_out(self):
        """samples x neurons of d loss / d act, the gradient arriving at each neuron's output."""
        return [[node.grad for node in row] for row in self.act_nodes]

    @property
    def grad_in(self):
        """samples x neurons of d loss / d preact, what the neuron passed back (tanh: (1 - act**2) * grad_out)."""
        return [[node.grad for node in row] for row in self.preact_nodes]

    def saturated(self, threshold=0.99):
        """samples x neurons of bools: saturated on that sample (see the module docstring per activation)."""
        threshold = _check_threshold(threshold)
        saturated = saturation_rule(self.activation)
        return [
            [saturated(preact.data, act.data, threshold) for preact, act in zip(prow, arow)]
            for prow, arow in zip(self.preact_nodes, self.act_nodes)
        ]

    def saturation(self, threshold=0.99):
        """Per neuron, the fraction of samples on which it is saturated (0.0 each when no samples)."""
        flags = self.saturated(threshold)
        if not flags:
            return [0.0] * self.n_neurons
        return [sum(row[j] for row in flags) / len(flags) for j in range(self.n_neurons)]

    def dead(self, threshold=0.99):
        """Indices of neurons saturated on EVERY sample (none when there are no samples)."""
        flags = self.saturated(threshold)
        if not flags:
            return []
        return [j for j in range(self.n_neurons) if all(row[j] for row in flags)]

    def summary(self, threshold=0.99):
        """Return a dict: name, activation, n_samples, n_neurons, act_mean, act_std, saturated_pct, dead, grad_in_mean, grad_in_std."""
        acts = [value for row in self.act for value in row]
        grads = [value for row in self.grad_in for value in row]
        act_mean, act_std = _mean_std(acts)
        grad_mean, grad_std = _mean_std(grads)
        flags = [flag for row in self.saturated(threshold) for flag in row]
        return dict(
            name=self.name, activation=self.activation, n_samples=self.n_samples, n_neurons=self.n_neurons,
            act_mean=act_mean, act_std=act_std,
            saturated_pct=100.0 * sum(flags) / len(flags) if flags else None,
            dead=len(self.dead(threshold)), grad_in_mean=grad_mean, grad_in_std=grad_std,
        )

    def __repr__(self):
        return f"LayerTrace({self.name!r}, {self.activation!r}, {self.n_samples} samples x {self.n_neurons} neurons)"

    def _repr_html_(self):
        """Jupyter's view: the layer's summary row, then its saturation map (white = saturated, dead marked)."""
        from . import _html_repr

        html = _html_repr.table(SUMMARY_HEADER, [_summary_cells(self.summary())], caption=repr(self))
        if self.n_samples == 0 or self.n_neurons == 0:
            return html + "<p>no samples recorded yet: call the net inside <code>with net.trace() as tr:</code></p>"
        dead = self.dead()
        caption = (f"white = saturated ({self.activation}, threshold 0.99), one row per sample, one column per "
                   f"neuron; {len(dead)} dead (marked above the map, saturated on every sample)"
                   + (f": {dead}" if dead else ""))
        image = _html_repr.saturation_img(self.saturated(), dead, alt=f"saturation map of {self.name}")
        return f"{html}<div>{image}</div><div style=\"font-size:12px\">{_html_repr.esc(caption)}</div>"


class Trace:
    """Context manager made by ``module.trace()``; ``tr.layers`` holds one LayerTrace per Layer.

    Each Trace records one ``with`` block. Entering it again, or opening a
    trace on a layer that is already being traced, raises RuntimeError. On
    exit, even on error, the layers stop recording; the data stays readable.
    """

    def __init__(self, named_layers):
        self._named_layers = list(named_layers)
        self.layers = [LayerTrace(name, layer.activation, layer.nout) for name, layer in self._named_layers]
        for layer_trace in self.layers:
            layer_trace._owner = weakref.ref(self)  # weak: a cycle would leave every traced graph to the collector
        self._state = "new"
        self._entered_in = None  # the frame running the with-block, while it is open

    @classmethod
    def from_layers(cls, layers):
        """Return a closed Trace holding these LayerTraces (e.g. made by `LayerTrace.from_numbers`)."""
        trace = cls([])
        trace.layers = list(layers)
        trace._state = "closed"
        return trace

    def __enter__(self):
        if self._state != "new":
            raise RuntimeError("this Trace was already used; open a new one with net.trace()")
        _release_abandoned(layer for _, layer in self._named_layers)
        busy = [name for name, layer in self._named_layers if layer._recorder is not None]
        if busy:
            raise RuntimeError(f"layers {busy} are already being traced; traces cannot be nested")
        try:
            self._entered_in = sys._getframe(1)
            for (_, layer), layer_trace in zip(self._named_layers, self.layers):
                layer._recorder = layer_trace
            self._state = "open"
        except BaseException:  # Ctrl-C half-way in: no layer stays recording (the block never started)
            self._release()
            self._state, self._entered_in = "new", None
            raise
        return self

    def __exit__(self, *exc_info):
        try:
            self._release()
        finally:  # Ctrl-C inside the first release: this one finishes it, so no layer stays recording
            self._release()
            self._state, self._entered_in = "closed", None
        return False

    def _release(self):
        """Stop every layer this trace records from recording into it (idempotent)."""
        for (_, layer), layer_trace in zip(self._named_layers, self.layers):
            if layer._recorder is layer_trace:
                layer._recorder = None

    def summary(self, threshold=0.99):
        """Return a list with one `LayerTrace.summary` dict per layer."""
        return [layer.summary(threshold) for layer in self.layers]

    def __str__(self):
        rows = self.summary()
        # the names of trace_values() layers ("gpt.py:140 mlp() relu") are longer than "layers.0"
        width = max([12] + [len(row["name"]) + 2 for row in rows])
        header = f"{'layer':<{width}}{'act':<11}{'samples':>8}{'neurons':>8}{'act mean':>10}{'act std':>9}" \
                 f"{'sat %':>8}{'dead':>6}{'grad_in mean':>14}{'grad_in std':>13}"
        lines = [header]
        for row in rows:
            cells = [_fmt(row[key], spec) for key, spec in (
                ("act_mean", "10.3f"), ("act_std", "9.3f"), ("saturated_pct", "8.1f"))]
            grads = [_fmt(row[key], spec) for key, spec in (("grad_in_mean", "14.2e"), ("grad_in_std", "13.2e"))]
            lines.append(f"{row['name']:<{width}}{row['activation']:<11}{row['n_samples']:>8}{row['n_neurons']:>8}"
                         + "".join(cells) + f"{row['dead']:>6}" + "".join(grads))
        return "\n".join(lines)

    def _repr_html_(self):
        """Jupyter's view: the table of `str(trace)` as HTML, one row per layer."""
        from . import _html_repr

        rows = [_summary_cells(row) for row in self.summary()]
        return _html_repr.table(SUMMARY_HEADER, rows, caption=f"Trace of {len(self.layers)} layers (threshold 0.99)")


# A Ctrl-C can land as __exit__ starts, before any of its code runs (Python checks for signals on entering a
# function): the block is over, but its layers still record. The next trace takes them back when the frame
# that ran that block is no longer running in any thread (a generator or coroutine suspended inside its
# block is still running: it is left alone).
_SUSPENDABLE = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


def _running_frames():
    running = set()
    for frame in sys._current_frames().values():
        while frame is not None:
            running.add(id(frame))
            frame = frame.f_back
    return running


def block_abandoned(frame):
    """True when the with-block that `frame` ran can no longer be open: the frame is running in no thread
    and is not a generator's or coroutine's (which may be suspended inside the block)."""
    if frame is None or frame.f_code.co_flags & _SUSPENDABLE:
        return False
    return id(frame) not in _running_frames()


def _release_abandoned(layers):
    """Stop `layers` recording into a net.trace() whose with-block ended without its __exit__ finishing."""
    owners = {}
    for layer in layers:
        owner_ref = getattr(layer._recorder, "_owner", None)
        if owner_ref is None:  # not a net.trace()'s recorder
            continue
        owner = owner_ref()
        if owner is None:  # the Trace is gone, so its block is over (an open with-block holds its Trace)
            layer._recorder = None
        else:
            owners[id(owner)] = owner  # each Trace's frame looked up once, not once per layer
    for owner in owners.values():
        if block_abandoned(owner._entered_in):
            owner._release()
            owner._state, owner._entered_in = "closed", None


def _fmt(value, spec):
    width = int(spec.split(".")[0])
    return f"{'-':>{width}}" if value is None else format(value, spec)


SUMMARY_HEADER = ("layer", "act", "samples", "neurons", "act mean", "act std", "sat %", "dead",
                  "grad_in mean", "grad_in std")


def _summary_cells(row):
    """The texts of one summary row, formatted as in `str(trace)`."""
    numbers = [_fmt(row[key], spec).strip() for key, spec in (
        ("act_mean", "10.3f"), ("act_std", "9.3f"), ("saturated_pct", "8.1f"))]
    grads = [_fmt(row[key], spec).strip() for key, spec in (("grad_in_mean", "14.2e"), ("grad_in_std", "13.2e"))]
    return [row["name"], row["activation"], row["n_samples"], row["n_neurons"], *numbers, row["dead"], *grads]
