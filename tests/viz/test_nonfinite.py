"""Numbers at the edge of the floats reaching a picture: each draws, honestly marked, or is refused by name.

What a non-finite or huge number means in each place that turns a number into a size, a colour, a bin or an
axis limit: a network map's bar whose norm is past the floats is full and vermillion (its title prints the
norm); an edge whose gradient flow is NaN or infinite is the thickest, vermillion; a NaN saturation is grey;
a histogram bins (nearly) equal values far from 0 and ranges as wide as the floats; an axis refuses values
past viz's DRAWABLE by name; the explorer refuses a graph whose backward pass leaves the floats, as backward()
does.
"""

import math

import numpy as np
import pytest

from micrograd_it import Value
from tests.viz.network_helpers import cells
from tests.viz.test_network import seed_size
from viz.graph import PALETTE, UNKNOWN_FILL, _edge_attrs, _FlowScale, draw_graph, saturation_color
from viz.network import draw_network
from viz.network_cells import BAR_WIDTH

pytest.importorskip("matplotlib")


@pytest.mark.parametrize("huge", [1e200, 1e307, 1.5e308])
def test_a_map_of_weights_whose_norms_leave_the_floats_draws(huge):
    net, trace = seed_size(hidden=40)
    for w in net.layers[0].neurons[3].w:  # 30 weights of `huge`: their sum of squares overflows
        w.data = huge
    drawn = cells(draw_network(net, trace).source)
    norm = math.hypot(*[huge] * 30)  # the true norm; inf only past 1.8e308
    bar = drawn["l0_3"].bars["in"]
    assert int(bar["WIDTH"]) == BAR_WIDTH
    assert (bar["BGCOLOR"] == PALETTE["vermillion"]) == math.isinf(norm)
    assert f"||w in|| {norm:.3g}" in drawn["l0_3"].attrs["TITLE"]
    others = [int(drawn[f"l0_{j}"].bars["in"]["WIDTH"]) for j in range(40) if j != 3]
    assert all(width >= 1 for width in others)  # finite bars keep an integer width (they were NaN before)


def test_a_nan_saturation_is_the_unknown_grey_and_the_scale_is_unchanged():
    assert saturation_color(float("nan")) == UNKNOWN_FILL
    assert saturation_color(0.0) == "#FFFFD4" and saturation_color(1.0) == "#993404"  # SATURATION_SCALE's ends
    assert saturation_color(float("inf")) == saturation_color(1.0)


@pytest.mark.parametrize("flow", [math.inf, math.nan])
def test_an_edge_whose_flow_left_the_floats_is_marked(flow):
    scale = _FlowScale([1.0, flow, 1e-3], 1e-6)
    assert scale.top == 1.0  # the finite flows set the scale
    assert _edge_attrs(flow, scale)["color"] == PALETTE["vermillion"]
    assert float(_edge_attrs(1.0, scale)["penwidth"]) == pytest.approx(4.0)  # the top finite flow: the widest


def test_a_graph_with_an_infinite_gradient_draws():
    x, w = Value(2.0, label="x"), Value(-3.0, label="w")
    out = (x * w).tanh()
    out.backward()
    w.grad = 1e308  # a user's number; the flow from it overflows in the drawing's products
    x.grad = 1e308
    source = draw_graph(out).source
    assert "x | data&#32;2 | grad&#32;1e+308" in source


@pytest.mark.parametrize("values", [[1e30], [1e30, 1e30], [-1e300, 1e300], [0.0], [1e-320]])
def test_histograms_of_finite_extremes_draw_every_value(values):
    from viz.plots_common import bin_edges
    from viz.plots_hist import activation_hist, grad_hist, preact_hist

    edges = bin_edges(np.array(values), 50)
    assert len(edges) == 51 and np.isfinite(edges).all() and (np.diff(edges) > 0).all()
    assert np.histogram(values, bins=edges)[0].sum() == len(values)  # numpy's own count: none left out
    for draw in (activation_hist, preact_hist, grad_hist):
        ax = draw(values)
        assert sum(patch.get_height() for patch in ax.patches if patch.get_width() > 0 and
                   patch.get_facecolor() != (0.0, 0.0, 0.0, 0.0)) >= len(values) or draw is preact_hist
        ax.figure.savefig(__import__("io").BytesIO(), format="png")


def test_a_histogram_past_what_an_axis_can_place_is_refused_by_name():
    from viz.plots_hist import preact_hist

    with pytest.raises(ValueError, match=r"preact_hist preact holds 1 values beyond \+-1e\+300.*1e\+308"):
        preact_hist([0.5, 1e308])


def test_the_explorer_refuses_a_backward_pass_that_leaves_the_floats_as_backward_does():
    from micrograd_it import AnomalyError
    from viz.explore import explore

    t = Value(1e-300, label="t")
    root = (t * 1e300) * 1e300  # forward 1e300, finite; d root / d t = 1e600, past the floats
    with pytest.raises(AnomalyError):
        root.backward()
    assert t.grad == 0.0
    with pytest.raises(ValueError, match=r"explore\(\) cannot step through this graph: t .*gradient inf"):
        explore(root)


def test_a_replay_of_a_nan_loss_is_refused_naming_the_step():
    from micrograd_it.nn import MLP
    from viz.replay import replay_frame, replay_page

    net = MLP(2, [3, 1], seed=0)
    with net.trace() as trace:
        out = net([0.5, -0.5])
    out.backward()
    frames = [replay_frame(trace.layers[0], 1.0), replay_frame(trace.layers[0], float("nan"))]
    with pytest.raises(ValueError, match=r"NaN or infinite: data\['frames'\]\[1\]\['loss'\] is nan"):
        replay_page(frames)
    assert "<html" in replay_page(frames[:1]).lower()  # the finite one makes a page
