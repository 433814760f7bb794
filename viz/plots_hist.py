"""Histograms of what flows through a layer: activations, pre-activations, gradients.

One layer -> a 50-bin bar histogram with mean, std and saturated % in the title
(the micrograd lecture's ``plt.hist(h.view(-1).tolist(), 50)``). Several layers
(a list of layer traces, or a dict name -> array) -> makemore's per-layer
version: one line histogram (density) per layer, the numbers in the legend.
"""

import numpy as np

from ._arrays import abs_above, as_layers, one_layer
from .display import draws_figure
from .plots_common import BLUE, SATURATED_SHADE, check_count, check_threshold, line_color, new_axes
from .plots_common import bin_edges, saturation_rule, tanh_saturation_x
from ._text import plain_text


def _saturated_fraction(values, trace, source, threshold):
    """Fraction of saturated entries: the trace's own rule for a layer trace, |h| > threshold for an array
    (compared in the array's own dtype, as PyTorch would)."""
    if trace is not None:
        flags = np.asarray(trace.saturated(threshold), dtype=bool)
        return flags.mean(), saturation_rule(trace.activation, threshold)
    return abs_above(values, source, threshold).mean(), f"|h| > {threshold:g}"


def _draw(data, attribute, what, bins, ax, describe_stats, xlabel, single_title):
    """Draw one bar histogram or one line per layer; return the Axes."""
    bins = check_count(bins, f"{what} bins")
    layers = as_layers(data, attribute, what)
    values, trace, source = one_layer(data, attribute, what) if layers is None else (None, None, None)
    ax = new_axes(ax)  # only once the input is known to be good
    if layers is None:
        ax.hist(values.ravel(), bins=bin_edges(values, bins), color=BLUE, edgecolor="white", linewidth=0.4)
        if trace is not None:
            header = f"{plain_text(trace.name)} ({plain_text(trace.activation)}) {single_title}"
        else:
            header = single_title
        ax.set_title(f"{header}, {_shape_text(values)}\n{describe_stats(values, trace, source)}", fontsize=10)
        ax.set_ylabel("count")
    else:
        handles, labels = [], []
        for index, (name, values, trace, source) in enumerate(layers):
            density, edges = np.histogram(values.ravel(), bins=bin_edges(values, bins), density=True)
            label = plain_text(name) if trace is None else f"{plain_text(name)} ({plain_text(trace.activation)})"
            labels.append(f"{label}: {describe_stats(values, trace, source)}")
            handles += ax.plot((edges[:-1] + edges[1:]) / 2, density, color=line_color(index), linewidth=1.6,
                               label=labels[-1])
        # below the axes: the interesting parts (tanh's spikes at +-1, a gradient's spike at 0) stay visible;
        # handles and labels given, so that a name starting with "_" is not left out of the legend
        ax.legend(handles, labels, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, -0.14), frameon=False)
        ax.set_title(f"{single_title} per layer ({bins} bins, density)", fontsize=10)
        ax.set_ylabel("density")
    ax.set_xlabel(xlabel)
    return ax


def _stat(number, sign=""):
    """A mean or std for a title: 3 decimals, or 3 significant digits past 10,000 (a trained-to-death
    layer's 5.5e29 would print 30 digits); inf when the sum of squares overflowed."""
    return f"{number:{sign}.3f}" if abs(number) < 1e4 else f"{number:{sign}.3g}"


def _shape_text(values):
    return " x ".join(str(size) for size in values.shape) + (" (samples x neurons)" if values.ndim == 2 else "")


@draws_figure
def activation_hist(h, threshold=0.99, bins=50, ax=None):
    """Histogram of activations `h` (a layer trace's .act or any array-like); return the Axes.

    The title gives mean, std and the saturated %: |h| > threshold for an array,
    the layer's own rule for a trace (relu: h = 0). Given several layers (list
    of layer traces, dict name -> array) it draws one line per layer.
    Raises TypeError/ValueError for non-numeric, ragged, 3-D or empty input.
    """
    threshold = check_threshold(threshold)

    def stats(values, trace, source):
        fraction, rule = _saturated_fraction(values, trace, source, threshold)
        return f"mean {_stat(values.mean(), '+')}, std {_stat(values.std())}, saturated {100 * fraction:.1f}% ({rule})"

    return _draw(h, "act", "activation_hist h", bins, ax, stats, "activation h", "activations")


@draws_figure
def preact_hist(preact, bins=50, ax=None, threshold=0.99):
    """Histogram of pre-activations (a layer trace's .preact or any array-like); return the Axes.

    The saturated % is the share whose tanh would be saturated: |x| > atanh(threshold)
    (2.65 at 0.99), whatever the layer's activation; that region is shaded grey.
    Raises TypeError/ValueError like `activation_hist`.
    """
    threshold = check_threshold(threshold)
    edge = tanh_saturation_x(threshold)

    def stats(values, trace, source):
        fraction = (np.abs(values) > edge).mean()
        return (f"mean {_stat(values.mean(), '+')}, std {_stat(values.std())}, "
                f"tanh-saturated {100 * fraction:.1f}% (|x| > {edge:.2f})")

    ax = _draw(preact, "preact", "preact_hist preact", bins, ax, stats,
               f"pre-activation x   (grey: |x| > atanh({threshold:g}) = {edge:.2f}, where tanh saturates)",
               "pre-activations")
    left, right = ax.get_xlim()
    for start, stop in ((min(left, -edge), -edge), (edge, max(right, edge))):
        ax.axvspan(start, stop, color=SATURATED_SHADE, zorder=0, linewidth=0)
    ax.set_xlim(left, right)
    return ax


@draws_figure
def grad_hist(grads, bins=50, ax=None, attribute="grad_in", vanish_tol=1e-6):
    """Histogram of gradients: a layer trace's `attribute` ("grad_in" = d loss/d preact, what the
    neuron passed back; or "grad_out" = d loss/d act), or any array-like; return the Axes.

    Several layers draw one line per layer. The title/legend gives mean, std and the % of
    gradients that vanished, |g| <= vanish_tol (the same tolerance as viz.graph's).
    Raises TypeError/ValueError like `activation_hist`, and for an unknown `attribute`.
    """
    if attribute not in ("grad_in", "grad_out"):
        raise ValueError(f"grad_hist attribute must be 'grad_in' or 'grad_out', got {attribute!r}")

    def stats(values, trace, source):
        vanished = (np.abs(values) <= vanish_tol).mean()
        return (f"mean {values.mean():+.2e}, std {values.std():.2e}, "
                f"vanished {100 * vanished:.1f}% (|g| <= {vanish_tol:g})")

    xlabel = {"grad_in": "gradient d loss / d preact", "grad_out": "gradient d loss / d act"}[attribute]
    return _draw(grads, attribute, "grad_hist grads", bins, ax, stats, xlabel, "gradients")
