"""Does a dead neuron learn? What the weights of the hidden neurons did after each step on which they were dead.

A neuron is *dead on a step* when it is saturated on every sample of that
step's batch: then (1 - t**2) < 1 - 0.99**2 on every sample, so almost no
gradient reaches its incoming weights, and SGD moves them almost nothing.
That is a statement about one batch. Whether the neuron *never learns
again* is another question: on a later batch, or once the embeddings below
it have moved, it may be alive again. These functions measure both from a
ConfigRun's per-step records (which neurons were dead on each step, and the
hidden layer's incoming weights before each step).
"""

import math
import statistics

__all__ = ["relative_updates", "after_death", "seed_summary"]


def _norm(numbers):
    return math.hypot(*numbers)  # not sqrt(sum of squares): the squares of weights near 1e200 overflow


def _relative_change(before, after):
    """|after - before| / |before| for one neuron's incoming weights (inf when `before` is all zeros)."""
    size = _norm(before)
    change = _norm([b / 2 - a / 2 for a, b in zip(before, after)]) * 2  # halves: 1e308 - (-1e308) overflows
    return change / size if size > 0 else (0.0 if change == 0 else math.inf)


def relative_updates(run):
    """Return [step][neuron]: how far that step's SGD update moved the neuron's incoming weights, relative to their size."""
    weights = run.hidden_weights_over_steps
    return [[_relative_change(before, after) for before, after in zip(weights[step], weights[step + 1])]
            for step in range(len(weights) - 1)]


def _median(numbers):
    return statistics.median(numbers) if numbers else None


def after_death(run):
    """Return what the neurons of `run` did when dead and after they died, as a dict of numbers and neuron lists.

    died: neurons dead on at least one step (first_dead[j] = that step);
    stayed_dead: died and dead on every step after ("never learned again"),
    with stayed_dead_steps[j] the steps from its death to the end (1: it
    died on the last step); revived: died, then alive on a later step;
    dead_now: dead on every sample of the evaluation batch after training,
    of which dead_now_alive_last_step were alive on the last training
    step's batch. dead_step_update /
    live_step_update: median relative update of a neuron's weights on a
    step on which it was dead / alive. stayed_dead_change: median over the
    stayed-dead neurons of how far their weights moved from the step they
    died to the end; alive_same_span: the same for the neurons alive on that
    step, over the same steps (the median over the stayed-dead neurons).
    """
    updates = relative_updates(run)
    dead_sets = [set(dead) for dead in run.dead_neurons_over_steps]
    n_steps, n_neurons = len(updates), len(run.hidden_weights_over_steps[0])
    first_dead = {}
    for step, dead in enumerate(dead_sets):
        for neuron in sorted(dead):
            first_dead.setdefault(neuron, step)
    stayed_dead = sorted(j for j, step in first_dead.items() if all(j in dead for dead in dead_sets[step:]))
    weights = run.hidden_weights_over_steps

    def moved_since(neuron, step):
        return _relative_change(weights[step][neuron], weights[-1][neuron])

    alive_same_span = [_median([moved_since(k, first_dead[j]) for k in range(n_neurons)
                                if k not in dead_sets[first_dead[j]]]) for j in stayed_dead]
    return {
        "seed": run.seed,
        "n_neurons": n_neurons,
        "n_steps": n_steps,
        "dead_now": sorted(run.final["dead"]),
        "peak": max(run.dead_over_steps, default=0),
        "first_dead": first_dead,
        "stayed_dead": stayed_dead,
        "stayed_dead_steps": {j: n_steps - first_dead[j] for j in stayed_dead},
        "dead_now_alive_last_step": sorted(set(run.final["dead"]) - (dead_sets[-1] if dead_sets else set())),
        "revived": sorted(j for j in first_dead if j not in stayed_dead),
        "dead_step_update": _median([updates[t][j] for t in range(n_steps) for j in dead_sets[t]]),
        "live_step_update": _median([updates[t][j] for t in range(n_steps) for j in range(n_neurons)
                                     if j not in dead_sets[t]]),
        "stayed_dead_change": _median([moved_since(j, first_dead[j]) for j in stayed_dead]),
        "alive_same_span": _median([change for change in alive_same_span if change is not None]),
    }


def seed_summary(analyses, key):
    """Return (median, min, max) of `key` over the analyses of several seeds (lists count their length)."""
    values = [len(a[key]) if isinstance(a[key], (list, dict)) else a[key] for a in analyses]
    values = [value for value in values if value is not None]
    if not values:
        return None, None, None
    return statistics.median(values), min(values), max(values)
