"""The op catalogue: an op registered in one place shows up everywhere; the docs' table is the catalogue's.

The throwaway op here is softsign, x / (1 + |x|), with local derivative 1 / (1 + |x|)^2: registered
by a fixture only, it must reach Value, the parser, the strategies, both replays, nn, tracing and the
pictures without any other file knowing it, and leave no trace once unregistered.
"""

import math
import re
from pathlib import Path

import pytest
from hypothesis import find

from micrograd_it import Value, gradcheck
from micrograd_it.catalogue import CATALOGUE, Activation, Domain, table, unary, unregister
from micrograd_it.expr import FUNCTIONS, ExpressionError, build
from micrograd_it.nn import ACTIVATIONS, GAINS, MLP
from micrograd_it.tape import record
from micrograd_it.testing import OPS, expressions, op_inputs, well_conditioned
from micrograd_it.trace import is_saturated

ROOT = Path(__file__).resolve().parent.parent


def softsign_closed_form(x):
    """Written from the textbook formula, independently of the rule below."""
    return x / (1 + abs(x)), 1 / (1 + abs(x)) ** 2


@pytest.fixture
def softsign():
    @unary("softsign", domain=Domain(-20.0, 20.0), forward="x / (1 + |x|)", local="1 / (1 + |x|)²",
           activation=Activation(gain=1.0))
    def definition(x):
        """Return x / (1 + |x|)."""
        scale = 1.0 / (1.0 + abs(x))
        return x * scale, scale * scale

    @definition.vectorised
    def softsign_arrays(np, x):
        scale = 1.0 / (1.0 + np.abs(x))
        return x * scale, scale * scale

    yield definition
    unregister("softsign")


def test_a_registered_op_is_a_value_method_with_its_derivative(softsign):
    x = Value(0.5, label="x")
    y = x.softsign()
    y.backward()
    value, local = softsign_closed_form(0.5)
    assert math.isclose(y.data, value, rel_tol=1e-15) and math.isclose(x.grad, local, rel_tol=1e-15)
    assert y.op == "softsign" and y._op == "softsign" and y.children == (x,)
    assert Value.softsign.__doc__ == "Return x / (1 + |x|)."
    assert gradcheck(lambda v: (v * 3.0).softsign(), [Value(-0.7)])


def test_a_registered_op_is_in_the_parser(softsign):
    assert FUNCTIONS["softsign"] == ("softsign", 0)
    root, leaves = build("softsign(2*x) + 1", {"x": -1.5})
    assert root.data == Value(-3.0).softsign().data + 1
    root.backward()
    assert math.isclose(leaves["x"].grad, 2 * softsign_closed_form(-3.0)[1], rel_tol=1e-15)


def test_a_registered_op_is_in_the_strategies(softsign):
    arity, apply, _ = OPS["softsign"]
    assert arity == 1 and apply(Value(2.0)).data == Value(2.0).softsign().data
    drawn = find(op_inputs("softsign"), lambda xs: xs[0] > 10.0)
    assert 10.0 < drawn[0] <= 20.0  # within its domain
    tree = find(expressions(ops=["softsign", "+"], max_leaves=4), lambda e: "softsign(" in repr(e))
    assert well_conditioned(tree.build([Value(0.1), Value(0.2), Value(0.3)]))


@pytest.mark.parametrize("backend", ["python", "numpy"])
def test_a_registered_op_is_replayed(softsign, backend):
    if backend == "numpy":
        pytest.importorskip("numpy")
    a, b = Value(0.3), Value(-1.2)
    tape = record((a * b).softsign() + a.softsign(), [a, b], backend=backend)
    new = (2.5, 0.4)
    value, grads = tape.forward(new), list(tape.backward())
    x, y = Value(new[0]), Value(new[1])
    root = (x * y).softsign() + x.softsign()
    root.backward()
    if backend == "python":  # the same rule, the same floats
        assert (value, grads) == (root.data, [x.grad, y.grad])
    else:
        assert math.isclose(value, root.data, rel_tol=1e-12)
        assert all(math.isclose(g, want, rel_tol=1e-12) for g, want in zip(grads, [x.grad, y.grad]))


def test_a_registered_activation_is_drawn_flat_traced_and_in_nets(softsign):
    pytest.importorskip("graphviz")
    from viz.graph import draw_graph
    from viz.plots_gallery import gallery

    # 1/(1+50)^2 = 3.8e-4 < 0.02: flat;  1/(1+0.1)^2 = 0.83: not
    big, small = Value(50.0).softsign(), Value(0.1).softsign()
    root = big + small
    root.backward()
    source = draw_graph(root).source
    names = [id(node) for node in root.nodes()]
    flat = [line for line in source.splitlines() if line.startswith(f"n{names.index(id(big))}op [")]
    healthy = [line for line in source.splitlines() if line.startswith(f"n{names.index(id(small))}op [")]
    assert 'shape="octagon"' in flat[0] or "shape=octagon" in flat[0]
    assert "octagon" not in healthy[0] and "softsign" in healthy[0]

    assert "softsign" in ACTIVATIONS and GAINS["softsign"] == 1.0
    assert is_saturated("softsign", -150.0, None, 0.99)  # local 4.4e-5 < 0.01
    assert not is_saturated("softsign", -5.0, None, 0.99)  # local 0.028
    net = MLP(2, [3, 1], activation="softsign", seed=0)
    with net.trace() as tr:
        net([0.5, -0.25])
    assert [act.op for act in tr.layers[0].act_nodes[0]] == ["softsign"] * 3
    assert tr.layers[0].saturation() == [0.0, 0.0, 0.0]
    assert "softsign" in [name for name, _, _ in gallery()]


def test_an_unregistered_op_is_gone_everywhere(softsign):
    unregister("softsign")
    try:
        assert not hasattr(Value, "softsign")
        assert "softsign" not in FUNCTIONS and "softsign" not in OPS and "softsign" not in ACTIVATIONS
        with pytest.raises(ExpressionError, match="unknown function 'softsign'"):
            build("softsign(x)", {"x": 1.0})
    finally:  # the fixture unregisters it again
        unary("softsign")(lambda x: (x, 1.0))


def test_a_taken_name_or_method_is_refused_and_registers_nothing():
    before, backward = dict(CATALOGUE), Value.backward
    with pytest.raises(ValueError, match="'tanh' is empty or already in the catalogue"):
        unary("tanh")(lambda x: (x, 1.0))
    with pytest.raises(ValueError, match="Value already has 'backward'"):
        unary("backwards", "backward")(lambda x: (x, 1.0))
    with pytest.raises(ValueError, match="'exp' is already another op's"):
        unary("exp2", "exp")(lambda x: (x, 1.0))
    # the same method object (the compiled engine keeps no docstrings to compare)
    assert CATALOGUE == before and Value.backward is backward


def test_the_docs_table_of_ops_is_the_catalogues():
    text = (ROOT / "docs" / "engine.md").read_text()
    block = re.search(r"<!-- ops-table:start -->\n(.*?)<!-- ops-table:end -->", text, re.S)
    assert block, "docs/engine.md lost its marked table of ops"
    rows, expected = block.group(1).splitlines(), table().splitlines()
    missing = [row for row in expected if row not in rows]
    assert not missing, ("docs/engine.md's table of ops is not the catalogue's; print it with "
                         "`python -c \"from micrograd_it.catalogue import table; print(table())\"`. "
                         f"Missing or changed rows: {missing}")
    assert rows == expected
