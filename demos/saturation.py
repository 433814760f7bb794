"""The seed's one-pass figures: 32 samples x 200 tanh neurons, bad init against fixed init.

Run: python demos/saturation.py [--out DIR]   (or: micrograd-it demo saturation)
Writes, for each init, the activation and pre-activation histograms and the saturation map into DIR.
"""

import argparse
import os
import random

from viz.save import save_figure
from viz.plots import activation_hist, preact_hist, saturation_map
from micrograd_it.makemore import CharMLP, batch_loss, char_dataset


def main(out_dir, samples=32, hidden=200, seed=0, threshold=0.99, block_size=3, emb_dim=10):
    """One forward/backward pass per init; print what saturates; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    X, Y, vocab_size = char_dataset(block_size=block_size)
    indices = random.Random(seed).sample(range(len(X)), samples)
    written = []
    for name, init in [("bad_init", 1.0), ("fixed_init", "scaled")]:  # 1.0: w ~ N(0, 1), the seed's init
        model = CharMLP(vocab_size, block_size, emb_dim, hidden, init, seed)
        with model.trace() as trace:
            loss = batch_loss(model, X, Y, indices)
        loss.backward()
        hidden_layer = trace.layers[0]
        preact = [p for row in hidden_layer.preact for p in row]
        act = [a for row in hidden_layer.act for a in row]
        saturated = [flag for row in hidden_layer.saturated(threshold) for flag in row]
        pass_through = sum(1.0 - a * a for a in act) / len(act)  # mean local derivative of tanh
        print(f"{name}: pre-activations in [{min(preact):.1f}, {max(preact):.1f}], "
              f"{100 * sum(saturated) / len(saturated):.1f}% of activations saturated (|h| > {threshold}), "
              f"{len(hidden_layer.dead(threshold))} dead neurons, tanh lets through {100 * pass_through:.0f}% "
              f"of the gradient on average, loss {loss.data:.2f}")
        for kind, draw in [("hist_act", activation_hist), ("hist_preact", preact_hist),
                           ("saturation_map", saturation_map)]:
            drawn = draw(trace.layers[0])
            figure = drawn if hasattr(drawn, "savefig") else drawn.figure
            figure.suptitle(name.replace("_", " "))
            written.append(save_figure(figure, os.path.join(out_dir, f"{name}_{kind}.png")))
    for path in written:
        print("wrote", path)
    return written


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "saturation"), help="output folder")
    main(parser.parse_args().out)
