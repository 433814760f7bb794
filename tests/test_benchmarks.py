"""benchmarks/run.py's arithmetic and its docs writer (no timing here: speed lives in the benchmarks)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmarks"))
import run  # noqa: E402


def test_time_per_step_is_the_total_over_the_steps_and_the_median_stays_beside_it():
    # four 1 ms steps and one 21 ms step (a full GC pass): the loop cost 25 ms, 5 ms a step
    result = {"total_ms": 25.0, "steps": 5, "ms_per_step": [1.0, 1.0, 21.0, 1.0, 1.0]}
    assert run.mean_step_ms(result) == 5.0
    assert run.median_step_ms(result) == 1.0


def test_the_w1_table_says_which_is_which():
    results = {("w1", "micrograd", 64): [{"total_ms": 100.0, "steps": 2, "ms_per_step": [10.0, 90.0]}],
               ("w1", "micrograd_it", 64): [{"total_ms": 10.0, "steps": 2, "ms_per_step": [4.0, 6.0]}]}
    header, _, _, ours = run.w1_table(results, ["micrograd", "micrograd_it"], 64)
    assert "total / steps" in header and "median single step" in header
    assert ours == "| micrograd_it | 5.00 (5.00-5.00) | 5.00 (5.00-5.00) | 10.0 (10.0-10.0)x |"


def test_the_docs_section_between_the_markers_is_replaced_and_nothing_else():
    page = f"intro\n{run.BEGIN}\nold table\n{run.END}\nafter\n"
    assert run.replace_section(page, "| new |") == f"intro\n{run.BEGIN}\n| new |\n{run.END}\nafter\n"
    for broken in ("no markers", f"{run.END}\n{run.BEGIN}", f"{run.BEGIN}{run.BEGIN}{run.END}"):
        with pytest.raises(ValueError, match="benchmarks: begin"):
            run.replace_section(broken, "x")


def test_the_performance_page_has_the_markers():
    with open(run.DOCS, encoding="utf-8") as page:
        run.replace_section(page.read(), "")


def test_an_engine_named_python_source_runs_with_micrograd_it_pure(monkeypatch):
    seen = []

    def fake_run(args, env, **kwargs):
        seen.append((args[-2], env.get("MICROGRAD_IT_PURE")))
        return type("Done", (), {"returncode": 0, "stdout": '{"ok": 1}\n', "stderr": ""})()

    monkeypatch.delenv("MICROGRAD_IT_PURE", raising=False)
    monkeypatch.setattr(run.subprocess, "run", fake_run)
    assert run.sample("w1", run.SOURCE, 64) == run.sample("w1", "micrograd_it", 64) == {"ok": 1}
    assert seen == [("micrograd_it", "1"), ("micrograd_it", None)]
    assert run.SOURCE in run.W1_ENGINES and run.SOURCE in run.BUILD_ENGINES


def test_the_gpt_table_gives_each_engine_its_speed_up_over_the_reference_round_by_round():
    # round 1: reference 100 ms a step, ours 10 (10x); round 2: reference 60, ours 4 (15x)
    results = {("gpt", run.GPT_REFERENCE, 0): [{"total_ms": 300.0, "steps": 3}, {"total_ms": 180.0, "steps": 3}],
               ("gpt", "micrograd_it", 0): [{"total_ms": 100.0, "steps": 10}, {"total_ms": 40.0, "steps": 10}]}
    rows = run.gpt_section(results, [run.GPT_REFERENCE, "micrograd_it"])
    assert rows[-1] == "| micrograd_it | 7.00 (4.00-10.0) | 12.5 (10.0-15.0)x |"
    assert rows[-2] == f"| {run.GPT_REFERENCE} | 80.0 (60.0-100) | 1.00 (1.00-1.00)x |"
    assert run.SOURCE in run.GPT_ENGINES and set(run.GPT_STEPS) == set(run.GPT_ENGINES)
