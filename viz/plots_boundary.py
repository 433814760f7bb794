"""Where a 2-input classifier puts its boundary: the net evaluated on a grid, the data on top."""

import numpy as np
from matplotlib.colors import ListedColormap

from micrograd_it import Value, no_grad

from ._arrays import as_array, as_matrix, describe
from .display import draws_figure
from .plots_common import BLUE, GREEN, ORANGE, PURPLE, check_count, new_axes

# class colours (Okabe-Ito) and markers: the shape tells the classes apart even without colour
CLASS_COLORS = (BLUE, ORANGE, GREEN, PURPLE)
CLASS_MARKERS = ("o", "s", "^", "D")


def _score(output):
    """A net's output -> a float score (one output: the number; several: the argmax index)."""
    if isinstance(output, Value):
        return output.data
    if isinstance(output, (list, tuple)) and output and all(isinstance(item, Value) for item in output):
        return float(np.argmax([item.data for item in output]))
    raise TypeError(f"decision_boundary: the net must return a Value or a list of Values, got {describe(output)}")


def grid_scores(net, xs, ys):
    """Return (scores, one_output): net's score at every (x, y), shape (len(ys), len(xs)), under no_grad().

    one_output is True when the net returns a single Value (the score is its data), False when it
    returns a list (the score is the argmax index).
    """
    with no_grad():
        one_output = isinstance(net([float(xs[0]), float(ys[0])]), Value)
        return np.array([[_score(net([float(x), float(y)])) for x in xs] for y in ys]), one_output


@draws_figure
def decision_boundary(net, X, y, ax=None, resolution=50, margin=0.5):
    """Fill the plane by the net's predicted class, draw the boundary and the points; return the Axes.

    `net`: a callable taking [x0, x1] and returning one Value (class by its sign: score > 0 is the
    larger label) or a list of Values (class = argmax index; labels must then be 0..k-1).
    `X`: n x 2 points, `y`: n labels (2 to 4 classes), `resolution`: grid points per side
    (resolution**2 forward passes), `margin`: added around the data. Raises TypeError/ValueError.
    """
    X = as_matrix(X, "decision_boundary X")
    labels = as_array(y, "decision_boundary y", max_ndim=1)
    if X.shape[1] != 2 or len(labels) != len(X):
        raise ValueError(f"decision_boundary needs X of shape (n, 2) and n labels, got X {X.shape}, y {labels.shape}")
    classes = np.unique(labels)
    if not 1 <= len(classes) <= len(CLASS_COLORS):
        raise ValueError(f"decision_boundary draws 1 to {len(CLASS_COLORS)} classes, got {len(classes)}: {classes}")
    resolution = check_count(resolution, "decision_boundary resolution", minimum=2)
    xs = np.linspace(X[:, 0].min() - margin, X[:, 0].max() + margin, resolution)
    ys = np.linspace(X[:, 1].min() - margin, X[:, 1].max() + margin, resolution)
    scores, one_output = grid_scores(net, xs, ys)
    ax = new_axes(ax, figsize=(5.6, 5.0))
    _fill(ax, xs, ys, scores, len(classes), one_output)
    for index, label in enumerate(classes):
        chosen = labels == label
        ax.scatter(X[chosen, 0], X[chosen, 1], s=28, color=CLASS_COLORS[index], marker=CLASS_MARKERS[index],
                   edgecolors="black", linewidths=0.6, label=f"class {label:g}", zorder=3)
    ax.legend(fontsize=8, loc="upper right", framealpha=0.9)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title(f"decision boundary ({resolution} x {resolution} grid)", fontsize=10)
    return ax


def _fill(ax, xs, ys, scores, n_classes, one_output):
    """Filled regions per predicted class (contourf) and the black boundary lines."""
    if one_output:  # a real-valued score, cut at 0
        levels = [min(scores.min(), -1.0), 0.0, max(scores.max(), 1.0)]
        ax.contourf(xs, ys, scores, levels=levels, cmap=ListedColormap(CLASS_COLORS[:2]), alpha=0.3)
        ax.contour(xs, ys, scores, levels=[0.0], colors="black", linewidths=1.2)
        return
    # argmax indices: one region per class, from its own 0/1 indicator. Contouring the index itself
    # would interpolate between classes 0 and 2 and draw a false strip of class 1 between them.
    for index in range(n_classes):
        chosen = (scores == index).astype(float)
        if chosen.any():
            ax.contourf(xs, ys, chosen, levels=[0.5, 1.5], colors=[CLASS_COLORS[index]], alpha=0.3)
            ax.contour(xs, ys, chosen, levels=[0.5], colors="black", linewidths=1.2)
