"""`micrograd-it study --torch`: one clear line when PyTorch is missing, a default study (and the command) that
never needs PyTorch, and the flags. The section itself: test_lecture_table.py."""

import os
import subprocess
import sys

import pytest

from micrograd_it_app import study
from micrograd_it_app.report import build_report

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


def test_a_study_without_torch_has_no_torch_section(tmp_path):
    from .test_report import fake_result

    result = fake_result(tmp_path)
    page = build_report(result)
    assert 'id="torch"' not in page and "PyTorch" not in page
    assert "lecture (torch)" not in study.format_table(result)


def test_the_torch_flags_reach_the_options():
    from micrograd_it_app import cli

    options = study.StudyOptions.from_args(cli.build_parser().parse_args(["study", "--torch", "--torch-steps", "7"]))
    assert options.torch is True and options.torch_steps == 7
    default = study.StudyOptions.from_args(cli.build_parser().parse_args(["study"]))
    assert default.torch is False and default.torch_steps == 200_000  # the lecture's steps
