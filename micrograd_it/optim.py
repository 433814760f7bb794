"""Stochastic gradient descent, recording the update:data ratio of every parameter group.

    opt = SGD(net, lr=0.1)
    for step in range(100):
        loss = ...; opt.zero_grad(); loss.backward(); opt.step()
    opt.ratio_history[-1]   # {"layers.0.w": -2.9, "layers.0.b": -3.1, ...}

The ratio is the makemore lecture's diagnostic ``log10(std(update) / std(data))``
per group: around -3 means each step changes the parameters by about a
thousandth of their size. Much higher (-1) and the learning rate is too big;
much lower (-5) and they barely move.
"""

import math
import numbers

from .engine import Value

__all__ = ["SGD", "group_name"]


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def group_name(name):
    """Return the group of a parameter name: drop trailing indices and "neurons.<i>".

    "layers.0.neurons.3.w.1" -> "layers.0.w"; "layers.0.neurons.3.b" -> "layers.0.b";
    "C.5.2" -> "C"; "params.7" -> "params".
    """
    parts = name.split(".")
    while len(parts) > 1 and parts[-1].isdigit():
        parts.pop()
    kept = []
    index = 0
    while index < len(parts):
        if parts[index] == "neurons" and index + 1 < len(parts) and parts[index + 1].isdigit():
            index += 2
            continue
        kept.append(parts[index])
        index += 1
    return ".".join(kept)


def _named(params):
    """Return [(name, Value)] from a Module, a list of Values or a list of (name, Value)."""
    if hasattr(params, "named_parameters"):
        named = params.named_parameters()
    else:
        if not isinstance(params, (list, tuple)):
            raise TypeError(f"SGD params must be a Module, a list of Values or of (name, Value), got {_describe(params)}")
        named = [item if isinstance(item, tuple) else (f"params.{i}", item) for i, item in enumerate(params)]
    if not named:
        raise ValueError("SGD got no parameters to optimize")
    for name, value in named:
        if not isinstance(value, Value):
            raise TypeError(f"SGD parameter {name!r} must be a Value, got {_describe(value)}")
    return list(named)


def _check_number(value, what, low, allow_low=True):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"SGD {what} must be a finite number, got {_describe(value)}")
    if value < low or (value == low and not allow_low):
        raise ValueError(f"SGD {what} must be {'>=' if allow_low else '>'} {low}, got {value!r}")
    return float(value)


def _std(numbers_):
    mean = sum(numbers_) / len(numbers_)
    return math.sqrt(sum((x - mean) ** 2 for x in numbers_) / len(numbers_))


class SGD:
    """Plain SGD with optional momentum and L2 weight decay (PyTorch's formulation).

    g = grad + weight_decay * data;  velocity = momentum * velocity + g;
    data -= lr * velocity. `ratio_history` gets one dict per step.
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.named = _named(params)
        self.lr = _check_number(lr, "lr", 0.0, allow_low=False)
        self.momentum = _check_number(momentum, "momentum", 0.0)
        self.weight_decay = _check_number(weight_decay, "weight_decay", 0.0)
        self.velocity = [0.0] * len(self.named)
        self.ratio_history = []
        self._groups = {}
        for index, (name, _) in enumerate(self.named):
            self._groups.setdefault(group_name(name), []).append(index)

    def step(self):
        """Update every parameter's data in place (no graph is built); return None.

        Raises OverflowError naming the parameter when an update would make its
        data non-finite; then no parameter is changed.
        """
        new_data, new_velocity = [], []
        for (name, value), velocity in zip(self.named, self.velocity):
            g = value.grad + self.weight_decay * value.data
            velocity = self.momentum * velocity + g
            data = value.data - self.lr * velocity
            if not math.isfinite(data):
                raise OverflowError(f"SGD step would make {name!r} non-finite (data {value.data!r}, grad {value.grad!r})")
            new_data.append(data)
            new_velocity.append(velocity)
        updates = [data - value.data for data, (_, value) in zip(new_data, self.named)]
        for data, (_, value) in zip(new_data, self.named):
            value.data = data
        self.velocity = new_velocity
        self.ratio_history.append(self._ratios(updates))

    def _ratios(self, updates):
        """{group: log10(std(update) / std(data))}, None when a std is 0 (e.g. a group of one)."""
        ratios = {}
        for group, indices in self._groups.items():
            update_std = _std([updates[i] for i in indices])
            data_std = _std([self.named[i][1].data for i in indices])
            ratios[group] = math.log10(update_std / data_std) if update_std > 0 and data_std > 0 else None
        return ratios

    def zero_grad(self):
        """Set every parameter's grad to 0.0; return None."""
        for _, value in self.named:
            value.grad = 0.0
