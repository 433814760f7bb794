"""The study's numbers over its runs: the seeds' analyses and spreads, computed once into StudyResult.numbers.

The report (report.py and its templates) only formats what this module
computed; a reader of a StudyResult finds every number the report shows in
its runs, its options or `result.numbers`. Everything here is plain data
(dicts, lists, numbers, None), ready to be written out as it is.
"""

import statistics

from ._after_death import after_death, seed_summary

__all__ = ["study_numbers", "SPREAD_KEYS", "HIDDEN_WEIGHTS"]

HIDDEN_WEIGHTS = "mlp.layers.0.w"  # SGD's group name of the hidden layer's weights in the study's model

# the after_death() numbers summarised over the seeds (a list counts its length)
SPREAD_KEYS = ("dead_now", "peak", "first_dead", "stayed_dead", "revived",
               "dead_step_update", "live_step_update", "stayed_dead_change", "alive_same_span")


def _spread(triple):
    """seed_summary()'s (median, min, max) as a dict, or None when there was nothing to summarise."""
    median, low, high = triple
    return None if median is None else {"median": median, "min": low, "max": high}


def mean_update_ratio(run, group=HIDDEN_WEIGHTS):
    """Mean over the steps of SGD's log10 update:data ratio of `group` in `run` (None when never measured)."""
    ratios = [step.get(group) for step in run.ratio_history]
    ratios = [ratio for ratio in ratios if ratio is not None]
    return sum(ratios) / len(ratios) if ratios else None


def seed_numbers(seed_runs):
    """Return {"analyses", "spreads", "times_less", "stayed_longest"} over the runs of the too-high rate's seeds.

    analyses: after_death() of each run; spreads: {key: {"median", "min",
    "max"} or None} for SPREAD_KEYS and "final_loss"; times_less: the
    median live-step update over the median dead-step update (None when the
    latter is 0 or missing); stayed_longest: the most steps any neuron stayed
    dead to the end (0 when none did).
    """
    analyses = [after_death(run) for run in seed_runs]
    spreads = {key: _spread(seed_summary(analyses, key)) for key in SPREAD_KEYS}
    losses = [run.final["loss"] for run in seed_runs]
    spreads["final_loss"] = _spread((statistics.median(losses), min(losses), max(losses)) if losses
                                    else (None, None, None))
    dead, live = spreads["dead_step_update"], spreads["live_step_update"]
    times_less = live["median"] / dead["median"] if dead and live and dead["median"] else None
    stayed_steps = [steps for a in analyses for steps in a["stayed_dead_steps"].values()]
    return {"analyses": analyses, "spreads": spreads, "times_less": times_less,
            "stayed_longest": max(stayed_steps, default=0)}


def study_numbers(result):
    """Return the numbers of a StudyResult computed over its runs (a dict; see the module's docstring).

    first_dead_step: the first step of the too-high learning rate with a dead
    neuron (None: none); tanh_flat_from: the first x of the tanh table whose
    local gradient is below 1e-3; dead_grad_below: 1 - threshold**2, the most
    gradient tanh lets through on a saturated sample; update_ratio: the mean
    log10 update:data ratio of the hidden weights per configuration, and
    update_percent the same as 100 * 10**ratio; training_runs: how many runs
    trained; seeds: seed_numbers() (None without seed runs). The lecture's table
    (study --torch) computes its own numbers (_torch_section).
    """
    runs = {run.key: run for run in result.runs}
    high = runs.get("high_lr")
    flat = [x for x, _, grad in result.tanh_table if grad < 1e-3]
    ratios = {key: mean_update_ratio(run) for key, run in runs.items()}
    return {
        "first_dead_step": next((step for step, count in enumerate(high.dead_over_steps) if count > 0), None)
        if high else None,
        "tanh_flat_from": flat[0] if flat else None,
        "dead_grad_below": 1 - result.options.threshold ** 2,
        "update_ratio": ratios,
        "update_percent": {key: None if ratio is None else 100 * 10 ** ratio for key, ratio in ratios.items()},
        "training_runs": len(result.runs) + max(len(result.seed_runs) - 1, 0),
        "seeds": seed_numbers(result.seed_runs) if result.seed_runs else None,
    }

