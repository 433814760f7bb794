"""Per-neuron tracing: numbers against hand recomputation, no effect on values or gradients,
saturation and dead-neuron detection on constructed cases, and the context-manager rules."""

import math
from contextlib import nullcontext

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from micrograd_it import Value, no_grad
from micrograd_it.losses import mse
from micrograd_it.nn import ACTIVATIONS, MLP, Layer, Module
from micrograd_it.trace import is_saturated

X = [[0.5, -1.0], [1.5, 0.25], [-0.7, 0.9], [0.0, 2.0]]
Y = [1.0, -1.0, 0.5, 0.0]


def run(net, traced):
    """Forward + mse + backward, traced or not; return (trace or None, outputs, grads)."""
    net.zero_grad()
    with net.trace() if traced else nullcontext() as tr:
        preds = [net(x) for x in X]
        mse(preds, Y).backward()
    return tr, [p.data for p in preds], [p.grad for p in net.parameters()]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "leaky_relu", "elu", "gelu"])
def test_tracing_changes_no_value_and_no_gradient(activation):
    net = MLP(2, [5, 4, 1], activation=activation, init="scaled", seed=7)
    _, outs_plain, grads_plain = run(net, traced=False)
    _, outs_traced, grads_traced = run(net, traced=True)
    assert outs_traced == outs_plain  # bit for bit
    assert grads_traced == grads_plain


@settings(max_examples=25)
@given(
    activation=st.sampled_from(["tanh", "relu", "sigmoid", "leaky_relu", "elu", "gelu", "linear"]),
    widths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    seed=st.integers(0, 2**32 - 1),
    init=st.sampled_from(["uniform", "scaled", 3.0]),
)
def test_property_tracing_is_invisible_to_values_and_gradients(activation, widths, seed, init):
    net = MLP(2, widths, activation=activation, init=init, seed=seed)
    _, outs_plain, grads_plain = run_any(net, traced=False)
    tr, outs_traced, grads_traced = run_any(net, traced=True)
    assert outs_traced == outs_plain and grads_traced == grads_plain
    assert [lt.n_samples for lt in tr.layers] == [len(X)] * len(widths)


def run_any(net, traced):
    """Like run(), for any output width: loss = sum of squares of every output."""
    net.zero_grad()
    with net.trace() if traced else nullcontext() as tr:
        outs = [net(x) for x in X]
        flat = [o for out in outs for o in (out if isinstance(out, list) else [out])]
        total = flat[0] * flat[0]
        for o in flat[1:]:
            total = total + o * o
        total.backward()
    return tr, [o.data for o in flat], [p.grad for p in net.parameters()]


def test_trace_numbers_match_a_hand_recomputation_from_the_weights():
    net = MLP(2, [3, 2, 1], activation="tanh", init="scaled", seed=3)
    tr, _, _ = run(net, traced=True)
    assert [lt.name for lt in tr.layers] == ["layers.0", "layers.1", "layers.2"]
    assert [lt.activation for lt in tr.layers] == ["tanh", "tanh", "linear"]
    inputs = [list(x) for x in X]
    for layer, lt in zip(net.layers, tr.layers):
        preact = [[n.b.data + sum(w.data * v for w, v in zip(n.w, row)) for n in layer.neurons] for row in inputs]
        act = preact if layer.activation == "linear" else [[math.tanh(p) for p in row] for row in preact]
        assert (lt.n_samples, lt.n_neurons) == (len(X), layer.nout)
        np.testing.assert_allclose(lt.preact, preact, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(lt.act, act, rtol=1e-12, atol=1e-12)
        inputs = act


def test_trace_gradients_match_the_chain_rule_by_hand():
    net = MLP(2, [3, 2, 1], activation="tanh", init="scaled", seed=3)
    tr, outs, _ = run(net, traced=True)
    # loss = mean (out - y)^2, so d loss / d out = 2 (out - y) / n
    d_out = [2.0 * (o - y) / len(X) for o, y in zip(outs, Y)]
    last = tr.layers[2]
    np.testing.assert_allclose(last.grad_out, [[g] for g in d_out], rtol=1e-12)
    assert last.grad_in == last.grad_out and last.preact_nodes == last.act_nodes  # linear: same nodes
    # one layer back: d loss / d act_j = sum_k w_kj * grad_in_k, and for tanh grad_in = (1 - act^2) grad_out
    for lt, next_layer, next_lt in ((tr.layers[1], net.layers[2], tr.layers[2]),
                                    (tr.layers[0], net.layers[1], tr.layers[1])):
        for s in range(len(X)):
            for j in range(lt.n_neurons):
                expected_out = sum(n.w[j].data * next_lt.grad_in[s][k] for k, n in enumerate(next_layer.neurons))
                assert lt.grad_out[s][j] == pytest.approx(expected_out, rel=1e-12, abs=1e-15)
                act = lt.act[s][j]
                assert lt.grad_in[s][j] == pytest.approx((1 - act**2) * expected_out, rel=1e-12, abs=1e-15)


def one_neuron_layer(activation, weight, bias):
    layer = Layer(1, 1, activation=activation, seed=0)
    layer.neurons[0].w[0].data = weight
    layer.neurons[0].b.data = bias
    return layer


class Wrap(Module):
    def __init__(self, layer):
        self.layer = layer

    def __call__(self, x):
        return self.layer(x)


def trace_layer(layer, inputs):
    net = Wrap(layer)
    with net.trace() as tr:
        for x in inputs:
            net([x])
    return tr.layers[0]


INPUTS = [-2.0, -0.5, 0.0, 0.5, 2.0]


@pytest.mark.parametrize(
    "activation, weight, bias, dead",
    [
        ("tanh", 1.0, 50.0, True),       # tanh(48..52) = 1.0: saturated everywhere
        ("tanh", 0.0, 0.0, False),       # weights 0: act 0, gradient passes fully
        ("tanh", 1.0, 0.0, False),
        ("sigmoid", 1.0, 50.0, True),
        ("sigmoid", 1.0, -50.0, True),
        ("sigmoid", 0.0, 0.0, False),
        ("relu", 1.0, -3.0, True),       # preact in [-5, -1]: zero on every sample
        ("relu", 0.0, 0.0, True),        # preact exactly 0: relu passes no gradient (derivative taken as 0)
        ("relu", 1.0, 0.0, False),
        ("leaky_relu", 1.0, -50.0, False),  # the leak always passes 1% of the gradient
        ("elu", 1.0, -50.0, True),       # e^-48 < 0.01
        ("elu", 1.0, -3.0, False),       # e^-1 > 0.01 on the sample x = 2
        ("gelu", 1.0, -50.0, True),
        ("gelu", 1.0, 50.0, False),
        ("linear", 1.0, 50.0, False),
    ],
)
def test_dead_neuron_detection_on_constructed_cases(activation, weight, bias, dead):
    lt = trace_layer(one_neuron_layer(activation, weight, bias), INPUTS)
    assert lt.dead(0.99) == ([0] if dead else [])


def test_saturation_counts_the_fraction_of_saturated_samples():
    # tanh(10 x) on -2, -0.5, 0, 0.5, 2: |tanh| > 0.99 when |10 x| > 2.65, i.e. on 4 of the 5 samples
    lt = trace_layer(one_neuron_layer("tanh", 10.0, 0.0), INPUTS)
    expected = [abs(math.tanh(10 * x)) > 0.99 for x in INPUTS]
    assert lt.saturated(0.99) == [[flag] for flag in expected]
    assert lt.saturation(0.99) == [sum(expected) / len(INPUTS)] == [0.8]
    assert lt.dead(0.99) == []


def test_is_saturated_thresholds_per_activation():
    assert is_saturated("tanh", 3.0, math.tanh(3.0), 0.99)          # tanh(3) = 0.99505
    assert not is_saturated("tanh", 2.0, math.tanh(2.0), 0.99)      # tanh(2) = 0.964
    assert is_saturated("elu", -4.7, math.expm1(-4.7), 0.99)        # e^-4.7 = 0.0091 < 0.01
    assert not is_saturated("elu", -4.5, math.expm1(-4.5), 0.99)    # e^-4.5 = 0.0111
    assert not is_saturated("leaky_relu", -1.0, -0.01, 0.995)       # slope 0.01 > 1 - 0.995
    assert is_saturated("leaky_relu", -1.0, -0.01, 0.98)            # slope 0.01 < 1 - 0.98
    with pytest.raises(ValueError, match="swish"):
        is_saturated("swish", 0.0, 0.0)


def test_summary_matches_numpy():
    net = MLP(2, [6, 1], activation="tanh", init=3.0, seed=0)
    tr, _, _ = run(net, traced=True)
    row = tr.summary()[0]
    act, grad_in = np.array(tr.layers[0].act), np.array(tr.layers[0].grad_in)
    assert row["name"] == "layers.0" and row["n_samples"] == 4 and row["n_neurons"] == 6
    assert row["act_mean"] == pytest.approx(act.mean()) and row["act_std"] == pytest.approx(act.std())
    assert row["grad_in_mean"] == pytest.approx(grad_in.mean()) and row["grad_in_std"] == pytest.approx(grad_in.std())
    assert row["saturated_pct"] == pytest.approx(100 * (np.abs(act) > 0.99).mean())
    assert row["dead"] == int(np.all(np.abs(act) > 0.99, axis=0).sum())
    text = str(tr)
    assert "layers.0" in text and "layers.1" in text and "dead" in text


def test_empty_trace_has_no_samples_and_a_summary():
    net = MLP(2, [3, 1], seed=0)
    with net.trace() as tr:
        pass
    assert tr.layers[0].n_samples == 0 and tr.layers[0].dead() == [] and tr.layers[0].saturation() == [0.0] * 3
    assert tr.summary()[0]["act_mean"] is None
    assert "layers.0" in str(tr)


def test_trace_stops_recording_on_exit_even_on_error():
    net = MLP(2, [3, 1], seed=0)
    with pytest.raises(ZeroDivisionError):
        with net.trace() as tr:
            net([1.0, 2.0])
            1 / 0
    net([1.0, 2.0])
    assert tr.layers[0].n_samples == 1
    assert all(layer._recorder is None for layer in net.layers)


def test_nested_traces_and_reentry_raise_and_restore():
    net = MLP(2, [3, 1], seed=0)
    with net.trace() as outer:
        with pytest.raises(RuntimeError, match="nested"):
            with net.trace():
                pass
        net([1.0, 2.0])  # the outer trace still records
    assert outer.layers[0].n_samples == 1
    with pytest.raises(RuntimeError, match="already used"):
        with outer:
            pass
    assert all(layer._recorder is None for layer in net.layers)


def test_trace_works_under_no_grad_for_evaluation():
    net = MLP(2, [3, 1], init="scaled", seed=0)
    with no_grad(), net.trace() as tr:
        out = net([0.3, 0.4])
    assert out.is_leaf
    assert tr.layers[1].act == [[out.data]]
    assert tr.layers[0].act == [[math.tanh(p) for p in tr.layers[0].preact[0]]]


def test_trace_of_a_composite_module_names_layers_by_path():
    class Two(Module):
        def __init__(self):
            self.body = MLP(2, [3, 1], seed=0)
            self.head = Layer(1, 2, activation="relu", seed=1)

    names = [lt.name for lt in Two().trace().layers]
    assert names == ["body.layers.0", "body.layers.1", "head"]


def test_traced_value_objects_are_the_graph_nodes():
    net = MLP(2, [2, 1], seed=0)
    with net.trace() as tr:
        out = net([Value(1.0), Value(-1.0)])
    act_node = tr.layers[0].act_nodes[0][0]
    assert act_node.op == "tanh" and act_node.children == (tr.layers[0].preact_nodes[0][0],)
    assert out.op == "+"


def hidden_layer_stats(net, X):
    with net.trace() as tr:
        for x in X:
            net(x)
    return [(lt.summary()["saturated_pct"], len(lt.dead())) for lt in tr.layers[:-1]]


def test_the_seed_experiment_of_the_readme_holds_qualitatively():
    from micrograd_it.data import make_moons

    X, _ = make_moons(n=100, noise=0.1, seed=0)
    # wide init: most second-layer activations at +-1, yet zero-mean weights leave no column dead
    (_, _), (wide_pct, wide_dead) = hidden_layer_stats(MLP(2, [32, 32, 1], init=2.0, seed=0), X)
    assert wide_pct > 50 and wide_dead == 0
    # scaled init: a few percent
    (_, _), (scaled_pct, _) = hidden_layer_stats(MLP(2, [32, 32, 1], init="scaled", seed=0), X)
    assert scaled_pct < 10
    # a bias shifts every pre-activation the same way: whole columns saturate
    (_, _), (_, biased_dead) = hidden_layer_stats(MLP(2, [32, 32, 1], init="scaled", seed=0, bias_init=3.0), X)
    assert biased_dead > 0


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_trace_numbers_are_the_same_inside_and_outside_no_grad(activation):
    # The saturation rule reads the op's local derivative from the catalogue, never a backward()
    # that no_grad would switch off (gelu's numbers, read inside no_grad, were 100% saturated before).
    net = MLP(2, [8, 8, 1], activation=activation, init="scaled", seed=5)
    X = [[0.3 * i - 2.0, 1.5 - 0.2 * i] for i in range(12)]

    def numbers(tr):
        return [(lt.preact, lt.act, [(lt.saturated(t), lt.dead(t), lt.summary(t)) for t in (0.9, 0.99)])
                for lt in tr.layers]
    with net.trace() as outside:
        [net(x) for x in X]
    with no_grad():
        with net.trace() as inside:
            [net(x) for x in X]
        read_inside = numbers(inside)
    assert read_inside == numbers(outside) == numbers(inside)


def test_an_interrupt_at_any_line_of_a_traced_block_leaves_no_layer_recording():
    # Ctrl-C in net.trace()'s __enter__ or __exit__ used to leave layers recording, and the next
    # net.trace() refused them as "already being traced"
    import micrograd_it.trace as trace_module
    from tests.interrupts import interrupted_at_line

    net = MLP(2, [3, 1], seed=0)

    def traced():
        with net.trace():
            net([0.5, -1.0])

    lines = interrupted_at_line(traced, trace_module, 0)
    assert lines > 10
    for k in range(1, lines + 1):
        interrupted_at_line(traced, trace_module, k)
        with net.trace() as tr:  # usable again: it records this block and nothing else
            net([0.5, -1.0])
        assert [layer.n_samples for layer in tr.layers] == [1, 1], f"line {k}"
        assert all(layer._recorder is None for layer in net.layers), f"line {k}"


def test_an_open_trace_still_refuses_a_nested_one_and_a_suspended_generators_block_stays_open():
    net = MLP(2, [3, 1], seed=0)
    with net.trace():
        with pytest.raises(RuntimeError, match="already being traced"):
            with net.trace():
                pass

    def steps():
        with net.trace() as tr:
            yield net([0.5, -1.0])
            yield tr

    running = steps()
    next(running)  # suspended inside its block: the block is open, its frame on no stack
    with pytest.raises(RuntimeError, match="already being traced"):
        with net.trace():
            pass
    assert next(running).layers[0].n_samples == 1
    running.close()
    with net.trace() as tr:
        net([0.5, -1.0])
    assert tr.layers[0].n_samples == 1
