"""report.html: one self-contained page walking through the seed's argument with this run's figures and numbers.

Every number in the prose comes from the StudyResult of the run (nothing is
typed in by hand); every figure is embedded; all text is HTML-escaped.
"""

import os

from ._html import esc, figure, page, table
from ._output import save_text

__all__ = ["build_report", "write_report"]


def write_report(result):
    """Write report.html into result.out_dir atomically; return its path."""
    path = os.path.join(result.out_dir, "report.html")
    save_text(path, build_report(result))
    return path


def _fig(result, figures, kind, caption):
    path = figures.get(kind)
    if not path or not os.path.exists(path):
        return ""
    return figure(path, caption, result.out_dir, natural_size=(kind == "network"))


def _pct(number):
    return f"{number:.1f}%"


def _are(count):
    return f"{count} is" if count == 1 else f"{count} are"


def _dead_text(numbers):
    dead, n_neurons = numbers["dead"], numbers["n_neurons"]
    if not dead:
        return (f"none of the {n_neurons} neurons is dead in this strict sense, but "
                f"{_are(numbers['mostly_saturated'])} saturated on at least 90% of the samples: they learn "
                "from a handful of samples only")
    shown = ", ".join(str(index) for index in dead[:20]) + (", ..." if len(dead) > 20 else "")
    verb = "is" if len(dead) == 1 else "are"
    return f"{len(dead)} of {n_neurons} neurons {verb} dead (saturated on every sample): {shown}"


def _run(result, key):
    return next(run for run in result.runs if run.key == key)


def _intro(result):
    opt = result.options
    return [
        "<h1>Where and why gradients die: tanh saturation in a character-level MLP</h1>",
        f"<p>This page was written by <code>micrograd-it study</code> (seed {esc(opt.seed)}, "
        f"{esc(opt.steps)} training steps per configuration, {esc(f'{result.seconds:.1f}')} s in all). "
        "The model is the seed's makemore MLP on the scalar engine: an embedding table <code>C</code> "
        f"({esc(opt.emb_dim)} numbers per character), a context of {esc(opt.block_size)} characters, "
        "one tanh hidden layer, and a softmax over the next character. It is set up three ways from the "
        "same seed: a <b>bad init</b>, a <b>fixed init</b>, and the fixed init with a <b>too-high "
        "learning rate</b>.</p>",
        f"<p>The histograms and saturation maps of the two inits use the seed's full size, "
        f"{esc(opt.full_samples)} samples &times; {esc(opt.full_hidden)} hidden neurons, in one "
        f"forward/backward pass. Training uses {esc(opt.hidden)} hidden neurons and batches of "
        f"{esc(opt.batch)} samples so that the whole study runs in about a minute.</p>",
    ]


def _summary(result):
    bad, fixed, high = (_run(result, key) for key in ("bad_init", "fixed_init", "high_lr"))
    items = [
        f"bad init: {_pct(bad.one_pass['saturated_pct'])} of the hidden activations saturated; tanh lets "
        f"{_pct(100 * bad.one_pass['pass_through'])} of the gradient through; loss at init "
        f"{bad.one_pass['loss']:.2f}.",
        f"fixed init: {_pct(fixed.one_pass['saturated_pct'])} saturated; "
        f"{_pct(100 * fixed.one_pass['pass_through'])} of the gradient gets through; loss at init "
        f"{fixed.one_pass['loss']:.2f}, after {len(fixed.losses)} steps {fixed.final['loss']:.2f} "
        f"(bad init: {bad.final['loss']:.2f}).",
        f"too-high learning rate ({high.lr:g}): {len(high.final['dead'])} of {high.final['n_neurons']} "
        f"hidden neurons dead after training, {_pct(high.final['saturated_pct'])} of activations saturated; "
        f"loss {high.final['loss']:.2f}.",
    ]
    return ['<div class="key"><b>This run in three lines</b><ul>'
            + "".join(f"<li>{esc(item)}</li>" for item in items) + "</ul></div>"]


def _tanh_section(result):
    rows = [(f"{x:g}", f"{t:.6f}", f"{grad:.2e}") for x, t, grad in result.tanh_table]
    flat = [x for x, t, grad in result.tanh_table if grad < 1e-3]
    flat_text = (f"From x = {flat[0]:g} on, less than a thousandth of the gradient gets through."
                 if flat else "")
    return [
        "<h2>1. What tanh does, and what its derivative does to the gradient</h2>",
        "<p>tanh squashes any pre-activation into (-1, 1). In backward, the engine multiplies the gradient "
        "arriving at a tanh node by its local derivative <code>1 - t**2</code>, where <code>t</code> is "
        "tanh's output. At t = 0 that factor is 1: the gradient passes untouched. At t = &plusmn;1 it is 0: "
        "the gradient is killed, and nothing below the neuron (its weights, its bias, the embeddings "
        "feeding it) learns from this sample.</p>",
        _fig(result, result.figures, "gallery", "Activation functions (solid) and their derivatives (dashed)."),
        "<p>The same numbers from the engine's own <code>backward()</code> on <code>Value(x).tanh()</code>:</p>",
        table(["x", "t = tanh(x)", "local gradient 1 - t**2"], rows),
        f"<p>{esc(flat_text)}</p>",
    ]


def _bad_init_section(result):
    bad = _run(result, "bad_init")
    numbers = bad.one_pass
    opt = result.options
    low, high, std = (f"{numbers[key]:.1f}" for key in ("preact_min", "preact_max", "preact_std"))
    loss = f"{numbers['loss']:.2f}"
    return [
        "<h2>2. The bad init: pre-activations far out where tanh is flat</h2>",
        f"<p>With weights drawn from N(0, {esc(f'{opt.bad_init:g}')}&sup2;), the hidden pre-activations of "
        f"this run spread from {esc(low)} to {esc(high)} (standard deviation {esc(std)}). "
        f"tanh maps most of them to &plusmn;1: {esc(_pct(numbers['saturated_pct']))} of the "
        f"{esc(numbers['n_samples'])} &times; {esc(numbers['n_neurons'])} activations have |t| &gt; "
        f"{esc(opt.threshold)}.</p>",
        '<div class="row">',
        _fig(result, bad.figures, "hist_preact", "Pre-activations of the hidden layer (the seed's hist2)."),
        _fig(result, bad.figures, "hist_act", "Activations h = tanh(pre-activation) (the seed's hist1)."),
        "</div>",
        f"<p class=\"key\">On average tanh lets through {esc(_pct(100 * numbers['pass_through']))} of the "
        "gradient that reaches it (the mean of 1 - t**2 over all samples and neurons).</p>",
        "<h3>The saturation map</h3>",
        "<p>Each row is a sample, each column a hidden neuron; white means |t| &gt; "
        f"{esc(opt.threshold)} (saturated: the gradient dies there). A column that is white from top to "
        "bottom is a <b>dead neuron</b>: saturated on every sample, so its weights receive no gradient "
        f"at all from this batch. In this run {esc(_dead_text(numbers))}.</p>",
        _fig(result, bad.figures, "saturation_map", "Saturation map |h| > threshold (the seed's imshow1); "
             "dead columns are marked."),
        _fig(result, bad.figures, "grad_hist", "Gradients of the hidden layer. Left: d loss / d activation, "
             "what arrives at tanh. Right: d loss / d pre-activation, after multiplying by 1 - t**2."),
        f"<p>The loss of this untrained network on the batch is {esc(loss)}: "
        "the logits are as extreme as the hidden layer, so the network is confidently wrong.</p>",
    ]


def _fix_section(result):
    bad, fixed = _run(result, "bad_init"), _run(result, "fixed_init")
    rows = []
    for label, key, fmt in [("pre-activation std", "preact_std", "{:.2f}"),
                            ("pre-activation range", None, None),
                            ("saturated activations", "saturated_pct", "{:.1f}%"),
                            ("dead neurons", "dead", None),
                            ("mean 1 - t**2 (gradient let through)", "pass_through", "{:.3f}"),
                            ("loss at init", "loss", "{:.3f}")]:
        row = [label]
        for numbers in (bad.one_pass, fixed.one_pass):
            if key is None:
                row.append(f"[{numbers['preact_min']:.1f}, {numbers['preact_max']:.1f}]")
            elif key == "dead":
                row.append(f"{len(numbers['dead'])} / {numbers['n_neurons']}")
            else:
                row.append(fmt.format(numbers[key]))
        rows.append(row)
    rows.append([f"loss after {len(fixed.losses)} training steps (training size)",
                 f"{bad.final['loss']:.3f}", f"{fixed.final['loss']:.3f}"])
    return [
        "<h2>3. The fix: scale the weights by (5/3) / sqrt(fan_in)</h2>",
        "<p>Each pre-activation is a sum of fan_in products. Drawing the weights from "
        "N(0, 1) &middot; (5/3) / sqrt(fan_in) keeps that sum of order 1 whatever the layer's width, so tanh "
        "works in its curved middle where 1 - t**2 is large (5/3 is the gain that makes up for tanh's "
        "squashing). Same seed, same data, same learning rate; only the init changed:</p>",
        table(["measured at the seed's size", "bad init", "fixed init"], rows),
        '<div class="row">',
        _fig(result, fixed.figures, "hist_preact", "Fixed init: pre-activations."),
        _fig(result, fixed.figures, "hist_act", "Fixed init: activations."),
        "</div>",
        _fig(result, fixed.figures, "saturation_map", "Fixed init: saturation map."),
        _fig(result, fixed.figures, "grad_hist", "Fixed init: gradients of the hidden layer."),
        "<h3>Training</h3>",
        '<div class="row">',
        _fig(result, result.figures, "loss_comparison", "Training loss of the three configurations."),
        _fig(result, result.figures, "dead_over_steps", "Dead hidden neurons per step (on each step's batch)."),
        "</div>",
    ]


HIDDEN_WEIGHTS = "mlp.layers.0.w"  # SGD's group name of the hidden layer's weights in the study's model


def _mean_ratio(run, group=HIDDEN_WEIGHTS):
    ratios = [step.get(group) for step in run.ratio_history]
    ratios = [ratio for ratio in ratios if ratio is not None]
    return sum(ratios) / len(ratios) if ratios else None


def _ratio_text(result):
    fixed, high = _run(result, "fixed_init"), _run(result, "high_lr")
    fixed_ratio, high_ratio = _mean_ratio(fixed), _mean_ratio(high)
    text = ("The update:data ratio is log10 of the size of a step's update over the size of the parameters "
            "it changes; makemore's rule of thumb is about -3.")
    if fixed_ratio is None or high_ratio is None:
        return text
    return (text + f" For the hidden layer's weights it averages {fixed_ratio:.2f} at learning rate {fixed.lr:g} "
            f"and {high_ratio:.2f} at {high.lr:g}: each step of the too-high rate moves those weights by about "
            f"{100 * 10 ** high_ratio:.0f}% of their own size (against {100 * 10 ** fixed_ratio:.1f}%).")


def _high_lr_section(result):
    high = _run(result, "high_lr")
    steps = high.dead_over_steps
    first_dead = next((step for step, count in enumerate(steps) if count > 0), None)
    when = (f"The first dead neuron appears at step {first_dead}; at the last step {steps[-1]} of "
            f"{high.final['n_neurons']} {'is' if steps[-1] == 1 else 'are'} dead." if first_dead is not None else
            "In this run no neuron died during training.")
    return [
        "<h2>4. A good init is not enough: a too-high learning rate</h2>",
        f"<p>The same fixed init, trained with learning rate {esc(f'{high.lr:g}')} instead of "
        f"{esc(f'{result.options.lr:g}')}. It starts where the fixed init starts (loss "
        f"{esc(f'{high.losses[0]:.2f}')} at step 0), but each update is so large that it throws weights far "
        f"out, and with them the pre-activations. {esc(when)} After training, on a fixed evaluation batch, "
        f"{esc(_pct(high.final['saturated_pct']))} of the activations are saturated and "
        f"{esc(_dead_text(high.final))}.</p>",
        _fig(result, high.figures, "saturation_map", "Too-high learning rate: saturation map after training."),
        _fig(result, high.figures, "grad_hist", "Too-high learning rate, after training. Left: d loss / d activation, "
             "what arrives at tanh. Right: d loss / d pre-activation, after multiplying by 1 - t**2."),
        '<div class="row">',
        _fig(result, high.figures, "hist_preact", "Too-high learning rate: pre-activations after training."),
        _fig(result, high.figures, "hist_act", "Too-high learning rate: activations after training."),
        "</div>",
        f"<p>{esc(_ratio_text(result))}</p>",
        '<div class="row">',
        _fig(result, _run(result, "fixed_init").figures, "update_ratio", "Fixed init: update:data ratio."),
        _fig(result, high.figures, "update_ratio", "Too-high learning rate: update:data ratio."),
        "</div>",
    ]


def _network_section(result):
    parts = ["<h2>5. The network, neuron by neuron</h2>",
             "<p>Every neuron of the training-size network, filled by the share of samples on which it is "
             "saturated (its legend is at the top of each graph); a neuron saturated on every sample is marked "
             "DEAD. The two inits are drawn at the start, the too-high learning rate after training. The graphs "
             "are shown at full size: scroll inside each box.</p>"]
    for run in result.runs:
        parts.append(_fig(result, run.figures, "network", f"{run.title}: the network coloured by gradient health."))
    return parts


def _remaining_figures(result, html_so_far):
    """Embed every figure of the run that the sections above did not show, so the page holds them all."""
    parts = []
    for run in result.runs:
        for kind, path in run.figures.items():
            name = os.path.relpath(path, result.out_dir)
            if f'data-file="{esc(name)}"' not in html_so_far:
                parts.append(_fig(result, run.figures, kind, f"{run.title}: {_KIND_NAMES.get(kind, kind)}."))
    if not parts:
        return []
    return ["<h2>6. The other figures of this run</h2>", '<div class="row">'] + parts + ["</div>"]


_KIND_NAMES = {"loss": "training loss", "update_ratio": "update:data ratio per step",
               "grad_hist": "gradients of the hidden layer (left: d loss/d act; right: d loss/d preact)",
               "hist_act": "activations", "hist_preact": "pre-activations", "saturation_map": "saturation map",
               "network": "the network coloured by gradient health"}


def _files_section(result):
    rows = []
    for run in result.runs:
        for kind, path in run.figures.items():
            rows.append([run.title, kind, os.path.relpath(path, result.out_dir)])
    for kind, path in result.figures.items():
        rows.append(["all", kind, os.path.relpath(path, result.out_dir)])
    return ["<h2>Files</h2>",
            "<p>Every figure above is also a file of its own in the output folder:</p>",
            table(["configuration", "figure", "file"], rows)]


def build_report(result):
    """Return the report of a StudyResult as one self-contained HTML page (a str)."""
    parts = (_intro(result) + _summary(result) + _tanh_section(result) + _bad_init_section(result) + _fix_section(result)
             + _high_lr_section(result) + _network_section(result))
    parts += _remaining_figures(result, "".join(parts)) + _files_section(result)
    return page("micrograd_it: where and why gradients die", [part for part in parts if part])
