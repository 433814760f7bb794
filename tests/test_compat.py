"""The micrograd/microgpt Value surface, as a contract: our engine against a reference Value written in their style.

The reference is benchmarks/scalar_reference.py (written here, microgpt's shape: children and
local-grad tuples, ``-`` and ``/`` built from ``+ * **``, a recursive topological sort). The
split these tests pin down, and docs/microgpt.md states:
- bit for bit: every value computed with ``+ - * ** neg exp log relu tanh`` (numbers on either
  side, ``sum()``); every gradient of an expression tree (only the inputs shared, however often),
  and of any graph where no Value feeds more than two op inputs;
- equal to rounding: ``/`` (we divide; the reference multiplies by ``y**-1``, two roundings), and
  the gradients of a graph where an intermediate Value feeds three or more op inputs (backward
  may add their contributions in another order: Kahn's algorithm against a reversed depth-first
  order).
"""

import math
import os
import struct
import sys

import pytest
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from micrograd_it import AnomalyError, Value, detect_anomaly, gradcheck, no_grad
from micrograd_it.tape import record
from micrograd_it.testing import expressions, reals, well_conditioned

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import scalar_reference  # noqa: E402

Ref = scalar_reference.Value


def bits(number):
    """The 64 bits of a number as a float (an int, as the reference keeps Value(2), becomes its float)."""
    return struct.pack("<d", float(number))


# -- the constructor ---------------------------------------------------------------

def test_value_from_ints_and_floats_and_the_label_both_ways():
    assert Value(3).data == 3.0 and Value(2.5).data == 2.5
    assert Value(2.0, label="x").label == "x"
    assert Value(2.0, "x").label == "x"  # the older positional label still works
    assert Value(2.0, (), ()).is_leaf and Value(2.0, [], []).is_leaf


def test_a_node_made_by_hand_is_an_ordinary_node():
    x, w = Value(0.5), Value(-2.0)
    t = math.tanh(x.data * w.data)
    # microgpt's way: the value and its local derivatives, computed by the caller
    product = Value(x.data * w.data, (x, w), (w.data, x.data))
    out = Value(t, (product,), (1 - t**2,))
    assert out._children == (product,) and out._local_grads == (1 - t**2,)
    assert product._children == (x, w) and product._local_grads == (-2.0, 0.5)
    assert isinstance(out._children, tuple) and isinstance(out._local_grads, tuple)
    assert out.op == "custom" and out._prev == {product}
    out.backward()
    # the same graph made with the engine's own ops gives the same gradients, bit for bit
    x2, w2 = Value(0.5), Value(-2.0)
    (x2 * w2).tanh().backward()
    assert bits(x.grad) == bits(x2.grad) and bits(w.grad) == bits(w2.grad)


def test_children_may_be_a_list_and_the_same_child_twice():
    x = Value(3.0)
    square = Value(9.0, [x, x], [3.0, 3.0])
    square.backward()
    assert x.grad == 6.0 and square._children == (x, x)


@pytest.mark.parametrize("children, local_grads, error, words", [
    ((1.0,), (1.0,), TypeError, r"children\[0\] must be a Value, got 1.0 \(float\)"),
    ("a b".split(), (1.0, 1.0), TypeError, r"children\[0\] must be a Value, got 'a' \(str\)"),
    ("LEAVES3", (1.0, 1.0, 1.0), ValueError, "3 children, but this engine's nodes hold at most two inputs"),
    ("LEAF", (1.0, 2.0), ValueError, "1 child.* and 2 local_grads"),
    ("LEAF", (), ValueError, "1 child.* and 0 local_grads"),
    ("LEAF", ("x",), TypeError, r"local_grads\[0\] needs a real number, got 'x' \(str\)"),
    ("LEAF", (None,), TypeError, r"local_grads\[0\] needs a real number, got None"),
    ("LEAF", (math.nan,), ValueError, r"local_grads\[0\] needs a finite number, got nan"),
    ("LEAF", 1.0, TypeError, r"local_grads must be a tuple \(or list\), got 1.0 \(float\)"),
    (7, (), TypeError, r"children must be a tuple \(or list\), got 7 \(int\)"),
    (iter(()), (), TypeError, "children must be a tuple"),
])
def test_what_a_node_cannot_be_is_refused_naming_the_culprit(children, local_grads, error, words):
    leaf = Value(1.0)
    if children == "LEAF":
        children = (leaf,)
    elif children == "LEAVES3":
        children = (leaf, Value(2.0), Value(3.0))
    with pytest.raises(error, match=words):
        Value(1.0, children, local_grads)


def test_the_label_is_given_once_and_data_stays_checked():
    with pytest.raises(TypeError, match="takes a label once"):
        Value(1.0, "x", label="y")
    with pytest.raises(TypeError, match="label must be a str, got 3"):
        Value(1.0, (), (), 3)
    with pytest.raises(ValueError, match="finite number, got inf"):
        Value(math.inf, (Value(1.0),), (1.0,))
    with pytest.raises(TypeError, match=r"Value\(\) needs a real number, got 'a'"):
        Value("a", (Value(1.0),), (1.0,))


def test_a_bool_local_derivative_is_the_zero_or_one_it_stands_for():
    x = Value(-2.0)
    relu = Value(0.0, (x,), (x.data > 0,))  # a fork's way to write relu's derivative
    assert relu._local_grads == (0.0,) and type(relu._local_grads[0]) is float


def test_under_no_grad_a_node_made_by_hand_is_a_leaf_as_every_op_makes():
    x = Value(2.0)
    with no_grad():
        out = Value(4.0, (x,), (4.0,))
    assert out.is_leaf and out.op == "" and out._children == ()


class Silu(Value):
    """A subclass adding an op microgpt's way, as the forks do."""

    def silu(self):
        s = 1.0 / (1.0 + math.exp(-self.data))
        # d/dx x s(x) = s + x s (1 - s)
        return Silu(self.data * s, (self,), (s + self.data * s * (1.0 - s),))


def silu(x):
    """The same op as a helper function, which works on any Value (our ops return Value, not a subclass)."""
    s = 1.0 / (1.0 + math.exp(-x.data))
    return Value(x.data * s, (x,), (s + x.data * s * (1.0 - s),))


def _twice(x, y):  # a two-input op made by hand: d/dx = 2y, d/dy = 2x
    return Value(2.0 * x.data * y.data, (x, y), (2.0 * y.data, 2.0 * x.data))


def test_the_op_shows_the_name_of_the_function_that_made_it():
    assert Silu(0.5).silu()._op == "silu"
    assert _twice(Value(1.0), Value(2.0))._op == "_twice"
    assert Value(1.0, (Value(2.0),), (1.0,))._op == "test_the_op_shows_the_name_of_the_function_that_made_it"
    assert MODULE_LEVEL_NODE._op == "custom" and MODULE_LEVEL_NODE.op == "custom"


MODULE_LEVEL_NODE = Value(1.0, (Value(2.0),), (1.0,))  # made at module level: no function to name it


def test_gradcheck_agrees_with_finite_differences_through_nodes_made_by_hand():
    a, b = Value(0.7), Value(-1.3)
    gradcheck(lambda a, b: silu(_twice(a, b) + a) * silu(b), [a, b])
    gradcheck(lambda a: a.silu().silu(), [Silu(0.4)])


def test_zero_grad_and_a_second_backward_reach_nodes_made_by_hand():
    x = Value(0.3)
    out = silu(silu(x) * x)
    out.backward()
    first = x.grad
    out.zero_grad()
    assert x.grad == 0.0 and all(node.grad == 0.0 for node in out.nodes())
    out.backward()
    assert bits(x.grad) == bits(first)


def test_anomaly_mode_names_the_custom_op():
    x = Value(1e-200)
    huge = Value(1.0, (x,), (1e300,))
    out = Value(1.0, (huge,), (1e300,))
    with detect_anomaly(), pytest.raises(AnomalyError, match="op 'test_anomaly_mode_names_the_custom_op'"):
        out.backward()
    assert x.grad == 0.0


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_replay_refuses_a_node_made_by_hand(backend):
    pytest.importorskip("numpy")
    x = Silu(0.5)
    loss = x.silu() * 2.0
    # its local derivative is a number fixed at the forward pass: a replay at a new x would reuse it
    with pytest.raises(ValueError, match="cannot replay node .*op 'silu' was made by Value\\(data, children, local_grads\\)"):
        record(loss, [x], backend=backend)


def test_well_conditioned_reads_a_custom_node_as_a_plain_value():
    assert well_conditioned(Silu(0.5).silu())


# -- the surface a microgpt-style program uses -------------------------------------

def test_identity_hashing_two_values_with_equal_data_are_two_keys():
    a, b = Value(1.0), Value(1.0)
    assert len({a, b}) == 2 and {a: 1, b: 2}[a] == 1
    assert a in {a} and b not in {a}


def test_grad_set_to_an_int_and_data_updated_in_place():
    p = Value(0.5)
    (p * p).backward()
    p.grad = 0  # microgpt resets gradients with an int
    assert p.grad == 0
    (p * 3.0).backward()
    assert p.grad == 3.0
    p.data -= 0.1 * p.grad
    assert bits(p.data) == bits(0.5 - 0.1 * 3.0)


def test_sum_of_values_numbers_on_either_side_and_unary_minus_match_the_reference_bit_for_bit():
    xs = [0.3, -1.7, 2.25, 0.0, -0.0]
    ours, theirs = [Value(x) for x in xs], [Ref(x) for x in xs]

    def program(vs):
        total = sum(vs)
        return [total, 2 + vs[0], vs[0] + 2, 3 - vs[1], vs[1] - 3, 2.5 * vs[2], vs[2] * 2.5, -vs[1],
                vs[2] ** 2, vs[2] ** -1, (vs[0] * 4).exp(), vs[2].log(), vs[1].relu(), vs[0].relu(),
                vs[1].tanh(), 2 ** -1 * vs[0]]
    for mine, reference in zip(program(ours), program(theirs)):
        assert bits(mine.data) == bits(reference.data), (mine, reference.data)


def test_division_is_equal_to_rounding_not_bit_for_bit():
    # we compute a / b; the reference a * b**-1: one rounding against two
    pairs = [(float(a), float(b)) for a in range(1, 30) for b in range(1, 30)]
    differ = 0
    for a, b in pairs:
        mine, reference = (Value(a) / Value(b)).data, (Ref(a) / Ref(b)).data
        assert math.isclose(mine, reference, rel_tol=2 * 2.0**-52, abs_tol=0.0)
        assert mine == a / b
        differ += mine != reference
    assert differ > 0  # a real difference, so "to rounding" is the honest word



# The ops the reference has (rpow and the other activations are ours only).
SHARED_OPS = ["+", "-", "*", "neg", "**2", "**3", "**-1", "**0.5", "exp", "log", "relu", "tanh"]
METHODS = {"exp": "exp", "log": "log", "relu": "relu", "tanh": "tanh"}


def apply_to(cls):
    """The `apply` of Expr.build for Value class `cls`: each op written as a program writes it."""
    def apply(op, *args):
        if not any(isinstance(arg, cls) for arg in args):
            args = (cls(args[0]),) + args[1:]  # two constants: the program's first number a Value
        if op == "+":
            return args[0] + args[1]
        if op == "-":
            return args[0] - args[1]
        if op == "*":
            return args[0] * args[1]
        if op == "/":
            return args[0] / args[1]
        if op == "neg":
            return -args[0]
        if op.startswith("**"):
            return args[0] ** float(op[2:])
        return getattr(args[0], METHODS[op])()
    return apply


def both(expr, xs):
    """Run expr on our engine and on the reference; return (ours, theirs) as (root, inputs), or reject."""
    assume(expr.op != "const")  # a bare number builds no Value
    try:
        ours = [Value(x) for x in xs]
        root = expr.build(ours, apply_to(Value))
        root.backward()
    except (ArithmeticError, ValueError):
        assume(False)  # outside an op's domain, or past the floats: both engines refuse it
    theirs = [Ref(x) for x in xs]
    try:
        their_root = expr.build(theirs, apply_to(Ref))
        their_root.backward()
    except (ArithmeticError, ValueError):
        assume(False)  # the reference's y**-1 may overflow where our y's quotient does not
    return (root, ours), (their_root, theirs)


def most_inputs_fed(root):
    """How many op inputs the most-used Value of root's graph feeds (x * x feeds two)."""
    edges = {}
    for node in root.nodes():
        for child in node.children:
            edges[child] = edges.get(child, 0) + 1
    return max(edges.values(), default=0)


def largest_term(root):
    """The largest chain-rule term |local * out.grad| backward added (at least 1): the scale of rounding."""
    return max([1.0] + [abs(local * node.grad) for node in root.nodes() for local in node.local_grads])


@settings(max_examples=200)
@given(expressions(n_vars=3, max_leaves=8, ops=SHARED_OPS), st.lists(reals(-3.0, 3.0), min_size=3, max_size=3))
def test_expression_trees_without_division_are_bit_for_bit_values_and_gradients(expr, xs):
    # A tree shares only its inputs: both backward orders are then the same (depth-first, second
    # input first), so even an input used many times adds its contributions in the same order.
    (root, ours), (their_root, theirs) = both(expr, xs)
    note(f"{expr!r} at {xs}")
    assert bits(root.data) == bits(their_root.data)
    for mine, reference in zip(ours, theirs):
        assert bits(mine.grad) == bits(reference.grad)


DAG_OPS = ["+", "-", "*", "neg", "**2", "exp", "relu", "tanh"]


def dag(cls, xs, steps):
    """A graph that shares intermediate Values: each step applies an op to Values made before it;
    the root is the last Value plus every other one made (so all of them reach the root)."""
    pool = [cls(x) for x in xs]
    inputs = list(pool)
    apply = apply_to(cls)
    for op, i, j in steps:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        pool.append(apply(op, a, b) if op in ("+", "-", "*") else apply(op, a))
    root = pool[-1]
    for node in pool[len(xs):-1]:
        root = root + node
    return root, inputs


dag_steps = st.lists(st.tuples(st.sampled_from(DAG_OPS), st.integers(0, 99), st.integers(0, 99)), min_size=1, max_size=12)


@settings(max_examples=200)
@given(dag_steps, st.lists(reals(-1.5, 1.5), min_size=3, max_size=3))
def test_graphs_sharing_values_are_bit_for_bit_unless_a_value_feeds_three_inputs(steps, xs):
    try:
        root, ours = dag(Value, xs, steps)
        root.backward()
    except (ArithmeticError, ValueError):
        assume(False)
    their_root, theirs = dag(Ref, xs, steps)
    their_root.backward()
    assert bits(root.data) == bits(their_root.data)
    if most_inputs_fed(root) <= 2:
        # at most two contributions per gradient: their sum is the same in either order
        for mine, reference in zip(ours, theirs):
            assert bits(mine.grad) == bits(reference.grad)
    else:
        # the contributions to one gradient may be added in another order: rounding of the terms' size
        scale = largest_term(root)
        for mine, reference in zip(ours, theirs):
            assert math.isclose(mine.grad, reference.grad, rel_tol=1e-12, abs_tol=1e-12 * scale)


def test_some_shared_graph_gives_a_gradient_that_differs_in_the_last_bit():
    # Why "to rounding" above is the honest word: on graphs of 12 random steps (seeded), our
    # backward order (Kahn's) and the reference's (reversed depth-first) add some gradient's
    # contributions in another order (about 1 graph in 300). Searched here, not typed: seeds 0..2999.
    import random

    for seed in range(3000):
        rng = random.Random(seed)
        xs = [rng.uniform(-1.0, 1.0) for _ in range(3)]
        steps = [(rng.choice(["+", "*", "-", "tanh"]), rng.randrange(100), rng.randrange(100)) for _ in range(12)]
        root, ours = dag(Value, xs, steps)
        root.backward()
        their_root, theirs = dag(Ref, xs, steps)
        their_root.backward()
        assert bits(root.data) == bits(their_root.data)
        if any(bits(a.grad) != bits(b.grad) for a, b in zip(ours, theirs)):
            assert most_inputs_fed(root) > 2
            assert all(math.isclose(a.grad, b.grad, rel_tol=1e-12, abs_tol=1e-12 * largest_term(root))
                       for a, b in zip(ours, theirs))
            return
    pytest.fail("no seed gave a different gradient: the docs' 'equal to rounding' would be too cautious")


@settings(max_examples=200)
@given(expressions(n_vars=3, max_leaves=8, ops=SHARED_OPS + ["/"]), st.lists(reals(-3.0, 3.0), min_size=3, max_size=3))
def test_with_division_values_and_gradients_are_equal_to_rounding(expr, xs):
    (root, ours), (their_root, theirs) = both(expr, xs)
    assume(well_conditioned(root))  # away from poles, where a last-bit difference is amplified without bound
    note(f"{expr!r} at {xs}")
    values = max([1.0] + [abs(node.data) for node in root.nodes()])
    assert math.isclose(root.data, their_root.data, rel_tol=1e-9, abs_tol=1e-12 * values)
    scale = largest_term(root)
    for mine, reference in zip(ours, theirs):
        assert math.isclose(mine.grad, reference.grad, rel_tol=1e-9, abs_tol=1e-9 * scale)


# -- a microgpt-shaped program, run on both ----------------------------------------

def tiny_language_model(cls, steps=6, seed=0):
    """A program in microgpt's style, written here: embeddings, RMS norm, a ReLU layer, softmax with
    its max subtracted, cross-entropy, SGD with ``p.grad = 0``. Returns the printed loss lines and
    the final parameters. `cls` is the Value class: the swap is this one name."""
    import random

    rng = random.Random(seed)
    vocab, width = 5, 4
    matrix = lambda rows, cols: [[cls(rng.gauss(0, 0.5)) for _ in range(cols)] for _ in range(rows)]  # noqa: E731
    embed, hidden, out = matrix(vocab, width), matrix(8, width), matrix(vocab, 8)
    params = [p for m in (embed, hidden, out) for row in m for p in row]
    data = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0), (1, 3)]
    lines = []
    for step in range(steps):
        losses = []
        for token, target in data:
            x = embed[token]
            scale = (sum(xi * xi for xi in x) / len(x) + 1e-5) ** -0.5
            x = [xi * scale for xi in x]
            h = [sum(w * xi for w, xi in zip(row, x)).relu() for row in hidden]
            logits = [sum(w * hi for w, hi in zip(row, h)) for row in out]
            top = max(logit.data for logit in logits)
            exps = [(logit - top).exp() for logit in logits]
            total = sum(exps)
            probs = [e / total for e in exps]
            losses.append(-probs[target].log())
        loss = sum(losses) * (1 / len(losses))
        for p in params:
            p.grad = 0
        loss.backward()
        for p in params:
            p.data -= 0.5 * p.grad
        lines.append(f"step {step + 1:4d} | loss {loss.data:.4f}")
    return lines, [p.data for p in params]


def test_a_microgpt_shaped_program_prints_the_same_losses_on_both():
    ours, our_params = tiny_language_model(Value)
    theirs, their_params = tiny_language_model(Ref)
    assert ours == theirs  # to the last printed digit
    assert float(theirs[-1].split()[-1]) < float(theirs[0].split()[-1])  # it trained: the loss fell
    # the parameters after 6 steps: to rounding (softmax divides, and normalised x feeds 8 rows)
    assert all(math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) for a, b in zip(our_params, their_params))


def test_an_op_attached_to_value_as_a_method_works_as_a_forks_method_does():
    # a fork that added `def silu(self)` inside its class attaches the same function to ours
    Value.silu_for_this_test = silu
    try:
        x = Value(0.5)
        y = x.silu_for_this_test()
        assert y._op == "silu" and y._children == (x,)
        y.backward()
        assert x.grad == y._local_grads[0]
    finally:
        del Value.silu_for_this_test
    assert not hasattr(Value(1.0), "silu_for_this_test")


def test_jupyters_view_of_a_node_made_by_hand_names_its_maker():
    from tests.test_html_repr import cell_texts

    assert cell_texts(silu(Value(0.5))._repr_html_())[1][3] == "silu (custom)"
