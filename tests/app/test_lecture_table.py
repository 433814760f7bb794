"""`micrograd-it study --torch --torch-steps N`: the lecture's table, through the command. results.json holds the
four stages; the report shows our numbers beside the lecture's, labelled, and says the short run is not
comparable; every number of the report's tables is in results.json; the figures are drawn from the recorded
arrays."""

import contextlib
import io
import json
import os

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch is not installed: study --torch needs it")

from micrograd_it import makemore_lecture as lecture  # noqa: E402
from micrograd_it_app import _lecture_figures, cli  # noqa: E402

from .test_report import check  # noqa: E402
from .test_results_json import numbers_missing_from, tables  # noqa: E402

STEPS = 200  # a few hundred steps: the schedule, the figures and the files, in seconds
NAMES = ["original", "softmax fixed", "tanh fixed", "kaiming"]  # the lecture's order, typed from the issue


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("lecture_table")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["study", "--out", str(out_dir), "--steps", "2", "--hidden", "4", "--batch", "4",
                         "--seeds", "2", "--torch", "--torch-steps", str(STEPS)])
    assert code == 0
    with open(out_dir / "results.json", encoding="utf-8") as file:
        results = json.load(file)
    with open(out_dir / "report.html", encoding="utf-8") as file:
        page = file.read()
    return out_dir, results, page, printed.getvalue()


def test_results_json_holds_the_four_stages_of_this_run(run):
    _, results, _, _ = run
    stages = results["lecture"]["stages"]
    assert [stage["name"] for stage in stages] == NAMES
    for stage in stages:
        assert stage["steps"] == STEPS
        for key in ("loss_step0", "train_loss", "val_loss"):
            assert isinstance(stage[key], float) and 1.0 < stage[key] < 40.0
    assert results["lecture"]["comparable"] is False and results["lecture"]["decay_step"] == STEPS // 2
    assert results["lecture"]["contexts"] == {"train": 182_625, "dev": 22_655, "test": 22_866}
    assert results["data"]["name"] == "names.txt" and results["data"]["contexts"]["train"] == 182_625


def test_the_step0_losses_are_the_lectures(run):
    # at step 0 nothing depends on the number of steps: the published 27.88 and 3.32 hold for any run
    _, results, _, _ = run
    by_name = {stage["name"]: stage for stage in results["lecture"]["stages"]}
    for name in ("original", "softmax fixed"):
        comparison = by_name[name]["comparison"]["loss_step0"]
        assert comparison["published"] == lecture.stage(name).published_step0 and comparison["within"] is True
    # softmax fixed and later start near a uniform guess over 27 characters: -log(1/27)
    for name in NAMES[1:]:
        assert abs(by_name[name]["loss_step0"] - np.log(27)) < 0.05


def test_the_report_shows_ours_beside_the_lectures_labelled(run):
    _, results, page, _ = run
    check(page)
    loss_table = next(table for table in tables(page) if "train loss (ours)" in table[0])
    assert loss_table[0][:5] == ["init", "steps", "loss at step 0 (ours)", "lecture's", "difference"]
    assert loss_table[0][5:8] == ["train loss (ours)", "lecture's", "difference"]
    for row, stage in zip(loss_table[1:], results["lecture"]["stages"]):
        published = lecture.stage(stage["name"])
        assert row[0] == stage["name"]
        assert row[5] == f"{stage['train_loss']:.4f}" and float(row[6]) == published.published_train
        assert row[8] == f"{stage['val_loss']:.4f}" and float(row[9]) == published.published_val
        assert float(row[7]) == pytest.approx(stage["train_loss"] - published.published_train, abs=1e-4)
    text = " ".join(page.split())
    assert "Not comparable with the lecture:" in text and f"this run trained {STEPS:,} steps" in text


def test_every_number_of_the_reports_tables_is_in_results_json(run):
    _, results, page, _ = run
    assert numbers_missing_from(results, page) == []


def bar_heights(ax):
    (bars,) = ax.containers  # the histogram's bars (the grey saturated region is not one of them)
    return [bar.get_height() for bar in bars]


def test_the_figures_are_drawn_from_the_recorded_arrays(run):
    out_dir, results, _, _ = run
    from micrograd_it import torch_makemore

    # the run's arrays are not in results.json (too large): train the first stage again, as the study does
    stage = torch_makemore.train_stage("tanh fixed", torch_makemore.lecture_tensors(), steps=3)
    entry = {"name": "tanh fixed", "steps": 3,
             "arrays": {state: {name: stage[state][name].numpy() for name in ("hpreact", "h", "grad_h", "grad_hpreact")}
                        for state in ("init", "trained")}}
    for state in ("init", "trained"):
        figures = _lecture_figures.draw_state(entry, state)
        h, hpreact = entry["arrays"][state]["h"], entry["arrays"][state]["hpreact"]
        assert bar_heights(figures["hist_h"].axes[0]) == list(np.histogram(h.ravel(), bins=50)[0])
        assert bar_heights(figures["hist_preact"].axes[0]) == list(np.histogram(hpreact.ravel(), bins=50)[0])
        image = figures["saturation_map"].axes[0].get_images()[0].get_array()
        assert np.array_equal(np.asarray(image), np.abs(h) > np.float32(0.99))  # the seed's h.abs() > 0.99
        left, right = figures["grad_hist"].axes[:2]
        assert bar_heights(right) == list(np.histogram(entry["arrays"][state]["grad_hpreact"].ravel(), bins=50)[0])
        assert bar_heights(left) == list(np.histogram(entry["arrays"][state]["grad_h"].ravel(), bins=50)[0])
    # the run wrote each stage's eight figures and the two shared ones, named in results.json
    written = sorted(os.listdir(out_dir / "torch"))
    named = sorted(os.path.basename(path) for stage in results["lecture"]["stages"] for path in stage["figures"].values())
    named += sorted(os.path.basename(path) for path in results["lecture"]["figures"].values())
    assert written == sorted(named) and len(written) == 4 * 8 + 2


def test_the_printed_table_has_ours_and_the_lectures(run):
    _, results, _, printed = run
    assert "lecture (torch)" in printed and "not comparable" in printed
    for stage in results["lecture"]["stages"]:
        line = next(line for line in printed.splitlines() if line.startswith(stage["name"]))
        assert f"{stage['train_loss']:.4f}" in line and f"{lecture.stage(stage['name']).published_train:g}" in line
