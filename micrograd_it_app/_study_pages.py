"""The study's interactive pages: the too-high learning rate's training replay, and explorer pages of one
saturated and one healthy hidden neuron. Each is one self-contained HTML file in the output folder.

`study_pages` returns {kind: path} of what it wrote; the report embeds the replay and links the explorers.
"""

import os
import sys

from viz.explore import explore
from viz.replay import replay_page

from ._output import save_text

__all__ = ["study_pages", "pick_neurons"]


def pick_neurons(layer, threshold):
    """Return {"saturated": (sample, neuron), "healthy": (sample, neuron)} of a traced tanh layer.

    The saturated one has the largest |act| among entries with |act| > threshold (None when no entry is
    saturated); the healthy one the smallest |act|, where tanh passes the most gradient.
    """
    entries = [(abs(act), sample, neuron) for sample, row in enumerate(layer.act) for neuron, act in enumerate(row)]
    saturated = max((entry for entry in entries if entry[0] > threshold), default=None)
    healthy = min(entries)
    return {"saturated": saturated[1:] if saturated else None, "healthy": healthy[1:]}


def _short_names(model, neuron):
    """Names for one hidden neuron's graph: w<k> and b for its weights, C[row][column] for the embeddings."""
    prefix = f"mlp.layers.0.neurons.{neuron}."
    names = {}
    for name, value in model.named_parameters():
        if name.startswith(prefix):
            names[name[len(prefix):].replace(".", "")] = value
        elif name.startswith("C."):
            row, column = name.split(".")[-2:]
            names[f"C[{row}][{column}]"] = value
    return names


def _explorer(out_dir, kind, model, layer, sample, neuron):
    act = layer.act_nodes[sample][neuron]
    state = "saturated" if kind == "saturated" else "healthy"
    title = (f"A {state} hidden neuron: neuron {neuron} on sample {sample} after training "
             f"(tanh {act.data:.6g}); step through its backward")
    page = explore(act, names=_short_names(model, neuron), title=title)
    path = os.path.join(out_dir, f"explore_{kind}_neuron.html")
    save_text(path, page.html)
    return path


def study_pages(out_dir, run, model, trace, threshold):
    """Write the replay of `run` (its recorded frames) and two explorer pages; return {kind: path}.

    `trace` is the traced evaluation pass after training; the explorers show its hidden layer. A missing
    layout engine skips the explorers with a warning (the replay needs none).
    """
    written = {}
    network = run.figures.get("network")
    svg = open(network, encoding="utf-8").read() if network and os.path.exists(network) else None
    path = os.path.join(out_dir, f"{run.key}_replay.html")
    save_text(path, replay_page(run.replay, svg, title=f"{run.title} (lr {run.lr:g}): {len(run.replay)} training steps, "
                                                      "replayed", threshold=threshold))
    written["replay"] = path
    layer = trace.layers[0]
    for kind, where in pick_neurons(layer, threshold).items():
        if where is None:
            continue
        try:
            written[f"explore_{kind}"] = _explorer(out_dir, kind, model, layer, *where)
        except RuntimeError as error:  # no layout engine: the study goes on without this page
            sys.stderr.write(f"micrograd-it: warning: skipped the {kind} neuron's explorer page: {error}\n")
    return written
