import os
import stat

import pytest

from micrograd_it import files
from micrograd_it.files import atomic_write
from tests.interrupts import interrupted_at_line


def test_atomic_write_replaces_whole_file(tmp_path):
    target = tmp_path / "out.json"
    atomic_write(target, "old")
    atomic_write(target, b"new bytes")
    assert target.read_bytes() == b"new bytes"
    assert os.listdir(tmp_path) == ["out.json"]


def test_atomic_write_failure_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, "new")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]


def test_atomic_write_into_missing_folder_raises(tmp_path):
    with pytest.raises(OSError):
        atomic_write(tmp_path / "missing" / "x.txt", "data")


def test_atomic_write_gives_the_mode_open_would(tmp_path):
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = atomic_write(tmp_path / "atomic.txt", "x")
    assert os.stat(atomic).st_mode & 0o777 == os.stat(plain).st_mode & 0o777


# -- symlinks, permissions, error messages, interrupts ------------------------------

def test_writing_onto_a_symlink_writes_its_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert atomic_write(link, "new") == str(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == ["link.json", "real.json"]


def test_a_dangling_symlink_gets_its_target_created(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "later.json")
    atomic_write(link, "x")
    assert link.is_symlink() and (tmp_path / "later.json").read_text() == "x"


def test_a_symlink_loop_is_refused_naming_the_path(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.symlink_to(b)
    b.symlink_to(a)
    with pytest.raises(OSError) as info:
        atomic_write(a, "x")
    assert str(a) in str(info.value)
    assert a.is_symlink() and b.is_symlink()


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o755, 0o444])
def test_an_existing_file_keeps_its_permission_bits(tmp_path, mode):
    target = tmp_path / "secret.json"
    target.write_text("old")
    os.chmod(target, mode)
    atomic_write(target, "new")
    assert stat.S_IMODE(os.stat(target).st_mode) == mode and target.read_text() == "new"


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_a_new_file_gets_the_mode_open_would_give_under_any_umask(tmp_path, umask):
    previous = os.umask(umask)
    try:
        plain = tmp_path / "plain.txt"
        with open(plain, "w") as handle:
            handle.write("x")
        atomic_write(tmp_path / "atomic.txt", "x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "atomic.txt").st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
    assert stat.S_IMODE(os.stat(plain).st_mode) == 0o666 & ~umask


def test_errors_name_the_users_path_not_the_temporary_file(tmp_path, monkeypatch):
    missing = tmp_path / "missing" / "x.txt"
    with pytest.raises(FileNotFoundError) as info:
        atomic_write(missing, "data")
    assert str(missing) in str(info.value) and ".tmp-" not in str(info.value)

    real_open = os.open

    def refusing_open(file, *args, **kwargs):
        if ".tmp-" in str(file):
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing_open)
    target = tmp_path / "out.txt"
    with pytest.raises(PermissionError) as info:
        atomic_write(target, "data")
    assert info.value.filename == str(target) and ".tmp-" not in str(info.value)


def test_writing_onto_a_folder_names_it(tmp_path):
    folder = tmp_path / "a_folder"
    folder.mkdir()
    with pytest.raises(OSError) as info:
        atomic_write(folder, "x")
    assert str(folder) in str(info.value) and ".tmp-" not in str(info.value)
    assert os.listdir(tmp_path) == ["a_folder"] and folder.is_dir()


def test_ctrl_c_while_writing_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    atomic_write(target, "old")

    def interrupted_fsync(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupted_fsync)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, "new")
    assert target.read_text() == "old" and os.listdir(tmp_path) == ["out.txt"]


def _write_interrupted_at_line(path, content, at_line):
    """atomic_write with KeyboardInterrupt raised at the start of its `at_line`-th line; return lines seen."""
    return interrupted_at_line(lambda: atomic_write(path, content), files, at_line)


@pytest.mark.parametrize("through_a_link", [False, True])
def test_an_interrupt_at_any_line_leaves_old_or_new_file_and_nothing_else(tmp_path, through_a_link):
    target = tmp_path / "out.txt"
    atomic_write(target, "old")
    os.chmod(target, 0o600)
    path = target
    if through_a_link:
        path = tmp_path / "link.txt"
        path.symlink_to(target)
    expected_names = sorted(os.listdir(tmp_path))
    lines = _write_interrupted_at_line(path, "new", 0)
    assert lines > 10
    for k in range(1, lines + 1):
        atomic_write(target, "old")
        _write_interrupted_at_line(path, "new", k)
        assert sorted(os.listdir(tmp_path)) == expected_names, f"line {k}: a temporary file was left"
        assert target.read_text() in ("old", "new"), k
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600, k
