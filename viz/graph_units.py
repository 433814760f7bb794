"""What a graph drawing shows: the Values of a graph turned into drawn *units* and edges.

A unit is a Value with its op, a neuron collapsed into one node (with a
trace), or one node summarising what was left out past ``max_nodes``. Each
edge carries the |gradient| flowing back along it. `collect` does this; the
styling and the DOT text are `viz.graph`'s job.
"""

from micrograd_it.catalogue import ACTIVATIONS as CATALOGUE_ACTIVATIONS
from micrograd_it.engine import Value

from ._text import shown

__all__ = ["collect", "Census", "summary_text", "title_text", "number_text", "SATURATED_LOCAL", "ACTIVATIONS",
           "is_flat"]

# An activation whose local derivative is below this passes less than 2% of the
# gradient: tanh with |t| > 0.99 (1 - t**2 < 0.0199), sigmoid near 0 or 1, relu off.
SATURATED_LOCAL = 0.02
STRONGEST_EDGES = 4  # edges drawn into each collapsed neuron from the previous layer
# The ops that count as "flat" when their local derivative is below SATURATED_LOCAL:
# every activation of the op catalogue (micrograd_it/ops.py), read live from it.
ACTIVATIONS = CATALOGUE_ACTIVATIONS


def is_flat(value):
    """True when `value` was made by an activation whose local derivative is below SATURATED_LOCAL."""
    return value.op in ACTIVATIONS and abs(value.local_grads[0]) < SATURATED_LOCAL


def number_text(x):
    """Return x as text with 4 significant digits; %.4g keeps small gradients visible (2.5e-05, not 0.0000)."""
    return f"{x:.4g}"


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
        layer_name, activation = shown(lt.name), shown(lt.activation)
        unit.calls = [(sample, preact, act) for sample, preact, act, _ in rows]  # for the explorer's expansion
        unit.flat = saturated == len(rows)
        if per_sample:
            sample, preact, act, _ = rows[0]
            unit.fields = [f"{layer_name} neuron {neuron}, sample {sample}",
                           f"preact {number_text(preact.data)} -> {activation} {number_text(act.data)}",
                           f"grad_in {number_text(preact.grad)}" + ("  (vanished)" if vanished else "")]
            if unit.flat:
                unit.fields.append("SATURATED here")
        else:
            unit.saturation = saturated / len(rows) if lt.activation != "linear" else None
            unit.fields = [f"{layer_name} neuron {neuron} ({activation}, {len(rows)} samples)",
                           f"saturated on {100.0 * saturated / len(rows):.0f}% of samples",
                           f"mean |grad_in| {number_text(sum(grads_in) / len(rows))}" + ("  (vanished)" if vanished else "")]
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
        # an unlabelled leaf is a number written into the expression (the 2.0 of x * 2.0), not an input
        kind = ("input" if value.label else "constant") if value.is_leaf else "plain"
    unit = _Unit(key, kind, shown(param_names.get(id(value), value.label)), value.data, value.grad, vanished)
    if not value.is_leaf:
        unit.op_text = shown(value._op)
        unit.grad_flow = abs(value.grad)
        if len(value.children) == 1:
            unit.local = value.local_grads[0]
        unit.flat = is_flat(value)
    return unit


def _edges_between(values, unit_key, units):
    """Edges between different units, flows (|local derivative * grad of the consumer|) summed when merged."""
    flows, locals_ = {}, {}
    for value in values:
        target = unit_key(value)
        for child, local in zip(value.children, value.local_grads):
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
        if unit.kind not in ("input", "constant", "param") or key not in consumers:
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
    summary = _Unit("summary", "summary", summary_text(len(dropped), vanished))
    new_units = {key: unit for key, unit in units.items() if key in kept}
    new_units["summary"] = summary
    return new_units, _merge_edges(edges, lambda key: key if key in kept else "summary")


def collect(root, *, vanish_tol, max_nodes, group, names, trace):
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
    title = title_text(root, Census(values, vanish_tol), grads_ran, vanish_tol, notes)
    drawing = _Drawing(list(units.values()), edges, title,
                       grads_ran, vanish_tol, grouped=any(unit.kind == "group" for unit in units.values()))
    drawing.values, drawing.unit_of = values, unit_of  # which unit each Value went into (before folding)
    return drawing


def _count(number, noun):
    return f"{number} {noun}" + ("" if number == 1 else "s")


class Census:
    """One pass over `values` (a graph's Values): ``.values`` how many, ``.vanished`` how many with
    |grad| <= vanish_tol, ``.flat`` how many flat activations; for the Values whose ids are in `wanted`:
    ``.index`` {id: position in `values`} and ``.flow_out`` {id: gradient flow into consumers not wanted}."""

    def __init__(self, values, vanish_tol, wanted=frozenset()):
        activations = set(ACTIVATIONS)  # once, not a catalogue look-up per Value
        self.values, self.vanished, self.flat, self.index, self.flow_out = len(values), 0, 0, {}, {}
        for position, value in enumerate(values):
            if abs(value.grad) <= vanish_tol:
                self.vanished += 1
            if value.op in activations and abs(value.local_grads[0]) < SATURATED_LOCAL:
                self.flat += 1
            if id(value) in wanted:
                self.index[id(value)] = position
            elif wanted:
                for child, local in zip(value.children, value.local_grads):
                    if id(child) in wanted:
                        self.flow_out[id(child)] = self.flow_out.get(id(child), 0.0) + abs(local * value.grad)


def summary_text(dropped, vanished):
    return f"{dropped} more nodes not drawn\n({vanished} of them vanished)\nnearer the inputs"


def title_text(root, counts, grads_ran, vanish_tol, notes):
    """The drawing's title: the root, the size of the graph, what vanished and what is flat, then `notes`."""
    name = shown(root.label) or "output"
    lines = [f"{name} = {number_text(root.data)}: a graph of {_count(counts.values, 'Value')}"]
    if not grads_ran:
        lines.append("backward() has not run (all gradients are 0): nothing is marked as vanished")
    else:
        lines.append(f"{_count(counts.vanished, 'Value')} with |grad| <= {vanish_tol:g} (vanished)")
    lines[-1] += f", {_count(counts.flat, 'flat activation')} (local derivative < {SATURATED_LOCAL})"
    return "\n".join(lines + notes)
