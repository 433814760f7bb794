"""The demos: each runs alone (python demos/NAME.py) and is installed as micrograd_it_demos (see setup.cfg)."""
