"""A GPT of our own on the engine: trained on makemore's names, with its dead ReLUs and peaked attention.

The model has microgpt's shape and sizes (micrograd_it/gpt.py, written here): token and
position embeddings, RMSNorm, one block of 4-head causal attention and a ReLU MLP of 64
neurons, context 16, 4,192 weights, no biases. Each step trains on one name with Adam
(beta1 0.85, beta2 0.99, lr 0.01 decaying linearly to 0). Each step is traced with
trace_values(): a MLP neuron whose pre-activation is <= 0 on every position of the step's name
is dead on that step (it passes no gradient back), and an attention row whose largest weight is
>= 0.99 passes almost no gradient to its scores. The demo prints both as it trains, then
samples names.
Run: python demos/gpt.py [--out DIR] [--steps N]   (or: micrograd-it demo gpt [--steps N])
Writes gpt_training.png, gpt_dead_over_steps.png and gpt_relu_map.png into DIR.
"""

import argparse
import os
import statistics
import time

from micrograd_it import trace_values
from micrograd_it.data import load_names
from micrograd_it.gpt import GPT
from micrograd_it.gpt_train import encode_names, sample_names, train
from micrograd_it.recorder import StatsRecorder
from viz.plots import gpt_training, saturation_map, stats_over_steps
from viz.save import save_figure


def summary(history):
    """Lines that say what the run's dead ReLUs and peaked attention rows were (from train()'s history)."""
    lines = []
    for layer, width in enumerate(history[0]["n_neurons"]):
        counts = [len(entry["dead"][layer]) for entry in history]
        ever = sorted(set().union(*(entry["dead"][layer] for entry in history)))
        tail = history[-max(1, len(history) // 10):]
        stayed = set.intersection(*(set(entry["dead"][layer]) for entry in tail))
        lines.append(f"dead ReLU neurons of layer {layer} (of {width}) per step: median {statistics.median(counts):g}, "
                     f"max {max(counts)}, at the last step {counts[-1]}; {len(ever)} neurons were dead on some step, "
                     f"{len(stayed)} on every one of the last {len(tail)} steps")
    peaked = sum(entry["peaked_rows"] for entry in history)
    rows = sum(entry["attention_rows"] for entry in history)
    last = history[-len(history) // 10 or -1:]
    late = sum(e["peaked_rows"] for e in last) / max(1, sum(e["attention_rows"] for e in last))
    lines.append(f"peaked attention rows (largest weight >= 0.99): {peaked} of {rows} over the run "
                 f"({100 * peaked / max(1, rows):.1f}%), {100 * late:.1f}% over the last {len(last)} steps")
    return lines


def main(out_dir, steps=200, seed=0, samples=10, temperature=0.5):
    """Train the GPT for `steps` steps, print losses, dead ReLUs, peaked attention and samples; return the paths written."""
    os.makedirs(out_dir, exist_ok=True)
    stoi, itos, docs = encode_names(load_names())
    model = GPT(len(itos), seed=seed)
    print(f"{model}, trained on {len(docs):,} names, one name per step")
    recorder = StatsRecorder()
    every = max(1, steps // 10)
    started = time.perf_counter()

    def report(entry):
        if (entry["step"] + 1) % every == 0 or entry["step"] == 0:
            print(f"step {entry['step'] + 1:5d}/{steps} | loss {entry['loss']:.4f} | lr {entry['lr']:.5f} | "
                  f"dead ReLU {len(entry['dead'][0]):2d}/{entry['n_neurons'][0]} | "
                  f"peaked attention rows {entry['peaked_rows']}/{entry['attention_rows']}")

    history = train(model, docs, steps, seed=seed, recorder=recorder, on_step=report)
    print(f"trained in {time.perf_counter() - started:.1f} s")
    for line in summary(history):
        print(line)
    names = sample_names(model, itos, samples, seed, temperature)
    print(f"samples (temperature {temperature:g}):", ", ".join(name or "(empty)" for name in names))

    paths = [save_figure(gpt_training(history), os.path.join(out_dir, "gpt_training.png"))]
    ax = stats_over_steps(recorder, "dead")
    paths.append(save_figure(ax.figure, os.path.join(out_dir, "gpt_dead_over_steps.png")))
    name = docs[0]
    with trace_values() as trace:  # one more forward pass after training, to see each position
        loss = model.loss(name)
    loss.backward()
    ax = saturation_map(trace.layers[0])
    ax.set_ylabel(f"position in {'.' + ''.join(itos[t] for t in name)!r} (row, {len(name) + 1})")
    paths.append(save_figure(ax.figure, os.path.join(out_dir, "gpt_relu_map.png")))
    for path in paths:
        print("wrote", path)
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=os.path.join("micrograd-it-out", "gpt"), help="output folder")
    parser.add_argument("--steps", type=int, default=200, help="training steps (default 200; microgpt trains 1,000)")
    arguments = parser.parse_args()
    main(arguments.out, steps=arguments.steps)
