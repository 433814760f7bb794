"""A small character-level GPT on scalar Values: one name per step, one position at a time.

    from micrograd_it.gpt import GPT
    model = GPT(vocab_size=27, seed=0)                 # 1 layer, 16 wide, 4 heads, context 16
    loss = model.loss([5, 13, 13, 1])                  # "emma": mean cross-entropy over its positions
    loss.backward()

The shape is the one of Karpathy's microgpt (written here, not copied): token and position
embeddings, RMSNorm, causal multi-head attention, a ReLU MLP four times as wide, no biases,
weights drawn from N(0, 0.08). Token 0 marks both the start and the end of a name, as in
makemore. The model runs each position in turn and keeps the keys and values of the earlier
positions (a KV cache): attention is causal because the later positions do not exist yet.

The code uses only ``+ * ** exp log relu`` (and ``-`` ``/``), so it runs on any scalar Value
class with that surface: ``GPT(..., value=OtherValue)`` builds its weights from that class
(the benchmark runs it on a minimal microgpt-style Value, benchmarks/scalar_reference.py).
Sums use ``reduce(add, ...)`` from the first term, so no node adds a 0.
"""

import math
import numbers
import random
from functools import reduce
from operator import add, mul

from .engine import Value

__all__ = ["GPT", "peaked_rows"]

MATRICES = ("wq", "wk", "wv", "wo", "fc1", "fc2")  # of each layer, in the order of named_parameters()


def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _check_count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"GPT {what} must be a positive int, got {_describe(value)}")
    return value


def _linear(x, weights):
    """weights @ x: one dot product per row (no bias)."""
    return [reduce(add, map(mul, row, x)) for row in weights]


def _rmsnorm(x):
    """x / sqrt(mean(x^2) + 1e-5): every vector enters a block at the same scale (no learned gain)."""
    mean_square = reduce(add, map(mul, x, x)) * (1.0 / len(x))
    scale = (mean_square + 1e-5) ** -0.5
    return [xi * scale for xi in x]


def _softmax(logits):
    """exp(z - max) / sum: the largest logit is subtracted (a number, not a node) so exp cannot overflow."""
    top = max(z.data for z in logits)
    exps = [(z - top).exp() for z in logits]
    total = reduce(add, exps)
    return [e / total for e in exps]


def _cross_entropy(logits, target):
    """-log softmax(logits)[target], written as log(sum exp(z - max)) - (z_target - max)."""
    top = max(z.data for z in logits)
    total = reduce(add, [(z - top).exp() for z in logits])
    return total.log() - (logits[target] - top)


class GPT:
    """A GPT over `vocab_size` tokens: `n_layer` blocks of `n_head`-head attention and a ReLU MLP.

    Weights are lists of rows of `value` objects (default: our Value), drawn from
    N(0, init_std) by random.Random(seed): the same seed gives the same weights bit for bit.
    `wte` (vocab x n_embd), `wpe` (block_size x n_embd), ``layers[i]`` a dict of wq, wk, wv, wo
    (n_embd x n_embd), fc1 (4 n_embd x n_embd), fc2 (n_embd x 4 n_embd), and `lm_head`
    (vocab x n_embd). Raises ValueError for a size that is not a positive int or an n_embd
    that n_head does not divide.
    """

    def __init__(self, vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16, init_std=0.08, seed=0,
                 value=Value):
        self.vocab_size = _check_count(vocab_size, "vocab_size")
        self.n_embd = _check_count(n_embd, "n_embd")
        self.n_head = _check_count(n_head, "n_head")
        self.n_layer = _check_count(n_layer, "n_layer")
        self.block_size = _check_count(block_size, "block_size")
        if n_embd % n_head:
            raise ValueError(f"GPT n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        if isinstance(init_std, bool) or not isinstance(init_std, numbers.Real) or not 0 <= init_std < math.inf:
            raise ValueError(f"GPT init_std must be a finite number >= 0, got {_describe(init_std)}")
        rng = random.Random(seed)

        def matrix(rows, cols):
            return [[value(rng.gauss(0.0, init_std)) for _ in range(cols)] for _ in range(rows)]

        self.wte = matrix(vocab_size, n_embd)
        self.wpe = matrix(block_size, n_embd)
        shapes = {"wq": (n_embd, n_embd), "wk": (n_embd, n_embd), "wv": (n_embd, n_embd), "wo": (n_embd, n_embd),
                  "fc1": (4 * n_embd, n_embd), "fc2": (n_embd, 4 * n_embd)}
        self.layers = [{name: matrix(*shapes[name]) for name in MATRICES} for _ in range(n_layer)]
        self.lm_head = matrix(vocab_size, n_embd)

    def named_parameters(self):
        """Return [(name, value)]: "wte.3.7", "layers.0.fc1.12.5", ... "lm_head.26.15", in a fixed order."""
        matrices = [("wte", self.wte), ("wpe", self.wpe)]
        matrices += [(f"layers.{i}.{name}", layer[name]) for i, layer in enumerate(self.layers) for name in MATRICES]
        matrices.append(("lm_head", self.lm_head))
        return [(f"{name}.{r}.{c}", v) for name, rows in matrices for r, row in enumerate(rows) for c, v in enumerate(row)]

    def parameters(self):
        """Return the list of parameters (the order of `named_parameters`)."""
        return [v for _, v in self.named_parameters()]

    def __repr__(self):
        return (f"GPT(vocab_size={self.vocab_size}, n_embd={self.n_embd}, n_head={self.n_head}, "
                f"n_layer={self.n_layer}, block_size={self.block_size}; {len(self.parameters())} parameters)")

    # -- one position ------------------------------------------------------------------

    def _attention(self, q, keys, values, attention):
        """Each head: softmax(q.k / sqrt(head size)) over the positions so far, then the weighted values."""
        head_size = self.n_embd // self.n_head
        scale = head_size**-0.5
        out = []
        for start in range(0, self.n_embd, head_size):
            head = slice(start, start + head_size)
            scores = [reduce(add, map(mul, q[head], k[head])) * scale for k in keys]
            weights = _softmax(scores)
            if attention is not None:
                attention.append([w.data for w in weights])
            out += [reduce(add, [w * v[i] for w, v in zip(weights, values)]) for i in range(start, start + head_size)]
        return out

    def _mlp(self, x, layer):
        """fc2(relu(fc1(x))): the ReLU line trace_values() reports, one row per position, 4 n_embd columns."""
        hidden = [u.relu() for u in _linear(x, layer["fc1"])]
        return _linear(hidden, layer["fc2"])

    def _position(self, token, pos, caches, attention):
        """The logits for the token after position `pos`; appends this position's keys and values to `caches`."""
        x = _rmsnorm([t + p for t, p in zip(self.wte[token], self.wpe[pos])])
        for layer, (keys, values) in zip(self.layers, caches):
            h = _rmsnorm(x)
            keys.append(_linear(h, layer["wk"]))
            values.append(_linear(h, layer["wv"]))
            mixed = self._attention(_linear(h, layer["wq"]), keys, values, attention)
            x = [a + b for a, b in zip(x, _linear(mixed, layer["wo"]))]   # residual connection
            x = [a + b for a, b in zip(x, self._mlp(_rmsnorm(x), layer))]  # residual connection
        return _linear(x, self.lm_head)

    # -- a whole name ------------------------------------------------------------------

    def _check_tokens(self, tokens):
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, (list, tuple)):
            raise TypeError(f"GPT needs a list of token ids, got {_describe(tokens)}")
        for token in tokens:
            if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < self.vocab_size:
                raise ValueError(f"GPT token ids must be ints from 0 to {self.vocab_size - 1}, got {_describe(token)}")
        return list(tokens)

    def loss(self, name, attention=None):
        """Return the mean cross-entropy (a Value) of predicting each next token of ``[0] + name + [0]``.

        `name`: the token ids of one name (0 not included), possibly empty. Only the first
        `block_size` positions are used. `attention`: a list to which every softmax row of
        every head is appended (lists of floats; position p's rows have p + 1 weights), or None.
        Raises TypeError/ValueError for a name that is not a list of token ids below vocab_size.
        """
        tokens = [0] + self._check_tokens(name) + [0]
        n = min(self.block_size, len(tokens) - 1)
        caches = [([], []) for _ in self.layers]
        losses = [_cross_entropy(self._position(tokens[pos], pos, caches, attention), tokens[pos + 1])
                  for pos in range(n)]
        return reduce(add, losses) * (1.0 / n)

    def sample(self, rng, temperature=0.5):
        """Return one name's token ids (without the 0s), drawn from `rng` (a random.Random).

        Each next token is drawn from softmax(logits / temperature) until token 0 or
        `block_size` tokens. Raises ValueError for a temperature that is not a finite number > 0.
        """
        if isinstance(temperature, bool) or not isinstance(temperature, numbers.Real) or not 0 < temperature < math.inf:
            raise ValueError(f"GPT sample temperature must be a finite number > 0, got {_describe(temperature)}")
        if not isinstance(rng, random.Random):
            raise TypeError(f"GPT sample needs a random.Random, got {_describe(rng)}")
        caches = [([], []) for _ in self.layers]
        token, out = 0, []
        for pos in range(self.block_size):
            logits = [z.data / temperature for z in self._position(token, pos, caches, None)]
            top = max(logits)
            token = rng.choices(range(self.vocab_size), weights=[math.exp(z - top) for z in logits])[0]
            if token == 0:
                break
            out.append(token)
        return out


def peaked_rows(attention, threshold=0.99):
    """Return (peaked, counted): of the attention rows with at least two weights, how many have a
    largest weight >= `threshold`. Such a softmax passes almost no gradient to its scores (its
    Jacobian diag(p) - p p^T is near 0). Rows of one weight (the first position) are always
    exactly 1 and are not counted. Raises ValueError for a threshold outside (0, 1].
    """
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0 < threshold <= 1:
        raise ValueError(f"peaked_rows threshold must be a number in (0, 1], got {_describe(threshold)}")
    counted = [row for row in attention if len(row) >= 2]
    return sum(1 for row in counted if max(row) >= threshold), len(counted)
