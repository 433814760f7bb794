"""viz.plots: every figure is checked by the data it drew, against numpy or a hand recomputation.

No pyplot anywhere: figures are plain `matplotlib.figure.Figure`s (Agg canvas when saved).
"""

import io
import math
import subprocess
import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from micrograd_it import Value, is_grad_enabled  # noqa: E402
from micrograd_it.losses import mse  # noqa: E402
from micrograd_it.catalogue import ACTIVATIONS  # noqa: E402
from micrograd_it.nn import MLP  # noqa: E402
from viz.plots import (activation_gallery, activation_hist, decision_boundary, grad_data_ratio,  # noqa: E402
                       grad_hist, loss_curve, preact_hist, saturation_map, update_ratio_history)

RNG = np.random.default_rng(0)
PREACT_BAD = RNG.normal(0.0, 8.0, size=(32, 200))  # the lecture's bad init: most tanh units saturated
PREACT_BAD[:, 17] = np.abs(PREACT_BAD[:, 17]) + 5.0  # a biased neuron: saturated on every sample
H_BAD = np.tanh(PREACT_BAD)


def new_ax():
    return Figure().add_subplot()


def bar_heights(ax):
    (bars,) = ax.containers
    return np.array([patch.get_height() for patch in bars])


def bar_edges(ax):
    (bars,) = ax.containers
    return np.array([patch.get_x() for patch in bars] + [bars[-1].get_x() + bars[-1].get_width()])


def traced_net(activation="tanh", init=3.0, bias_init=0.0, seed=0):
    """A small MLP traced over 12 inputs, after backward(); return (net, trace)."""
    net = MLP(3, [8, 6, 1], activation=activation, init=init, seed=seed, bias_init=bias_init)
    inputs = np.random.default_rng(seed).normal(0.0, 1.0, size=(12, 3)).tolist()
    with net.trace() as tr:
        preds = [net(x) for x in inputs]
        mse(preds, [0.5] * len(preds)).backward()
    return net, tr


# -- histograms --------------------------------------------------------------

def test_activation_hist_bars_are_numpy_histogram_and_title_has_stats():
    ax = activation_hist(H_BAD)
    counts, edges = np.histogram(H_BAD.ravel(), bins=50)
    assert np.array_equal(bar_heights(ax), counts)
    assert np.allclose(bar_edges(ax), edges)
    saturated = 100 * np.mean(np.abs(H_BAD) > 0.99)
    title = ax.get_title()
    assert f"mean {H_BAD.mean():+.3f}" in title and f"std {H_BAD.std():.3f}" in title
    assert f"saturated {saturated:.1f}%" in title


def test_preact_hist_counts_the_share_whose_tanh_saturates():
    ax = preact_hist(PREACT_BAD, bins=30)
    counts, _ = np.histogram(PREACT_BAD.ravel(), bins=30)
    assert np.array_equal(bar_heights(ax), counts)
    # independent: tanh itself, not atanh of the threshold
    share = 100 * np.mean(np.abs(np.tanh(PREACT_BAD)) > 0.99)
    assert f"tanh-saturated {share:.1f}%" in ax.get_title()


def test_several_layers_draw_one_density_line_each_with_stats_in_the_legend():
    layers = {"bad": H_BAD, "fixed": np.tanh(PREACT_BAD / 8)}
    ax = activation_hist(layers, bins=40)
    assert len(ax.lines) == 2
    for line, (name, h) in zip(ax.lines, layers.items()):
        density, edges = np.histogram(h.ravel(), bins=40, density=True)
        assert np.allclose(line.get_ydata(), density)
        assert np.allclose(line.get_xdata(), (edges[:-1] + edges[1:]) / 2)
        assert line.get_label().startswith(f"{name}: mean {h.mean():+.3f}, std {h.std():.3f}")


def test_grad_hist_bars_and_vanished_share():
    grads = np.concatenate([np.zeros(30), RNG.normal(0, 1e-3, 70)])
    ax = grad_hist(grads.tolist())
    assert np.array_equal(bar_heights(ax), np.histogram(grads, bins=50)[0])
    vanished = 100 * sum(abs(g) <= 1e-6 for g in grads) / len(grads)
    assert f"vanished {vanished:.1f}%" in ax.get_title()


# -- saturation map ------------------------------------------------------------

def test_saturation_image_is_the_boolean_mask_and_dead_columns_are_marked():
    ax = saturation_map(H_BAD.tolist())
    (image,) = ax.images
    assert np.array_equal(np.asarray(image.get_array()), np.abs(H_BAD) > 0.99)
    # independent recomputation of dead columns, plain loops
    dead = [j for j in range(H_BAD.shape[1]) if all(abs(row[j]) > 0.99 for row in H_BAD)]
    assert 17 in dead
    (markers,) = [line for line in ax.lines if line.get_gid() == "dead"]
    assert list(markers.get_xdata()) == dead
    assert f"{len(dead)} dead neuron" in ax.get_title()


def test_saturation_map_of_a_healthy_layer_marks_nothing():
    ax = saturation_map(np.tanh(RNG.normal(0, 0.5, size=(16, 10))))
    (markers,) = [line for line in ax.lines if line.get_gid() == "dead"]
    assert len(markers.get_xdata()) == 0 and "0 dead neurons" in ax.get_title()


@pytest.mark.parametrize("activation, bias_init", [("tanh", 4.0), ("relu", -3.0)])
def test_saturation_map_of_a_trace_uses_the_traces_own_rule(activation, bias_init):
    _, tr = traced_net(activation, init=1.0, bias_init=bias_init)
    layer = tr.layers[0]
    ax = saturation_map(layer)
    assert np.array_equal(np.asarray(ax.images[0].get_array()), np.array(layer.saturated(0.99)))
    (markers,) = [line for line in ax.lines if line.get_gid() == "dead"]
    assert list(markers.get_xdata()) == layer.dead(0.99) and layer.dead(0.99)  # the biases make some dead
    if activation == "relu":  # a relu is "saturated" where it outputs 0, not where |h| > 0.99
        assert np.array_equal(np.asarray(ax.images[0].get_array()), np.array(layer.act) == 0)


class FakeLayer:
    """The attributes a LayerTrace offers, with a saturation rule that |h| > thr would not give."""

    name, activation = "fake.0", "relu"
    act = [[0.0, 2.0], [0.0, 0.0], [0.0, 3.0]]
    preact = [[-1.0, 2.0], [-2.0, -0.5], [-3.0, 3.0]]

    def saturated(self, threshold=0.99):
        return [[value == 0.0 for value in row] for row in self.act]

    def dead(self, threshold=0.99):
        return [0]


def test_anything_with_the_layer_trace_attributes_is_drawn_by_its_own_rule():
    ax = saturation_map(FakeLayer())
    assert np.array_equal(np.asarray(ax.images[0].get_array()), np.array(FakeLayer.act) == 0.0)
    assert list(ax.lines[0].get_xdata()) == [0]
    assert ax.get_title().startswith("fake.0 (relu)")


def test_trace_and_equivalent_numpy_array_draw_identical_data():
    _, tr = traced_net("tanh")
    layer = tr.layers[1]
    pairs = [
        (activation_hist(layer), activation_hist(np.array(layer.act))),
        (preact_hist(layer), preact_hist(np.array(layer.preact))),
        (grad_hist(layer), grad_hist(np.array(layer.grad_in))),
    ]
    for from_trace, from_array in pairs:
        assert np.array_equal(bar_heights(from_trace), bar_heights(from_array))
        assert np.array_equal(bar_edges(from_trace), bar_edges(from_array))
        assert from_trace.get_title().split("\n")[1] == from_array.get_title().split("\n")[1]
    from_trace, from_array = saturation_map(layer), saturation_map(np.array(layer.act))
    assert np.array_equal(np.asarray(from_trace.images[0].get_array()), np.asarray(from_array.images[0].get_array()))
    assert np.array_equal(from_trace.lines[0].get_xdata(), from_array.lines[0].get_xdata())
    several = activation_hist(tr.layers), activation_hist({lt.name: np.array(lt.act) for lt in tr.layers})
    for line_trace, line_array in zip(several[0].lines, several[1].lines):
        assert np.array_equal(line_trace.get_ydata(), line_array.get_ydata())


def test_a_torch_tensor_that_requires_grad_is_accepted():
    torch = pytest.importorskip("torch")
    preact = torch.tensor(PREACT_BAD, requires_grad=True)
    h = torch.tanh(preact)
    assert np.array_equal(bar_heights(activation_hist(h)), bar_heights(activation_hist(H_BAD)))
    assert np.array_equal(np.asarray(saturation_map(h).images[0].get_array()), np.abs(H_BAD) > 0.99)


# -- the activation gallery --------------------------------------------------------

def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


# closed forms written from the textbook formulas, independently of the engine
CLOSED_FORMS = {
    "tanh": (math.tanh, lambda x: 1 - math.tanh(x) ** 2),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1 - _sigmoid(x))),
    "relu": (lambda x: max(x, 0.0), lambda x: 1.0 if x > 0 else 0.0),
    "leaky_relu": (lambda x: x if x > 0 else 0.01 * x, lambda x: 1.0 if x > 0 else 0.01),
    "elu": (lambda x: x if x > 0 else math.exp(x) - 1, lambda x: 1.0 if x > 0 else math.exp(x)),
    "softplus": (lambda x: math.log(1 + math.exp(x)), _sigmoid),
    "gelu": (
        lambda x: 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
        lambda x: (0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
                   + 0.5 * x * math.sqrt(2 / math.pi) * (1 + 3 * 0.044715 * x**2)
                   / math.cosh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)) ** 2),
    ),
}


def _gallery_lines(fig):
    """{activation name: (xs, act ys, derivative ys)} of each panel, by the name its title starts with."""
    panels = {}
    for ax in fig.axes:
        (act_line,) = [line for line in ax.lines if line.get_gid() == "activation"]
        (grad_line,) = [line for line in ax.lines if line.get_gid() == "derivative"]
        panels[ax.get_title().split(" ")[0]] = (act_line.get_xdata(), act_line.get_ydata(), grad_line.get_ydata())
    return panels


def test_gallery_curves_equal_closed_forms():
    panels = _gallery_lines(activation_gallery())
    for name, (function, derivative) in CLOSED_FORMS.items():
        xs, acts, grads = panels[name]
        assert np.allclose(acts, [function(x) for x in xs], rtol=0, atol=1e-9)
        assert np.allclose(grads, [derivative(x) for x in xs], rtol=0, atol=1e-9)


def test_gallery_has_a_panel_per_activation_of_the_catalogue_with_its_derivative():
    xs = np.linspace(-5.0, 5.0, 41) + 0.0123  # no point on a kink at 0
    panels = _gallery_lines(activation_gallery(xs=xs))
    assert list(panels) == list(ACTIVATIONS), "one panel per activation, in catalogue order"
    for name, (xs, acts, grads) in panels.items():
        activate = getattr(Value, ACTIVATIONS[name].method)
        assert list(acts) == [activate(Value(float(x))).data for x in xs], name  # the engine's own values
        h = 1e-6  # and the dashed line is the slope of the solid one (central differences)
        slopes = [(activate(Value(x + h)).data - activate(Value(x - h)).data) / (2 * h) for x in xs]
        assert np.allclose(grads, slopes, rtol=1e-5, atol=1e-6), name


def test_gallery_shades_where_tanhs_derivative_is_below_0_02():
    fig = activation_gallery(xs=np.linspace(-4, 4, 81))
    shade = fig.axes[0].collections[0]  # the fill_between of the saturated region
    shaded_x = np.concatenate([path.vertices[:, 0] for path in shade.get_paths()])
    edge = math.atanh(0.99)  # where 1 - t**2 = 1 - 0.99**2 = 0.0199
    assert shaded_x.min() == -4 and shaded_x.max() == 4
    assert not np.any((np.abs(shaded_x) < edge - 0.1))


# -- training figures ----------------------------------------------------------------

def test_update_ratio_history_skips_none_and_draws_the_guide_at_minus_3():
    history = [{"a.w": -2.0, "a.b": None, "c.b": None}, {"a.w": None, "a.b": -3.5, "c.b": None},
               {"a.w": -2.5, "a.b": -3.0, "c.b": None}]
    ax = update_ratio_history(history)
    lines = {line.get_label(): line for line in ax.lines}
    assert list(lines["a.w"].get_xdata()) == [0, 2] and list(lines["a.w"].get_ydata()) == [-2.0, -2.5]
    assert list(lines["a.b"].get_xdata()) == [1, 2] and list(lines["a.b"].get_ydata()) == [-3.5, -3.0]
    assert "c.b" not in lines and "c.b" in ax.get_title()
    (guide,) = [line for line in ax.lines if line.get_gid() == "guide"]
    assert list(guide.get_ydata()) == [-3, -3] and guide.get_linestyle() == "--"


def test_grad_data_ratio_is_std_grad_over_std_data_per_group():
    net, _ = traced_net("tanh", init=1.0)
    ax = grad_data_ratio(net)
    (dots,) = [line for line in ax.lines if line.get_gid() == "ratios"]
    names = [label.get_text() for label in ax.get_yticklabels()]
    expected = {}
    for index, layer in enumerate(net.layers):  # group by hand from the layers, not by parameter names
        weights = [w for neuron in layer.neurons for w in neuron.w]
        expected[f"layers.{index}.w"] = np.std([w.grad for w in weights]) / np.std([w.data for w in weights])
    assert names == list(expected)  # biases are all 0: std(data) = 0, no ratio
    assert np.allclose(dots.get_xdata(), list(expected.values()), rtol=1e-12)
    assert "layers.0.b" in ax.get_title()


def test_grad_data_ratio_takes_a_pytorch_models_named_parameters():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2))
    model(torch.randn(7, 3)).pow(2).sum().backward()
    ax = grad_data_ratio(model.named_parameters())
    names = [label.get_text() for label in ax.get_yticklabels()]
    assert names == ["0.weight", "0.bias", "2.weight", "2.bias"]
    params = dict(model.named_parameters())
    expected = [(params[n].grad.std(unbiased=False) / params[n].data.std(unbiased=False)).item() for n in names]
    (dots,) = [line for line in ax.lines if line.get_gid() == "ratios"]
    assert np.allclose(dots.get_xdata(), expected, rtol=1e-5)  # torch computes in float32


def test_loss_curve_draws_raw_and_trailing_mean():
    losses = [Value(v) for v in (5.0, 3.0, 4.0, 2.0, 1.0, 1.5)]
    ax = loss_curve(losses, window=3)
    raw, smoothed = ax.lines
    assert list(raw.get_ydata()) == [5.0, 3.0, 4.0, 2.0, 1.0, 1.5]
    assert list(smoothed.get_xdata()) == [2, 3, 4, 5]
    assert np.allclose(smoothed.get_ydata(), [(5 + 3 + 4) / 3, (3 + 4 + 2) / 3, (4 + 2 + 1) / 3, (2 + 1 + 1.5) / 3])


def test_decision_boundary_follows_the_nets_zero_and_runs_under_no_grad():
    grad_modes = []

    def net(point):  # score x0 - x1: the boundary is the diagonal
        grad_modes.append(is_grad_enabled())
        return Value(point[0]) - Value(point[1])

    X = [[0.0, 1.0], [1.0, 0.0], [2.0, 3.0], [3.0, 2.0]]
    ax = decision_boundary(net, X, [0, 1, 0, 1], resolution=11)
    assert not any(grad_modes) and len(grad_modes) >= 121
    boundary = np.concatenate([path.vertices for path in ax.collections[1].get_paths()])
    assert len(boundary) > 2 and np.allclose(boundary[:, 0], boundary[:, 1])
    assert [len(points.get_offsets()) for points in ax.collections[2:]] == [2, 2]


def test_decision_boundary_with_several_outputs_draws_no_false_class_between_two_others():
    from matplotlib.colors import to_rgb
    from viz.plots_boundary import CLASS_COLORS

    def net(point):  # argmax: class 0 left of x0 = 0, class 2 right of it; class 1 never wins
        return [Value(-point[0]), Value(-abs(point[0]) - 1.0), Value(point[0])]

    X = [[-1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
    ax = decision_boundary(net, X, [0, 1, 2], resolution=21)
    filled = [collection for collection in ax.collections if getattr(collection, "filled", False)]
    colours = {tuple(np.round(collection.get_facecolor()[0][:3], 3)) for collection in filled}
    # contouring the argmax index itself would interpolate 0 -> 2 through 1 and draw a strip of class 1
    assert tuple(np.round(to_rgb(CLASS_COLORS[1]), 3)) not in colours
    assert {tuple(np.round(to_rgb(CLASS_COLORS[k]), 3)) for k in (0, 2)} <= colours


# -- conventions -----------------------------------------------------------------

FIGURES = [  # every one-panel figure, drawn on the ax it is given (None: a new Figure)
    lambda ax: activation_hist(H_BAD, ax=ax),
    lambda ax: activation_hist({"a": H_BAD, "b": H_BAD / 2}, ax=ax),
    lambda ax: preact_hist(PREACT_BAD, ax=ax),
    lambda ax: grad_hist(H_BAD, ax=ax),
    lambda ax: saturation_map(H_BAD, ax=ax),
    lambda ax: update_ratio_history([{"g": -3.0}, {"g": -2.5}], ax=ax),
    lambda ax: loss_curve([3.0, 2.0, 1.0], ax=ax),
    lambda ax: grad_data_ratio(traced_net()[0], ax=ax),
    lambda ax: decision_boundary(lambda p: Value(p[0] - 0.5), [[0.0, 0.0], [1.0, 1.0]], [0, 1], resolution=5, ax=ax),
]


@pytest.mark.parametrize("draw", FIGURES)
def test_every_function_draws_on_the_ax_it_is_given_and_returns_it(draw):
    given = new_ax()
    assert draw(given) is given
    assert isinstance(draw(None).figure, Figure)


def test_the_gallery_draws_into_the_figure_it_is_given_and_returns_it():
    fig = Figure()
    assert activation_gallery(xs=[-1.0, 0.0, 1.0], fig=fig) is fig and len(fig.axes) == len(ACTIVATIONS)


def test_no_figure_changes_rcparams_or_imports_pyplot():
    before = dict(matplotlib.rcParams)
    for draw in FIGURES:
        draw(None).figure.savefig(io.BytesIO(), format="png", dpi=40)
    activation_gallery(xs=[-1.0, 0.0, 1.0]).savefig(io.BytesIO(), format="png", dpi=40)
    assert dict(matplotlib.rcParams) == before
    code = "import sys, viz.plots; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("bad, error, words", [
    ([[1.0, 2.0], [3.0]], ValueError, "ragged"),
    (np.zeros((2, 3, 4)), ValueError, "3-D"),
    ([], ValueError, "empty"),
    ([[1.0, "x"]], TypeError, "real numbers"),
    ("abc", TypeError, "'abc' (str)"),
    (None, TypeError, "None"),
    ([1.0, float("nan")], ValueError, "nan/inf"),
])
def test_bad_input_raises_naming_the_problem(bad, error, words):
    for draw in (activation_hist, preact_hist, grad_hist, saturation_map):
        with pytest.raises(error) as raised:
            draw(bad)
        assert words in str(raised.value)


@pytest.mark.parametrize("call, words", [
    (lambda: saturation_map([0.5, 1.0]), "2-D"),
    (lambda: activation_hist(H_BAD, threshold=1.5), "threshold"),
    (lambda: activation_hist(H_BAD, bins=0), "bins"),
    (lambda: activation_hist({}), "empty dict"),
    (lambda: update_ratio_history([]), "empty history"),
    (lambda: update_ratio_history("steps"), "list of dicts"),
    (lambda: loss_curve([1.0, -1.0], log=True), "positive"),
    (lambda: grad_data_ratio([("w", 1.0)]), "(name, parameter) pairs"),
    (lambda: decision_boundary(lambda p: Value(0.0), [[0.0, 0.0, 0.0]], [0]), "shape (n, 2)"),
    (lambda: grad_hist(H_BAD, attribute="grad"), "grad_in"),
    (lambda: activation_hist(H_BAD, ax="left"), "matplotlib Axes"),
    (lambda: activation_hist(traced_net()[1]), "pass its .layers"),
    (lambda: preact_hist(PREACT_BAD, threshold=0.0), "threshold"),
    (lambda: activation_gallery(xs=[[0.0, 1.0]]), "1-D"),
])
def test_bad_arguments_raise_naming_the_argument(call, words):
    with pytest.raises((TypeError, ValueError)) as raised:
        call()
    assert words in str(raised.value)
