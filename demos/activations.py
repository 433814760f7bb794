"""The activation gallery: tanh, sigmoid, relu and friends with their derivatives, where each one goes flat.

Run: python demos/activations.py [--out DIR]   (or: micrograd-it demo activations)
Writes activations.png into DIR.
"""

import argparse
import os

from micrograd_it import Value
from micrograd_it.catalogue import ACTIVATIONS
from viz.save import save_figure
from viz.plots import activation_gallery


def main(out_dir):
    """Write the gallery and print each activation's local derivative at a few points; return the paths."""
    os.makedirs(out_dir, exist_ok=True)
    print("local derivative d act / d x, computed by backward():")
    points = [-5.0, -2.0, 0.0, 2.0, 5.0]
    print(f"{'':>11}" + "".join(f"{x:>9g}" for x in points))
    for name, op in ACTIVATIONS.items():  # every activation of the op catalogue (micrograd_it/ops.py)
        slopes = []
        for x in points:
            leaf = Value(x)
            getattr(leaf, op.method)().backward()
            slopes.append(leaf.grad)
        print(f"{name:>11}" + "".join(f"{slope:>9.4f}" for slope in slopes))
    print("Where the derivative is ~0 (tanh and sigmoid far from 0, relu below 0) the gradient dies.")
    drawn = activation_gallery()
    figure = drawn if hasattr(drawn, "savefig") else drawn.figure
    path = save_figure(figure, os.path.join(out_dir, "activations.png"))
    print("wrote", path)
    return [path]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "activations"), help="output folder")
    main(parser.parse_args().out)
