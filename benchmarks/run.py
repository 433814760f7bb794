"""Benchmark suite: micrograd_it's engines against Karpathy's micrograd, floors, and PyTorch.

    python benchmarks/run.py            # 5 rounds, every workload (several minutes)
    python benchmarks/run.py --quick    # 3 rounds, smaller chains, the seed layer once (~2 minutes)
    python benchmarks/run.py --docs     # the full run, its tables also written into docs/performance.md
    python benchmarks/run.py --only gpt # the GPT lesson's training step only (gpt.py), its table printed

Rules: every sample runs in a fresh process that imports only its own engine
(sample.py); the engines are interleaved round by round, so that a slow
spell of the machine hits them all; each engine's ratio to micrograd is
taken within a round, then the median over rounds is reported with its
min-max. A W1 sample's time per step is its loop's total time over its
steps (the mean): that is what training costs, including the steps on which
the cyclic garbage collector runs a full pass. The median single step is
shown beside it, to show how unevenly the time is spread. "micrograd_it" is
the engine as installed (compiled when a C compiler was there: the report
says which), "micrograd_it (Python source)" the same engine run from its
source (MICROGRAD_IT_PURE=1), in the same rounds. Before any timing, every engine's W1 gradients are checked against
the object engine's (a fast wrong engine is not a result); an engine that
fails (RecursionError) is reported as failing.
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# An engine named "X (Python source)" is X run with MICROGRAD_IT_PURE=1: the engine's source, not the compiled build.
SOURCE_SUFFIX = " (Python source)"
SOURCE = "micrograd_it" + SOURCE_SUFFIX
W1_ENGINES = ["micrograd", "micrograd_it", "micrograd_it gc paused", SOURCE, "micrograd_it traced",
              "tape (python)", "tape (numpy)", "floats by hand", "numpy by hand", "torch 0-d"]
BUILD_ENGINES = ["micrograd", "micrograd_it", SOURCE]
STEPS = {"micrograd": 3, "torch 0-d": 3, "tape (numpy)": 20, "numpy by hand": 50, "floats by hand": 10}
SEED_ENGINES = ["micrograd", "micrograd_it", "tape (python)", "tape (numpy)", "numpy by hand"]
GPT_REFERENCE = "reference (microgpt style)"
GPT_ENGINES = [GPT_REFERENCE, "micrograd_it", SOURCE]
GPT_STEPS = {GPT_REFERENCE: 3, SOURCE: 5, "micrograd_it": 10}


def sample(workload, engine, number=0, steps=5):
    """Run one sample in a fresh process; return its JSON result (a dict, with "error" on failure)."""
    env = dict(os.environ, BENCH_STEPS=str(steps))
    if engine.endswith(SOURCE_SUFFIX):
        engine, env["MICROGRAD_IT_PURE"] = engine[:-len(SOURCE_SUFFIX)], "1"
    done = subprocess.run([sys.executable, os.path.join(HERE, "sample.py"), workload, engine, str(number)],
                          capture_output=True, text=True, env=env, cwd=HERE)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def gradients_agree(result, reference):
    """True when loss and every gradient equal the reference to 1e-9 relative (of the largest gradient)."""
    if "error" in result or len(result["grads"]) != len(reference["grads"]):
        return False
    scale = max(1.0, max(abs(g) for g in reference["grads"]))
    return math.isclose(result["loss"], reference["loss"], rel_tol=1e-9) and all(
        math.isclose(g, want, rel_tol=1e-9, abs_tol=1e-9 * scale) for g, want in zip(result["grads"], reference["grads"]))


def cross_check(engines, batch, workload="w1-grads", reference_engine="micrograd_it"):
    """Return {engine: "ok" | reason} for a workload's loss and gradients against `reference_engine`'s
    (W1: micrograd_it's object engine; "gpt-grads": the microgpt-style reference Value)."""
    reference = sample(workload, reference_engine, batch)
    verdicts = {}
    for engine in engines:
        result = sample(workload, engine, batch)
        if "error" in result:
            verdicts[engine] = result["error"]
        else:
            verdicts[engine] = "ok" if gradients_agree(result, reference) else "WRONG GRADIENTS"
        print(f"  gradients of {engine:<28} {verdicts[engine]}", flush=True)
    return verdicts


def gpt_cross_check():
    """Return {engine: "ok" | reason} for the GPT step's loss and gradients against the reference Value."""
    return cross_check(GPT_ENGINES, 0, "gpt-grads", GPT_REFERENCE)


def gpt_jobs(engines):
    """The GPT workload's jobs: one sample per engine and round."""
    return [(("gpt", e, 0), "gpt", e, 0, GPT_STEPS[e]) for e in engines]


def gpt_section(results, engines):
    """Rows of ms per GPT training step and the speed-up over the reference Value, per round."""
    out = ["", "### GPT: the GPT lesson's training step (one name: forward, backward, Adam), "
           "the same model code on each Value class",
           "| engine | ms per step (total / steps), median (min-max) | vs the reference (same rounds) |",
           "|---|---|---|"]
    for engine, samples, ms, ratios in step_ratios(results, lambda engine: ("gpt", engine, 0), engines, GPT_REFERENCE):
        if ms is None:
            out.append(f"| {engine} | {samples[0].get('error')} | - |")
        else:
            out.append(f"| {engine} | {spread(ms)} | {spread(ratios)}x |")
    return out


def step_ratios(results, key_of, engines, base_engine):
    """Yield (engine, samples, ms per step of each round, base / ms of each round); ms and the ratios are
    None when a sample of the engine failed (samples[0]["error"] says why)."""
    base = [mean_step_ms(r) if "total_ms" in r else None for r in results[key_of(base_engine)]]
    for engine in engines:
        samples = results[key_of(engine)]
        if any("error" in r for r in samples):
            yield engine, samples, None, None
            continue
        ms = [mean_step_ms(r) for r in samples]
        yield engine, samples, ms, [b / m for b, m in zip(base, ms) if b is not None]


def spread(numbers):
    """'median (min-max)' of a list of numbers, in a compact format."""
    if not numbers:
        return "-"
    return f"{_fmt(statistics.median(numbers))} ({_fmt(min(numbers))}-{_fmt(max(numbers))})"


def _fmt(number):
    if number >= 100:
        return f"{number:.0f}"
    if number >= 10:
        return f"{number:.1f}"
    if number >= 1:
        return f"{number:.2f}"
    return f"{number:.3g}"


def run_rounds(jobs, rounds):
    """Run every (key, workload, engine, number, steps) job once per round, interleaved; return {key: [results]}."""
    results = {job[0]: [] for job in jobs}
    for round_number in range(rounds):
        start = time.perf_counter()
        # Rotate the order each round so that no engine always runs first.
        shift = round_number % len(jobs)
        for key, workload, engine, number, steps in jobs[shift:] + jobs[:shift]:
            results[key].append(sample(workload, engine, number, steps))
        print(f"  round {round_number + 1}/{rounds} took {time.perf_counter() - start:.0f} s", flush=True)
    return results


def mean_step_ms(result):
    """A W1 sample's ms per step: the loop's total time over its steps (what a training loop costs)."""
    return result["total_ms"] / result["steps"]


def median_step_ms(result):
    """A W1 sample's median single step (ms): blind to the few steps that carry a full GC pass."""
    return statistics.median(result["ms_per_step"])


def w1_table(results, engines, batch):
    """Markdown rows: ms per step (total / steps; median single step beside it) and ratio to micrograd per round."""
    rows = ["| engine | ms per step = total / steps, median over rounds (min-max) | median single step, ms "
            "| vs micrograd (same rounds, total / steps) |", "|---|---|---|---|"]
    for engine, samples, ms, ratios in step_ratios(results, lambda engine: ("w1", engine, batch), engines, "micrograd"):
        if ms is None:
            rows.append(f"| {engine} | {samples[0].get('error')} | - | - |")
        else:
            rows.append(f"| {engine} | {spread(ms)} | {spread([median_step_ms(r) for r in samples])} "
                        f"| {spread(ratios)}x |")
    return rows


def ratio_rows(results, key_of, engines, field, base_engine="micrograd", higher_is_better=False):
    """Markdown rows of `field` per engine with its per-round ratio to `base_engine`."""
    rows = []
    base = [r.get(field) for r in results[key_of(base_engine)]]
    for engine in engines:
        samples = results[key_of(engine)]
        if any("error" in r for r in samples):
            rows.append(f"| {engine} | {samples[0]['error']} | - |")
            continue
        values = [r[field] for r in samples]
        ratios = [(v / b if higher_is_better else b / v) for b, v in zip(base, values) if b]
        rows.append(f"| {engine} | {spread(values)} | {spread(ratios)}x |")
    return rows


def nodes_per_sample():
    """Op nodes one W1 sample adds to the graph (counted with micrograd_it, outside any timing)."""
    sys.path.insert(0, HERE)
    import w1

    counts = []
    for batch in (1, 2):
        net_loss = w1._our_net(batch)[1]()
        counts.append(sum(1 for node in net_loss.nodes() if not node.is_leaf))
    return counts[1] - counts[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, chains up to 100k, seed layer once")
    parser.add_argument("--rounds", type=int, help="rounds of interleaved samples (default 5, quick 3)")
    parser.add_argument("--json", help="also write every raw result to this JSON file")
    parser.add_argument("--only", choices=["gpt"], help="run one workload only (its table is printed, not written)")
    parser.add_argument("--docs", nargs="?", const=DOCS, metavar="PATH",
                        help=f"also put the tables into PATH between its benchmark markers (default {DOCS})")
    args = parser.parse_args(argv)
    if args.only and args.docs:
        parser.error("--only prints one table; --docs writes the whole run")
    if args.only == "gpt":
        return main_gpt(args)
    if args.docs:  # fail now, not after minutes of timing
        replace_section(open(args.docs, encoding="utf-8").read(), "")
    rounds = args.rounds or (3 if args.quick else 5)
    started = time.time()
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(f"# micrograd_it benchmarks ({'quick' if args.quick else 'full'}, {rounds} rounds)", flush=True)
    print("Cross-check of W1 gradients (batch 64) against micrograd_it's object engine:", flush=True)
    verdicts = cross_check(W1_ENGINES, 64)
    w1_engines = [e for e in W1_ENGINES if verdicts[e] == "ok"]
    batches = (8, 64, 128)
    jobs = [(("w1", e, 64), "w1", e, 64, STEPS.get(e, 5)) for e in w1_engines]
    scaling = ["micrograd_it"] + ([] if args.quick else ["micrograd"])
    jobs += [(("w1", e, b), "w1", e, b, 3 if e == "micrograd" else 5) for e in scaling for b in (8, 128)]
    chain_sizes = [1_000, 10_000, 100_000] + ([] if args.quick else [1_000_000])
    jobs += [(("chain", e, n), "chain", e, n, 1) for e in ("micrograd", "micrograd_it") for n in chain_sizes
             if not (e == "micrograd" and n > 10_000)]  # micrograd already fails at 1k
    jobs += [(("build", e, 0), "build", e, 0, 1) for e in BUILD_ENGINES]
    print("Cross-check of the GPT step's gradients against the reference Value:", flush=True)
    gpt_verdicts = gpt_cross_check()
    gpt_engines = [e for e in GPT_ENGINES if gpt_verdicts[e] == "ok"]
    if GPT_REFERENCE in gpt_engines:
        jobs += gpt_jobs(gpt_engines)
    print("Timing:", flush=True)
    results = run_rounds(jobs, rounds)
    memory_jobs = [(("memory", e, 0), "memory", e, 0, 1) for e in ("micrograd", "micrograd_it")]
    seed_jobs = [(("seed", e, 0), "seed", e, 0, 1) for e in SEED_ENGINES]
    results.update(run_rounds(memory_jobs, 1))
    results.update(run_rounds(seed_jobs, 1 if args.quick else 3))
    results[("study", "micrograd_it", 0)] = time_study(1 if args.quick else 3)
    loads = (load_before, os.getloadavg()[0] if hasattr(os, "getloadavg") else None)
    text = report(results, w1_engines, verdicts, chain_sizes, scaling, batches, rounds, started, args.quick, loads,
                  gpt_engines)
    print(text)
    if args.docs:
        from micrograd_it.files import atomic_write

        with open(args.docs, encoding="utf-8") as page:
            atomic_write(args.docs, replace_section(page.read(), text.strip()))
        print(f"wrote the tables into {args.docs}")
    if args.json:
        from micrograd_it.files import atomic_write

        atomic_write(args.json, json.dumps({" | ".join(map(str, k)): v for k, v in results.items()}, indent=1))


def main_gpt(args):
    """`--only gpt`: the GPT workload's cross-check and rounds; print its table with the date and load."""
    rounds = args.rounds or (3 if args.quick else 5)
    started = time.time()
    load_before = os.getloadavg()[0]
    print(f"# micrograd_it benchmarks: GPT only, {rounds} rounds", flush=True)
    verdicts = gpt_cross_check()
    engines = [e for e in GPT_ENGINES if verdicts[e] == "ok"]
    if GPT_REFERENCE not in engines:
        raise SystemExit(f"the reference Value failed: {verdicts[GPT_REFERENCE]}")
    results = run_rounds(gpt_jobs(engines), rounds)
    out = [f"\n## GPT workload ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
           f"`python benchmarks/run.py --only gpt`, {rounds} rounds)", "",
           f"Machine: {machine()}; load average {load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
           f"micrograd_it {engine_build()}."]
    out += gpt_section(results, engines)
    out.append(f"\nTotal wall time {time.time() - started:.0f} s.")
    print("\n".join(out))
    if args.json:
        from micrograd_it.files import atomic_write

        atomic_write(args.json, json.dumps({" | ".join(map(str, k)): v for k, v in results.items()}, indent=1))


def engine_build():
    """How micrograd_it is installed here: "compiled" or "not compiled: REASON" (asked in a fresh process)."""
    done = subprocess.run([sys.executable, "-c", "import micrograd_it as m; print(m.COMPILED, m.COMPILED_REASON)"],
                          capture_output=True, text=True, cwd=HERE, env={k: v for k, v in os.environ.items()
                                                                        if k != "MICROGRAD_IT_PURE"})
    compiled, _, reason = done.stdout.strip().partition(" ")
    return "compiled" if compiled == "True" else f"not compiled: {reason or done.stderr.strip()[-200:]}"


def machine():
    """One line about this machine: processor model, cores, Python build."""
    import platform

    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    return (f"{model}, {os.cpu_count()} cores, {platform.system()}, "
            f"{platform.python_implementation()} {platform.python_version()}")


def report(results, w1_engines, verdicts, chain_sizes, scaling, batches, rounds, started, quick, loads=(None, None),
           gpt_engines=()):
    """Return the markdown report (a str): every table, the date and the machine it ran on."""
    load = "" if None in loads else f"; load average {loads[0]:.1f} at the start, {loads[1]:.1f} at the end"
    out = [f"\n## Results ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
           f"`python benchmarks/run.py{' --quick' if quick else ''}`, {rounds} rounds)",
           "", f"Machine: {machine()}{load}."]
    skipped = {e: v for e, v in verdicts.items() if v != "ok"}
    if skipped:
        out.append("Not timed: " + ", ".join(f"{e} ({v})" for e, v in skipped.items()))
    out += ["", "### W1: MLP [2, 16, 16, 1] tanh, batch 64, forward + backward + SGD"]
    out += w1_table(results, w1_engines, 64)
    if "micrograd_it traced" in w1_engines:
        traced = [mean_step_ms(t) / mean_step_ms(u) for t, u in
                  zip(results[("w1", "micrograd_it traced", 64)], results[("w1", "micrograd_it", 64)])]
        out += ["", f"Tracing overhead (traced step / untraced step, same rounds): {spread(traced)}x"]
    if "micrograd_it gc paused" in w1_engines:
        gain = [mean_step_ms(u) / mean_step_ms(p) for u, p in
                zip(results[("w1", "micrograd_it", 64)], results[("w1", "micrograd_it gc paused", 64)])]
        out += ["", f"Pausing the cyclic GC (`micrograd_it.gc_paused()`; collector on / paused, same rounds): "
                f"{spread(gain)}x"]
    if "floats by hand" in w1_engines:
        floor = [mean_step_ms(c) / mean_step_ms(f) for c, f in
                 zip(results[("w1", "micrograd_it", 64)], results[("w1", "floats by hand", 64)])]
        out += ["", f"micrograd_it against the pure-Python floor (its step / the step written by hand on floats, "
                f"same rounds; issue 23's target: at most 2x): {spread(floor)}x"]
    if SOURCE in w1_engines:
        gain = [mean_step_ms(p) / mean_step_ms(c) for c, p in
                zip(results[("w1", "micrograd_it", 64)], results[("w1", SOURCE, 64)])]
        out += ["", f"micrograd_it as installed ({engine_build()}) against its Python source "
                f"(`MICROGRAD_IT_PURE=1`), same rounds: {spread(gain)}x"]
    out += ["", "Time per step is each sample's total loop time over its steps (the mean, what training costs); "
            "the median single step beside it leaves out the steps that carry a full GC pass."]
    out += scaling_section(results, scaling, batches) + chain_section(results, chain_sizes)
    out += build_section(results) + seed_section(results)
    if GPT_REFERENCE in gpt_engines:
        out += gpt_section(results, gpt_engines)
    out += study_section(results)
    out.append(f"\nTotal wall time {time.time() - started:.0f} s.")
    return "\n".join(out)


DOCS = os.path.join(HERE, os.pardir, "docs", "performance.md")
BEGIN = "<!-- benchmarks: begin (written by python benchmarks/run.py --docs) -->"
END = "<!-- benchmarks: end -->"


def replace_section(page, tables):
    """Return `page` with the text between its BEGIN and END markers replaced by `tables`.

    Raises ValueError when the page lacks the markers (or has them out of order).
    """
    begin, end = page.find(BEGIN), page.find(END)
    if begin < 0 or end < begin or page.count(BEGIN) != 1 or page.count(END) != 1:
        raise ValueError(f"the page needs one {BEGIN!r} line followed by one {END!r} line")
    return page[:begin + len(BEGIN)] + "\n" + tables + "\n" + page[end:]


def scaling_section(results, scaling, batches):
    """Rows of microseconds per op node for each engine and batch size."""
    per_sample = nodes_per_sample()
    out = ["", f"### Cost per node as the batch grows ({per_sample} op nodes per sample)",
           "| engine | batch | us per node (total / steps), median (min-max) |", "|---|---|---|"]
    for engine in scaling:
        for batch in batches:
            samples = [r for r in results.get(("w1", engine, batch), []) if "total_ms" in r]
            micros = [mean_step_ms(r) * 1e3 / (batch * per_sample) for r in samples]
            out.append(f"| {engine} | {batch} | {spread(micros)} |")
    return out


def chain_section(results, chain_sizes):
    """Rows of build and backward times of the deep chains (or the error an engine raised)."""
    out = ["", "### Deep chain x -> tanh(x * w + c): build and backward",
           "| engine | op nodes | build ms | backward ms | backward / build |", "|---|---|---|---|---|"]
    for engine in ("micrograd", "micrograd_it"):
        for n in chain_sizes:
            samples = results.get(("chain", engine, n))
            if samples is None:
                out.append(f"| {engine} | {n:,} | not run (fails at 1,000 already) | | |")
            elif any("error" in r for r in samples):
                out.append(f"| {engine} | {n:,} | {samples[0]['error']} | | |")
            else:
                out.append(f"| {engine} | {n:,} | " + " | ".join(
                    spread([r[f] for r in samples]) for f in ("build_ms", "backward_ms", "backward/build")) + " |")
    return out


def build_section(results):
    """Rows of the node-build rate (with its ratio to micrograd) and the bytes per node."""
    out = ["", "### Building sum(w_i * x_i) over 100,000 products",
           "| engine | op nodes per second | vs micrograd |", "|---|---|---|"]
    out += ratio_rows(results, lambda e: ("build", e, 0), BUILD_ENGINES, "nodes_per_s", higher_is_better=True)
    for engine in ("micrograd", "micrograd_it"):
        memory = results[("memory", engine, 0)][0]
        shown = f"{memory['bytes_per_node']:.0f}" if "bytes_per_node" in memory else memory.get("error")
        out.append(f"\nBytes per op node (tracemalloc), {engine}: {shown}")
    return out


def seed_section(results):
    """Rows of the seed layer's forward + backward, after checking every engine's gradients."""
    out = ["", "### The seed's layer: 32 samples x 200 tanh neurons, 30 inputs from an embedding; "
           "one forward + backward", "| engine | ms | vs micrograd |", "|---|---|---|"]
    reference = results[("seed", "micrograd_it", 0)][0]
    for engine in SEED_ENGINES:
        first = results[("seed", engine, 0)][0]
        if "error" not in first and not gradients_agree(first, reference):
            results[("seed", engine, 0)] = [{"error": "WRONG GRADIENTS"}]
    out += ratio_rows(results, lambda e: ("seed", e, 0), SEED_ENGINES, "ms")
    records = [r["record_ms"] for e in SEED_ENGINES if e.startswith("tape")
               for r in results[("seed", e, 0)] if "record_ms" in r]
    if records:
        out.append(f"\n(The tapes' one-time recording, not included above: {spread(records)} ms.)")
    return out


def time_study(runs):
    """Run `micrograd-it study` (defaults) `runs` times in fresh processes; return their results (benchmarks/study.py)."""
    import shutil
    import tempfile

    import study

    scratch = tempfile.mkdtemp(prefix="study-bench-")
    try:
        return [study.run_once(os.path.dirname(HERE), os.path.join(scratch, str(number))) for number in range(runs)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def study_section(results):
    """The line of the study's wall time (and CPU time: the study keeps both cores busy)."""
    runs = results[("study", "micrograd_it", 0)]
    return ["", "### The study",
            f"`micrograd-it study` (defaults), {len(runs)} fresh run(s), engine {engine_build()}: "
            f"{spread([run['wall'] for run in runs])} s wall, {spread([run['cpu'] for run in runs])} s CPU "
            f"(benchmarks/study.py for more)"]


if __name__ == "__main__":
    main()
