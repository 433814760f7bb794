"""The seed's makemore model in PyTorch at the seed's size, traced by micrograd_it: saturation, the fix, dead neurons.

Run: python demos/makemore_torch.py [--out DIR] [--steps N]   (or: micrograd-it demo makemore_torch)
Needs PyTorch (pip install 'micrograd_it[torch]').

The model is the seed's, written as the seed writes it: an embedding table C (27 x 10), a context of 3
characters, W1 (30 x 200) and a tanh hidden layer, W2 (200 x 27), batches of 32 contexts from the
lecture's training split of makemore's names.txt (182,625 contexts). `trace_torch()` records the seed's line ``h = torch.tanh(emb.view(-1, 30) @ W1 + b1)``
as it stands. Three runs from one seed:
1. bad init: every weight N(0, 1), the lecture's first try;
2. fixed init: W1 * (5/3) / sqrt(30), b1 * 0.01, W2 * 0.01, b2 = 0 (the lecture's fix);
3. the fixed init with a learning rate 30 times too high: it throws neurons into saturation for good.
Writes into DIR the seed's pictures for each init (histogram of h, of the pre-activations, the
|h| > 0.99 saturation map, and the gradient before/after tanh), the activation gallery, the dead
neurons of the third run, and the statistics of all three over training.
"""

import argparse
import math
import os
import time

import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from micrograd_it.makemore import char_dataset
from micrograd_it.recorder import StatsRecorder
from micrograd_it.torch_makemore import one_thread
from micrograd_it.torch_trace import trace_torch
from viz.plots import (activation_gallery, activation_hist, activation_stats, grad_hist, hist_over_steps,
                       preact_hist, saturation_map)
from viz.save import save_figure

THRESHOLD = 0.99
RUNS = [  # (key, title, init, learning rate, steps as a share of --steps)
    ("bad_init", "bad init", "bad", 0.1, 1.0),
    ("fixed_init", "fixed init", "fixed", 0.1, 1.0),
    ("high_lr", "fixed init, learning rate 3", "fixed", 3.0, 0.1),
]


def init_params(init, seed):
    """The seed's parameters [C, W1, b1, W2, b2], all drawn from one generator; "fixed" scales them."""
    g = torch.Generator().manual_seed(seed)
    C = torch.randn((27, 10), generator=g)
    W1 = torch.randn((30, 200), generator=g)
    b1 = torch.randn(200, generator=g)
    W2 = torch.randn((200, 27), generator=g)
    b2 = torch.randn(27, generator=g)
    if init == "fixed":  # std(W1) = gain / sqrt(fan_in), tanh's gain 5/3; near-zero output layer
        W1, b1, W2, b2 = W1 * (5 / 3) / 30 ** 0.5, b1 * 0.01, W2 * 0.01, b2 * 0
    return [p.requires_grad_() for p in (C, W1, b1, W2, b2)]


def forward(params, Xb, Yb):
    """The seed's forward pass; returns the loss."""
    C, W1, b1, W2, b2 = params
    emb = C[Xb]
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)
    logits = h @ W2 + b2
    return F.cross_entropy(logits, Yb)


def traced_step(params, Xb, Yb):
    """Forward and backward once under trace_torch(); return (the hidden layer's trace, the loss)."""
    with trace_torch() as tr:
        loss = forward(params, Xb, Yb)
        for p in params:
            p.grad = None
        loss.backward()
    return tr.layers[0], loss.item()


def train(params, X, Y, lr, steps, seed, recorder):
    """SGD on batches of 32; every step traced and its statistics recorded. Returns the losses."""
    g = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        ix = torch.randint(0, X.shape[0], (32,), generator=g)
        with trace_torch() as tr:
            loss = forward(params, X[ix], Y[ix])
            for p in params:
                p.grad = None
            loss.backward()
        recorder.record(tr)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        losses.append(loss.item())
    return losses


def numbers(layer):
    """What the seed reads off its pictures, measured on a traced hidden layer."""
    act = layer.act.double()
    return dict(preact_min=layer.preact.min().item(), preact_max=layer.preact.max().item(),
                preact_std=layer.preact.double().std(correction=0).item(),
                saturated_pct=100 * layer.saturated(THRESHOLD).double().mean().item(),
                dead=layer.dead(THRESHOLD), n_neurons=layer.n_neurons, pass_through=(1 - act ** 2).mean().item())


def dead_on_all_data(params, X):
    """Hidden neurons with |h| > 0.99 on every one of the training contexts: no input activates them."""
    C, W1, b1, _, _ = params
    with torch.no_grad():
        h = torch.tanh(C[X].view(-1, 30) @ W1 + b1)
    return int((h.abs() > THRESHOLD).all(dim=0).sum())


def full_loss(params, X, Y):
    with torch.no_grad():
        return forward(params, X, Y).item()


def seed_figures(out_dir, key, title, layer):
    """The seed's pictures of one traced hidden layer; return {kind: path}."""
    written = {}
    for kind, draw in [("hist_h", activation_hist), ("hist_preact", preact_hist), ("saturation_map", saturation_map)]:
        fig = draw(layer).figure
        fig.suptitle(title, fontweight="bold")
        written[kind] = save_figure(fig, os.path.join(out_dir, f"{key}_{kind}.png"))
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    before, after = fig.subplots(1, 2)
    grad_hist(layer, attribute="grad_out", ax=before)
    grad_hist(layer, attribute="grad_in", ax=after)
    fig.suptitle(f"{title}\nthe gradient reaching tanh (left), and what 1 - t**2 lets through (right)",
                 fontweight="bold")
    written["grad_hist"] = save_figure(fig, os.path.join(out_dir, f"{key}_grad_hist.png"))
    return written


def training_figures(out_dir, runs):
    """The statistics of every run over training, and each run's activation histogram over steps: {kind: path}."""
    histories = {run["title"]: run["recorder"]["tanh"] for run in runs}
    paths = {"stats_over_training": save_figure(activation_stats(histories),
                                                os.path.join(out_dir, "stats_over_training.png"))}
    fig = Figure(figsize=(15, 4.2), layout="constrained")
    for ax, run in zip(fig.subplots(1, len(runs)), runs):
        hist_over_steps(run["recorder"], "tanh", ax=ax)
        ax.set_title(f"{run['title']}\n{ax.get_title().splitlines()[1]}", fontsize=10)
    fig.suptitle("Histogram of h at every step (tanh: [-1, 1]; bright = many values)", fontweight="bold")
    paths["hist_over_training"] = save_figure(fig, os.path.join(out_dir, "hist_over_training.png"))
    return paths


def run_one(key, title, init, lr, steps, data, seed, out_dir):
    """Trace at init, train, trace again; return the run's numbers and figures."""
    X, Y, batch = data
    params = init_params(init, seed)
    layer, loss = traced_step(params, X[batch], Y[batch])
    run = dict(key=key, title=title, lr=lr, steps=steps, init=numbers(layer), loss_init=loss,
               dead_all_init=dead_on_all_data(params, X), recorder=StatsRecorder(THRESHOLD))
    run["figures"] = seed_figures(out_dir, key, f"{title}, at init", layer) if key != "high_lr" else {}
    started = time.perf_counter()
    run["losses"] = train(params, X, Y, lr, steps, seed + 1, run["recorder"])
    run["seconds"] = time.perf_counter() - started
    layer, _ = traced_step(params, X[batch], Y[batch])
    run.update(final=numbers(layer), loss_final=full_loss(params, X, Y), dead_all_final=dead_on_all_data(params, X))
    if key == "high_lr":
        run["figures"] = seed_figures(out_dir, key, f"{title}, after {steps} steps", layer)
    run["first_dead_step"] = next((int(r[0]) for r, dead in zip(run["recorder"]["tanh"].step_ranges,
                                                                  run["recorder"]["tanh"].dead) if dead > 0), None)
    return run


def report(run):
    """The lines printed for one run, every number measured."""
    start, end = run["init"], run["final"]
    lines = [f"{run['title']} (lr {run['lr']:g}, {run['steps']} steps, {run['seconds']:.1f} s):",
             f"  at init:  pre-activations in [{start['preact_min']:.1f}, {start['preact_max']:.1f}] "
             f"(std {start['preact_std']:.2f}), {start['saturated_pct']:.1f}% of h saturated (|h| > {THRESHOLD}), "
             f"tanh lets {100 * start['pass_through']:.0f}% of the gradient through, "
             f"{len(start['dead'])}/200 dead on the batch, {run['dead_all_init']}/200 on all training contexts; "
             f"loss {run['loss_init']:.3f}",
             f"  trained:  {end['saturated_pct']:.1f}% saturated, {len(end['dead'])}/200 dead on the batch, "
             f"{run['dead_all_final']}/200 dead on all training contexts; loss on them {run['loss_final']:.3f}"]
    if run["first_dead_step"] is not None:
        lines.append(f"  the first dead neuron (on a step's batch) appeared around step {run['first_dead_step']}")
    return lines


def main(out_dir, steps=10_000, seed=0):
    """Run the three configurations, print what they show, write the figures; return a dict of the results.

    The dict holds "runs" (one dict of numbers and figures {kind: path} each), "figures" (the shared
    ones), "seconds" (wall time of everything) and the sizes; `micrograd-it study --torch` reports it.
    """
    started = time.perf_counter()
    os.makedirs(out_dir, exist_ok=True)
    contexts, targets, vocab_size = char_dataset(block_size=3)
    X, Y = torch.tensor(contexts), torch.tensor(targets)
    batch = torch.randint(0, X.shape[0], (32,), generator=torch.Generator().manual_seed(seed))
    print(f"{len(contexts):,} contexts of 3 characters (names.txt, the lecture's training split), {vocab_size} characters; "
          f"C 27x10, W1 30x200, W2 200x27, batches of 32")
    runs = []
    with one_thread():
        for key, title, init, lr, share in RUNS:
            runs.append(run_one(key, title, init, lr, max(1, math.ceil(steps * share)), (X, Y, batch),
                                seed, out_dir))
            print("\n".join(report(runs[-1])))
    figures = {"gallery": save_figure(activation_gallery(), os.path.join(out_dir, "activations.png"))}
    figures.update(training_figures(out_dir, runs))
    seconds = time.perf_counter() - started
    for path in list(figures.values()) + [path for run in runs for path in run["figures"].values()]:
        print("wrote", path)
    print(f"took {seconds:.1f} s")
    return dict(runs=runs, figures=figures, seconds=seconds, n_contexts=len(contexts), threshold=THRESHOLD)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "makemore_torch"), help="output folder")
    parser.add_argument("--steps", type=int, default=10_000, help="training steps of the two inits (default 10000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batches")
    arguments = parser.parse_args()
    main(arguments.out, steps=arguments.steps, seed=arguments.seed)
