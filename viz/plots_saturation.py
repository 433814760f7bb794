"""The saturation map: which neuron is saturated on which sample (the lecture's
``plt.imshow(h.abs() > 0.99, cmap="gray", interpolation="nearest")``).

A white column is a neuron saturated on every sample: a dead neuron. Whatever
arrives at its output is multiplied by ~0 on the way back, so its weights never
learn. Those columns get a marker above them and are counted in the title.
"""

import numpy as np

from ._arrays import abs_above, as_matrix, is_layer_trace
from .display import draws_figure
from .plots_common import DEAD_COLOR, check_threshold, new_axes, saturation_rule
from ._text import plain_text


def saturation_mask(h, threshold=0.99):
    """Return (mask, dead, rule): the boolean samples x neurons array, the dead column indices, a text of the rule.

    For a layer trace: its own .saturated(threshold) and .dead(threshold) (so a relu
    layer's "saturated" means h = 0). For an array-like: |h| > threshold compared in h's
    own dtype (a float32 tensor's mask is exactly PyTorch's ``h.abs() > threshold``), and
    the columns where that holds on every row. Raises TypeError/ValueError for bad input.
    """
    threshold = check_threshold(threshold)
    if is_layer_trace(h):
        mask = as_matrix(h.saturated(threshold), f"saturation_map ({h.name}.saturated)").astype(bool)
        return mask, [int(j) for j in h.dead(threshold)], saturation_rule(h.activation, threshold)
    mask = abs_above(as_matrix(h, "saturation_map h"), h, threshold)
    return mask, [int(j) for j in np.flatnonzero(mask.all(axis=0))], f"|h| > {threshold:g}"


@draws_figure
def saturation_map(h, threshold=0.99, ax=None):
    """Draw the saturated entries of `h` (samples x neurons) white, the others black; return the Axes.

    `h`: a layer trace, or any 2-D array-like of activations. Dead neurons (a column
    saturated on every sample) are marked by a triangle above the column and counted
    in the title. Raises TypeError/ValueError for non-numeric, ragged, 1-D, 3-D or empty input.
    """
    mask, dead, rule = saturation_mask(h, threshold)
    ax = new_axes(ax, figsize=(7.0, 4.6))
    ax.imshow(mask, cmap="gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    n_samples, n_neurons = mask.shape
    # x in data units (the column), y in axes units (just above the image), drawn outside the clip box
    ax.plot(dead, [1.03] * len(dead), linestyle="none", marker="v", markersize=8, color=DEAD_COLOR,
            markeredgecolor="black", markeredgewidth=0.5, transform=ax.get_xaxis_transform(),
            clip_on=False, gid="dead", label="dead neuron")
    name = f"{plain_text(h.name)} ({plain_text(h.activation)}): " if is_layer_trace(h) else ""
    dead_text = f"{len(dead)} dead neuron{'s' if len(dead) != 1 else ''}"
    if dead:
        dead_text += " (\u25bc: saturated on every sample)"
    ax.set_title(f"{name}white = saturated ({rule}): {100 * mask.mean():.1f}% of entries\n{dead_text}",
                 fontsize=10, pad=20 if dead else 6)  # room for the markers only when there are some
    ax.set_xlabel(f"neuron (column, {n_neurons})")
    ax.set_ylabel(f"sample (row, {n_samples})")
    return ax

