"""The study's `results.json`: every number its report shows, with its name, as plain JSON written from the StudyResult.

A user can diff two runs' results.json; our own checks read it (tests/app/test_results_json.py holds the report
to it: each number of the report's tables is found here). Large per-step records (the replay, the weights
over steps, the lecture's 200,000 losses and its recorded arrays) stay out; figures are named by their path
relative to the output folder. A number that is not finite is written as the string "nan", "inf" or "-inf"
(JSON has no such numbers).
"""

import dataclasses
import json
import math
import os

from ._output import save_text

__all__ = ["RESULTS_NAME", "study_results", "write_results"]

RESULTS_NAME = "results.json"
_RUN_SKIPPED = {"replay", "hidden_weights_over_steps", "ratio_history", "dead_neurons_over_steps"}
_STAGE_SKIPPED = {"arrays", "losses"}


def _plain(value):
    """`value` as JSON's types: dicts with str keys, lists, str, int, float (non-finite as a string), bool, None."""
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if hasattr(value, "item") and callable(value.item):  # a numpy or torch scalar
        return _plain(value.item())
    raise TypeError(f"results.json cannot hold {value!r} ({type(value).__name__})")


def _relative(paths, out_dir):
    return {kind: os.path.relpath(path, out_dir) for kind, path in paths.items()}


def _counted(numbers):
    """A measured-numbers dict with, beside each list of dead neurons, its count (the report shows counts)."""
    numbers = dict(numbers)
    for key in [key for key, value in numbers.items() if key.startswith("dead") and isinstance(value, list)]:
        numbers[f"{key}_count"] = len(numbers[key])
    return numbers


def _run(run, out_dir):
    fields = {field.name: getattr(run, field.name) for field in dataclasses.fields(run)
              if field.name not in _RUN_SKIPPED}
    for key in ("one_pass", "initial", "final"):
        fields[key] = _counted(fields[key])
    fields["figures"] = _relative(run.figures, out_dir)
    fields["pages"] = _relative(run.pages, out_dir)
    fields["loss_start"] = run.losses[0] if run.losses else None
    return fields


def _lecture(section, out_dir):
    stages = []
    for stage in section["stages"]:
        entry = {key: value for key, value in stage.items() if key not in _STAGE_SKIPPED}
        entry["init"], entry["trained"] = _counted(stage["init"]), _counted(stage["trained"])
        entry["figures"] = _relative(stage["figures"], out_dir)
        stages.append(entry)
    return {**{key: value for key, value in section.items() if key not in ("stages", "figures")},
            "figures": _relative(section["figures"], out_dir), "stages": stages}


def _numbers(numbers):
    """StudyResult.numbers (computed over the runs by _study_numbers), each seed's lists also by their count
    (the report's seed table shows counts)."""
    numbers = dict(numbers)
    if numbers.get("seeds"):
        seeds = dict(numbers["seeds"])
        seeds["analyses"] = [_counted({**analysis, **{f"{key}_count": len(analysis[key]) for key in
                                                      ("first_dead", "stayed_dead", "revived", "dead_now_alive_last_step")}})
                             for analysis in seeds["analyses"]]
        numbers["seeds"] = seeds
    return numbers


def study_results(result):
    """Return the plain-JSON dict of a StudyResult: "data", "options", "configurations", "seed_runs",
    "numbers" (its numbers over the runs: the seeds' analyses and spreads, ...), "tanh_table",
    "lecture" (None without --torch; else its "stages", one per init), "seconds", "processes" and "figures"."""
    out_dir = result.out_dir
    return _plain({
        "data": result.data,
        "options": dataclasses.asdict(result.options),
        "seconds": result.seconds,
        "processes": result.processes,
        "configurations": [_run(run, out_dir) for run in result.runs],
        "seed_runs": [{"seed": run.seed, "loss_end": run.final.get("loss"), "final": _counted(run.final),
                       "dead_over_steps": run.dead_over_steps} for run in result.seed_runs],
        "numbers": _numbers(result.numbers),
        "tanh_table": [{"x": x, "tanh": t, "local_derivative": grad} for x, t, grad in result.tanh_table],
        "figures": _relative(result.figures, out_dir),
        "lecture": None if result.torch is None else _lecture(result.torch, out_dir),
    })


def write_results(result):
    """Write results.json into result.out_dir atomically; return its path. Raises UserError when it cannot be written."""
    path = os.path.join(result.out_dir, RESULTS_NAME)
    save_text(path, json.dumps(study_results(result), indent=1, allow_nan=False) + "\n")
    return path
