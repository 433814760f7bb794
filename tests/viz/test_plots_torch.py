"""Every viz.plots function that reads layer traces draws a torch trace exactly as it draws ours (the same
MLP in both engines), and the step-by-step figures draw a recorder's rows."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
torch = pytest.importorskip("torch", reason="PyTorch is not installed: the torch figure tests need it")

from matplotlib.figure import Figure  # noqa: E402

import viz.plots  # noqa: E402
from micrograd_it.recorder import StatsRecorder  # noqa: E402
from viz.plots import (activation_hist, activation_stats, grad_hist, hist_over_steps, preact_hist,  # noqa: E402
                       saturation_map, saturation_mask, stats_over_steps)

from ..twin_nets import twin_traces  # noqa: E402

# viz.plots functions that take layer traces, each drawn with (our layer, torch's layer) or lists of them
TRACE_FIGURES = {
    "activation_hist": lambda layers: activation_hist(layers),
    "preact_hist": lambda layers: preact_hist(layers),
    "grad_hist": lambda layers: grad_hist(layers),
    "grad_hist_out": lambda layers: grad_hist(layers, attribute="grad_out"),
    "saturation_map": lambda layers: saturation_map(layers, threshold=0.9),
}
# the others and what they take instead of a layer trace
NOT_LAYER_TRACES = {
    "activation_gallery": "the activation functions themselves",
    "decision_boundary": "a net of ours evaluated on a grid",
    "grad_data_ratio": "named parameters (a torch model's are tested in test_plots.py)",
    "update_ratio_history": "SGD's ratio history",
    "loss_curve": "numbers",
    "stats_over_steps": "a StatsRecorder (fed with torch traces below)",
    "activation_stats": "a StatsRecorder (fed with torch traces below)",
    "hist_over_steps": "a StatsRecorder (fed with torch traces below)",
    "gpt_training": "the GPT lesson's history of plain numbers (tests/viz/test_plots_gpt.py)",
}


def drawn_data(ax):
    """Everything a figure shows as numbers: bar heights and edges, line data, image arrays, the stats in titles."""
    data = [[(patch.get_x(), patch.get_height()) for patch in bars] for bars in ax.containers]
    data += [(np.asarray(line.get_xdata(), dtype=float).tolist(), np.asarray(line.get_ydata(), dtype=float).tolist())
             for line in ax.lines]
    data += [np.asarray(image.get_array()).tolist() for image in ax.images]
    title = ax.get_title().split("\n")
    return data, title[1:] if len(title) > 1 else [], ax.get_legend() and [t.get_text().split(": ", 1)[1]
                                                                          for t in ax.get_legend().get_texts()]


def test_every_plots_function_is_either_drawn_from_torch_traces_here_or_takes_no_layer_trace():
    tested = {name.replace("_out", "") for name in TRACE_FIGURES} | {"saturation_mask"}
    missing = set(viz.plots.__all__) - tested - set(NOT_LAYER_TRACES)
    assert not missing, f"viz.plots functions not checked on torch traces: {sorted(missing)}"


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "gelu"])
@pytest.mark.parametrize("figure", sorted(TRACE_FIGURES))
def test_a_torch_trace_draws_the_same_figure_as_ours(figure, activation):
    ours, theirs = twin_traces(activation, init=3.0)
    draw = TRACE_FIGURES[figure]
    for mine, other in zip(ours.layers, theirs.layers):
        mine_data, other_data = drawn_data(draw(mine)), drawn_data(draw(other))
        assert np.allclose(np.array(_flat(other_data[0])), np.array(_flat(mine_data[0])), rtol=1e-9, atol=1e-12)
        assert other_data[1:] == mine_data[1:]  # the numbers in the titles, to their printed digits
    if figure != "saturation_map":  # several layers: one line each
        mine_data, other_data = drawn_data(draw(ours.layers[:-1])), drawn_data(draw(theirs.layers))
        assert np.allclose(_flat(other_data[0]), _flat(mine_data[0]), rtol=1e-9, atol=1e-12)
        assert other_data[2] == mine_data[2]


def _flat(data):
    flat = []
    for item in data:
        if isinstance(item, (list, tuple)):
            flat.extend(_flat(item))
        else:
            flat.append(float(item))
    return flat


def test_saturation_mask_of_a_torch_layer_is_its_own_rule():
    _, theirs = twin_traces("relu", init=3.0)
    layer = theirs.layers[0]
    mask, dead, rule = saturation_mask(layer)
    assert np.array_equal(mask, (layer.preact <= 0).numpy()) and dead == layer.dead() and rule == "h = 0"


# -- the step-by-step figures -----------------------------------------------------------------------------

def recorders(steps=7, max_rows=4):
    """(ours, torch's) fed with the twin traces of `steps` nets."""
    ours, theirs = StatsRecorder(act_bins=10, grad_bins=8, max_rows=max_rows), StatsRecorder(
        act_bins=10, grad_bins=8, max_rows=max_rows)
    for seed in range(steps):
        our_trace, torch_trace = twin_traces("tanh", seed=seed, init=3.0)
        ours.record(our_trace)
        theirs.record(torch_trace)
    return ours, theirs


@pytest.mark.parametrize("stat", ["act_mean", "act_std", "saturated_pct", "dead", "grad_in_mean", "grad_in_std"])
def test_stats_over_steps_draws_each_layers_rows(stat):
    _, theirs = recorders()
    ax = stats_over_steps(theirs, stat)
    for line, history in zip(ax.lines, theirs.layers.values()):
        assert line.get_gid() == f"stat-{history.name} ({history.activation})"
        assert np.allclose(line.get_xdata(), history.steps) and np.allclose(line.get_ydata(), getattr(history, stat))
    assert "each point: 2 steps merged" in ax.get_title()


def test_activation_stats_draws_four_panels_the_same_for_both_engines():
    ours, theirs = recorders()
    for_ours = activation_stats(list(ours.layers.values())[:1])
    for_torch = activation_stats(theirs, layers=["1"])
    assert len(for_torch.axes) == 4
    for mine, other in zip(for_ours.axes, for_torch.axes):
        assert np.allclose(other.lines[0].get_ydata(), mine.lines[0].get_ydata(), rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("what", ["act", "grad_in"])
def test_hist_over_steps_image_is_the_rows_counts_per_step(what):
    ours, theirs = recorders()
    history = theirs["1"]
    ax = hist_over_steps(theirs, "1", what=what)
    (mesh,) = [child for child in ax.collections if child.get_gid() == "hist"]
    counts = np.array(history.act_hist if what == "act" else history.grad_hist, dtype=float)
    steps = np.array([last - first + 1 for first, last in history.step_ranges], dtype=float)
    expected = (counts / steps[:, None]).T
    assert np.allclose(np.ma.filled(mesh.get_array(), 0).reshape(expected.shape), expected)
    edges = history.act_edges if what == "act" else history.grad_log10_edges
    assert ax.get_ylim() == pytest.approx((edges[0], edges[-1]))
    assert ax.get_xlim() == pytest.approx((0, 7))
    our_ax = hist_over_steps(ours, "layers.0", what=what)
    assert np.array_equal(np.ma.filled(our_ax.collections[0].get_array(), 0), np.ma.filled(mesh.get_array(), 0))


def test_several_runs_are_drawn_under_their_labels():
    ours, theirs = recorders(steps=3)
    ax = stats_over_steps({"ours": ours["layers.0"], "torch": theirs["1"]}, "act_std")
    assert [line.get_label() for line in ax.lines] == ["ours", "torch"]
    assert np.allclose(ax.lines[0].get_ydata(), ax.lines[1].get_ydata(), rtol=1e-9)


def test_the_tanh_histogram_spans_minus_one_to_one():
    _, theirs = recorders(steps=2)
    assert hist_over_steps(theirs).get_ylim() == (-1.0, 1.0)


@pytest.mark.parametrize("draw", [
    lambda rec, ax: stats_over_steps(rec, ax=ax), lambda rec, ax: hist_over_steps(rec, ax=ax),
    lambda rec, ax: hist_over_steps(rec, what="grad_in", ax=ax)])
def test_stats_figures_draw_on_the_ax_they_are_given(draw):
    _, theirs = recorders(steps=2)
    given = Figure().add_subplot()
    assert draw(theirs, given) is given and isinstance(draw(theirs, None).figure, Figure)
    fig = Figure()
    assert activation_stats(theirs, fig=fig) is fig


@pytest.mark.parametrize("call, error, words", [
    (lambda rec: stats_over_steps(rec, "bogus"), ValueError, "stat must be one of"),
    (lambda rec: stats_over_steps([1, 2]), TypeError, "needs a StatsRecorder or a LayerHistory"),
    (lambda rec: stats_over_steps(StatsRecorder()), ValueError, "recorded nothing yet"),
    (lambda rec: hist_over_steps(rec, "nope"), ValueError, "no layer 'nope' recorded"),
    (lambda rec: hist_over_steps(rec, what="preact"), ValueError, "what must be 'act' or 'grad_in'"),
    (lambda rec: activation_stats(rec, stats=("bogus",)), ValueError, "stats must be among"),
])
def test_bad_arguments_raise_naming_them(call, error, words):
    _, theirs = recorders(steps=1)
    with pytest.raises(error) as raised:
        call(theirs)
    assert words in str(raised.value)
