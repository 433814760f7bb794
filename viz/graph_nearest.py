"""A big graph drawn without a trace: the `max_nodes` Values nearest the output, found by a bounded walk.

Past ``max_nodes`` Values (and with no trace to collapse neurons), `draw_graph` shows
the Values nearest the root, breadth first (inputs in order), and one node
summarising the rest. Drawing must not cost more than building and differentiating
the graph did, so the walk stops after ``max_nodes + 1`` Values: only those become
drawn units. The rest of the graph is counted once, Value by Value, for the title and
the summary (how many Values, how many vanished, how many flat activations, the
gradient flowing from drawn Values into the others), with no object made per Value.
`viz.graph_units.collect` is the same picture made the long way (a unit for every
Value, then cut); the tests compare the two.
"""

from collections import deque

from .graph_units import _Drawing, _Edge, _Unit, _value_unit, Census, summary_text, title_text

__all__ = ["nearest", "collect_nearest"]


def nearest(root, keep):
    """Return the first `keep` Values met walking from `root` towards the inputs, breadth first, in that order.

    Visits at most `keep` + (their inputs) Values, whatever the size of the graph.
    """
    order, seen, queue = [root], {id(root)}, deque([root])
    while queue and len(order) < keep:
        for child in queue.popleft().children:
            if id(child) not in seen and len(order) < keep:
                seen.add(id(child))
                order.append(child)
                queue.append(child)
    return order


def collect_nearest(root, *, vanish_tol, max_nodes, param_names):
    """Return the drawing (a graph_units._Drawing) of the `max_nodes` Values nearest `root` and a summary,
    or None when the whole graph has at most `max_nodes` Values (then everything is drawn, the usual way)."""
    kept = nearest(root, max_nodes + 1)
    if len(kept) <= max_nodes:
        return None
    kept.pop()  # it only told that the graph is bigger
    grads_ran = root.grad != 0.0
    counts = Census(root.nodes(), vanish_tol, {id(value) for value in kept})
    units, edges, into_summary = {}, {}, {}
    keys = {id(value): f"n{counts.index[id(value)]}" for value in kept}  # n<position in root.nodes()>, as always
    for value in kept:
        units[keys[id(value)]] = _value_unit(value, keys[id(value)], root, param_names, grads_ran, vanish_tol)
    for value in kept:
        target = keys[id(value)]
        two_inputs = len(value.children) == 2
        for child, local in zip(value.children, value.local_grads):
            flow = abs(local * value.grad)
            if id(child) in keys:
                pair = (keys[id(child)], target)
                edge = edges.get(pair)
                if edge is None:
                    edges[pair] = _Edge(pair[0], target, True, flow, local if two_inputs else None)
                else:  # x * x: one edge, the flows and the local derivatives summed
                    edge.flow += flow
                    edge.local = None if edge.local is None else edge.local + local
            else:
                into_summary[target] = into_summary.get(target, 0.0) + flow
    dropped = counts.values - len(kept)
    dropped_vanished = counts.vanished - sum(unit.vanished for unit in units.values()) if grads_ran else 0
    units["summary"] = _Unit("summary", "summary", summary_text(dropped, dropped_vanished))
    edge_list = list(edges.values()) + [_Edge("summary", target, True, flow) for target, flow in into_summary.items()]
    # a drawn Value also used by Values not drawn: an edge into the summary (its summary node has no op)
    edge_list += [_Edge(keys[ident], "summary", False, flow) for ident, flow in counts.flow_out.items()]
    notes = [f"showing the {len(kept)} nodes nearest the output; {dropped} more summarised "
             "(pass trace= to collapse by neuron)"]
    title = title_text(root, counts, grads_ran, vanish_tol, notes)
    return _Drawing(list(units.values()), edge_list, title, grads_ran, vanish_tol)
