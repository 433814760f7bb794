"""One measurement in a fresh process, printed as one JSON line: ``python sample.py WORKLOAD ENGINE [N]``.

run.py starts this once per sample, so that each engine is timed with only
its own imports (importing torch adds ~165,000 objects that the garbage
collector then scans, slowing every pure-Python engine).

Workloads: ``w1`` (N = batch; times `STEPS` training steps back to back
after one warm-up step), ``w1-grads`` (loss and gradients at the start, for
the cross-check), ``chain`` (N = op nodes), ``build``, ``memory``, ``seed``, ``gpt`` (the GPT
lesson's training step: `STEPS` steps after a warm-up; ENGINE "micrograd_it" or "reference (microgpt
style)") and ``gpt-grads`` (its loss and gradients on the first name, for the cross-check).
"""

import gc
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def time_w1(engine, batch, steps):
    """Time `steps` back-to-back training steps after a warm-up; return the loop's total ms and each step's ms.

    The total is what a training loop costs (run.py reports total / steps);
    the single steps show how unevenly it is spread (a full collection of the
    cyclic garbage collector lands on some steps only).
    """
    import w1

    step, _ = w1.ENGINES[engine](batch)
    step()  # warm-up: first-call costs, caches
    times = []
    loop_start = time.perf_counter()
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1e3)
    total_ms = (time.perf_counter() - loop_start) * 1e3
    return {"ms_per_step": times, "total_ms": total_ms, "steps": steps, "gc_enabled": gc.isenabled()}


def main(argv):
    workload, engine = argv[0], argv[1]
    number = int(argv[2]) if len(argv) > 2 else 0
    steps = int(os.environ.get("BENCH_STEPS", "5"))
    try:
        if workload == "w1":
            result = time_w1(engine, number, steps)
        elif workload in ("gpt", "gpt-grads"):
            import gpt

            result = gpt.time_steps(engine, steps) if workload == "gpt" else gpt.grads(engine)
        elif workload == "w1-grads":
            import w1

            loss, grads = w1.ENGINES[engine](number)[1]()
            result = {"loss": loss, "grads": grads}
        else:
            import others

            if workload == "chain":
                result = others.chain(engine, number)
            elif workload == "build":
                result = others.build_rate(engine)
            elif workload == "memory":
                result = others.memory(engine)
            elif workload == "seed":
                result = others.seed_layer(engine)
            else:
                raise SystemExit(f"unknown workload {workload!r}")
    except RecursionError:
        result = {"error": "RecursionError"}
    except ImportError as error:
        result = {"error": f"not installed ({error.name})"}
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
