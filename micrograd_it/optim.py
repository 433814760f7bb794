"""Optimisers: SGD (recording the update:data ratio of every parameter group) and Adam.

    opt = SGD(net, lr=0.1)
    for step in range(100):
        loss = ...; opt.zero_grad(); loss.backward(); opt.step()
    opt.ratio_history[-1]   # {"layers.0.w": -2.9, "layers.0.b": -3.1, ...}

The ratio is the makemore lecture's diagnostic ``log10(std(update) / std(data))``
per group: around -3 means each step changes the parameters by about a
thousandth of their size. Much higher (-1) and the learning rate is too big;
much lower (-5) and they barely move.
"""

import collections
import itertools
import math
import numbers
import operator

from ._compiled import fast_function
from .engine import Value

__all__ = ["SGD", "Adam", "group_name"]

_run = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C
_grad_of = operator.attrgetter("grad")
_data_of = operator.attrgetter("data")
_kernel = fast_function("adam_update")  # the compiled build: Adam.step's comprehensions in C, else None
_adam_nodes = fast_function("adam_nodes")  # ... and all of Adam.step on the compiled Values' own fields
_zero_grads = fast_function("zero_grads")  # the compiled build: every grad set to 0.0 in one call, else None


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


def _check_knob(value, what, allow_zero, owner="SGD", below_one=False):
    """Return `value` as a float, or raise TypeError (not a number) / ValueError (NaN, infinite, negative,
    or >= 1 when `below_one`) naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{owner} {what} must be a number, got {_describe(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        raise ValueError(f"{owner} {what} must be a finite number, got an int of {value.bit_length()} bits") from None
    if not math.isfinite(number):
        raise ValueError(f"{owner} {what} must be a finite number, got {_describe(value)}")
    if number < 0.0 or (number == 0.0 and not allow_zero):
        raise ValueError(f"{owner} {what} must be {'>=' if allow_zero else '>'} 0, got {value!r}")
    if below_one and number >= 1.0:
        raise ValueError(f"{owner} {what} must be < 1, got {value!r}")
    return number


def _knob(what, allow_zero, owner="SGD"):
    """A property that checks every value assigned to it, in __init__ and later (``opt.lr = 0.01``)."""
    slot = "_" + what

    def get(self):
        return getattr(self, slot)

    def set(self, value):
        setattr(self, slot, _check_knob(value, what, allow_zero, owner))
    return property(get, set, doc=f"{owner}'s {what}; assigning a value checks it (TypeError / ValueError naming it).")


def _std(numbers_):
    """Population standard deviation, finite for any finite numbers (they are scaled by the largest first)."""
    scale = max(map(abs, numbers_))
    if scale == 0.0:
        return 0.0
    scaled = [x / scale for x in numbers_]
    mean = sum(scaled) / len(scaled)
    return scale * math.sqrt(sum((x - mean) * (x - mean) for x in scaled) / len(scaled))


def _log10_ratio(update_std, data_std):
    """log10(update_std / data_std), None when either is 0; finite for finite stds (no quotient to overflow)."""
    if update_std > 0.0 and data_std > 0.0:
        return math.log10(update_std) - math.log10(data_std)
    return None


class SGD:
    """Plain SGD with optional momentum and L2 weight decay (PyTorch's formulation).

    g = grad + weight_decay * data;  velocity = momentum * velocity + g;
    data -= lr * velocity. `ratio_history` gets one dict per step. `lr`,
    `momentum` and `weight_decay` may be changed between steps; each
    assignment is checked.
    """

    lr = _knob("lr", allow_zero=False)
    momentum = _knob("momentum", allow_zero=True)
    weight_decay = _knob("weight_decay", allow_zero=True)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        self.named = _named(params)
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.velocity = [0.0] * len(self.named)
        self.ratio_history = []
        self._groups = {}
        for index, (name, _) in enumerate(self.named):
            self._groups.setdefault(group_name(name), []).append(index)

    def step(self):
        """Update every parameter's data in place (no graph is built); return None.

        All or nothing: every new value, velocity and ratio is computed and
        checked first. Raises OverflowError naming the parameter when its
        gradient, velocity, update or data would not be finite; then nothing
        changes (parameters, velocities, `ratio_history`). The writes are one
        step that Ctrl-C cannot cut in half.
        """
        lr, momentum, weight_decay = self.lr, self.momentum, self.weight_decay
        new_data, new_velocity, updates = [], [], []
        for (name, value), velocity in zip(self.named, self.velocity):
            g = value.grad + weight_decay * value.data
            velocity = momentum * velocity + g
            data = value.data - lr * velocity
            update = data - value.data
            if not (math.isfinite(velocity) and math.isfinite(data) and math.isfinite(update)):
                raise OverflowError(
                    f"SGD step would make {name!r} non-finite (data {value.data!r}, grad {value.grad!r},"
                    f" velocity {velocity!r}, lr {lr!r}); nothing was changed"
                )
            new_data.append(data)
            new_velocity.append(velocity)
            updates.append(update)
        ratios = self._ratios(updates, new_data)
        params = [value for _, value in self.named]
        # One call into C runs every write, so no signal handler (Ctrl-C) can run between them.
        _run(itertools.chain(
            map(setattr, params, itertools.repeat("data"), new_data),
            map(setattr, [self], ["velocity"], [new_velocity]),
            map(self.ratio_history.append, [ratios]),
        ))

    def _ratios(self, updates, new_data):
        """{group: log10(std(update) / std(data))}, None when a std is 0 (e.g. a group of one)."""
        ratios = {}
        for group, indices in self._groups.items():
            update_std = _std([updates[i] for i in indices])
            data_std = _std([new_data[i] for i in indices])
            ratios[group] = _log10_ratio(update_std, data_std)
        return ratios

    def zero_grad(self):
        """Set every parameter's grad to 0.0; return None."""
        _zero_all([value for _, value in self.named])


def _zero_all(params):
    """Every grad of the list `params` set to 0.0, in one call into C (Ctrl-C cannot leave half of them set)."""
    if _zero_grads is None or _zero_grads(params) is None:
        _run(map(setattr, params, itertools.repeat("grad"), itertools.repeat(0.0, len(params))))


def _named_scalars(params):
    """[(name, parameter)] from a Module, a model with named_parameters(), a list of parameters or of
    (name, parameter). A parameter is our Value or any object with numbers `data` and `grad` (another
    scalar Value class, e.g. microgpt's): Adam reads and writes only those two."""
    if hasattr(params, "named_parameters"):
        named = list(params.named_parameters())
    elif isinstance(params, (list, tuple)):
        named = [item if isinstance(item, tuple) else (f"params.{i}", item) for i, item in enumerate(params)]
    else:
        raise TypeError(f"Adam params must be a model, a list of Values or of (name, Value), got {_describe(params)}")
    if not named:
        raise ValueError("Adam got no parameters to optimize")
    for name, value in named:
        if not isinstance(value, Value) and not all(
                isinstance(getattr(value, slot, None), numbers.Real) for slot in ("data", "grad")):
            raise TypeError(f"Adam parameter {name!r} must be a Value (numbers data and grad), got {_describe(value)}")
    return named


class Adam:
    """Adam (Kingma and Ba; PyTorch's formulation with eps added to the corrected root):

    m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2;
    data -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + eps), t = 1, 2, ...

    `lr` may be changed between steps (a learning-rate schedule: ``opt.lr = base * (1 - t / T)``);
    each assignment is checked. `params` as SGD's, or the parameters of any scalar Value class
    with `data` and `grad` (see `_named_scalars`). Raises TypeError / ValueError naming a bad argument.
    """

    lr = _knob("lr", allow_zero=False, owner="Adam")

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8):
        self.named = _named_scalars(params)
        self._params = [value for _, value in self.named]
        self.lr = lr
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam betas must be a pair of numbers, got {_describe(betas)}")
        self.betas = tuple(_check_knob(beta, f"beta{i + 1}", True, "Adam", below_one=True) for i, beta in enumerate(betas))
        self.eps = _check_knob(eps, "eps", allow_zero=False, owner="Adam")
        self.m = [0.0] * len(self._params)
        self.v = [0.0] * len(self._params)
        self.steps = 0

    def step(self):
        """Update every parameter's data in place (no graph is built); return None.

        All or nothing, as SGD's step: the new data and moments are computed and checked first;
        OverflowError naming the parameter when one would not be finite, and then nothing changes
        (data, m, v, steps). The writes run in one call into C that Ctrl-C cannot cut in half.
        """
        beta1, beta2 = self.betas
        lr, eps, t = self.lr, self.eps, self.steps + 1
        correction1, correction2 = 1.0 - beta1**t, 1.0 - beta2**t
        keep1, keep2 = 1.0 - beta1, 1.0 - beta2
        if _adam_nodes is not None and type(self) is Adam and _adam_nodes(
                self, self._params, self.m, self.v, t, beta1, beta2, keep1, keep2, lr, correction1, correction2, eps):
            return  # the compiled build, its own Values: the same numbers, read and written in one call into C
        sqrt = math.sqrt
        # Whole lists at a time (each read of the parameters one call into C), each number computed
        # as the formula above reads, in that order: the same bits as a loop over the parameters.
        grads = list(map(_grad_of, self._params))
        data = list(map(_data_of, self._params))
        done = None if _kernel is None else _kernel(self.m, self.v, grads, data, beta1, beta2, keep1, keep2, lr,
                                                    correction1, correction2, eps)
        if done is not None:  # the compiled build: the same numbers, computed in C (micrograd_it/_nodes.c)
            new_m, new_v, new_data, finite = done
        else:
            new_m = [beta1 * m + keep1 * g for m, g in zip(self.m, grads)]
            new_v = [beta2 * v + keep2 * g * g for v, g in zip(self.v, grads)]
            new_data = [d - lr * (m / correction1) / (sqrt(v / correction2) + eps)
                        for d, m, v in zip(data, new_m, new_v)]
            # NaN and infinity stick to a sum: one sum per list sees them all (one that overflows is checked one by one).
            finite = math.isfinite(sum(new_m)) and math.isfinite(sum(new_v)) and math.isfinite(sum(new_data))
        if not finite:
            self._raise_if_not_finite(grads, new_m, new_v, new_data)
        # One call into C runs every write, so no signal handler (Ctrl-C) can run between them.
        _run(itertools.chain(
            map(setattr, self._params, itertools.repeat("data"), new_data),
            map(setattr, [self, self, self], ["m", "v", "steps"], [new_m, new_v, t]),
        ))

    def _raise_if_not_finite(self, grads, new_m, new_v, new_data):
        """OverflowError naming the first parameter whose new m, v or data is not finite; None if all are."""
        for (name, value), g, m, v, data in zip(self.named, grads, new_m, new_v, new_data):
            if not (math.isfinite(m) and math.isfinite(v) and math.isfinite(data)):
                raise OverflowError(f"Adam step would make {name!r} non-finite (data {value.data!r}, grad {g!r}, "
                                    f"lr {self.lr!r}); nothing was changed")

    def zero_grad(self):
        """Set every parameter's grad to 0.0; return None."""
        _zero_all(self._params)
