"""The lecture's deep character MLP on the engine, and its four diagnostics before and after training.

    net = DeepMLP(gain=5/3, batchnorm=False, hidden=100, depth=5, seed=0)   # the lecture's shape
    run = diagnose(net, X, Y, steps=1000, batch=32, lr=0.1, seed=0)

The makemore lecture (part 3) stacks ``Linear -> [BatchNorm1d] -> Tanh`` `depth` times
after the embedding table C (27 x 10, context 3), then ``Linear -> [BatchNorm1d]`` to the
logits. Its init, followed here: every Linear weight N(0, 1) / sqrt(fan_in) times the
gain, except the last layer, made less confident: its weight times 0.1 without
BatchNorm (so not times the gain), its BatchNorm's gamma times 0.1 with it. No bias
before a BatchNorm (its beta is the bias); biases start at 0.

`diagnose` trains with plain SGD and records, at init (the first batch, before any
update) and after the last step, the numbers of `micrograd_it.deep_stats`, traced with
``net.trace()``: the tanh layers are `batchnorm.Tanh` Layers, one row per sample.
"""

import collections
import itertools
import math
import random

from ._gc import gc_paused
from .batchnorm import BatchNorm1d, Linear, Tanh
from .deep_stats import SATURATION, activation_record, gradient_record, update_ratio, weight_record
from .losses import softmax_cross_entropy
from .nn import Embedding, Module, _check_count

__all__ = ["DeepMLP", "diagnose", "snapshot", "GAINS"]

GAINS = (0.5, 1.0, 5 / 3, 3.0)  # the lecture's sweep: too small, none, tanh's 5/3, too large


class DeepMLP(Module):
    """Embedding C, then `depth` x (Linear -> [BatchNorm1d] -> Tanh), then Linear -> [BatchNorm1d] to the logits.

    ``net.layers`` is the lecture's ``layers`` list (its indices are the "layer 1" of the
    printed lines); ``net.weights()`` gives its 2-D weights by name ("C", "W1", ...).
    One random.Random(seed) draws C, then each Linear's weights in order.
    """

    def __init__(self, gain=5 / 3, batchnorm=False, vocab_size=27, block_size=3, emb_dim=10, hidden=100,
                 depth=5, seed=0):
        if isinstance(gain, bool) or not isinstance(gain, (int, float)) or not gain > 0 or not math.isfinite(gain):
            raise ValueError(f"gain must be a finite number > 0, got {gain!r} ({type(gain).__name__})")
        for value, what in ((vocab_size, "vocab_size"), (block_size, "block_size"), (emb_dim, "emb_dim"),
                            (hidden, "hidden"), (depth, "depth")):
            _check_count(value, f"DeepMLP {what}")
        self.gain, self.batchnorm, self.depth = float(gain), bool(batchnorm), depth
        rng = random.Random(seed)
        self.C = Embedding(vocab_size, emb_dim, rng=rng)
        layers, width = [], block_size * emb_dim
        for _ in range(depth):
            layers.append(Linear(width, hidden, bias=not batchnorm, std=gain / math.sqrt(width), rng=rng))
            if batchnorm:
                layers.append(BatchNorm1d(hidden))
            layers.append(Tanh(hidden))
            width = hidden
        last_std = (gain if batchnorm else 0.1) / math.sqrt(width)
        layers.append(Linear(width, vocab_size, bias=not batchnorm, std=last_std, rng=rng))
        if batchnorm:
            last = BatchNorm1d(vocab_size)
            for gamma in last.gamma:
                gamma.data *= 0.1
            layers.append(last)
        self.layers = layers

    def forward(self, contexts):
        """Return the logits rows (a list of lists of Values) of a batch of contexts (lists of indices)."""
        rows = [self.C(context) for context in contexts]
        for layer in self.layers:
            rows = layer.batch(rows)
        return rows

    def train(self, mode=True):
        """Put every BatchNorm1d in training (True) or eval (False) mode; return self."""
        for layer in self.layers:
            if isinstance(layer, BatchNorm1d):
                layer.training = bool(mode)
        return self

    def weights(self):
        """Return [(name, shape, rows of Values)]: C (vocab x emb) and each Linear's weight as the
        lecture prints it, (fan_in, fan_out), named W1, W2, ... in order."""
        found = [("C", (self.C.num, self.C.dim), self.C.C)]
        linears = [layer for layer in self.layers if isinstance(layer, Linear)]
        found += [(f"W{i}", (layer.nin, layer.nout), layer.w) for i, layer in enumerate(linears, 1)]
        return found

    def __repr__(self):
        return (f"DeepMLP(gain={self.gain:.4g}, batchnorm={self.batchnorm}, depth={self.depth}, "
                f"hidden={self.layers[0].nout})")


def _flat(rows):
    return [x for row in rows for x in row]


def snapshot(net, trace, loss):
    """Return {"loss", "activations", "gradients", "weights"}: the deep_stats records of a traced
    forward and backward (`trace` from ``net.trace()`` around them, `loss` the batch's loss)."""
    tanh_index = [i for i, layer in enumerate(net.layers) if isinstance(layer, Tanh)]
    activations, gradients = [], []
    for index, layer in zip(tanh_index, trace.layers):
        activations.append(activation_record(index, "Tanh", _flat(layer.act), SATURATION))
        gradients.append(gradient_record(index, "Tanh", _flat(layer.grad_out)))
    weights = [weight_record(name, shape, [v.data for v in _flat(rows)], [v.grad for v in _flat(rows)])
               for name, shape, rows in net.weights()]
    return {"loss": loss, "activations": activations, "gradients": gradients, "weights": weights}


def _sgd_step(params, lr):
    """data -= lr * grad for every parameter: computed and checked first, then written in one call into C
    (so a Ctrl-C cannot leave half of them updated)."""
    new_data = [p.data - lr * p.grad for p in params]
    if not all(math.isfinite(x) for x in new_data):
        raise OverflowError("an SGD step would make a parameter non-finite; nothing was changed")
    collections.deque(map(setattr, params, itertools.repeat("data"), new_data), maxlen=0)


def diagnose(net, X, Y, steps=1000, batch=32, lr=0.1, seed=0, on_step=None):
    """Train `net` (a DeepMLP) `steps` SGD steps on random batches of (X, Y) and return a dict:
    "init" and "final" snapshots (traced on the first batch before any update, and on the batch
    of the last step before its update), "losses" per step and "update_ratio"
    {weight name: [log10 ratio per step]} (the lecture's ``ud``, after each update).

    Batches are drawn with random.Random(seed). `on_step(step)` is called after each step.
    """
    steps = _check_count(steps, "diagnose steps")
    rng = random.Random(seed)
    params = net.parameters()
    weights = net.weights()
    result = {"init": None, "final": None, "losses": [], "update_ratio": {name: [] for name, _, _ in weights}}
    with gc_paused():
        for step in range(steps):
            indices = [rng.randrange(len(X)) for _ in range(batch)]
            traced = step in (0, steps - 1)
            for p in params:
                p.grad = 0.0
            if traced:
                with net.trace() as trace:
                    loss = softmax_cross_entropy(net.forward([X[i] for i in indices]), [Y[i] for i in indices])
                loss.backward()
                record = snapshot(net, trace, loss.data)
                del trace
            else:
                loss = softmax_cross_entropy(net.forward([X[i] for i in indices]), [Y[i] for i in indices])
                loss.backward()
            result["losses"].append(loss.data)
            del loss
            if step == 0:
                result["init"] = record
            _sgd_step(params, lr)
            if traced and step == steps - 1:
                result["final"] = record
            for name, _, rows in weights:
                flat = _flat(rows)
                result["update_ratio"][name].append(update_ratio(lr, [v.data for v in flat], [v.grad for v in flat]))
            if on_step is not None:
                on_step(step)
    return result
