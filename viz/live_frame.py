"""One frame of the live training view, drawn with viz's own figure functions into one reused Figure.

Top row, over the steps so far: the loss (`loss_curve`), the dead neurons and the saturated % of each
shown layer (dead in vermillion, as in every figure of viz), the update:data ratios with makemore's
1e-3 guide (`update_ratio_history`). Then one row per shown layer, of the newest step: its saturation
map (dead columns marked ▼, `saturation_map`), its activation histogram (`activation_hist`) and its
gradient histogram (`grad_hist`).

`frame_png` renders the Figure to PNG bytes whose text chunks carry `frame_text`: the step and the
numbers the frame was drawn from, so a reader (or a test) of the saved notebook can check them.
"""

import io

import numpy as np
from matplotlib.ticker import MaxNLocator

from .plots_common import DEAD_COLOR, line_color
from .plots_hist import activation_hist, grad_hist
from .plots_saturation import saturation_map
from .plots_training import loss_curve, update_ratio_history
from ._text import plain_text
from .live_numbers import drawable

__all__ = ["draw_frame", "frame_png", "frame_text", "frame_summary", "figure_size"]

COLUMNS = 12  # the top row has 4 panels of 3 columns, a layer's row 3 panels of 4
TOP_HEIGHT, LAYER_HEIGHT, WIDTH = 2.9, 3.0, 14.0  # inches; at 72 dpi about 940 px wide: a laptop's notebook


def figure_size(n_layers):
    """(width, height) in inches of a frame showing `n_layers` layers."""
    return WIDTH, TOP_HEIGHT + LAYER_HEIGHT * n_layers + 1.25


def frame_summary(record, shown):
    """The numbers a frame shows of its newest step: {"step", "loss", "layers": [{name, dead, saturated_pct,
    n_samples, n_neurons}]} for the layers at indices `shown` (of record.layers) that recorded samples."""
    layers = []
    for index in shown:
        numbers = record.layers[index] if index < len(record.layers) else None
        if numbers is not None:
            layers.append({"name": numbers.name, "dead": len(numbers.dead), "saturated_pct": numbers.saturated_pct,
                           "n_samples": numbers.n_samples, "n_neurons": numbers.n_neurons})
    return {"step": record.step, "loss": record.loss, "layers": layers}


def frame_text(summary):
    """One line saying what a frame shows: 'step 41: loss 2.3412; layers.0 (tanh?) 3/32 dead, 41.2% saturated'."""
    loss = "no loss" if summary["loss"] is None else f"loss {summary['loss']:.6g}"
    parts = [f"{layer['name']}: {layer['dead']}/{layer['n_neurons']} dead, {layer['saturated_pct']:.1f}% saturated"
             for layer in summary["layers"]]
    return f"live training view, step {summary['step']}: {loss}" + ("; " + "; ".join(parts) if parts else "")


def _series(records, index, attribute):
    steps, values = [], []
    for record in records:
        numbers = record.layers[index] if index < len(record.layers) else None
        if numbers is not None:
            steps.append(record.step)
            values.append(attribute(numbers))
    return steps, values


def _draw_losses(ax, records):
    pairs = [(record.step, record.loss) for record in records if record.loss is not None]
    finite = [(step, loss) for step, loss in pairs if np.isfinite(loss)]
    if len(finite) == len(pairs) == len(records) and finite:
        loss_curve([loss for _, loss in finite], ax=ax)
    elif finite:  # some steps without a loss, or with a nan/inf one: plot the finite ones at their steps
        ax.plot(*zip(*finite), color=line_color(0), linewidth=1.2)
        bad = len(pairs) - len(finite)
        ax.set_title(f"loss: last {finite[-1][1]:.4g}" + (f" ({bad} not finite, left out)" if bad else ""), fontsize=10)
        ax.set_xlabel("step")
    else:
        ax.set_title("loss: none given (update(loss=...))", fontsize=10)


def _draw_counts(dead_ax, saturated_ax, records, shown, names):
    for colour_index, index in enumerate(shown):
        steps, dead = _series(records, index, lambda numbers: len(numbers.dead))
        colour = DEAD_COLOR if len(shown) == 1 else line_color(colour_index)
        dead_ax.plot(steps, dead, color=colour, linewidth=1.4, drawstyle="steps-post", label=plain_text(names[index]))
        steps, saturated = _series(records, index, lambda numbers: numbers.saturated_pct)
        saturated_ax.plot(steps, saturated, color=line_color(colour_index), linewidth=1.4,
                          label=plain_text(names[index]))
    last = records[-1]
    dead_now = ", ".join(str(len(last.layers[i].dead)) for i in shown if i < len(last.layers) and last.layers[i])
    dead_ax.set_title(f"dead neurons (saturated on every sample): now {dead_now or '-'}", fontsize=10)
    saturated_ax.set_title("saturated % of activations", fontsize=10)
    saturated_ax.set_ylim(-2, 102)
    for ax in (dead_ax, saturated_ax):
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        if len(shown) > 1:
            ax.legend(fontsize=7, frameon=False)
    dead_ax.yaxis.get_major_locator().set_params(integer=True)


def _draw_ratios(ax, records):
    history = [record.ratios for record in records if record.ratios is not None]
    if history and any(value is not None for step in history for value in step.values()):
        update_ratio_history(history, ax=ax)
        ax.set_ylabel("log10 update/data", fontsize=9)
        ax.legend(fontsize=6, frameon=True, framealpha=0.85, loc="best")  # readable over the lines it covers
    else:
        ax.set_title("update : data ratio: no parameters\n(live(net) or live(params=...))", fontsize=10)
        ax.set_axis_off()


def _draw_layer(axes, layer, numbers, threshold):
    map_ax, act_ax, grad_ax = axes
    saturation_map(layer, threshold=threshold, ax=map_ax)
    activation_hist(layer, threshold=threshold, ax=act_ax)
    if numbers.has_grads:
        grad_hist(layer, ax=grad_ax)
    else:
        grad_ax.set_title(f"{plain_text(numbers.name)}: no gradient (no backward() reached it)", fontsize=10)
        grad_ax.set_axis_off()


def draw_frame(figure, records, shown, threshold, title):
    """Clear `figure` and draw the frame of `records` (StepNumbers, oldest first) into it; return its summary.

    `shown`: indices of the trace's layers to draw a row for (those of the newest step without samples are
    skipped). Draws only from the records: the newest one's trace layers give the map and histograms.
    """
    figure.clear()
    last = records[-1]
    rows = [index for index in shown if index < len(last.layers) and last.layers[index] is not None]
    width, height = figure_size(len(rows))
    figure.set_size_inches(width, height)
    # fixed margins in inches (no constrained layout: it measures every text twice per frame, the frame's main cost)
    grid = figure.add_gridspec(1 + len(rows), COLUMNS, height_ratios=[TOP_HEIGHT] + [LAYER_HEIGHT] * len(rows),
                               left=0.6 / width, right=1 - 0.25 / width, top=1 - 0.75 / height, bottom=0.5 / height,
                               hspace=0.62, wspace=2.2)
    top = [figure.add_subplot(grid[0, 3 * i:3 * i + 3]) for i in range(4)]
    names = {index: numbers.name for record in records for index, numbers in enumerate(record.layers) if numbers}
    _draw_losses(top[0], records)
    if rows:
        _draw_counts(top[1], top[2], records, rows, names)
    else:
        for ax in top[1:3]:
            ax.set_axis_off()
        top[1].set_title("no traced layer (update(trace=...))", fontsize=10)
    _draw_ratios(top[3], records)
    whole_numbers = list(top)  # x axes of steps and of neuron indices
    gradients = []  # x axes of gradients (-0.0005...)
    for row, index in enumerate(rows, start=1):
        axes = [figure.add_subplot(grid[row, 4 * i:4 * i + 4]) for i in range(3)]
        _draw_layer(axes, drawable(last.trace_layers[index]), last.layers[index], threshold)
        whole_numbers.append(axes[0])
        gradients.append(axes[2])
    for ax in figure.axes:  # viz's figures are made for one panel a page; a frame holds up to 16
        ax.title.set_fontsize(8.5)
        ax.xaxis.label.set_fontsize(8.5)
        ax.yaxis.label.set_fontsize(8.5)
        ax.tick_params(labelsize=7.5)
    # a panel is ~250 px wide: at most 5 labels on an x axis of steps, neurons or gradients, so that 25000
    # (steps) or -0.00075 (a gradient) never run into each other; steps and neurons are whole numbers
    for ax in whole_numbers:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    for ax in whole_numbers[len(top):]:  # a saturation map's rows are samples: 0, 1, ... not 0.25
        ax.yaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    for ax in gradients:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
    summary = frame_summary(last, rows)
    figure.suptitle(f"{title}: {frame_text(summary)}", fontsize=11)
    return summary


def frame_png(figure, text, dpi=72):
    """Return the figure rendered as PNG bytes, `text` in its Description chunk."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Title": "micrograd_it live training view",
                                                            "Description": text})
    return buffer.getvalue()
