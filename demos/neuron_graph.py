"""The lecture neuron o = tanh(x1*w1 + x2*w2 + b): its graph and gradients, then the same neuron saturated.

Run: python demos/neuron_graph.py [--out DIR]   (or: micrograd-it demo neuron_graph)
Writes neuron.svg and neuron_saturated.svg (and .png) into DIR.
"""

import argparse
import os

from micrograd_it import Value
from viz.graph import render


def lecture_neuron(w1=-3.0):
    """Return (o, leaves) for the lecture neuron; b is chosen so that with w1 = -3, o = 1/sqrt(2)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(w1, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "w1": w1, "x2": x2, "w2": w2, "b": b}


def main(out_dir):
    """Draw the neuron healthy and saturated; print its gradients; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for name, w1 in [("neuron", -3.0), ("neuron_saturated", -30.0)]:
        o, leaves = lecture_neuron(w1)
        o.backward()
        print(f"w1 = {w1:g}: o = tanh(n) = {o.data:.6f}, local gradient 1 - o**2 = {1 - o.data**2:.2e}")
        print("   " + ", ".join(f"d o/d {label} = {leaf.grad:+.4g}" for label, leaf in leaves.items()))
        for suffix in ("svg", "png"):
            written.append(render(o, os.path.join(out_dir, f"{name}.{suffix}")))
    print("With w1 = -30 the neuron's input n is far out where tanh is flat: the same chain rule")
    print("multiplies every gradient by 1 - o**2, almost 0, and the weights stop learning.")
    for path in written:
        print("wrote", path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "neuron_graph"), help="output folder")
    main(parser.parse_args().out)
