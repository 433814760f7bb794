"""A big graph without a trace: draw_graph makes units for the nearest Values only, and draws what the long
way (viz.graph_units.collect: a unit for every Value, then cut) draws."""

import math

import pytest

from micrograd_it import Value
from micrograd_it.losses import mse
from micrograd_it.nn import MLP
from viz import graph_nearest
from viz.graph import draw_graph
from viz.graph_nearest import collect_nearest, nearest
from viz.graph_units import _parameter_names, collect


def big_loss(batch=12, backward=True):
    net = MLP(2, [6, 6, 1], seed=1)
    loss = mse([net([math.sin(i), math.cos(3 * i)]) for i in range(batch)], [(-1.0) ** i for i in range(batch)])
    if backward:
        loss.backward()
    return net, loss


def drawn(drawing):
    """What a drawing shows, independent of order: its units' texts and its edges' flows."""
    units = {unit.key: (unit.kind, unit.name, unit.data, unit.grad, unit.vanished, unit.op_text, unit.flat)
             for unit in drawing.units}
    edges = {(edge.source, edge.target): pytest.approx(edge.flow, rel=1e-12) for edge in drawing.edges}
    return units, edges, drawing.title


@pytest.mark.parametrize("max_nodes", [1, 2, 7, 60, 299])
@pytest.mark.parametrize("backward", [True, False])
def test_the_nearest_values_draw_what_the_long_way_draws(max_nodes, backward):
    net, loss = big_loss(backward=backward)
    assert len(loss.nodes()) > max_nodes + 1
    short = collect_nearest(loss, vanish_tol=1e-6, max_nodes=max_nodes, param_names=_parameter_names(net))
    long = collect(loss, vanish_tol=1e-6, max_nodes=max_nodes, group=None, names=net, trace=None)
    assert drawn(short) == drawn(long)


def test_a_graph_within_max_nodes_is_drawn_the_usual_way():
    _, loss = big_loss(batch=1)
    size = len(loss.nodes())
    assert collect_nearest(loss, vanish_tol=1e-6, max_nodes=size, param_names={}) is None
    assert collect_nearest(loss, vanish_tol=1e-6, max_nodes=size - 1, param_names={}) is not None


def test_nearest_is_breadth_first_from_the_root():
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    a = x * y
    b = a + x
    root = (b * a).tanh()
    assert nearest(root, 10) == [root, root.children[0], b, a, x, y]
    assert nearest(root, 3) == [root, root.children[0], b]


def test_only_the_nearest_values_become_units_whatever_the_size(monkeypatch):
    made, children_read = [], [0]
    real_unit = graph_nearest._value_unit
    real_children = Value.children

    def counting_unit(value, *args):
        made.append(value)
        return real_unit(value, *args)

    def counting_children(value):
        children_read[0] += 1
        return real_children.__get__(value, Value)  # a property, or the compiled class's getset descriptor

    monkeypatch.setattr(graph_nearest, "_value_unit", counting_unit)
    for batch in (10, 40):
        _, loss = big_loss(batch=batch)
        made.clear()
        monkeypatch.setattr(Value, "children", property(counting_children))
        children_read[0] = 0
        nearest(loss, 301)
        walked = children_read[0]
        monkeypatch.setattr(Value, "children", real_children)
        dot = draw_graph(loss, max_nodes=300)
        assert len(made) == 300 and 0 < walked <= 301  # the walk reads the inputs of at most max_nodes + 1 Values
        assert f"a graph of {len(loss.nodes())} Values" in dot.source  # yet the whole graph is counted
        assert f"{len(loss.nodes()) - 300} more summarised" in dot.source
        assert "summaryop" not in dot.source  # the summary has no op node: edges into it end at it
