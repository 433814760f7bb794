"""The numbers the live training view keeps of each step: loss, per traced layer its dead and saturated
counts and its replay frame, and the update:data ratio of every parameter group.

`step_numbers` computes one step's `StepNumbers` from what `LiveView.update` was given and returns it
without changing anything; the view then keeps it with one ``list.append`` (compute first, then
commit: a Ctrl-C in the middle leaves the view as it was).

Layers come from any trace with LayerTrace's shape -- ``net.trace()``'s, ``trace_values()``'s,
``trace_torch()``'s -- read through ``saturated(threshold)``, ``grad_in`` and ``n_samples``, each
called once per step: a layer's own rule decides what saturated means (tanh: |h| > 0.99, relu: h = 0).
"""

import itertools
import math
import numbers
import operator

import numpy as np

from micrograd_it.catalogue import ACTIVATIONS
from micrograd_it.trace import LayerTrace
from micrograd_it.optim import group_name

from ._arrays import _tensor_to_numpy as tensor_to_numpy
from ._arrays import describe
from .replay import frame_from_means, mean_abs_grads

__all__ = ["StepNumbers", "LayerNumbers", "LayerArrays", "ParameterWatch", "step_numbers", "loss_number",
           "drawable"]


class LayerNumbers:
    """What one step measured of one traced layer: name, activation, sizes, saturated count, dead neurons,
    the saturated flags and each neuron's mean |grad_in| (its replay frame, made when a page is saved);
    `has_grads` is False when no backward() reached it."""

    __slots__ = ("name", "activation", "n_samples", "n_neurons", "saturated", "dead", "_packed_flags", "mean_grads",
                 "has_grads")

    def __init__(self, name, activation, flags, grad_in):
        self.name, self.activation = str(name), str(activation)
        self.n_samples, self.n_neurons = flags.shape
        # kept for every step of a run (save() replays them): a bit each, not a byte
        self._packed_flags = np.packbits(flags, axis=None)
        self.saturated = int(flags.sum())
        self.dead = [int(j) for j in np.flatnonzero(flags.all(axis=0))]
        self.has_grads = grad_in is not None
        self.mean_grads = mean_abs_grads(grad_in) if grad_in is not None else np.zeros(self.n_neurons)

    @property
    def flags(self):
        """samples x neurons bools: where this step's layer was saturated."""
        count = self.n_samples * self.n_neurons
        return np.unpackbits(self._packed_flags, count=count).astype(bool).reshape(self.n_samples, self.n_neurons)

    def frame(self, loss):
        """This step's replay frame (viz.replay's keys) with `loss`."""
        return frame_from_means(loss, self.flags, self.mean_grads)

    @property
    def saturated_pct(self):
        """Percent of this step's (sample, neuron) entries that were saturated."""
        return 100.0 * self.saturated / (self.n_samples * self.n_neurons)


class StepNumbers:
    """One step: `step` (0 = the first update), `loss` (a float, None when not given), `layers` (a list of
    LayerNumbers), `ratios` ({group: log10 ratio or None}, None without parameters), `trace_layers`
    (per layer, what a frame of this step draws: its LayerArrays, or the layer object itself for a torch
    layer; `drawable()` gives the layer to draw; kept only on the newest step), and the
    parameters' data after the step (`param_data`, kept only on the newest step)."""

    __slots__ = ("step", "loss", "layers", "ratios", "trace_layers", "param_data")

    def __init__(self, step, loss, layers, ratios, trace_layers, param_data):
        self.step, self.loss, self.layers, self.ratios = step, loss, layers, ratios
        self.trace_layers, self.param_data = trace_layers, param_data


def loss_number(loss):
    """Return `loss` as a float (a Value's .data, a torch tensor's item(), a number), or None for None.

    Raises TypeError naming anything else (text, a list).
    """
    if loss is None:
        return None
    if hasattr(loss, "item") and callable(loss.item):  # a torch tensor or numpy scalar
        loss = loss.item()
    elif hasattr(loss, "data") and isinstance(getattr(loss, "data"), numbers.Real):  # a Value
        loss = loss.data
    if isinstance(loss, bool) or not isinstance(loss, numbers.Real):
        raise TypeError(f"update(loss=...) needs a number, a Value or a one-element tensor, got {describe(loss)}")
    return float(loss)


def _numpy(values, dtype):
    """A torch tensor (.detach()) or nested lists as a numpy array of `dtype`."""
    if hasattr(values, "detach"):
        values = tensor_to_numpy(values, "the live view")
    return np.asarray(values, dtype=dtype)


_DATA, _GRAD = operator.attrgetter("data"), operator.attrgetter("grad")


def _node_numbers(layer, nodes, read):
    """samples x neurons floats read from a layer's node rows (``preact_nodes``: Values, or the numbers of
    LayerTrace.from_numbers) in one numpy call over all of them, or None when the layer has no such rows
    (a torch layer) or they are not a full rectangle. The same floats as the layer's own lists, sooner:
    this runs every step of a watched loop."""
    rows = getattr(layer, nodes, None)
    if not isinstance(rows, list) or hasattr(layer, "step_stats"):
        return None
    shape = (layer.n_samples, layer.n_neurons)
    try:
        return np.fromiter(map(read, itertools.chain.from_iterable(rows)), dtype=float,
                           count=shape[0] * shape[1]).reshape(shape)
    except (ValueError, TypeError):  # ragged, or not numbers: the layer's own lists say what it is
        return None


def _grads(layer):
    """The layer's grad_in as a float array, or None when no backward() reached it (a torch layer raises then)."""
    if hasattr(layer, "has_grads") and not layer.has_grads:
        return None
    fast = _node_numbers(layer, "preact_nodes", _GRAD)
    if fast is not None:
        return fast
    try:
        return _numpy(layer.grad_in, float).reshape(layer.n_samples, layer.n_neurons)
    except RuntimeError:
        return None


class LayerArrays:
    """The newest step's numbers of a layer whose rows are Values (net.trace()'s, trace_values()'s), as
    samples x neurons arrays: the view keeps these instead of the layer, so the step's graph goes when the
    training loop lets it go (holding it to the next step cost W1 +4.5%). `layer()` makes the LayerTrace a
    frame draws from them (LayerTrace.from_numbers), only when a frame is drawn."""

    __slots__ = ("name", "activation", "preact", "act", "grad_out", "grad_in")

    def __init__(self, name, activation, preact, act, grad_out, grad_in):
        self.name, self.activation = name, activation
        self.preact, self.act, self.grad_out, self.grad_in = preact, act, grad_out, grad_in

    def layer(self):
        """The LayerTrace of these numbers (what saturation_map, activation_hist and grad_hist draw)."""
        return LayerTrace.from_numbers(self.name, self.activation, self.preact.tolist(), self.act.tolist(),
                                       self.grad_out.tolist(), self.grad_in.tolist())


def drawable(layer):
    """The layer object a frame draws: a kept LayerArrays made back into a LayerTrace, any other layer as is."""
    return layer.layer() if isinstance(layer, LayerArrays) else layer


def _value_arrays(layer):
    """LayerArrays of a layer of Value rows, or None for any other (a torch layer; a trace_values() layer
    with a constant of its own, judged by its own saturated(); rows that are not a full rectangle)."""
    if getattr(layer, "params", None):
        return None
    preact = _node_numbers(layer, "preact_nodes", _DATA)
    act = _node_numbers(layer, "act_nodes", _DATA) if preact is not None else None
    if act is None:
        return None
    grad_out = _node_numbers(layer, "act_nodes", _GRAD)
    grad_in = _node_numbers(layer, "preact_nodes", _GRAD)
    if grad_out is None or grad_in is None:
        return None
    return LayerArrays(layer.name, layer.activation, preact, act, grad_out, grad_in)


def saturated_flags(layer, threshold, arrays=None):
    """samples x neurons bools: where the layer's neuron is saturated, by its activation's rule.

    A layer of lists (net.trace()'s, trace_values()'s) whose activation has its own rule in the catalogue
    (tanh, sigmoid) gets that rule applied to whole arrays: the catalogue writes it elementwise for the
    torch traces, and one numpy call costs a fraction of a Python call per (sample, neuron). Every other
    layer answers through its own saturated(). Tests compare both with the layer's dead() and summary().
    """
    op = ACTIVATIONS.get(layer.activation)
    rule = op.activation.saturated if op is not None else None
    if rule is not None and not hasattr(layer, "step_stats"):  # step_stats: a torch layer, tensorised already
        if arrays is not None:  # `layer`'s own numbers, read already (LayerArrays)
            preact, act = arrays.preact, arrays.act
        else:
            preact, act = np.asarray(layer.preact, dtype=float), np.asarray(layer.act, dtype=float)
        return np.asarray(rule(preact, act, threshold), dtype=bool)
    return _numpy(layer.saturated(threshold), bool)


def layer_numbers(layer, threshold):
    """Return (the LayerNumbers of one traced layer, what to keep of it for drawing: its LayerArrays or the
    layer itself); (None, layer) when it recorded no sample this step."""
    if layer.n_samples == 0 or layer.n_neurons == 0:
        return None, layer
    arrays = _value_arrays(layer)
    flags = saturated_flags(layer, threshold, arrays).reshape(layer.n_samples, layer.n_neurons)
    grads = arrays.grad_in if arrays is not None else _grads(layer)
    return LayerNumbers(layer.name, layer.activation, flags, grads), (layer if arrays is None else arrays)


def trace_layers(trace):
    """The layers of `trace` (a Trace, TorchTrace, a list of layer traces or one), as a list; TypeError otherwise."""
    if trace is None:
        return []
    layers = getattr(trace, "layers", trace)
    if hasattr(layers, "saturated"):  # one layer trace
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not all(hasattr(layer, "saturated") for layer in layers):
        raise TypeError(f"update(trace=...) needs a trace (net.trace(), trace_values(), trace_torch()) or its "
                        f".layers, got {describe(trace)}")
    return list(layers)


class ParameterWatch:
    """The parameters of a net, read after each update, grouped as SGD groups them ("layers.0.w").

    `named`: (name, parameter) pairs; a parameter is a Value (.data a float) or a tensor (numbers in .data).
    """

    def __init__(self, named):
        self.named = list(named)
        if not self.named:
            raise ValueError("live() got no parameters to watch (params=[] or a net without parameters)")
        self.groups = {}
        for index, (name, _) in enumerate(self.named):
            self.groups.setdefault(group_name(str(name)), []).append(index)

    def read(self):
        """Return the parameters' data now: a list with one float64 array per group (copies)."""
        params = [param for _, param in self.named]
        if all(isinstance(getattr(param, "data", None), float) for param in params):
            data = np.fromiter((param.data for param in params), dtype=float, count=len(params))
            return [data[indices] for indices in self.groups.values()]
        arrays = [_numpy(param.data, float).ravel().copy() for param in params]
        return [np.concatenate([arrays[i] for i in indices]) for indices in self.groups.values()]

    def ratios(self, before, after):
        """{group: log10(std(after - before) / std(after))}: SGD's ratio_history entry (None when a std is 0)."""
        ratios = {}
        for name, old, new in zip(self.groups, before, after):
            update_std, data_std = float((new - old).std()), float(new.std())
            ratios[name] = (math.log10(update_std) - math.log10(data_std)
                            if update_std > 0.0 and data_std > 0.0 and math.isfinite(update_std + data_std) else None)
        return ratios


def named_parameters(net, params):
    """(name, parameter) pairs from `params` (a Module, Values, tensors, or pairs) or else from `net`; [] when neither."""
    source = params if params is not None else net
    if source is None:
        return []
    if hasattr(source, "named_parameters"):
        return list(source.named_parameters())
    if isinstance(source, dict):
        return list(source.items())
    what = "live(params=...)" if params is not None else "live(net)"
    if isinstance(source, (str, bytes)):
        raise TypeError(f"{what} needs a Module, a list of parameters or (name, parameter) pairs, got {describe(source)}")
    try:
        items = list(source)
    except TypeError:
        raise TypeError(f"{what} needs a Module, a list of parameters or (name, parameter) pairs, "
                        f"got {describe(source)}") from None
    named = [item if isinstance(item, tuple) and len(item) == 2 else (f"params.{i}", item)
             for i, item in enumerate(items)]
    for name, param in named:
        if not hasattr(param, "data"):
            raise TypeError(f"live() parameter {name!r} has no .data: got {describe(param)}")
    return named


def step_numbers(step, loss, trace, threshold, watch, previous_data):
    """Return the StepNumbers of one update (nothing is changed: the caller commits it)."""
    loss = loss_number(loss)
    pairs = [layer_numbers(layer, threshold) for layer in trace_layers(trace)]
    ratios, data = None, None
    if watch is not None:
        data = watch.read()
        ratios = watch.ratios(previous_data, data)
    return StepNumbers(step, loss, [numbers for numbers, _ in pairs], ratios, [kept for _, kept in pairs], data)
