"""The live training view's cost on W1: the same traced training loop with and without ``view.update`` each step.

    python benchmarks/live.py                 # 5 rounds of 3 loops of 60 steps (several minutes on a busy machine)
    python benchmarks/live.py --rounds 3 --steps 30

W1 is benchmarks/w1.py's workload (MLP [2, 16, 16, 1], tanh, batch 64, one SGD step at lr 0.001), every
step inside ``net.trace()`` since the view needs the trace. Three loops run in each round, in a rotating order so that
a slow spell of the machine hits them all, each from the same starting weights:
- "plain": the traced step alone (the reference);
- "numbers": plus ``view.update(loss, trace)`` with no output (what a terminal or a log costs: the numbers);
- "frames": plus ``view.update`` drawing real PNG frames as in a notebook (handed to a function that
  drops them), throttled as the view is by default (2 frames a second, 5% of the time for drawing),
  including the first frame (step 0) and the final one (close()).
Each loop's time per step is its total over its steps; each overhead is taken within a round against that
round's plain loop; min and median over rounds are printed.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import w1  # noqa: E402

BATCH = 64
# W1's own 0.01 sends the summed loss of 64 samples past the floats within ~100 steps; the cost of a step
# does not depend on it, so the long loops here train at a tenth of it
LEARNING_RATE = 0.001


def run_loop(kind, steps):
    """Train W1 `steps` traced steps with the view of `kind`; return (seconds per step, frames drawn, seconds drawing)."""
    from viz import live

    net, loss_of = w1._our_net(BATCH)
    params = net.parameters()
    view = None
    if kind == "numbers":
        view = live(net, output="none")
    elif kind == "frames":
        view = live(net, output=lambda frame: None)
    start = time.perf_counter()
    for _ in range(steps):
        with net.trace() as tr:
            loss = loss_of()
        net.zero_grad()
        loss.backward()
        for p in params:
            p.data -= LEARNING_RATE * p.grad
        if view is not None:
            view.update(loss=loss, trace=tr)
    if view is not None:
        view.close()
    seconds = (time.perf_counter() - start) / steps
    return seconds, (view.frames_drawn if view else 0), (view.draw_seconds if view else 0.0)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=60)
    options = parser.parse_args(argv)
    kinds = ["plain", "numbers", "frames"]
    run_loop("frames", 2)  # warm-up: imports, matplotlib's font cache, first-call costs
    overheads = {"numbers": [], "frames": []}
    for round_ in range(options.rounds):
        order = kinds[round_ % 3:] + kinds[:round_ % 3]
        times = {}
        for kind in order:
            times[kind] = run_loop(kind, options.steps)
        plain = times["plain"][0]
        for kind in ("numbers", "frames"):
            overheads[kind].append(times[kind][0] / plain - 1.0)
        print(f"round {round_ + 1}: plain {plain * 1e3:.1f} ms/step; numbers {times['numbers'][0] * 1e3:.1f}; "
              f"frames {times['frames'][0] * 1e3:.1f} ({times['frames'][1]} frames, "
              f"{times['frames'][2]:.2f} s drawing)", flush=True)
    for kind, values in overheads.items():
        print(f"overhead of view.update every step, {kind:<8}: min {100 * min(values):+.1f}%, "
              f"median {100 * statistics.median(values):+.1f}% of a traced W1 step (batch {BATCH}, "
              f"{options.steps} steps, {options.rounds} rounds)")


if __name__ == "__main__":
    main()
