"""The figures of the lecture's table (study --torch): per stage, the seed's pictures of the hidden layer at init
and after training, drawn by viz.plots from the arrays the run recorded; and the loss curves of the four stages.

`draw_state` returns the Figures (a test reads their data back), `stage_figures` and `shared_figures` write them
and return {kind: path}.
"""

import os

import numpy as np
from matplotlib.figure import Figure

from viz import plots

from ._output import save_figure

__all__ = ["STATES", "draw_state", "stage_figures", "loss_windows", "draw_losses", "shared_figures"]

STATES = ("init", "trained")  # the first step's batch, and the last step's (the lecture's h before and after)
COLORS = {"original": "#d55e00", "softmax fixed": "#e69f00", "tanh fixed": "#009e73", "kaiming": "#0072b2"}


def _slug(name):
    return name.replace(" ", "_")


def _when(entry, state):
    return "at init (step 0's batch)" if state == "init" else f"after {entry['steps']:,} steps (the last batch)"


def draw_state(entry, state, threshold=0.99):
    """Return {kind: Figure}: the seed's pictures of one stage's hidden layer at `state` ("init" or "trained"),
    drawn from entry["arrays"][state]: hist_h, hist_preact, saturation_map and grad_hist."""
    arrays = entry["arrays"][state]
    title = f"{entry['name']}, {_when(entry, state)}"
    figures = {}
    for kind, draw, data in [("hist_h", plots.activation_hist, arrays["h"]),
                             ("hist_preact", plots.preact_hist, arrays["hpreact"]),
                             ("saturation_map", plots.saturation_map, arrays["h"])]:
        fig = draw(data, threshold=threshold).figure
        fig.suptitle(title, fontweight="bold")
        figures[kind] = fig
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    before, after = fig.subplots(1, 2)
    plots.grad_hist(arrays["grad_h"], ax=before, attribute="grad_out")
    plots.grad_hist(arrays["grad_hpreact"], ax=after, attribute="grad_in")
    fig.suptitle(f"{title}\nthe gradient reaching tanh (left), and what 1 - t**2 lets through (right)",
                 fontweight="bold")
    figures["grad_hist"] = fig
    return figures


def stage_figures(folder, entry):
    """Write one stage's pictures at init and after training into `folder`; return {"<state>_<kind>": path}."""
    written = {}
    for state in STATES:
        for kind, fig in draw_state(entry, state).items():
            written[f"{state}_{kind}"] = save_figure(fig, os.path.join(folder, f"{_slug(entry['name'])}_{state}_{kind}.png"))
    return written


def loss_windows(losses, window):
    """Return (last step of each window, mean log10 loss over it): the lecture's
    ``torch.tensor(lossi).view(-1, 1000).mean(1)``, whole windows only (at least one)."""
    window = max(1, min(window, len(losses)))
    count = len(losses) // window
    logs = np.log10(np.asarray(losses[:count * window], dtype=float)).reshape(count, window)
    return np.arange(1, count + 1) * window - 1, logs.mean(axis=1)


def draw_losses(stages):
    """Return the Figure of the four stages' training losses: log10 loss, averaged over windows of steps // 200
    (1,000 steps at the lecture's 200,000, as the lecture plots it)."""
    fig = Figure(figsize=(8, 4.4), layout="constrained")
    ax = fig.subplots()
    window = max(1, stages[0]["steps"] // 200)
    for entry in stages:
        steps, means = loss_windows(entry["losses"], window)
        ax.plot(steps, means, color=COLORS.get(entry["name"]), linewidth=1.4, label=entry["name"], gid=entry["name"])
    decay = stages[0]["steps"] // 2
    ax.axvline(decay, color="#777777", linestyle="--", linewidth=0.8)
    ax.set(xlabel=f"step (learning rate 0.1, then 0.01 from step {decay:,}: dashed)",
           ylabel=f"log10 loss, mean of {window:,} steps",
           title="Training loss of the lecture's four inits (each a batch of 32 per step)")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)
    return fig


def shared_figures(folder, stages):
    """Write the loss curves of all stages and the activation gallery; return {"losses": path, "gallery": path}."""
    return {"losses": save_figure(draw_losses(stages), os.path.join(folder, "lecture_losses.png")),
            "gallery": save_figure(plots.activation_gallery(), os.path.join(folder, "activations.png"))}

