"""viz: pictures of micrograd_it graphs, networks and activations (graphviz and matplotlib).

`viz.graph.draw_graph` and `viz.network.draw_network` return graphviz Digraphs
laid out by `viz.layout`; `layout_engine()` says which layout engine is in use.
Nothing is imported here eagerly, so `viz.cli` starts even without the
optional graphviz/matplotlib packages (pip install 'micrograd_it[viz]').
"""

__all__ = ["layout_engine"]


def layout_engine():
    """Return a str naming the layout engine in use ("dot at /usr/bin/dot", "graphviz-pure at ...").

    Returns "none: <how to install one>" when there is none; raises ImportError
    when the graphviz Python package itself is missing.
    """
    from .layout import layout_engine as _layout_engine

    return _layout_engine()
