"""study --deep at a tiny size: the section's numbers are JSON, its figures are written, the report and the
printed table show the section's own numbers."""

import json
import os

import pytest

from micrograd_it.deep_sweep import CONFIGS, profile
from micrograd_it_app import study
from micrograd_it_app._deep_study import deep_rows, deep_table, run_deep_section
from micrograd_it_app.report import build_report

pytest.importorskip("matplotlib")

TINY = dict(steps=2, hidden=4, batch=4, emb_dim=2, full_samples=5, full_hidden=6, seeds=1, processes=1,
            progress=False, deep=True, deep_hidden=3, deep_batch=4, deep_steps=2)


@pytest.fixture(scope="module")
def section(tmp_path_factory):
    """The engine's part only, two configurations: drawing their figures is most of this fixture's time."""
    from micrograd_it_app import _deep_study

    patch = pytest.MonkeyPatch()
    patch.setattr(_deep_study, "CONFIGS", (CONFIGS[0], CONFIGS[4]))
    try:
        return run_deep_section(str(tmp_path_factory.mktemp("deep")), study.StudyOptions(**TINY))
    finally:
        patch.undo()


@pytest.fixture(scope="module")
def section_with_torch(tmp_path_factory):
    """Both engines, one step each; the figures are left out here (tests/viz/test_plots_deep.py draws them)."""
    pytest.importorskip("torch", reason="PyTorch is not installed: the --torch half of the section needs it")
    from micrograd_it_app import _deep_study

    patch = pytest.MonkeyPatch()
    patch.setattr(_deep_study, "_figures", lambda folder, section: {})
    try:
        return run_deep_section(str(tmp_path_factory.mktemp("deep_torch")),
                                study.StudyOptions(**{**TINY, "deep_steps": 1}, torch=True))
    finally:
        patch.undo()


def test_both_engines_agreement_is_computed_from_their_records(section_with_torch):
    section = section_with_torch
    assert section["torch"]["size"] == {"hidden": 100, "depth": 5, "emb_dim": 10, "batch": 32, "steps": 1, "lr": 0.1}
    agreed = section["agreement"]
    assert agreed["rows_n"] == 10
    for row in agreed["rows"]:
        torch_run = next(run for run in section["torch"]["runs"] if run["key"] == row["key"])
        assert row["torch"] == profile(torch_run[row["when"]])
    assert agreed["trend_agree"] == sum(row["engine"]["grad_trend"] == row["torch"]["grad_trend"] for row in agreed["rows"])
    first_layer = section["torch"]["runs"][2]["init"]["activations"][0]["line"]  # gain 5/3, no BatchNorm
    assert first_layer.startswith("layer 1 (      Tanh): mean ")
    lines = deep_table(section)
    assert lines[-1] == f"same gradient trend with depth on both engines: {agreed['trend_agree']} of 10"
    json.dumps(section, allow_nan=False)


def test_section_is_plain_json_with_every_configuration(section):
    again = json.loads(json.dumps(section, allow_nan=False))
    assert [run["key"] for run in again["engine"]["runs"]] == ["gain_0.5", "batchnorm"]
    assert again["engine"]["size"] == {"hidden": 3, "depth": 5, "emb_dim": 10, "batch": 4, "steps": 2, "lr": 0.1}
    for run in again["engine"]["runs"]:
        assert len(run["losses"]) == 2 and len(run["init"]["activations"]) == 5
    assert section["torch"] is None and section["agreement"] is None


def test_figures_exist(section):
    for path in section["figures"].values():
        assert os.path.getsize(path) > 1000
    assert set(section["figures"]) == {"engine_gain_0.5", "engine_batchnorm"}


def test_rows_and_printed_table_come_from_the_records(section):
    rows = deep_rows(section)
    first = section["engine"]["runs"][0]
    mine = profile(first["init"])
    assert rows[0][:4] == ["gain 0.5", "init", " ".join(f"{x:.0f}" for x in mine["saturated_pct"]),
                           f"{mine['grad_depth_ratio']:.2f} {mine['grad_trend']}"]
    from micrograd_it_app._deep_study import grad_std_rows

    assert grad_std_rows(section)[0][2] == " ".join(f"{x:.1e}" for x in mine["grad_std"])
    lines = deep_table(section)
    assert lines[0].startswith("deep net (5 tanh layers): engine 3 wide, batch 4, 2 steps per configuration")
    assert len(lines) == 1 + 1 + 4


def test_report_shows_the_section(section, tmp_path):
    from tests.app.test_report import fake_result

    result = fake_result(tmp_path)
    result.deep = section
    page = build_report(result)
    assert 'id="deep"' in page
    assert "--torch" in page  # without PyTorch's half the section says how to get it
    for line in (record["line"] for record in section["engine"]["runs"][1]["final"]["activations"]):
        assert line in page
    for path in section["figures"].values():
        assert os.path.basename(path) in page
