"""The engine package: a scalar autograd engine that shows where and why gradients die.

Here: `Value` and its ops, `backward`, the modes, `gradcheck`, and the nets
(`Module` ... `MLP`, `Embedding`, `SGD`); standard library only. The pictures
are the package `viz`, the command and the study `micrograd_it_app`.
"""

from ._gc import gc_paused
from .engine import AnomalyError, Op, Value, detect_anomaly, is_anomaly_enabled, is_grad_enabled, no_grad
from .gradcheck import GradcheckError, central_difference, gradcheck

__all__ = [
    "Value",
    "Op",
    "no_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "is_anomaly_enabled",
    "AnomalyError",
    "gradcheck",
    "central_difference",
    "GradcheckError",
    "gc_paused",
]
__version__ = "0.1.0"

# Networks and training (standard library only, like the engine).
from .nn import MLP, Embedding, Layer, Module, Neuron  # noqa: E402
from .optim import SGD  # noqa: E402

__all__ += ["Module", "Neuron", "Layer", "MLP", "Embedding", "SGD"]
