"""Neural networks built from `Value`s: Neuron -> Layer -> MLP, plus an Embedding table.

A neuron computes, exactly as in the micrograd lecture,

    preact = b + w0*x0 + w1*x1 + ...      (a chain of `+` nodes)
    act    = activation(preact)           (act is preact itself for "linear")

Every Module names its parameters after the attributes that hold them
("layers.0.neurons.3.w.1"), can be saved to / loaded from JSON, and can record
what its layers computed with ``with net.trace() as tr:`` (see trace.py).
"""

import math
import numbers
import random

from ._params_json import load_parameters, save_parameters
from .catalogue import ACTIVATIONS as CATALOGUE_ACTIVATIONS
from .catalogue import View
from .engine import Value
from .trace import Trace

__all__ = ["Module", "Neuron", "Layer", "MLP", "Embedding", "ACTIVATIONS", "GAINS"]

# name -> the Value method that applies it (None: linear, act is preact): every
# activation of the op catalogue (micrograd_it/ops.py), with its default constant
# (leaky_relu slope 0.01, elu alpha 1.0), and "linear".
ACTIVATIONS = View(lambda: {**{name: getattr(Value, op.method) for name, op in CATALOGUE_ACTIVATIONS.items()},
                            "linear": None})

# Gains of the "scaled" init: std(w) = gain / sqrt(fan_in) keeps the spread of
# the pre-activations about the same from layer to layer (each activation's
# gain is in its catalogue entry; linear uses 1).
GAINS = View(lambda: {**{name: op.activation.gain for name, op in CATALOGUE_ACTIVATIONS.items()}, "linear": 1.0})


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
    return activation


def _check_init(init):
    if isinstance(init, str):
        if init not in ("uniform", "scaled"):
            raise ValueError(f"unknown init {init!r}; choose 'uniform', 'scaled' or a number (the std)")
        return init
    if isinstance(init, bool) or not isinstance(init, numbers.Real) or not math.isfinite(init) or init < 0:
        raise ValueError(f"init must be 'uniform', 'scaled' or a finite number >= 0, got {_describe(init)}")
    return float(init)


def _check_count(count, what):
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"{what} must be a positive int, got {_describe(count)}")
    return count


def _make_rng(seed, rng):
    """What to draw from: `rng` if given, a new random.Random(seed) if `seed` is given, else the
    `random` module itself (its global generator), so that ``random.seed(1337)`` makes an
    unseeded network reproducible, as in micrograd's demo."""
    if rng is not None:
        if not (isinstance(rng, random.Random) or rng is random):
            raise TypeError(f"rng must be a random.Random (or the random module), got {_describe(rng)}")
        return rng
    if seed is None:
        return random
    return random.Random(seed)


class Module:
    """Base class: finds its parameters in its attributes, saves, loads and traces them.

    Parameters are found, in attribute order, in attributes holding a Value, a
    list of Values, a list of lists of Values, a Module or a list of Modules.
    Attributes whose name starts with "_" are skipped.
    """

    def named_modules(self, prefix=""):
        """Return [(name, module)] for this module ("" or `prefix`) and every module inside it."""
        found = [(prefix, self)]
        for name, item in vars(self).items():
            if name.startswith("_"):
                continue
            path = f"{prefix}.{name}" if prefix else name
            if isinstance(item, Module):
                found.extend(item.named_modules(path))
            elif isinstance(item, list):
                for index, element in enumerate(item):
                    if isinstance(element, Module):
                        found.extend(element.named_modules(f"{path}.{index}"))
        return found

    def named_parameters(self):
        """Return [(name, Value)] with stable dotted names such as "layers.0.neurons.3.w.1".

        A Value held in two places (tied weights) is listed once, under its first name.
        """
        found = []
        for name, item in vars(self).items():
            if not name.startswith("_"):
                _collect(item, name, found)
        unique, seen = [], set()
        for name, value in found:
            if id(value) not in seen:
                seen.add(id(value))
                unique.append((name, value))
        return unique

    def parameters(self):
        """Return the list of parameter Values (the order of `named_parameters`)."""
        return [value for _, value in self.named_parameters()]

    def zero_grad(self):
        """Set every parameter's grad to 0.0. Returns None."""
        for value in self.parameters():
            value.grad = 0.0

    def trace(self):
        """Return a Trace: ``with net.trace() as tr:`` records every Layer call inside the block."""
        layers = [(name, module) for name, module in self.named_modules() if isinstance(module, Layer)]
        return Trace(layers)

    def save(self, path):
        """Write the parameters as JSON {name: number} to `path`, atomically; return the path."""
        return save_parameters(self.named_parameters(), path, about=repr(self))

    def load(self, path):
        """Read parameters saved by `save` into this model; return self.

        Raises ValueError naming what does not match (not our format, missing or
        unexpected names, a non-finite or non-number value). Everything is
        checked before anything is assigned, so on error the model is unchanged.
        """
        load_parameters(self.named_parameters(), path)
        return self


def _collect(item, path, found):
    """Append (name, Value) for every parameter held by `item` (see Module)."""
    if isinstance(item, Value):
        found.append((path, item))
    elif isinstance(item, Module):
        found.extend((f"{path}.{name}", value) for name, value in item.named_parameters())
    elif isinstance(item, list):
        for index, element in enumerate(item):
            if isinstance(element, (Value, Module, list)):
                _collect(element, f"{path}.{index}", found)


class Neuron(Module):
    """One neuron: ``act = activation(b + sum(w_i * x_i))`` with ``fan_in`` weights.

    init: "uniform" draws w from U(-1, 1) (micrograd's choice); "scaled" from
    N(0, 1) * GAINS[activation] / sqrt(fan_in); a number s from N(0, 1) * s.
    The bias starts at `bias_init`. Draws come from `rng`, or random.Random(seed),
    or without either from the `random` module (so ``random.seed(n)`` fixes them).
    """

    def __init__(self, fan_in, activation="tanh", init="uniform", seed=None, rng=None, bias_init=0.0):
        fan_in = _check_count(fan_in, "Neuron fan_in")
        self.activation = _check_activation(activation)
        init = _check_init(init)
        rng = _make_rng(seed, rng)
        if init == "uniform":
            self.w = [Value(rng.uniform(-1.0, 1.0)) for _ in range(fan_in)]
        else:
            std = GAINS[activation] / math.sqrt(fan_in) if init == "scaled" else init
            self.w = [Value(rng.gauss(0.0, 1.0) * std) for _ in range(fan_in)]
        self.b = Value(bias_init)
        self._activate = ACTIVATIONS[activation]

    def preactivation(self, x):
        """Return the Value preact = b + w0*x0 + w1*x1 + ... (a chain of `+`, as in the lecture).

        Raises ValueError when len(x) is not fan_in.
        """
        if len(x) != len(self.w):
            raise ValueError(f"this Neuron expects {len(self.w)} inputs, got {len(x)}")
        preact = self.b
        for wi, xi in zip(self.w, x):
            preact = preact + wi * xi
        return preact

    def activate(self, preact):
        """Return the Value act = activation(preact); `preact` itself for "linear"."""
        if self._activate is None:
            return preact
        return self._activate(preact)

    def __call__(self, x):
        """Return act for the inputs x (Values or numbers); same steps as activate(preactivation(x))."""
        # Written out (not activate(preactivation(x))) to save two calls per neuron.
        if len(x) != len(self.w):
            raise ValueError(f"this Neuron expects {len(self.w)} inputs, got {len(x)}")
        preact = self.b
        for wi, xi in zip(self.w, x):
            preact = preact + wi * xi
        if self._activate is None:
            return preact
        return self._activate(preact)

    def __repr__(self):
        return f"Neuron({len(self.w)}, activation={self.activation!r})"


class Layer(Module):
    """`nout` neurons that all read the same `nin` inputs; calling it returns a list of `nout` Values."""

    def __init__(self, nin, nout, activation="tanh", init="uniform", seed=None, rng=None, bias_init=0.0):
        self.nin = _check_count(nin, "Layer nin")
        self.nout = _check_count(nout, "Layer nout")
        self.activation = _check_activation(activation)
        rng = _make_rng(seed, rng)
        self.neurons = [Neuron(nin, activation, init, rng=rng, bias_init=bias_init) for _ in range(nout)]
        self._recorder = None  # a LayerTrace while a trace() block is open

    def __call__(self, x):
        """Return [neuron(x) for each neuron]; raises ValueError when len(x) != nin."""
        try:
            count = len(x)
        except TypeError:
            raise TypeError(f"a Layer needs a list of {self.nin} Values or numbers, got {_describe(x)}") from None
        if count != self.nin:
            raise ValueError(f"this Layer expects {self.nin} inputs, got {count}")
        if self._recorder is None:
            return [neuron(x) for neuron in self.neurons]
        return self._recorder.record(self.neurons, x)

    def __repr__(self):
        return f"Layer({self.nin}, {self.nout}, activation={self.activation!r})"


class MLP(Module):
    """A multi-layer perceptron: MLP(2, [16, 16, 1]) maps 2 inputs through two hidden layers to 1 output.

    Hidden layers use `activation`, the last one `last_activation` ("linear"
    by default: raw scores). One random.Random(seed) draws every weight in
    order, so the same seed gives the same network bit for bit; without `seed`
    and `rng` the `random` module's generator draws them (``random.seed(1337)``
    then gives the same network each run, as in micrograd's demo).
    """

    def __init__(self, nin, nouts, activation="tanh", init="uniform", seed=None,
                 last_activation="linear", bias_init=0.0, rng=None):
        nin = _check_count(nin, "MLP nin")
        if not isinstance(nouts, (list, tuple)) or not nouts:
            raise ValueError(f"MLP nouts must be a non-empty list of layer widths, got {_describe(nouts)}")
        rng = _make_rng(seed, rng)
        sizes = [nin] + [_check_count(width, "MLP layer width") for width in nouts]
        activations = [activation] * (len(nouts) - 1) + [last_activation]
        self.layers = [
            Layer(sizes[i], sizes[i + 1], activations[i], init, rng=rng, bias_init=bias_init)
            for i in range(len(nouts))
        ]
        self._description = f"MLP({nin}, {list(nouts)}, activation={activation!r}, init={init!r})"

    def __call__(self, x):
        """Return the output Values for inputs x; a single Value when the last layer has width 1."""
        for layer in self.layers:
            x = layer(x)
        return x[0] if len(x) == 1 else x

    def __repr__(self):
        return self._description


class Embedding(Module):
    """A lookup table C of `num` rows of `dim` Values, drawn from N(0, 1) (makemore's ``C``).

    ``emb(indices)`` returns the rows C[i] for each index, concatenated into
    one flat list of Values (what the makemore MLP feeds to its hidden layer).
    """

    def __init__(self, num, dim, seed=None, rng=None, init=1.0):
        self.num = _check_count(num, "Embedding num")
        self.dim = _check_count(dim, "Embedding dim")
        std = _check_init(init)
        if isinstance(std, str):
            raise ValueError(f"Embedding init must be a number (the std), got {init!r}")
        rng = _make_rng(seed, rng)
        self.C = [[Value(rng.gauss(0.0, 1.0) * std) for _ in range(dim)] for _ in range(num)]

    def __call__(self, indices):
        """Return the concatenation of rows C[i] for i in `indices`; raises IndexError for a bad index."""
        flat = []
        for index in indices:
            if isinstance(index, bool) or not isinstance(index, numbers.Integral) or not 0 <= index < self.num:
                raise IndexError(f"Embedding index must be an int in [0, {self.num}), got {_describe(index)}")
            flat.extend(self.C[index])
        return flat

    def __repr__(self):
        return f"Embedding({self.num}, {self.dim})"
