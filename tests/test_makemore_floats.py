"""batch_step against the object engine: the same loss, gradients and hidden-layer trace, bit for bit.

The reference is the engine itself (trace + batch_loss + backward on Values);
numbers are compared by float.hex(), so even a 1-ulp difference or the sign
of a zero fails.
"""

import pytest
from hypothesis import given, settings, strategies as st

from micrograd_it import detect_anomaly
from micrograd_it.makemore import CharMLP, batch_loss, char_dataset
from micrograd_it.makemore_floats import batch_step
from micrograd_it.optim import SGD

X, Y, VOCAB = char_dataset(block_size=3)


def _engine_step(model, X, Y, indices):
    with model.trace() as trace:
        loss = batch_loss(model, X, Y, indices)
    loss.backward()
    return loss.data, trace


def _hexes(model):
    return [(name, value.data.hex(), value.grad.hex()) for name, value in model.named_parameters()]


def _assert_same(engine_result, floats_result):
    (loss_a, trace_a), (loss_b, trace_b) = engine_result, floats_result
    assert loss_a.hex() == loss_b.hex()
    assert len(trace_a.layers) == len(trace_b.layers) == 2
    for layer_a, layer_b in zip(trace_a.layers, trace_b.layers):
        assert (layer_a.name, layer_a.activation, layer_a.n_samples, layer_a.n_neurons) == \
               (layer_b.name, layer_b.activation, layer_b.n_samples, layer_b.n_neurons)
        for attribute in ("preact", "act", "grad_out", "grad_in"):
            rows_a, rows_b = getattr(layer_a, attribute), getattr(layer_b, attribute)
            assert [[x.hex() for x in row] for row in rows_a] == [[x.hex() for x in row] for row in rows_b], attribute
        assert layer_a.dead() == layer_b.dead() and layer_a.saturation() == layer_b.saturation()
        assert layer_a.summary() == layer_b.summary()


def _twins(block_size, emb_dim, hidden, init, seed):
    X, Y, vocab = char_dataset(block_size=block_size)
    return X, Y, [CharMLP(vocab, block_size, emb_dim, hidden, init, seed) for _ in range(2)]


@settings(max_examples=12, deadline=None)
@given(block_size=st.integers(1, 3), emb_dim=st.integers(1, 4), hidden=st.integers(1, 6),
       init=st.sampled_from(["scaled", 1.0, 3.0]), lr=st.sampled_from([0.1, 5.0, 20.0]),
       seed=st.integers(0, 10_000), data=st.data())
def test_training_on_floats_equals_training_with_the_engine_bit_for_bit(block_size, emb_dim, hidden, init, lr,
                                                                        seed, data):
    X, Y, (by_engine, by_floats) = _twins(block_size, emb_dim, hidden, init, seed)
    optimizers = [SGD(model.named_parameters(), lr) for model in (by_engine, by_floats)]
    for _ in range(4):  # several steps at a large learning rate: a 1-ulp difference would grow
        # repeated samples and repeated characters in a context share rows of C: their terms add up in order
        indices = data.draw(st.lists(st.integers(0, len(X) - 1), min_size=1, max_size=6))
        for optimizer in optimizers:
            optimizer.zero_grad()
        _assert_same(_engine_step(by_engine, X, Y, indices), batch_step(by_floats, X, Y, indices))
        assert _hexes(by_engine) == _hexes(by_floats)
        for optimizer in optimizers:
            optimizer.step()
    assert _hexes(by_engine) == _hexes(by_floats)


def test_the_studys_too_high_learning_rate_is_reproduced_over_all_its_steps():
    from micrograd_it_app.study import StudyOptions, draw_samples

    options = StudyOptions()
    samples = draw_samples(X, Y, VOCAB, options)
    models = [CharMLP(VOCAB, options.block_size, options.emb_dim, options.hidden, "scaled", 0) for _ in range(2)]
    optimizers = [SGD(model.named_parameters(), options.high_lr) for model in models]
    for indices in samples.batches:
        for optimizer in optimizers:
            optimizer.zero_grad()
        _assert_same(_engine_step(models[0], X, Y, indices), batch_step(models[1], X, Y, indices))
        for optimizer in optimizers:
            optimizer.step()
    assert _hexes(models[0]) == _hexes(models[1])


def test_the_seeds_full_size_one_pass_is_reproduced():
    # the study's one-pass figures: 32 samples x 200 hidden neurons at the bad init
    models = [CharMLP(VOCAB, 3, 10, 200, 1.0, 0) for _ in range(2)]
    indices = list(range(0, 3200, 100))
    _assert_same(_engine_step(models[0], X, Y, indices), batch_step(models[1], X, Y, indices))
    assert _hexes(models[0]) == _hexes(models[1])


def test_gradients_accumulate_like_backward_without_zero_grad():
    X, Y, (by_engine, by_floats) = _twins(3, 2, 4, "scaled", 7)
    for indices in ([0, 5, 5], [9, 1]):
        _engine_step(by_engine, X, Y, indices)
        batch_step(by_floats, X, Y, indices)
    assert _hexes(by_engine) == _hexes(by_floats)


def test_an_overflow_raises_the_engines_error_and_leaves_the_gradients_alone():
    X, Y, (by_engine, by_floats) = _twins(3, 2, 3, "scaled", 1)
    for model in (by_engine, by_floats):
        model.mlp.layers[0].neurons[0].w[0].data = 1e300  # w * x overflows in the first neuron
        for row in model.C.C:
            row[0].data = 1e300
    with pytest.raises(OverflowError) as engine_error:
        _engine_step(by_engine, X, Y, [4, 2])
    before = _hexes(by_floats)
    with pytest.raises(OverflowError) as floats_error:
        batch_step(by_floats, X, Y, [4, 2])
    assert str(floats_error.value) == str(engine_error.value)
    assert _hexes(by_floats) == before


def test_anomaly_mode_and_an_empty_batch_behave_as_the_engine():
    X, Y, (by_engine, by_floats) = _twins(3, 2, 3, "scaled", 2)
    with detect_anomaly():
        _assert_same(_engine_step(by_engine, X, Y, [1, 2]), batch_step(by_floats, X, Y, [1, 2]))
    with pytest.raises(ValueError, match="at least one sample"):
        batch_step(by_floats, X, Y, [])
