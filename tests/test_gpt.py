"""The GPT lesson: gradients against finite differences, the forward pass, dead ReLUs and peaked attention
against a numpy re-implementation (all positions at once, a causal mask), training that learns and repeats
itself bit for bit, and the model on another Value class."""

import math
import os
import random
import sys

import numpy as np
import pytest

from micrograd_it import Value, gradcheck, trace_values
from micrograd_it.data import load_names
from micrograd_it.gpt import GPT, peaked_rows
from micrograd_it.gpt_train import encode_names, linear_decay, sample_names, train

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))
import scalar_reference  # noqa: E402  the microgpt-style Value the benchmark runs the model on

NAMES = load_names()[:50]
STOI, ITOS, DOCS = encode_names(NAMES)
TINY = dict(n_embd=8, n_head=2, block_size=8)


def matrix(rows):
    return np.array([[v.data for v in row] for row in rows])


def numpy_forward(model, name):
    """(loss, attention rows in the model's order, ReLU pre-activations per layer: positions x neurons)."""
    tokens = [0] + name + [0]
    n = min(model.block_size, len(tokens) - 1)
    inputs, targets = tokens[:n], tokens[1:n + 1]

    def rms(a):
        return a / np.sqrt((a * a).mean(axis=1, keepdims=True) + 1e-5)

    x = rms(matrix(model.wte)[inputs] + matrix(model.wpe)[:n])
    head_size = model.n_embd // model.n_head
    weights, preacts = [], []  # weights[layer][head]: positions x positions, causal
    for layer in model.layers:
        h = rms(x)
        q, k, v = (h @ matrix(layer[name]).T for name in ("wq", "wk", "wv"))
        mixed, heads = np.zeros_like(q), []
        for start in range(0, model.n_embd, head_size):
            part = slice(start, start + head_size)
            scores = q[:, part] @ k[:, part].T / math.sqrt(head_size)
            scores[np.triu_indices(n, 1)] = -np.inf
            p = np.exp(scores - scores.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            mixed[:, part] = p @ v[:, part]
            heads.append(p)
        weights.append(heads)
        x = x + mixed @ matrix(layer["wo"]).T
        preact = rms(x) @ matrix(layer["fc1"]).T
        preacts.append(preact)
        x = x + np.maximum(preact, 0.0) @ matrix(layer["fc2"]).T
    logits = x @ matrix(model.lm_head).T
    top = logits.max(axis=1, keepdims=True)
    log_probs = logits - top - np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), targets].mean()
    rows = [list(weights[layer][head][pos, :pos + 1]) for pos in range(n)
            for layer in range(len(model.layers)) for head in range(model.n_head)]
    return loss, rows, preacts


def test_gradients_match_finite_differences_on_a_tiny_two_layer_model():
    model = GPT(vocab_size=5, n_embd=4, n_head=2, n_layer=2, block_size=4, init_std=0.5, seed=1)
    params = model.parameters()
    assert gradcheck(lambda *_: model.loss([1, 3, 4, 2, 2]), params)  # 6 tokens: the block of 4 cuts it


def test_the_forward_pass_matches_numpy():
    model = GPT(len(ITOS), n_layer=2, seed=5, **TINY)
    for name in DOCS[:5] + [[]]:
        loss, _, _ = numpy_forward(model, name)
        assert model.loss(name).data == pytest.approx(loss, rel=1e-12)


def test_dead_relus_and_peaked_attention_match_numpy():
    # init_std 1.0 spreads the pre-activations: some neurons dead and some attention rows peaked
    # (asserted, so that the comparison is not of empty sets)
    model = GPT(len(ITOS), init_std=1.0, seed=0, **TINY)
    name = DOCS[1]
    attention = []
    with trace_values() as trace:
        model.loss(name, attention=attention)
    _, rows, preacts = numpy_forward(model, name)
    assert len(attention) == len(rows)
    for ours, theirs in zip(attention, rows):
        assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-15)
    expected_dead = [j for j in range(preacts[0].shape[1]) if (preacts[0][:, j] <= 0).all()]
    (relu,) = trace.layers
    assert (relu.n_samples, relu.n_neurons) == preacts[0].shape  # a row per position, a column per neuron
    assert relu.dead() == expected_dead != []
    peaked = sum(1 for row in rows if len(row) > 1 and max(row) >= 0.99)
    assert peaked_rows(attention) == (peaked, sum(1 for row in rows if len(row) > 1))
    assert 0 < peaked


def test_peaked_rows_on_rows_written_by_hand():
    rows = [[1.0], [0.995, 0.005], [0.5, 0.5], [0.98, 0.01, 0.01], [0.0, 0.0, 1.0]]
    assert peaked_rows(rows) == (2, 4)       # the one-weight row is not counted
    assert peaked_rows(rows, threshold=0.5) == (4, 4)
    with pytest.raises(ValueError, match="threshold"):
        peaked_rows(rows, threshold=1.5)


def test_a_training_step_records_what_numpy_sees_before_the_update():
    model = GPT(len(ITOS), init_std=1.0, seed=0, **TINY)
    order = list(DOCS)
    random.Random(7).shuffle(order)  # the order train() takes the names in, for seed 7
    _, rows, preacts = numpy_forward(model, order[0])
    (entry,) = train(model, DOCS, steps=1, seed=7)
    assert entry["dead"] == [[j for j in range(preacts[0].shape[1]) if (preacts[0][:, j] <= 0).all()]] != [[]]
    assert entry["peaked_rows"] == sum(1 for row in rows if len(row) > 1 and max(row) >= 0.99)
    assert entry["positions"] == len(order[0]) + 1 and entry["lr"] == 0.01


def test_training_lowers_the_loss_on_the_names_it_sees():
    docs = DOCS[:8]
    model = GPT(len(ITOS), seed=0, **TINY)

    def mean_loss():
        return sum(model.loss(name).data for name in docs) / len(docs)

    before = mean_loss()
    train(model, docs, steps=40, seed=0)
    after = mean_loss()
    assert after < before - 0.5, (before, after)  # from about ln 27 = 3.3 (uniform) down


def test_the_same_seed_gives_the_same_run_bit_for_bit():
    runs = []
    for seed in (0, 0, 1):
        model = GPT(len(ITOS), seed=seed, **TINY)
        history = train(model, DOCS, steps=6, seed=seed)
        runs.append((history, [p.data for p in model.parameters()], sample_names(model, ITOS, 3, seed=seed)))
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0]


def test_linear_decay_goes_from_lr_to_lr_over_steps():
    assert [linear_decay(0.01, step, 4) for step in range(4)] == [0.01, 0.01 * 0.75, 0.01 * 0.5, 0.01 * 0.25]


def test_the_model_runs_on_a_microgpt_style_value_with_the_same_loss():
    ours = GPT(len(ITOS), seed=2, **TINY)
    theirs = GPT(len(ITOS), seed=2, value=scalar_reference.Value, **TINY)
    for name in DOCS[:3]:
        mine, reference = ours.loss(name), theirs.loss(name)
        assert mine.data == pytest.approx(reference.data, rel=1e-13)  # '/' and '**' round differently
        mine.backward()
        reference.backward()
    grads = [p.grad for p in ours.parameters()]
    assert grads == pytest.approx([p.grad for p in theirs.parameters()], rel=1e-9, abs=1e-12)


def test_samples_are_names_from_the_vocabulary():
    model = GPT(len(ITOS), seed=0, **TINY)
    names = sample_names(model, ITOS, 5, seed=0, temperature=0.5)
    assert len(names) == 5 and all(set(name) <= set(ITOS[1:]) and len(name) <= 8 for name in names)


@pytest.mark.parametrize("kwargs, message", [
    ({"n_embd": 6, "n_head": 4}, "multiple of n_head"), ({"n_layer": 0}, "n_layer"),
    ({"init_std": -1.0}, "init_std"), ({"block_size": 2.5}, "block_size"),
])
def test_bad_sizes_are_refused_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GPT(27, **kwargs)


def test_bad_names_and_temperatures_are_refused():
    model = GPT(5, **TINY)
    with pytest.raises(ValueError, match="from 0 to 4"):
        model.loss([1, 5])
    with pytest.raises(TypeError, match="list of token ids"):
        model.loss("emma")
    with pytest.raises(ValueError, match="temperature"):
        model.sample(random.Random(0), temperature=0)
    with pytest.raises(ValueError, match="steps"):
        train(model, [[1]], steps=0)


def test_parameter_names_and_count_follow_the_shapes():
    model = GPT(27)  # microgpt's sizes: 27 x 16 + 16 x 16 + 4 x 16 x 16 + 2 x 64 x 16 + 27 x 16
    named = model.named_parameters()
    assert len(named) == 27 * 16 + 16 * 16 + 4 * 16 * 16 + 2 * 64 * 16 + 27 * 16 == 4192
    assert named[0][0] == "wte.0.0" and named[-1][0] == "lm_head.26.15"
    assert len({id(v) for _, v in named}) == len(named) and all(isinstance(v, Value) for _, v in named)
