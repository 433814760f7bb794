"""The saturation study: the seed's makemore-style character MLP, three ways, with figures and a report.

A character-level MLP reads `block_size` characters (each an embedding row of
the table C), has one tanh hidden layer and a softmax output over the next
character. It is set up three ways from one seed:

1. bad init: N(0, 1) weights, so the hidden pre-activations spread over about
   [-20, 20]; tanh saturates and (1 - t**2) kills the gradient;
2. fixed init: weights N(0, 1) * (5/3) / sqrt(fan_in), so the pre-activations
   stay where tanh is not flat;
3. too-high learning rate: the fixed init, trained with a learning rate so
   large that the updates throw neurons into saturation, where they die.

The data is the lecture's: makemore's names.txt, split as the lecture splits it
(micrograd_it.data.lecture_split); every batch is drawn from its 182,625 training
contexts. The one-pass figures (histograms and saturation map) use the seed's full size,
32 samples x 200 hidden neurons; training uses smaller sizes. Every training step
is the engine's own: the batch loss traced (model.trace()), backward() on its graph
(about 120,000 Values a step), in worker processes, so the whole study takes seconds.
"""

import functools
import math
import os
import random
import textwrap
import time
from dataclasses import dataclass, field, replace
from functools import partial

from micrograd_it import gc_paused
from micrograd_it.data import lecture_split, load_names
from micrograd_it.makemore import CharMLP, batch_loss
from micrograd_it.optim import SGD

from ._output import UserError
from ._progress import Progress

__all__ = ["StudyOptions", "CharMLP", "ConfigRun", "StudyResult", "run_study", "format_table", "dataset", "one_pass", "batch_loss"]


@dataclass
class StudyOptions:
    """Sizes and knobs of the study; the defaults take about 9 s of CPU."""

    seed: int = 0
    steps: int = 30  # training steps per configuration
    lr: float = 0.5  # learning rate of the bad and fixed init
    high_lr: float = 5.0  # the too-high learning rate
    hidden: int = 32  # hidden neurons when training
    batch: int = 32  # samples per training step
    block_size: int = 3  # characters of context
    emb_dim: int = 10  # embedding size: fan_in of the hidden layer = block_size * emb_dim
    full_samples: int = 32  # the seed's one-pass size ...
    full_hidden: int = 200  # ... 32 samples x 200 hidden neurons
    bad_init: float = 1.0  # the bad init: N(0, 1) * bad_init
    threshold: float = 0.99  # |tanh| above this counts as saturated
    seeds: int = 5  # the too-high learning rate is trained from seeds seed, seed + 1, ... (its chaos shown)
    processes: int | None = None  # worker processes (None: one per core; 1: everything in this process)
    progress: bool | None = None  # progress bar: None = only when stderr is a terminal
    torch: bool = False  # add the PyTorch section: the lecture's four inits at the seed's size (_torch_section)
    torch_steps: int = 200_000  # its training steps per init (the lecture's; fewer are not comparable with it)
    deep: bool = False  # add the deep-net section (_deep_study.py): gains and BatchNorm, minutes of CPU
    deep_hidden: int = 16  # its tanh layers' width on the engine (PyTorch: the lecture's 100)
    deep_batch: int = 16  # its batch on the engine (PyTorch: the lecture's 32)
    deep_steps: int = 1000  # its training steps per configuration, on both engines

    @classmethod
    def from_args(cls, args):
        """Return options from the parsed `micrograd-it study` flags (None = keep the default)."""
        options = cls(seed=args.seed)
        if args.full:
            options.hidden, options.batch = options.full_hidden, options.full_samples
        options.torch = bool(getattr(args, "torch", False))
        options.deep = bool(getattr(args, "deep", False))
        for name in ("steps", "lr", "high_lr", "hidden", "batch", "torch_steps", "seeds", "deep_steps"):
            if getattr(args, name, None) is not None:
                setattr(options, name, getattr(args, name))
        return options


@dataclass
class ConfigRun:
    """What one configuration measured; figures maps a kind (e.g. "hist_act") to a file path."""

    key: str
    title: str
    init: object
    lr: float
    one_pass: dict = field(default_factory=dict)  # the seed's size, at init: loss, preact range, saturation, dead
    initial: dict = field(default_factory=dict)  # training size, at init, on a fixed evaluation batch
    losses: list = field(default_factory=list)  # training loss per step
    dead_over_steps: list = field(default_factory=list)  # dead hidden neurons per step (on that step's batch)
    saturated_over_steps: list = field(default_factory=list)  # % of hidden activations saturated per step
    final: dict = field(default_factory=dict)  # after training, on a fixed evaluation batch
    ratio_history: list = field(default_factory=list)  # SGD's log10 update:data ratio per group, per step
    figures: dict = field(default_factory=dict)
    replay: list = field(default_factory=list)  # per step, viz.replay.replay_frame of the hidden layer (drawn high lr)
    pages: dict = field(default_factory=dict)  # interactive pages (replay, explorers): kind -> path
    seed: int = 0
    dead_neurons_over_steps: list = field(default_factory=list)  # which hidden neurons were dead, per step
    hidden_weights_over_steps: list = field(default_factory=list)  # [neuron][input] weights before each step, and at the end


@dataclass
class StudyResult:
    """Everything the report shows: options, per-configuration runs, shared figures, timings, and the numbers
    computed over the runs (`numbers`). Plain data: dataclasses of dicts, lists, strings and numbers."""

    out_dir: str
    options: StudyOptions
    runs: list
    figures: dict = field(default_factory=dict)
    seed_runs: list = field(default_factory=list)  # the too-high learning rate from each seed (the first is runs[2])
    tanh_table: list = field(default_factory=list)  # (x, tanh x, 1 - tanh(x)**2) computed with the engine
    seconds: float = 0.0
    processes: int = 1  # how many processes ran the runs (1: one after the other in this one)
    report: str = ""
    results: str = ""  # the path of results.json: every number of the report, with its name
    torch: dict | None = None  # the PyTorch section's result (study --torch), see _torch_section
    data: dict = field(default_factory=dict)  # which data the study used: name, words, contexts per split
    numbers: dict = field(default_factory=dict)  # computed over the runs: the seeds' analyses and spreads, ...
    # (see _study_numbers.study_numbers); the report formats only these, the runs' and the options' numbers
    deep: dict | None = None  # the deep-net section's result (study --deep), see _deep_study


CONFIGS = [
    ("bad_init", "bad init", "bad"),
    ("fixed_init", "fixed init", "scaled"),
    ("high_lr", "too-high learning rate", "scaled"),
]


def layer_numbers(layer, loss, threshold):
    """Return the measured numbers of one traced tanh layer (and the batch `loss`) as a dict.

    preact_min/max/std: spread of the pre-activations; saturated_pct: % of
    activations with |t| > threshold; dead: neurons saturated on every sample;
    pass_through: mean of (1 - t**2), the share of the gradient tanh lets through.
    """
    preact = [number for row in layer.preact for number in row]
    act = [number for row in layer.act for number in row]
    mean = sum(preact) / len(preact)
    saturated = [flag for row in layer.saturated(threshold) for flag in row]
    return {
        "loss": loss,
        "n_samples": layer.n_samples,
        "n_neurons": layer.n_neurons,
        "preact_min": min(preact),
        "preact_max": max(preact),
        "preact_std": math.sqrt(sum((p - mean) ** 2 for p in preact) / len(preact)),
        "saturated_pct": 100.0 * sum(saturated) / len(saturated),
        "dead": list(layer.dead(threshold)),
        "mostly_saturated": sum(1 for fraction in layer.saturation(threshold) if fraction >= 0.9),
        "pass_through": sum(1.0 - a * a for a in act) / len(act),
    }


def batch_step(model, X, Y, indices):
    """Forward and backward of ``batch_loss(model, X, Y, indices)`` on the engine; return (loss as a float, Trace).

    Adds each parameter's gradient to its ``.grad`` (zero them first). Raises what the
    engine raises (ValueError for an empty batch, OverflowError, AnomalyError...).
    """
    with gc_paused():  # the graph has no reference cycles: the collector would find nothing in it
        with model.trace() as trace:
            loss = batch_loss(model, X, Y, indices)
        loss.backward()
    return loss.data, trace


def one_pass(model, X, Y, indices, threshold):
    """Forward and backward `model` once on `indices`; return (trace, numbers of the hidden layer).

    The trace is the engine's own (`batch_step`): its Values, which an explorer page walks,
    stay alive as long as it does.
    """
    model.zero_grad()
    loss, trace = batch_step(model, X, Y, indices)
    return trace, layer_numbers(trace.layers[0], loss, threshold)


def train(model, X, Y, run, options, batches, replay=True):
    """Train `model` with SGD at `run.lr` on `batches`; fill run.losses, the per-step dead/saturation counts and weights,
    and with `replay` the frames of the replay page (run.replay).

    Returns the optimizer (its ratio_history holds the update:data ratios).
    """
    from viz.replay import replay_frame

    optimizer = SGD(model.named_parameters(), run.lr)
    hidden_neurons = model.mlp.layers[0].neurons
    with gc_paused(), Progress(len(batches), f"{run.title:<24}", enabled=options.progress) as bar:
        for step, indices in enumerate(batches):
            run.hidden_weights_over_steps.append([[w.data for w in neuron.w] for neuron in hidden_neurons])
            try:
                optimizer.zero_grad()
                loss, trace = batch_step(model, X, Y, indices)
            except (ArithmeticError, ValueError) as error:  # last step's update threw the numbers out of the floats
                raise _overflowed(run, step, error) from None
            try:
                optimizer.step()
            except (ArithmeticError, ValueError) as error:
                raise _overflowed(run, step + 1, error) from None
            hidden = trace.layers[0]
            _check_drawable(run, step + 1, loss, hidden)
            saturated = [flag for row in hidden.saturated(options.threshold) for flag in row]
            dead = list(hidden.dead(options.threshold))
            run.dead_over_steps.append(len(dead))
            run.dead_neurons_over_steps.append(dead)
            run.saturated_over_steps.append(100.0 * sum(saturated) / len(saturated))
            run.losses.append(loss)
            if replay:
                run.replay.append(replay_frame(hidden, loss, options.threshold))
            bar.update(loss=loss)
        run.hidden_weights_over_steps.append([[w.data for w in neuron.w] for neuron in hidden_neurons])
    run.ratio_history = optimizer.ratio_history
    return optimizer


def _check_drawable(run, step, loss, hidden):
    """Raise the UserError of _overflowed when a number the figures draw (the loss, the hidden layer's
    pre-activations, activations and gradients) is NaN, infinite or past what a figure can place (viz's
    DRAWABLE): the floats held, but what they say cannot be drawn, nor is it a lesson."""
    from viz.plots_common import DRAWABLE

    rows = [[loss]] + [row for name in ("preact", "act", "grad_out", "grad_in") for row in getattr(hidden, name) or []]
    for row in rows:
        for number in row:
            if not (math.isfinite(number) and abs(number) <= DRAWABLE):
                raise _overflowed(run, step, ValueError(f"a loss, pre-activation or gradient of {number!r}"))


def _overflowed(run, step, error):
    """The UserError of a run whose learning rate made the numbers leave the floats at its `step` (1 = the first)."""
    flag = "--high-lr" if run.key == "high_lr" else "--lr"
    when = "the first step" if step <= 1 else f"step {step}"
    detail = "a result beyond the range of a float" if isinstance(error, OverflowError) and error.args \
        and isinstance(error.args[0], int) else str(error)  # math's own reads "(34, 'Numerical result out of range')"
    return UserError(f"the learning rate {run.lr:g} ({flag}, {run.title}) makes {when} overflow: the weights leave "
                     f"the range of floats ({detail}); try a smaller learning rate")


def tanh_table(points=(0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)):
    """Return rows (x, tanh x, local derivative 1 - t**2) computed by the engine's backward()."""
    from micrograd_it import Value

    rows = []
    for x in points:
        leaf = Value(x)
        out = leaf.tanh()
        out.backward()
        rows.append((x, out.data, leaf.grad))
    return rows


def run_study(out_dir, options=None):
    """Run the three configurations and the other seeds of the too-high learning rate; write every figure and
    report.html into `out_dir`; return a StudyResult.

    The runs are independent: they run at once in `options.processes` worker
    processes (_parallel.py), with the same numbers and figures as one after
    the other. Each run's figures are in `out_dir` as soon as it is done, so
    an interrupted study keeps what it finished.
    """
    from . import _study_figures as figures
    from ._parallel import Later, run_jobs, workers
    from ._results import write_results
    from ._study_numbers import study_numbers
    from .report import write_report

    options = options or StudyOptions()
    started = time.perf_counter()
    X, Y, vocab_size = dataset(options)
    result = StudyResult(out_dir=out_dir, options=options, runs=[], tanh_table=tanh_table(),
                         data=data_summary(options))
    samples = draw_samples(X, Y, vocab_size, options)
    # One list of jobs, taken in this order by the free core: the too-high learning rate first, so
    # that the figures over the seeds (the longest figures over runs) start while the fixed init
    # still trains; each figure over runs starts once the runs it shows are done.
    titles_inits = {key: (title, init_name) for key, title, init_name in CONFIGS}
    keys = ["high_lr", "bad_init", "fixed_init"]
    jobs = [(_run_config_job, (key, *titles_inits[key], samples, options)) for key in keys]
    for seed in range(options.seed + 1, options.seed + options.seeds):  # the same run as `study --seed SEED`
        seed_options = replace(options, seed=seed)
        jobs.append((_run_seed_job, (draw_samples(X, Y, vocab_size, seed_options), seed_options)))
    n_runs = len(jobs)
    over_seeds = [keys.index("high_lr")] + list(range(len(keys), n_runs))  # the too-high learning rate from each seed
    in_order = [keys.index(key) for key, _, _ in CONFIGS]  # the configurations in CONFIGS' order
    figure_jobs = {  # in the order the cores take them
        "gallery": (_figures_job, (figures.shared_figures,)),
        "after_death": Later(_figures_job, over_seeds, lambda *runs: (figures.after_death_figure, list(runs))),
        "seeds": Later(_figures_job, over_seeds, lambda *runs: (figures.seeds_figure, list(runs))),
        "comparison": Later(_figures_job, in_order, lambda *runs: (figures.comparison_figures, list(runs)))}
    jobs += figure_jobs.values()
    bar = partial(Progress, n_runs * options.steps, f"{n_runs} runs at once", enabled=options.progress)
    result.processes = workers(len(jobs), options.processes)
    done = run_jobs(jobs, out_dir, options.processes, on_done=_moved_to(out_dir), progress=bar)
    result.runs = [done[index] for index in in_order]
    by_key = {run.key: run for run in result.runs}
    by_key["high_lr"].one_pass = by_key["fixed_init"].one_pass  # it starts from the fixed init: same numbers
    result.seed_runs = [done[index] for index in over_seeds]
    drawn = dict(zip(figure_jobs, done[n_runs:]))  # each job's {kind: path}
    for name in ("gallery", "comparison", "seeds", "after_death"):  # the report's order
        result.figures.update(drawn[name])
    if options.torch:
        from ._torch_section import run_torch_section

        result.torch = run_torch_section(out_dir, options)
    result.numbers = study_numbers(result)
    if options.deep:
        from ._deep_study import run_deep_section

        result.deep = run_deep_section(out_dir, options)
    result.seconds = time.perf_counter() - started
    result.results = write_results(result)
    result.report = write_report(result)
    return result


def draw_samples(X, Y, vocab_size, options):
    """Return the Samples of a study at `options.seed`: the one-pass batch, the evaluation batch, the training batches."""
    sample_rng = random.Random(options.seed)
    return Samples(X, Y, vocab_size,
                   full=sample_rng.sample(range(len(X)), options.full_samples),
                   evaluation=sample_rng.sample(range(len(X)), options.batch),
                   batches=[[sample_rng.randrange(len(X)) for _ in range(options.batch)]
                            for _ in range(options.steps)])


def _run_config_job(folder, key, title, init_name, samples, options):
    return run_config(key, title, init_name, samples, options, folder)


def _run_seed_job(folder, samples, options):
    """The too-high learning rate at `options.seed`, measured as in the study but drawn nowhere."""
    return run_config("high_lr", f"too-high lr, seed {options.seed}", "scaled", samples, options, None)


def _figures_job(folder, draw, *args):
    """Draw figures that need no training: ``draw(folder, *args)`` returns {kind: path}."""
    return draw(folder, *args)


def _moved_to(out_dir):
    def moved(paths, folder):
        return {kind: os.path.join(out_dir, os.path.relpath(path, folder)) for kind, path in paths.items()}

    def repoint(done, folder):  # the job's files were written in `folder`, then moved into out_dir
        if isinstance(done, dict):  # a figures job's {kind: path}
            done.update(moved(done, folder))
            return
        done.figures, done.pages = moved(done.figures, folder), moved(done.pages, folder)
    return repoint


@dataclass
class Samples:
    """The data set and which samples each part of the study uses (drawn once from the seed)."""

    X: list
    Y: list
    vocab_size: int
    full: list  # the seed's one-pass batch
    evaluation: list  # the fixed batch measured before and after training
    batches: list  # one list of indices per training step, the same for every configuration


def run_config(key, title, init_name, samples, options, out_dir):
    """Measure, train and draw one configuration into `out_dir` (None: draw nothing); return its ConfigRun.

    The too-high learning rate's `one_pass` is left empty: it is the fixed init's.
    """
    # The collector stays off while the figures are drawn too: the traces keep
    # their graphs (~10^6 nodes) alive until then, and every collection would
    # rescan them all (measured: 9 s of a 19 s study). The figures' own
    # reference cycles are freed when the block ends.
    with gc_paused():
        return _run_config(key, title, init_name, samples, options, out_dir)


def _run_config(key, title, init_name, samples, options, out_dir):
    from . import _study_figures as figures

    init = options.bad_init if init_name == "bad" else init_name
    run = ConfigRun(key=key, title=title, init=init, lr=options.high_lr if key == "high_lr" else options.lr,
                    seed=options.seed)
    X, Y, threshold = samples.X, samples.Y, options.threshold
    draw = out_dir is not None

    def new_model(hidden):
        return CharMLP(samples.vocab_size, options.block_size, options.emb_dim, hidden, init, options.seed)

    if key != "high_lr":  # the high-lr run starts from the fixed init: same one-pass numbers
        full_model = new_model(options.full_hidden)
        full_trace, run.one_pass = one_pass(full_model, X, Y, samples.full, threshold)
        if draw:
            run.figures.update(figures.network_figure(out_dir, run, full_model, full_trace, kind="network_full"))
    model = new_model(options.hidden)
    if draw:  # a seed run of the too-high learning rate needs only its training and its end
        init_trace, run.initial = one_pass(model, X, Y, samples.evaluation, threshold)
    if draw and key != "high_lr":  # the network as it starts; the high-lr run is drawn after training instead
        run.figures.update(figures.network_figure(out_dir, run, model, init_trace))
    init_trace = None  # its graph is not needed during training
    # only the drawn too-high learning rate has a replay page
    optimizer = train(model, X, Y, run, options, samples.batches, replay=draw and key == "high_lr")
    # the explorer pages of the high-lr run walk the graph of its last pass
    try:
        final_trace, run.final = one_pass(model, X, Y, samples.evaluation, threshold)
    except (ArithmeticError, ValueError) as error:  # the last step's update left the floats
        raise _overflowed(run, len(samples.batches), error) from None
    _check_drawable(run, len(samples.batches), run.final["loss"], final_trace.layers[0])
    if draw and key == "high_lr":
        from ._study_pages import study_pages

        run.figures.update(figures.network_figure(out_dir, run, model, final_trace))
        run.pages.update(study_pages(out_dir, run, model, final_trace, threshold))
    # histograms and map: the seed's size at init, except for the run whose point is what training did
    shown_trace = final_trace if key == "high_lr" else full_trace
    if draw:
        run.figures.update(figures.config_figures(out_dir, run, shown_trace, optimizer))
    return run


def dataset(options):
    """Return (X, Y, vocab_size): the training split of names.txt, cut as the lecture cuts it (see data_summary)."""
    _, itos, train, _, _ = _lecture_split(options.block_size)
    return train[0], train[1], len(itos)


@functools.lru_cache(maxsize=2)
def _lecture_split(block_size):
    # built once per process (0.4 s): the command sizes the study with it before running it
    return lecture_split(block_size=block_size)


def data_summary(options):
    """Return which data the study uses, for the report and results.json: the file, its words, the split's rule
    and its contexts per part ("train" is where every batch of the study is drawn from)."""
    _, itos, train, dev, test = _lecture_split(options.block_size)
    return {"name": "names.txt", "source": "makemore (Karpathy), shipped in micrograd_it/datasets",
            "words": len(load_names()), "characters": len(itos), "block_size": options.block_size,
            "split": "random.seed(42); random.shuffle(words); 80% / 10% / 10% of the words",
            "contexts": {"train": len(train[0]), "dev": len(dev[0]), "test": len(test[0])}, "used": "train"}


def format_table(result):
    """Return the printed summary: per configuration, loss, saturated %, dead neurons; then the files written."""
    header = f"{'configuration':<24} {'loss start':>10} {'loss end':>9} {'saturated %':>11} {'dead':>9}"
    data = result.data
    lines = [f"data: {data['name']}, {data['contexts']['train']:,} training contexts of {data['block_size']} "
             f"characters ({data['words']:,} names; the lecture's split: {data['split']})", ""] if data else []
    lines += [header, "-" * len(header)]
    for run in result.runs:
        shown = run.final if run.key == "high_lr" else run.one_pass
        dead = f"{len(shown['dead'])}/{shown['n_neurons']}"
        lines.append(f"{run.title:<24} {run.losses[0] if run.losses else float('nan'):>10.3f} "
                     f"{run.final['loss']:>9.3f} {shown['saturated_pct']:>11.1f} {dead:>9}")
    lines += ["saturated % and dead: at the seed's size at init (bad, fixed init), "
              "after training (too-high learning rate)", "", f"files in {result.out_dir}:"]
    for run in result.runs:
        names = ", ".join(os.path.basename(path) for path in run.figures.values())
        lines.append(textwrap.fill(names, width=100, initial_indent=f"  {run.title}: ", subsequent_indent="    "))
    names = ", ".join(os.path.basename(path) for path in result.figures.values())
    lines.append(textwrap.fill(names, width=100, initial_indent="  all: ", subsequent_indent="    "))
    if result.torch is not None:
        from ._torch_section import torch_lines

        lines += ["", *torch_lines(result.torch)]
    if result.deep is not None:
        from ._deep_study import deep_table

        lines += ["", *deep_table(result.deep)]
    lines += [f"report: {result.report}"] + ([f"numbers: {result.results}"] if result.results else [])
    lines += [f"took {result.seconds:.1f} s"]
    return "\n".join(lines)
