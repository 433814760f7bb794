"""The seed's one-pass figures: 32 samples x 200 tanh neurons, bad init against fixed init.

Run: python demos/saturation.py [--out DIR]   (or: micrograd-it demo saturation)
Writes, for each init, the activation and pre-activation histograms and the saturation map into DIR.
"""

import argparse
import os
import random

from viz._output import save_figure
from viz.plots import activation_hist, preact_hist, saturation_map
from viz.study import CharMLP, StudyOptions, dataset, one_pass


def main(out_dir, samples=32, hidden=200, seed=0):
    """One forward/backward pass per init; print what saturates; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    options = StudyOptions(seed=seed)
    X, Y, vocab_size = dataset(options)
    indices = random.Random(seed).sample(range(len(X)), samples)
    written = []
    for name, init in [("bad_init", options.bad_init), ("fixed_init", "scaled")]:
        model = CharMLP(vocab_size, options.block_size, options.emb_dim, hidden, init, seed)
        trace, numbers = one_pass(model, X, Y, indices, options.threshold)
        print(f"{name}: pre-activations in [{numbers['preact_min']:.1f}, {numbers['preact_max']:.1f}], "
              f"{numbers['saturated_pct']:.1f}% of activations saturated (|h| > {options.threshold}), "
              f"{len(numbers['dead'])} dead neurons, tanh lets through {100 * numbers['pass_through']:.0f}% "
              f"of the gradient on average, loss {numbers['loss']:.2f}")
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
