"""The numbers every engine starts from, so that their gradients can be compared (standard library only).

Each engine builds its own model from these plain floats: the same weights,
the same data, whatever the engine.
"""

import math
import random

W1_SIZES = [2, 16, 16, 1]   # MLP of the W1 workload: tanh hidden layers, linear output
LEARNING_RATE = 0.01

SEED_CONTEXT, SEED_DIM, SEED_VOCAB = 3, 10, 27   # the seed's layer: 3 characters x 10 dims = 30 inputs
SEED_BATCH, SEED_HIDDEN = 32, 200


def w1_problem(batch, seed=0):
    """Return (layers, X, Y): layers[l] = [(w list, b) per neuron]; X: batch x 2 floats; Y: batch of +-1."""
    rng = random.Random(seed)
    layers = []
    for fan_in, width in zip(W1_SIZES, W1_SIZES[1:]):
        layers.append([([rng.uniform(-1, 1) for _ in range(fan_in)], 0.0) for _ in range(width)])
    X = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(batch)]
    Y = [rng.choice([-1.0, 1.0]) for _ in range(batch)]
    return layers, X, Y


def flat_parameters(layers):
    """Return the parameters in the order every engine reports gradients: per neuron its w, then b."""
    return [p for layer in layers for w, b in layer for p in list(w) + [b]]


def seed_problem(seed=0):
    """Return (C, W, B, contexts): C vocab x dim table, W hidden x 30, B hidden, contexts batch x 3 ints."""
    rng = random.Random(seed)
    C = [[rng.gauss(0.0, 1.0) for _ in range(SEED_DIM)] for _ in range(SEED_VOCAB)]
    fan_in = SEED_CONTEXT * SEED_DIM
    W = [[rng.uniform(-1, 1) / fan_in**0.5 for _ in range(fan_in)] for _ in range(SEED_HIDDEN)]
    B = [0.0] * SEED_HIDDEN
    contexts = [[rng.randrange(SEED_VOCAB) for _ in range(SEED_CONTEXT)] for _ in range(SEED_BATCH)]
    return C, W, B, contexts


def micrograd_tanh(Value):
    """Return tanh for micrograd's `Value` class, written in micrograd's own style (a closure per node),
    as a separate function: its class is not edited."""
    def tanh(v):
        t = math.tanh(v.data)
        out = Value(t, (v,), "tanh")

        def _backward():
            v.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out
    return tanh
