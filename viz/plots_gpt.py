"""The GPT lesson's training, step by step: its loss, its dead ReLU neurons and how peaked its attention is.

    from micrograd_it.gpt_train import train
    from viz.plots_gpt import gpt_training
    history = train(model, docs, steps=1000)
    fig = gpt_training(history)

It reads only the plain history `micrograd_it.gpt_train.train` returns (a list of dicts per step;
JSON keeps it), so a saved run can be drawn again without the model.
"""

import numpy as np

from ._arrays import describe
from .display import draws_figure, new_figure
from .plots_common import BLUE, DEAD_COLOR, SKY, check_count, line_color
from .plots_training import loss_curve

__all__ = ["gpt_training", "history_arrays"]

KEYS = ("step", "loss", "dead", "n_neurons", "peaked_rows", "attention_rows")


def history_arrays(history):
    """Return (steps, losses, dead counts: layers x steps, neurons per layer, peaked fraction per step).

    The peaked fraction of a step is peaked_rows / attention_rows (NaN for a step with no row of
    two weights: a name of one position). Raises TypeError/ValueError for a history that is not a
    non-empty list of train()'s entries.
    """
    if not isinstance(history, (list, tuple)) or not history:
        raise ValueError(f"gpt_training needs train()'s history, a non-empty list of dicts, got {describe(history)}")
    for entry in history:
        if not isinstance(entry, dict) or any(key not in entry for key in KEYS):
            raise TypeError(f"each history entry must be a dict with {', '.join(KEYS)}, got {describe(entry)}")
    n_neurons = history[0]["n_neurons"]
    if any(entry["n_neurons"] != n_neurons or len(entry["dead"]) != len(n_neurons) for entry in history):
        raise ValueError("the history's steps do not all have the same ReLU layers")
    steps = np.array([entry["step"] for entry in history])
    losses = np.array([entry["loss"] for entry in history], dtype=float)
    dead = np.array([[len(entry["dead"][layer]) for entry in history] for layer in range(len(n_neurons))])
    rows = np.array([entry["attention_rows"] for entry in history], dtype=float)
    peaked = np.array([entry["peaked_rows"] for entry in history], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        fraction = np.where(rows > 0, peaked / np.where(rows > 0, rows, 1.0), np.nan)
    return steps, losses, dead.reshape(len(n_neurons), len(history)), list(n_neurons), fraction


def _trailing_mean(values, window):
    """Mean of the last `window` finite values at each step (NaN where there is none yet)."""
    out = np.full(len(values), np.nan)
    for end in range(len(values)):
        part = values[max(0, end - window + 1):end + 1]
        part = part[np.isfinite(part)]
        if len(part):
            out[end] = part.mean()
    return out


@draws_figure
def gpt_training(history, fig=None, window=None):
    """Draw three panels over the steps: loss, dead ReLU neurons per layer, fraction of peaked attention rows.

    A neuron is dead on a step when its pre-activation is <= 0 on every position of that step's
    name (it passes no gradient back); an attention row is peaked when its largest weight is
    >= 0.99. `window`: steps in the trailing means (default len // 20, at least 1). Returns the
    Figure. Raises like `history_arrays`, and ValueError for a bad window.
    """
    steps, losses, dead, n_neurons, fraction = history_arrays(history)
    window = max(1, len(steps) // 20) if window is None else check_count(window, "gpt_training window")
    window = min(window, len(steps))
    if fig is None:
        fig = new_figure((13, 3.6))
    loss_ax, dead_ax, peak_ax = fig.subplots(1, 3)
    loss_curve(losses, ax=loss_ax, window=window)
    for layer, counts in enumerate(dead):
        color = DEAD_COLOR if len(dead) == 1 else line_color(layer)
        dead_ax.plot(steps, counts, color=color, linewidth=0.6, alpha=0.6, drawstyle="steps-mid",
                     gid=f"dead-{layer}", label=f"layer {layer} (of {n_neurons[layer]}), per step")
        dead_ax.plot(steps, _trailing_mean(counts.astype(float), window), color=color, linewidth=2,
                     gid=f"dead-mean-{layer}", label=f"mean of last {window}")
    dead_ax.set(xlabel="step", ylabel="dead ReLU neurons", ylim=(-0.5, max(n_neurons) + 0.5))
    dead_ax.set_title("dead: pre-activation <= 0 on every position of the name", fontsize=10)
    dead_ax.legend(fontsize=8, frameon=False)
    peak_ax.plot(steps, 100 * fraction, color=SKY, linewidth=0.8, gid="peaked-raw", label="per step")
    peak_ax.plot(steps, 100 * _trailing_mean(fraction, window), color=BLUE, linewidth=2, gid="peaked-mean",
                 label=f"mean of last {window}")
    peak_ax.set(xlabel="step", ylabel="peaked attention rows %", ylim=(-2, 102))
    peak_ax.set_title("largest softmax weight >= 0.99 (rows of 2+ weights)", fontsize=10)
    peak_ax.legend(fontsize=8, frameon=False)
    for ax in (loss_ax, dead_ax, peak_ax):
        ax.grid(alpha=0.3)
    fig.suptitle("The GPT lesson over training: where its gradients die", fontsize=12)
    return fig
