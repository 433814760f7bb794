"""draw_graph: the styles in the DOT source match what we know about each node, hostile labels stay text,
big graphs collapse, and the real engines render SVG and PNG."""

import math
import re
import time
import types
import xml.etree.ElementTree as ElementTree

import graphviz
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from micrograd_it import Value
from tests.viz.test_layout import engine  # noqa: F401  (the fixture: system dot, then graphviz-pure alone)
from viz.graph import SATURATED_LOCAL, draw_graph, render, saturation_color
from viz.layout import LaidOutDigraph, run_layout, shown

ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def node_attrs(source, name):
    """The attributes of node `name` in DOT `source`, as a dict (our DOT writes one node per line)."""
    for line in source.splitlines():
        if line.startswith(f"{name} ["):
            # the spaces of a record label are written &#32; (viz.layout.dot_text)
            return {key: value.replace("&#32;", " ") for key, value in ATTR.findall(line)}
    raise AssertionError(f"node {name} not in the DOT source")


def key_of(root, value):
    """The DOT name draw_graph gives `value`: n<position in root.nodes()>."""
    return f"n{[id(node) for node in root.nodes()].index(id(value))}"


def lecture_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    out = (x1 * w1 + x2 * w2 + b).tanh()
    out.label = "o"
    return out, dict(x1=x1, x2=x2, w1=w1, w2=w2, b=b)


def test_returns_a_graphviz_digraph_routed_through_our_layout():
    out, _ = lecture_neuron()
    out.backward()
    dot = draw_graph(out)
    assert isinstance(dot, graphviz.Digraph) and isinstance(dot, LaidOutDigraph)
    assert b"<svg" in dot.pipe()


def test_tanh_fed_50_is_flat_and_tanh_fed_a_tenth_is_not():
    # d/dx tanh(x) = 1 - tanh(x)**2: about 1.5e-43 at x=50, 0.990 at x=0.1
    big, small = Value(50.0).tanh(), Value(0.1).tanh()
    assert 1 - math.tanh(50.0) ** 2 < SATURATED_LOCAL < 1 - math.tanh(0.1) ** 2
    root = big + small
    root.backward()
    source = draw_graph(root).source
    flat = node_attrs(source, key_of(root, big) + "op")
    healthy = node_attrs(source, key_of(root, small) + "op")
    assert flat["shape"] == "octagon" and "flat" in flat["label"] and "bold" in flat["style"]
    assert healthy["shape"] == "ellipse" and "flat" not in healthy["label"]


def test_vanished_nodes_are_dashed_and_healthy_ones_are_not():
    out, leaves = lecture_neuron()
    out.backward()
    # by hand: d o/d w2 = (1 - o**2) * x2 = 0 since x2 = 0;  d o/d w1 = (1 - o**2) * x1 = 1.0
    assert leaves["w2"].grad == 0.0 and abs(leaves["w1"].grad - (1 - out.data ** 2) * 2.0) < 1e-12
    source = draw_graph(out).source
    dead = node_attrs(source, key_of(out, leaves["w2"]))
    alive = node_attrs(source, key_of(out, leaves["w1"]))
    assert "dashed" in dead["style"] and "vanished" in dead["label"]
    assert "dashed" not in alive["style"] and "vanished" not in alive["label"]
    assert "1 Value with |grad| <= 1e-06 (vanished)" in source


def test_gradient_behind_a_saturated_tanh_vanishes():
    x = Value(1.0, label="x")
    out = (x * 30.0).tanh()
    out.backward()
    # d/dx tanh(30x) = 30 (1 - tanh(30)**2), about 5e-25: far below the tolerance
    assert x.grad == pytest.approx(30 * (1 - math.tanh(30.0) ** 2), rel=1e-6, abs=1e-30)
    source = draw_graph(out, vanish_tol=1e-6).source
    assert "dashed" in node_attrs(source, key_of(out, x))["style"]
    assert "dashed" not in node_attrs(source, key_of(out, out))["style"]


def test_without_backward_nothing_is_marked_vanished_and_the_title_says_why():
    out, leaves = lecture_neuron()
    source = draw_graph(out).source
    assert "backward() has not run" in source
    assert "dashed" not in source.split("subgraph cluster_legend")[0]


def test_small_gradients_are_printed_visibly():
    x = Value(1.0, label="x")
    out = x * 2.5e-05
    out.backward()
    assert "grad 2.5e-05" in draw_graph(out).source  # %.4f would print 0.0000


def test_named_parameters_and_the_output_are_distinguishable():
    out, leaves = lecture_neuron()
    out.backward()
    source = draw_graph(out, names=[("layer.w1", leaves["w1"])]).source
    param = node_attrs(source, key_of(out, leaves["w1"]))
    plain_input = node_attrs(source, key_of(out, leaves["x1"]))
    output = node_attrs(source, key_of(out, out))
    assert "layer.w1" in param["label"]
    assert len({(a["fillcolor"], a["color"]) for a in (param, plain_input, output)}) == 3
    assert "bold" in param["style"] and "bold" in output["style"] and "bold" not in plain_input["style"]


def test_a_constant_is_drawn_apart_from_an_input():
    x = Value(3.0, label="x")
    out = x * 2.0  # the 2.0 becomes an unlabelled leaf
    out.backward()
    constant = next(child for child in out.children if child is not x)
    source = draw_graph(out).source
    drawn_constant, drawn_input = node_attrs(source, key_of(out, constant)), node_attrs(source, key_of(out, x))
    assert drawn_constant["shape"] != drawn_input["shape"]  # a shape of its own, not a colour alone
    assert drawn_constant["fillcolor"] != drawn_input["fillcolor"]
    assert drawn_constant["label"].startswith("{ const | data 2 |") and "x" not in drawn_constant["label"]
    assert "constant" in node_attrs(source, "leg_const")["label"]


def test_edges_are_thicker_where_more_gradient_flows():
    a, b = Value(1.0, label="a"), Value(1.0, label="b")
    out = a * 100.0 + b * 0.01
    out.backward()
    source = draw_graph(out).source
    widths = {}
    for line in source.splitlines():
        match = re.match(r"(n\d+) -> (n\d+op) \[.*penwidth=\"([\d.]+)\"", line)
        if match:
            widths[match.group(1)] = float(match.group(3))
    assert widths[key_of(out, a)] > widths[key_of(out, b)]  # 100 vs 0.01 flows back


def test_bad_arguments_name_the_culprit():
    with pytest.raises(TypeError, match="got 3"):
        draw_graph(3)
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(Value(1.0), rankdir="XY")
    with pytest.raises(ValueError, match="trace="):
        draw_graph(Value(1.0), group="neuron")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(Value(1.0), max_nodes=0)


def _svg_text(svg_bytes):
    root = ElementTree.fromstring(svg_bytes)
    return "".join(element.text or "" for element in root.iter() if element.tag.endswith("text"))


def _expected_text(label):
    # what a label may lose on the way: newlines break lines, whitespace may collapse; control characters
    # are shown as escapes (the exact rule is tested in test_labels.py)
    return "".join(shown(label).split())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(label=st.text(max_size=30) | st.sampled_from(['{x|y}', '<b>"q"</b>', "\\", 'a\\"];x->y;//', "}\n{"]))
def test_hostile_labels_stay_text_through_the_real_engine(engine, label):  # noqa: F811
    value = Value(1.0, label=label)
    out = value.tanh()
    out.label = label
    out.backward()
    dot = draw_graph(out, legend=False)
    svg = run_layout(dot.source, "svg")  # raises if the engine rejects the DOT
    assert _expected_text(label) in "".join(_svg_text(svg).split()).replace("\u00a0", "")
    assert svg.count(b"<g id=\"node") == 3  # two records and one op node: the label added no nodes


def test_svg_and_png_render_through_the_real_engine(engine, tmp_path):  # noqa: F811
    out, _ = lecture_neuron()
    out.backward()
    assert render(out, tmp_path / "g.svg") == str(tmp_path / "g.svg")
    render(out, tmp_path / "g.png")
    render(out, tmp_path / "g.dot")
    assert (tmp_path / "g.svg").read_text().count("<g id=\"node") >= 10
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "g.dot").read_text() == draw_graph(out).source
    assert render(out, format="svg").startswith(b"<?xml")
    if engine == "system":  # only Graphviz writes PDF (the bundled case is tested in test_layout)
        render(out, tmp_path / "g.pdf")
        assert (tmp_path / "g.pdf").read_bytes().startswith(b"%PDF")


# -- big graphs ------------------------------------------------------------------------------

def tiny_traced_mlp(sizes, n_samples, scale=1.0):
    """A hand-built tanh MLP (last layer linear) and a trace in the shape of the trace contract."""
    weights = [[[Value(scale * math.sin(3 * i + 7 * j + k + 1)) for k in range(n_in)]
                for j in range(n_out)] for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]))]
    layers = [types.SimpleNamespace(name=f"layers.{i}", activation="tanh" if i < len(weights) - 1 else "linear",
                                    preact_nodes=[], act_nodes=[]) for i in range(len(weights))]
    loss = Value(0.0)
    for sample in range(n_samples):
        x = [Value(math.cos(sample + k)) for k in range(sizes[0])]
        for layer, layer_weights in zip(layers, weights):
            preacts = [sum((w * xi for w, xi in zip(row, x)), Value(0.0)) for row in layer_weights]
            x = [p.tanh() if layer.activation == "tanh" else p for p in preacts]
            layer.preact_nodes.append(preacts)
            layer.act_nodes.append(x)
        loss = loss + (x[0] - 1.0) ** 2
    return loss, types.SimpleNamespace(layers=layers)


def test_group_neuron_draws_one_node_per_neuron_and_sample_and_flags_saturation():
    loss, trace = tiny_traced_mlp([2, 3, 1], n_samples=2, scale=20.0)
    loss.backward()
    source = draw_graph(loss, group="neuron", trace=trace).source
    groups = re.findall(r"^(g\d+_\d+_\d+) \[(.*)\]$", source, flags=re.M)
    assert len(groups) == 2 * (3 + 1)
    for key, attrs in groups:
        layer, neuron, sample = map(int, key[1:].split("_"))
        act = trace.layers[layer].act_nodes[sample][neuron].data
        saturated = trace.layers[layer].activation == "tanh" and abs(act) > 0.99
        assert ("SATURATED" in attrs) == saturated, (key, act)


def test_a_20000_node_graph_collapses_and_renders_quickly(engine):  # noqa: F811
    loss, trace = tiny_traced_mlp([2, 16, 16, 1], n_samples=30)
    loss.backward()
    assert len(loss.nodes()) > 20000
    started = time.perf_counter()
    for options in (dict(trace=trace), dict()):
        dot = draw_graph(loss, max_nodes=300, **options)
        n_drawn = len(re.findall(r"^(?:n\d+|g[\d_]+|inputs|tail|summary) \[", dot.source, flags=re.M))
        assert n_drawn <= 301
        assert "collapsed" in dot.source or "summarised" in dot.source
        assert b"<svg" in dot.pipe(format="svg")
    assert time.perf_counter() - started < 120  # a sanity bound only; the timing is measured in the report


def test_local_derivatives_are_printed_on_the_inputs_of_two_input_ops():
    out, leaves = lecture_neuron()
    out.backward()
    source = draw_graph(out).source
    x1w1 = next(node for node in out.nodes() if node.op == "*" and leaves["x1"] in node.children)
    target = key_of(out, x1w1) + "op"
    # product rule: d(x1*w1)/dx1 = w1 = -3, d(x1*w1)/dw1 = x1 = 2
    for name, local in (("x1", "-3"), ("w1", "2")):
        line = next(line for line in source.splitlines() if line.startswith(f"{key_of(out, leaves[name])} -> {target}"))
        assert f'label="local grad {local}"' in line
    assert "local grad" not in draw_graph(out, show_local_grad=False).source.split("subgraph cluster_legend")[0]


def test_neurons_over_many_samples_are_filled_by_their_saturation_fraction():
    loss, trace = tiny_traced_mlp([2, 3, 1], n_samples=6, scale=3.0)
    loss.backward()
    source = draw_graph(loss, trace=trace, max_nodes=12).source  # 6 x 4 per-sample nodes would not fit
    assert "one node per neuron over all samples" in source
    for j in range(3):
        acts = [row[j].data for row in trace.layers[0].act_nodes]
        fraction = sum(abs(act) > 0.99 for act in acts) / len(acts)  # tanh saturated: |act| > 0.99
        attrs = node_attrs(source, f"g0_{j}")
        assert attrs["fillcolor"] == saturation_color(fraction)
        assert f"saturated on {100 * fraction:.0f}% of samples" in attrs["label"]
