"""`micrograd-it study --torch`: the PyTorch section of the report and the table, one clear line when PyTorch is
missing, and a default study (and the command) that never needs PyTorch."""

import os
import subprocess
import sys

import pytest

from micrograd_it_app import study
from micrograd_it_app.report import build_report

from .test_report import check
from .test_study import TINY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NO_TORCH = "import sys; sys.modules['torch'] = None\n"  # `import torch` now raises ImportError


def run_without_torch(code, cwd):
    result = subprocess.run([sys.executable, "-c", NO_TORCH + code], capture_output=True, text=True, cwd=cwd,
                            timeout=300)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("argv, who", [(["study", "--torch"], "study --torch"),
                                       (["demo", "makemore_torch"], "demo makemore_torch")])
def test_without_pytorch_the_command_says_so_in_one_line(tmp_path, argv, who):
    code, out, err = run_without_torch(
        f"from micrograd_it_app.cli import main; sys.exit(main({argv + ['--out', str(tmp_path / 'out')]!r}))", ROOT)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert lines[0] == (f"micrograd-it: error: {who} needs PyTorch, which is not installed; "
                        "install the torch extra: pip install 'micrograd_it[torch]'")
    assert not os.path.exists(tmp_path / "out" / "report.html")  # refused before the study started


def test_the_default_study_runs_without_pytorch(tmp_path):
    code, out, err = run_without_torch(
        "from micrograd_it_app import study\n"
        f"result = study.run_study({str(tmp_path)!r}, study.StudyOptions(**{TINY!r}))\n"
        "print(result.torch is None, 'torch' in [m.split('.')[0] for m in sys.modules if sys.modules[m]])", ROOT)
    assert code == 0, err
    assert out.split() == ["True", "False"]


@pytest.fixture(scope="module")
def torch_study(tmp_path_factory):
    pytest.importorskip("torch", reason="PyTorch is not installed: the study's torch section needs it")
    out_dir = str(tmp_path_factory.mktemp("study_torch"))
    return study.run_study(out_dir, study.StudyOptions(torch=True, torch_steps=3, **TINY))


def test_the_torch_section_is_written_into_its_subfolder(torch_study):
    torch_dir = os.path.join(torch_study.out_dir, "torch")
    written = sorted(os.listdir(torch_dir))
    expected = sorted(os.path.basename(path) for path in torch_study.torch["figures"].values()) + sorted(
        os.path.basename(path) for run in torch_study.torch["runs"] for path in run["figures"].values())
    assert written == sorted(expected) and len(written) == 15
    assert [run["steps"] for run in torch_study.torch["runs"]] == [3, 3, 1]
    assert not any(line.startswith("wrote ") for line in torch_study.torch["printed"])


def test_the_report_has_the_section_with_the_runs_numbers_and_figures(torch_study):
    page = build_report(torch_study)
    checker = check(page)
    text = "".join(checker.text)
    assert 'id="torch"' in page and "6. The same lesson in PyTorch" in text
    bad, fixed, high = torch_study.torch["runs"]
    assert f"{bad['init']['saturated_pct']:.1f}% of h has" in text.replace("\n", " ")
    assert f"{high['dead_all_final']} on every one of the {torch_study.torch['n_contexts']} contexts" in \
        " ".join(text.split())
    embedded = {name for name in checker.figures if name}
    for kind in ("hist_h", "hist_preact", "saturation_map"):
        assert f"torch/bad_init_{kind}.png" in embedded
    assert {"torch/high_lr_saturation_map.png", "torch/stats_over_training.png",
            "torch/hist_over_training.png"} <= embedded
    for line in torch_study.torch["printed"]:
        assert " ".join(line.split()) in " ".join(text.split())


def test_the_printed_table_has_the_torch_lines(torch_study):
    table = study.format_table(torch_study)
    assert "PyTorch, the seed at its size" in table
    for run in torch_study.torch["runs"]:
        assert f"{run['title']:<30}" in table and f"{run['dead_all_final']} / 200" in table


def test_a_study_without_torch_has_no_torch_section(tmp_path):
    from .test_report import fake_result

    result = fake_result(tmp_path)
    page = build_report(result)
    assert 'id="torch"' not in page and "PyTorch" not in page
    assert "PyTorch" not in study.format_table(result)


def test_the_torch_flags_reach_the_options():
    from micrograd_it_app import cli

    options = study.StudyOptions.from_args(cli.build_parser().parse_args(["study", "--torch", "--torch-steps", "7"]))
    assert options.torch is True and options.torch_steps == 7
    default = study.StudyOptions.from_args(cli.build_parser().parse_args(["study"]))
    assert default.torch is False and default.torch_steps == 10_000
