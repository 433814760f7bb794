"""Figures of training watched step by step, from a `micrograd_it.recorder.StatsRecorder` (ours or torch's traces):

- `stats_over_steps`: one statistic (mean, std, saturated %, dead ...) per layer over the steps;
- `activation_stats`: four panels of them, fastai's `plot_layer_stats` made tanh-aware;
- `hist_over_steps`: the histogram of every step side by side, steps x bins ("the colorful
  dimension"), over [-1, 1] for tanh so both of its saturated ends stay in the picture.
"""

import math

import numpy as np
from matplotlib.colors import LogNorm

from micrograd_it.recorder import LayerHistory

from ._arrays import describe
from .display import draws_figure, new_figure
from .plots_common import DEAD_COLOR, line_color, new_axes
from ._text import plain_text, shown

STATS = {  # name -> (axis label, what it shows)
    "act_mean": ("mean of act", "mean activation"),
    "act_std": ("std of act", "spread (std) of the activations"),
    "saturated_pct": ("saturated %", "saturated (sample, neuron) entries"),
    "dead": ("dead neurons", "dead: saturated on every sample of a step"),
    "grad_in_mean": ("mean of grad_in", "mean d loss / d preact"),
    "grad_in_std": ("std of grad_in", "spread of d loss / d preact"),
}


def _histories(recorder, layers, what):
    """[(label, LayerHistory)] to draw: all of the recorder's, those named in `layers`, or those given
    (one LayerHistory, a list of them, or a dict label -> LayerHistory, e.g. the same layer in several runs)."""
    if isinstance(recorder, LayerHistory):
        return [(f"{recorder.name} ({recorder.activation})", recorder)]
    if isinstance(recorder, (list, tuple)) and recorder and all(isinstance(h, LayerHistory) for h in recorder):
        return [(f"{history.name} ({history.activation})", history) for history in recorder]
    if isinstance(recorder, dict) and recorder and all(isinstance(h, LayerHistory) for h in recorder.values()):
        return [(str(label), history) for label, history in recorder.items()]  # e.g. several runs' layers
    known = getattr(recorder, "layers", None)
    if not isinstance(known, dict):
        raise TypeError(f"{what} needs a StatsRecorder or a LayerHistory, got {describe(recorder)}")
    if not known:
        raise ValueError(f"{what}: the recorder has recorded nothing yet")
    if layers is None:
        layers = list(known)
    if isinstance(layers, str):
        layers = [layers]
    missing = [name for name in layers if name not in known]
    if missing:
        raise ValueError(f"{what}: no layer {missing[0]!r} recorded; the layers are {list(known)}")
    return [(f"{name} ({known[name].activation})", known[name]) for name in layers]


def _stride_text(histories):
    strides = {history.stride for _, history in histories}
    if strides == {1}:
        return ""
    return f" (each point: {'up to ' if len(strides) > 1 else ''}{max(strides)} steps merged)"


@draws_figure
def stats_over_steps(recorder, stat="saturated_pct", layers=None, ax=None):
    """Plot one statistic per layer over the steps; return the Axes.

    `recorder`: a StatsRecorder, one LayerHistory, a list of them, or a dict label -> LayerHistory; `stat`: one of act_mean, act_std, saturated_pct,
    dead, grad_in_mean, grad_in_std; `layers`: names to draw (default: all). Rows without a value
    (no gradient recorded) are gaps. Raises TypeError/ValueError naming a bad argument.
    """
    if stat not in STATS:
        raise ValueError(f"stats_over_steps stat must be one of {sorted(STATS)}, got {stat!r}")
    histories = _histories(recorder, layers, "stats_over_steps")
    ax = new_axes(ax)
    handles = []
    for index, (label, history) in enumerate(histories):
        values = [np.nan if value is None else value for value in getattr(history, stat)]
        color = DEAD_COLOR if stat == "dead" and len(histories) == 1 else line_color(index)
        handles += ax.plot(history.steps, values, color=color, linewidth=1.4, label=plain_text(label),
                           gid=f"stat-{shown(label)}")
    label, meaning = STATS[stat]
    if stat == "saturated_pct":
        ax.set_ylim(-2, 102)
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.set_title(f"{meaning}{_stride_text(histories)}", fontsize=10)
    # handles and labels given: a name starting with "_" is not left out of the legend
    ax.legend(handles, [handle.get_label() for handle in handles], fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return ax


@draws_figure
def activation_stats(recorder, layers=None, fig=None, stats=("act_mean", "act_std", "saturated_pct", "dead")):
    """Draw `stats` (default: mean, std, saturated %, dead) per layer over the steps, one panel each; return the Figure.

    `fig`: a Figure to draw into (a new one when None). Raises like `stats_over_steps`.
    """
    for stat in stats:
        if stat not in STATS:
            raise ValueError(f"activation_stats stats must be among {sorted(STATS)}, got {stat!r}")
    histories = _histories(recorder, layers, "activation_stats")
    if fig is None:
        fig = new_figure((11, 3.2 * math.ceil(len(stats) / 2)))
    axes = np.atleast_1d(fig.subplots(math.ceil(len(stats) / 2), min(2, len(stats)), squeeze=False)).ravel()
    for ax, stat in zip(axes, stats):
        stats_over_steps(dict(histories), stat, ax=ax)
        ax.set_title(STATS[stat][1], fontsize=10)  # the merging is said once, in the figure's title
    for ax in axes[len(stats):]:
        ax.set_visible(False)
    fig.suptitle(f"Activations over training, per layer{_stride_text(histories)}", fontsize=12)
    return fig


def _hist_matrix(history, what):
    """(bins x rows array of the mean count per step, bin edges, text of what fell outside)."""
    if what == "act":
        counts, edges = np.array(history.act_hist, dtype=float), history.act_edges
        outside = np.array(history.act_below) + np.array(history.act_above)
        extra = ""
    else:
        counts, edges = np.array(history.grad_hist, dtype=float), history.grad_log10_edges
        outside = np.array(history.grad_below) + np.array(history.grad_above)
        zeros = np.array(history.grad_zero)
        total = counts.sum() + outside.sum() + zeros.sum()
        extra = f", exactly 0: {100 * zeros.sum() / total:.1f}%" if total else ""
    total = counts.sum() + outside.sum()
    outside_text = f"outside the range: {100 * outside.sum() / total:.1f}%{extra}" if total else "no values"
    steps_per_row = np.array([last - first + 1 for first, last in history.step_ranges], dtype=float)
    return (counts / steps_per_row[:, None]).T, edges, outside_text


@draws_figure
def hist_over_steps(recorder, layer=None, what="act", ax=None):
    """Draw one layer's histogram at every step side by side (x: step, y: value, colour: count); return the Axes.

    `what`: "act" (bins over the recorder's range, [-1, 1] for tanh) or "grad_in" (log10 |d loss / d preact|).
    `layer`: its name (default: the recorder's first layer). The colour is the mean count per step in
    each bin, on a log scale. Raises TypeError/ValueError naming a bad argument.
    """
    if what not in ("act", "grad_in"):
        raise ValueError(f"hist_over_steps what must be 'act' or 'grad_in', got {what!r}")
    _, history = _histories(recorder, None if layer is None else [layer], "hist_over_steps")[0]
    matrix, edges, outside_text = _hist_matrix(history, what)
    ax = new_axes(ax, figsize=(8.0, 4.2))
    ranges = history.step_ranges
    x_edges = [first for first, _ in ranges] + [ranges[-1][1] + 1]
    positive = matrix[matrix > 0]
    norm = LogNorm(vmin=positive.min(), vmax=positive.max()) if positive.size else None
    mesh = ax.pcolormesh(x_edges, edges, np.ma.masked_equal(matrix, 0), cmap="viridis", norm=norm,
                         shading="flat", gid="hist")
    ax.set_facecolor("black")  # an empty bin is black, like the lowest colours
    ax.figure.colorbar(mesh, ax=ax, label="values per step in the bin (log scale)")
    ax.set_xlabel("step")
    ax.set_ylabel("activation" if what == "act" else "log10 |grad_in|")
    ax.set_title(f"{plain_text(history.name)} ({plain_text(history.activation)}): histogram of {what} at every step\n"
                 f"{outside_text}"
                 f"{_stride_text([(history.name, history)])}", fontsize=10)
    return ax
