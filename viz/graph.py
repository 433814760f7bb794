"""Draw a computation graph and show where its gradient vanishes.

    from viz.graph import draw_graph, render
    loss.backward()
    draw_graph(loss)                       # a Digraph: Jupyter shows it inline
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
- inputs, named parameters and the output have their own fill and border.
Every kind differs by shape or line style as well as colour (Okabe-Ito
palette), so the picture reads for colour-blind readers and in grey print.

Big graphs are collapsed: one node per neuron and sample when a trace is
given, and past ``max_nodes`` only the nodes nearest the root are drawn, the
rest summarised in one node; the title says so.

The drawing is made in two steps: `_collect` turns the Values into drawn
*units* (a Value with its op, a collapsed neuron, a summary) and the edges
between them, with their gradient flow; `_to_dot` writes those as DOT.
"""

import math
import os

from micrograd_it.engine import Value

from .layout import LaidOutDigraph, Raw, attributes, record_field, run_layout, write_drawing

__all__ = ["draw_graph", "render", "saturation_color", "SATURATED_LOCAL", "PALETTE", "SATURATION_SCALE"]

# An activation whose local derivative is below this passes less than 2% of the
# gradient: tanh with |t| > 0.99 (1 - t**2 < 0.0199), sigmoid near 0 or 1, relu off.
SATURATED_LOCAL = 0.02
FLOW_DECADES = 4  # edge widths go from thin to thick over this many decades of gradient flow
STRONGEST_EDGES = 4  # edges drawn into each collapsed neuron from the previous layer
ACTIVATIONS = {"tanh", "sigmoid", "relu", "leaky_relu", "elu", "softplus", "gelu"}

# Okabe-Ito colours (safe for the common colour-blindnesses); fills are light tints of them.
PALETTE = {
    "black": "#000000", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
    "yellow": "#F0E442", "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "grey": "#999999",
}
FILL = {"input": "#D5ECF9", "param": "#C2E8DC", "output": "#F9E3B4", "vanished": "#E6E6E6",
        "flat": "#F6CFB3", "plain": "#FFFFFF", "summary": "#F2F2F2"}
FONT = "Helvetica"


# ColorBrewer YlOrBr: sequential and safe for the common colour-blindnesses; light enough to read black text
# on all but the last stop.
SATURATION_SCALE = ["#FFFFD4", "#FED98E", "#FE9929", "#D95F0E", "#993404"]
WHITE_TEXT_FROM = 0.8  # from this saturation on, white text has more contrast than black on the fill


def saturation_color(fraction):
    """Return the fill colour ("#RRGGBB") for a saturation `fraction` in [0, 1], interpolated on SATURATION_SCALE."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    position = fraction * (len(SATURATION_SCALE) - 1)
    low = min(int(position), len(SATURATION_SCALE) - 2)
    weight = position - low
    start, stop = SATURATION_SCALE[low], SATURATION_SCALE[low + 1]
    channels = [round(int(start[i:i + 2], 16) * (1 - weight) + int(stop[i:i + 2], 16) * weight) for i in (1, 3, 5)]
    return "#" + "".join(f"{channel:02X}" for channel in channels)


def _num(x):
    # %.4g keeps small gradients visible: 2.5e-05, not 0.0000
    return f"{x:.4g}"


def _value_style(kind, vanished):
    """DOT attributes of a Value record: its kind (input/param/output/plain) and whether its grad vanished."""
    style = {"shape": "record", "style": "filled", "fillcolor": FILL[kind], "color": PALETTE["black"]}
    if kind == "param":
        style.update(style="filled,bold", color=PALETTE["green"], penwidth="2")
    elif kind == "output":
        style.update(style="filled,bold", color=PALETTE["orange"], penwidth="3")
    elif kind == "input":
        style.update(color=PALETTE["blue"])
    if vanished:  # grey and dashed; a parameter keeps its thick border, so it is still seen as one
        style.update(style="filled,dashed", fillcolor=FILL["vanished"], color=PALETTE["grey"],
                     fontcolor="#555555", penwidth="2.5" if kind in ("param", "output") else "1.5")
    return style


def _record(fields, rankdir, across=True):
    """A record label from plain-text fields: across the flow like the lecture's, or stacked (across=False)."""
    body = " | ".join(record_field(field) for field in fields)
    return Raw("{ " + body + " }" if (rankdir in ("LR", "RL")) == across else body)


def _value_fields(unit):
    fields = [unit.name] if unit.name else []
    fields.append(f"data {_num(unit.data)}")
    fields.append(f"grad {_num(unit.grad)}" + ("  (vanished)" if unit.vanished else ""))
    return fields


def _op_attrs(unit, show_local_grad):
    attrs = {"shape": "ellipse", "style": "filled", "fillcolor": FILL["plain"], "fontsize": "12",
             "margin": "0.04,0.02", "height": "0.3", "label": unit.op_text}
    if unit.flat:
        attrs.update(shape="octagon", style="filled,bold", fillcolor=FILL["flat"], color=PALETTE["vermillion"],
                     penwidth="2.5", label=f"{unit.op_text}\nflat: local grad {_num(unit.local)}")
    elif show_local_grad and unit.local is not None:
        attrs["label"] = f"{unit.op_text}\nlocal grad {_num(unit.local)}"
    return attrs


def _edge_attrs(flow, scale):
    """Edge width by gradient flow on a log scale; dotted and pale where (almost) none flows."""
    if flow is None or scale is None:
        return {}
    if flow <= scale.vanish_tol:
        return {"color": "#BBBBBB", "style": "dotted", "penwidth": "1", "arrowsize": "0.5"}
    strength = 1.0 + math.log10(flow / scale.top) / scale.decades  # 1 at the top flow, 0 FLOW_DECADES below
    return {"color": "#333333", "penwidth": f"{0.7 + 3.3 * min(max(strength, 0.0), 1.0):.2f}", "arrowsize": "0.7"}


class _FlowScale:
    """Widths span the top FLOW_DECADES decades of gradient flow below the largest flow of the graph."""

    def __init__(self, flows, vanish_tol):
        self.vanish_tol = vanish_tol
        self.top = max((flow for flow in flows if flow is not None), default=0.0)
        self.decades = min(max(math.log10(self.top / vanish_tol), 1.0), FLOW_DECADES) if self.top > vanish_tol else 1.0


def _legend(dot, rankdir, neurons_over_samples=False):
    """A boxed legend: one example of every style, each named in words."""
    lines = [
        'subgraph cluster_legend {',
        f'label="legend" fontname={FONT} fontsize=12 style=rounded color="#888888"',
    ]
    samples = [
        ("leg_in", {**_value_style("input", False), "label": "input"}),
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
        if attrs["shape"] == "record":
            attrs["shape"] = "box"  # looks the same with one field; dot cannot order records in a column
        lines.append(f"{name}{attributes({**attrs, 'fontsize': '11'})}")
    if rankdir in ("LR", "RL"):  # a column beside the graph, not a row as wide as it (dot stacks it bottom up)
        lines.append("{rank=same; " + " -> ".join(name for name, _ in reversed(samples)) + " [style=invis]}")
    else:
        lines.append(" -> ".join(name for name, _ in samples) + " [style=invis]")
    lines.append("}")
    dot.body.extend(line + "\n" for line in lines)


# -- step 1: from Values to drawn units -------------------------------------------------------

class _Unit:
    """One drawn node: a Value (with its op node), a collapsed neuron ("group") or a "summary"."""

    def __init__(self, key, kind, name="", data=0.0, grad=0.0, vanished=False):
        self.key, self.kind, self.name = key, kind, name
        self.data, self.grad, self.vanished = data, grad, vanished
        self.op_text, self.local, self.flat, self.grad_flow = "", None, False, None
        self.saturation = None  # a neuron over many samples: the fraction of them on which it saturated
        self.fields = []


class _Edge:
    """An edge between two drawn units; `flow` is the |gradient| it carries back, `local` the local
    derivative of the op with respect to this input (only for an input of a two-input op)."""

    def __init__(self, source, target, into_op, flow, local=None):
        self.source, self.target, self.into_op, self.flow, self.local = source, target, into_op, flow, local


class _Drawing:
    def __init__(self, units, edges, title, grads_ran, vanish_tol, grouped=False):
        self.units, self.edges, self.title, self.grouped = units, edges, title, grouped
        self.grads_ran, self.vanish_tol = grads_ran, vanish_tol


def _parameter_names(names):
    """Map id(Value) -> parameter name from a Module, a dict {name: Value} or a list of (name, Value)."""
    if names is None:
        return {}
    if hasattr(names, "named_parameters"):
        names = names.named_parameters()
    items = names.items() if isinstance(names, dict) else names
    named = {}
    for item in items:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Value)):
            raise TypeError(f"names= needs (name, Value) pairs, got {item!r}")
        named[id(item[1])] = str(item[0])
    return named


def _neuron_members(trace, in_graph):
    """Yield (layer_index, layer trace, sample, neuron, preact, act, {ids of the neuron's ops}) per traced call.

    A neuron's ops are everything between its inputs/weights and its act:
    the products, the sum chain, the preact and the act.
    """
    boundary = {id(act) for lt in trace.layers for row in lt.act_nodes for act in row}
    claimed = set()
    for layer_index, lt in enumerate(trace.layers):
        for sample, (preacts, acts) in enumerate(zip(lt.preact_nodes, lt.act_nodes)):
            for neuron, (preact, act) in enumerate(zip(preacts, acts)):
                if id(act) not in in_graph or id(act) in claimed:
                    continue  # a call whose output the root does not use
                members, stack = set(), [act]
                while stack:
                    value = stack.pop()
                    if id(value) not in claimed:
                        claimed.add(id(value))
                        members.add(id(value))
                        stack.extend(c for c in value.children if not c.is_leaf and id(c) not in boundary)
                yield layer_index, lt, sample, neuron, preact, act, members


def _neuron_groups(trace, in_graph, grads_ran, vanish_tol, per_sample):
    """Return ({id(Value): group key}, [group units]): one unit per neuron and sample, or per neuron."""
    from micrograd_it.trace import is_saturated  # the trace's own definition of "saturated"

    unit_of, calls = {}, {}
    for layer_index, lt, sample, neuron, preact, act, members in _neuron_members(trace, in_graph):
        key = f"g{layer_index}_{neuron}" + (f"_{sample}" if per_sample else "")
        unit_of.update((member, key) for member in members)
        saturated = is_saturated(lt.activation, preact.data, act.data)
        calls.setdefault(key, (lt, neuron, []))[2].append((sample, preact, act, saturated))
    units = []
    for key, (lt, neuron, rows) in calls.items():
        grads_in = [abs(preact.grad) for _, preact, _, _ in rows]
        vanished = grads_ran and max(grads_in) <= vanish_tol
        saturated = sum(row[3] for row in rows)
        unit = _Unit(key, "group", vanished=vanished)
        unit.neuron = (lt.name, neuron)
        unit.flat = saturated == len(rows)
        if per_sample:
            sample, preact, act, _ = rows[0]
            unit.fields = [f"{lt.name} neuron {neuron}, sample {sample}",
                           f"preact {_num(preact.data)} -> {lt.activation} {_num(act.data)}",
                           f"grad_in {_num(preact.grad)}" + ("  (vanished)" if vanished else "")]
            if unit.flat:
                unit.fields.append("SATURATED here")
        else:
            unit.saturation = saturated / len(rows) if lt.activation != "linear" else None
            unit.fields = [f"{lt.name} neuron {neuron} ({lt.activation}, {len(rows)} samples)",
                           f"saturated on {100.0 * saturated / len(rows):.0f}% of samples",
                           f"mean |grad_in| {_num(sum(grads_in) / len(rows))}" + ("  (vanished)" if vanished else "")]
            if unit.flat and lt.activation != "linear":
                unit.fields.append("DEAD: saturated on every sample")
        units.append(unit)
    return unit_of, units

def _value_unit(value, key, root, param_names, grads_ran, vanish_tol):
    vanished = grads_ran and abs(value.grad) <= vanish_tol
    if value is root:
        kind = "output"
    elif id(value) in param_names:
        kind = "param"
    else:
        kind = "input" if value.is_leaf else "plain"
    unit = _Unit(key, kind, param_names.get(id(value), value.label), value.data, value.grad, vanished)
    if not value.is_leaf:
        unit.op_text = str(value._op)
        unit.grad_flow = abs(value.grad)
        if len(value.children) == 1:
            unit.local = value._dx
        unit.flat = value.op in ACTIVATIONS and abs(value._dx) < SATURATED_LOCAL
    return unit


def _edges_between(values, unit_key, units):
    """Edges between different units, flows (|local derivative * grad of the consumer|) summed when merged."""
    flows, locals_ = {}, {}
    for value in values:
        target = unit_key(value)
        for child, local in zip(value.children, (value._dx, value._dy)):
            source = unit_key(child)
            if source != target:
                pair = (source, target)
                flows[pair] = flows.get(pair, 0.0) + abs(local * value.grad)
                if len(value.children) == 2 and units[target].op_text:
                    locals_[pair] = locals_.get(pair, 0.0) + local  # x*x: d/dx = x + x
    return [_Edge(source, target, units[target].op_text != "", flow, locals_.get((source, target)))
            for (source, target), flow in flows.items()]


def _merge_edges(edges, rename):
    """Rename edge ends (key -> new key or None to drop) and merge edges that now join the same two nodes."""
    flows = {}
    for edge in edges:
        source, target = rename(edge.source), rename(edge.target)
        if source is None or target is None or source == target:
            continue
        pair = (source, target, edge.into_op)
        flows[pair] = flows.get(pair, 0.0) + edge.flow
    return [_Edge(source, target, into_op, flow) for (source, target, into_op), flow in flows.items()]


def _fold_leaves(units, edges, param_names, values_by_key, per_sample):
    """In a grouped graph, hide the weights inside their neuron and, per neuron, gather the data inputs.

    A leaf is a weight when it is a named parameter or (no names given) when it
    feeds one neuron only. Without per-sample groups, the remaining leaves that
    feed only neurons become one "inputs" node. Returns (units, edges).
    """
    consumers = {}
    for edge in edges:
        consumers.setdefault(edge.source, set()).add(edge.target)
    rename = {}
    for key, unit in units.items():
        if unit.kind not in ("input", "param") or key not in consumers:
            continue
        if consumers[key] == {"tail"}:
            rename[key] = None  # a target or a constant of the loss
            continue
        owners = {getattr(units[target], "neuron", None) for target in consumers[key]}
        if None in owners:
            continue
        if id(values_by_key[key]) in param_names or (not param_names and len(owners) == 1):
            rename[key] = None
        elif not per_sample:
            rename[key] = "inputs"
    gathered = sum(1 for new_key in rename.values() if new_key == "inputs")
    units = {key: unit for key, unit in units.items() if key not in rename}
    if gathered:
        units["inputs"] = _Unit("inputs", "summary", f"inputs\n({gathered} Values)")
    return units, _merge_edges(edges, lambda key: rename.get(key, key))


def _strongest_edges(edges, units, keep):
    """Keep, for each neuron, its `keep` incoming edges from other neurons with the most gradient flow.

    Returns (edges, how many were left out). Other edges are all kept.
    """
    from_neurons = {}
    kept = []
    for edge in edges:
        if units[edge.source].kind == "group" and units[edge.target].kind == "group":
            from_neurons.setdefault(edge.target, []).append(edge)
        else:
            kept.append(edge)
    left_out = 0
    for incoming in from_neurons.values():
        incoming.sort(key=lambda edge: edge.flow, reverse=True)
        kept.extend(incoming[:keep])
        left_out += len(incoming[keep:])
    return kept, left_out


def _nearest(root_key, edges, keep):
    """Return the first `keep` unit keys met walking from the root towards the inputs (breadth first)."""
    sources_of = {}
    for edge in edges:
        sources_of.setdefault(edge.target, []).append(edge.source)
    order, seen, queue_index = [root_key], {root_key}, 0
    while queue_index < len(order) and len(order) < keep:
        for source in sources_of.get(order[queue_index], ()):
            if source not in seen and len(order) < keep:
                seen.add(source)
                order.append(source)
        queue_index += 1
    return seen


def _summarise(units, edges, kept):
    """Replace the units not in `kept` by one summary unit; edges from them come from it instead."""
    dropped = [unit for key, unit in units.items() if key not in kept]
    vanished = sum(unit.vanished for unit in dropped)
    summary = _Unit("summary", "summary",
                    f"{len(dropped)} more nodes not drawn\n({vanished} of them vanished)\nnearer the inputs")
    new_units = {key: unit for key, unit in units.items() if key in kept}
    new_units["summary"] = summary
    return new_units, _merge_edges(edges, lambda key: key if key in kept else "summary")


def _collect(root, *, vanish_tol, max_nodes, group, names, trace):
    values = root.nodes()
    in_graph = {id(value): index for index, value in enumerate(values)}
    grads_ran = root.grad != 0.0
    param_names = _parameter_names(names)
    unit_of, units, per_sample, notes = {}, {}, True, []
    if trace is not None and (group == "neuron" or len(values) > max_nodes):
        unit_of, group_units = _neuron_groups(trace, in_graph, grads_ran, vanish_tol, per_sample=True)
        if len(group_units) > max_nodes:
            per_sample = False
            unit_of, group_units = _neuron_groups(trace, in_graph, grads_ran, vanish_tol, per_sample=False)
        units.update((unit.key, unit) for unit in group_units)
    if units:  # some neurons of the trace are in this graph
        why = "group='neuron'" if group == "neuron" else f"more than max_nodes={max_nodes} Values"
        how = "one node per neuron and sample" if per_sample else "one node per neuron over all samples"
        notes.append(f"collapsed ({why}): {how}, its weights inside it")
    values_by_key = {}
    if not per_sample:  # one node per neuron: the ops after the network (the loss) become one node too
        tail = [value for value in values if id(value) not in unit_of and not value.is_leaf and value is not root]
        if tail:
            unit_of.update((id(value), "tail") for value in tail)
            units["tail"] = _Unit("tail", "summary", f"{len(tail)} more ops\noutside the neurons\n(e.g. the loss)")
    for index, value in enumerate(values):
        if id(value) not in unit_of:
            key = f"n{index}"
            unit_of[id(value)] = key
            values_by_key[key] = value
            units[key] = _value_unit(value, key, root, param_names, grads_ran, vanish_tol)
    edges = _edges_between(values, lambda value: unit_of[id(value)], units)
    if notes:
        units, edges = _fold_leaves(units, edges, param_names, values_by_key, per_sample)
        edges, thinned = _strongest_edges(edges, units, STRONGEST_EDGES)
        if thinned:
            notes.append(f"between neurons only the {STRONGEST_EDGES} strongest gradient flows into each neuron "
                         f"are drawn ({thinned} weaker edges left out)")
    if len(units) > max_nodes:
        kept = _nearest(unit_of[id(root)], edges, max_nodes)
        notes.append(f"showing the {len(kept)} nodes nearest the output; {len(units) - len(kept)} more summarised"
                     + ("" if trace is not None else " (pass trace= to collapse by neuron)"))
        units, edges = _summarise(units, edges, kept)
    return _Drawing(list(units.values()), edges, _title(root, values, grads_ran, vanish_tol, notes),
                    grads_ran, vanish_tol, grouped=any(unit.kind == "group" for unit in units.values()))


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _title(root, values, grads_ran, vanish_tol, notes):
    name = root.label or "output"
    lines = [f"{name} = {_num(root.data)}: a graph of {_count(len(values), 'Value')}"]
    if not grads_ran:
        lines.append("backward() has not run (all gradients are 0): nothing is marked as vanished")
    else:
        vanished = sum(abs(value.grad) <= vanish_tol for value in values)
        lines.append(f"{_count(vanished, 'Value')} with |grad| <= {vanish_tol:g} (vanished)")
    flat = sum(value.op in ACTIVATIONS and abs(value._dx) < SATURATED_LOCAL for value in values)
    lines[-1] += f", {_count(flat, 'flat activation')} (local derivative < {SATURATED_LOCAL})"
    return "\n".join(lines + notes)


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
    drawing = _collect(root, vanish_tol=vanish_tol, max_nodes=max_nodes, group=group, names=names, trace=trace)
    return _to_dot(drawing, rankdir=rankdir, show_local_grad=show_local_grad, fmt=format, legend=legend)


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
            attrs.update(label=f"local grad {_num(edge.local)}", fontcolor="#444444")
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
