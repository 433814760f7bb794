"""The study's report.html: one self-contained page walking through the seed's argument with this run's figures and numbers.

The prose lives in the Jinja2 template `templates/report.html.j2` (autoescape
on); this module only gathers the run's measured numbers and figures into the
template's context, so every number on the page comes from the StudyResult.
Every figure is embedded (SVG inline, PNG as a data URI): no network, no files
beside the page.
"""

import os
from importlib import resources

import jinja2
from markupsafe import Markup

from ._html import figure
from ._output import save_text
from ._lecture_report import lecture_context
from ._deep_study import report_context as deep_report_context

__all__ = ["build_report", "write_report"]

_KIND_NAMES = {"loss": "training loss", "update_ratio": "update:data ratio per step",
               "grad_hist": "gradients of the hidden layer (left: d loss/d act; right: d loss/d preact)",
               "hist_act": "activations", "hist_preact": "pre-activations", "saturation_map": "saturation map",
               "network": "the network coloured by gradient health",
               "network_full": "the network at the seed's size"}


def write_report(result):
    """Write report.html into result.out_dir atomically; return its path."""
    path = os.path.join(result.out_dir, "report.html")
    save_text(path, build_report(result))
    return path


def _environment():
    templates = resources.files(__package__) / "templates"
    return jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: (templates / name).read_text("utf-8")),
                              autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


class _Figures:
    """The template's `fig()`: embeds a figure once and remembers which were shown, for the catch-all section."""

    def __init__(self, result):
        self.result = result
        self.shown = set()

    def __call__(self, figures, kind, caption):
        path = figures.get(kind)
        if not path or not os.path.exists(path):
            return ""
        self.shown.add(os.path.abspath(path))
        return Markup(figure(path, caption, self.result.out_dir, natural_size=kind.startswith("network")))

    def remaining(self):
        """Return (run, kind) of every figure of the runs that no section has shown yet."""
        return [(run, kind) for run in self.result.runs for kind, path in run.figures.items()
                if os.path.abspath(path) not in self.shown]


def _fix_rows(bad, fixed):
    """The bad-against-fixed table: each measured number of the two one-pass runs, formatted."""
    rows = []
    for label, key, fmt in [("pre-activation std", "preact_std", "{:.2f}"),
                            ("pre-activation range", "range", None),
                            ("saturated activations", "saturated_pct", "{:.1f}%"),
                            ("dead neurons", "dead", None),
                            ("mean 1 - t**2 (gradient let through)", "pass_through", "{:.3f}"),
                            ("loss at init", "loss", "{:.3f}")]:
        row = [label]
        for numbers in (bad.one_pass, fixed.one_pass):
            if key == "range":
                row.append(f"[{numbers['preact_min']:.1f}, {numbers['preact_max']:.1f}]")
            elif key == "dead":
                row.append(f"{len(numbers['dead'])} / {numbers['n_neurons']}")
            else:
                row.append(fmt.format(numbers[key]))
        rows.append(row)
    rows.append([f"loss after {len(fixed.losses)} training steps (training size)",
                 f"{bad.final['loss']:.3f}", f"{fixed.final['loss']:.3f}"])
    return rows


def _spread(spread, fmt="{:g}", scale=1):
    """'median (min-max)' of a spread of StudyResult.numbers (times `scale`), or '-' when it is None."""
    if spread is None:
        return "-"
    median, low, high = (scale * spread[key] for key in ("median", "min", "max"))
    return f"{fmt.format(median)} ({fmt.format(low)}-{fmt.format(high)})"


def _seed_rows(seed_runs, seeds):
    """The too-high learning rate's table: one row per seed, then the median (min-max) of each column."""
    if not seed_runs:
        return []
    analyses, spreads = seeds["analyses"], seeds["spreads"]
    rows = [[run.seed, len(a["dead_now"]), a["peak"], len(a["first_dead"]), len(a["stayed_dead"]), len(a["revived"]),
             f"{run.final['loss']:.2f}"] for run, a in zip(seed_runs, analyses)]
    summary = ["median (min-max)"] + [_spread(spreads[key])
                                      for key in ("dead_now", "peak", "first_dead", "stayed_dead", "revived")]
    summary.append(_spread(spreads["final_loss"], "{:.2f}"))
    return rows + [summary]


def _percent(spread):
    """A spread of fractions as '0.013% (0.0049%-0.042%)', or None when it is None."""
    return None if spread is None else _spread(spread, "{:.2g}%", scale=100)


def _after_death_text(seeds):
    """The formatted numbers of 'does a dead neuron never learn?', over all seeds."""
    spreads, times_less = seeds["spreads"], seeds["times_less"]
    return {"times_less": None if times_less is None else float(f"{times_less:.2g}"),  # two significant digits
            "dead_update_text": _percent(spreads["dead_step_update"]) or "-",
            "live_update_text": _percent(spreads["live_step_update"]) or "-",
            "stayed_text": _spread(spreads["stayed_dead"]), "stayed_longest": seeds["stayed_longest"],
            "stayed_change_text": _percent(spreads["stayed_dead_change"]),
            "alive_same_span_text": _percent(spreads["alive_same_span"]),
            "dead_now_text": _spread(spreads["dead_now"])}


def _context(result):
    runs = {run.key: run for run in result.runs}
    bad, fixed, high = runs["bad_init"], runs["fixed_init"], runs["high_lr"]
    numbers = result.numbers
    seeds = numbers["seeds"]  # over the seed runs; seed_runs[0] is the too-high learning rate above
    figures = _Figures(result)
    file_rows = [[run.title, kind, os.path.relpath(path, result.out_dir)]
                 for run in result.runs for kind, path in run.figures.items()]
    file_rows += [["all", kind, os.path.relpath(path, result.out_dir)] for kind, path in result.figures.items()]
    if result.torch is not None:
        file_rows += [[f"PyTorch: {title}", kind, os.path.relpath(path, result.out_dir)]
                      for title, figures_ in _torch_figure_sets(result.torch) for kind, path in figures_.items()]
    if getattr(result, "deep", None) is not None:
        file_rows += [["deep net", kind, os.path.relpath(path, result.out_dir)]
                      for kind, path in result.deep["figures"].items()]
    return {
        "style": (resources.files(__package__) / "templates" / "report.css").read_text("utf-8"),
        "opt": result.options, "seconds": result.seconds, "runs": result.runs, "figures": result.figures,
        "bad": bad, "fixed": fixed, "high": high,
        "tanh_rows": [(f"{x:g}", f"{t:.6f}", f"{grad:.2e}") for x, t, grad in result.tanh_table],
        "tanh_flat_from": numbers["tanh_flat_from"], "dead_grad_below": numbers["dead_grad_below"],
        "training_runs": numbers["training_runs"],
        "fix_rows": _fix_rows(bad, fixed),
        "first_dead_step": numbers["first_dead_step"],
        "ratio": {"fixed": numbers["update_ratio"].get("fixed_init"), "high": numbers["update_ratio"].get("high_lr")},
        "ratio_percent": {"fixed": numbers["update_percent"].get("fixed_init"),
                          "high": numbers["update_percent"].get("high_lr")},
        "fig": figures, "remaining_figures": figures.remaining, "kind_names": _KIND_NAMES,
        "file_rows": file_rows,
        "pages": {kind: os.path.relpath(path, result.out_dir) for kind, path in high.pages.items()},
        "replay_page": _read(high.pages.get("replay")),
        "lecture": lecture_context(result.torch), "data": result.data,
        "processes": result.processes, "seed_runs": result.seed_runs, "seeds": seeds["analyses"] if seeds else [],
        "seed_rows": _seed_rows(result.seed_runs, seeds),
        "after": _after_death_text(seeds) if seeds else None,
        "deep": deep_report_context(result.deep),
    }


def _read(path):
    """The text of an interactive page to embed (an iframe's srcdoc), or None when it was not written."""
    if not path or not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as page:
        return page.read()


def _torch_figure_sets(torch_result):
    """(title, {kind: path}) of the PyTorch section: the shared figures, then each configuration's."""
    return [("all", torch_result["figures"])] + [(stage["name"], stage["figures"]) for stage in torch_result["stages"]]


def build_report(result):
    """Return the report of a StudyResult as one self-contained HTML page (a str)."""
    return _environment().get_template("report.html.j2").render(_context(result))
