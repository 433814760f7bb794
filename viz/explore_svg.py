"""The explorer's pictures: Graphviz's SVG of the graph, tagged so the page's script can find every Value.

Graphviz names each drawn node and edge in a ``<title>`` (the DOT name:
``n3`` a Value, ``n3op`` its op, ``g0_2_1`` a collapsed neuron, ``n3->n1op``
an edge). `tag_svg` turns those titles into ``data-`` attributes (the
page's contract: ``data-node="<id>"`` and ``data-grad`` on each Value) and
removes them, so the browser shows our tooltip rather than the DOT name;
the element ids Graphviz numbers from 1 in every SVG are removed too, since
several SVGs share one page.

`interiors` lays out what each collapsed neuron holds (its products, sums,
preact and act, with its weights) in one run of the layout engine, one
small graph per neuron and sample, for the page to open in place.
"""

import re
import xml.etree.ElementTree as ElementTree

from .graph import _to_dot  # the same styles as draw_graph: one place decides how a unit looks
from .explore_steps import number
from .graph_units import _Drawing, _edges_between, _Unit, _value_unit, number_text
from .layout import run_layout

__all__ = ["tag_svg", "interiors", "value_key"]

SVG_NS = "http://www.w3.org/2000/svg"
ElementTree.register_namespace("", SVG_NS)
ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")
_G, _TITLE, _TEXT = f"{{{SVG_NS}}}g", f"{{{SVG_NS}}}title", f"{{{SVG_NS}}}text"
_VALUE_KEY = re.compile(r"n(\d+)(op)?")
_NETWORK_CELL = re.compile(r"a_(l\d+_\d+|x\d+)")
GRAPH_FONT = "Helvetica,sans-Serif"  # what Graphviz writes for viz.graph's FONT; explorer.css and replay.css set it


def value_key(key):
    """Return (node id, is_op) for a drawn Value's DOT name ``n3`` / ``n3op``, or None for other units."""
    match = _VALUE_KEY.fullmatch(key)
    return (int(match.group(1)), bool(match.group(2))) if match else None


def _tag_node(element, key, groups):
    element.set("data-key", key)
    value = value_key(key)
    texts = element.findall(_TEXT)
    if value is not None and not value[1]:
        element.set("data-node", str(value[0]))
        element.set("data-grad", "")  # no gradient has arrived yet: the page starts before backward
        _mark_text(texts, "grad ")
    elif value is not None:
        element.set("data-op-of", str(value[0]))
    elif key in groups:
        element.set("data-group", key)
        element.set("data-preact", str(groups[key]))
        _mark_text(texts, "grad_in ")
    else:
        element.set("data-unit", key)


def _mark_text(texts, prefix):
    """Mark the text element that prints the gradient, keeping what it says at the end of backward."""
    for text in texts:
        if (text.text or "").startswith(prefix):
            text.set("class", "grad-text")
            text.set("data-final-text", text.text)
            text.set("data-prefix", prefix)
            return


def tag_svg(svg, groups=()):
    """Return Graphviz's `svg` (str) as an inline ``<svg>`` element with the explorer's ``data-`` attributes.

    `groups` maps a collapsed neuron's DOT name to the id of its preact (the Value whose gradient it prints).
    Raises ValueError when `svg` is not an SVG document.
    """
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as error:
        raise ValueError(f"the layout engine's SVG could not be read: {error}") from None
    if root.tag != f"{{{SVG_NS}}}svg":
        raise ValueError(f"expected an <svg> document, got <{root.tag}>")
    groups = dict(groups)
    for text in root.iter(_TEXT):  # the page's style sheet sets the font once (a tenth of a big page)
        if text.get("font-family") == GRAPH_FONT:
            del text.attrib["font-family"]
    for element in root.iter(_G):
        title = element.find(_TITLE)
        kind = element.get("class", "")
        cell = _NETWORK_CELL.fullmatch(element.attrib.pop("id", ""))
        if cell:  # a neuron's cell of a network map (viz.network_cells: its ID is the neuron's unit key)
            element.set("data-unit", cell.group(1))
        if title is None:
            continue
        key = title.text or ""
        element.remove(title)
        if kind == "node":
            _tag_node(element, key, groups)
        elif kind == "edge" and "->" in key:
            source, target = key.split("->", 1)
            element.set("data-source", source)
            element.set("data-target", target)
        elif kind == "cluster":
            element.set("data-key", key)
    return ElementTree.tostring(root, encoding="unicode")


def _interior_dot(group, values, unit_of, drawn, root, param_names, vanish_tol, rankdir, names):
    """DOT of one collapsed neuron on one sample: its member Values with their ops and weights, and stubs
    naming what comes in from outside it."""
    _sample, _preact, act = group.calls[0]
    member_ids = {id(value) for value in values if unit_of.get(id(value)) == group.key}
    members = [value for value in values if id(value) in member_ids]
    index_of = {id(value): index for index, value in enumerate(values)}
    units, keys = {}, {}
    for value in members:
        for child in value.children:
            if id(child) in member_ids or id(child) in keys:
                continue
            if child.is_leaf and f"n{index_of[id(child)]}" not in drawn:  # a weight folded into the neuron
                keys[id(child)] = f"n{index_of[id(child)]}"
                units[keys[id(child)]] = _value_unit(child, keys[id(child)], root, param_names, True, vanish_tol)
            else:  # drawn outside the neuron: a stub that names it
                keys[id(child)] = f"s{index_of[id(child)]}"
                name = names[index_of[id(child)]]
                text = f"from {name}" + ("" if name == number(child.data, 6) else f"\ndata {number_text(child.data)}")
                units[keys[id(child)]] = _Unit(keys[id(child)], "summary", text)
    for value in members:
        keys[id(value)] = f"n{index_of[id(value)]}"
        units[keys[id(value)]] = _value_unit(value, keys[id(value)], root, param_names, True, vanish_tol)
    edges = _edges_between(members, lambda value: keys[id(value)], units)
    drawing = _Drawing(list(units.values()), edges, "", True, vanish_tol)  # the page's frame says which neuron
    return _to_dot(drawing, rankdir=rankdir, show_local_grad=True, fmt="svg", legend=False).source


def interiors(drawing, root, param_names, vanish_tol, rankdir, names):
    """Return {group key: tagged <svg> of its interior} for every collapsed neuron drawn on one sample.

    All interiors are laid out by one run of the layout engine (one graph each). Neurons collapsed over
    many samples have no interior (they would expand into every sample at once). Raises what
    `viz.layout.run_layout` raises.
    """
    groups = [unit for unit in drawing.units if unit.kind == "group" and len(getattr(unit, "calls", ())) == 1]
    if not groups:
        return {}
    drawn = {unit.key for unit in drawing.units}
    sources = [_interior_dot(group, drawing.values, drawing.unit_of, drawn, root, param_names, vanish_tol,
                             rankdir, names) for group in groups]
    output = run_layout("\n".join(sources), "svg").decode("utf-8")
    documents = [part for part in re.split(r"(?=<\?xml)", output) if part.strip()]
    if len(documents) != len(groups):
        raise ValueError(f"the layout engine returned {len(documents)} pictures for {len(groups)} neurons")
    return {group.key: tag_svg(document) for group, document in zip(groups, documents)}
