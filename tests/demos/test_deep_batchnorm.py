"""demos/deep_batchnorm.py on a tiny run: it prints the records' own lines and writes the figures it names."""

import importlib
import os

import pytest

pytest.importorskip("matplotlib")
demo = importlib.import_module("micrograd_it_demos.deep_batchnorm")


def test_tiny_run_prints_the_records_lines_and_writes_its_figures(tmp_path, capsys, monkeypatch):
    from micrograd_it.deep_sweep import CONFIGS

    monkeypatch.setattr(demo, "CONFIGS", (CONFIGS[1], CONFIGS[4]))  # two configurations: seconds, not minutes
    monkeypatch.setattr(demo, "_torch_runs", lambda Xtr, Ytr, steps: None)  # as without PyTorch
    result = demo.main(str(tmp_path), steps=2, hidden=3, batch=4)
    out = capsys.readouterr().out
    assert result["torch"] is None and result["agreement"] is None
    assert "PyTorch is not installed" in out
    for run in result["engine"]:
        for when in ("init", "final"):
            for record in run[when]["activations"]:
                assert record["line"] in out
    assert sorted(os.listdir(tmp_path)) == ["engine_batchnorm.png", "engine_gain_1.png"]
    for path in result["figures"].values():
        assert f"wrote {path}" in out and open(path, "rb").read(8).startswith(b"\x89PNG")
