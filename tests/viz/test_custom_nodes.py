"""A node made by hand, ``Value(data, children, local_grads)``, in the graph, the explorer and their texts."""

import math

from micrograd_it import Value
from viz.explore import explore
from viz.explore_steps import backward_order, expression_names, local_text, replay
from viz.graph import draw_graph


def silu(x):
    """microgpt's way to add an op: the value and d out / d x, computed here (d/dx x s(x) = s + x s (1 - s))."""
    s = 1.0 / (1.0 + math.exp(-x.data))
    return Value(x.data * s, (x,), (s + x.data * s * (1.0 - s),))


def scaled_product(x, y):
    return Value(3.0 * x.data * y.data, (x, y), (3.0 * y.data, 3.0 * x.data))


def graph():
    x, w = Value(0.8, label="x"), Value(-1.5, label="w")
    out = silu(scaled_product(x, w))
    out.backward()
    return out, x, w


def test_the_graph_shows_the_op_by_the_name_of_its_maker_with_its_local_derivative():
    out, x, w = graph()
    source = draw_graph(out).source
    expected_local = out.local_grads[0]
    assert "silu" in source and "scaled_product" in source
    # a one-input op shows its local derivative, as a catalogue op does (number_text's 4 significant digits)
    assert f"local grad {expected_local:.4g}" in source, source


def test_the_explorer_says_where_the_local_derivative_came_from_and_replays_backward():
    out, x, w = graph()
    product = out.children[0]
    assert local_text(out, 0) == f"{out.local_grads[0]:.6g}, given by silu() when it made the node"
    assert local_text(product, 1).startswith(f"{3.0 * x.data:.6g}, given by scaled_product()")
    nodes = out.nodes()
    names = expression_names(nodes, [node.label or None for node in nodes], backward_order(out))
    assert names[nodes.index(out)] == "silu(scaled_product(x, w))"  # both inputs of a two-input node named
    grads = replay(out, backward_order(out))  # the explorer's steps give backward's gradients, bit for bit
    assert grads[id(x)] == x.grad and grads[id(w)] == w.grad
    page = explore(out)
    assert "given by silu()" in page.html
