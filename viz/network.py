"""Draw an MLP as its neurons, each coloured by how often it saturated over a traced batch.

    with net.trace() as trace:
        loss = mse([net(x) for x in X], Y)
        loss.backward()
    draw_network(net, trace)          # a Digraph; render(..., "net.png") from viz.graph writes it

One node per neuron, in layers from the inputs to the output (not every scalar
op: that is `draw_graph`). A neuron's fill is its saturation: the fraction of
samples on which it passed (almost) no gradient, on a sequential scale from
pale yellow (never) to dark brown (always); the trace decides what saturated
means for each activation. A neuron saturated on every sample is dead: it is an
octagon with a thick border and says DEAD. Each node also prints its mean
|grad_in| (what it passed back to its weights). Edges are the weights: width by
|w|, blue solid when positive, reddish purple dashed when negative; with a large
fan-in only the strongest few per neuron are drawn, and the title says so.
"""

from .graph import FONT, PALETTE, SATURATION_SCALE, WHITE_TEXT_FROM, saturation_color
from .layout import LaidOutDigraph, attributes, quote

__all__ = ["draw_network", "saturation_color", "SATURATION_SCALE"]

STRONGEST_WEIGHTS = 6  # edges drawn into each neuron when its fan-in is larger


def _check(net, trace):
    layers = getattr(net, "layers", None)
    if not layers or not all(hasattr(layer, "neurons") for layer in layers):
        raise TypeError(f"draw_network() needs an MLP (with .layers of neurons), got {type(net).__name__}")
    if not hasattr(trace, "layers") or len(trace.layers) != len(layers):
        found = len(trace.layers) if hasattr(trace, "layers") else type(trace).__name__
        raise ValueError(f"the trace must have one layer per layer of the net ({len(layers)}), got {found}")
    for layer, layer_trace in zip(layers, trace.layers):
        if layer_trace.n_neurons != len(layer.neurons):
            raise ValueError(f"trace layer {layer_trace.name} has {layer_trace.n_neurons} neurons, "
                             f"the net's layer has {len(layer.neurons)}: is it the trace of another net?")
    if trace.layers[0].n_samples == 0:
        raise ValueError("the trace recorded no samples: call the net inside `with net.trace() as trace:`")


def _mean_abs_columns(rows, n_columns):
    return [sum(abs(row[j]) for row in rows) / len(rows) for j in range(n_columns)]


def _neuron_node(name, neuron_index, layer_trace, saturation, dead, grad_in, activation):
    """DOT line of one neuron: filled by saturation, an octagon marked DEAD when saturated on every sample."""
    linear = activation == "linear"
    attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": "#FFFFFF" if linear else
             saturation_color(saturation), "fontsize": "10", "width": "1.1"}
    text = [f"n{neuron_index}", "linear" if linear else f"sat {100 * saturation:.0f}%", f"|g| {grad_in:.2g}"]
    if dead:
        attrs.update(shape="octagon", style="filled,bold", penwidth="3", color=PALETTE["black"])
        text.insert(1, "DEAD")
    if saturation >= WHITE_TEXT_FROM and not linear:
        attrs["fontcolor"] = "#FFFFFF"
    attrs["label"] = "\n".join(text)
    attrs["tooltip"] = (f"{layer_trace.name} neuron {neuron_index} ({activation}): saturated on "
                        f"{100 * saturation:.1f}% of {layer_trace.n_samples} samples; mean |grad_in| {grad_in:.4g}"
                        + ("; DEAD (saturated on every sample)" if dead else ""))
    return f"{name}{attributes(attrs)}"


def _weight_edges(sources, layer, target_names, max_per_neuron):
    """DOT lines of the weights into one layer (strongest `max_per_neuron` per neuron); returns (lines, left out)."""
    strongest = max((abs(w.data) for neuron in layer.neurons for w in neuron.w), default=0.0) or 1.0
    lines, left_out = [], 0
    for neuron, target in zip(layer.neurons, target_names):
        ranked = sorted(range(len(neuron.w)), key=lambda k: abs(neuron.w[k].data), reverse=True)
        left_out += max(len(ranked) - max_per_neuron, 0)
        for k in ranked[:max_per_neuron]:
            weight = neuron.w[k].data
            attrs = {"penwidth": f"{0.4 + 3.6 * abs(weight) / strongest:.2f}", "arrowsize": "0.4",
                     "color": PALETTE["blue"] if weight >= 0 else PALETTE["purple"],
                     "tooltip": f"w = {weight:.4g}"}
            if weight < 0:
                attrs["style"] = "dashed"
            lines.append(f"{sources[k]} -> {target}{attributes(attrs)}")
    return lines, left_out


def _legend_lines():
    lines = ["subgraph cluster_legend {", f'label="legend" fontname={FONT} fontsize=11 style=rounded color="#888888"']
    names = []
    for index, fraction in enumerate((0.0, 0.25, 0.5, 0.75, 1.0)):
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": saturation_color(fraction),
                 "fontsize": "10", "label": f"saturated on\n{100 * fraction:.0f}% of samples"}
        if fraction >= WHITE_TEXT_FROM:
            attrs["fontcolor"] = "#FFFFFF"
        names.append(f"legend_sat{index}")
        lines.append(f"{names[-1]}{attributes(attrs)}")
    lines.append("legend_dead" + attributes({"shape": "octagon", "style": "filled,bold", "penwidth": "3",
                                             "fillcolor": saturation_color(1.0), "fontcolor": "#FFFFFF",
                                             "fontsize": "10", "label": "DEAD: saturated\non every sample"}))
    lines.append("legend_w" + attributes({"shape": "plaintext", "fontsize": "10", "label":
                                          "edges: weights, width ~ |w|\nblue solid: w > 0\npurple dashed: w < 0\n"
                                          "|g|: mean |grad_in|"}))
    # one column (same rank in a left-to-right layout), so the legend is never wider than a small network
    # (dot stacks a left-to-right rank bottom up, hence the reversed chain)
    lines.append("{rank=same; " + " -> ".join(reversed(names + ["legend_dead", "legend_w"])) + " [style=invis]}")
    lines.append("}")
    return lines


def draw_network(net, trace, *, threshold=0.99, max_edges_per_neuron=STRONGEST_WEIGHTS, rankdir="LR",
                 format="svg", legend=True):
    """Return a LaidOutDigraph of `net`'s neurons coloured by their saturation over `trace`.

    `trace` comes from ``with net.trace() as trace:`` around the forward (and
    backward) pass. `threshold` is the trace's saturation threshold. Raises
    TypeError when `net` is not an MLP and ValueError when `trace` does not
    match it or recorded nothing.
    """
    _check(net, trace)
    if isinstance(max_edges_per_neuron, bool) or not isinstance(max_edges_per_neuron, int) or max_edges_per_neuron < 1:
        raise ValueError(f"max_edges_per_neuron must be a whole number >= 1, got {max_edges_per_neuron!r}")
    nin = len(net.layers[0].neurons[0].w)
    sources = [f"x{k}" for k in range(nin)]
    lines = ["subgraph cluster_inputs {", 'label="inputs" style=dashed color="#888888"']
    lines += [f"{name}{attributes({'shape': 'circle', 'label': name, 'fontsize': '10'})}" for name in sources]
    lines.append("}")
    left_out, summaries = 0, []
    backward_ran = any(g != 0.0 for lt in trace.layers for row in lt.grad_in for g in row)
    for index, (layer, lt) in enumerate(zip(net.layers, trace.layers)):
        saturation, dead = lt.saturation(threshold), set(lt.dead(threshold))
        grad_in = _mean_abs_columns(lt.grad_in, lt.n_neurons)
        names = [f"l{index}_{j}" for j in range(lt.n_neurons)]
        lines += ["subgraph cluster_" + str(index) + " {",
                  f"label={quote(f'{lt.name} ({lt.activation})')} style=rounded color=\"#888888\""]
        lines += [_neuron_node(name, j, lt, saturation[j], j in dead, grad_in[j], lt.activation)
                  for j, name in enumerate(names)]
        lines.append("}")
        edge_lines, skipped = _weight_edges(sources, layer, names, max_edges_per_neuron)
        lines += edge_lines
        left_out += skipped
        sources = names
        if lt.activation != "linear":
            summaries.append(f"{lt.name}: {100 * sum(saturation) / len(saturation):.0f}% saturated, {len(dead)} dead")
    n_samples = trace.layers[0].n_samples
    title = [f"{len(net.layers)} layers traced on {n_samples} sample{'' if n_samples == 1 else 's'} "
             f"(saturated: the trace's rule at threshold {threshold:g})", "; ".join(summaries)]
    if not backward_ran:
        title.append("backward() has not run: every |g| (mean |grad_in|) is 0")
    if left_out:
        title.append(f"only the {max_edges_per_neuron} strongest weights into each neuron are drawn "
                     f"({left_out} weaker left out)")
    dot = LaidOutDigraph(name="network", format=format)
    dot.body.append("graph" + attributes({"rankdir": rankdir, "label": "\n".join(line for line in title if line),
                                          "labelloc": "t", "fontname": FONT, "fontsize": "14",
                                          "ranksep": "1.2", "nodesep": "0.12"}) + "\n")
    dot.attr("node", fontname=FONT)
    dot.body.extend(line + "\n" for line in lines + (_legend_lines() if legend else []))
    return dot
