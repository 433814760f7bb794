"""A home folder that cannot be written: matplotlib's warnings about it never reach the command's stderr."""

import os
import subprocess
import sys

from micrograd_it_app._mpl_home import ensure_matplotlib_home


def study(tmp_path, *argv):
    # HOME under /dev/null cannot be made even by root: matplotlib's default config folder is not writable
    env = {key: value for key, value in os.environ.items()
           if key not in ("MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")}
    env.update(HOME="/dev/null", TMPDIR=str(tmp_path), MPLBACKEND="Agg")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), "micrograd-it"), "study", "--steps", "1",
                           "--hidden", "2", "--batch", "2", "--seeds", "1", *argv],
                          capture_output=True, text=True, env=env, timeout=600)


def test_a_study_with_an_unwritable_home_prints_nothing_on_stderr(tmp_path):
    done = study(tmp_path, "--out", str(tmp_path / "out"))
    assert done.returncode == 0 and done.stderr == "", done.stderr
    folder = tmp_path / f"micrograd-it-matplotlib-{os.getuid()}"
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"
    again = study(tmp_path, "--out", str(tmp_path / "out2"))  # the same folder, reused
    assert again.returncode == 0 and again.stderr == ""


def test_an_error_with_an_unwritable_home_is_our_one_line(tmp_path):
    done = study(tmp_path, "--high-lr", "1e300", "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("micrograd-it: error:")


def test_nothing_changes_when_the_default_is_writable_or_the_variable_is_set(tmp_path):
    environ = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    assert ensure_matplotlib_home(environ) is None and "MPLCONFIGDIR" not in environ
    given = {"HOME": "/dev/null", "MPLCONFIGDIR": str(tmp_path)}
    assert ensure_matplotlib_home(given) is None and given["MPLCONFIGDIR"] == str(tmp_path)


def test_a_folder_of_that_name_that_is_a_link_is_not_used(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / f"micrograd-it-matplotlib-{os.getuid()}").symlink_to(tmp_path / "elsewhere")
    environ = {"HOME": "/dev/null"}
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    folder = ensure_matplotlib_home(environ)
    assert environ["MPLCONFIGDIR"] == folder and os.path.dirname(folder) == str(tmp_path)
    assert not os.path.islink(folder) and folder != str(tmp_path / f"micrograd-it-matplotlib-{os.getuid()}")
