"""Training the GPT lesson: one name per step, Adam with linear decay, and where its gradients die.

    from micrograd_it.gpt_train import encode_names, train
    stoi, itos, docs = encode_names(load_names())
    model = GPT(len(itos), seed=0)
    history = train(model, docs, steps=1000, seed=0)
    history[-1]   # {"step": 999, "loss": 2.3, "lr": 1e-05, "dead": [[3, 17]], "peaked_rows": 5, ...}

Each step is traced with `trace_values()` (the model's ReLU line gives one layer per block:
one row per position of the step's name, one column per MLP neuron) and records, as plain
numbers: the loss, the learning rate, the ReLU neurons dead on every position of the name (per
layer, their indices), and how many attention rows (softmax rows of two or more weights) have a
largest weight >= 0.99. The hyperparameters default to microgpt's: Adam with beta1 0.85,
beta2 0.99, eps 1e-8, lr 0.01 decaying linearly towards 0 over the run.
"""

import random

from .data import char_vocab
from .gpt import peaked_rows
from .optim import Adam
from .trace_values import trace_values

__all__ = ["encode_names", "train", "linear_decay", "sample_names", "ADAM"]

ADAM = {"lr": 0.01, "betas": (0.85, 0.99), "eps": 1e-8}  # microgpt's settings
PEAKED = 0.99  # a softmax row whose largest weight is at least this passes almost no gradient


def encode_names(names):
    """Return (stoi, itos, docs): '.' is token 0 (start and end of a name), docs the names as token lists.

    Raises ValueError as `data.char_vocab` does (an empty name, a '.' in one, not a list of str).
    """
    stoi, itos = char_vocab(names)
    return stoi, itos, [[stoi[ch] for ch in name] for name in names]


def linear_decay(lr, step, steps):
    """The learning rate of step `step` (0-based) of `steps`: lr * (1 - step / steps), from lr down to lr / steps."""
    return lr * (1.0 - step / steps)


def _check_steps(steps):
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"train steps must be a positive int, got {steps!r} ({type(steps).__name__})")
    return steps


def train(model, docs, steps, seed=0, adam=None, recorder=None, on_step=None):
    """Train `model` for `steps` steps, one name of `docs` per step; return the history (a list of dicts).

    The names are taken in an order shuffled by random.Random(seed), again from the start when
    they run out. Each step: forward inside trace_values(), backward, Adam with the step's
    learning rate (`linear_decay`). `adam`: Adam's keywords (default `ADAM`); `recorder`: a
    StatsRecorder that records each step's trace (for the figures of viz.plots_stats);
    `on_step(entry)` is called after each step. Each entry: step, loss, lr, positions,
    dead (per ReLU layer, the sorted indices of neurons dead on every position), n_neurons (per
    layer), peaked_rows and attention_rows (see `gpt.peaked_rows`). Raises ValueError for bad steps.
    """
    steps = _check_steps(steps)
    if not docs:
        raise ValueError("train needs at least one name in docs")
    order = list(docs)
    random.Random(seed).shuffle(order)
    settings = dict(ADAM, **(adam or {}))
    base_lr = settings.pop("lr")
    optimizer = Adam(model, lr=base_lr, **settings)
    history = []
    for step in range(steps):
        name = order[step % len(order)]
        attention = []
        with trace_values() as trace:
            loss = model.loss(name, attention=attention)
        optimizer.zero_grad()
        loss.backward()
        optimizer.lr = linear_decay(base_lr, step, steps)
        optimizer.step()
        if recorder is not None:
            recorder.record(trace, step=step)
        peaked, counted = peaked_rows(attention, PEAKED)
        relus = [layer for layer in trace.layers if layer.activation == "relu"]
        entry = {"step": step, "loss": loss.data, "lr": optimizer.lr, "positions": min(len(name) + 1, model.block_size),
                 "dead": [layer.dead() for layer in relus], "n_neurons": [layer.n_neurons for layer in relus],
                 "peaked_rows": peaked, "attention_rows": counted}
        history.append(entry)
        if on_step is not None:
            on_step(entry)
    return history


def sample_names(model, itos, count, seed=0, temperature=0.5):
    """Return `count` names (strings) sampled from `model` with random.Random(seed) at `temperature`."""
    rng = random.Random(seed)
    return ["".join(itos[token] for token in model.sample(rng, temperature)) for _ in range(count)]
