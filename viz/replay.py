"""A training replay: one self-contained page with a slider over the training steps of one traced layer.

    frames = [replay_frame(trace.layers[0], loss.data) for each step]     # recorded while training
    page = replay_page(frames, network_svg=open("net.svg").read())       # an HTML str, no network needed

Each frame keeps what one step measured on its batch: the loss, which
entries (sample, neuron) were saturated, each neuron's saturation and mean
|grad_in|, and the dead neurons. On the page the network map's colours
(`viz.network`'s drawing, recoloured per step with the same scale), the
saturation map and the loss curve move together with the slider, so one
watches the neurons die step by step. It is a recording, not a live view.

The page embeds its data as JSON in ``<script id="micrograd-replay">``; the
slider is ``#replay-step``, the dead count shown ``#replay-dead``.
"""

import html

import numpy as np

from .explore_svg import tag_svg
from .graph import WHITE_TEXT_FROM, saturation_color
from .page import html_page, page_asset

__all__ = ["replay_frame", "frame_numbers", "frame_from_means", "mean_abs_grads", "replay_page"]


def replay_frame(layer, loss, threshold=0.99):
    """Return one step's frame of a traced layer (a dict of plain numbers) after its backward pass.

    Keys: loss, saturated (one "0"/"1" string per sample, a character per neuron), saturation (per neuron,
    the fraction of samples), dead (neuron indices saturated on every sample), grad_in (per neuron, mean
    |d loss / d preact| over the samples). Raises ValueError for a trace with no samples.
    """
    if layer.n_samples == 0:
        raise ValueError("replay_frame() needs a layer trace with samples: call the net inside its trace")
    flags = layer.saturated(threshold)
    grads = layer.grad_in
    return {
        "loss": float(loss),
        "saturated": ["".join("1" if flag else "0" for flag in row) for row in flags],
        "saturation": [round(fraction, 6) for fraction in layer.saturation(threshold)],
        "dead": list(layer.dead(threshold)),
        "grad_in": [float(f"{sum(abs(row[j]) for row in grads) / len(grads):.4g}") for j in range(layer.n_neurons)],
    }


def frame_numbers(loss, flags, grad_in):
    """Return `replay_frame`'s dict from arrays: `flags` (samples x neurons bools, the layer's saturated()),
    `grad_in` (samples x neurons floats). The same numbers as `replay_frame` on the layer they came from,
    computed with numpy in one pass."""
    return frame_from_means(loss, flags, mean_abs_grads(grad_in))


def mean_abs_grads(grad_in):
    """Per neuron (column), the mean |grad_in| over the samples (rows), as a float array."""
    grad_in = np.asarray(grad_in, dtype=float)
    return np.abs(grad_in).sum(axis=0) / grad_in.shape[0]


def frame_from_means(loss, flags, mean_grads):
    """`frame_numbers` from `flags` and the per-neuron mean |grad_in| (`mean_abs_grads`): what the live view
    keeps of each step, turning it into frames only when a page is saved."""
    flags = np.ascontiguousarray(flags, dtype=bool)  # contiguous: its bytes are read as one text below
    n_samples, n_neurons = flags.shape
    text = (flags.view(np.uint8) + ord("0")).tobytes().decode("ascii")
    return {
        "loss": float(loss),
        "saturated": [text[row * n_neurons:(row + 1) * n_neurons] for row in range(n_samples)],
        "saturation": [round(float(count) / n_samples, 6) for count in flags.sum(axis=0)],
        "dead": [int(j) for j in np.flatnonzero(flags.all(axis=0))],
        "grad_in": [float(f"{value:.4g}") for value in mean_grads],
    }


def _colours(frame):
    fills = [saturation_color(fraction) for fraction in frame["saturation"]]
    texts = ["#FFFFFF" if fraction >= WHITE_TEXT_FROM else "#000000" for fraction in frame["saturation"]]
    return fills, texts


def replay_page(frames, network_svg=None, *, title="Training replay", layer_key="l0", threshold=0.99):
    """Return the replay page (an HTML str) of `frames` (from `replay_frame`, one per training step).

    `network_svg`: viz.network's drawing of the net (its neurons named ``<layer_key>_<j>``), recoloured
    per step; None leaves it out. Raises ValueError when there are no frames or they disagree in size.
    """
    frames = list(frames)
    if not frames:
        raise ValueError("replay_page() needs at least one frame")
    widths = {len(frame["saturation"]) for frame in frames}
    if len(widths) != 1:
        raise ValueError(f"the frames do not have the same number of neurons: {sorted(widths)}")
    colours = [_colours(frame) for frame in frames]
    data = {"frames": frames, "fills": [fill for fill, _ in colours], "text_colours": [text for _, text in colours],
            "layer_key": layer_key, "threshold": threshold}
    network = tag_svg(network_svg) if network_svg else '<p class="note">(no network drawing in this run)</p>'
    body = f"""<header id="controls">
<h1>{html.escape(title)}</h1>
<div class="buttons">
<button id="replay-play" type="button" aria-pressed="false">▶ Play</button>
<label for="replay-step">step</label>
<input id="replay-step" type="range" min="0" max="{len(frames) - 1}" value="0" step="1">
<span id="replay-status">step <span id="replay-at">0</span> of {len(frames) - 1}: loss <span id="replay-loss"></span>,
<span id="replay-dead"></span> of {len(frames[0]["saturation"])} neurons dead,
<span id="replay-saturated"></span>% of activations saturated (|t| &gt; {threshold:g})</span>
</div>
</header>
<main>
<section class="row">
<figure><svg id="loss-curve" width="420" height="220" role="img" aria-label="training loss"></svg>
<figcaption>training loss per step (log scale); the dot is the step shown</figcaption></figure>
<figure><canvas id="saturation-map" width="420" height="220"></canvas>
<figcaption>this step's saturation map: a row per sample, a column per neuron; white = saturated,
▼ = dead (saturated on every sample)</figcaption></figure>
</section>
<section id="network">{network}</section>
<p class="note">The network map: each hidden neuron filled by the share of this step's samples on which it is
saturated (pale: never, dark brown: always), DEAD (and a thick border) when saturated on all of them; |g| is
its mean |grad_in|. The shapes and edges are the drawing after training: octagons are the neurons dead at the
end, edges the final weights.</p>
</main>"""
    return html_page(title, body, style=page_asset("replay.css"), script=page_asset("replay.js"),
                     data_id="micrograd-replay", data=data)
