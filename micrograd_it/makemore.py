"""The makemore character model of the seed, on the engine: table C, one tanh hidden layer, logits.

    from micrograd_it.makemore import CharMLP, batch_loss, char_dataset
    X, Y, vocab_size = char_dataset(block_size=3)   # names.txt's training split: 182,625 contexts
    model = CharMLP(vocab_size, block_size=3, emb_dim=10, hidden=200, init="scaled", seed=0)
    loss = batch_loss(model, X, Y, range(32))

Lessons, the study and the benchmarks all build this one model from here.
"""

from .data import build_char_dataset, char_vocab, lecture_split
from .losses import softmax_cross_entropy
from .nn import MLP, Embedding, Module

__all__ = ["CharMLP", "batch_loss", "char_dataset"]


class CharMLP(Module):
    """The seed's model: embedding table C, then one tanh hidden layer, then logits over the characters.

    A Module, so parameters(), named_parameters() ("C.C.4.1", "mlp.layers.0.neurons.3.w.1") and
    trace() come with it. `init` is any `MLP` init ("uniform", "scaled" or a number).
    """

    def __init__(self, vocab_size, block_size, emb_dim, hidden, init, seed):
        self.C = Embedding(vocab_size, emb_dim, seed=seed)
        self.mlp = MLP(block_size * emb_dim, [hidden, vocab_size], activation="tanh", init=init, seed=seed + 1)

    def __call__(self, context):
        """Return the list of logits (Values) for one context (a list of character indices)."""
        return self.mlp(self.C(context))


def batch_loss(model, X, Y, indices):
    """Return the mean softmax cross-entropy of `model` on the samples `indices` (a Value).

    Raises ValueError when `indices` is empty.
    """
    indices = list(indices)
    if not indices:
        raise ValueError("batch_loss needs at least one sample index, got none")
    losses = [softmax_cross_entropy(model(X[i]), Y[i]) for i in indices]
    return sum(losses[1:], losses[0]) * (1.0 / len(losses))


def char_dataset(words=None, block_size=3):
    """Return (X, Y, vocab_size): the (context, next character) pairs of the data.

    By default the lecture's training split of makemore's names.txt (`data.lecture_split()`: 182,625
    contexts of 3, 27 characters); given `words` (e.g. `data.SHORT_NAMES` for a tiny run), every pair
    of those words. Raises ValueError as `data.build_char_dataset` does.
    """
    if words is None:
        _, itos, (X, Y), _, _ = lecture_split(block_size=block_size)
        return X, Y, len(itos)
    X, Y = build_char_dataset(words, block_size=block_size)
    _, itos = char_vocab(words)
    return X, Y, len(itos)
