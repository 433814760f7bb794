"""Compiled replay: every op's scalar and vectorised forms against the engine, replays against the object engine, errors."""

import math
import subprocess
import sys

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from micrograd_it import AnomalyError, Value
from micrograd_it.nn import MLP
from micrograd_it.catalogue import CATALOGUE
from micrograd_it.tape import record
from micrograd_it.testing import OPS, expressions, op_inputs, reals

BACKENDS = ["python", pytest.param("numpy", marks=pytest.mark.filterwarnings("error"))]


def close(replayed, expected, scale):
    # Replays add a node's gradient contributions in another order than the
    # object engine; rounding then differs relative to the size of the terms
    # added (`scale`), not of their sum -- hence the absolute part.
    return math.isclose(replayed, expected, rel_tol=1e-12, abs_tol=1e-12 * scale)


def engine_result(build, xs):
    """Build the graph afresh with the object engine at xs.

    Returns (root value, grads of the inputs, the largest chain-rule term
    ``|local * out.grad|`` that backward added anywhere, the largest |value|
    of any node; both scales at least 1).
    """
    inputs = [Value(x) for x in xs]
    root = build(inputs)
    root.backward()
    terms = [abs(node._dx * node.grad) for node in root.nodes()] + [abs(node._dy * node.grad) for node in root.nodes()]
    values = [abs(node.data) for node in root.nodes()]
    return root.data, [value.grad for value in inputs], max([1.0] + terms), max([1.0] + values)


# -- the catalogue's forms are the engine's ops ---------------------------------------
# A replay runs each op's catalogue entry (the scalar rule, or its vectorised
# form); the Value method was made from the same entry. These tests check the
# results agree, so that a vectorised form written beside a rule cannot drift.

def _definition_and_inputs(name, xs):
    """The op behind test case `name`, and its rule's arguments at xs (the constant last)."""
    definition, param = OPS.case(name)
    return definition, list(xs) + ([] if param is None else [param])


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_scalar_rules_give_the_engines_value_and_local_derivatives_bit_for_bit(name, data):
    _, apply, _ = OPS[name]
    xs = data.draw(op_inputs(name))
    node = apply(*[Value(x) for x in xs])
    definition, args = _definition_and_inputs(name, xs)
    result = definition.evaluate(*args)
    assert result == ((node.data, node._dx, node._dy) if len(xs) == 2 else (node.data, node._dx))
    assert node.op == definition.name and node.op_params == tuple(args[len(xs):])


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_vectorised_forms_agree_with_the_engine_on_random_inputs(name, data):
    np = pytest.importorskip("numpy")
    _, apply, _ = OPS[name]
    rows = data.draw(st.lists(op_inputs(name), min_size=1, max_size=5))
    nodes = [apply(*[Value(x) for x in xs]) for xs in rows]
    columns = [np.array([xs[i] for xs in rows]) for i in range(len(rows[0]))]
    definition, args = _definition_and_inputs(name, columns)
    with np.errstate(all="ignore"):
        result = definition.on_arrays(np, *args)
    assert len(result) == 1 + len(columns), f"op {definition.name!r}: its vectorised form returns {len(result)} values"
    result = [np.broadcast_to(part, columns[0].shape) for part in result]
    for i, node in enumerate(nodes):
        for got, want in zip([part[i] for part in result], (node.data, node._dx, node._dy)):
            # numpy's tanh/exp may round differently from the math module's in the
            # last bits (a few 1e-16 near 1); where an op then subtracts nearly
            # equal numbers (gelu's 1 + tanh near -1, times x) a tiny result keeps
            # that absolute error, scaled by the size of the input.
            scale = max([1.0] + [abs(v) for v in rows[i]])
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-14 * scale), (definition.name, rows[i], got, want)


def test_every_op_of_the_catalogue_has_a_test_case():
    missing = sorted(set(CATALOGUE) - {OPS.case(name)[0].name for name in OPS})
    assert not missing, f"ops without a test case in the strategies: {missing}"


# -- replays equal the object engine -----------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@settings(max_examples=60)
@given(expr=expressions(n_vars=3, max_leaves=12),
       first=st.lists(reals(-3, 3), min_size=3, max_size=3),
       second=st.lists(reals(-3, 3), min_size=3, max_size=3))
def test_replay_of_random_expressions_equals_the_engine(backend, expr, first, second):
    if backend == "numpy":
        pytest.importorskip("numpy")
    note(f"expression: {expr!r}, recorded at {first}, replayed at {second}")
    inputs = [Value(x) for x in first]
    try:
        root = expr.build(inputs)
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    assume(isinstance(root, Value))
    tape = record(root, inputs, backend=backend)
    try:
        expected = engine_result(expr.build, second)
    except (ValueError, ZeroDivisionError, OverflowError):
        # The engine refuses the second point: so must the replay, in its forward or in its backward
        # (the failing op may differ when two fail, as the replay may run them in another order).
        with pytest.raises((ValueError, ZeroDivisionError, OverflowError)):
            tape.forward(second)
            tape.backward()
        return
    value = tape.forward(second)
    grads = list(tape.backward())
    scale = expected[2]
    assert close(value, expected[0], expected[3])
    assert all(close(g, want, scale) for g, want in zip(grads, expected[1])), (grads, expected[1])


def _moons_like(n, seed):
    import random

    rng = random.Random(seed)
    return [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)], [rng.choice([-1.0, 1.0]) for _ in range(n)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_mlp_training_by_replay_equals_training_with_the_engine(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    X, Y = _moons_like(16, seed=1)
    engine_net, replay_net = MLP(2, [8, 8, 1], seed=3), MLP(2, [8, 8, 1], seed=3)

    def loss_of(net):
        return sum(((net(x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0))

    tape = record(loss_of(replay_net), replay_net.parameters(), backend=backend)
    for step in range(4):
        loss = loss_of(engine_net)
        engine_net.zero_grad()
        loss.backward()
        replayed_loss = tape.forward()
        grads = tape.backward()
        assert close(replayed_loss, loss.data, loss.data)
        scale = max(abs(p.grad) for p in engine_net.parameters())
        for p, q, g in zip(engine_net.parameters(), replay_net.parameters(), grads):
            assert close(g, p.grad, scale)
            p.data -= 0.05 * p.grad
            q.data -= 0.05 * g
    for p, q in zip(engine_net.parameters(), replay_net.parameters()):
        assert close(q.data, p.data, 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_trace_recorded_with_the_tape_shows_the_replay_after_write_back(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    X, Y = _moons_like(6, seed=2)
    net, twin = MLP(2, [4, 1], seed=5), MLP(2, [4, 1], seed=5)
    with net.trace() as tr:
        loss = sum(((net(x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0))
    tape = record(loss, net.parameters(), backend=backend)
    new_values = [p.data + 0.3 for p in net.parameters()]
    tape.forward(new_values)
    tape.backward()
    tape.write_back()  # parameters now hold new_values, every node the replayed data and grad
    for q, v in zip(twin.parameters(), new_values):
        q.data = v
    with twin.trace() as expected:
        twin_loss = sum(((twin(x) - y) ** 2 for x, y in zip(X, Y)), Value(0.0))
    twin_loss.backward()
    for got, want in zip(tr.layers, expected.layers):
        for attribute in ("preact", "act", "grad_in", "grad_out"):
            for got_row, want_row in zip(getattr(got, attribute), getattr(want, attribute)):
                assert all(close(a, b, 10.0) for a, b in zip(got_row, want_row)), attribute


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_outside_the_graph_get_zero_and_constants_keep_their_value(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x, unused, const = Value(2.0), Value(5.0), Value(3.0)
    tape = record(x * const, [x, unused], backend=backend)
    assert tape.forward([4.0, 7.0]) == 12.0  # 4 * 3
    assert list(tape.backward()) == [3.0, 0.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_write_back_accumulates_leaf_grads_like_backward(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x = Value(2.0)
    y = x * x
    tape = record(y, [x], backend=backend)
    tape.forward([3.0])
    tape.backward()
    x.grad = 1.0
    tape.write_back()
    assert (x.data, x.grad, y.data, y.grad) == (3.0, 1.0 + 6.0, 9.0, 1.0)  # d(x^2)/dx = 2x = 6


# -- errors --------------------------------------------------------------------------

def test_record_rejects_bad_roots_inputs_and_backends():
    x = Value(1.0, label="x")
    y = x * 2
    with pytest.raises(TypeError, match=r"3.0 \(float\)"):
        record(3.0)
    with pytest.raises(TypeError, match=r"input 0 is 'x' \(str\)"):
        record(y, ["x"])
    with pytest.raises(ValueError, match=r"input 0 .* made by op '\*'"):
        record(y, [y])
    with pytest.raises(ValueError, match="input 1 .* appears twice"):
        record(y, [x, x])
    with pytest.raises(ValueError, match="'fortran'"):
        record(y, [x], backend="fortran")
    with pytest.raises(TypeError, match="list of Values or a Module, got 3"):
        record(y, 3)


def test_a_module_stands_for_its_parameters():
    net = MLP(2, [3, 1], seed=0)
    tape = record(net([1.0, 2.0]), net)
    assert tape.inputs == net.parameters()


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_rejects_bad_values_and_names_the_op_that_fails(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x = Value(1.0)
    tape = record((x.log() + x.exp()) * 2.0, [x], backend=backend)
    with pytest.raises(ValueError, match="1 value"):
        tape.forward([1.0, 2.0])
    with pytest.raises(ValueError, match="finite"):
        tape.forward([math.inf])
    with pytest.raises(ValueError, match="log"):
        tape.forward([-1.0])
    with pytest.raises(OverflowError, match="exp"):
        tape.forward([1000.0])
    assert tape.forward([1.0]) == pytest.approx(2 * math.e, rel=1e-15)  # still usable afterwards


def test_python_tape_rejects_non_numbers():
    x = Value(1.0)
    tape = record(x * 2.0, [x])
    with pytest.raises(TypeError, match=r"'abc' \(str\)"):
        tape.forward(["abc"])


def test_numpy_backend_without_numpy_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "numpy", None)
    monkeypatch.setitem(sys.modules, "micrograd_it.tape_numpy", None)
    with pytest.raises(ImportError, match="needs numpy"):
        record(Value(1.0) * 2.0, backend="numpy")


def test_the_python_tape_imports_only_the_standard_library():
    code = "import sys, micrograd_it.tape; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_deep_chain_replays_without_recursion():
    x = Value(0.5)
    node = x
    for _ in range(20000):  # far beyond the recursion limit
        node = (node * 0.999).tanh()
    tape = record(node, [x])
    assert tape.forward([0.5]) == node.data
    node.backward()
    assert math.isclose(tape.backward()[0], x.grad, rel_tol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_needs_a_successful_forward_first(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x = Value(2.0)
    tape = record(x.log(), [x], backend=backend)
    with pytest.raises(RuntimeError, match="forward"):
        tape.backward()
    tape.forward([2.0])
    assert list(tape.backward()) == [0.5]  # d ln(x)/dx = 1/x
    with pytest.raises(ValueError):
        tape.forward([-2.0])
    with pytest.raises(RuntimeError, match="forward"):
        tape.backward()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_leaf_root_replays_as_itself(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x = Value(2.0)
    tape = record(x, [x], backend=backend)
    assert tape.forward([5.0]) == 5.0
    assert list(tape.backward()) == [1.0]  # d x / d x


# -- a gradient that leaves the floats: refused, as by the object engine ------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_a_gradient_that_overflows_in_the_replay_is_refused_naming_the_op(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    # (x ** -1) ** 2 at x = 3.1e-111: every value is finite (1.04e221 at the root), but
    # d/dx = -2 x**-3 is -6.7e332, past the largest float.
    x = Value(1.0)
    root = (x ** -1) ** 2
    tape = record(root, [x], backend=backend)
    tape.forward([0.5])
    assert list(tape.backward()) == [-2 * 0.5 ** -3]  # the closed form, where it is a float
    tiny = 3.0992403410820395e-111
    with pytest.raises(AnomalyError, match=r"op '\*\*-1' .* gradient -inf"):
        engine_result(lambda xs: (xs[0] ** -1) ** 2, [tiny])
    assert tape.forward([tiny]) == pytest.approx(tiny ** -2)
    with pytest.raises(AnomalyError, match=r"replay backward of op '\*\*-1' at node 1 produced gradient -inf"):
        tape.backward()
    tape.write_back()  # the refused backward left no gradient to write
    assert x.grad == 0.0 and root.grad == 0.0 and x.data == tiny


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("seed", [float("nan"), float("inf"), -float("inf"), "1"])
def test_a_seed_that_is_not_a_finite_number_is_refused(backend, seed):
    if backend == "numpy":
        pytest.importorskip("numpy")
    x = Value(2.0)
    tape = record(x * x, [x], backend=backend)
    tape.forward()
    with pytest.raises((ValueError, TypeError), match=r"backward\(grad\)"):
        tape.backward(seed)
    assert list(tape.backward(3.0)) == [12.0]  # d/dx x^2 = 2x, times the seed 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_finite_gradients_whose_sum_overflows_are_not_refused(backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    # root = 1.5e308 a + 1.5e308 b at a = 1, b = -1: the root is 0, each gradient 1.5e308,
    # and only their sum (the quick check) overflows.
    a, b = Value(1.0), Value(-1.0)
    tape = record(a * 1.5e308 + b * 1.5e308, [a, b], backend=backend)
    assert tape.forward() == 0.0
    assert list(tape.backward()) == [1.5e308, 1.5e308]
