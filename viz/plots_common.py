"""What every figure in viz.plots shares: where its Axes come from, its colours, its argument checks.

A figure function given no ``ax`` gets a new Figure from `viz.display.new_figure`:
shown once in Jupyter, shown by ``plt.show()`` when the user's pyplot has an
interactive backend, and otherwise a plain object that nothing else holds.
"""

import math
import numbers

import numpy as np

from ._arrays import DRAWABLE, describe  # noqa: F401 - DRAWABLE: the public name of the largest drawn number
from .display import new_figure

# Okabe & Ito's palette: told apart by readers with any common colour-vision deficiency.
BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, BLACK = (
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
# ordered so that neighbours differ most (orange and vermillion only meet past 5 lines)
LINE_COLORS = (BLUE, ORANGE, GREEN, PURPLE, SKY, VERMILLION, BLACK)
DEAD_COLOR = VERMILLION
SATURATED_SHADE = "0.88"  # light grey behind the regions where a gradient dies


def new_axes(ax, figsize=(6.4, 4.2)):
    """Return `ax` itself (the caller's figure: viz never displays it), or the Axes of a `new_figure`."""
    if ax is not None:
        if not hasattr(ax, "figure") or not hasattr(ax, "plot"):
            raise TypeError(f"ax must be a matplotlib Axes, got {describe(ax)}")
        return ax
    return new_figure(figsize).add_subplot()


def line_color(index):
    """The colour of the index-th line of a multi-line figure (cycles after 7)."""
    return LINE_COLORS[index % len(LINE_COLORS)]


def check_threshold(threshold):
    """Return `threshold` when it is a number in (0, 1); raise ValueError naming it otherwise."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real) or not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be a number in (0, 1), got {describe(threshold)}")
    return float(threshold)


def check_count(count, what, minimum=1):
    """Return `count` when it is an int >= minimum; raise ValueError naming it otherwise."""
    if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < minimum:
        raise ValueError(f"{what} must be an int >= {minimum}, got {describe(count)}")
    return int(count)


def bin_edges(values, bins):
    """Return `bins` + 1 increasing, finite bin edges over the finite array `values` (what np.histogram would
    choose, made total).

    numpy fails on two kinds of finite data: a range wider than the largest float
    (-1e308 and 1e308: its bin width overflows) and equal values far from 0 (1e30
    alone: 50 bins of width 1/50 around it are not distinct floats). Here the
    edges are computed from halves, which cannot overflow, and equal values get
    a range of a thousandth of their size on either side.
    """
    low, high = float(np.min(values)), float(np.max(values))
    pad = max(abs(low), abs(high), 1.0) * 1e-3
    if high / 2 - low / 2 < pad / 2:  # (nearly) equal values: centre a range of +-pad on them
        centre = low / 2 + high / 2
        low, high = centre - pad, centre + pad
        if not math.isfinite(high):  # next to the largest float: the range below it
            low, high = centre - 2 * pad, centre
        if not math.isfinite(low):
            low, high = centre, centre + 2 * pad
    return 2 * np.linspace(low / 2, high / 2, bins + 1)


def tanh_saturation_x(threshold):
    """The |x| beyond which tanh(x) is saturated: atanh(threshold) (2.65 at 0.99)."""
    return math.atanh(threshold)


def saturation_rule(activation, threshold):
    """Return a short text of when a neuron with this activation counts as saturated (the trace's rules)."""
    rules = {
        "tanh": f"|h| > {threshold:g}",
        "sigmoid": f"h > {threshold:g} or h < {1 - threshold:.3g}",
        "relu": "h = 0",
        "linear": "never",
    }
    return rules.get(activation, f"slope < {1 - threshold:.3g}")
