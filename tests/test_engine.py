"""The engine: every op against its closed-form derivative and finite differences, errors, modes, memory."""

import gc
import math
import random
import re

import pytest
from hypothesis import assume, given, note
from hypothesis import strategies as st

import micrograd_it
from micrograd_it import AnomalyError, Value, detect_anomaly, gradcheck, no_grad
from micrograd_it._compiled import nodes_tracked
from micrograd_it.testing import OPS, expressions, op_inputs, reals, well_conditioned

from .closed_forms import DERIVATIVES


# -- known numbers ---------------------------------------------------------

def test_lecture_neuron():
    # Karpathy's lecture neuron; b was chosen so that x1*w1 + b = 0.8813735870195432 = atanh(1/sqrt(2)),
    # hence o = 1/sqrt(2), do/dn = 1 - o**2 = 0.5, do/dx1 = 0.5 * w1, do/dw1 = 0.5 * x1.
    x1, w1, b = Value(2.0, label="x1"), Value(-3.0, label="w1"), Value(6.8813735870195432, label="b")
    o = (x1 * w1 + b).tanh()
    o.backward()
    assert o.data == pytest.approx(1 / math.sqrt(2), rel=1e-12)
    assert x1.grad == pytest.approx(-1.5, rel=1e-12)
    assert w1.grad == pytest.approx(1.0, rel=1e-12)
    assert b.grad == pytest.approx(0.5, rel=1e-12)


def _lecture_neuron():
    # The micrograd lecture's neuron, built and labelled exactly as in the lecture.
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    x1w1x2w2 = x1w1 + x2w2
    n = x1w1x2w2 + b
    o = n.tanh()
    return o, n, b, x1w1x2w2, x1w1, x2w2, [x1, x2, w1, w2, b]


def test_the_lecture_manual_backward_with_underscore_backward_gives_backwards_numbers():
    o, n, b, x1w1x2w2, x1w1, x2w2, leaves = _lecture_neuron()
    o.grad = 1.0
    o._backward()
    n._backward()
    b._backward()  # a leaf: nothing to pass down
    x1w1x2w2._backward()
    x2w2._backward()
    x1w1._backward()
    manual = [leaf.grad for leaf in leaves]
    assert manual == pytest.approx([-1.5, 0.5, 1.0, 0.0, 0.5], rel=1e-12)  # the lecture's numbers
    reference, *_, reference_leaves = _lecture_neuron()
    reference.backward()
    assert manual == [leaf.grad for leaf in reference_leaves]


def test_underscore_backward_does_only_its_own_step():
    x, w = Value(0.5), Value(-2.0)
    h = x * w
    out = h.tanh()
    out.grad = 3.0
    out._backward()
    assert h.grad == (1 - out.data**2) * 3.0
    assert (x.grad, w.grad) == (0.0, 0.0)  # the step below is h's, not out's
    h._backward()
    assert (x.grad, w.grad) == (-2.0 * h.grad, 0.5 * h.grad)
    a = Value(3.0)
    twice = a + a
    twice.grad = 1.0
    twice._backward()
    assert a.grad == 2.0  # both edges accumulate (the lecture's a + a bug, fixed)
    assert twice._prev == {a} and out._prev == {h} and h._prev == {x, w} and x._prev == set()


def _lecture_topological_order(root):
    # The lecture's build_topo (recursive, fine for these small graphs), reading _prev.
    topo, visited = [], set()

    def build_topo(v):
        if v not in visited:
            visited.add(v)
            for child in v._prev:
                build_topo(child)
            topo.append(v)
    build_topo(root)
    return topo


@given(expr=expressions(n_vars=3, max_leaves=12), xs=st.lists(reals(-3, 3), min_size=3, max_size=3))
def test_stepping_underscore_backward_in_topological_order_matches_backward(expr, xs):
    note(f"expression: {expr!r} at x = {xs}")
    try:
        manual_inputs = [Value(x) for x in xs]
        manual_root = expr.build(manual_inputs)
        inputs = [Value(x) for x in xs]
        root = expr.build(inputs)
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    # well conditioned: no huge local derivatives, whose sums in another order could cancel differently
    assume(isinstance(root, Value) and well_conditioned(root))
    root.backward()
    manual_root.grad = 1.0
    for node in reversed(_lecture_topological_order(manual_root)):
        node._backward()
    # The same sums, possibly added in another order: equal up to rounding.
    for manual, reference in zip(manual_inputs, inputs):
        assert manual.grad == pytest.approx(reference.grad, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_stepping_underscore_backward_matches_backward_on_graphs_with_shared_nodes(seed):
    def build():
        rng = random.Random(seed)
        leaves = [Value(rng.uniform(-1.0, 1.0)) for _ in range(8)]
        pool = list(leaves)
        for _ in range(150):
            a, b = rng.choice(pool), rng.choice(pool[-10:])
            pool.append(rng.choice([lambda: (a * b).tanh(), lambda: a + b, lambda: a - b.sigmoid()])())
        return sum(pool[-5:], Value(0.0)), leaves

    manual_root, manual_leaves = build()
    root, leaves = build()
    root.backward()
    manual_root.grad = 1.0
    for node in reversed(_lecture_topological_order(manual_root)):
        node._backward()
    assert [leaf.grad for leaf in manual_leaves] == pytest.approx([leaf.grad for leaf in leaves], rel=1e-9, abs=1e-12)
    assert any(leaf.grad != 0.0 for leaf in leaves)


def test_micrograd_readme_example():
    # The expression and its numbers are from micrograd's README (checked there against PyTorch).
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


# -- every op: closed form and finite differences ----------------------------

@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_op_matches_closed_form(name, data):
    arity, apply, _ = OPS[name]
    xs = data.draw(op_inputs(name))
    inputs = [Value(x) for x in xs]
    out = apply(*inputs)
    out.backward()
    expected = DERIVATIVES[name](*xs)
    for value, want in zip(inputs, expected):
        assert value.grad == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_op_passes_gradcheck(name, data):
    _, apply, _ = OPS[name]
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(data.draw(op_inputs(name)))]
    assert gradcheck(apply, inputs, rtol=1e-5, atol=1e-5)


def test_every_op_of_the_catalogue_has_a_strategy_and_a_closed_form():
    from micrograd_it.catalogue import CATALOGUE

    tested = {OPS.case(name)[0].name for name in OPS}
    assert not set(CATALOGUE) - tested, f"ops with no test case: {sorted(set(CATALOGUE) - tested)}"
    missing = sorted(set(OPS) - set(DERIVATIVES))
    assert not missing, f"test cases with no closed form in tests/closed_forms.py: {missing}"
    assert not set(DERIVATIVES) - set(OPS), f"closed forms of no op: {sorted(set(DERIVATIVES) - set(OPS))}"


@given(expr=expressions(n_vars=3, max_leaves=10), xs=st.lists(reals(-3, 3), min_size=3, max_size=3))
def test_random_expressions_pass_gradcheck(expr, xs):
    note(f"expression: {expr!r} at x = {xs}")
    inputs = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
    try:
        out = expr.build(inputs)
    except (ValueError, ZeroDivisionError, OverflowError):
        assume(False)
    assume(isinstance(out, Value) and well_conditioned(out))
    assert gradcheck(lambda *vs: expr.build(vs), inputs, rtol=1e-4, atol=1e-5)


def test_expression_repr_is_readable():
    from micrograd_it.testing import Expr

    tree = Expr("tanh", (Expr("+", (Expr("var", index=0), Expr("const", value=2.0))),))
    assert repr(tree) == "tanh((x0 + 2.0))"


# -- numerical behaviour -------------------------------------------------------

def test_tanh_and_sigmoid_are_finite_far_out():
    t = Value(1000.0).tanh()
    t.backward()
    assert t.data == 1.0 and t.children[0].grad == 0.0
    for x in (-1e308, -1000.0, 1000.0, 1e308):
        for op in (Value.tanh, Value.sigmoid, Value.softplus, Value.gelu, Value.elu, Value.relu):
            out = op(Value(x))
            out.backward()
            assert math.isfinite(out.data) and math.isfinite(out.children[0].grad), (op, x)
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0


@pytest.mark.parametrize("name", sorted(OPS))
@given(data=st.data())
def test_no_op_produces_nan_silently(name, data):
    arity, apply, _ = OPS[name]
    huge = st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
    inputs = [Value(x) for x in data.draw(st.tuples(*[huge] * arity))]
    try:
        out = apply(*inputs)
    except (OverflowError, ValueError, ZeroDivisionError):
        return  # refusing loudly is allowed; a silent NaN is not
    out.backward()
    assert math.isfinite(out.data)
    assert all(math.isfinite(value.grad) for value in inputs)


# -- errors name the culprit ---------------------------------------------------

@pytest.mark.parametrize("bad", ["abc", None, [1.0], True, 1 + 2j])
def test_value_rejects_non_numbers(bad):
    with pytest.raises(TypeError, match=re.escape(f"{bad!r} ({type(bad).__name__})")):
        Value(bad)


@pytest.mark.parametrize("bad", ["abc", None, True, 1 + 2j])
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "r+", "r-", "r*", "r/"])
def test_ops_reject_non_numbers(bad, op):
    v = Value(2.0)
    forms = {
        "+": lambda: v + bad, "-": lambda: v - bad, "*": lambda: v * bad, "/": lambda: v / bad,
        "r+": lambda: bad + v, "r-": lambda: bad - v, "r*": lambda: bad * v, "r/": lambda: bad / v,
    }
    with pytest.raises(TypeError, match=re.escape(f"{bad!r} ({type(bad).__name__})")):
        forms[op]()


def test_type_errors_name_value_and_type():
    with pytest.raises(TypeError, match=r"'abc' \(str\)"):
        Value(1.0) * "abc"
    with pytest.raises(TypeError, match=r"True \(bool\)"):
        Value(1.0) + True
    with pytest.raises(TypeError, match=r"'2' \(str\)"):
        Value(1.0) ** "2"
    with pytest.raises(TypeError, match=r"label must be a str, got 3 \(int\)"):
        Value(1.0, label=3)


def test_value_rejects_non_finite():
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            Value(bad)


def test_domain_errors_raise_at_the_op():
    with pytest.raises(ValueError, match=r"log of non-positive value -1.0 \(label 'x'\)"):
        Value(-1.0, label="x").log()
    with pytest.raises(ValueError, match="0.0"):
        Value(0.0).log()
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        Value(1.0) / Value(0.0)
    with pytest.raises(ZeroDivisionError):
        1.0 / Value(0.0)
    with pytest.raises(OverflowError, match=r"exp.*1000.0"):
        Value(1000.0).exp()
    with pytest.raises(ValueError, match="non-integer exponent"):
        Value(-2.0) ** 0.5
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1
    with pytest.raises(OverflowError, match=r"'\*'"):
        Value(1e200) * Value(1e200)
    with pytest.raises(ValueError, match="positive base"):
        (-2.0) ** Value(1.0)


def test_value_stores_a_plain_float_whatever_real_number_it_gets():
    # Value() has a fast path for exact floats; every other real must still be converted and checked.
    from fractions import Fraction

    np = pytest.importorskip("numpy")
    for number, expected in ((3, 3.0), (Fraction(1, 4), 0.25), (np.float64(2.5), 2.5), (np.int32(-2), -2.0)):
        value = Value(number)
        assert type(value.data) is float and value.data == expected
    with pytest.raises(ValueError, match="finite"):
        Value(np.float64("nan"))


def test_numpy_scalars_work_as_numbers():
    np = pytest.importorskip("numpy")
    v = Value(3.0)
    for out in (np.float64(2.0) * v, v * np.float32(2.0), np.int64(2) * v):
        assert isinstance(out, Value) and out.data == 6.0


# -- backward semantics ----------------------------------------------------------

def test_gradients_accumulate_over_uses():
    a = Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0


def test_backward_twice_accumulates_exactly_twice_on_leaves():
    # d/dx tanh(x*w)^2 computed once by hand, then backward() twice must give exactly twice that.
    x, w = Value(0.7), Value(-1.3)
    out = (x * w).tanh() ** 2
    t = math.tanh(0.7 * -1.3)
    once = 2 * t * (1 - t**2) * -1.3
    out.backward()
    assert x.grad == pytest.approx(once, rel=1e-12)
    out.backward()
    assert x.grad == pytest.approx(2 * once, rel=1e-12)
    # intermediate nodes show the latest pass, not a sum of passes
    assert out.grad == 1.0 and out.children[0].grad == pytest.approx(2 * t, rel=1e-12)


def test_zero_grad_clears_the_whole_graph():
    x, w = Value(0.5), Value(2.0)
    out = (x * w + 1).tanh()
    out.backward()
    assert x.grad != 0.0
    out.zero_grad()
    assert all(node.grad == 0.0 for node in out.nodes())


def test_backward_seed():
    x = Value(2.0)
    y = x * x
    y.backward(3.0)
    assert x.grad == 12.0


def test_public_attributes():
    x = Value(2.0, label="x")
    y = (x * 3).tanh()
    assert y.op == "tanh" and x.op == "" and x.children == () and y.children[0].op == "*"
    assert (x**3).op == "**" and (x**3).op_params == (3.0,)
    assert x.leaky_relu().op_params == (0.01,) and x.leaky_relu(0.2).op_params == (0.2,)
    assert "label='x'" in repr(x) and "data=2" in repr(x) and "grad=0" in repr(x)
    assert not hasattr(x, "__dict__")


def test_op_as_the_micrograd_lecture_reads_it_is_a_string():
    # the lecture's draw_dot labels a node with v._op: '*', '+', 'tanh', '' for a leaf, '**2' for a power
    x, w = Value(2.0), Value(-3.0)
    assert x._op == "" and (x * w)._op == "*" and (x + w)._op == "+" and (x * w).tanh()._op == "tanh"
    assert (x**2)._op == "**2" and (2 ** x)._op == "2**" and x.leaky_relu(0.1)._op == "leaky_relu(0.1)"
    assert (-x)._op == "neg" and all(isinstance(v._op, str) for v in (x, x / w, x.exp()))


def test_a_million_node_chain_backward():
    # 1,000,000 products y = x * c * c * ... * c, the same leaf c reused: closed forms
    # dy/dx = c^N and dy/dc = N x c^(N-1).
    n = 1_000_000
    x, c = Value(1.5), Value(1.0000001)
    y = x
    for _ in range(n):
        y = y * c
    y.backward()
    assert x.grad == pytest.approx(1.0000001**n, rel=1e-9)
    assert c.grad == pytest.approx(n * 1.5 * 1.0000001 ** (n - 1), rel=1e-7)
    y.zero_grad()
    assert len(y.nodes()) == n + 2


# -- modes ------------------------------------------------------------------------

def test_no_grad_builds_no_graph_and_restores():
    x = Value(2.0)
    with no_grad():
        y = (x * 3).tanh()
        assert not micrograd_it.is_grad_enabled()
    assert y.is_leaf and y.op == "" and y.data == math.tanh(6.0)
    assert micrograd_it.is_grad_enabled()
    with pytest.raises(RuntimeError):
        with no_grad():
            raise RuntimeError("boom")
    assert micrograd_it.is_grad_enabled()
    with no_grad():
        with no_grad():
            pass
        assert not micrograd_it.is_grad_enabled()
    assert micrograd_it.is_grad_enabled()


def _overflowing_product():
    x = Value(1e-300, label="x")
    big = Value(1e300, label="big")
    h = x * big
    h.label = "h"
    out = h * big
    out.label = "out"
    return out, x, big


@pytest.mark.parametrize("anomaly_mode", [False, True])
def test_a_gradient_that_overflows_names_op_node_and_path(anomaly_mode):
    # d out / d x = big * big = 1e600: each local derivative is finite, their product is not.
    out, x, big = _overflowing_product()
    x.grad, big.grad = 0.5, -0.25
    with pytest.raises(AnomalyError) as info:
        if anomaly_mode:
            with detect_anomaly():
                out.backward()
        else:
            out.backward()
    message = str(info.value)
    assert "op '*'" in message and "'x'" in message and "1e-300" in message
    assert "'out' -> 'h' -> 'x'" in message
    assert (x.grad, big.grad) == (0.5, -0.25)  # nothing half-applied
    assert isinstance(info.value, OverflowError)  # what a training loop catching overflow expects
    assert not micrograd_it.is_anomaly_enabled()


def test_the_issue_example_log_then_scale_raises_naming_log():
    # d/dx (log x * 1e10) = 1e10 / x = 1e310 at x = 1e-300: past the largest float.
    x = Value(1e-300, label="x")
    out = x.log() * 1e10
    with pytest.raises(AnomalyError, match=r"op 'log'.*'x'"):
        out.backward()
    assert x.grad == 0.0
    y = Value(1e-3, label="y")  # the graph machinery is left clean: another graph works
    (y.log() * 1e10).backward()
    assert y.grad == pytest.approx(1e13, rel=1e-12)


@pytest.mark.parametrize("seed", [float("nan"), float("inf"), -float("inf"), 10**400])
def test_backward_refuses_a_seed_that_is_not_finite(seed):
    x = Value(2.0)
    y = x * x
    with pytest.raises(ValueError, match="backward"):
        y.backward(seed)
    assert x.grad == 0.0
    y.backward()
    assert x.grad == 4.0


def test_finite_gradients_whose_sum_overflows_pass():
    # d/dx (x c + y c) = d/dy = c = 1.5e308: each leaf's gradient is finite, only their sum is not.
    x, y = Value(1e-10), Value(1e-10)
    out = x * 1.5e308 + y * 1.5e308
    out.backward()
    assert (x.grad, y.grad) == (1.5e308, 1.5e308)


def test_a_leaf_already_holding_a_non_finite_grad_is_named():
    x = Value(2.0, label="x")
    x.grad = float("inf")
    with pytest.raises(AnomalyError, match="'x'.*had grad inf before"):
        (x * 3.0).backward()
    assert x.grad == float("inf")


def test_a_root_leaf_whose_grad_overflows_is_refused():
    x = Value(1.0, label="x")
    x.grad = 1e308
    with pytest.raises(AnomalyError, match="root"):
        x.backward(1e308)
    assert x.grad == 1e308


def test_detect_anomaly_passes_healthy_graphs_unchanged():
    x, w = Value(0.3), Value(-2.0)
    out = (x * w).tanh() + x.exp()
    out.backward()
    plain = (x.grad, w.grad)
    x.grad = w.grad = 0.0
    with detect_anomaly():
        out.backward()
    assert (x.grad, w.grad) == plain


# -- memory --------------------------------------------------------------------------

def _live_values():
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


def _build_and_drop(make_cycle=False):
    x, w = Value(0.5), Value(-1.0)
    out = x
    for _ in range(100):
        out = (out * w + 0.1).tanh()
    out.backward()
    if make_cycle:
        x._x = out  # a deliberate cycle: proves the check below can fail
    return None


def test_backward_leaves_no_reference_cycles():
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        with nodes_tracked():  # compiled, the collector sees new nodes only inside this block
            before = _live_values()
            _build_and_drop()
            assert _live_values() == before, "a freed graph stayed alive: it holds a reference cycle"
            _build_and_drop(make_cycle=True)
            assert _live_values() > before  # the same check sees a real cycle
    finally:
        gc.collect()
        if enabled:
            gc.enable()


def test_local_grads_are_the_closed_form_derivatives_one_per_child():
    # closed forms: d(x*y)/dx = y, d(x*y)/dy = x; d tanh(x)/dx = 1 - tanh(x)^2; d(x**3)/dx = 3x^2
    x, y = Value(0.7), Value(-1.3)
    assert (x * y).local_grads == (y.data, x.data)
    t = x.tanh()
    assert t.local_grads == (1 - math.tanh(0.7) ** 2,)
    assert (x ** 3).local_grads == pytest.approx((3 * 0.7 ** 2,), rel=1e-15)
    assert x.local_grads == () and len((x + 2.0).local_grads) == len((x + 2.0).children) == 2
