"""draw_graph on a big graph against what the graph cost to make: build + backward() vs draw_graph().

    python benchmarks/draw_graph.py               # 100k and 500k Values, 3 rounds each
    python benchmarks/draw_graph.py --long-way    # also the old path (a unit for every Value, then cut)

The graph is a training step's: MLP [2, 16, 16, 1] (tanh) over a batch, mse loss, so
its size is set by the batch. Each round, in this order: build the loss and run
backward(); draw_graph(loss) with the default max_nodes=300 (no trace: the nearest
Values and a summary, viz/graph_nearest.py); with --long-way, viz.graph_units.collect
on the same graph. Times are wall clock (time.perf_counter), the best of the rounds, and
the ratio draw / (build + backward) is taken within each round, so a slow spell of the
machine hits both. Peak memory is tracemalloc's peak during each phase alone (tracing
slows Python down, so the memory is measured in a separate pass, not timed).
"""

import argparse
import gc
import os
import sys
import time
import tracemalloc

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from micrograd_it.losses import mse  # noqa: E402
from micrograd_it.nn import MLP  # noqa: E402
from viz.graph import draw_graph  # noqa: E402
from viz.graph_units import collect  # noqa: E402

NET = MLP(2, [16, 16, 1], seed=0)


def build(batch):
    """The loss of one step over `batch` samples, after backward()."""
    xs = [[(i % 17) / 8.0 - 1.0, (i % 11) / 5.0 - 1.0] for i in range(batch)]
    ys = [1.0 if i % 2 else -1.0 for i in range(batch)]
    NET.zero_grad()
    loss = mse([NET(x) for x in xs], ys)
    loss.backward()
    return loss


def batch_for(values):
    """The batch whose graph has about `values` Values (measured on a small batch: linear in the batch)."""
    per_sample = (len(build(20).nodes()) - len(build(10).nodes())) / 10
    return max(1, round(values / per_sample))


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def peak(function):
    """Peak tracemalloc memory (MB) of `function()` alone, and its result."""
    gc.collect()
    tracemalloc.start()
    result = function()
    peak_bytes = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak_bytes / 1e6, result


def long_way(loss):
    return collect(loss, vanish_tol=1e-6, max_nodes=300, group=None, names=None, trace=None)


def measure(target, rounds, with_long_way):
    batch = batch_for(target)
    rows = []
    for _ in range(rounds):
        build_s, loss = timed(lambda: build(batch))
        draw_s, dot = timed(lambda: draw_graph(loss))
        long_s = timed(lambda: long_way(loss))[0] if with_long_way else None
        rows.append((build_s, draw_s, long_s))
        n_values = len(loss.nodes())
        del loss, dot
        gc.collect()
    build_mb, loss = peak(lambda: build(batch))
    draw_mb, dot = peak(lambda: draw_graph(loss))
    long_mb = peak(lambda: long_way(loss))[0] if with_long_way else None
    drawn = dot.source.count("shape=\"record\"")
    best = [min(row[i] for row in rows) if rows[0][i] is not None else None for i in range(3)]
    ratios = sorted(row[1] / row[0] for row in rows)
    print(f"{n_values:,} Values (batch {batch}), {drawn} records drawn, {rounds} rounds:")
    print(f"  build + backward  {best[0]:7.2f} s   peak {build_mb:7.1f} MB")
    print(f"  draw_graph        {best[1]:7.2f} s   peak {draw_mb:7.1f} MB   "
          f"draw / (build + backward): median {ratios[len(ratios) // 2]:.2f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
    if with_long_way:
        long_ratios = sorted(row[2] / row[0] for row in rows)
        print(f"  long way (collect){best[2]:7.2f} s   peak {long_mb:7.1f} MB   "
              f"ratio: median {long_ratios[len(long_ratios) // 2]:.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 500_000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--long-way", action="store_true")
    args = parser.parse_args()
    for size in args.sizes:
        measure(size, args.rounds, args.long_way)


if __name__ == "__main__":
    main()
