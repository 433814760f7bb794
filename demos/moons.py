"""Train an MLP(2, [16, 16, 1]) on two moons: the decision boundary and the loss curve.

Run: python demos/moons.py [--out DIR]   (or: micrograd-it demo moons)
Writes moons_boundary.png and moons_loss.png into DIR.
"""

import argparse
import os

from micrograd_it.data import make_moons
from micrograd_it.losses import bce_with_logits
from micrograd_it.nn import MLP
from micrograd_it.optim import SGD
from viz.save import save_figure
from viz.plots import decision_boundary, loss_curve


def accuracy(net, X, y):
    """Fraction of points whose logit has the sign of their label (label 1: logit > 0)."""
    return sum((net(x).data > 0) == (label == 1) for x, label in zip(X, y)) / len(y)


def main(out_dir, steps=60, seed=0):
    """Train with full-batch SGD and momentum; print loss and accuracy; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    X, y = make_moons(n=100, noise=0.1, seed=seed)
    X_test, y_test = make_moons(n=200, noise=0.1, seed=seed + 1)  # fresh points the net never trained on
    net = MLP(2, [16, 16, 1], activation="tanh", init="scaled", seed=seed)
    optimizer = SGD(net, lr=0.3, momentum=0.9)
    losses = []
    for step in range(steps):
        loss = bce_with_logits([net(x) for x in X], y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        if step % 10 == 0 or step == steps - 1:
            print(f"step {step:3d}  loss {loss.data:.4f}")
    train_accuracy, test_accuracy = accuracy(net, X, y), accuracy(net, X_test, y_test)
    print(f"accuracy: {100 * train_accuracy:.1f}% on the 100 training points, "
          f"{100 * test_accuracy:.1f}% on 200 new points")
    written = [
        save_figure(decision_boundary(net, X, y).figure, os.path.join(out_dir, "moons_boundary.png")),
        save_figure(loss_curve(losses).figure, os.path.join(out_dir, "moons_loss.png")),
    ]
    for path in written:
        print("wrote", path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "moons"), help="output folder")
    main(parser.parse_args().out)
