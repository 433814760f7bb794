"""The saturation study on tiny sizes: every file written, numbers that match the trace, reproducible."""

import json
import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest

from micrograd_it import Value
from micrograd_it_app import cli, study

TINY = dict(steps=2, hidden=4, batch=4, emb_dim=2, full_samples=5, full_hidden=6)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out_dir = str(tmp_path_factory.mktemp("study"))
    return study.run_study(out_dir, study.StudyOptions(**TINY))


def test_every_file_is_written_and_nothing_else(tiny_run):
    written = set(os.listdir(tiny_run.out_dir))
    expected = {"report.html", "results.json", "activations.png", "loss_comparison.png", "dead_over_steps.png",
                "high_lr_seeds.png", "high_lr_after_death.png"}
    for key in ("bad_init", "fixed_init", "high_lr"):
        expected |= {f"{key}_{kind}.png" for kind in
                     ("hist_act", "hist_preact", "saturation_map", "grad_hist", "update_ratio", "loss")}
        expected.add(f"{key}_network.svg")
        if key != "high_lr":  # it starts from the fixed init: the seed-size map is the fixed init's
            expected.add(f"{key}_network_full.svg")
    # the interactive pages: the high-lr replay, a healthy neuron's explorer, a saturated one's when there is one
    pages = {os.path.basename(path) for path in tiny_run.runs[2].pages.values()}
    assert {"high_lr_replay.html", "explore_healthy_neuron.html"} <= pages <= {
        "high_lr_replay.html", "explore_healthy_neuron.html", "explore_saturated_neuron.html"}
    expected |= pages
    assert written == expected  # no temporary files left behind either
    for name in written:
        data = open(os.path.join(tiny_run.out_dir, name), "rb").read()
        if name.endswith(".png"):
            assert data.startswith(b"\x89PNG"), name
        elif name.endswith(".svg"):
            assert b"<svg" in data, name


def test_report_embeds_every_figure_of_the_run(tiny_run):
    names = []

    class Figures(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "figure":
                names.append(dict(attrs)["data-file"])

    Figures().feed(open(tiny_run.report, encoding="utf-8").read())
    figures = {name for name in os.listdir(tiny_run.out_dir) if name.endswith((".png", ".svg"))}
    assert set(names) == figures


def test_sizes_and_learning_rates_are_the_options(tiny_run):
    bad, fixed, high = tiny_run.runs
    assert (bad.one_pass["n_samples"], bad.one_pass["n_neurons"]) == (TINY["full_samples"], TINY["full_hidden"])
    assert (high.final["n_samples"], high.final["n_neurons"]) == (TINY["batch"], TINY["hidden"])
    assert (bad.lr, fixed.lr, high.lr) == (study.StudyOptions.lr, study.StudyOptions.lr, study.StudyOptions.high_lr)
    assert all(len(run.losses) == len(run.dead_over_steps) == TINY["steps"] for run in tiny_run.runs)
    # the high-lr run starts from the fixed init: same first batch, same first loss
    assert high.losses[0] == fixed.losses[0]


def test_the_table_lists_each_configuration(tiny_run):
    table = study.format_table(tiny_run)
    for run in tiny_run.runs:
        line = next(line for line in table.splitlines() if line.startswith(run.title))
        assert f"{run.final['loss']:.3f}" in line
    assert tiny_run.report in table


def test_layer_numbers_match_numpy_on_the_trace():
    options = study.StudyOptions(**TINY)
    X, Y, vocab_size = study.dataset(options)
    model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, 7, 1.0, seed=3)
    trace, numbers = study.one_pass(model, X, Y, [0, 5, 9, 11], options.threshold)
    preact, act = np.array(trace.layers[0].preact), np.array(trace.layers[0].act)
    np.testing.assert_allclose(act, np.tanh(preact), rtol=1e-12)
    assert numbers["preact_min"] == preact.min() and numbers["preact_max"] == preact.max()
    assert numbers["preact_std"] == pytest.approx(preact.std(), rel=1e-12)
    saturated = np.abs(act) > options.threshold
    assert numbers["saturated_pct"] == pytest.approx(100 * saturated.mean())
    assert numbers["dead"] == [int(j) for j in np.flatnonzero(saturated.all(axis=0))]
    assert numbers["mostly_saturated"] == int((saturated.mean(axis=0) >= 0.9).sum())
    assert numbers["pass_through"] == pytest.approx((1 - act**2).mean())
    # the loss is the mean cross-entropy, recomputed with numpy from the model's own logits
    logits = np.array([[v.data for v in model(X[i])] for i in [0, 5, 9, 11]])
    log_softmax = logits - logits.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    expected = -np.mean([log_softmax[row, Y[i]] for row, i in enumerate([0, 5, 9, 11])])
    assert numbers["loss"] == pytest.approx(expected, rel=1e-12)


def test_bad_init_spreads_preactivations_more_than_the_fix():
    # N(0,1) weights with fan_in = block_size * emb_dim give preact std ~ sqrt(fan_in) * std(embedding);
    # the scaled init divides that by sqrt(fan_in) and multiplies by 5/3.
    options = study.StudyOptions()
    X, Y, vocab_size = study.dataset(options)
    indices = list(range(0, 400, 20))
    stds = {}
    for init in (1.0, "scaled"):
        model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, 40, init, seed=0)
        stds[init] = study.one_pass(model, X, Y, indices, options.threshold)[1]["preact_std"]
    fan_in = options.block_size * options.emb_dim
    assert stds[1.0] / stds["scaled"] == pytest.approx(np.sqrt(fan_in) / (5 / 3), rel=0.35)


def test_same_seed_same_numbers_bit_for_bit():
    options = study.StudyOptions(**TINY)
    X, Y, vocab_size = study.dataset(options)
    runs = []
    for _ in range(2):
        model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, 4, "scaled", seed=7)
        run = study.ConfigRun("x", "x", "scaled", 0.5)
        study.train(model, X, Y, run, options, [[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        runs.append((run.losses, [value.data for value in model.parameters()]))
    assert runs[0] == runs[1]


def test_tanh_table_is_the_engine_derivative():
    for x, t, grad in study.tanh_table():
        assert t == Value(x).tanh().data
        assert grad == pytest.approx(1 - np.tanh(x) ** 2, abs=1e-15)


def test_study_command_end_to_end(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(study.StudyOptions, "from_args", classmethod(lambda cls, args: cls(seed=args.seed, **TINY)))
    out_dir = tmp_path / "out"
    (tmp_path / "out").mkdir()
    (out_dir / "keep.txt").write_text("an existing file is never wiped")
    code = cli.main(["study", "--out", str(out_dir)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (out_dir / "keep.txt").read_text() == "an existing file is never wiped"
    assert (out_dir / "report.html").exists()
    assert re.search(r"^too-high learning rate\s", captured.out, re.M)
    assert captured.err == ""  # no progress bar when stderr is not a terminal


def test_study_flags_reach_the_options():
    args = cli.build_parser().parse_args(["study", "--steps", "7", "--lr", "0.25", "--high-lr", "9",
                                          "--hidden", "5", "--batch", "6", "--seed", "3", "--seeds", "2"])
    options = study.StudyOptions.from_args(args)
    assert (options.steps, options.lr, options.high_lr, options.hidden, options.batch, options.seed, options.seeds) == \
        (7, 0.25, 9.0, 5, 6, 3, 2)
    full = study.StudyOptions.from_args(cli.build_parser().parse_args(["study", "--full"]))
    assert (full.hidden, full.batch) == (full.full_hidden, full.full_samples) == (200, 32)


def test_an_overflowing_learning_rate_is_a_user_error(capsys, tmp_path, monkeypatch):
    tiny = dict(TINY, high_lr=1e300)
    monkeypatch.setattr(study.StudyOptions, "from_args", classmethod(lambda cls, args: cls(**tiny)))
    code = cli.main(["study", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "overflow" in err and "the learning rate 1e+300" in err and "Traceback" not in err


# -- the runs in worker processes ------------------------------------------------

def _numbers(run):
    """Everything a ConfigRun measured, with its figures by file name (the folders differ)."""
    fields = dict(vars(run))
    fields["figures"] = {kind: os.path.basename(path) for kind, path in run.figures.items()}
    fields["pages"] = {kind: os.path.basename(path) for kind, path in run.pages.items()}
    return fields


def test_worker_processes_give_the_numbers_and_files_of_one_process(tiny_run, tmp_path):
    from micrograd_it_app import _parallel

    if not _parallel.can_fork():
        pytest.skip("no fork here (or other threads run): the study runs in one process anyway")
    # the runs (the too-high learning rate counted once) and the four figure jobs
    n_jobs = len(tiny_run.runs) + len(tiny_run.seed_runs) - 1 + 4
    assert tiny_run.processes == min(_parallel.default_processes(), n_jobs)
    if tiny_run.processes == 1:
        pytest.skip("one core: the module's study ran in one process too")
    alone = study.run_study(str(tmp_path), study.StudyOptions(processes=1, **TINY))
    assert alone.processes == 1
    assert [_numbers(run) for run in alone.runs] == [_numbers(run) for run in tiny_run.runs]
    assert [_numbers(run) for run in alone.seed_runs] == [_numbers(run) for run in tiny_run.seed_runs]
    names = sorted(os.listdir(tiny_run.out_dir))
    assert sorted(os.listdir(alone.out_dir)) == names
    for name in names:
        ours, theirs = (open(os.path.join(folder, name), "rb").read() for folder in (alone.out_dir, tiny_run.out_dir))
        if name == "report.html":  # the page says how long the run took and in how many processes
            ours, theirs = (re.sub(rb"\d+(\.\d+)? s\b|\d+ process(es)?", b"", page) for page in (ours, theirs))
        if name == "results.json":  # so does results.json, and the processes asked for
            ours, theirs = (_without_timing(json.loads(data)) for data in (ours, theirs))
        assert ours == theirs, name


def _without_timing(results):
    del results["seconds"], results["processes"], results["options"]["processes"]
    return results


def test_each_seed_run_is_the_too_high_learning_rate_of_that_seed(tiny_run):
    options = study.StudyOptions(**TINY)
    assert [run.seed for run in tiny_run.seed_runs] == list(range(options.seed, options.seed + options.seeds))
    assert tiny_run.seed_runs[0] is tiny_run.runs[2]
    # what `micrograd-it study --seed 1` trains for its too-high learning rate, drawn nowhere
    seed_one = study.replace(options, seed=1)
    X, Y, vocab_size = study.dataset(seed_one)
    again = study.run_config("high_lr", "x", "scaled", study.draw_samples(X, Y, vocab_size, seed_one), seed_one, None)
    for name in ("losses", "dead_over_steps", "dead_neurons_over_steps", "hidden_weights_over_steps", "final"):
        assert getattr(again, name) == getattr(tiny_run.seed_runs[1], name), name
    assert len({tuple(run.losses) for run in tiny_run.seed_runs}) == options.seeds  # the seeds do differ


def test_the_weights_recorded_are_the_models(tmp_path):
    options = study.StudyOptions(**TINY)
    X, Y, vocab_size = study.dataset(options)
    model = study.CharMLP(vocab_size, options.block_size, options.emb_dim, 4, "scaled", seed=7)
    first = [[w.data for w in neuron.w] for neuron in model.mlp.layers[0].neurons]
    run = study.ConfigRun("x", "x", "scaled", 0.5)
    study.train(model, X, Y, run, options, [[1, 2, 3], [4, 5, 6]])
    assert len(run.hidden_weights_over_steps) == 3 and run.hidden_weights_over_steps[0] == first
    assert run.hidden_weights_over_steps[-1] == [[w.data for w in neuron.w] for neuron in model.mlp.layers[0].neurons]
    assert run.hidden_weights_over_steps[1] != first  # SGD moved them
    assert [len(dead) for dead in run.dead_neurons_over_steps] == run.dead_over_steps


def test_the_result_holds_every_number_over_the_runs_as_plain_data(tiny_run):
    # The seeds' spreads are in the result (the report only formats them), recomputed here with numpy
    # from the runs' own records; and the whole result survives a round trip through JSON.
    import dataclasses
    import json

    seeds = tiny_run.numbers["seeds"]
    dead_now = [len(run.final["dead"]) for run in tiny_run.seed_runs]
    assert seeds["spreads"]["dead_now"] == {"median": np.median(dead_now), "min": min(dead_now), "max": max(dead_now)}
    losses = [run.final["loss"] for run in tiny_run.seed_runs]
    assert seeds["spreads"]["final_loss"]["median"] == pytest.approx(np.median(losses))
    assert [a["seed"] for a in seeds["analyses"]] == [run.seed for run in tiny_run.seed_runs]
    high = tiny_run.runs[2]
    ratios = [step["mlp.layers.0.w"] for step in high.ratio_history if step.get("mlp.layers.0.w") is not None]
    assert tiny_run.numbers["update_ratio"]["high_lr"] == pytest.approx(np.mean(ratios))
    plain = dataclasses.asdict(tiny_run)
    assert json.loads(json.dumps(plain, allow_nan=True))["numbers"]["training_runs"] == 3 + len(tiny_run.seed_runs) - 1
