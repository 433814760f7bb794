"""Real signals sent to the real command: Ctrl-C at start-up, SIGTERM in the middle of a study, two studies in one folder.

Every test starts `micrograd-it` (the console script beside this Python, or `python -m micrograd_it`) as a
subprocess and signals it with os.kill, as a terminal or a process manager would.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from micrograd_it_app._output import LOCK_NAME, lock_out_dir

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status (Linux)")

INTERRUPTED = "micrograd-it: interrupted; the files written so far are kept\n"
TERMINATED = "micrograd-it: terminated; the files written so far are kept\n"


def console_script():
    path = os.path.join(os.path.dirname(sys.executable), "micrograd-it")
    if not os.path.exists(path):
        pytest.skip("the console script is not installed beside this Python (pip install -e .)")
    return [path]


def start(command, *argv, **kwargs):
    return subprocess.Popen([*command, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def catches(pid, signum):
    """True when process `pid` has a handler for `signum` (the SigCgt mask of /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    except (FileNotFoundError, ProcessLookupError):
        return False
    return False


def wait_until(condition, timeout=120.0, pause=0.0002, what="the condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(pause)


# -- Ctrl-C during start-up ------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["console script", "python -m"])
def test_ctrl_c_at_any_moment_of_start_up_exits_130_without_a_traceback(tmp_path, command):
    # The moment our code can act is when the process handles SIGTERM: Python itself never catches it, our
    # door (start.py) does on its first line. Before that moment -- the interpreter's own start-up, `site`,
    # the .pth files, and for `python -m` the engine package's import -- a signal is out of our hands (see
    # start.py). From it on, Ctrl-C at any delay (0 to 300 ms: imports of argparse, the engine, matplotlib,
    # then the study's first steps) must give exit 130 and the one line.
    argv = console_script() if command == "console script" else [sys.executable, "-m", "micrograd_it"]
    rng = random.Random(9)
    delays = [0.0, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3] + [rng.uniform(0, 0.3) for _ in range(19)]
    for trial, delay in enumerate(delays):
        out_dir = tmp_path / f"out{trial}"
        process = start(argv, "study", "--out", str(out_dir), "--steps", "1", "--seeds", "1")
        try:
            wait_until(lambda: catches(process.pid, signal.SIGTERM) or process.poll() is not None, timeout=10,
                       what="the command's door takes SIGTERM in hand at start-up")
            assert process.poll() is None, "the command ended before it took SIGTERM in hand"
            time.sleep(delay)
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
        assert (process.returncode, err) == (130, INTERRUPTED), f"trial {trial}, delay {delay * 1000:.1f} ms: {err[-2000:]}"
        assert not out_dir.exists() or not any(path.name.startswith(".tmp-") for path in out_dir.iterdir())


# -- SIGTERM in the middle of a study ---------------------------------------------------------------------------

@pytest.mark.parametrize("written", ["activations.png", "bad_init_loss.png"])
def test_sigterm_mid_study_exits_143_keeping_finished_files_and_no_temporary_ones(tmp_path, written):
    # written: the file whose appearance says where the study is (the first shared figure; or a run finished
    # and moved in while the others still work in their .tmp-job folders)
    out_dir = tmp_path / "out"
    process = start(console_script(), "study", "--out", str(out_dir), "--steps", "3")
    try:
        wait_until(lambda: (out_dir / written).exists() or process.poll() is not None, pause=0.01)
        kept = {path.name: path.read_bytes() for path in out_dir.iterdir() if path.suffix in (".png", ".svg")}
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert (process.returncode, err) == (143, TERMINATED)
    names = {path.name for path in out_dir.iterdir()}
    assert not any(name.startswith(".tmp-") for name in names), names
    for name, data in kept.items():  # what was finished before the signal is still there, whole
        assert (out_dir / name).read_bytes() == data
    assert (out_dir / written).read_bytes().startswith(b"\x89PNG")
    with lock_out_dir(str(out_dir)):  # and the folder is free again
        pass


# -- two studies into one folder ----------------------------------------------------------------------------------

def test_a_second_study_into_the_same_folder_is_refused_and_a_killed_ones_lock_does_not_block(tmp_path):
    out_dir = tmp_path / "out"
    first = start(console_script(), "study", "--out", str(out_dir), "--steps", "3", start_new_session=True)
    try:
        lock = out_dir / LOCK_NAME
        wait_until(lambda: (lock.exists() and lock.read_text().strip() == str(first.pid)) or first.poll() is not None,
                   pause=0.01)
        assert first.poll() is None
        # What the first study has finished so far (its .tmp- files are still being written: it renames them).
        before = {path.name for path in out_dir.iterdir() if not path.name.startswith(".tmp-")}
        second = subprocess.run([*console_script(), "study", "--out", str(out_dir), "--steps", "1"],
                                capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert second.stderr.count("\n") == 1 and second.stderr.startswith("micrograd-it: error: ")
        assert f"in use by process {first.pid}" in second.stderr and "Traceback" not in second.stderr
        assert before <= {path.name for path in out_dir.iterdir()}  # the refused study removed nothing
        os.killpg(first.pid, signal.SIGKILL)  # the first study and its workers die without a word
        first.wait(timeout=60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    third = subprocess.run([*console_script(), "demo", "activations", "--out", str(out_dir)],
                           capture_output=True, text=True, timeout=300)
    assert third.returncode == 0, third.stderr  # the kernel released the killed study's lock
