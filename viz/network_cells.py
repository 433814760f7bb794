"""The cells of a network map: each layer is one table node (Graphviz HTML label), one cell per neuron.

A table keeps its cells where it puts them, so every layer reads in index
order (row by row, left to right) whatever the layout engine does to reduce
edge crossings. Each cell has a PORT, for edges to single neurons, and an ID
and TITLE: in the SVG, neuron j of layer i is the element ``a_l<i>_<j>`` (input
k: ``a_x<k>``) and shows its numbers on hover.

Two sizes of cell: "full" (a small net) prints the index, the saturation and
the mean |grad_in|; "compact" (a wide net) prints the index over two bars, the
norms of the weights into and out of the neuron. A bar is hollow when all the
weights it stands for can (almost) no longer learn. A bar whose norm is not
a finite number (weights past the floats, or NaN) is full and vermillion; the
cell's title prints the norm ("inf", "nan").
"""

import math

from .graph import FILL, PALETTE, WHITE_TEXT_FROM, saturation_color
from .layout import dot_text, html_text

__all__ = ["layer_table", "neuron_cell", "input_cell", "legend_table", "html_text", "cell_id",
           "BAR_WIDTH", "DEAD_MARK", "CELL_BORDER", "DEAD_BORDER"]

BAR_WIDTH = 22  # pt: the bar of the largest norm of its layer
BAR_HEIGHT = 4  # pt
CELL_WIDTH = {"compact": 28, "full": 64}
CELL_BORDER, DEAD_BORDER = ("1", "#999999"), ("3", PALETTE["black"])  # (width, colour) of a cell's outline
DEAD_MARK = "\u00d7"  # x: printed before a dead neuron's index (shape, not colour alone)
BAR_COLOR, HOLLOW_COLOR = PALETTE["blue"], "#555555"
NONFINITE_COLOR = PALETTE["vermillion"]  # a bar whose norm is NaN or infinite (its title prints which)


def cell_id(layer_index, j):
    """Return the ID of a cell: ``x<j>`` for an input (layer_index None), ``l<layer_index>_<j>`` for a neuron."""
    return f"x{j}" if layer_index is None else f"l{layer_index}_{j}"


def _td(attrs, content=""):
    return "<TD" + "".join(f' {key}="{value}"' for key, value in attrs.items()) + f">{content}</TD>"


def _font(text, size, color=None, bold=False):
    body = f"<B>{html_text(text)}</B>" if bold else html_text(text)
    colour = f' COLOR="{color}"' if color else ""
    return f'<FONT POINT-SIZE="{size}"{colour}>{body}</FONT>'


def _bar(norm, largest, hollow, ident=None):
    """A bar of length ~ norm / largest on a white track; hollow (outlined, unfilled) when its weights are frozen.

    `ident` (e.g. "l0_3_in") names the bar's cell in the DOT text, for tests and readers of the source.
    """
    fill = {"BGCOLOR": "#FFFFFF", "BORDER": "1", "COLOR": HOLLOW_COLOR} if hollow else {"BGCOLOR": BAR_COLOR}
    if not math.isfinite(norm):  # weights beyond the floats (or NaN): a full bar in the warning colour
        width, fill = BAR_WIDTH, {"BGCOLOR": NONFINITE_COLOR}
    elif largest > 0 and math.isfinite(largest):
        width = max(1, round(BAR_WIDTH * (norm / largest)))  # not (BAR_WIDTH * norm): it overflows at 1e308
    else:  # nothing finite to compare with (all zeros, or a NaN or infinite norm elsewhere in the layer)
        width = 1 if largest == 0 or norm == 0 else BAR_WIDTH
    named = {"ID": ident} if ident else {}
    cells = _td({**named, "WIDTH": str(width), "HEIGHT": str(BAR_HEIGHT), "FIXEDSIZE": "TRUE", **fill})
    if width < BAR_WIDTH:
        cells += _td({"WIDTH": str(BAR_WIDTH - width), "HEIGHT": str(BAR_HEIGHT), "FIXEDSIZE": "TRUE"})
    return (f'<TR><TD><TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0" BGCOLOR="#FFFFFF">'
            f"<TR>{cells}</TR></TABLE></TD></TR>")


def _cell(ident, title, fill, dead, rows, size):
    """A neuron's cell: outline thick and black when dead, an anchor (ID, TITLE, HREF) for the SVG."""
    border, colour = DEAD_BORDER if dead else CELL_BORDER
    attrs = {"ID": ident, "HREF": f"#a_{ident}", "TITLE": dot_text(title, "html-attribute"), "PORT": ident, "BGCOLOR": fill,
             "BORDER": border, "COLOR": colour, "CELLPADDING": "2", "WIDTH": str(CELL_WIDTH[size])}
    inner = '<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0">' + "".join(rows) + "</TABLE>"
    return _td(attrs, inner)


def _norm_text(name, norm, count, frozen):
    return f"; ||{name}|| {norm:.3g} ({count} weights, {frozen} can (almost) no longer learn)"


def neuron_cell(layer_index, j, numbers, size, largest):
    """Return the <TD> of neuron j of a layer (LayerNumbers); `largest` = (max in norm, max out norm) of the layer."""
    saturation, dead = numbers.saturation[j], j in numbers.dead
    fill = "#FFFFFF" if numbers.linear else saturation_color(saturation)
    text_colour = "#FFFFFF" if saturation >= WHITE_TEXT_FROM and not numbers.linear else None
    index = (DEAD_MARK if dead else "") + (f"n{j}" if size == "full" else str(j))
    title = (f"{numbers.name} neuron {j} ({numbers.activation}): saturated on {100 * saturation:.1f}% of "
             f"{numbers.n_samples} samples; mean |grad_in| {numbers.grad_in[j]:.4g}"
             + ("; DEAD (saturated on every sample)" if dead else "")
             + _norm_text("w in", numbers.in_norm[j], numbers.fan_in, numbers.frozen_in[j]))
    if numbers.out_norm is not None:
        title += _norm_text("w out", numbers.out_norm[j], numbers.n_next, numbers.frozen_out[j])
    rows = [f"<TR><TD>{_font(index, 9 if size == 'compact' else 10, text_colour, bold=dead)}</TD></TR>"]
    if size == "full":
        lines = (["DEAD"] if dead else []) + ["linear" if numbers.linear else f"sat {100 * saturation:.0f}%",
                                              f"|g| {numbers.grad_in[j]:.2g}"]
        rows += [f"<TR><TD>{_font(line, 9, text_colour, bold=(line == 'DEAD'))}</TD></TR>" for line in lines]
    else:
        ident = cell_id(layer_index, j)
        rows.append(_bar(numbers.in_norm[j], largest[0], numbers.frozen_in[j] == numbers.fan_in, ident + "_in"))
        if numbers.out_norm is not None:
            rows.append(_bar(numbers.out_norm[j], largest[1], numbers.frozen_out[j] == numbers.n_next,
                             ident + "_out"))
    return _cell(cell_id(layer_index, j), title, fill, dead, rows, size)


def input_cell(k, inputs, size, largest_out):
    """Return the <TD> of input k (InputNumbers): its index and (compact) the bar of the weights it feeds."""
    title = f"input {k}" + _norm_text("w out", inputs.out_norm[k], inputs.n_next, inputs.frozen_out[k])
    rows = [f"<TR><TD>{_font(str(k) if size == 'compact' else f'x{k}', 9 if size == 'compact' else 10)}</TD></TR>"]
    if size == "compact":
        rows.append(_bar(inputs.out_norm[k], largest_out, inputs.frozen_out[k] == inputs.n_next, f"x{k}_out"))
    return _cell(cell_id(None, k), title, FILL["input"], False, rows, size)


def layer_table(header, cells, columns, header_left=False):
    """Return an HTML-label TABLE: a header, then `cells` row by row, `columns` per row.

    Rows are labelled by the index of their first cell when there are several
    rows of several columns. `header_left`: the header in a cell left of the
    rows instead of above them (where edges arrive from above).
    """
    label_column = columns > 1 and len(cells) > columns
    width = columns + label_column
    n_rows = -(-len(cells) // columns)
    rows = [] if header_left else [f'<TR><TD COLSPAN="{width}">{_font(header, 11)}</TD></TR>']
    for start in range(0, len(cells), columns):
        row = cells[start:start + columns]
        label = _td({"ALIGN": "RIGHT"}, _font(str(start), 8, "#555555")) if label_column else ""
        first = _td({"ROWSPAN": str(n_rows), "BALIGN": "RIGHT"}, _font(header, 11)) if header_left and not start else ""
        rows.append("<TR>" + first + label + "".join(row) + "".join("<TD></TD>" for _ in range(columns - len(row)))
                    + "</TR>")
    return '<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2" CELLPADDING="0">' + "".join(rows) + "</TABLE>"


def _swatch(fill, text, border=CELL_BORDER, bold=False, text_colour=None):
    return _td({"BGCOLOR": fill, "BORDER": border[0], "COLOR": border[1], "WIDTH": "30", "HEIGHT": "16"},
               _font(text, 9, text_colour, bold))


def _text(text):
    return _td({"ALIGN": "LEFT", "BALIGN": "LEFT"}, _font(text, 10))


def _inline(cells):
    """Several cells side by side inside one cell of the legend."""
    return _td({"ALIGN": "LEFT"}, '<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="0"><TR>'
               + "".join(cells) + "</TR></TABLE>")


def legend_table(size, left_out):
    """Return the legend's TABLE: the saturation scale, the dead mark, the bars (compact) and what was left out.

    Two columns, a sample and what it means; `left_out`: lines saying what the map does not draw.
    """
    scale = [_swatch(saturation_color(fraction), f"{100 * fraction:.0f}%",
                     text_colour="#FFFFFF" if fraction >= WHITE_TEXT_FROM else None)
             for fraction in (0.0, 0.25, 0.5, 0.75, 1.0)]
    samples = [(_td({}),
                _inline([_text("fill: saturated on")] + scale + [_text("of the\nsamples")])),
               (_swatch(saturation_color(1.0), DEAD_MARK + "17", DEAD_BORDER, True, "#FFFFFF"),
                _text(f"DEAD ({DEAD_MARK}, thick outline): saturated on every sample")),
               (_swatch("#FFFFFF", "17"), _text("linear: never saturates"))]
    if size == "compact":
        bars = '<TABLE BORDER="0" CELLSPACING="1" CELLPADDING="0">{}</TABLE>'
        samples += [(_td({}, bars.format(_bar(2, 3, False) + _bar(1, 3, False))),
                     _text("bars: norm of the weights into (top) and out of (bottom) the neuron,\n"
                           "relative to the largest of its layer")),
                    (_td({}, bars.format(_bar(2, 3, True))),
                     _text("hollow bar: all those weights can (almost) no longer learn\n"
                           "(into a dead neuron, whose grad_in is ~0)"))]
    rows = [f'<TR><TD COLSPAN="2">{_font("legend", 11, bold=True)}</TD></TR>']
    rows += [f"<TR>{sample}{meaning}</TR>" for sample, meaning in samples]
    # in the second column: a long line there does not stretch the samples
    rows += [f"<TR><TD></TD>{_text(line)}</TR>" for line in left_out]
    return ('<TABLE BORDER="1" COLOR="#888888" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2">'
            + "".join(rows) + "</TABLE>")
