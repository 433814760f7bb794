"""gpt_training: its lines hold the history's numbers (counted here again), and bad histories are refused."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from viz.plots_gpt import gpt_training, history_arrays


def entry(step, loss, dead, peaked, rows):
    return {"step": step, "loss": loss, "lr": 0.01, "positions": 5, "dead": dead, "n_neurons": [8],
            "peaked_rows": peaked, "attention_rows": rows}


HISTORY = [entry(0, 3.0, [[1]], 0, 4), entry(1, 2.5, [[1, 2, 5]], 2, 4), entry(2, 2.0, [[]], 0, 0),
           entry(3, 1.5, [[0, 7]], 3, 12)]


def line(fig, gid):
    (found,) = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == gid]
    return np.asarray(found.get_ydata(), dtype=float)


def test_the_lines_hold_the_dead_counts_and_peaked_percentages():
    fig = gpt_training(HISTORY, fig=Figure(), window=2)
    assert line(fig, "dead-0").tolist() == [1, 3, 0, 2]
    assert line(fig, "dead-mean-0").tolist() == [1, 2, 1.5, 1]
    raw = line(fig, "peaked-raw")
    assert raw[[0, 1, 3]].tolist() == [0, 50, 25] and math.isnan(raw[2])  # no row of 2+ weights at step 2
    assert line(fig, "peaked-mean").tolist() == [0, 25, 50, 25]        # the NaN is left out of the mean
    assert line(fig, "raw").tolist() == [3.0, 2.5, 2.0, 1.5]           # the loss panel is loss_curve's


def test_history_arrays_counts_per_layer():
    two_layers = [dict(e, dead=e["dead"] + [[0]], n_neurons=[8, 8]) for e in HISTORY]
    steps, losses, dead, n_neurons, fraction = history_arrays(two_layers)
    assert dead.tolist() == [[1, 3, 0, 2], [1, 1, 1, 1]] and n_neurons == [8, 8]


@pytest.mark.parametrize("bad, error", [([], ValueError), ("history", ValueError), ([{"step": 0}], TypeError),
                                        ([HISTORY[0], dict(HISTORY[1], n_neurons=[9])], ValueError)])
def test_bad_histories_are_refused(bad, error):
    with pytest.raises(error):
        gpt_training(bad, fig=Figure())
