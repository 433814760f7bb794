"""The makemore lecture's four diagnostics of a deep net, drawn from the records of `micrograd_it.deep_stats`.

Each figure reads numbers already computed (by `micrograd_it.deep.diagnose` on the
engine, or `micrograd_it.torch_deep.diagnose_torch` in PyTorch): it draws, it never
recomputes. One line per layer or weight, coloured in order like every multi-line figure:

- `deep_act_hist`: the tanh outputs' density histogram per layer, the lecture's printed line
  in the legend (``layer 1 (      Tanh): mean -0.02, std 0.75, saturated: 20.25%``);
- `deep_grad_hist`: the gradient at those outputs per layer, mean and std in the legend;
- `deep_weight_grad_hist`: each 2-D weight's gradient, its std(grad) / std(data) in the legend;
- `deep_update_ratio`: log10(std(lr * grad) / std(data)) of each weight over the steps, with
  the 1e-3 guide (-3: the lecture's rule of thumb).

`deep_diagnostics` puts the three histograms at init and after training, and the update
ratio, in one Figure.
"""

import numpy as np

from ._arrays import describe
from ._text import plain_text
from .display import draws_figure, new_figure
from .plots_common import BLACK, SATURATED_SHADE, line_color, new_axes

__all__ = ["deep_act_hist", "deep_grad_hist", "deep_weight_grad_hist", "deep_update_ratio", "deep_diagnostics",
           "deep_agreement"]


def _records(records, what, keys):
    """Return `records` as a list after checking each is a dict holding `keys` and a hist."""
    if not isinstance(records, (list, tuple)) or not records:
        raise ValueError(f"{what} needs a non-empty list of records (deep_stats), got {describe(records)}")
    for record in records:
        if not isinstance(record, dict) or any(key not in record for key in (*keys, "hist")):
            raise TypeError(f"{what} needs records with {list(keys)} and 'hist', got {describe(record)}")
    return list(records)


def _centres(hist):
    edges = np.asarray(hist["edges"], dtype=float)
    return (edges[:-1] + edges[1:]) / 2


def _hist_lines(ax, records, label_of):
    handles = []
    for index, record in enumerate(records):
        handles += ax.plot(_centres(record["hist"]), record["hist"]["density"], color=line_color(index),
                           linewidth=1.5, label=plain_text(label_of(record)))
    # below the axes, in a fixed-width font: the lecture's printed lines stay aligned
    ax.legend(handles, [h.get_label() for h in handles], loc="upper left", bbox_to_anchor=(0.0, -0.16),
              frameon=False, prop={"family": "monospace", "size": 7})
    ax.set_ylabel("density")
    return handles


@draws_figure
def deep_act_hist(activations, ax=None, title="activation distribution"):
    """Draw each tanh layer's histogram of outputs (a list of `activation_record`s); return the Axes.

    The saturated regions (|t| > the records' threshold, 0.97) are shaded grey. Raises
    TypeError/ValueError for records that are not deep_stats activation records.
    """
    records = _records(activations, "deep_act_hist", ("line", "threshold"))
    ax = new_axes(ax, figsize=(6.4, 4.6))
    threshold = records[0]["threshold"]
    for start, stop in ((-1.0, -threshold), (threshold, 1.0)):
        ax.axvspan(start, stop, color=SATURATED_SHADE, zorder=0, linewidth=0)
    _hist_lines(ax, records, lambda record: record["line"])
    ax.set_xlim(-1.05, 1.05)
    ax.set_xlabel(f"tanh output t   (grey: |t| > {threshold:g}, counted as saturated)")
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def deep_grad_hist(gradients, ax=None, title="gradient distribution"):
    """Draw each tanh layer's histogram of d loss / d t (a list of `gradient_record`s); return the Axes."""
    records = _records(gradients, "deep_grad_hist", ("line", "std"))
    ax = new_axes(ax, figsize=(6.4, 4.6))
    _hist_lines(ax, records, lambda record: record["line"])
    ax.set_xlabel("gradient d loss / d t at the tanh outputs")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def deep_weight_grad_hist(weights, ax=None, title="weights gradient distribution"):
    """Draw each 2-D weight's gradient histogram (a list of `weight_record`s), its grad:data ratio in the
    legend; return the Axes."""
    records = _records(weights, "deep_weight_grad_hist", ("name", "shape", "ratio"))

    def label(record):
        ratio = "undefined" if record["ratio"] is None else f"{record['ratio']:.2e}"
        return f"{record['name']:>3} {str(tuple(record['shape'])):>10}  grad:data {ratio}"

    ax = new_axes(ax, figsize=(6.4, 4.6))
    _hist_lines(ax, records, label)
    ax.set_xlabel("gradient of the weight")
    ax.ticklabel_format(axis="x", style="sci", scilimits=(-2, 2))
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def deep_update_ratio(update_ratio, ax=None, guide=-3.0, title="update : data ratio over steps"):
    """Plot each weight's log10(std(lr * grad) / std(data)) per step ({name: [ratio or None per step]}), with a
    dashed guide at `guide` (1e-3); return the Axes. Steps where a ratio is None are left out."""
    if not isinstance(update_ratio, dict) or not update_ratio:
        raise ValueError(f"deep_update_ratio needs {{weight name: [log10 ratio per step]}}, got {describe(update_ratio)}")
    ax = new_axes(ax, figsize=(6.4, 4.2))
    handles = []
    for index, (name, series) in enumerate(update_ratio.items()):
        steps = [step for step, ratio in enumerate(series) if ratio is not None]
        handles += ax.plot(steps, [series[step] for step in steps], color=line_color(index), linewidth=1.0,
                           label=plain_text(name))
    handles.append(ax.axhline(guide, color=BLACK, linestyle="--", linewidth=1, gid="guide",
                              label=f"1e{guide:g} guide"))
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="lower right", frameon=False, ncol=2)
    ax.set_xlabel("step")
    ax.set_ylabel("log10( std(lr * grad) / std(data) )")
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def deep_diagnostics(run, title="", fig=None):
    """Draw a `diagnose` result (dict with "init", "final", "update_ratio"): the three histograms at init
    (top row) and after training (bottom row), and the update ratio on the right; return the Figure."""
    if not isinstance(run, dict) or any(key not in run for key in ("init", "final", "update_ratio")):
        raise TypeError(f"deep_diagnostics needs a diagnose() result, got {describe(run)}")
    if fig is None:
        fig = new_figure((20, 10))
    grid = fig.add_gridspec(2, 4)
    steps = len(next(iter(run["update_ratio"].values())))
    for row, (when, label) in enumerate((("init", "at init"), ("final", f"after {steps} steps"))):
        record = run[when]
        deep_act_hist(record["activations"], ax=fig.add_subplot(grid[row, 0]), title=f"activations {label}")
        deep_grad_hist(record["gradients"], ax=fig.add_subplot(grid[row, 1]), title=f"gradients {label}")
        deep_weight_grad_hist(record["weights"], ax=fig.add_subplot(grid[row, 2]),
                              title=f"weights' gradients {label}")
    deep_update_ratio(run["update_ratio"], ax=fig.add_subplot(grid[:, 3]))
    if title:
        fig.suptitle(title, fontsize=12)
    return fig


@draws_figure
def deep_agreement(agreement, when="init", fig=None):
    """Draw the two engines' profiles of `micrograd_it.deep_sweep.agreement` at `when` ("init" or "final"):
    saturated % per tanh layer (left) and the gradient std per layer over the first layer's (right, log),
    one colour per configuration, PyTorch solid with squares, our engine dashed with circles; return the Figure."""
    if not isinstance(agreement, dict) or "rows" not in agreement:
        raise TypeError(f"deep_agreement needs an agreement() result, got {describe(agreement)}")
    if when not in ("init", "final"):
        raise ValueError(f"deep_agreement when must be 'init' or 'final', got {when!r}")
    rows = [row for row in agreement["rows"] if row["when"] == when]
    if not rows:
        raise ValueError(f"deep_agreement got no configuration at {when!r}")
    if fig is None:
        fig = new_figure((12, 4.8))
    saturation_ax, gradient_ax = fig.subplots(1, 2)
    for index, row in enumerate(rows):
        for engine, style, marker in (("torch", "-", "s"), ("engine", "--", "o")):
            numbers = row[engine]
            depth = np.arange(1, len(numbers["saturated_pct"]) + 1)
            label = f"{plain_text(row['title'])} ({'PyTorch' if engine == 'torch' else 'engine'})"
            saturation_ax.plot(depth, numbers["saturated_pct"], linestyle=style, marker=marker,
                               color=line_color(index), label=label)
            relative = np.asarray(numbers["grad_std"]) / numbers["grad_std"][0]
            gradient_ax.plot(depth, relative, linestyle=style, marker=marker, color=line_color(index), label=label)
    saturation_ax.set_xlabel("tanh layer (1 = nearest the input)")
    saturation_ax.set_ylabel("% of outputs with |t| > 0.97")
    saturation_ax.set_title("saturated % per layer", fontsize=10)
    gradient_ax.set_yscale("log")
    gradient_ax.axhline(1.0, color=BLACK, linewidth=0.8, linestyle=":")
    gradient_ax.set_xlabel("tanh layer (1 = nearest the input)")
    gradient_ax.set_ylabel("gradient std / gradient std at layer 1")
    gradient_ax.set_title("how the gradient std changes with depth", fontsize=10)
    gradient_ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False)
    for ax in (saturation_ax, gradient_ax):
        ax.set_xticks(depth)
    moment = "at init" if when == "init" else "after training"
    fig.suptitle(f"Both engines {moment}: PyTorch at the lecture's size (solid), our engine smaller (dashed)",
                 fontsize=11)
    return fig
