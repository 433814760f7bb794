"""The live training view's cost on W1: the same traced training step with and without ``view.update``.

    python benchmarks/live.py                    # 5 rounds of 200 steps of each loop
    python benchmarks/live.py --rounds 3 --steps 100

W1 is benchmarks/w1.py's workload (MLP [2, 16, 16, 1], tanh, batch 64, one SGD step), every step inside
``net.trace()`` since the view needs the trace. Three nets train from the same weights, step by step in
turn (the order rotates each step), so that a slow spell of this shared machine hits all three alike:
- "plain": the traced step alone (the reference);
- "numbers": plus ``view.update(loss, trace)`` with no output (what a terminal or a log costs);
- "frames": plus ``view.update`` drawing real PNG frames as in a notebook (handed to a function that
  drops them), throttled as the view is by default (at most 2 frames a second, drawing within 4% of
  the time), including the first frame (step 0) and the final one (close()). Its view's clock counts
  only the time of its own steps, as if it trained alone.
A loop's cost is the sum of its steps' times; each overhead is taken within a round against that
round's plain loop; min and median over rounds are printed. For "frames" the first step (which draws the
first frame, and imports matplotlib in a fresh process) and the last (close() draws the final frame) are
a run's fixed cost: the benchmark also prints the overhead of the steps between them (the steady cost,
set by the draw budget) and, from both, how long a run must be for its whole overhead to stay under 10%.
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
KINDS = ("plain", "numbers", "frames")


class OwnClock:
    """A clock that runs only while its loop's own step runs (started and stopped around it)."""

    def __init__(self):
        self.total, self.started = 0.0, None

    def start(self):
        self.started = time.perf_counter()

    def stop(self):
        self.total += time.perf_counter() - self.started
        self.started = None

    def __call__(self):
        running = 0.0 if self.started is None else time.perf_counter() - self.started
        return self.total + running


class Loop:
    """One W1 net and its view (None for "plain"); `step()` trains one step and returns its seconds."""

    def __init__(self, kind):
        from viz import live

        self.net, self.loss_of = w1._our_net(BATCH)
        self.params = self.net.parameters()
        self.clock = OwnClock()
        self.view = {"plain": None, "numbers": lambda: live(self.net, output="none"),
                     "frames": lambda: live(self.net, output=lambda frame: None, clock=self.clock)}[kind]
        self.view = self.view() if self.view else None

    def step(self, last=False):
        self.clock.start()
        start = time.perf_counter()
        with self.net.trace() as tr:
            loss = self.loss_of()
        self.net.zero_grad()
        loss.backward()
        for p in self.params:
            p.data -= LEARNING_RATE * p.grad
        if self.view is not None:
            self.view.update(loss=loss, trace=tr)
            if last:
                self.view.close()
        # A training loop frees each step's graph when its loss and trace are replaced: timed here in every
        # loop (plain: now; with a view, which holds the newest step's trace, at the next update)
        del tr, loss
        seconds = time.perf_counter() - start
        self.clock.stop()
        return seconds


def one_round(steps, offset):
    """Return ({kind: seconds of its loop}, {kind: seconds of its first and last step}, frames drawn,
    seconds spent drawing) of one round."""
    loops = {kind: Loop(kind) for kind in KINDS}
    totals = dict.fromkeys(KINDS, 0.0)
    ends = dict.fromkeys(KINDS, 0.0)
    for step in range(steps):
        start = (step + offset) % len(KINDS)
        for kind in KINDS[start:] + KINDS[:start]:
            seconds = loops[kind].step(last=step == steps - 1)
            totals[kind] += seconds
            if step in (0, steps - 1):
                ends[kind] += seconds
    frames = loops["frames"].view
    return totals, ends, frames.frames_drawn, frames.draw_seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=200)
    options = parser.parse_args(argv)
    one_round(3, 0)  # warm-up: imports, matplotlib's font cache, first-call costs
    if options.steps < 3:
        parser.error("--steps must be at least 3 (the first and last steps are a run's fixed cost)")
    overheads = {"numbers": [], "frames": []}
    steady, fixed, per_step = [], [], []
    for round_ in range(options.rounds):
        totals, ends, frames, drawing = one_round(options.steps, round_)
        plain = totals["plain"] / options.steps
        for kind in overheads:
            overheads[kind].append(totals[kind] / totals["plain"] - 1.0)
        steady.append((totals["frames"] - ends["frames"]) / (totals["plain"] - ends["plain"]) - 1.0)
        fixed.append(ends["frames"] - ends["plain"])
        per_step.append(plain)
        print(f"round {round_ + 1}: plain {plain * 1e3:.1f} ms/step; "
              f"numbers {totals['numbers'] / options.steps * 1e3:.1f}; "
              f"frames {totals['frames'] / options.steps * 1e3:.1f} ({frames} frames, {drawing:.2f} s drawing)",
              flush=True)
    for kind, values in overheads.items():
        print(f"overhead of view.update every step, {kind:<8}: min {100 * min(values):+.1f}%, "
              f"median {100 * statistics.median(values):+.1f}% of a traced W1 step (batch {BATCH}, "
              f"{options.steps} steps, {options.rounds} rounds)")
    steady_median, fixed_median, step_median = map(statistics.median, (steady, fixed, per_step))
    print(f"frames, split: the steps between the first and the last {100 * steady_median:+.1f}% (median; "
          f"min {100 * min(steady):+.1f}%), plus {fixed_median:.2f} s fixed for the first and the final frame")
    if steady_median < 0.10:
        print(f"frames, whole run under +10% from about {fixed_median / ((0.10 - steady_median) * step_median):,.0f}"
              f" steps ({step_median * 1e3:.1f} ms a plain step)")
    else:
        print("frames: the steady cost alone is over 10%")


if __name__ == "__main__":
    main()
