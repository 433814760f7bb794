"""Batch-level layers on Values: Linear (with or without bias), BatchNorm1d, and a Tanh layer that traces.

A BatchNorm layer needs the whole batch at once (its mean and variance are over
the samples), so these layers take and return a *batch*: a list of rows, one row
(a list of Values) per sample.

    bn = BatchNorm1d(100)
    rows = bn.batch(rows)          # training: the batch's statistics; running ones updated
    bn.training = False            # eval: the running mean and variance instead

BatchNorm1d is the engine's own ops composed, as torch.nn.BatchNorm1d computes it:

    mean = sum(x) / n                     var = sum((x - mean)**2) / n     (biased, as torch normalises)
    y    = gamma * (x - mean) * (var + eps)**-0.5 + beta

so its backward is the engine's backward through those nodes (tests check it
against finite differences and against torch). The running statistics move by
``running = (1 - momentum) * running + momentum * batch_stat`` with the unbiased
variance (n - 1), as torch's do; they are plain floats, not parameters.

`Tanh` is a `nn.Layer` of elementwise units: calling it on one sample applies
tanh to each input, one Value op per unit, so ``net.trace()`` records each of its
units as a neuron (preact = what came in, act = tanh of it) per sample, exactly
as for an MLP's layer, and `trace_values()` sees one tanh per unit on one line.
"""

import collections
import math

from .engine import Value
from .nn import ACTIVATIONS, Layer, Module, _check_count, _describe, _make_rng

__all__ = ["Linear", "BatchNorm1d", "Activation", "Tanh"]

_run = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C (no signal between)


def _check_rows(rows, width, what):
    """Return `rows` as a list of rows after checking it is a non-empty batch of `width`-long rows."""
    if not isinstance(rows, (list, tuple)) or not rows:
        raise ValueError(f"{what} needs a non-empty batch (a list of rows), got {_describe(rows)}")
    for index, row in enumerate(rows):
        if not isinstance(row, (list, tuple)) or len(row) != width:
            raise ValueError(f"{what} expects rows of {width} inputs; row {index} is {_describe(row)}")
    return list(rows)


class Linear(Module):
    """``y_j = sum_i w[j][i] * x_i (+ b_j)``: `nout` rows of `nin` weights, each drawn N(0, 1) * std.

    `std` defaults to 1 / sqrt(nin) (the lecture's ``randn(fan_in, fan_out) / fan_in**0.5``);
    the bias, when there is one, starts at 0. Draws come from `rng` or random.Random(seed),
    row by row (w[0][0], w[0][1], ...).
    """

    def __init__(self, nin, nout, bias=True, std=None, seed=None, rng=None):
        self.nin = _check_count(nin, "Linear nin")
        self.nout = _check_count(nout, "Linear nout")
        std = 1.0 / math.sqrt(nin) if std is None else std
        rng = _make_rng(seed, rng)
        self.w = [[Value(rng.gauss(0.0, 1.0) * std) for _ in range(nin)] for _ in range(nout)]
        self.b = [Value(0.0) for _ in range(nout)] if bias else None

    def __call__(self, x):
        """Return the `nout` outputs for one sample x (a list of `nin` Values or numbers)."""
        if len(x) != self.nin:
            raise ValueError(f"this Linear expects {self.nin} inputs, got {len(x)}")
        outputs = []
        for j, weights in enumerate(self.w):
            out = weights[0] * x[0] if self.b is None else self.b[j] + weights[0] * x[0]
            for wi, xi in zip(weights[1:], x[1:]):
                out = out + wi * xi
            outputs.append(out)
        return outputs

    def batch(self, rows):
        """Return one output row per input row."""
        return [self(row) for row in _check_rows(rows, self.nin, "Linear")]

    def __repr__(self):
        return f"Linear({self.nin}, {self.nout}, bias={self.b is not None})"


class BatchNorm1d(Module):
    """Normalise each of `dim` features over the batch, then scale by gamma and shift by beta.

    ``training`` (True at first) uses the batch's mean and biased variance and updates
    ``running_mean`` / ``running_var`` (floats, starting at 0 and 1); in eval it uses those.
    """

    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.dim = _check_count(dim, "BatchNorm1d dim")
        if not (isinstance(eps, (int, float)) and eps > 0):
            raise ValueError(f"BatchNorm1d eps must be a number > 0, got {_describe(eps)}")
        if not (isinstance(momentum, (int, float)) and 0.0 <= momentum <= 1.0):
            raise ValueError(f"BatchNorm1d momentum must be a number in [0, 1], got {_describe(momentum)}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.gamma = [Value(1.0) for _ in range(dim)]
        self.beta = [Value(0.0) for _ in range(dim)]
        self.running_mean = [0.0] * dim
        self.running_var = [1.0] * dim
        self.training = True

    def batch(self, rows):
        """Return the normalised rows. Training needs at least 2 rows (a variance of one sample is 0/0).

        Raises ValueError for a bad batch; on any error the running statistics are unchanged.
        """
        rows = [[x if isinstance(x, Value) else Value(x) for x in row]  # numbers too; Value() names a bad one
                for row in _check_rows(rows, self.dim, "BatchNorm1d")]
        n = len(rows)
        if not self.training:
            scales = [1.0 / math.sqrt(var + self.eps) for var in self.running_var]
            return [[self.gamma[j] * ((x - self.running_mean[j]) * scales[j]) + self.beta[j]
                     for j, x in enumerate(row)] for row in rows]
        if n < 2:
            raise ValueError(f"BatchNorm1d in training needs a batch of at least 2 rows, got {n}")
        columns = list(zip(*rows))
        means = [sum(column[1:], column[0]) * (1.0 / n) for column in columns]
        centred = [[x - mean for x in column] for column, mean in zip(columns, means)]
        variances = [sum((d * d for d in column[1:]), column[0] * column[0]) * (1.0 / n) for column in centred]
        inv_std = [(var + self.eps) ** -0.5 for var in variances]
        out_columns = [[self.gamma[j] * (d * inv_std[j]) + self.beta[j] for d in column]
                       for j, column in enumerate(centred)]
        # running statistics: computed first, then both written in one call into C, so an error or a
        # Ctrl-C leaves them as they were or updates both
        keep = 1.0 - self.momentum
        new_mean = [keep * old + self.momentum * mean.data for old, mean in zip(self.running_mean, means)]
        new_var = [keep * old + self.momentum * var.data * n / (n - 1) for old, var in zip(self.running_var, variances)]
        _run(map(setattr, [self, self], ["running_mean", "running_var"], [new_mean, new_var]))
        return [list(row) for row in zip(*out_columns)]

    def __repr__(self):
        return f"BatchNorm1d({self.dim}, eps={self.eps:g}, momentum={self.momentum:g})"


class _Unit(Module):
    """One elementwise unit of an Activation layer: its preact is input `index` itself."""

    def __init__(self, index, activate):
        self.index = index
        self._activate = activate

    def preactivation(self, x):
        """Return x[index] (the unit has no weights)."""
        return x[self.index]

    def activate(self, preact):
        """Return activation(preact)."""
        return self._activate(preact)


class Activation(Layer):
    """An elementwise activation as a Layer of `width` units, so that ``net.trace()`` records it per sample."""

    def __init__(self, width, activation):
        self.nin = self.nout = _check_count(width, "Activation width")
        if activation not in ACTIVATIONS or activation == "linear":
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(set(ACTIVATIONS) - {'linear'})}")
        self.activation = activation
        activate = ACTIVATIONS[activation]
        self.neurons = [_Unit(index, activate) for index in range(width)]
        self._recorder = None

    def __call__(self, x):
        """Return [activation(x_i)] for one sample; raises ValueError when len(x) != width."""
        if self._recorder is not None:  # the trace computes the same ops, keeping the Values
            return super().__call__(x)
        if len(x) != self.nout:
            raise ValueError(f"this {type(self).__name__} expects {self.nout} inputs, got {len(x)}")
        return [unit._activate(preact) for unit, preact in zip(self.neurons, x)]

    def batch(self, rows):
        """Return one activated row per input row (one Layer call per sample)."""
        return [self(row) for row in _check_rows(rows, self.nin, type(self).__name__)]

    def __repr__(self):
        return f"{type(self).__name__}({self.nout})"


class Tanh(Activation):
    """``tanh`` of each input, as a traceable Layer of `width` units."""

    def __init__(self, width):
        super().__init__(width, "tanh")
