"""The activation gallery: each activation and its derivative, the derivative
computed by the engine's own backward() -- the same numbers training uses.

Grey marks where the neuron counts as saturated (the trace's rule): there the
derivative is so small that almost no gradient passes back. For tanh that is
|t| > 0.99, where the local derivative 1 - t**2 is below 0.02.
"""

import math

import numpy as np

from micrograd_it import Value
from micrograd_it.catalogue import ACTIVATIONS
from micrograd_it.trace import is_saturated

from ._arrays import as_array
from .display import draws_figure, new_figure
from .plots_common import BLUE, SATURATED_SHADE, VERMILLION, check_threshold
from ._text import plain_text

def gallery():
    """Return [(name, title, the Value method applying it with the engine's default constant)]:
    every activation of the op catalogue (micrograd_it/ops.py), in its order."""
    return [(name, f"{name} ({op.activation.caption})" if op.activation.caption else name, getattr(Value, op.method))
            for name, op in ACTIVATIONS.items()]


def activation_and_derivative(activate, xs):
    """Return (act, derivative) arrays: activate(Value(x)).data and x.grad after backward(), for each x."""
    acts, grads = [], []
    for x in xs:
        leaf = Value(float(x))
        out = activate(leaf)
        out.backward()
        acts.append(out.data)
        grads.append(leaf.grad)
    return np.array(acts), np.array(grads)


def _panel(ax, name, title, activate, xs, threshold):
    acts, grads = activation_and_derivative(activate, xs)
    saturated = np.array([is_saturated(name, x, act, threshold) for x, act in zip(xs, acts)])
    ax.fill_between(xs, 0, 1, where=saturated, transform=ax.get_xaxis_transform(), color=SATURATED_SHADE,
                    linewidth=0, label="saturated")
    ax.axhline(0, color="0.6", linewidth=0.6)
    ax.axvline(0, color="0.6", linewidth=0.6)
    ax.plot(xs, acts, color=BLUE, linewidth=2, label="activation", gid="activation")
    ax.plot(xs, grads, color=VERMILLION, linewidth=2, linestyle="--", label="d/dx by backward()", gid="derivative")
    ax.set_title(plain_text(title), fontsize=11)
    ax.set_ylim(-1.3, 2.3)
    ax.set_xlim(xs[0], xs[-1])
    if name == "tanh":
        edge = math.atanh(threshold)
        ax.annotate(f"|t| > {threshold:g}:\n1 \u2212 t\u00b2 < {1 - threshold ** 2:.2g}\ngradient \u2248 0",
                    xy=(edge + 0.2, 0.02), xytext=(edge + 0.25, 1.25), fontsize=8, color="0.15",
                    arrowprops=dict(arrowstyle="->", color="0.3"))


@draws_figure
def activation_gallery(xs=None, threshold=0.99, fig=None):
    """Draw every activation of the op catalogue with its backward() derivative; return the Figure.

    `xs`: the inputs to evaluate (default 601 points in [-6, 6]); `threshold`: the
    saturation rule shaded grey (the trace's, 0.99 by default); `fig`: a Figure to
    draw the panels into (a new one when None), up to four per row. Each panel's
    lines carry gid "activation" and "derivative". Raises TypeError/ValueError for
    bad xs or threshold.
    """
    threshold = check_threshold(threshold)
    xs = np.linspace(-6.0, 6.0, 601) if xs is None else np.sort(as_array(xs, "activation_gallery xs", max_ndim=1))
    panels = gallery()
    rows = -(-len(panels) // 4)
    columns = -(-len(panels) // rows)
    if fig is None:
        fig = new_figure((3.7 * columns, 3.3 * rows))
    axes = fig.subplots(rows, columns, sharex=True, squeeze=False).ravel()
    for ax, (name, title, activate) in zip(axes, panels):
        _panel(ax, name, title, activate, xs, threshold)
    for index, ax in enumerate(axes):
        if index >= len(panels):
            ax.remove()  # an empty place in the last row
        elif index + columns >= len(panels):  # the lowest panel of its column
            ax.set_xlabel("x (pre-activation)")
            ax.xaxis.set_tick_params(labelbottom=True)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, ["saturated", "activation f(x)", "derivative f'(x), from backward()"],
               loc="outside lower center", ncols=3, fontsize=10, frameon=False)
    fig.suptitle("Activations (solid) and their derivatives computed by backward() (dashed)\n"
                 f"grey: saturated at threshold {threshold:g}, almost no gradient passes back", fontsize=12)
    return fig
