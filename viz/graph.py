"""Draw a computation graph and show where its gradient vanishes.

    from viz.graph import draw_graph, render
    loss.backward()
    draw_graph(loss)                       # a Digraph: Jupyter shows it inline (draw_dot: the lecture's name)
    render(loss, "graph.png")              # .svg .png .pdf .dot, picked from the suffix

Each Value is a record ``label | data | grad``; each op is a small node between
its inputs and its output, as in Karpathy's lecture. What the colours mean:
- a Value whose gradient vanished (``|grad| <= vanish_tol`` although the root's
  gradient is not 0) is grey and dashed, and says "vanished";
- an activation op whose local derivative is below 0.02 (tanh with |t| > 0.99,
  a sigmoid near 0 or 1, a relu fed a negative number) is an orange octagon
  that prints its local derivative: the gradient is multiplied by it, so almost
  nothing gets through;
- edges are thicker where more gradient flows (log scale), dotted and pale
  where almost none does;
- inputs (labelled leaves), constants (unlabelled leaves: the 2.0 of ``x * 2.0``,
  rounded and grey, "const"), named parameters and the output have their own
  fill and border.
Every kind differs by shape or line style as well as colour (Okabe-Ito
palette), so the picture reads for colour-blind readers and in grey print.

Big graphs are collapsed: one node per neuron and sample when a trace is
given, and past ``max_nodes`` only the nodes nearest the root are drawn, the
rest summarised in one node; the title says so.

The drawing is made in two steps: `viz.graph_units.collect` turns the Values
into drawn *units* (a Value with its op, a collapsed neuron, a summary) and the
edges between them, with their gradient flow; `_to_dot` here writes those as DOT.
"""

import math
import os

from micrograd_it.engine import Value

from .graph_nearest import collect_nearest
from .graph_units import SATURATED_LOCAL, _parameter_names, collect, number_text
from .layout import LaidOutDigraph, Raw, attributes, record_field, run_layout, write_drawing

__all__ = ["draw_graph", "draw_dot", "render", "saturation_color", "SATURATED_LOCAL", "PALETTE", "SATURATION_SCALE"]

FLOW_DECADES = 4  # edge widths go from thin to thick over this many decades of gradient flow

# Okabe-Ito colours (safe for the common colour-blindnesses); fills are light tints of them.
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
FILL = {"input": "#D5ECF9", "constant": "#FFFFFF", "param": "#C2E8DC", "output": "#F9E3B4", "vanished": "#E6E6E6",
        "flat": "#F6CFB3", "plain": "#FFFFFF", "summary": "#F2F2F2"}
FONT = "Helvetica"


# ColorBrewer YlOrBr: sequential and safe for the common colour-blindnesses; light enough to read black text
# on all but the last stop.
SATURATION_SCALE = ["#FFFFD4", "#FED98E", "#FE9929", "#D95F0E", "#993404"]
UNKNOWN_FILL = "#BBBBBB"  # a saturation that is NaN
WHITE_TEXT_FROM = 0.8  # from this saturation on, white text has more contrast than black on the fill


def saturation_color(fraction):
    """Return the fill colour ("#RRGGBB") for a saturation `fraction` in [0, 1], interpolated on SATURATION_SCALE.

    NaN gets UNKNOWN_FILL (grey): no saturation is known.
    """
    fraction = float(fraction)
    if math.isnan(fraction):  # unknown (a NaN reached the measurement): the grey of "nothing known"
        return UNKNOWN_FILL
    fraction = min(max(fraction, 0.0), 1.0)
    position = fraction * (len(SATURATION_SCALE) - 1)
    low = min(int(position), len(SATURATION_SCALE) - 2)
    weight = position - low
    start, stop = SATURATION_SCALE[low], SATURATION_SCALE[low + 1]
    channels = [round(int(start[i:i + 2], 16) * (1 - weight) + int(stop[i:i + 2], 16) * weight) for i in (1, 3, 5)]
    return "#" + "".join(f"{channel:02X}" for channel in channels)


def _value_style(kind, vanished):
    """DOT attributes of a Value record: its kind (input/param/output/plain) and whether its grad vanished."""
    style = {"shape": "record", "style": "filled", "fillcolor": FILL[kind], "color": PALETTE["black"]}
    if kind == "param":
        style.update(style="filled,bold", color=PALETTE["green"], penwidth="2")
    elif kind == "output":
        style.update(style="filled,bold", color=PALETTE["orange"], penwidth="3")
    elif kind == "input":
        style.update(color=PALETTE["blue"])
    elif kind == "constant":  # rounded and grey: a number of the expression, drawn apart from the inputs
        style.update(shape="Mrecord", color=PALETTE["grey"])
    if vanished:  # grey and dashed; a parameter keeps its thick border, so it is still seen as one
        style.update(style="filled,dashed", fillcolor=FILL["vanished"], color=PALETTE["grey"],
                     fontcolor="#555555", penwidth="2.5" if kind in ("param", "output") else "1.5")
    return style


def _record(fields, rankdir, across=True):
    """A record label from plain-text fields: across the flow like the lecture's, or stacked (across=False)."""
    body = " | ".join(record_field(field) for field in fields)
    return Raw("{ " + body + " }" if (rankdir in ("LR", "RL")) == across else body)


def _value_fields(unit):
    fields = [unit.name] if unit.name else ["const"] if unit.kind == "constant" else []
    fields.append(f"data {number_text(unit.data)}")
    fields.append(f"grad {number_text(unit.grad)}" + ("  (vanished)" if unit.vanished else ""))
    return fields


def _op_attrs(unit, show_local_grad):
    attrs = {"shape": "ellipse", "style": "filled", "fillcolor": FILL["plain"], "fontsize": "12",
             "margin": "0.04,0.02", "height": "0.3", "label": unit.op_text}
    if unit.flat:
        attrs.update(shape="octagon", style="filled,bold", fillcolor=FILL["flat"], color=PALETTE["vermillion"],
                     penwidth="2.5", label=f"{unit.op_text}\nflat: local grad {number_text(unit.local)}")
    elif show_local_grad and unit.local is not None:
        attrs["label"] = f"{unit.op_text}\nlocal grad {number_text(unit.local)}"
    return attrs


def _edge_attrs(flow, scale):
    """Edge width by gradient flow on a log scale; dotted and pale where (almost) none flows."""
    if flow is None or scale is None:
        return {}
    if not math.isfinite(flow):  # a gradient past the floats (or NaN): the thickest edge, in the warning colour
        return {"color": PALETTE["vermillion"], "penwidth": "4", "style": "bold", "arrowsize": "0.7"}
    if flow <= scale.vanish_tol:
        return {"color": "#BBBBBB", "style": "dotted", "penwidth": "1", "arrowsize": "0.5"}
    ratio = flow / scale.top  # 0 when it underflows (a vanish_tol below 1e-300): the thinnest edge
    strength = 1.0 + math.log10(ratio) / scale.decades if ratio > 0 else 0.0  # 1 at the top, 0 FLOW_DECADES below
    return {"color": "#333333", "penwidth": f"{0.7 + 3.3 * min(max(strength, 0.0), 1.0):.2f}", "arrowsize": "0.7"}


class _FlowScale:
    """Widths span the top FLOW_DECADES decades of gradient flow below the largest flow of the graph."""

    def __init__(self, flows, vanish_tol):
        self.vanish_tol = vanish_tol
        self.top = max((flow for flow in flows if flow is not None and math.isfinite(flow)), default=0.0)
        self.decades = min(max(math.log10(self.top / vanish_tol), 1.0), FLOW_DECADES) if self.top > vanish_tol else 1.0


def _legend(dot, rankdir, neurons_over_samples=False):
    """A boxed legend: one example of every style, each named in words."""
    lines = [
        'subgraph cluster_legend {',
        f'label="legend" fontname={FONT} fontsize=12 style=rounded color="#888888"',
    ]
    samples = [
        ("leg_in", {**_value_style("input", False), "label": "input (a labelled leaf)"}),
        ("leg_const", {**_value_style("constant", False), "label": "constant (rounded, grey):\nan unlabelled number"}),
        ("leg_param", {**_value_style("param", False), "label": "parameter (bold)"}),
        ("leg_out", {**_value_style("output", False), "label": "output (thick)"}),
        ("leg_dead", {**_value_style("plain", True), "label": "grad vanished (dashed)"}),
        ("leg_flat", {"shape": "octagon", "style": "filled,bold", "fillcolor": FILL["flat"],
                      "color": PALETTE["vermillion"], "penwidth": "2.5",
                      "label": f"flat op: local derivative < {SATURATED_LOCAL}"}),
        ("leg_edge", {"shape": "plaintext", "label": "edge width = gradient flow (log);\ndotted = ~0 flows"}),
    ]
    if neurons_over_samples:
        samples[3:3] = [(f"leg_sat{percent}", {"shape": "box", "style": "filled", "fillcolor": saturation_color(percent / 100),
                                              "fontcolor": "#FFFFFF" if percent / 100 >= WHITE_TEXT_FROM else "#000000",
                                              "label": f"neuron saturated on\n{percent}% of samples"})
                        for percent in (0, 50, 100)]
    for name, attrs in samples:
        if attrs["shape"] == "Mrecord":
            attrs["style"] += ",rounded"
        if attrs["shape"] in ("record", "Mrecord"):
            attrs["shape"] = "box"  # looks the same with one field; dot cannot order records in a column
        lines.append(f"{name}{attributes({**attrs, 'fontsize': '11'})}")
    if rankdir in ("LR", "RL"):  # a column beside the graph, not a row as wide as it (dot stacks it bottom up)
        lines.append("{rank=same; " + " -> ".join(name for name, _ in reversed(samples)) + " [style=invis]}")
    else:
        lines.append(" -> ".join(name for name, _ in samples) + " [style=invis]")
    lines.append("}")
    dot.body.extend(line + "\n" for line in lines)




def draw_graph(root, *, rankdir="LR", vanish_tol=1e-6, show_local_grad=True, max_nodes=300,
               group=None, names=None, trace=None, format="svg", legend=True):
    """Return a LaidOutDigraph (a graphviz.Digraph) of the graph that computed `root`, coloured by gradient flow.

    `names`: a Module, a dict or a list of (name, Value) naming parameters.
    `group="neuron"` (needs `trace=`, from ``with net.trace() as trace``)
    draws each neuron on each sample as one node. Past `max_nodes` the graph
    is collapsed automatically and the title says so. Raises TypeError for a
    `root` that is not a Value, ValueError for a bad option.
    """
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph() needs a Value, got {root!r} ({type(root).__name__})")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be 'LR', 'RL', 'TB' or 'BT', got {rankdir!r}")
    if not (isinstance(vanish_tol, (int, float)) and vanish_tol > 0 and math.isfinite(vanish_tol)):
        raise ValueError(f"vanish_tol must be a finite number > 0, got {vanish_tol!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a whole number >= 1, got {max_nodes!r}")
    if group not in (None, "neuron"):
        raise ValueError(f"group must be None or 'neuron', got {group!r}")
    if group == "neuron" and trace is None:
        raise ValueError("group='neuron' needs trace=: the trace of the forward pass (with net.trace() as trace: ...)")
    drawing = None
    if trace is None:  # a big graph: only the nearest Values become units (viz/graph_nearest.py)
        drawing = collect_nearest(root, vanish_tol=vanish_tol, max_nodes=max_nodes, param_names=_parameter_names(names))
    if drawing is None:
        drawing = collect(root, vanish_tol=vanish_tol, max_nodes=max_nodes, group=group, names=names, trace=trace)
    return _to_dot(drawing, rankdir=rankdir, show_local_grad=show_local_grad, fmt=format, legend=legend)


draw_dot = draw_graph  # the micrograd lecture's name for it: a learner's `draw_dot(o)` cell runs as written


def _group_attrs(unit, rankdir):
    """A collapsed neuron: flagged like a flat op, or (over many samples) filled by its saturation fraction."""
    attrs = {**_value_style("plain", unit.vanished), "label": _record(unit.fields, rankdir, across=False)}
    if unit.saturation is not None:
        attrs.update(fillcolor=saturation_color(unit.saturation), style="filled")
        if unit.saturation >= WHITE_TEXT_FROM:
            attrs["fontcolor"] = "#FFFFFF"
    if unit.flat:  # saturated on its sample, or dead (saturated on every sample)
        attrs.update(style="filled,bold", color=PALETTE["vermillion"], penwidth="3")
        if unit.saturation is None:
            attrs["fillcolor"] = FILL["flat"]
    return attrs


def _to_dot(drawing, *, rankdir, show_local_grad, fmt, legend):
    dot = LaidOutDigraph(name="computation_graph", format=fmt)
    graph_attrs = {"rankdir": rankdir, "label": drawing.title, "labelloc": "t", "fontname": FONT,
                   "fontsize": "16", "nodesep": "0.25", "ranksep": "1.0" if drawing.grouped else "0.35"}
    dot.body.append(f"graph{attributes(graph_attrs)}\n")
    dot.attr("node", fontname=FONT, fontsize="12")
    dot.attr("edge", fontname=FONT, fontsize="10")
    flows = [edge.flow for edge in drawing.edges] + [unit.grad_flow for unit in drawing.units]
    scale = _FlowScale(flows, drawing.vanish_tol) if drawing.grads_ran else None
    lines = []
    for unit in drawing.units:
        if unit.kind == "summary":
            attrs = {"shape": "note", "style": "filled,dashed", "fillcolor": FILL["summary"], "label": unit.name}
        elif unit.kind == "group":
            attrs = _group_attrs(unit, rankdir)
        else:
            attrs = {**_value_style(unit.kind, unit.vanished), "label": _record(_value_fields(unit), rankdir)}
        lines.append(f"{unit.key}{attributes(attrs)}")
        if unit.op_text:
            lines.append(f"{unit.key}op{attributes(_op_attrs(unit, show_local_grad))}")
            lines.append(f"{unit.key}op -> {unit.key}{attributes(_edge_attrs(unit.grad_flow, scale))}")
    for edge in drawing.edges:
        target = edge.target + ("op" if edge.into_op else "")
        attrs = _edge_attrs(edge.flow, scale)
        if show_local_grad and edge.local is not None:
            attrs.update(label=f"local grad {number_text(edge.local)}", fontcolor="#444444")
        lines.append(f"{edge.source} -> {target}{attributes(attrs)}")
    dot.body.extend(line + "\n" for line in lines)
    if legend:
        _legend(dot, rankdir, neurons_over_samples=any(unit.saturation is not None for unit in drawing.units))
    return dot


def render(target, path=None, *, format=None, **draw_options):
    """Draw `target` (a Value, or a Digraph from draw_graph/draw_network) and write it to `path`.

    The format comes from the suffix of `path` (.svg .png .pdf .dot) unless
    `format` is given; returns the path written. With `path=None`, returns the
    image as bytes instead (then `format` is required). `draw_options` go to
    draw_graph. Raises viz.layout.LayoutEngineMissing when no layout engine can
    write the format (the DOT text is then saved beside `path`).
    """
    dot = draw_graph(target, **draw_options) if isinstance(target, Value) else target
    if not hasattr(dot, "source"):
        raise TypeError(f"render() needs a Value or a Digraph, got {target!r} ({type(target).__name__})")
    if path is None:
        if not format:
            raise ValueError("render(target) without a path needs format=, e.g. format='svg'")
        return run_layout(dot.source, format)
    return write_drawing(dot.source, os.fspath(path), format)
