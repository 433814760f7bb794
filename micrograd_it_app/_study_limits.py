"""How large a study may be: its sizes checked against this machine's memory and a day of computing, before
anything is allocated.

A study keeps, for every training step of every run, the hidden layer's
weights and a replay frame; it builds one step's graph at a time; and every
study makes the one pass at the seed's size (32 samples x 200 neurons). So
`--steps 1000000000` or `--hidden 100000000` would need terabytes: they are
refused at once, with a line that says how far each size may go.

The costs per unit, measured on the team's machine (Python 3.11, 2 cores,
24 GB, the engine compiled; every training step a graph of Values),
one run in its own process, peak memory from getrusage, CPU time from
process_time; each figure is the slope between two sizes, so the fixed
costs (imports, the data set) cancel:

- training: 2e-5 CPU seconds per step and per (sample x hidden neuron),
  plus 40 ms per step (re-measured on 2026-12-06 after the study moved to
  names.txt and checks every step's numbers before drawing them: 20 steps at
  16 x 16, 64 x 64, 128 x 64 and 128 x 128 took 0.80, 1.93, 3.46 and 6.52 s
  of CPU, timed after the data set is built: 1.87e-5 s per unit-step and
  20 to 35 ms per step, rounded up);
- the passes that build a graph (the evaluation batch, the seed-size pass,
  the explorer pages) and the figures, at the peak: 24 kB per
  (sample x hidden neuron): one run drawn at 32 x 128 and 32 x 512 peaked at
  161 and 385 MB (18 kB per unit between them);
- what a run keeps per step until the report is written: 1.5 kB per hidden
  neuron (30 weights as floats in lists, the replay frame's numbers) and
  6 bytes per (sample x neuron) (the replay's saturation strings): 600
  against 30 steps at 32 x 32 added 28 MB; at 4 x 32, 3 MB less;
- the training batches, drawn up front: 36 bytes per index (steps x batch
  per seed);
- the lecture's table (--torch): four stages, each --torch-steps steps of
  0.5 to 0.6 ms of CPU on one thread (200,000 steps: 105 to 117 s of wall time
  per stage, 479 s of CPU for the whole study), and what each step keeps (its
  loss: 4 x 32 bytes per step); the evaluations of h over all 182,625
  training contexts brought the process to 1.07 GB at its peak.
- the deep-net section (--deep): per --deep-steps, five configurations on the engine at 16 x 16,
  measured 0.046 s a step on a shared machine (rounded up to 0.05), and with --torch five in
  PyTorch at 3 ms; about 1 kB kept per step and configuration (losses, update ratios).

The budgets: half of this machine's physical memory (the rest is the
system's and the other programs'), counting every worker process at its
peak; and 24 hours of CPU time -- a teaching study longer than a day is a typo
in an exponent, not a plan. The estimates are deliberately on the high side
(tests/app/test_study_limits.py checks one against a measured run).
"""

import math
import os
from dataclasses import replace

from ._errors import UsageError

__all__ = ["SECONDS_PER_UNIT", "SECONDS_PER_STEP", "GRAPH_BYTES_PER_UNIT", "BASE_BYTES", "TIME_BUDGET", "memory_budget", "run_peak",
           "estimate", "check"]

SECONDS_PER_UNIT = 2e-5  # CPU seconds per training step per (sample x hidden neuron)
SECONDS_PER_STEP = 4e-2  # and per training step whatever the sizes (the numbers checked, the replay frame)
GRAPH_BYTES_PER_UNIT = 24_000  # a pass's graph, trace and figures at the peak, per (sample x hidden neuron)
KEPT_BYTES_PER_NEURON = 1_500  # kept per training step and hidden neuron (weights, replay frame)
KEPT_BYTES_PER_UNIT = 6  # kept per training step and (sample x hidden neuron): the replay's saturation strings
BATCH_BYTES_PER_INDEX = 36  # a drawn training batch, per sample index
BASE_BYTES = 200_000_000  # the interpreter with numpy, matplotlib and the data set loaded
TORCH_SECONDS_PER_STEP = 3.0e-3  # 4 stages x 0.6 ms, rounded up
TORCH_BYTES_PER_STEP = 200  # 4 stages x 32 bytes (a float in a list), rounded up
TORCH_BASE_BYTES = 1_000_000_000  # the full-split evaluations, the data as tensors, torch itself
DEEP_SECONDS_PER_STEP = 5 * 0.05  # the deep-net section's five engine configurations, per --deep-steps
DEEP_BYTES_PER_STEP = 5 * 1_000
TIME_BUDGET = 24 * 3600.0  # CPU seconds
SIZES = ("steps", "hidden", "batch", "seeds", "torch_steps", "deep_steps")  # the options whose limit can be stated


def memory_budget():
    """Return the bytes a study may use: half of this machine's physical memory (8 GB when it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (AttributeError, OSError, ValueError):
        return 8 * 10**9 // 2


def _cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def estimate(options, cores=None):
    """Return (bytes, CPU seconds) that the study of `options` (a StudyOptions) needs at most, by the costs above."""
    cores = _cores() if cores is None else cores
    runs = 3 + options.seeds - 1  # the three configurations, and the too-high learning rate from each other seed
    units = options.batch * options.hidden
    kept_per_run = _kept_per_run(options)
    worker_peak = run_peak(options)
    workers = max(1, min(cores, runs) if options.processes is None else min(options.processes, runs))
    memory = (BASE_BYTES + runs * kept_per_run + options.seeds * options.steps * options.batch * BATCH_BYTES_PER_INDEX
              + workers * worker_peak)
    seconds = runs * options.steps * (units * SECONDS_PER_UNIT + SECONDS_PER_STEP)
    if options.torch:
        memory += TORCH_BASE_BYTES + options.torch_steps * TORCH_BYTES_PER_STEP
        seconds += options.torch_steps * TORCH_SECONDS_PER_STEP
    if options.deep:
        memory += options.deep_steps * DEEP_BYTES_PER_STEP * (2 if options.torch else 1)
        seconds += options.deep_steps * (DEEP_SECONDS_PER_STEP + (5 * TORCH_SECONDS_PER_STEP if options.torch else 0))
    return memory, seconds


def _kept_per_run(options):
    return options.steps * options.hidden * (KEPT_BYTES_PER_NEURON + options.batch * KEPT_BYTES_PER_UNIT)


def run_peak(options):
    """Return the bytes one run of the study adds at its peak, beyond the interpreter (BASE_BYTES): the graphs
    alive at once (the one pass at the seed's size, kept for the figures; a training step's or an evaluation
    batch's; the last evaluation's, kept for the figures and pages) and what it keeps of every step."""
    units = options.full_samples * options.full_hidden + 2 * options.batch * options.hidden
    return units * GRAPH_BYTES_PER_UNIT + _kept_per_run(options)


def _fits(options, memory_limit, cores):
    memory, seconds = estimate(options, cores)
    return memory <= memory_limit and seconds <= TIME_BUDGET


def _largest(options, name, memory_limit, cores):
    """The largest value of size `name` (others as they are) that fits the budgets, up to its value; 0 if not even 1."""
    if _fits(options, memory_limit, cores):
        return getattr(options, name)
    low, high = 0, getattr(options, name)  # high does not fit; low fits or is 0
    while high - low > 1:
        middle = (low + high) // 2
        if _fits(replace(options, **{name: middle}), memory_limit, cores):
            low = middle
        else:
            high = middle
    return low


def check(options, dataset_size, given=SIZES, memory_limit=None, cores=None):
    """Raise UsageError (one line, naming the option and its limit) if the study of `options` cannot run here.

    `dataset_size`: the samples the data set holds (no batch may be larger);
    `given`: the sizes the user set (the ones a message may ask to lower).
    Returns None when the study fits.
    """
    if options.batch > dataset_size:
        raise UsageError(f"--batch {options.batch:,} is more than the data set holds: {dataset_size:,} samples "
                         f"(every context of {options.block_size} characters of the built-in word list)")
    memory_limit = memory_budget() if memory_limit is None else memory_limit
    cores = _cores() if cores is None else cores
    if _fits(options, memory_limit, cores):
        return
    memory, seconds = estimate(options, cores)
    largest = {name: _largest(options, name, memory_limit, cores) for name in given
               if (name != "torch_steps" or options.torch) and (name != "deep_steps" or options.deep)}
    ratios = {name: getattr(options, name) / largest[name] for name in largest if largest[name] >= 1}
    need = f"about {_bytes(memory)} of memory and {_duration(seconds)} of CPU time"
    budget = f"the limits here are {_bytes(memory_limit)} (half of this machine's memory) and {_duration(TIME_BUDGET)}"
    if not ratios:  # no one size alone can bring it down: say how far each may go with the others at their default
        defaults = type(options)()
        alone = {name: _largest(replace(options, **{other: getattr(defaults, other) for other in largest
                                                    if other != name}), name, memory_limit, cores)
                 for name in largest}
        sizes = " and ".join(f"--{name.replace('_', '-')} {getattr(options, name):,}" for name in largest)
        limits = ", ".join(f"--{name.replace('_', '-')} at most {value:,}" for name, value in alone.items())
        raise UsageError(f"{sizes or 'these sizes'} are too large together: the study would need {need}; {budget}; "
                         f"with the other sizes at their default: {limits}")
    name = max(ratios, key=ratios.get)
    flag = "--" + name.replace("_", "-")
    others = " ".join(f"--{other.replace('_', '-')} {getattr(options, other):,}" for other in ("hidden", "batch", "steps", "seeds")
                      if other != name)
    raise UsageError(f"{flag} {getattr(options, name):,} is too large: the study would need {need}; {budget}, "
                     f"so at {others} {flag} can be at most {largest[name]:,}")


def _bytes(count):
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if count >= size:
            return f"{count / size:,.1f} {unit}"
    return f"{count / 1e3:,.0f} kB"


def _duration(seconds):
    for unit, size in (("years", 365.25 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size or unit == "minutes" and seconds >= size:
            return f"{seconds / size:,.0f} {unit}" if seconds / size >= 10 else f"{seconds / size:,.1f} {unit}"
    return f"{math.ceil(seconds)} seconds"
