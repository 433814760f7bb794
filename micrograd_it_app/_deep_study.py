"""`micrograd-it study --deep`: the lecture's second half, the deep tanh net at gains 0.5, 1, 5/3, 3 and with
BatchNorm, on our engine at a small size and (with --torch) in PyTorch at the lecture's size.

It computes every number into one JSON-able dict (the study's ``result.deep``): per engine,
per configuration, the records of `micrograd_it.deep.diagnose` at init and after training,
the update ratios per step and the wall time; with both engines, their `agreement`; the
figures' paths. The report's section (templates/report_deep.html.j2) only formats it.
"""

import os
import time

from micrograd_it.data import lecture_split
from micrograd_it.deep_stats import activation_line
from micrograd_it.deep_sweep import CONFIGS, agreement, profile, run_config

from ._parallel import run_jobs
from ._progress import Progress

__all__ = ["run_deep_section", "LECTURE_LINE"]

# The lecture's printed line for the first tanh at gain 5/3 without BatchNorm (published, not ours)
LECTURE_LINE = activation_line(1, "Tanh", -0.02, 0.75, 20.25)


def _engine_job(folder, config, X, Y, options):
    started = time.perf_counter()
    with Progress(options.deep_steps, f"deep, engine, {config[1]:<20}", enabled=options.progress) as bar:
        run = run_config(config, X, Y, hidden=options.deep_hidden, batch=options.deep_batch,
                         steps=options.deep_steps, lr=0.1, seed=options.seed,
                         on_step=lambda step: bar.update())
    run["seconds"] = time.perf_counter() - started
    return run


def _torch_runs(Xtr, Ytr, options):
    import torch

    from micrograd_it.torch_deep import run_torch_config
    from micrograd_it.torch_makemore import one_thread  # measured 2.9 ms a step on one thread, 22 ms on two (busy)

    X, Y = torch.tensor(Xtr), torch.tensor(Ytr)
    runs = []
    with one_thread():
        for config in CONFIGS:
            started = time.perf_counter()
            with Progress(options.deep_steps, f"deep, PyTorch, {config[1]:<19}", enabled=options.progress) as bar:
                run = run_torch_config(config, X, Y, steps=options.deep_steps, on_step=lambda step: bar.update())
            run["seconds"] = time.perf_counter() - started
            runs.append(run)
    return runs


def _figures(folder, section):
    from viz.plots_deep import deep_agreement, deep_diagnostics
    from viz.save import save_figure

    figures = {}
    for engine, title in (("engine", "our engine"), ("torch", "PyTorch")):
        if section[engine] is None:
            continue
        for run in section[engine]["runs"]:
            size = run["size"]
            name = (f"{title}, {run['title']}: {size['depth']} tanh layers of {size['hidden']}, "
                    f"batch {size['batch']}, lr {size['lr']:g}")
            figure = deep_diagnostics(run, title=name)
            figures[f"{engine}_{run['key']}"] = save_figure(figure, os.path.join(folder, f"{engine}_{run['key']}.png"),
                                                            dpi=70)
    if section["agreement"] is not None:
        for when in ("init", "final"):
            figures[f"agreement_{when}"] = save_figure(deep_agreement(section["agreement"], when),
                                                       os.path.join(folder, f"agreement_{when}.png"))
    return figures


def run_deep_section(out_dir, options):
    """Run the deep-net sweep on the engine (in `options.processes` workers) and, with `options.torch`, in
    PyTorch; draw its figures into OUT/deep/; return the section's dict (see the module docstring)."""
    started = time.perf_counter()
    folder = os.path.join(out_dir, "deep")
    os.makedirs(folder, exist_ok=True)
    _, itos, (Xtr, Ytr), _, _ = lecture_split()
    jobs = [(_engine_job, (config, Xtr, Ytr, options)) for config in CONFIGS]
    bar = lambda: Progress(len(jobs) * options.deep_steps, "deep net, engine", enabled=options.progress)  # noqa: E731
    engine_started = time.perf_counter()
    engine_runs = run_jobs(jobs, folder, options.processes, progress=bar)
    engine_seconds = time.perf_counter() - engine_started
    section = {
        "data": {"contexts": len(Xtr), "vocab_size": len(itos), "split": "lecture_split() train"},
        "engine": {"size": engine_runs[0]["size"], "runs": engine_runs, "seconds": engine_seconds},
        "torch": None, "agreement": None, "lecture_line": LECTURE_LINE,
    }
    if options.torch:
        torch_started = time.perf_counter()
        torch_runs = _torch_runs(Xtr, Ytr, options)
        section["torch"] = {"size": torch_runs[0]["size"], "runs": torch_runs,
                            "seconds": time.perf_counter() - torch_started, "threads": 1}
        section["agreement"] = agreement(engine_runs, torch_runs)
    section["figures"] = _figures(folder, section)
    section["seconds"] = time.perf_counter() - started
    return section


def _layers_text(numbers, fmt):
    return " ".join(fmt.format(number) for number in numbers)


def _ratio_text(numbers):
    ratio = numbers["grad_depth_ratio"]
    return "-" if ratio is None else f"{ratio:.2f} {numbers['grad_trend']}"


def deep_rows(section):
    """One row of formatted numbers per configuration and moment: saturated % per layer and the gradient's
    depth ratio on each engine, and whether the two trends agree (the report's table and the printed one)."""
    rows = []
    torch_by_key = {run["key"]: run for run in section["torch"]["runs"]} if section["torch"] else {}
    for run in section["engine"]["runs"]:
        for when in ("init", "final"):
            mine = profile(run[when])
            row = [run["title"], "init" if when == "init" else f"after {len(run['losses'])} steps",
                   _layers_text(mine["saturated_pct"], "{:.0f}"), _ratio_text(mine)]
            other = torch_by_key.get(run["key"])
            if other is not None:
                theirs = profile(other[when])
                row += [_layers_text(theirs["saturated_pct"], "{:.0f}"),
                        _ratio_text(theirs),
                        "yes" if mine["grad_trend"] == theirs["grad_trend"] else "no"]
            rows.append(row)
    return rows


def grad_std_rows(section):
    """Per configuration and moment: the gradient std at each tanh layer's outputs on each engine (formatted)."""
    torch_by_key = {run["key"]: run for run in section["torch"]["runs"]} if section["torch"] else {}
    rows = []
    for run in section["engine"]["runs"]:
        for when in ("init", "final"):
            row = [run["title"], "init" if when == "init" else f"after {len(run['losses'])} steps",
                   _layers_text(profile(run[when])["grad_std"], "{:.1e}")]
            if run["key"] in torch_by_key:
                row.append(_layers_text(profile(torch_by_key[run["key"]][when])["grad_std"], "{:.1e}"))
            rows.append(row)
    return rows


def deep_header(section):
    """The header of `deep_rows`."""
    header = ["configuration", "when", "engine: saturated % per layer", "engine: grad std last/first"]
    if section["torch"]:
        header += ["PyTorch: saturated % per layer", "PyTorch: grad std last/first", "same trend"]
    return header


def deep_table(section):
    """The printed lines of the deep-net section: sizes, its table, the orders' agreement, its time."""
    size = section["engine"]["size"]
    lines = [f"deep net ({size['depth']} tanh layers): engine {size['hidden']} wide, batch {size['batch']}, "
             f"{size['steps']} steps per configuration ({section['engine']['seconds']:.1f} s)"]
    if section["torch"]:
        lines[0] += f"; PyTorch 100 wide, batch 32 ({section['torch']['seconds']:.1f} s)"
    rows = [deep_header(section)] + deep_rows(section)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    lines += ["  ".join(f"{cell:<{width}}" for cell, width in zip(row, widths)).rstrip() for row in rows]
    if section["agreement"]:
        agree = section["agreement"]
        lines.append(f"same gradient trend with depth on both engines: {agree['trend_agree']} of {agree['rows_n']}")
    return lines


def report_context(section):
    """The deep-net section's numbers for the report template, or None when the study ran without --deep."""
    if section is None:
        return None
    by_key = {}
    if section["torch"]:
        by_key = {run["key"]: run for run in section["torch"]["runs"]}
    reference = by_key.get("gain_5_3")
    grad_header = ["configuration", "when", "engine: gradient std per layer"] + (
        ["PyTorch: gradient std per layer"] if section["torch"] else [])
    return {"section": section, "header": deep_header(section), "rows": deep_rows(section),
            "grad_header": grad_header, "grad_rows": grad_std_rows(section),
            "engine_size": section["engine"]["size"], "torch_size": section["torch"]["size"] if section["torch"] else None,
            "reference_lines": ([reference["init"]["activations"][0]["line"], reference["final"]["activations"][0]["line"]]
                                if reference else None),
            "torch_lines": {run["title"]: [r["line"] for r in run["final"]["activations"]]
                            for run in section["torch"]["runs"]} if section["torch"] else None,
            "engine_lines": {run["title"]: [r["line"] for r in run["final"]["activations"]]
                             for run in section["engine"]["runs"]}}
