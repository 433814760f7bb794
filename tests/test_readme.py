"""The README's two set-up commands: CI must run the same test command."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands():
    text = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- commands:start -->\s*```sh\n(.*?)```\s*<!-- commands:end -->", text, re.S)
    assert block, "README.md lost its marked block of set-up commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_two_commands_and_ci_runs_the_test_one():
    main_job, test_command = readme_commands()
    assert "pytest" in test_command and "pytest" not in main_job
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command.strip() in ci_lines
