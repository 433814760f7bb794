"""How long `micrograd-it study` (defaults) takes: wall time, CPU time and memory of fresh runs.

    python benchmarks/study.py                      # 3 runs of this checkout
    python benchmarks/study.py --against ../main    # interleaved with another checkout (its own code)
    python benchmarks/study.py --rounds 5 --markdown

Each run is a fresh process (`python -c "...cli.main(['study', ...])"` with
the checkout first on sys.path) writing into a new temporary folder. CPU
time is user + sys of the whole process tree (the study's worker processes
and graphviz's `dot` included), from wait4(). Wall time
is only meaningful on an idle machine: the load average before and after is
printed beside it. With --against, the checkouts alternate run by run, and
every figure of the two is compared byte for byte (the report only without
its timing sentence).

The study trains on the engine's own graphs (issue 23 deleted its float twin,
micrograd_it/makemore_floats.py, once the engine was as fast: docs/performance.md).
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TIMING = re.compile(rb"[0-9]+\.[0-9] s")  # the report's "12.3 s in all": not the same from run to run


def run_once(checkout, out_dir):
    """Run the default study from `checkout` into `out_dir`; return {wall, cpu, user, sys, max_rss_mb}."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); from micrograd_it_app.cli import main; "
            "sys.exit(main(['study', '--out', sys.argv[2]]))")
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code, checkout, out_dir], cwd=checkout,
                                   stdout=subprocess.DEVNULL, stderr=errors, env=dict(os.environ, PYTHONPATH=checkout))
        # wait4: this process tree's own usage (its worker processes and dot included, once waited for)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"the study failed in {checkout}:\n{errors.read().decode(errors='replace').strip()}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime,
            "max_rss_mb": usage.ru_maxrss / 1024}  # its largest process (Linux counts KiB)


def same_outputs(first, second):
    """Return the names of the files that differ between two study folders (report.html less its timings,
    results.json less its "seconds")."""
    # the lock file holds the process that ran the study, not a result
    names = sorted((set(os.listdir(first)) | set(os.listdir(second))) - {".micrograd-it.lock"})
    differ = []
    for name in names:
        paths = [os.path.join(folder, name) for folder in (first, second)]
        if not all(os.path.exists(path) for path in paths):
            differ.append(name)
            continue
        contents = [open(path, "rb").read() for path in paths]
        if name == "report.html":
            contents = [TIMING.sub(b"", content) for content in contents]
        if name == "results.json":  # every number of the report, and the run's own wall time ("seconds")
            contents = [{key: value for key, value in json.loads(content).items() if key != "seconds"}
                        for content in contents]
        if contents[0] != contents[1]:
            differ.append(name)
    return differ


def spread(numbers, fmt="{:.1f}"):
    """'median (min-max)' of the numbers."""
    return f"{fmt.format(statistics.median(numbers))} ({fmt.format(min(numbers))}-{fmt.format(max(numbers))})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="runs per checkout (default 3)")
    parser.add_argument("--against", help="another checkout of micrograd_it to time the same way, interleaved")
    parser.add_argument("--markdown", action="store_true", help="print the result as a markdown table")
    args = parser.parse_args(argv)
    checkouts = {"this checkout": ROOT}
    if args.against:
        checkouts[f"--against {args.against}"] = os.path.abspath(args.against)
    results = {name: [] for name in checkouts}
    load_before = os.getloadavg()[0]
    scratch = tempfile.mkdtemp(prefix="study-bench-")
    try:
        for round_number in range(args.rounds):
            order = list(checkouts.items())
            if round_number % 2:
                order.reverse()  # neither checkout always runs first
            for name, checkout in order:
                out_dir = os.path.join(scratch, f"{len(results[name])}-{abs(hash(name))}")
                results[name].append(run_once(checkout, out_dir))
                results[name][-1]["out"] = out_dir
                print(f"  {name}: {results[name][-1]['wall']:.1f} s wall, {results[name][-1]['cpu']:.1f} s CPU",
                      file=sys.stderr, flush=True)
        differ = None
        if len(results) > 1:
            folders = [runs[0]["out"] for runs in results.values()]
            differ = sorted({name for other in folders[1:] for name in same_outputs(folders[0], other)})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    lines = [f"`micrograd-it study` (defaults), {args.rounds} fresh runs each, {os.cpu_count()} cores, {load}, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}", "",
             "| checkout | wall s | CPU s (user + sys) | user s | sys s | max RSS MB |", "|---|---|---|---|---|---|"]
    for name, runs in results.items():
        lines.append(f"| {name} | " + " | ".join(spread([run[key] for run in runs])
                                               for key in ("wall", "cpu", "user", "sys", "max_rss_mb")) + " |")
    if differ is not None:
        lines += ["", "outputs: " + ("every file identical" if not differ else "DIFFER: " + ", ".join(differ))]
    text = "\n".join(lines)
    print(text if args.markdown else re.sub(r"[|]", " ", text))
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
