"""Assemble a network map: one table node per layer (viz.network_cells), the weights between them, a legend.

"full" (a small net): each layer is one column of cells (one row with rankdir
TB), each weight an edge between two cells, width ~ |w|, blue solid when
positive, purple dashed when negative, light grey dotted when it can (almost)
no longer learn; past `max_edges_per_neuron` only the strongest into each
neuron. "compact" (a wide net): each layer is a grid, and each weight matrix
is at most two summary edges, the weights that learn and those that can
(almost) no longer learn, each labelled with its count.
"""

import math

from .graph import FONT, PALETTE
from .layout import LaidOutDigraph, attributes
from .network_cells import cell_id, input_cell, layer_table, legend_table, neuron_cell

__all__ = ["draw", "grid_columns", "table_name", "FROZEN_COLOR"]

FROZEN_COLOR = "#BBBBBB"
MIN_ROWS = 6  # a wide net's grids are at least this many rows tall (when their layer has that many neurons)


def table_name(layer_index):
    """Return the DOT name of a layer's table node: "inputs" (layer_index None) or "layer<i>"."""
    return "inputs" if layer_index is None else f"layer{layer_index}"


def grid_columns(widths, size, rankdir="LR"):
    """Return the number of columns of each layer's grid, for layer widths `widths` (inputs first).

    full: one column each (one row each with rankdir TB). compact: every grid has
    the same number of rows, about 2/3 of its columns for the widest layer, so the
    map is wider than tall like a screen.
    """
    if size == "full":
        return list(widths) if rankdir == "TB" else [1] * len(widths)
    widest = max(widths)
    rows = max(math.ceil(math.sqrt(widest / 1.5)), min(widest, MIN_ROWS))
    return [max(1, math.ceil(width / rows)) for width in widths]


def _largest(values):
    return max(values, default=0.0) if values is not None else 0.0


def _plural(count, noun):
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _tables(inputs, layers, size, columns, rankdir):
    """DOT lines of the inputs' and each layer's table node."""
    header_left = size == "full" and rankdir == "TB"  # edges arrive from above: the header beside the row
    joint = "\n" if size == "full" else ", "  # a full-size column is narrow: the header on two lines
    largest_out = _largest(inputs.out_norm)
    cells = [input_cell(k, inputs, size, largest_out) for k in range(inputs.n_neurons)]
    lines = [_table_line(None, f"inputs ({inputs.n_neurons})", cells, columns[0], header_left)]
    for index, numbers in enumerate(layers):
        largest = (_largest(numbers.in_norm), _largest(numbers.out_norm))
        cells = [neuron_cell(index, j, numbers, size, largest) for j in range(numbers.n_neurons)]
        header = (f"{numbers.name}: {numbers.activation}{joint}{_plural(numbers.n_neurons, 'neuron')}"
                  + ("" if numbers.linear else f", {len(numbers.dead)} dead"))
        lines.append(_table_line(index, header, cells, columns[index + 1], header_left))
    return lines


def _table_line(layer_index, header, cells, columns, header_left):
    return f"{table_name(layer_index)} [shape=plain label=<{layer_table(header, cells, columns, header_left)}>]"


def _weight_edges(layer_index, source, target, max_per_neuron, rankdir):
    """Full size: DOT lines of the strongest `max_per_neuron` weights into each neuron; returns (lines, left out)."""
    strongest = max((abs(w.data) for weights in target.weights for w in weights), default=0.0) or 1.0
    silent = getattr(source, "silent", set())
    tail, head = ("e", "w") if rankdir == "LR" else ("s", "n")
    source_index = None if layer_index == 0 else layer_index - 1
    lines, left_out = [], 0
    for m, weights in enumerate(target.weights):
        ranked = sorted(range(len(weights)), key=lambda k: abs(weights[k].data), reverse=True)
        left_out += max(len(ranked) - max_per_neuron, 0)
        for k in sorted(ranked[:max_per_neuron]):
            weight = weights[k].data
            frozen = m in target.dead or k in silent
            attrs = {"penwidth": f"{0.4 + 3.6 * abs(weight) / strongest:.2f}", "arrowsize": "0.4",
                     "color": FROZEN_COLOR if frozen else PALETTE["blue"] if weight >= 0 else PALETTE["purple"],
                     "tooltip": f"w = {weight:.4g}" + ("; can (almost) no longer learn" if frozen else "")}
            if frozen:
                attrs["style"] = "dotted"
            elif weight < 0:
                attrs["style"] = "dashed"
            source_cell, target_cell = cell_id(source_index, k), cell_id(layer_index, m)
            lines.append(f"{table_name(source_index)}:{source_cell}:{tail} -> "
                         f"{table_name(layer_index)}:{target_cell}:{head}{attributes(attrs)}")
    return lines, left_out


def _summary_edges(layer_index, target):
    """Compact: one edge for the weights into `target` that learn and one for those that can (almost) not."""
    total = target.n_neurons * target.fan_in
    frozen = sum(target.frozen_in)
    source, head = table_name(None if layer_index == 0 else layer_index - 1), table_name(layer_index)
    learning = f"{total - frozen:,} learn" if frozen else "all learn"
    lines = [f"{source} -> {head}" + attributes({
        "label": f"{target.name}.w\n{target.n_neurons} x {target.fan_in} = {total:,}\nweights: {learning}",
        "penwidth": f"{1 + 5 * (total - frozen) / total:.2f}", "color": PALETTE["blue"], "fontsize": "9",
        "id": f"w{layer_index}_learn"})]
    if frozen:
        into_dead = len(target.dead) * target.fan_in
        reasons = [f"{into_dead:,} into the\n{_plural(len(target.dead), 'dead neuron')}"] if into_dead else []
        if frozen > into_dead:
            reasons.append(f"{frozen - into_dead:,} from dead\nneurons that output 0")
        lines.append(f"{source} -> {head}" + attributes({
            "label": f"{frozen:,} can (almost)\nno longer learn:\n" + "\n".join(reasons),
            "penwidth": f"{1 + 5 * frozen / total:.2f}", "color": FROZEN_COLOR, "style": "dashed",
            "fontsize": "9", "fontcolor": "#555555", "id": f"w{layer_index}_frozen"}))
    return lines


def _left_out(layers, size, left_out_edges, max_per_neuron):
    """Lines of the legend that say what the map does not draw."""
    weights = [numbers.n_neurons * numbers.fan_in for numbers in layers]
    if size == "compact":
        matrices = " + ".join(f"{count:,}" for count in weights)
        return [f"Not drawn: the {matrices} weights one by one, and the biases.",
                "Hover a cell for its numbers: saturation, mean |grad_in|,\nthe norms, how many weights are frozen."]
    lines = ["edges: weights, width ~ |w|; blue solid w > 0, purple dashed w < 0;",
             "grey dotted: into a dead neuron, can (almost) no longer learn.", "|g|: mean |grad_in|. Biases not drawn."]
    if left_out_edges:
        lines.append(f"Not drawn: {left_out_edges:,} weaker weights "
                     f"(the {max_per_neuron} strongest into each neuron are).")
    return lines


def draw(inputs, layers, title, *, size, rankdir, max_edges_per_neuron, format, legend):
    """Return the LaidOutDigraph of the map (see the module docstring); `title` is a list of lines."""
    widths = [inputs.n_neurons] + [numbers.n_neurons for numbers in layers]
    lines = _tables(inputs, layers, size, grid_columns(widths, size, rankdir), rankdir)
    left_out_edges, sources = 0, [inputs] + layers
    for index, (source, target) in enumerate(zip(sources, layers)):
        if size == "compact":
            lines += _summary_edges(index, target)
        else:
            edge_lines, skipped = _weight_edges(index, source, target, max_edges_per_neuron, rankdir)
            lines += edge_lines
            left_out_edges += skipped
    if legend:
        legend_lines = _left_out(layers, size, left_out_edges, max_edges_per_neuron)
        lines.append(f"legend [shape=plain label=<{legend_table(size, legend_lines)}>]")
        widest = max(range(len(layers)), key=lambda index: layers[index].n_neurons)
        # under the widest layer's table: in its rank, after it
        lines.append(f"{{rank=same; {table_name(widest)} -> legend [style=invis]}}")
    if left_out_edges:
        title = title + [f"only the {max_edges_per_neuron} strongest weights into each neuron are drawn "
                         f"({left_out_edges} weaker left out)"]
    dot = LaidOutDigraph(name="network", format=format)
    dot.body.append("graph" + attributes({"rankdir": rankdir, "label": "\n".join(title), "labelloc": "t",
                                          "fontname": FONT, "fontsize": "14", "nodesep": "0.3",
                                          "ranksep": "0.4" if size == "compact" else "1.2"}) + "\n")
    dot.attr("node", fontname=FONT)
    dot.attr("edge", fontname=FONT)
    dot.body.extend(line + "\n" for line in lines)
    return dot
