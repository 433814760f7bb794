"""Whatever a forked worker of the study raises, the user sees one line: a real full disk, a bug of ours.

The full disk is a real one: a tmpfs of a few hundred kilobytes mounted for the test (root only; skipped
elsewhere), filled by the study itself at different moments by giving it different sizes. The command runs
as a subprocess, so the workers' own stderr is what is read.
"""

import os
import subprocess
import sys

import pytest

TINY = ["--steps", "2", "--hidden", "4", "--batch", "4", "--seeds", "3"]


def command(*argv, code=None):
    """Run `micrograd-it` (or, with `code`, python -c `code` with argv) in a subprocess; return it finished."""
    if code is None:
        argv_ = [os.path.join(os.path.dirname(sys.executable), "micrograd-it"), *argv]
    else:
        argv_ = [sys.executable, "-c", code, *argv]
    return subprocess.run(argv_, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MPLBACKEND": "Agg"})


@pytest.fixture
def small_disk(tmp_path, request):
    """A folder on a real file system of `request.param` bytes (tmpfs), unmounted after the test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={request.param}", "tmpfs", str(mount_point)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.mark.parametrize("small_disk", [100_000, 1_000_000, 2_000_000], indirect=True)  # full at different files
def test_a_full_disk_during_a_study_is_one_line(small_disk):
    out = small_disk / "out"
    done = command("study", *TINY, "--out", str(out))
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert lines[0].startswith("micrograd-it: error: cannot write") and "No space left on device" in lines[0]
    assert f"'{out}{os.sep}" in lines[0] and ".tmp-job" not in lines[0]  # the file's place in the output folder
    assert not [name for name in os.listdir(out) if name.startswith(".tmp")]  # no half-done job left


BUGGY_WORKER = """
import sys
from micrograd_it_app import cli, study

def broken(folder, *args):
    return {}[sys.argv[1]]  # a KeyError raised in a forked worker, as a bug of ours would

study._figures_job = broken
sys.exit(cli.main(["study", "--steps", "1", "--hidden", "2", "--batch", "2", "--seeds", "2", "--out", sys.argv[2]]))
"""


def test_a_bug_in_a_worker_is_one_line_naming_it(tmp_path):
    done = command("no-such-key", str(tmp_path / "out"), code=BUGGY_WORKER)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and len(lines) == 1, done.stderr
    assert "a worker process of the study failed: KeyError: 'no-such-key'" in lines[0]
    assert "Traceback" not in done.stderr
