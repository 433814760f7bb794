"""draw_network: every cell's fill, dead mark, bars, tooltip and weights, checked against the trace's raw numbers;
the drawn order of the cells, and the size of the picture, read from what real engines lay out."""

import io
import math
import random
import re

import pytest

from micrograd_it.losses import mse, softmax_cross_entropy
from micrograd_it.nn import MLP
from tests.viz.network_helpers import cells, drawn_cells
from tests.viz.test_layout import engine  # noqa: F401  (the fixture: system dot, then graphviz-pure alone)
from viz.graph import render
from viz.layout import run_layout
from viz.network import SATURATION_SCALE, draw_network, saturation_color
from viz.network_cells import BAR_WIDTH, html_text
from viz.network_draw import grid_columns

matplotlib_image = pytest.importorskip("matplotlib.image")

X = [[(i % 7) / 3.0 - 1.0, (i % 5) / 2.0 - 1.0] for i in range(20)]
Y = [1.0 if i % 2 else -1.0 for i in range(20)]
SCREEN = (1600, 1000)  # px, width x height: what "fits one screen" means here


def traced(net, backward=True):
    with net.trace() as trace:
        loss = mse([net(x) for x in X], Y)
    if backward:
        loss.backward()
    return trace


def seed_size(dead=(), hidden=200, n_samples=8, seed=0):
    """The seed's shape, 30 -> hidden -> 27 (tanh), traced on a few samples; `dead`: neurons planted dead.

    A bias of 50 next to weights of (5/3)/sqrt(30) and inputs in [-1, 1] keeps
    tanh at 1 on every sample.
    """
    net = MLP(30, [hidden, 27], init="scaled", seed=seed)
    for j in dead:
        net.layers[0].neurons[j].b.data = 50.0
    rng = random.Random(seed)
    samples = [[rng.uniform(-1, 1) for _ in range(30)] for _ in range(n_samples)]
    with net.trace() as trace:
        losses = [softmax_cross_entropy(net(x), k % 27) for k, x in enumerate(samples)]
        loss = sum(losses[1:], losses[0]) * (1.0 / n_samples)
    loss.backward()
    return net, trace


def png_size(png):
    height, width = matplotlib_image.imread(io.BytesIO(png), format="png").shape[:2]
    return width, height


@pytest.mark.parametrize("cells_mode", [False, True])
def test_fill_is_the_saturation_recomputed_from_the_activations(cells_mode):
    net = MLP(2, [8, 8, 1], init=3.0, seed=1)
    trace = traced(net)
    drawn = cells(draw_network(net, trace, cells=cells_mode).source)
    for index, lt in enumerate(trace.layers[:-1]):  # tanh layers
        for j in range(lt.n_neurons):
            # by hand: a tanh neuron is saturated on a sample when |act| > 0.99
            fraction = sum(abs(row[j]) > 0.99 for row in lt.act) / len(lt.act)
            cell = drawn[f"l{index}_{j}"]
            assert cell.attrs["BGCOLOR"] == saturation_color(fraction)
            assert f"saturated on {100 * fraction:.1f}% of {len(X)} samples" in cell.attrs["TITLE"]
    assert all(drawn[f"l2_{j}"].attrs["BGCOLOR"] == "#FFFFFF" for j in range(1))  # linear: no saturation


@pytest.mark.parametrize("cells_mode, hidden, planted", [(False, 12, (3, 7)), (True, 200, (3, 77, 150))])
def test_dead_marks_are_exactly_the_traces_dead_neurons(cells_mode, hidden, planted):
    net, trace = seed_size(dead=planted, hidden=hidden)
    drawn = cells(draw_network(net, trace, cells=cells_mode).source)
    dead = set(trace.layers[0].dead())
    assert dead >= set(planted)
    marked = {int(ident.split("_")[1]) for ident, cell in drawn.items() if ident.startswith("l0_") and cell.dead_marked}
    assert marked == dead
    for j in dead:  # the mark is a shape and an outline, not a colour alone
        cell = drawn[f"l0_{j}"]
        assert cell.text.startswith("\u00d7") and cell.attrs["BORDER"] == "3" and "DEAD" in cell.attrs["TITLE"]
    assert not any(cell.dead_marked for ident, cell in drawn.items() if ident.startswith(("x", "l1_")))


def test_weights_into_a_dead_neuron_are_hollow_and_have_almost_no_gradient():
    net, trace = seed_size(dead=(5, 140))
    drawn = cells(draw_network(net, trace).source)
    dead = set(trace.layers[0].dead())
    # the independent fact behind the hollow bar: backward() gave these weights (almost) nothing
    largest_grad = max(abs(w.grad) for neuron in net.layers[0].neurons for w in neuron.w)
    for j, neuron in enumerate(net.layers[0].neurons):
        hollow = drawn[f"l0_{j}"].bars["in"]["BGCOLOR"] == "#FFFFFF" and "BORDER" in drawn[f"l0_{j}"].bars["in"]
        assert hollow == (j in dead)
        if j in dead:
            assert max(abs(w.grad) for w in neuron.w) < 1e-6 * largest_grad
        # a dead tanh outputs +-1, so the weights it feeds still learn: its out bar is solid
        assert drawn[f"l0_{j}"].bars["out"]["BGCOLOR"] != "#FFFFFF"
    frozen = len(dead) * 30
    source = draw_network(net, trace).source
    assert f'{frozen:,} can (almost)\\nno longer learn:\\n{frozen:,} into the\\n{len(dead)} dead neurons' in source
    assert f"weights: {200 * 30 - frozen:,} learn" in source


def test_a_dead_relu_also_starves_the_weights_it_feeds():
    net = MLP(2, [16, 16, 1], activation="relu", seed=4)
    net.layers[0].neurons[3].b.data = -50.0  # relu(w.x - 50) = 0 on every input here: dead, outputs 0
    trace = traced(net)
    assert 3 in trace.layers[0].dead()
    drawn = cells(draw_network(net, trace, cells=True).source)
    assert "BORDER" in drawn["l0_3"].bars["out"]  # hollow: every weight it feeds gets act * grad = 0
    assert all(net.layers[1].neurons[m].w[3].grad == 0.0 for m in range(16))


def test_bars_are_the_weight_norms_relative_to_the_largest_of_the_layer():
    net, trace = seed_size(hidden=40)
    drawn = cells(draw_network(net, trace).source)
    norms_in = [math.sqrt(sum(w.data ** 2 for w in neuron.w)) for neuron in net.layers[0].neurons]
    norms_out = [math.sqrt(sum(neuron.w[j].data ** 2 for neuron in net.layers[1].neurons)) for j in range(40)]
    for j in range(40):
        cell = drawn[f"l0_{j}"]
        assert int(cell.bars["in"]["WIDTH"]) == max(1, round(BAR_WIDTH * norms_in[j] / max(norms_in)))
        assert int(cell.bars["out"]["WIDTH"]) == max(1, round(BAR_WIDTH * norms_out[j] / max(norms_out)))
        assert f"||w in|| {norms_in[j]:.3g} (30 weights" in cell.attrs["TITLE"]
        assert f"||w out|| {norms_out[j]:.3g} (27 weights" in cell.attrs["TITLE"]


def test_tooltip_reports_saturation_and_mean_abs_grad_in():
    net = MLP(2, [4, 1], init=2.0, seed=3)
    trace = traced(net)
    drawn = cells(draw_network(net, trace).source)
    lt = trace.layers[0]
    for j in range(4):
        grad_in = sum(abs(row[j].grad) for row in lt.preact_nodes) / lt.n_samples  # from the Values themselves
        assert f"mean |grad_in| {grad_in:.4g}" in drawn[f"l0_{j}"].attrs["TITLE"]
        assert f"|g| {grad_in:.2g}" in draw_network(net, trace).source


def test_only_the_strongest_weights_are_drawn_widest_first_and_the_title_says_so():
    net = MLP(2, [16, 16, 1], seed=4)
    source = draw_network(net, traced(net), max_edges_per_neuron=6, cells=False).source
    neuron = net.layers[1].neurons[5]
    edges = re.findall(r'^layer0:l0_(\d+):e -> layer1:l1_5:w \[.*penwidth="([\d.]+)"', source, flags=re.M)
    strongest = sorted(range(16), key=lambda k: abs(neuron.w[k].data), reverse=True)[:6]
    assert set(strongest) == {int(k) for k, _ in edges}
    widths = {int(k): float(width) for k, width in edges}
    ordered = sorted(strongest, key=lambda k: abs(neuron.w[k].data))
    assert [widths[k] for k in ordered] == sorted(widths.values())
    # fan-in 16 into 16 + 1 neurons (the first layer's fan-in of 2 is drawn whole): 10 of 16 left out each
    assert f"({(16 + 1) * 10} weaker left out)" in source


def test_a_wide_net_draws_summaries_and_the_legend_names_what_is_left_out():
    net, trace = seed_size()
    source = draw_network(net, trace).source
    assert len(re.findall(r"^\w+ -> \w+", source, flags=re.M)) == 2  # one edge per weight matrix, none frozen
    assert "Not drawn: the 6,000 + 5,400 weights one by one, and the biases." in source
    assert len(cells(source)) == 30 + 200 + 27


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


def test_a_trace_of_another_net_and_bad_options_are_refused():
    net, other = MLP(2, [3, 1], seed=6), MLP(2, [4, 1], seed=6)
    with pytest.raises(ValueError, match="another net"):
        draw_network(net, traced(other))
    with pytest.raises(TypeError, match="MLP"):
        draw_network("net", traced(net))
    with net.trace() as empty:
        pass
    with pytest.raises(ValueError, match="no samples"):
        draw_network(net, empty)
    with pytest.raises(ValueError, match="cells must be None, True or False, got 'yes'"):
        draw_network(net, traced(net), cells="yes")
    with pytest.raises(ValueError, match="rankdir must be 'LR' or 'TB', got 'XY'"):
        draw_network(net, traced(net), rankdir="XY")


def test_label_text_is_escaped_for_html_labels(engine):  # noqa: F811
    hostile = 'a<b>&"c"\x07\n<TABLE>'
    escaped = html_text(hostile)
    assert "<" not in escaped.replace("<BR/>", "") and "\x07" not in escaped
    svg = run_layout(f"digraph {{ a [shape=plain label=<<TABLE><TR><TD>{escaped}</TD></TR></TABLE>>] }}",
                     "svg").decode()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert [t.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("&quot;", '"')
            for t in texts] == ['a<b>&"c"\\x07', "<TABLE>"]


def _assert_row_major(centres, prefix, n, columns):
    """Cell j sits in row j // columns, column j % columns: x grows along a row, y from row to row."""
    for j in range(n - 1):
        (x, y), (next_x, next_y) = centres[f"{prefix}{j}"], centres[f"{prefix}{j + 1}"]
        if (j + 1) % columns:
            assert next_x > x and abs(next_y - y) < 1, f"{prefix}{j + 1} is not right of {prefix}{j}"
        else:
            assert next_y > y, f"{prefix}{j + 1} does not start the row below {prefix}{j}"


@pytest.mark.parametrize("shape", [(2, [8, 8, 3], False, "LR"), (2, [8, 8, 3], False, "TB"),
                                   (30, [32, 27], None, "LR"), (30, [200, 27], None, "LR")])
def test_every_layer_is_drawn_in_index_order(engine, shape):  # noqa: F811
    nin, widths, cells_mode, rankdir = shape
    net = MLP(nin, widths, init=3.0, seed=8)
    rng = random.Random(8)
    with net.trace() as trace:
        loss = mse([net([rng.uniform(-1, 1) for _ in range(nin)])[0] for _ in range(4)], [1.0] * 4)
    loss.backward()
    dot = draw_network(net, trace, cells=cells_mode, rankdir=rankdir)
    centres = drawn_cells(run_layout(dot.source, "svg").decode())
    size = "full" if cells_mode is False else "compact"
    columns = grid_columns([nin] + widths, size, rankdir)
    for prefix, n, column_count in zip(["x"] + [f"l{i}_" for i in range(len(widths))], [nin] + widths, columns):
        assert {f"{prefix}{j}" for j in range(n)} <= set(centres)
        _assert_row_major(centres, prefix, n, column_count)
    axis = 0 if rankdir == "LR" else 1  # the layers follow each other left to right, or top to bottom
    starts = [min(centre[axis] for ident, centre in centres.items() if ident.startswith(prefix))
              for prefix in ("x", "l0_", "l1_")]
    assert starts == sorted(starts)


@pytest.mark.parametrize("hidden", [200, 32])
def test_the_seed_size_and_the_training_size_maps_fit_one_screen(engine, hidden):  # noqa: F811
    net, trace = seed_size(dead=(3, 17), hidden=hidden)
    width, height = png_size(run_layout(draw_network(net, trace).source, "png"))
    assert width <= SCREEN[0] and height <= SCREEN[1], (width, height)


def test_network_map_renders_svg_and_png_with_hover_titles(engine, tmp_path):  # noqa: F811
    net = MLP(2, [8, 8, 1], init=3.0, seed=7)
    dot = draw_network(net, traced(net))
    render(dot, tmp_path / "net.svg")
    render(dot, tmp_path / "net.png")
    svg = (tmp_path / "net.svg").read_text()
    assert len(drawn_cells(svg)) == 2 + 8 + 8 + 1
    assert re.search(r'<a xlink:href="#a_l0_3" xlink:title="layers\.0 neuron 3 \(tanh\): saturated on', svg)
    assert (tmp_path / "net.png").read_bytes().startswith(b"\x89PNG")
    assert 'id="a_l1_7"' in dot._repr_mimebundle_()["image/svg+xml"]  # what a notebook shows
