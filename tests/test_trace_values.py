"""trace_values(): any Value code traced into layers; against net.trace() on the same MLP, on
microgpt-shaped code against its own record of the pre-activations, bit for bit without effect,
per thread, and the grouping rule's honest cases (ragged rows, nesting, errors)."""

import inspect
import math
import struct
import threading

import pytest

from micrograd_it import Value, engine, trace_values
from micrograd_it.nn import MLP
from micrograd_it.trace import is_saturated
from tests import lecture_code
from tests.lecture_code import LectureMLP, gpt_parameters, tiny_gpt_loss

X = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0], [-2.0, 0.5, 1.5]]
Y = [1.0, -1.0, -1.0, 1.0, 0.5]
TOKENS = [0, 3, 1, 4, 2, 5, 1]


def bits(number):
    return struct.pack("<d", number)


def loss_of(net):
    return sum((net(x) - y) ** 2 for x, y in zip(X, Y))


def our_net():
    # tanh on every layer, the last included, as the lecture's MLP applies it
    return MLP(3, [4, 4, 1], activation="tanh", last_activation="tanh", seed=0)


def test_a_hand_written_lecture_mlp_gives_the_layers_of_net_trace_on_the_same_mlp():
    net = our_net()
    lecture = LectureMLP(net, Value)
    with net.trace() as expected:
        loss = loss_of(net)
    loss.backward()
    with trace_values() as traced:
        lecture_loss = loss_of(lecture)
    lecture_loss.backward()
    assert bits(lecture_loss.data) == bits(loss.data)
    assert len(traced.layers) == len(expected.layers) == 3
    for got, want in zip(traced.layers, expected.layers):
        assert (got.activation, got.n_samples, got.n_neurons) == (want.activation, len(X), len(want.act[0]))
        for what in ("preact", "act", "grad_out", "grad_in", "saturated", "saturation", "dead"):
            mine, theirs = getattr(got, what), getattr(want, what)
            assert (mine() if callable(mine) else mine) == (theirs() if callable(theirs) else theirs), what
        assert {k: v for k, v in got.summary().items() if k != "name"} == \
               {k: v for k, v in want.summary().items() if k != "name"}
    line = inspect.getsourcelines(lecture_code.Neuron.__call__)[1] + 2  # the line of act.tanh()
    assert [layer.name for layer in traced.layers] == [
        f"lecture_code.py:{line} __call__() tanh #{depth}" for depth in (1, 2, 3)]


def test_our_own_mlp_inside_both_traces_gives_the_same_value_objects():
    net = our_net()
    with net.trace() as expected, trace_values() as traced:
        loss_of(net).backward()
    assert len(traced.layers) == 3
    for got, want in zip(traced.layers, expected.layers):
        assert all(a is b for row, other in zip(got.act_nodes, want.act_nodes) for a, b in zip(row, other))
        assert all(a is b for row, other in zip(got.preact_nodes, want.preact_nodes) for a, b in zip(row, other))


def relu_line():
    source, first = inspect.getsourcelines(lecture_code.position)
    return first + next(i for i, text in enumerate(source) if "RELU LINE" in text)


def test_microgpt_shaped_code_one_row_per_token_position_one_column_per_neuron():
    params = gpt_parameters(Value, dead=(3, 11))
    seen = []
    with trace_values() as tr:
        loss = tiny_gpt_loss(TOKENS, params, seen)
    loss.backward()
    [layer] = tr.layers
    assert layer.name == f"lecture_code.py:{relu_line()} position() relu"  # the function around the list comprehension
    assert (layer.activation, layer.n_samples, layer.n_neurons) == ("relu", len(TOKENS) - 1, 16)
    # the code's own record of the pre-activations, position by position
    assert layer.preact == [[h.data for h in row] for row in seen]
    assert layer.act == [[max(0.0, h.data) for h in row] for row in seen]
    # d loss / d preact: relu passes grad_out where preact > 0, nothing elsewhere
    assert layer.grad_in == [[g if h.data > 0.0 else 0.0 for h, g in zip(row, grads)]
                             for row, grads in zip(seen, layer.grad_out)]
    never_fired = [j for j in range(16) if all(row[j].data <= 0.0 for row in seen)]
    assert layer.dead() == never_fired and {3, 11} <= set(never_fired)
    html = layer._repr_html_()  # the notebook display: its summary row and its saturation map
    assert "position() relu" in html and f"{len(never_fired)} dead" in html and "<img" in html


def run_gpt(traced):
    params = gpt_parameters(Value)
    if traced:
        with trace_values():
            loss = tiny_gpt_loss(TOKENS, params, [])
    else:
        loss = tiny_gpt_loss(TOKENS, params, [])
    loss.backward()
    return [bits(loss.data)] + [bits(p.grad) for matrix in params.values() for row in matrix for p in row]


def test_tracing_changes_no_value_and_no_gradient_bit_for_bit():
    assert run_gpt(traced=True) == run_gpt(traced=False)


def test_ragged_rows_become_layers_of_their_own_never_a_padded_matrix():
    values = [Value(x) for x in (0.5, -1.0, 2.0, -0.25)]

    def row(count):
        return [v.relu() for v in values[:count]]
    with trace_values() as tr:
        for count in (4, 4, 2, 4):
            row(count)
    assert [(layer.name.endswith("(4 calls per row)"), layer.n_samples, layer.n_neurons) for layer in tr.layers] == \
           [(True, 3, 4), (False, 1, 2)]
    assert tr.layers[1].name.endswith("(2 calls per row)")
    assert tr.layers[1].act == [[0.5, 0.0]]


def test_a_function_making_one_call_in_a_loop_gives_one_row_of_the_loops_calls():
    # The documented limit: one call per execution of `one` looks like one neuron per sample or one
    # sample of several neurons; the rule takes the loop's frame, which holds both calls, as the row.
    x = Value(0.3)

    def one(v):
        return v.tanh()
    with trace_values() as tr:
        one(x)
        one(x)
    [layer] = tr.layers
    assert (layer.n_samples, layer.n_neurons) == (1, 2)
    with trace_values() as single:
        one(x)
    assert (single.layers[0].n_samples, single.layers[0].n_neurons) == (1, 1)


def test_a_call_at_two_lines_and_two_ops_gives_two_layers_in_call_order():
    x = Value(0.3)

    def gate(v):
        return [v.sigmoid() * v.tanh() for _ in range(3)]
    with trace_values() as tr:
        gate(x)
        gate(x)
    assert [(layer.activation, layer.n_samples, layer.n_neurons) for layer in tr.layers] == \
           [("sigmoid", 2, 3), ("tanh", 2, 3)]


def test_only_the_thread_that_opened_the_block_is_traced():
    started, done = threading.Event(), threading.Event()
    others = []

    def other_thread():
        started.wait(5)
        others.append([Value(0.5).relu() for _ in range(7)])
        with trace_values() as own:
            [Value(-1.0).tanh() for _ in range(2)]
        others.append(own)
        done.set()
    thread = threading.Thread(target=other_thread)
    thread.start()
    with trace_values() as tr:
        started.set()
        done.wait(5)  # the other thread ran all its ops while this block was open
        [Value(1.0).relu() for _ in range(3)]
    thread.join(5)
    assert [(layer.activation, layer.n_neurons) for layer in tr.layers] == [("relu", 3)]
    assert [(layer.activation, layer.n_neurons) for layer in others[1].layers] == [("tanh", 2)]


def test_nesting_and_reuse_are_refused_and_an_error_leaves_tracing_off():
    with trace_values():
        with pytest.raises(RuntimeError, match="cannot be nested"):
            with trace_values():
                pass
    tr = trace_values()
    with pytest.raises(ZeroDivisionError):
        with tr:
            Value(0.5).relu()
            1 / 0
    assert not engine._tracing.anywhere
    assert [layer.n_neurons for layer in tr.layers] == [1]  # what ran before the error
    with pytest.raises(RuntimeError, match="already used"):
        with tr:
            pass


def test_a_constant_other_than_the_default_is_judged_by_its_own_derivative():
    xs = [Value(-3.0), Value(2.0)]
    with trace_values() as tr:
        [x.leaky_relu(0.5) for x in xs]
    [layer] = tr.layers
    assert layer.name.endswith("leaky_relu(0.5)") and layer.params == (0.5,)
    # slope 0.5 passes half the gradient: saturated only where 1 - threshold > 0.5
    assert layer.saturated(0.99) == [[False, False]] and layer.saturated(0.6) == [[False, False]]
    assert layer.saturated(0.4) == [[True, False]]
    assert is_saturated("leaky_relu", -3.0, -1.5, 0.6)  # the default slope's rule (0.01) would say saturated


def test_the_summary_table_names_each_layer_in_full():
    net = our_net()
    with trace_values() as tr:
        loss_of(LectureMLP(net, Value)).backward()
    text = str(tr)
    assert all(layer.name in text for layer in tr.layers)
    assert not math.isnan(tr.summary()[0]["act_mean"])


def test_an_interrupt_while_entering_leaves_tracing_as_it_was(monkeypatch):
    import sys

    module = sys.modules["micrograd_it.trace_values"]  # the package's attribute of that name is the class

    class Interrupted:
        def get(self):
            return None

        def set(self, value):
            raise KeyboardInterrupt

    real = module._current
    monkeypatch.setattr(module, "_current", Interrupted())
    tr = trace_values()
    with pytest.raises(KeyboardInterrupt):
        with tr:
            pass
    assert not engine._tracing.anywhere  # the hook is off again: no block is open
    monkeypatch.setattr(module, "_current", real)
    with tr:  # it was never entered, so it can be now
        Value(1.0).relu()
    assert [layer.n_neurons for layer in tr.layers] == [1]


class Hand:
    """A learner's own activations, written microgpt's way: the value and the local derivative, by hand."""

    @staticmethod
    def tanh(x):
        t = math.tanh(x.data)
        return Value(t, (x,), (1 - t**2,))

    @staticmethod
    def relu(x):  # microgpt's relu
        return Value(max(0, x.data), (x,), (float(x.data > 0),))


class NotWhatTheySay:
    """Hand-made ops the catalogue cannot vouch for: a leaky ReLU named relu, and silu (no such activation)."""

    @staticmethod
    def relu(x):
        return Value(x.data if x.data > 0 else 0.1 * x.data, (x,), (1.0 if x.data > 0 else 0.1,))

    @staticmethod
    def silu(x):
        s = 1.0 / (1.0 + math.exp(-x.data))
        return Value(x.data * s, (x,), (s + x.data * s * (1.0 - s),))


def _mlp_layers(tanh, relu):
    """A two-layer MLP applying `tanh` then `relu` (functions), traced on three samples; its layers."""
    W1 = [[Value(0.7), Value(-1.3)], [Value(2.5), Value(0.4)], [Value(-0.2), Value(0.9)]]
    W2 = [[Value(1.1), Value(-0.6), Value(0.3)], [Value(-2.0), Value(0.5), Value(1.7)]]

    def forward(x):
        h = [tanh(sum((w * xi for w, xi in zip(row, x)), Value(0.0))) for row in W1]
        return [relu(sum((w * hi for w, hi in zip(row, h)), Value(0.0))) for row in W2]

    with trace_values() as tr:
        loss = sum(sum(forward(x)) for x in [[0.5, -1.0], [3.0, 2.25], [-0.7, 0.9]])
    loss.backward()
    return tr.layers


def test_a_hand_made_activation_is_traced_as_the_catalogues_when_its_numbers_are_that_activations():
    # a learner's own tanh and relu written microgpt's way, against our methods on the same code
    hand, ours = _mlp_layers(Hand.tanh, Hand.relu), _mlp_layers(Value.tanh, Value.relu)
    assert [layer.name.split(" ", 1)[1] for layer in hand] == ["forward() tanh", "forward() relu"]
    assert [layer.name for layer in hand] == [layer.name for layer in ours]  # the line that called tanh()
    for got, want in zip(hand, ours):
        assert (got.activation, got.n_samples, got.n_neurons) == (want.activation, 3, want.n_neurons)
        for what in ("preact", "act", "grad_out", "grad_in", "saturated", "dead"):
            mine, theirs = getattr(got, what), getattr(want, what)
            assert (mine() if callable(mine) else mine) == (theirs() if callable(theirs) else theirs), what
    assert any(flag for row in hand[0].saturated() for flag in row)  # the case is not empty: 3.0, 2.25 saturate
    assert hand[1].dead() == ours[1].dead()


def test_a_hand_made_node_that_is_not_the_activation_it_is_named_after_is_not_traced():
    with trace_values() as tr:
        outs = [NotWhatTheySay.relu(Value(-0.5)), NotWhatTheySay.silu(Value(0.5)), Hand.relu(Value(0.5))]
        Value(0.5).relu()
    assert [out._op for out in outs] == ["relu", "silu", "relu"] and {out.op for out in outs} == {"custom"}
    # only microgpt's relu (really relu) and our method: one layer each, of one call
    assert [(layer.activation, layer.n_samples * layer.n_neurons) for layer in tr.layers] == [("relu", 1), ("relu", 1)]

def test_an_interrupt_at_any_line_of_a_block_leaves_the_next_block_tracing_only_its_own_calls():
    # a Ctrl-C as __exit__ began used to leave the block open for good: the next one was refused as nested
    import sys

    from tests.interrupts import interrupted_at_line

    module = sys.modules["micrograd_it.trace_values"]  # the package's attribute of that name is the class

    def traced():
        with trace_values():
            Value(0.5).relu()

    lines = interrupted_at_line(traced, module, 0)
    assert lines > 20
    for k in range(1, lines + 1):
        interrupted_at_line(traced, module, k)
        with trace_values() as tr:
            Value(0.5).tanh()
        assert [(layer.activation, layer.n_samples * layer.n_neurons) for layer in tr.layers] == [("tanh", 1)], k
        assert not engine._tracing.anywhere, k  # and the hook is off once no block is open
