"""The application: the `micrograd-it` command, the saturation study and its report.

It uses the engine and nets (`micrograd_it`) and the picture library (`viz`);
neither of them imports it. `micrograd_it/__main__.py` is the one door from
the engine package to this command line.
"""
