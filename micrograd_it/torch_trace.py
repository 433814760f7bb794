"""Tracing PyTorch: the per-neuron layer traces of ``net.trace()``, for torch models and for raw tensor code.

    with trace_torch(model) as tr:        # every activation module of the model, found in its module tree
        loss = F.cross_entropy(model(X), Y)
        loss.backward()

    with trace_torch() as tr:             # no model: the activations called in the block (the seed's code)
        h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
        loss = F.cross_entropy(h @ W2 + b2, Y)
        loss.backward()

    lt = tr.layers[0]                     # a TorchLayerTrace: name, activation, preact, act, grad_out, grad_in,
    lt.saturated(0.99), lt.dead(0.99)     # saturated/saturation/dead(threshold), summary(); print(tr)

With a model, every module that is an activation (nn.Tanh, nn.ReLU, nn.Sigmoid,
nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU, nn.Softplus, ...) is hooked, and the
functional activations (torch.tanh, x.relu(), F.gelu, ...) called by the
model's own forward are recorded too. With no model, every functional call in
the block is seen through a `torch.overrides.TorchFunctionMode`.

Which calls make one layer: with a model, the k-th call of the same module
(or of the same line of code) during one forward of the model; each new
forward adds rows (samples) to the same layers. With no model, each call is
a layer of its own.

What is recorded are detached CPU copies in the tensors' dtype. Tracing
changes no value and no gradient: the activation runs on an alias (a view of
its input, an identity in backward) whose tensor hook sees exactly what the
activation passes back; in-place activations hook their input before the
in-place write. The gradients arrive whenever backward() runs, inside the
block or after it; a later backward() replaces them, as in the engine.

PyTorch is an optional extra (``pip install 'micrograd_it[torch]'``); this
module, `torch_trace_layer` and `torch_activations` are the only ones that import it.
"""

from collections import defaultdict

try:
    import torch
except ImportError as error:  # one clear line instead of a bare "No module named 'torch'"
    raise ImportError(f"micrograd_it.torch_trace needs PyTorch ({error}); "
                      "install it with: pip install 'micrograd_it[torch]'", name="torch") from error
from torch import nn
from torch.overrides import TorchFunctionMode

from .torch_activations import ACTIVATION_FUNCTIONS, ACTIVATION_MODULES, call_site, function_params, module_activation
from .torch_trace_layer import Call, TorchLayerTrace, is_paused
from .trace import Trace

__all__ = ["trace_torch", "TorchTrace", "TorchLayerTrace", "ACTIVATION_MODULES", "ACTIVATION_FUNCTIONS"]

def _hooks_wanted(tensor):
    return tensor.requires_grad and torch.is_grad_enabled()


class _PendingCall:
    """A call between its start (input recorded, hooks armed) and its end (output recorded)."""

    def __init__(self, preact, inplace):
        self.call = Call(preact)
        self.input = preact
        self.handle = None
        if _hooks_wanted(preact):
            if inplace:  # a hook registered before an in-place write gets the gradient of the old value
                self.handle = preact.register_hook(self.call.set_grad_in)
            else:  # an alias whose only user is the activation: its gradient is exactly what it passed back
                self.input = preact.view_as(preact)
                self.input.register_hook(self.call.set_grad_in)

    def finish(self, output):
        self.call.act = Call(output).preact
        if output.requires_grad:
            output.register_hook(self.call.set_grad_out)
        return self.call

    def cancel(self):
        if self.handle is not None:
            self.handle.remove()


class TorchTrace:
    """Context manager made by `trace_torch`; ``tr.layers`` holds one TorchLayerTrace per traced activation.

    Each TorchTrace records one ``with`` block (entering it again raises RuntimeError). On exit, even
    on error, every hook on the model's modules is removed and the function mode is left; the
    recorded data stays readable and gradients still arrive if backward() runs later.
    """

    def __init__(self, model=None):
        if model is not None and not isinstance(model, nn.Module):
            raise TypeError(f"trace_torch needs a torch.nn.Module or no model, got {model!r} ({type(model).__name__})")
        self.model = model
        self.layers = []
        self._by_key = {}
        self._occurrences = defaultdict(int)  # per forward of the model: calls seen per source
        self._forward_depth = 0  # > 0 while the model's forward runs
        self._activation_depth = 0  # > 0 while a hooked activation module runs
        self._pending = defaultdict(list)
        self._handles = []
        self._mode = None
        self._state = "new"

    # -- entering and leaving ---------------------------------------------------------------------------

    def __enter__(self):
        if self._state != "new":
            raise RuntimeError("this TorchTrace was already used; open a new one with trace_torch()")
        try:
            if self.model is not None:
                self._hook_model()
            self._mode = _ActivationMode(self)
            self._mode.__enter__()
        except BaseException:
            self._remove_hooks()
            raise
        self._state = "open"
        return self

    def __exit__(self, *exc_info):
        try:
            if self._mode is not None:
                self._mode.__exit__(*exc_info)
        finally:
            self._mode = None  # the mode points back at this trace: no reference cycle left behind
            self._remove_hooks()
            self._state = "closed"
        return False

    def _hook_model(self):
        model = self.model
        self._handles.append(model.register_forward_pre_hook(self._model_starts))
        self._handles.append(model.register_forward_hook(self._model_ends, always_call=True))
        for path, module in model.named_modules():
            activation = module_activation(module)
            if activation is None:
                continue
            where = path or type(module).__name__
            self._handles.append(module.register_forward_pre_hook(self._module_pre_hook(where, activation)))
            self._handles.append(module.register_forward_hook(self._module_hook(where), always_call=True))

    def _remove_hooks(self):
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for pending_calls in self._pending.values():
            for pending in pending_calls:
                pending.cancel()
        self._pending.clear()

    # -- the model's forward and its activation modules -------------------------------------------------

    def _model_starts(self, module, args):
        if self._forward_depth == 0:
            self._occurrences.clear()  # a new forward: its first tanh call is the same layer as last time's
        self._forward_depth += 1

    def _model_ends(self, module, args, output):
        self._forward_depth -= 1

    def _module_pre_hook(self, where, activation):
        def pre_hook(module, args):
            self._activation_depth += 1
            if is_paused() or not args or not isinstance(args[0], torch.Tensor):
                self._pending[where].append(None)
                return None
            pending = _PendingCall(args[0], inplace=getattr(module, "inplace", False))
            pending.source = (where, activation, module.extra_repr(), module.forward)
            self._pending[where].append(pending)
            return (pending.input,) + tuple(args[1:]) if pending.input is not args[0] else None
        return pre_hook

    def _module_hook(self, where):
        def hook(module, args, output):
            self._activation_depth -= 1
            pending = self._pending[where].pop() if self._pending[where] else None
            if pending is None:
                return None
            if not isinstance(output, torch.Tensor):  # the forward raised (always_call) or is not elementwise
                pending.cancel()
                return None
            name, activation, params, forward = pending.source
            self._add_call(("module", where), name, activation, params, where, forward, pending.finish(output))
            return None
        return hook

    # -- functional calls (through _ActivationMode) -----------------------------------------------------

    def _wants_function(self):
        if self.model is None:
            return True
        return self._forward_depth > 0 and self._activation_depth == 0

    def _record_function(self, function, activation, inplace, args, kwargs):
        said_inplace, params = function_params(function, args, kwargs)
        inplace = inplace or said_inplace
        where = call_site()
        rest = tuple(args[1:])
        pending = _PendingCall(args[0], inplace)
        try:
            output = function(pending.input, *rest, **kwargs)
        except BaseException:
            pending.cancel()
            raise

        def local_fn(preact):
            return function(preact, *rest, **kwargs)

        if isinstance(output, torch.Tensor):
            self._add_call(("function", activation, where), activation, activation, params, where, local_fn,
                           pending.finish(output))
        return output

    # -- layers -------------------------------------------------------------------------------------------

    def _add_call(self, source, name, activation, params, where, local_fn, call):
        unit_shape = tuple(call.preact.shape[1:]) if call.preact.dim() >= 2 else tuple(call.preact.shape)
        occurrence = self._occurrences[source]
        self._occurrences[source] += 1
        key = (source, occurrence, unit_shape)
        layer = self._by_key.get(key)
        if layer is None:
            taken = {existing.name for existing in self.layers}
            unique, number = name, 2
            while unique in taken:
                unique, number = f"{name}#{number}", number + 1
            layer = TorchLayerTrace(unique, activation, params, where, local_fn, unit_shape)
            self._by_key[key] = layer
            self.layers.append(layer)
        layer.calls.append(call)

    # The same numbers, the same printed table and the same Jupyter view as the engine's Trace.
    summary = Trace.summary
    __str__ = Trace.__str__
    _repr_html_ = Trace._repr_html_

    def __repr__(self):
        return f"TorchTrace({len(self.layers)} layers: {', '.join(layer.name for layer in self.layers)})"


class _ActivationMode(TorchFunctionMode):
    """Sees every torch function call; records the activations, runs everything else untouched."""

    def __init__(self, trace):
        super().__init__()
        self.trace = trace

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        try:
            known = ACTIVATION_FUNCTIONS.get(func)
        except TypeError:  # an unhashable callable is no activation of ours
            known = None
        if (known is None or is_paused() or not args or not isinstance(args[0], torch.Tensor)
                or not self.trace._wants_function()):
            return func(*args, **kwargs)
        activation, inplace = known
        return self.trace._record_function(func, activation, inplace, args, kwargs)


def trace_torch(model=None):
    """Return a TorchTrace: ``with trace_torch(model) as tr:`` records the model's activations inside the block;
    ``with trace_torch() as tr:`` records every functional activation called in the block.

    Raises TypeError when `model` is neither None nor a torch.nn.Module.
    """
    return TorchTrace(model)
