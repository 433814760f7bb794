"""One traced PyTorch activation: what it received, what it output, what gradient it let through.

`TorchLayerTrace` is the torch twin of `micrograd_it.trace.LayerTrace` (made by
`micrograd_it.torch_trace.trace_torch`): the same attributes and methods, holding
tensors instead of nested lists. Its rows are samples (the first dimension of
the traced tensor), its columns neurons (every other dimension, flattened; a
1-D tensor is one sample). Several calls of the same layer add rows.

Saturated, per sample and neuron, by the engine's rules (`micrograd_it.trace`):
- an activation whose catalogue entry has its own rule (tanh: ``|act| > threshold``; sigmoid:
  ``act > threshold`` or ``act < 1 - threshold``): that rule, applied to the tensors, so compared
  in the tensor's dtype as PyTorch compares ``h.abs() > 0.99`` (in float64, the engine's numbers);
- every other activation (relu, leaky_relu with its slope, elu with its alpha,
  gelu exact or tanh-approximated, silu, softplus, ...): its local derivative
  ``|d act / d preact|``, computed by torch's own autograd, is below ``1 - threshold``.
  For relu that is ``preact <= 0``, as in the engine; tests check every rule
  against `micrograd_it.trace.is_saturated`.
The rules run on whole tensors because a training loop asks for them on every
step; a per-element Python call would cost more than the training step.
"""

import contextlib
import math
import threading

import numpy as np
import torch

from .catalogue import ACTIVATIONS
from .trace import LayerTrace

__all__ = ["TorchLayerTrace", "check_threshold", "paused", "is_paused"]

_state = threading.local()  # .paused: the tracer's own torch calls (slopes, copies) are not traced


@contextlib.contextmanager
def paused():
    """Inside this block no trace records anything (for the tracer's own torch calls)."""
    previous = getattr(_state, "paused", False)
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = previous


def is_paused():
    """True inside a `paused()` block."""
    return getattr(_state, "paused", False)


def check_threshold(threshold):
    """Return `threshold` as a float when it is a number in (0, 1); raise ValueError naming it otherwise."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {threshold!r} ({type(threshold).__name__})")
    return float(threshold)


def as_rows(tensor):
    """`tensor` as samples x neurons: the first dimension is the samples, the others are flattened."""
    if tensor.dim() == 0:
        return tensor.reshape(1, 1)
    if tensor.dim() == 1:
        return tensor.reshape(1, -1)
    return tensor.reshape(tensor.shape[0], -1)


def detached_copy(tensor):
    """A copy on the CPU, cut from the autograd graph, in the tensor's own dtype."""
    return tensor.detach().to(device="cpu", copy=True)


class Call:
    """What one call of a traced activation recorded; the gradients arrive in backward, through tensor hooks."""

    def __init__(self, preact):
        self.preact = detached_copy(preact)
        self.act = None
        self.grad_out = None  # d loss / d act: the gradient arriving at the output
        self.grad_in = None  # d loss / d preact: what this activation passed back to its input

    def set_grad_out(self, grad):
        self.grad_out = detached_copy(grad)  # a later backward() replaces it, as the engine's nodes do

    def set_grad_in(self, grad):
        self.grad_in = detached_copy(grad)


class TorchLayerTrace:
    """What one activation (a module, or a functional call) computed inside a `trace_torch` block.

    preact, act, grad_out, grad_in: samples x neurons tensors (CPU, the model's dtype).
    `where` says what was traced (the module's path, or file:line of the call);
    `params` the activation's constants ("negative_slope=0.2").
    """

    def __init__(self, name, activation, params, where, local_fn, unit_shape):
        self.name = name
        self.activation = activation
        self.params = params
        self.where = where
        self.unit_shape = tuple(unit_shape)  # the shape of one sample before flattening
        self.n_neurons = math.prod(self.unit_shape)
        self._local_fn = local_fn  # act as a function of preact, to ask autograd for the slope
        self.calls = []

    @property
    def n_samples(self):
        """How many samples (rows) the layer saw inside the trace, over all its calls."""
        return sum(as_rows(call.preact).shape[0] for call in self.calls)

    def _rows(self, attribute):
        parts = [getattr(call, attribute) for call in self.calls]
        missing = [index for index, part in enumerate(parts) if part is None]
        if missing:
            raise RuntimeError(
                f"layer {self.name!r} has no {attribute} for call {missing[0]} of {len(parts)}: run loss.backward() "
                "on a loss that depends on it (the gradient arrives in backward; it is never guessed as 0)")
        return torch.cat([as_rows(part) for part in parts]) if parts else torch.empty(0, self.n_neurons)

    @property
    def preact(self):
        """samples x neurons tensor of the activation's inputs."""
        return self._rows("preact")

    @property
    def act(self):
        """samples x neurons tensor of the activation's outputs."""
        return self._rows("act")

    @property
    def grad_out(self):
        """samples x neurons tensor of d loss / d act; RuntimeError when no backward() reached this layer."""
        return self._rows("grad_out")

    @property
    def grad_in(self):
        """samples x neurons tensor of d loss / d preact (tanh: (1 - act**2) * grad_out); RuntimeError before backward."""
        return self._rows("grad_in")

    @property
    def has_grads(self):
        """True when backward() delivered grad_out and grad_in for every call."""
        return bool(self.calls) and all(call.grad_out is not None and call.grad_in is not None for call in self.calls)

    def local_derivative(self):
        """samples x neurons tensor of d act / d preact at each recorded preact, from torch's autograd."""
        with paused(), torch.enable_grad():
            preact = self.preact.clone().requires_grad_(True)
            act = self._local_fn(preact.clone())  # a copy that an in-place activation may overwrite
            (slope,) = torch.autograd.grad(act, preact, torch.ones_like(act))
        return slope

    def saturated(self, threshold=0.99):
        """samples x neurons bool tensor: saturated on that sample (rules in the module docstring)."""
        return self._saturated(check_threshold(threshold), self.act)

    def _saturated(self, threshold, act):
        op = ACTIVATIONS.get(self.activation)
        if op is not None and op.activation.saturated is not None:
            # The catalogue's own rule (tanh's |act| > threshold, sigmoid's), on whole tensors: `act` is
            # compared in its own dtype, as PyTorch's `h.abs() > 0.99` is (and viz does for a raw tensor):
            # float32(0.99) = 0.9900000095 is not above 0.99 there. float64 is the engine's.
            return op.activation.saturated(self.preact, act, threshold)
        # `slope + threshold < 1`, not `slope < 1 - threshold`: 1 - 0.99 is 0.010000000000000009 in floats
        return self.local_derivative().double().abs() + threshold < 1.0

    def saturation(self, threshold=0.99):
        """float64 tensor, per neuron: the fraction of samples on which it is saturated (zeros when no samples)."""
        flags = self.saturated(threshold)
        if flags.shape[0] == 0:
            return torch.zeros(self.n_neurons, dtype=torch.float64)
        return flags.double().mean(dim=0)

    def dead(self, threshold=0.99):
        """Indices (a list of ints) of neurons saturated on EVERY sample; none when there are no samples."""
        flags = self.saturated(threshold)
        if flags.shape[0] == 0:
            return []
        return [int(index) for index in torch.nonzero(flags.all(dim=0)).flatten()]

    def summary(self, threshold=0.99):
        """Return the dict of `LayerTrace.summary` (plain floats); grad_in_mean/std are None before backward."""
        act = self.act.double()
        flags = self.saturated(threshold)
        grads = self.grad_in.double() if self.has_grads else None
        empty = act.numel() == 0
        return dict(
            name=self.name, activation=self.activation, n_samples=self.n_samples, n_neurons=self.n_neurons,
            act_mean=None if empty else act.mean().item(),
            act_std=None if empty else act.std(correction=0).item(),
            saturated_pct=None if empty else 100.0 * flags.double().mean().item(),
            dead=len(self.dead(threshold)),
            grad_in_mean=None if grads is None or empty else grads.mean().item(),
            grad_in_std=None if grads is None or empty else grads.std(correction=0).item(),
        )

    def step_stats(self, threshold, act_edges, grad_edges):
        """The recorder's numbers of this layer (see `micrograd_it.layer_stats.layer_stats`).

        Computed with numpy on the tensors' memory: a training loop asks for them on every step, and
        numpy's small calls cost a tenth of torch's.
        """
        act = self.act
        flags = self._saturated(check_threshold(threshold), act)
        act = act.double().numpy().ravel()
        stats = dict(act=_moments(act), saturated=int(flags.sum()), cells=flags.numel(),
                     dead=int(flags.all(dim=0).sum()) if flags.shape[0] else 0, n_neurons=self.n_neurons,
                     act_hist=_histogram(act, act_edges), grad=None, grad_hist=None)
        if self.has_grads:
            grad = self.grad_in.double().numpy().ravel()
            magnitude = np.abs(grad)
            counts = _histogram(magnitude[magnitude > 0], grad_edges, log=True)
            stats.update(grad=_moments(grad), grad_hist=(int((magnitude == 0).sum()),) + counts)
        return stats

    def _repr_html_(self):
        """Jupyter's view, our LayerTrace's: the summary row, then the saturation map with dead neurons marked."""
        return LayerTrace._repr_html_(_AsLists(self))

    def __repr__(self):
        return (f"TorchLayerTrace({self.name!r}, {self.activation!r}, {self.n_samples} samples x "
                f"{self.n_neurons} neurons, {self.where})")


class _AsLists:
    """A torch layer trace seen through plain lists, for the engine's HTML view (it reads rows of bools)."""

    def __init__(self, layer):
        self._layer = layer
        self.name, self.activation = layer.name, layer.activation
        self.n_samples, self.n_neurons = layer.n_samples, layer.n_neurons

    def summary(self, threshold=0.99):
        return self._layer.summary(threshold)

    def saturated(self, threshold=0.99):
        return self._layer.saturated(threshold).tolist()

    def dead(self, threshold=0.99):
        return self._layer.dead(threshold)

    def __repr__(self):
        return repr(self._layer)


def _moments(values):
    """(count, mean, sum of squared deviations) of a float64 numpy array: what Chan's merge needs."""
    if values.size == 0:
        return (0, 0.0, 0.0)
    mean = values.mean()
    return (int(values.size), float(mean), float(((values - mean) ** 2).sum()))


_EDGE_ARRAYS = {}  # bin edges as float64 arrays, made once per histogram


def _histogram(values, edges, log=False):
    """(below, counts per bin..., above) of a float64 numpy array, with numpy.histogram's bins:
    [e_i, e_i+1), the last one closed.

    The bin is first estimated arithmetically (edges evenly spaced, in log10 when `log`), then
    corrected by comparing with the exact edges, as numpy.histogram does for even bins (for explicit
    edges it would search, 5x slower).
    """
    key = tuple(edges)
    if key not in _EDGE_ARRAYS:
        _EDGE_ARRAYS[key] = np.array(edges, dtype=np.float64)
    exact = _EDGE_ARRAYS[key]
    n_bins = len(edges) - 1
    low, high = (math.log10(edges[0]), math.log10(edges[-1])) if log else (edges[0], edges[-1])
    keys = np.log10(values) if log else values
    index = np.clip(np.floor((keys - low) * (n_bins / (high - low))), 0, n_bins - 1).astype(np.intp)
    index -= values < exact[index]  # e[index] <= value, or index -1: below the first edge
    index += values >= exact[index + 1]  # value < e[index + 1], or index n_bins: above
    index[values == exact[-1]] = n_bins - 1  # the last bin is closed
    return tuple(np.bincount(index + 1, minlength=n_bins + 2).tolist())
