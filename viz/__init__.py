"""viz: pictures of micrograd_it graphs, networks and activations (graphviz and matplotlib)."""
