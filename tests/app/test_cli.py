"""The `micrograd-it` command end to end: every subcommand, every error path and its exit code."""

import os
import subprocess
import sys

import pytest

from micrograd_it_app import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_main(capsys, *argv):
    """Run cli.main in-process; return (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, expected_code, *words):
    assert code == expected_code
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("micrograd-it: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in lines[0]


# -- usage errors --------------------------------------------------------------

@pytest.mark.parametrize("argv, words", [
    ([], ["COMMAND"]),
    (["--bogus"], ["--bogus"]),
    (["frobnicate"], ["frobnicate"]),
    (["study", "--steps", "0"], ["--steps", "0"]),
    (["study", "--steps", "many"], ["many"]),
    (["study", "--lr", "-1"], ["--lr"]),
    (["study", "--lr", "nan"], ["--lr"]),
    (["study", "--bogus"], ["--bogus"]),
    (["graph"], ["expression"]),
])
def test_bad_flags_give_one_line_and_exit_code_2(capsys, argv, words):
    code, out, err = run_main(capsys, *argv)
    assert_one_line_error(code, err, 2, *words)


def test_help_exits_zero(capsys):
    code, out, err = run_main(capsys, "--help")
    assert code == 0 and "study" in out and "demo" in out and "graph" in out


# -- graph -----------------------------------------------------------------------

def test_graph_writes_dot_svg_and_png(capsys, tmp_path):
    for suffix in ("dot", "svg", "png"):
        path = tmp_path / "sub" / f"neuron.{suffix}"
        code, out, err = run_main(capsys, "graph", "tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432",
                                  "--out", str(path))
        assert code == 0, err
        data = path.read_bytes()
        if suffix == "png":
            assert data.startswith(b"\x89PNG")
        elif suffix == "svg":
            assert b"<svg" in data
        else:
            assert data.lstrip().startswith((b"digraph", b"strict digraph"))
        # the printed gradient is the chain rule by hand: d/dw tanh(xw + b) = x (1 - t^2), t = 1/sqrt(2)
        assert "d/dw = 1" in out  # x (1 - t^2) = 2 * 0.5


@pytest.mark.parametrize("argv, words", [
    (["graph", "__import__('os').system('echo pwned')", "--out", "{tmp}/g.svg"], ["__import__"]),
    (["graph", "x.y", "x=1", "--out", "{tmp}/g.svg"], ["attribute"]),
    (["graph", "9**9**9", "--out", "{tmp}/g.svg"], ["exponent"]),
    (["graph", "x*w", "x=1", "--out", "{tmp}/g.svg"], ["w="]),
    (["graph", "log(x)", "x=-1", "--out", "{tmp}/g.svg"], ["log"]),
    (["graph", "x", "x=abc", "--out", "{tmp}/g.svg"], ["abc"]),
    (["graph", "x", "x=1", "--out", "{tmp}/g.pdf"], [".pdf"]),
])
def test_graph_user_errors_give_one_line_and_exit_code_1(capsys, tmp_path, argv, words):
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    code, out, err = run_main(capsys, *argv)
    assert_one_line_error(code, err, 1, *words)
    assert list(tmp_path.iterdir()) == []  # nothing half-written


def test_graph_without_a_layout_engine_is_a_clear_error(capsys, tmp_path, monkeypatch):
    import viz.layout

    monkeypatch.setattr(viz.layout, "find_engines", lambda *args, **kwargs: [])
    code, out, err = run_main(capsys, "graph", "x*2", "x=1", "--out", str(tmp_path / "g.svg"))
    assert_one_line_error(code, err, 1, "lay out")


# -- explore -----------------------------------------------------------------------

def test_explore_writes_one_page_with_the_engines_gradients(capsys, tmp_path):
    import json
    import re

    from micrograd_it.expr import build

    path = tmp_path / "n.html"
    code, out, err = run_main(capsys, "explore", "tanh(x*w + b)", "x=2", "w=-3", "b=6.8813735870195432",
                              "--out", str(path))
    assert code == 0 and err == "" and f"wrote {path}" in out
    data = json.loads(re.search(r'id="micrograd-graph">(.*?)</script>', path.read_text(encoding="utf-8"), re.S).group(1))
    root, leaves = build("tanh(x*w + b)", {"x": 2, "w": -3, "b": 6.8813735870195432})
    root.backward()
    grads = {node["label"]: node["grad"] for node in data["nodes"] if node["label"]}
    assert grads == {"out": 1.0, **{name: leaf.grad for name, leaf in leaves.items()}}


@pytest.mark.parametrize("argv, words", [
    (["explore", "__import__('os').system('echo pwned')", "--out", "{tmp}/e.html"], ["__import__"]),
    (["explore", "x*w", "x=1", "--out", "{tmp}/e.html"], ["w="]),
    (["explore", "x", "x=1", "--out", "{tmp}/e.svg"], [".html"]),
])
def test_explore_user_errors_give_one_line_and_exit_code_1(capsys, tmp_path, argv, words):
    argv = [arg.replace("{tmp}", str(tmp_path)) for arg in argv]
    code, out, err = run_main(capsys, *argv)
    assert_one_line_error(code, err, 1, *words)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_folder(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        code, out, err = run_main(capsys, "graph", "x", "x=1", "--out", str(locked / "sub" / "g.svg"))
        assert_one_line_error(code, err, 1, "locked")
    finally:
        locked.chmod(0o700)


def test_output_path_that_is_a_file(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    code, out, err = run_main(capsys, "study", "--out", str(blocker), "--steps", "1")
    assert_one_line_error(code, err, 1, "not a folder")
    assert blocker.read_text() == "keep me"


# -- demo ------------------------------------------------------------------------------

def test_demo_list_names_every_demo_with_its_summary(capsys):
    code, out, err = run_main(capsys, "demo", "--list")
    assert code == 0
    lines = out.strip().splitlines()
    assert [line.split()[0] for line in lines] == cli.DEMOS
    for line, name in zip(lines, cli.DEMOS):
        assert line[len(name):].strip() == cli.demo_summary(name) != ""


def test_unknown_demo(capsys, tmp_path):
    code, out, err = run_main(capsys, "demo", "nope", "--out", str(tmp_path))
    assert_one_line_error(code, err, 1, "nope", "neuron_graph")


def test_every_demo_file_has_main_and_a_script_entry():
    for name in cli.DEMOS:
        source = open(os.path.join(ROOT, "demos", f"{name}.py"), encoding="utf-8").read()
        assert "def main(out_dir" in source and 'if __name__ == "__main__":' in source, name


def test_demo_neuron_graph_through_the_command(capsys, tmp_path):
    code, out, err = run_main(capsys, "demo", "neuron_graph", "--out", str(tmp_path))
    assert code == 0, err
    assert {"neuron.svg", "neuron.png", "neuron_saturated.svg", "neuron_saturated.png"} <= set(os.listdir(tmp_path))
    assert "d o/d w1 = +1" in out  # x1 (1 - o^2) = 2 * 0.5 = 1, the lecture's number


# -- Ctrl-C ------------------------------------------------------------------------------

def test_ctrl_c_exits_130_with_one_line(capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_run_graph", interrupted)
    code, out, err = run_main(capsys, "graph", "x", "x=1")
    assert code == 130
    assert err.strip().splitlines() == ["micrograd-it: interrupted; the files written so far are kept"]


# -- the installed entry points -----------------------------------------------------------------

def test_python_dash_m_runs_the_same_command(tmp_path):
    result = subprocess.run([sys.executable, "-m", "micrograd_it", "demo", "--list"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "neuron_graph" in result.stdout


def test_python_dash_m_error_exit_code(tmp_path):
    result = subprocess.run([sys.executable, "-m", "micrograd_it", "graph", "x.y"],
                            capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert result.returncode == 1
    assert result.stderr.startswith("micrograd-it: error:") and "Traceback" not in result.stderr


def test_output_folder_that_cannot_be_created(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("keep me")
    code, out, err = run_main(capsys, "graph", "x", "x=1", "--out", str(blocker / "sub" / "g.svg"))
    assert_one_line_error(code, err, 1, "cannot create output folder")
    assert blocker.read_text() == "keep me"


# -- every demo runs (on tiny sizes, to keep the suite fast) --------------------------------------

TINY_DEMOS = {
    "activations": {},
    "saturation": {"samples": 3, "hidden": 5},
    "moons": {"steps": 2},
    "dead_relu": {"steps": 2},
    "char_mlp": {"steps": 2, "batch": 2, "hidden": 3, "n_words": 2},
    "gpt": {"steps": 2, "samples": 2},
}


@pytest.mark.parametrize("name", sorted(TINY_DEMOS))
def test_demo_runs_and_writes_what_it_says(name, tmp_path, capsys):
    import importlib

    module = importlib.import_module(f"{cli.DEMO_PACKAGE}.{name}")
    written = module.main(str(tmp_path), **TINY_DEMOS[name])
    out = capsys.readouterr().out
    assert written and sorted(os.path.basename(p) for p in written) == sorted(os.listdir(tmp_path))
    for path in written:
        assert open(path, "rb").read(8).startswith(b"\x89PNG")
        assert f"wrote {path}" in out


def test_demo_steps_reach_a_demo_that_trains_and_are_refused_by_one_that_does_not(capsys, tmp_path):
    code, out, err = run_main(capsys, "demo", "gpt", "--steps", "2", "--out", str(tmp_path / "gpt"))
    assert code == 0 and "step     2/2 |" in out and "gpt_training.png" in out
    code, out, err = run_main(capsys, "demo", "activations", "--steps", "2", "--out", str(tmp_path / "a"))
    assert_one_line_error(code, err, 1, "takes no --steps")
    assert not (tmp_path / "a").exists()


def test_demo_runs_as_a_plain_script(tmp_path):
    result = subprocess.run([sys.executable, os.path.join(ROOT, "demos", "neuron_graph.py"), "--out", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "neuron.svg").exists()


def test_demos_work_after_a_plain_install(tmp_path):
    # `pip install .` (not editable) must ship the demos too: install a copy of the project into a
    # folder and run the command from there, away from the checkout.
    pytest.importorskip("setuptools")
    import shutil

    source = tmp_path / "src"
    for name in ("micrograd_it", "micrograd_it_app", "viz", "demos"):
        shutil.copytree(os.path.join(ROOT, name), source / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(os.path.join(ROOT, name), source / name)
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                              "--target", str(target), str(source)], capture_output=True, text=True, timeout=300)
    if install.returncode != 0:
        pytest.skip(f"pip could not build the project here: {install.stderr.strip()[-200:]}")
    env = dict(os.environ, PYTHONPATH=str(target))
    result = subprocess.run([sys.executable, "-c", "import micrograd_it_demos.neuron_graph as demo, micrograd_it_app.cli;"
                             "print(demo.__file__); raise SystemExit(micrograd_it_app.cli.main(['demo', 'neuron_graph', "
                             f"'--out', {str(tmp_path / 'out')!r}]))"],
                            capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(target))  # the installed copy ran, not the checkout
    assert (tmp_path / "out" / "neuron.svg").exists()


def test_python_dash_m_without_the_viz_extra_says_how_to_install_it(tmp_path):
    # Simulate a missing viz package: an entry of None in sys.modules makes its import fail.
    code = ("import sys, runpy; sys.modules['micrograd_it_app.cli'] = None; sys.argv = ['micrograd-it', 'demo', '--list'];"
            "runpy.run_module('micrograd_it', run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "pip install 'micrograd_it[viz]'" in result.stderr and "Traceback" not in result.stderr


def test_a_real_ctrl_c_during_the_study_keeps_the_finished_files(tmp_path):
    import signal
    import time

    out_dir = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-m", "micrograd_it", "study", "--out", str(out_dir), "--steps", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (out_dir / "activations.png").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)  # the seed-size one-pass (32 x 200 neurons) is running now
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert err == "micrograd-it: interrupted; the files written so far are kept\n"
    assert (out_dir / "activations.png").read_bytes().startswith(b"\x89PNG")
    assert not any(name.startswith(".tmp-") for name in os.listdir(out_dir))


def test_a_swallowed_ctrl_c_is_raised_again_at_the_next_checkpoint():
    # Python ignores a KeyboardInterrupt raised inside __del__ ("Exception ignored in ...");
    # the study must still stop at its next checkpoint instead of running to the end.
    import signal

    from micrograd_it_app._interrupt import catch_interrupts, checkpoint

    class RaisesCtrlCWhenFreed:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    hook_before = sys.unraisablehook
    with catch_interrupts() as interrupts:
        RaisesCtrlCWhenFreed()  # freed at once: the interrupt lands in __del__ and is swallowed
        with pytest.raises(KeyboardInterrupt):
            checkpoint()
    assert interrupts.interrupted
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert sys.unraisablehook is hook_before
    checkpoint()  # nothing pending once the block is over
