"""A too-high learning rate kills ReLU neurons: dead count over steps, lr 0.1 against lr 3.

A ReLU neuron whose pre-activation is negative on every input outputs 0 and
has local gradient 0 everywhere: no gradient reaches its weights. Whether it
stays dead depends on its layer. A first-layer neuron reads the data itself,
which never changes; trained on the full batch with plain SGD (no momentum to
carry its weights on), it gets exactly 0 and is dead for good. A neuron of the
second layer reads the first layer's outputs, which keep changing while the
first layer trains: it can come back. At lr 3 the count rises to 20 of 32 and
falls back to 17 -- every neuron that came back is a second-layer one.
Run: python demos/dead_relu.py [--out DIR]   (or: micrograd-it demo dead_relu)
Writes dead_relu.png into DIR.
"""

import argparse
import os

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from micrograd_it.data import make_moons
from micrograd_it.losses import bce_with_logits
from micrograd_it.nn import MLP
from micrograd_it.optim import SGD
from viz.save import save_figure


def train(lr, X, y, steps, seed):
    """Train a ReLU MLP(2, [16, 16, 1]); return (losses, dead hidden neurons per step, dead per layer per step).

    The last item: per step, one set of dead neuron indices per hidden layer.
    """
    net = MLP(2, [16, 16, 1], activation="relu", init="scaled", seed=seed)
    optimizer = SGD(net, lr)
    losses, dead_counts, dead_sets = [], [], []
    for _ in range(steps):
        with net.trace() as trace:
            logits = [net(x) for x in X]
        loss = bce_with_logits(logits, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.data)
        # dead: relu output 0 on every one of the 100 points (the last layer is linear, never dead)
        dead_sets.append([set(layer.dead()) for layer in trace.layers[:-1]])
        dead_counts.append(sum(len(dead) for dead in dead_sets[-1]))
    return losses, dead_counts, dead_sets


def revived(dead_sets, layer):
    """Neurons of hidden `layer` dead on some step and alive on a later one (sorted indices)."""
    steps = [dead[layer] for dead in dead_sets]
    return sorted({j for t, dead in enumerate(steps) for j in dead if any(j not in later for later in steps[t + 1:])})


def main(out_dir, steps=30, seed=0, rates=(0.1, 3.0)):
    """Train at each learning rate; print and plot the dead count; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    X, y = make_moons(n=100, noise=0.1, seed=seed)
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    dead_ax, loss_ax = figure.subplots(1, 2)
    for lr in rates:
        losses, dead_counts, dead_sets = train(lr, X, y, steps, seed)
        print(f"lr {lr:g}: dead ReLU neurons (of 32) by step: {dead_counts}; final loss {losses[-1]:.3f}")
        print(f"  peak {max(dead_counts)}, at the end {dead_counts[-1]}")
        for layer in range(len(dead_sets[0])):
            died = set().union(*(dead[layer] for dead in dead_sets))
            print(f"  hidden layer {layer + 1}: {len(died)} of 16 died, {len(dead_sets[-1][layer])} dead at the end, "
                  f"came back: {revived(dead_sets, layer) or 'none'}")
        dead_ax.plot(dead_counts, drawstyle="steps-mid", label=f"lr {lr:g}")
        loss_ax.plot(losses, label=f"lr {lr:g}")
    dead_ax.set(xlabel="step", ylabel="dead hidden neurons (of 32)", title="ReLU neurons zero on every input")
    loss_ax.set(xlabel="step", ylabel="loss", title="Training loss (binary cross-entropy)")
    dead_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in (dead_ax, loss_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    path = save_figure(figure, os.path.join(out_dir, "dead_relu.png"))
    print("A dead neuron gets gradient 0 on every input, so SGD never moves its own weights;")
    print("only changes in the layers below it can bring it back: the first layer reads the fixed data,")
    print("so its dead stay dead; the second layer's inputs move, and some of its dead come back.")
    print("wrote", path)
    return [path]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "dead_relu"), help="output folder")
    main(parser.parse_args().out)
