"""The study's progress bar (tqdm): nothing on a stream that is not a terminal, a bar that clears its
line on one, a bar in a real Jupyter kernel, Ctrl-C at an update, and no thread left behind."""

import os
import select
import signal
import subprocess
import sys

import pytest

from micrograd_it_app import _interrupt
from micrograd_it_app._progress import Progress


class _Stream:
    """A text stream that says whether it is a terminal and keeps what is written to it."""

    def __init__(self, tty):
        self.tty, self.text = tty, ""

    def isatty(self):
        return self.tty

    def write(self, text):
        self.text += text

    def flush(self):
        pass


def test_progress_bar_is_silent_when_not_a_terminal():
    stream = _Stream(tty=False)
    with Progress(10, "x", stream=stream) as bar:
        for _ in range(10):
            bar.update(loss=1.0)
    assert stream.text == "" and not bar.enabled


def test_progress_bar_draws_on_a_terminal_and_clears_its_line():
    stream = _Stream(tty=True)
    with Progress(4, "run", stream=stream, mininterval=0) as bar:
        for _ in range(4):
            bar.update(loss=0.5)
    drawn = stream.text.split("\r")
    assert any(line.startswith("run: 100%") and "4/4" in line and "loss=0.5000" in line and "step/s" in line
               for line in drawn), stream.text
    # cleared on close: spaces over the last bar (tqdm), back to the line's start, the rest of the line erased
    assert stream.text.endswith("\r\033[K") and drawn[-2].strip() == "" and len(drawn[-2]) > 0


def test_progress_bar_never_goes_past_its_total():
    stream = _Stream(tty=True)
    with Progress(2, "run", stream=stream, mininterval=0) as bar:
        bar.update(steps=5)
        assert bar._bar.n == 2
    assert "2/2" in stream.text and "5/2" not in stream.text


def test_ctrl_c_at_an_update_stops_and_clears_the_bar(monkeypatch):
    stream = _Stream(tty=True)
    monkeypatch.setattr(_interrupt._state, "received", None)
    with pytest.raises(KeyboardInterrupt):
        with Progress(10, "run", stream=stream, mininterval=0) as bar:
            bar.update(loss=0.5)
            monkeypatch.setattr(_interrupt._state, "received", signal.SIGINT)  # a Ctrl-C that a __del__ swallowed
            bar.update(loss=0.25)
    assert "1/10" in stream.text and "2/10" not in stream.text
    assert stream.text.endswith("\r\033[K") and stream.text.split("\r")[-2].strip() == ""
    assert bar._bar is None


def test_the_bar_starts_no_thread():
    # The study forks its workers while the bar is open: no thread (tqdm's monitor) may be running then.
    # In a fresh interpreter, as tqdm starts its monitor once per process.
    code = ("import io, threading\n"
            "from micrograd_it_app._progress import Progress\n"
            "stream = io.StringIO()\n"
            "stream.isatty = lambda: True\n"
            "with Progress(3, 'run', stream=stream) as bar:\n"
            "    bar.update()\n"
            "    print(sorted(type(thread).__name__ for thread in threading.enumerate()))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert result.stdout.strip() == "['_MainThread']", result.stdout


def test_progress_bar_shows_in_a_jupyter_kernel(tmp_path):
    kernel = pytest.importorskip("tests.kernel")
    cell = ("from micrograd_it_app._progress import Progress\n"
            "with Progress(3, 'in a notebook', mininterval=0) as bar:\n"
            "    for _ in range(3):\n"
            "        bar.update(loss=0.5)\n")
    notebook = kernel.execute(kernel.code_notebook([cell]), tmp_path)
    outputs = notebook.cells[0].outputs
    widgets = [output for output in outputs if "application/vnd.jupyter.widget-view+json" in output.get("data", {})]
    text = "".join(output.get("text", "") for output in outputs if output.output_type == "stream")
    # tqdm.auto: a widget where ipywidgets is installed, else tqdm's text bar on the kernel's stderr
    assert widgets or ("in a notebook: 100%" in text and "3/3" in text), outputs


def test_on_a_real_terminal_the_bar_leaves_room_for_an_echoed_ctrl_c():
    # A bar as wide as the terminal puts the cursor in its last column, so the ^C the terminal echoes
    # would wrap to a new line and the bar would stay on screen: it is drawn two columns short.
    pty, fcntl, termios, struct = (pytest.importorskip(name) for name in ("pty", "fcntl", "termios", "struct"))
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))  # 24 rows, 60 columns
    with open(follower, "w", encoding="utf-8", closefd=True) as terminal:
        with Progress(5, "run", stream=terminal, mininterval=0) as bar:
            for _ in range(5):
                bar.update(loss=0.5)
    written = b""
    while select.select([leader], [], [], 0.5)[0]:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # Linux: EIO once the terminal's other end is closed and all was read
            break
        if not chunk:
            break
        written += chunk
    os.close(leader)
    lines = [line for line in written.decode("utf-8").split("\r") if line.strip()]
    assert any("5/5" in line for line in lines), written
    assert max(len(line) for line in lines) == 58, lines
    assert written.endswith(b"\r\033[K")
