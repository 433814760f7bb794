"""Figures of training: the loss over steps, and makemore's two learning-rate diagnostics,
std(grad)/std(data) per parameter group and log10(std(update)/std(data)) over steps.
"""

import numpy as np

from micrograd_it.optim import group_name

from ._arrays import as_array, describe
from .display import draws_figure
from .plots_common import BLACK, BLUE, SKY, check_count, line_color, new_axes
from ._text import plain_text


def _grouped_params(params):
    """Return {group: (data array, grad array)} from a Module, or (name, param) pairs whose param
    has .data and .grad (micrograd Values, or torch Parameters)."""
    named = params.named_parameters() if hasattr(params, "named_parameters") else params
    if isinstance(named, dict):
        named = named.items()
    try:
        named = list(named)
    except TypeError:
        message = f"grad_data_ratio needs a Module or (name, parameter) pairs, got {describe(params)}"
        raise TypeError(message) from None
    if not named:
        raise ValueError("grad_data_ratio got no parameters")
    groups = {}
    for item in named:
        if not (isinstance(item, tuple) and len(item) == 2 and hasattr(item[1], "data") and hasattr(item[1], "grad")):
            raise TypeError(f"grad_data_ratio needs (name, parameter) pairs, got {describe(item)}")
        name, param = item
        if param.grad is None:
            raise ValueError(f"parameter {name!r} has no gradient yet (grad is None): run backward() first")
        data = as_array(param.data, f"parameter {name!r} data", max_ndim=8, min_ndim=0).ravel()
        grad = as_array(param.grad, f"parameter {name!r} grad", max_ndim=8, min_ndim=0).ravel()
        group = groups.setdefault(group_name(str(name)), ([], []))
        group[0].append(data)
        group[1].append(grad)
    return {name: (np.concatenate(data), np.concatenate(grad)) for name, (data, grad) in groups.items()}


def _ratios(groups):
    """Return ({group: std(grad) / std(data)}, [groups where a std is 0 and the ratio is undefined])."""
    ratios, undefined = {}, []
    for name, (data, grad) in groups.items():
        if data.std() > 0 and grad.std() > 0:
            ratios[name] = grad.std() / data.std()
        else:
            undefined.append(name)
    return ratios, undefined


@draws_figure
def grad_data_ratio(params, ax=None):
    """Dot plot of std(grad) / std(data) per parameter group (log scale); return the Axes.

    `params`: a Module (e.g. an MLP after backward()), or (name, parameter) pairs such as a
    PyTorch model's named_parameters(). Names are grouped like SGD's ratio_history
    ("layers.0.neurons.3.w.1" -> "layers.0.w"). Groups whose ratio is undefined (a std of 0)
    are listed in the title instead. Raises TypeError/ValueError for bad input.
    """
    ratios, undefined = _ratios(_grouped_params(params))
    ax = new_axes(ax, figsize=(6.4, 1.5 + 0.4 * max(len(ratios), 2)))
    names = list(ratios)
    positions = np.arange(len(names))
    values = np.array([ratios[name] for name in names])
    if names:  # a faint stem from the left edge makes each dot easy to match with its name
        ax.hlines(positions, values.min() / 10, values, color="0.8", linewidth=1)
    ax.plot(values, positions, linestyle="none", marker="o", color=BLUE, gid="ratios")
    for position, value in zip(positions, values):
        ax.annotate(f"{value:.2e}", (value, position), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=8)
    ax.set_xscale("log")
    if names:  # a decade of room on each side, for the stems and the value labels
        ax.set_xlim(values.min() / 10, values.max() * 10)
    ax.set_yticks(positions, [plain_text(name) for name in names])
    ax.set_ylim(len(names) - 0.5, -0.5)  # first group on top
    ax.set_xlabel("std(grad) / std(data)")
    title = "gradient : data ratio per parameter group"
    if undefined:
        title += f"\nundefined (std 0): {', '.join(map(plain_text, undefined))}"
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def update_ratio_history(history, ax=None, guide=-3.0):
    """Plot log10(std(update)/std(data)) per parameter group over steps, with a dashed guide line; return the Axes.

    `history`: SGD.ratio_history (a list of dicts group -> log10 ratio or None) or the SGD itself.
    None values (an undefined ratio) are left out; a group that is never defined is named in the title.
    Around -3 (1e-3) is makemore's rule of thumb: higher, the learning rate is too big; lower, too small.
    Raises TypeError/ValueError for bad input.
    """
    history = getattr(history, "ratio_history", history)
    if not isinstance(history, (list, tuple)) or not all(isinstance(step, dict) for step in history):
        raise TypeError(f"update_ratio_history needs a list of dicts group -> log10 ratio, got {describe(history)}")
    if not history:
        raise ValueError("update_ratio_history got an empty history (no SGD step yet)")
    groups = list(dict.fromkeys(name for step in history for name in step))
    lines, never = [], []  # every ratio is checked before anything is drawn
    for index, name in enumerate(groups):
        steps = [i for i, step in enumerate(history) if step.get(name) is not None]
        if not steps:
            never.append(name)
            continue
        ratios = as_array([history[i][name] for i in steps], f"update_ratio_history {name!r}", max_ndim=1)
        lines.append((index, name, steps, ratios))
    ax = new_axes(ax, figsize=(7.0, 4.2))
    handles = [ax.plot(steps, ratios, color=line_color(index), linewidth=1.4, label=plain_text(name))[0]
               for index, name, steps, ratios in lines]
    handles.append(ax.axhline(guide, color=BLACK, linestyle="--", linewidth=1, gid="guide",
                              label=f"guide 1e{guide:g} (makemore's rule of thumb)"))
    # handles given: a line whose name starts with "_" is not left out of the legend
    ax.legend(handles, [handle.get_label() for handle in handles], fontsize=8, loc="best", frameon=False)
    ax.set_xlabel("step")
    ax.set_ylabel("log10( std(update) / std(data) )")
    title = "update : data ratio per parameter group"
    if never:
        title += f"\nno ratio (std 0): {', '.join(map(plain_text, never))}"
    ax.set_title(title, fontsize=10)
    return ax


@draws_figure
def loss_curve(losses, ax=None, window=None, log=False):
    """Plot the raw loss per step (thin) and its trailing moving average (thick); return the Axes.

    `losses`: numbers or Values. `window`: steps averaged (default len // 20, at least 1);
    the smoothed point at step i is the mean of steps i-window+1 .. i. `log`: log y axis.
    Raises TypeError/ValueError for bad input (and log=True with a loss <= 0).
    """
    losses = as_array(losses, "loss_curve losses", max_ndim=1)
    window = max(1, len(losses) // 20) if window is None else check_count(window, "loss_curve window")
    window = min(window, len(losses))
    if log and losses.min() <= 0:
        raise ValueError(f"loss_curve log=True needs positive losses, got min {losses.min():g}")
    ax = new_axes(ax)
    steps = np.arange(len(losses))
    smoothed = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(steps, losses, color=SKY, linewidth=0.8, label="loss", gid="raw")
    ax.plot(steps[window - 1:], smoothed, color=BLUE, linewidth=2, label=f"mean of last {window}", gid="smoothed")
    if log:
        ax.set_yscale("log")
    best = int(np.argmin(losses))
    ax.set_title(f"loss: last {losses[-1]:.4g}, lowest {losses[best]:.4g} at step {best}", fontsize=10)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, frameon=False)
    return ax

