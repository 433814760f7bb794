"""Step through backprop: one self-contained HTML page of a computation graph that you can step, hover and open.

    import viz.explore
    page = viz.explore.explore(loss, names=net, trace=trace)
    page                      # in Jupyter: the explorer, in the notebook's output (an isolated iframe)
    page.save("loss.html")    # one file, opens from disk, needs no network

The graph is drawn as `viz.graph.draw_graph` draws it (same layout engine,
colours and shapes). The page then steps through ``backward()`` in the
engine's own order (`viz.explore_steps.backward_order`): each press of Step
applies one node's chain-rule step and prints it with this graph's numbers;
hovering shows a node's numbers and local derivatives; with ``trace=`` each
neuron on each sample is one node that opens into its products, sums,
preact and act.

The page shows one backward pass from zero gradients: what
``root.zero_grad(); root.backward()`` gives. It never runs backward on your
graph: it replays the engine's order on numbers of its own, and leaves every
``.grad`` as it found it.

The page's contract (tests and tools rely on it): ``<script
type="application/json" id="micrograd-graph">`` holds ``nodes`` (``{id,
label, data, grad, op}``, ``grad`` the engine's result) and ``order`` (one
entry per press of Step); each Value's drawn element carries
``data-node="<id>"`` and ``data-grad`` (the grad shown now; empty before
any arrived); the controls have ids ``step``, ``back``, ``play``, ``reset``.
"""

import html
import math
import os
from contextlib import contextmanager

from micrograd_it.files import atomic_write
from micrograd_it.engine import Value

from .explore_steps import backward_order, expression_names, local_derivatives, local_text, replay
from .explore_svg import interiors, tag_svg
from .graph import FILL, PALETTE, _to_dot
from .graph_units import ACTIVATIONS, SATURATED_LOCAL, _parameter_names, collect, number_text
from .layout import run_layout
from .page import html_page, page_asset

__all__ = ["explore", "Explorer"]


class Explorer:
    """An explorer page: ``.html`` (the page, a str), ``.data`` (its embedded JSON as a dict), ``.save(path)``.

    In Jupyter it shows itself (``_repr_html_``) inside an isolated iframe, so several explorers in one
    notebook never share element ids or styles.
    """

    def __init__(self, page, data, height=720):
        self.html, self.data, self.height = page, data, height

    def save(self, path):
        """Write the page to `path` atomically; return the path. Raises OSError when it cannot be written."""
        return atomic_write(os.fspath(path), self.html)

    def _repr_html_(self):
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" sandbox="allow-scripts" '
                f'style="width: 100%; height: {self.height}px; border: 1px solid #ccc; resize: vertical" '
                f'title="micrograd_it explorer"></iframe>')

    def __repr__(self):
        return f"<Explorer: {len(self.data['nodes'])} Values, {len(self.data['order'])} backward steps>"


@contextmanager
def _grads_of_one_pass(values, grads):
    """Let the drawing read the gradients of one fresh backward pass, then put every .grad back as it was."""
    saved = [value.grad for value in values]
    try:
        for value in values:
            value.grad = grads.get(id(value), 0.0)
        yield
    finally:
        for value, grad in zip(values, saved):
            value.grad = grad


def _display_names(values, param_names, order):
    """A name per Value for the step texts: its parameter name, else its label, else the expression that made it."""
    given = [param_names.get(id(value)) or value.label or None for value in values]
    return expression_names(values, given, order)


def _drawn_keys(drawing):
    """Return, per Value, the key of the drawn unit that shows it (a Value, a collapsed neuron, a summary)."""
    units = {unit.key for unit in drawing.units}
    first_consumer = {}
    for value in drawing.values:
        for child in value.children:
            first_consumer.setdefault(id(child), value)
    keys = []
    for value in drawing.values:
        key = drawing.unit_of[id(value)]
        if key not in units and id(value) in first_consumer:  # a weight folded into its neuron, or the loss's tail
            consumer_key = drawing.unit_of[id(first_consumer[id(value)])]
            key = consumer_key if consumer_key in units and not consumer_key.startswith("n") else key
        keys.append(key if key in units else ("summary" if "summary" in units else None))
    return keys


def _steps(root, values, order):
    """The page's `order`: the root's seed, then one entry per chain-rule step ([child id, local] per input)."""
    index_of = {id(value): index for index, value in enumerate(values)}
    seed = replay(root, [])[id(root)]
    steps = [{"node": 0, "seed": seed}]
    for out in order:
        steps.append({"node": index_of[id(out)],
                      "inputs": [[index_of[id(child)], local] for child, local in zip(out.children, local_derivatives(out))]})
    return steps


def _details(values, names, drawn_keys):
    index_of = {id(value): index for index, value in enumerate(values)}
    arrivals = [0] * len(values)
    for value in values:
        for child in value.children:
            arrivals[index_of[id(child)]] += 1
    details = []
    for index, value in enumerate(values):
        locals_ = local_derivatives(value)
        child_names = [names[index_of[id(child)]] for child in value.children]
        details.append({
            "name": names[index], "unit": drawn_keys[index], "arrivals": arrivals[index],
            "op_text": str(value._op) if value.op else "", "inputs": [index_of[id(child)] for child in value.children],
            "locals": [local_text(value, k, child_names) for k in range(len(locals_))], "local_values": list(locals_),
            "flat": value.op in ACTIVATIONS and abs(locals_[0]) < SATURATED_LOCAL,
        })
    return details


def _units(drawing, interior_svgs):
    units = {}
    for unit in drawing.units:
        if unit.kind in ("group", "summary"):
            lines = list(unit.fields[1:]) if unit.kind == "group" else unit.name.split("\n")
            units[unit.key] = {"kind": unit.kind, "title": unit.fields[0] if unit.fields else unit.name.split("\n")[0],
                               "lines": lines, "expandable": unit.key in interior_svgs}
    return units


def _check(root, max_nodes):
    if not isinstance(root, Value):
        raise TypeError(f"explore() needs a Value, got {root!r} ({type(root).__name__})")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a whole number >= 1, got {max_nodes!r}")


def _check_finite(values, grads, names):
    """Refuse a graph whose numbers leave the floats: the page steps through numbers, and JSON has no NaN."""
    for index, value in enumerate(values):
        grad = grads.get(id(value), 0.0)
        if not (math.isfinite(value.data) and math.isfinite(grad)):
            raise ValueError(f"explore() cannot step through this graph: {names[index]} has data {value.data!r} "
                             f"and would get the gradient {grad!r} (backward() refuses a gradient that is NaN or "
                             "infinite too)")


def explore(root, names=None, trace=None, max_nodes=300, *, vanish_tol=1e-6, title=None):
    """Return an `Explorer` of the graph that computed `root`: step through its backward pass, hover, open neurons.

    `names`: a Module, a dict or (name, Value) pairs naming parameters (as in draw_graph). `trace`: the trace
    of the forward pass (``with net.trace() as trace``): each neuron on each sample is drawn as one node
    that opens. Past `max_nodes` drawn units the graph is summarised as draw_graph does. Raises TypeError
    for a `root` that is not a Value, ValueError for a bad option or for a graph whose backward pass
    leaves the floats (a NaN or infinite gradient, which backward() refuses too), and viz.layout's LayoutEngineMissing /
    LayoutFailed when no layout engine can draw it.
    """
    _check(root, max_nodes)
    if not (isinstance(vanish_tol, (int, float)) and vanish_tol > 0 and math.isfinite(vanish_tol)):
        raise ValueError(f"vanish_tol must be a finite number > 0, got {vanish_tol!r}")
    values = root.nodes()
    order = backward_order(root)
    param_names = _parameter_names(names)
    display_names = _display_names(values, param_names, order)
    one_pass = replay(root, order)
    _check_finite(values, one_pass, display_names)
    with _grads_of_one_pass(values, one_pass):
        drawing = collect(root, vanish_tol=vanish_tol, max_nodes=max_nodes, group="neuron" if trace else None,
                          names=names, trace=trace)
        dot = _to_dot(drawing, rankdir="LR", show_local_grad=True, fmt="svg", legend=False)  # the page has its own
        interior_svgs = interiors(drawing, root, param_names, vanish_tol, "LR", display_names)
        grads = [value.grad for value in values]
    groups = {unit.key: [id(p) for _, p, _ in unit.calls][0] for unit in drawing.units
              if unit.kind == "group" and len(unit.calls) == 1}
    index_of = {id(value): index for index, value in enumerate(values)}
    svg = tag_svg(run_layout(dot.source, "svg").decode("utf-8"),
                  {key: index_of[preact] for key, preact in groups.items()})
    data = {
        "nodes": [{"id": index, "label": value.label, "data": value.data, "grad": grads[index], "op": value.op}
                  for index, value in enumerate(values)],
        "order": _steps(root, values, order),
        "details": _details(values, display_names, _drawn_keys(drawing)),
        "units": _units(drawing, interior_svgs),
        "title": drawing.title,
    }
    heading = title or f"{display_names[0]} = {number_text(root.data)}: step through backward()"
    return Explorer(_page(heading, svg, interior_svgs, data), data)


def _legend(data):
    """The key to the drawing's styles, in the drawing's own colours (viz.graph's palette), as one HTML line."""
    def swatch(text, style):
        return f'<span class="swatch" style="{style}">{html.escape(text)}</span>'
    items = [swatch("input", f"background:{FILL['input']};border:1px solid {PALETTE['blue']}"),
             swatch("parameter", f"background:{FILL['param']};border:2px solid {PALETTE['green']}"),
             swatch("output", f"background:{FILL['output']};border:3px solid {PALETTE['orange']}"),
             swatch("grad vanished", f"background:{FILL['vanished']};border:1.5px dashed {PALETTE['grey']};color:#555"),
             swatch(f"flat op: local derivative < {SATURATED_LOCAL}",
                    f"background:{FILL['flat']};border:2.5px solid {PALETTE['vermillion']}")]
    if any(unit["kind"] == "group" for unit in data["units"].values()):
        items.append(swatch("neuron (click to open)", "background:#fff;border:1px solid #000"))
        items.append(swatch("neuron saturated here", f"background:{FILL['flat']};border:3px solid {PALETTE['vermillion']}"))
    items += [swatch("no gradient yet", "opacity:0.35;border:1px solid #000"),
              swatch("passing its gradient", "border:3px solid #0072B2"),
              swatch("receiving", "border:3px solid #009E73"),
              '<span class="swatch-note">edge width = gradient flow (log scale); dotted: (almost) none</span>']
    return '<div id="legend">' + "".join(items) + "</div>"


def _page(heading, svg, interior_svgs, data):
    """The whole page: controls, the drawing, the neurons' interiors (hidden until opened), data and script."""
    # <template>: not part of the document until opened, so no hidden copy carries a stale data-grad
    interiors_html = "".join(f'<template data-interior="{html.escape(key)}">{interior}</template>'
                             for key, interior in interior_svgs.items())
    body = f"""<header id="controls">
<h1>{html.escape(heading)}</h1>
<div class="buttons">
<button id="reset" type="button" title="Reset (Home)">◀◀ Reset</button>
<button id="back" type="button" title="Back one step (←)">◀ Back</button>
<button id="step" type="button" title="One step of backward (→)">Step ▶</button>
<button id="play" type="button" title="Play / Pause (space)" aria-pressed="false">▶ Play</button>
<label>speed <select id="speed">{"".join(f'<option value="{n}"{" selected" if n == 2 else ""}>{n} steps/s</option>'
                                        for n in (1, 2, 5, 10, 30, 100))}</select></label>
<span id="position"></span>
</div>
<div id="explain" aria-live="polite"></div>
{_legend(data)}
</header>
<main id="graph">{svg}</main>
<div id="tooltip" role="tooltip" hidden></div>
<div id="interiors">{interiors_html}</div>"""
    return html_page(heading, body, style=page_asset("explorer.css"), script=page_asset("explorer.js"),
                     data_id="micrograd-graph", data=data)


class _CallableModule(type(os)):
    """Lets ``viz.explore(root)`` call `explore` although ``viz.explore`` is this module (the brief's name for both)."""

    def __call__(self, *args, **kwargs):
        return explore(*args, **kwargs)


import sys  # noqa: E402  (only for the line below)

sys.modules[__name__].__class__ = _CallableModule
