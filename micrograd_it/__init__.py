"""The engine package: a scalar autograd engine that shows where and why gradients die.

Here: `Value` and its ops, `backward`, the modes, `gradcheck`, and the nets
(`Module` ... `MLP`, `Embedding`, `SGD`); standard library only. The pictures
are the package `viz`, the command and the study `micrograd_it_app`.

``COMPILED`` is True when the engine runs as compiled by mypyc at install
time, False when it runs as Python source; ``COMPILED_REASON`` says why not
(docs/performance.md). ``MICROGRAD_IT_PURE=1`` in the environment forces the source.
"""

from ._compiled import choose as _choose

COMPILED, COMPILED_REASON = _choose()  # first: it decides where micrograd_it.engine comes from

from ._gc import gc_paused  # noqa: E402
from .engine import AnomalyError, Op, Value, detect_anomaly, is_anomaly_enabled, is_grad_enabled, no_grad  # noqa: E402
from .gradcheck import GradcheckError, central_difference, gradcheck  # noqa: E402

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
    "COMPILED",
    "COMPILED_REASON",
]
__version__ = "0.1.0"

# Networks and training (standard library only, like the engine).
from .nn import MLP, Embedding, Layer, Module, Neuron  # noqa: E402
from .optim import SGD  # noqa: E402
from .trace_values import trace_values  # noqa: E402

__all__ += ["Module", "Neuron", "Layer", "MLP", "Embedding", "SGD", "trace_values"]
