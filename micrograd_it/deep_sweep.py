"""The lecture's sweep of the deep net: gains 0.5, 1, 5/3, 3 without BatchNorm, and BatchNorm (gain 5/3),
each diagnosed at init and after training; and how two engines' sweeps agree on the story.

    runs = [run_config(config, X, Y, hidden=16, batch=16, steps=1000) for config in CONFIGS]   # the engine
    table = agreement(engine_runs, torch_runs)                                               # see below

`agreement` compares the *shape* of the story, since the two sizes differ (the
engine runs a narrower net): per configuration and moment, each engine's
saturated % per tanh layer and gradient std per layer; the depth trend of the
gradient (std at the last tanh layer over the first: "grows" above 1.25, "shrinks"
below 0.8, "flat" between) and whether both engines give the same trend; and
across configurations, the order of their mean saturation and of their depth
ratios in each engine.
"""

from .deep import DeepMLP, diagnose

__all__ = ["CONFIGS", "run_config", "profile", "agreement", "trend"]

# (key, title, gain, batchnorm): the lecture's experiments
CONFIGS = (
    ("gain_0.5", "gain 0.5", 0.5, False),
    ("gain_1", "gain 1", 1.0, False),
    ("gain_5_3", "gain 5/3", 5 / 3, False),
    ("gain_3", "gain 3", 3.0, False),
    ("batchnorm", "BatchNorm, gain 5/3", 5 / 3, True),
)

GROWS, SHRINKS = 1.25, 0.8  # a depth ratio of the gradient std beyond these is a trend, between them flat


def run_config(config, X, Y, hidden=16, batch=16, steps=1000, lr=0.1, depth=5, emb_dim=10, seed=0, on_step=None):
    """Build the engine's DeepMLP of `config` (an entry of CONFIGS) and return its `diagnose` record, with
    "key", "title", "gain", "batchnorm" and the sizes added."""
    key, title, gain, batchnorm = config
    net = DeepMLP(gain=gain, batchnorm=batchnorm, hidden=hidden, depth=depth, emb_dim=emb_dim, seed=seed)
    run = diagnose(net, X, Y, steps=steps, batch=batch, lr=lr, seed=seed, on_step=on_step)
    run.update(key=key, title=title, gain=gain, batchnorm=batchnorm,
               size={"hidden": hidden, "depth": depth, "emb_dim": emb_dim, "batch": batch, "steps": steps, "lr": lr})
    return run


def trend(ratio):
    """"grows", "shrinks" or "flat" for a depth ratio std(last layer) / std(first layer); "undefined" for None."""
    if ratio is None:
        return "undefined"
    if ratio > GROWS:
        return "grows"
    if ratio < SHRINKS:
        return "shrinks"
    return "flat"


def profile(record):
    """Return the per-layer numbers of one snapshot: saturated %, gradient std, their means and depth ratio."""
    saturated = [layer["saturated_pct"] for layer in record["activations"]]
    grad_std = [layer["std"] for layer in record["gradients"]]
    ratio = grad_std[-1] / grad_std[0] if grad_std[0] > 0 else None  # None, not inf: the result stays JSON
    return {"saturated_pct": saturated, "saturated_mean": sum(saturated) / len(saturated),
            "act_std": [layer["std"] for layer in record["activations"]],
            "grad_std": grad_std, "grad_depth_ratio": ratio, "grad_trend": trend(ratio)}


def _order(rows, engine, what):
    """The configuration titles sorted by `what` in `engine`'s profiles (highest first)."""
    return [row["title"] for row in sorted(rows, key=lambda row: -(row[engine][what] or 0.0))]


def agreement(engine_runs, torch_runs):
    """Return {"rows": [per configuration and moment: key, title, when, engine and torch profiles, trend_agree],
    "orders": {when: {what: {"engine": keys, "torch": keys, "same": bool}}}, "trend_agree": n, "rows_n": n}.

    Runs are matched by "key"; a configuration missing in either list is left out.
    """
    by_key = {run["key"]: run for run in torch_runs}
    rows = []
    for run in engine_runs:
        other = by_key.get(run["key"])
        if other is None:
            continue
        for when in ("init", "final"):
            mine, theirs = profile(run[when]), profile(other[when])
            rows.append({"key": run["key"], "title": run["title"], "when": when, "engine": mine, "torch": theirs,
                         "trend_agree": mine["grad_trend"] == theirs["grad_trend"]})
    orders = {}
    for when in ("init", "final"):
        at = [row for row in rows if row["when"] == when]
        orders[when] = {}
        for what in ("saturated_mean", "grad_depth_ratio"):
            engine_order, torch_order = _order(at, "engine", what), _order(at, "torch", what)
            orders[when][what] = {"engine": engine_order, "torch": torch_order, "same": engine_order == torch_order}
    return {"rows": rows, "orders": orders, "trend_agree": sum(row["trend_agree"] for row in rows),
            "rows_n": len(rows)}
