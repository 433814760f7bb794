"""draw_network: every neuron's fill, DEAD mark, tooltip and weights, checked against the trace's raw numbers."""

import re

import pytest

from micrograd_it.losses import mse
from micrograd_it.nn import MLP
from tests.viz.test_graph import node_attrs
from tests.viz.test_layout import engine  # noqa: F401  (the fixture: system dot, then graphviz-pure alone)
from viz.graph import render
from viz.network import SATURATION_SCALE, draw_network, saturation_color

X = [[(i % 7) / 3.0 - 1.0, (i % 5) / 2.0 - 1.0] for i in range(20)]
Y = [1.0 if i % 2 else -1.0 for i in range(20)]


def traced(net, backward=True):
    with net.trace() as trace:
        loss = mse([net(x) for x in X], Y)
    if backward:
        loss.backward()
    return trace


def test_fill_is_the_saturation_recomputed_from_the_activations():
    net = MLP(2, [8, 8, 1], init=3.0, seed=1)
    trace = traced(net)
    source = draw_network(net, trace).source
    for index, lt in enumerate(trace.layers[:-1]):  # tanh layers
        for j in range(lt.n_neurons):
            # by hand: a tanh neuron is saturated on a sample when |act| > 0.99
            fraction = sum(abs(row[j]) > 0.99 for row in lt.act) / len(lt.act)
            attrs = node_attrs(source, f"l{index}_{j}")
            assert attrs["fillcolor"] == saturation_color(fraction)
            assert f"sat {100 * fraction:.0f}%" in attrs["label"]


def test_dead_neurons_are_marked_and_the_others_are_not():
    net = MLP(2, [6, 1], seed=2)
    net.layers[0].neurons[3].b.data = 50.0  # tanh(w.x + 50) is 1 for every input here: dead
    trace = traced(net)
    source = draw_network(net, trace).source
    for j in range(6):
        attrs = node_attrs(source, f"l0_{j}")
        dead = j == 3
        assert ("DEAD" in attrs["label"]) == dead
        assert (attrs["shape"] == "octagon") == dead
    assert "1 dead" in source


def test_tooltip_reports_saturation_and_mean_abs_grad_in():
    net = MLP(2, [4, 1], init=2.0, seed=3)
    trace = traced(net)
    source = draw_network(net, trace).source
    lt = trace.layers[0]
    for j in range(4):
        grad_in = sum(abs(row[j].grad) for row in lt.preact_nodes) / lt.n_samples  # from the Values themselves
        tooltip = node_attrs(source, f"l0_{j}")["tooltip"]
        assert f"mean |grad_in| {grad_in:.4g}" in tooltip
        assert f"of {len(X)} samples" in tooltip


def test_only_the_strongest_weights_are_drawn_widest_first_and_the_title_says_so():
    net = MLP(2, [16, 16, 1], seed=4)
    source = draw_network(net, traced(net), max_edges_per_neuron=6).source
    neuron = net.layers[1].neurons[5]
    edges = re.findall(r'^(l0_\d+) -> l1_5 \[.*penwidth="([\d.]+)"', source, flags=re.M)
    strongest = sorted(range(16), key=lambda k: abs(neuron.w[k].data), reverse=True)[:6]
    assert {f"l0_{k}" for k in strongest} == {name for name, _ in edges}
    widths = {name: float(width) for name, width in edges}
    ordered = sorted(strongest, key=lambda k: abs(neuron.w[k].data))
    assert [widths[f"l0_{k}"] for k in ordered] == sorted(widths.values())
    # fan-in 16 into 16 + 1 neurons (the first layer's fan-in of 2 is drawn whole): 10 of 16 left out each
    assert f"({(16 + 1) * 10} weaker left out)" in source


def test_without_backward_the_title_says_gradients_are_missing():
    net = MLP(2, [3, 1], seed=5)
    assert "backward() has not run" in draw_network(net, traced(net, backward=False)).source


def test_colour_scale_darkens_monotonically_from_pale_to_dark():
    def luminance(colour):
        red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        return 0.2126 * red + 0.7152 * green + 0.0722 * blue

    assert saturation_color(0.0) == SATURATION_SCALE[0] and saturation_color(1.0) == SATURATION_SCALE[-1]
    shades = [luminance(saturation_color(step / 20)) for step in range(21)]
    assert all(darker < lighter for lighter, darker in zip(shades, shades[1:]))


def test_a_trace_of_another_net_is_refused():
    net, other = MLP(2, [3, 1], seed=6), MLP(2, [4, 1], seed=6)
    with pytest.raises(ValueError, match="another net"):
        draw_network(net, traced(other))
    with pytest.raises(TypeError, match="MLP"):
        draw_network("net", traced(net))
    with net.trace() as empty:
        pass
    with pytest.raises(ValueError, match="no samples"):
        draw_network(net, empty)


def test_network_map_renders_svg_and_png(engine, tmp_path):  # noqa: F811
    net = MLP(2, [8, 8, 1], init=3.0, seed=7)
    dot = draw_network(net, traced(net))
    render(dot, tmp_path / "net.svg")
    render(dot, tmp_path / "net.png")
    assert (tmp_path / "net.svg").read_text().count("<g id=\"node") >= 2 + 8 + 8 + 1
    assert (tmp_path / "net.png").read_bytes().startswith(b"\x89PNG")
