"""`micrograd-it study --torch`: the lecture's table, reproduced. The seed's model at its size, in PyTorch, trained
from each of the lecture's four inits exactly as the lecture trains it (micrograd_it.torch_makemore), into the
output folder's torch/ subfolder.

Every number of the section is computed here, into a plain dict (the study result's ``torch``); the report
and results.json only read it. The lecture's published numbers sit beside ours, labelled as the lecture's
(micrograd_it.makemore_lecture). PyTorch is imported only when --torch is given.
"""

import os
import time

from micrograd_it.makemore_lecture import (BATCH, PUBLISHED_TOLERANCE, SEED, STAGES, STEP0_DECIMALS, STEPS,
                                           UNIFORM_LOSS, decay_step)

from ._progress import Progress

__all__ = ["run_torch_section", "state_numbers", "compare", "torch_lines"]


def state_numbers(snapshot, all_contexts):
    """The numbers of the hidden layer at one kept step (a torch_makemore snapshot), plus its saturation over
    every training context (`all_contexts`): a dict of plain floats, ints and lists."""
    hpreact = snapshot["hpreact"].double()
    h = snapshot["h"].double()
    return {"step": snapshot["step"], "loss": snapshot["loss"],
            "n_samples": snapshot["n_samples"], "n_neurons": snapshot["n_neurons"],
            "preact_min": hpreact.min().item(), "preact_max": hpreact.max().item(),
            "preact_std": hpreact.std(correction=0).item(),
            "saturated_pct": snapshot["saturated_pct"], "dead": snapshot["dead"],
            "pass_through": (1 - h ** 2).mean().item(),  # the share of the gradient tanh lets through, on average
            "pass_through_pct": 100 * (1 - h ** 2).mean().item(),
            "saturated_all_pct": all_contexts["saturated_pct"], "dead_all": all_contexts["dead"],
            "n_contexts": all_contexts["n_samples"]}


def compare(ours, published, comparable):
    """Return {"ours", "published", "difference", "within"} of one number against the lecture's (None: not published).

    `within` is True/False when the run is comparable (the lecture's 200,000 steps) and a number was
    published, else None: |ours - published| <= PUBLISHED_TOLERANCE.
    """
    if published is None:
        return {"ours": ours, "published": None, "difference": None, "within": None}
    difference = ours - published
    return {"ours": ours, "published": published, "difference": difference,
            "within": abs(difference) <= PUBLISHED_TOLERANCE if comparable else None}


def _arrays(snapshot):
    """The recorded arrays a figure is drawn from (float32 numpy, as PyTorch computed them)."""
    return {name: snapshot[name].numpy() for name in ("hpreact", "h", "grad_h", "grad_hpreact")}


def run_torch_section(out_dir, options):
    """Train the lecture's four stages for `options.torch_steps` steps each (one progress bar per stage), draw
    their figures into out_dir/torch; return the section's dict (see docs/torch.md).

    Raises ImportError when PyTorch is missing (the command checks that before the study starts).
    """
    from micrograd_it import torch_makemore

    from . import _lecture_figures

    folder = os.path.join(out_dir, "torch")
    os.makedirs(folder, exist_ok=True)
    started = time.perf_counter()
    tensors = torch_makemore.lecture_tensors()
    steps = options.torch_steps
    comparable = steps == STEPS
    section = {"seed": SEED, "steps": steps, "batch": BATCH, "decay_step": decay_step(steps),
               "comparable": comparable, "tolerance": PUBLISHED_TOLERANCE, "uniform_loss": UNIFORM_LOSS,
               "threshold": torch_makemore.THRESHOLD, "threads": 1,
               "contexts": {split: int(tensors["X" + key].shape[0]) for split, key in
                            (("train", "tr"), ("dev", "dev"), ("test", "te"))},
               "stages": []}
    with torch_makemore.one_thread():
        for stage in STAGES:
            with Progress(steps, f"{stage.name:<24}", enabled=options.progress) as bar:
                run = torch_makemore.train_stage(stage.name, tensors, steps=steps,
                                                 on_step=lambda step, loss: bar.update(loss=loss))
            section["stages"].append(_stage_entry(stage, run, comparable, folder))
    section["figures"] = _lecture_figures.shared_figures(folder, section["stages"])
    section["seconds"] = time.perf_counter() - started
    return section


def _stage_entry(stage, run, comparable, folder):
    """One stage's entry of the section: its numbers beside the published ones, its arrays and figures."""
    from . import _lecture_figures

    entry = {"name": stage.name, "change": stage.change, "scales": stage.scales(), "steps": run["steps"],
             "seconds": run["seconds"], "loss_step0": run["loss_step0"], "train_loss": run["train_loss"],
             "val_loss": run["val_loss"],
             "published": {"loss_step0": stage.published_step0, "train_loss": stage.published_train,
                           "val_loss": stage.published_val},
             "published_decimals": {"loss_step0": STEP0_DECIMALS, "train_loss": stage.published_decimals,
                                    "val_loss": stage.published_decimals},
             "comparison": {"loss_step0": compare(run["loss_step0"], stage.published_step0, True),
                            "train_loss": compare(run["train_loss"], stage.published_train, comparable),
                            "val_loss": compare(run["val_loss"], stage.published_val, comparable)},
             "init": state_numbers(run["init"], run["init_train"]),
             "trained": state_numbers(run["trained"], run["trained_train"]),
             "losses": run["losses"], "arrays": {"init": _arrays(run["init"]), "trained": _arrays(run["trained"])}}
    entry["figures"] = _lecture_figures.stage_figures(folder, entry)
    return entry


def torch_lines(section):
    """The printed lines of the section: per stage, our losses beside the lecture's, saturation, dead, wall time."""
    header = (f"{'lecture (torch)':<16} {'steps':>7} {'step 0':>8} {'lecture':>8} {'train':>7} "
              f"{'lecture':>8} {'val':>7} {'lecture':>8} {'sat. init':>9} {'sat. end':>9} {'dead end':>8} {'time':>7}")
    lines = [header, "-" * len(header)]
    for stage in section["stages"]:
        published = stage["published"]
        decimals = stage["published_decimals"]
        shown = ["-" if published[key] is None else f"{published[key]:.{decimals[key]}f}"
                 for key in ("loss_step0", "train_loss", "val_loss")]
        lines.append(f"{stage['name']:<16} {stage['steps']:>7} {stage['loss_step0']:>8.4f} {shown[0]:>8} "
                     f"{stage['train_loss']:>7.4f} {shown[1]:>8} {stage['val_loss']:>7.4f} {shown[2]:>8} "
                     f"{stage['init']['saturated_pct']:>8.1f}% {stage['trained']['saturated_pct']:>8.1f}% "
                     f"{len(stage['trained']['dead_all']):>8} {stage['seconds']:>6.1f}s")
    if not section["comparable"]:
        lines.append(f"{section['steps']} steps, not the lecture's {STEPS}: the final losses are not comparable "
                     "with the lecture's")
    lines.append(f"its figures: {os.path.dirname(section['figures']['losses'])} ({section['seconds']:.1f} s)")
    return lines
