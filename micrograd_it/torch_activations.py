"""Which torch callables are activations, and what a call of one says: its name, its constants, where it was made.

`micrograd_it.torch_trace` reads these tables: ACTIVATION_MODULES for the hooks on a model's
modules, ACTIVATION_FUNCTIONS for what its TorchFunctionMode records. Part of the optional
PyTorch tracing (the torch extra).
"""

import inspect
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ACTIVATION_MODULES", "ACTIVATION_FUNCTIONS", "module_activation", "call_site", "function_params"]

# Subclasses come before their base class (nn.ReLU6 is an nn.Hardtanh).
ACTIVATION_MODULES = (
    (nn.Tanh, "tanh"), (nn.Sigmoid, "sigmoid"), (nn.ReLU, "relu"), (nn.LeakyReLU, "leaky_relu"),
    (nn.ELU, "elu"), (nn.GELU, "gelu"), (nn.SiLU, "silu"), (nn.Softplus, "softplus"), (nn.Mish, "mish"),
    (nn.ReLU6, "relu6"), (nn.Hardtanh, "hardtanh"), (nn.CELU, "celu"), (nn.SELU, "selu"),
)


def _functions():
    """{torch callable: (activation, in place)} for the functional forms a TorchFunctionMode sees."""
    table = {}
    out_of_place = {
        "tanh": [torch.tanh, torch.Tensor.tanh], "sigmoid": [torch.sigmoid, torch.Tensor.sigmoid],
        "relu": [torch.relu, torch.Tensor.relu, F.relu], "leaky_relu": [F.leaky_relu], "elu": [F.elu],
        "gelu": [F.gelu], "silu": [F.silu], "softplus": [F.softplus], "mish": [F.mish],
        "relu6": [F.relu6], "hardtanh": [F.hardtanh], "celu": [F.celu], "selu": [F.selu],
    }
    in_place = {
        "tanh": [torch.tanh_, torch.Tensor.tanh_], "sigmoid": [torch.sigmoid_, torch.Tensor.sigmoid_],
        "relu": [torch.relu_, torch.Tensor.relu_, F.relu_], "leaky_relu": [F.leaky_relu_], "elu": [F.elu_],
        "hardtanh": [F.hardtanh_], "celu": [torch.celu_], "selu": [torch.selu_],
    }
    for activation, functions in out_of_place.items():
        table.update((function, (activation, False)) for function in functions)
    for activation, functions in in_place.items():
        table.update((function, (activation, True)) for function in functions)
    return table


ACTIVATION_FUNCTIONS = _functions()
_TRACER_FILES = {os.path.abspath(os.path.join(os.path.dirname(__file__), name))
                 for name in ("torch_trace.py", "torch_activations.py", "torch_trace_layer.py")}
_TORCH_DIR = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep


def module_activation(module):
    """The activation name of an activation module (e.g. "leaky_relu"), or None for any other module."""
    for cls, activation in ACTIVATION_MODULES:
        if isinstance(module, cls):
            return activation
    return None


def call_site():
    """"file.py:LINE" of the first caller outside torch and this tracer."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if filename not in _TRACER_FILES and not filename.startswith(_TORCH_DIR):
            return f"{os.path.basename(filename)}:{frame.f_lineno}"
        frame = frame.f_back
    return "?"


_SIGNATURES = {}


def _bound_arguments(function, args, kwargs):
    """{parameter: value} of a Python function's call (defaults included), or None for a builtin."""
    if function not in _SIGNATURES:
        try:
            _SIGNATURES[function] = inspect.signature(function)
        except (TypeError, ValueError):  # builtins such as torch.tanh have no signature
            _SIGNATURES[function] = None
    signature = _SIGNATURES[function]
    if signature is None:
        return None
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    return dict(bound.arguments)


def function_params(function, args, kwargs):
    """(in place?, a text of the constants such as "negative_slope=0.2") of a functional call."""
    bound = _bound_arguments(function, args, kwargs)
    if bound is None:
        parts = [repr(arg) for arg in args[1:]] + [f"{key}={value!r}" for key, value in kwargs.items()]
        return False, ", ".join(parts)
    bound.pop(next(iter(bound)))  # the input tensor
    inplace = bool(bound.pop("inplace", False))
    return inplace, ", ".join(f"{key}={value!r}" for key, value in bound.items())
