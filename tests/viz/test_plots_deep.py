"""viz.plots_deep: each figure draws exactly the recorded numbers of micrograd_it.deep_stats / deep_sweep."""

import math
import random

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
from matplotlib.figure import Figure  # noqa: E402

from micrograd_it.data import build_char_dataset  # noqa: E402
from micrograd_it.deep_stats import activation_record, gradient_record, weight_record  # noqa: E402
from micrograd_it.deep_sweep import CONFIGS, agreement, run_config  # noqa: E402
from viz.plots_common import line_color  # noqa: E402
from viz.plots_deep import (deep_act_hist, deep_agreement, deep_diagnostics, deep_grad_hist,  # noqa: E402
                            deep_update_ratio, deep_weight_grad_hist)

WORDS = ["emma", "olivia", "ava", "isabella", "sophia", "mia", "charlotte", "amelia"]


def _tiny_run(config, seed=0):
    X, Y = build_char_dataset(WORDS, block_size=3)
    return run_config(config, X, Y, hidden=5, batch=6, steps=5, emb_dim=3, depth=3, seed=seed)


@pytest.fixture(scope="module")
def runs():
    return [_tiny_run(config) for config in CONFIGS]


def _activations():
    rng = random.Random(0)
    return [activation_record(2 * i + 1, "Tanh", [math.tanh(rng.gauss(0, 0.5 + i)) for _ in range(300)])
            for i in range(3)]


def test_act_hist_draws_each_layers_density_at_its_bin_centres_with_its_line():
    records = _activations()
    ax = deep_act_hist(records, ax=Figure().add_subplot())
    assert len(ax.lines) == 3
    for index, (line, record) in enumerate(zip(ax.lines, records)):
        edges = np.array(record["hist"]["edges"])
        assert np.array_equal(line.get_xdata(), (edges[:-1] + edges[1:]) / 2)
        assert list(line.get_ydata()) == record["hist"]["density"]
        assert line.get_color() == line_color(index)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [r["line"] for r in records]
    shaded = [patch for patch in ax.patches]  # the two saturated regions |t| > 0.97
    assert len(shaded) == 2


def test_grad_and_weight_hists_draw_the_records():
    rng = random.Random(1)
    grads = [gradient_record(1, "Tanh", [rng.gauss(0, 1e-3) for _ in range(200)])]
    ax = deep_grad_hist(grads, ax=Figure().add_subplot())
    assert list(ax.lines[0].get_ydata()) == grads[0]["hist"]["density"]
    assert ax.get_legend().get_texts()[0].get_text() == grads[0]["line"]
    data, grad = [rng.gauss(0, 0.2) for _ in range(60)], [rng.gauss(0, 1e-3) for _ in range(60)]
    weights = [weight_record("W1", (6, 10), data, grad)]
    ax = deep_weight_grad_hist(weights, ax=Figure().add_subplot())
    assert list(ax.lines[0].get_ydata()) == weights[0]["hist"]["density"]
    assert f"grad:data {weights[0]['ratio']:.2e}" in ax.get_legend().get_texts()[0].get_text()


def test_update_ratio_draws_each_series_and_the_guide_leaving_out_undefined_steps():
    series = {"C": [-3.1, None, -2.9], "W1": [-2.0, -2.2, -2.4]}
    ax = deep_update_ratio(series, ax=Figure().add_subplot())
    c_line, w_line, guide = ax.lines
    assert list(c_line.get_xdata()) == [0, 2] and list(c_line.get_ydata()) == [-3.1, -2.9]
    assert list(w_line.get_ydata()) == series["W1"]
    assert guide.get_gid() == "guide" and list(guide.get_ydata()) == [-3.0, -3.0]


def test_diagnostics_figure_has_the_seven_panels_of_the_run(runs):
    run = runs[4]  # BatchNorm
    fig = deep_diagnostics(run, title="tiny")
    axes = fig.axes
    assert len(axes) == 7
    assert [line.get_ydata().tolist() for line in axes[0].lines] == [r["hist"]["density"] for r in run["init"]["activations"]]
    assert [line.get_ydata().tolist() for line in axes[3].lines] == [r["hist"]["density"] for r in run["final"]["activations"]]
    assert len(axes[6].lines) == len(run["update_ratio"]) + 1


def test_agreement_figure_draws_both_engines_profiles(runs):
    other = [_tiny_run(config, seed=1) for config in CONFIGS]  # a second "engine": another seed
    agreed = agreement(runs, other)
    fig = deep_agreement(agreed, "init")
    saturation_ax, gradient_ax = fig.axes
    rows = [row for row in agreed["rows"] if row["when"] == "init"]
    assert len(saturation_ax.lines) == 2 * len(rows)
    for index, row in enumerate(rows):
        torch_line, engine_line = saturation_ax.lines[2 * index], saturation_ax.lines[2 * index + 1]
        assert list(torch_line.get_ydata()) == row["torch"]["saturated_pct"]
        assert list(engine_line.get_ydata()) == row["engine"]["saturated_pct"]
        relative = gradient_ax.lines[2 * index + 1].get_ydata()
        assert relative.tolist() == pytest.approx([s / row["engine"]["grad_std"][0] for s in row["engine"]["grad_std"]])


def test_bad_records_are_refused():
    with pytest.raises(ValueError, match="non-empty list"):
        deep_act_hist([])
    with pytest.raises(TypeError, match="records with"):
        deep_grad_hist([{"line": "x"}])
    with pytest.raises(ValueError, match="when must be"):
        deep_agreement({"rows": []}, "later")
