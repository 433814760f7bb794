"""The study's figures: each one drawn by viz.plots / viz.network and written atomically into the output folder.

Every function returns a dict {kind: path} of what it wrote; report.py embeds
them by kind.
"""

import os
import sys

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullFormatter

from viz import plots
from ._output import save_figure
from viz.graph import render

__all__ = ["shared_figures", "config_figures", "network_figure", "comparison_figures", "seed_figures",
           "seeds_figure", "after_death_figure"]

COLORS = {"bad_init": "#d55e00", "fixed_init": "#0072b2", "high_lr": "#cc79a7"}  # colour-blind safe


def _save(fig, out_dir, name):
    path = os.path.join(out_dir, name)
    save_figure(fig, path)
    return path


def _new_figure(width=6.4, height=3.6):
    # A Figure made directly (not through pyplot) is never registered globally and needs no close().
    return Figure(figsize=(width, height), layout="constrained")


def shared_figures(out_dir):
    """Write the activation gallery (functions and their derivatives); return {"gallery": path}."""
    return {"gallery": _save(plots.activation_gallery(), out_dir, "activations.png")}


def config_figures(out_dir, run, trace, optimizer):
    """Write one configuration's histograms, saturation map, gradient histogram, update ratios and loss curve."""
    hidden = trace.layers[0]
    prefix = run.key
    written = {}
    for kind, draw in [("hist_act", plots.activation_hist), ("hist_preact", plots.preact_hist),
                       ("saturation_map", plots.saturation_map)]:
        fig = draw(hidden).figure
        fig.suptitle(run.title, fontweight="bold")
        written[kind] = _save(fig, out_dir, f"{prefix}_{kind}.png")
    # the gradient before tanh's local derivative (d loss/d act) and after it (d loss/d preact)
    fig = _new_figure(11, 3.8)
    before_ax, after_ax = fig.subplots(1, 2)
    plots.grad_hist(hidden, ax=before_ax, attribute="grad_out")
    plots.grad_hist(hidden, ax=after_ax, attribute="grad_in")
    fig.suptitle(f"{run.title}: the gradient reaching tanh (left) and what (1 - t**2) lets through (right)",
                 fontweight="bold")
    written["grad_hist"] = _save(fig, out_dir, f"{prefix}_grad_hist.png")
    fig = plots.update_ratio_history(optimizer.ratio_history).figure
    fig.suptitle(f"{run.title} (lr {run.lr:g})", fontweight="bold")
    written["update_ratio"] = _save(fig, out_dir, f"{prefix}_update_ratio.png")
    fig = plots.loss_curve(run.losses, window=max(1, len(run.losses) // 10)).figure
    fig.suptitle(f"{run.title} (lr {run.lr:g})", fontweight="bold")
    written["loss"] = _save(fig, out_dir, f"{prefix}_loss.png")
    return written


def network_figure(out_dir, run, model, trace, kind="network"):
    """Write the network map of `model` over `trace` as SVG, named by `kind`; return {kind: path}.

    kind "network": the training-size net; "network_full": the seed's size (the one-pass net).
    """
    from viz.network import draw_network

    path = os.path.join(out_dir, f"{run.key}_{kind}.svg")
    try:
        render(draw_network(model.mlp, trace), path)  # the trace of CharMLP has the MLP's two layers
    except RuntimeError as error:  # no layout engine: the study goes on without this one figure
        sys.stderr.write(f"micrograd-it: warning: skipped {os.path.basename(path)}: {error}\n")
        return {}
    return {kind: path}


def comparison_figures(out_dir, runs):
    """Write the loss curves and the dead-neuron counts of all configurations on shared axes."""
    loss_fig, dead_fig = _new_figure(), _new_figure()
    loss_ax, dead_ax = loss_fig.subplots(), dead_fig.subplots()
    for run in runs:
        steps = range(len(run.losses))
        loss_ax.plot(steps, run.losses, color=COLORS.get(run.key), label=f"{run.title} (lr {run.lr:g})")
        dead_ax.plot(steps, run.dead_over_steps, color=COLORS.get(run.key), label=run.title, drawstyle="steps-mid")
    loss_ax.set(xlabel="step", ylabel="loss (log scale)", yscale="log", title="Training loss")
    low, high = loss_ax.get_ylim()
    ticks = [tick for tick in (1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200) if low <= tick <= high]
    loss_ax.set_yticks(ticks, [f"{tick:g}" for tick in ticks])  # plain numbers, not 3x10^0
    loss_ax.yaxis.set_minor_formatter(NullFormatter())
    n_neurons = runs[0].final["n_neurons"] if runs else 0
    dead_ax.set(xlabel="step", ylabel=f"dead neurons (of {n_neurons})", ylim=(-0.5, n_neurons + 0.5),
                title="Dead hidden neurons (saturated on every sample of the step's batch)")
    for ax in (loss_ax, dead_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    return {"loss_comparison": _save(loss_fig, out_dir, "loss_comparison.png"),
            "dead_over_steps": _save(dead_fig, out_dir, "dead_over_steps.png")}


SEED_COLORS = ["#cc79a7", "#0072b2", "#009e73", "#e69f00", "#56b4e9", "#d55e00", "#f0e442", "#000000"]


def seed_figures(out_dir, seed_runs):
    """Write the too-high learning rate from every seed, and what the dead neurons' weights did.

    Returns {"high_lr_seeds": path, "after_death": path}: the dead count per
    step of each run; the first run's per-neuron weight updates step by step,
    and every run's updates on steps where a neuron was dead against alive.
    """
    return {**seeds_figure(out_dir, seed_runs), **after_death_figure(out_dir, seed_runs)}


def seeds_figure(out_dir, seed_runs):
    """Write the dead count per step of the too-high learning rate from every seed; return {"high_lr_seeds": path}."""
    return {"high_lr_seeds": _save(_seeds_figure(seed_runs), out_dir, "high_lr_seeds.png")}


def after_death_figure(out_dir, seed_runs):
    """Write what the weights of dead and live neurons did (seed_figures); return {"after_death": path}."""
    return {"after_death": _save(_after_death_figure(seed_runs), out_dir, "high_lr_after_death.png")}


def _seeds_figure(seed_runs):
    fig = _new_figure(7.5, 3.8)
    ax = fig.subplots()
    n_neurons = seed_runs[0].final["n_neurons"]
    for index, run in enumerate(seed_runs):
        color = SEED_COLORS[index % len(SEED_COLORS)]
        ax.plot(range(len(run.dead_over_steps)), run.dead_over_steps, color=color, drawstyle="steps-mid",
                label=f"seed {run.seed}: {len(run.final['dead'])} dead after")
        ax.plot([len(run.dead_over_steps)], [len(run.final["dead"])], marker="o", color=color)
    ax.set(xlabel="step (the dot: the evaluation batch after training)", ylabel=f"dead neurons (of {n_neurons})",
           ylim=(-0.5, n_neurons + 0.5), title=f"Too-high learning rate ({seed_runs[0].lr:g}) from {len(seed_runs)} seeds")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return fig


def _after_death_figure(seed_runs):
    from matplotlib.colors import LogNorm

    from ._after_death import relative_updates

    run = seed_runs[0]
    updates = relative_updates(run)
    fig = _new_figure(12, 4.2)
    map_ax, hist_ax = fig.subplots(1, 2, width_ratios=[1.3, 1])
    rows = [[min(max(updates[step][neuron], 1e-8), 10.0) for step in range(len(updates))] for neuron in range(len(updates[0]))]
    image = map_ax.imshow(rows, aspect="auto", cmap="viridis", norm=LogNorm(vmin=1e-6, vmax=1.0),
                          interpolation="nearest")
    dead_cells = [(step, neuron) for step, dead in enumerate(run.dead_neurons_over_steps) for neuron in dead]
    if dead_cells:
        map_ax.scatter(*zip(*dead_cells), marker="s", s=12, facecolors="none", edgecolors="#ffffff", linewidths=0.8)
    fig.colorbar(image, ax=map_ax, label="|update of its weights| / |weights|")
    map_ax.set(xlabel="step (white square: dead on that step's batch)", ylabel="hidden neuron",
               title=f"Seed {run.seed}: each neuron's weight update, step by step")
    map_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    pooled = {"dead": [], "alive": []}
    for other in seed_runs:
        dead_sets = [set(dead) for dead in other.dead_neurons_over_steps]
        for step, row in enumerate(relative_updates(other)):
            for neuron, update in enumerate(row):
                # in the bins' range, so that none is left out: 0 at 1e-8, past 10 (even inf) at 10
                pooled["dead" if neuron in dead_sets[step] else "alive"].append(min(max(update, 1e-8), 10.0))
    bins = [10 ** (exponent / 4) for exponent in range(-32, 5)]
    for name, color in (("alive", "#0072b2"), ("dead", "#d55e00")):
        hist_ax.hist(pooled[name], bins=bins, color=color, alpha=0.7, label=f"{name} on that step ({len(pooled[name])})")
    hist_ax.set(xscale="log", xlabel="one step's |update| / |weights| (0 at 1e-8, > 10 at 10)",
                ylabel="neuron-steps",
                title=f"All {len(seed_runs)} seeds: one step's update, dead against alive")
    hist_ax.legend(frameon=False)
    return fig
