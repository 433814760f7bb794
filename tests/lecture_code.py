"""Value programs written by hand, as learners write them (no Module of ours): the subjects of trace_values' tests.

`LectureMLP`: the micrograd lecture's Neuron / Layer / MLP, written here with plain lists (each
Neuron applies tanh on one line, for every layer). `tiny_gpt`: a forward pass in microgpt's shape
(embeddings, RMS norm, one attention head over a growing key/value cache, a ReLU MLP, residuals),
one call of `position` per token. Both take the Value class to use.
"""

import random


class Neuron:
    def __init__(self, weights, bias):
        self.w, self.b = weights, bias

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.tanh()


class Layer:
    def __init__(self, neurons):
        self.neurons = neurons

    def __call__(self, x):
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs


class LectureMLP:
    """The lecture's MLP with the weights of our `micrograd_it.nn.MLP` `net` (copied as new leaves)."""

    def __init__(self, net, value_class):
        self.layers = [Layer([Neuron([value_class(w.data) for w in n.w], value_class(n.b.data))
                              for n in layer.neurons]) for layer in net.layers]

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for n in layer.neurons for p in n.w + [n.b]]


def gpt_parameters(value_class, vocab=6, width=8, hidden=16, context=8, dead=(3, 11), seed=0):
    """A dict of weight matrices; the fc1 rows listed in `dead` are zero, so those ReLUs never fire."""
    rng = random.Random(seed)

    def matrix(rows, cols, std=0.4):
        return [[value_class(rng.gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]
    params = {"wte": matrix(vocab, width), "wpe": matrix(context, width), "wq": matrix(width, width),
              "wk": matrix(width, width), "wv": matrix(width, width), "wo": matrix(width, width),
              "fc1": matrix(hidden, width), "fc2": matrix(width, hidden), "head": matrix(vocab, width)}
    for row in dead:
        params["fc1"][row] = [value_class(0.0) for _ in range(width)]
    return params


def linear(x, w):
    return [sum(wi * xi for wi, xi in zip(row, x)) for row in w]


def rmsnorm(x):
    scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def softmax(logits):
    top = max(v.data for v in logits)
    exps = [(v - top).exp() for v in logits]
    total = sum(exps)
    return [e / total for e in exps]


def position(token, pos, keys, values, p, seen):
    """One token position: returns the logits; appends the MLP's pre-ReLU Values to `seen`."""
    x = rmsnorm([t + q for t, q in zip(p["wte"][token], p["wpe"][pos])])
    q, k, v = linear(x, p["wq"]), linear(x, p["wk"]), linear(x, p["wv"])
    keys.append(k)
    values.append(v)
    weights = softmax([sum(qi * ki for qi, ki in zip(q, key)) * len(q) ** -0.5 for key in keys])
    attended = [sum(weights[t] * values[t][j] for t in range(len(keys))) for j in range(len(q))]
    x = [a + b for a, b in zip(x, linear(attended, p["wo"]))]
    h = linear(rmsnorm(x), p["fc1"])
    seen.append(h)
    h = [hi.relu() for hi in h]  # RELU LINE: the line trace_values names
    x = [a + b for a, b in zip(x, linear(h, p["fc2"]))]
    return linear(x, p["head"])


def tiny_gpt_loss(tokens, p, seen):
    """Mean cross-entropy of predicting each next token, one `position` call per token."""
    keys, values, losses = [], [], []
    for pos, (token, target) in enumerate(zip(tokens, tokens[1:])):
        probs = softmax(position(token, pos, keys, values, p, seen))
        losses.append(-probs[target].log())
    return sum(losses) * (1.0 / len(losses))
