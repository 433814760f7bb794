"""The picture library: graphs, network maps and figures of micrograd_it (graphviz and matplotlib).

A library, not an application: the `micrograd-it` command, the study and its
report live in the package `micrograd_it_app`, which uses this one.

`viz.explore(root)` makes a page that steps through backward() (viz/explore.py).
``from viz import live``: a training view that updates while the loop runs (viz/live_view.py).
`viz.graph.draw_graph` and `viz.network.draw_network` return graphviz Digraphs
laid out by `viz.layout`; `layout_engine()` says which layout engine is in use.
``from viz import draw_dot`` (the micrograd lecture's name for `draw_graph`),
``draw_graph`` and ``draw_network`` work too. Nothing is imported here eagerly,
so the command starts even without the optional graphviz/matplotlib packages
(pip install 'micrograd_it[viz]'); those names import viz.graph when first used.
"""

__all__ = ["layout_engine", "draw_dot", "draw_graph", "draw_network", "explore", "live"]

_LAZY = {"draw_dot": "graph", "draw_graph": "graph", "draw_network": "network", "live": "live_view"}


def __getattr__(name):
    """``viz.draw_dot`` and friends: imported from their module on first use (PEP 562)."""
    import importlib

    if name == "explore":  # viz.explore is both the module and (being callable) the function
        return importlib.import_module(".explore", __name__)
    if name not in _LAZY:
        raise AttributeError(f"module 'viz' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)


def layout_engine():
    """Return a str naming the layout engine in use ("dot at /usr/bin/dot", "graphviz-pure at ...").

    Returns "none: <how to install one>" when there is none; raises ImportError
    when the graphviz Python package itself is missing.
    """
    from .layout import layout_engine as _layout_engine

    return _layout_engine()

