"""Every file writer of the project goes through atomic_write: a symlink's target is written (the link stays),
an existing file keeps its permission bits, a new one gets the umask's mode, an error names the user's file
and leaves no temporary file behind.

The writers: Module.save, viz.save.save_figure, savefig of a figure viz made, viz.graph.render (.svg and
.dot), an explorer page's save, and the study's move of a worker's finished files into the output folder.
"""

import os
import stat

import pytest

from micrograd_it import Value
from micrograd_it.nn import MLP

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("graphviz")


def _graph():
    out = (Value(0.5, label="x") * 3.0).tanh()
    out.backward()
    return out


def _module_save(path):
    MLP(2, [2, 1], seed=0).save(path)


def _save_figure(path):
    from viz.plots import loss_curve
    from viz.save import save_figure

    save_figure(loss_curve([3.0, 2.0, 1.0]).figure, path)


def _viz_savefig(path):
    from viz.plots import loss_curve

    loss_curve([3.0, 2.0, 1.0]).figure.savefig(path)


def _render(path):
    from viz.graph import render

    render(_graph(), path)


def _explore(path):
    from viz.explore import explore

    explore(_graph()).save(path)


def _moved_in(path):
    from micrograd_it_app._parallel import _move_files

    folder = os.path.join(os.path.dirname(os.path.realpath(path)), "worker")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, os.path.basename(path)), "w") as finished:
        finished.write("from a worker\n")
    _move_files(folder, os.path.dirname(path))


WRITERS = {"Module.save": (_module_save, "m.json"), "save_figure": (_save_figure, "f.png"),
           "Figure.savefig": (_viz_savefig, "f.png"), "render svg": (_render, "g.svg"),
           "render dot": (_render, "g.dot"), "explore page": (_explore, "p.html"),
           "study move": (_moved_in, "r.txt")}


def _leftovers(folder):
    return [name for name in os.listdir(folder) if name.startswith(".tmp-")]


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_symlink_is_followed_and_a_0600_file_stays_0600(writer, tmp_path):
    write, name = WRITERS[writer]
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / name
    target.write_bytes(b"old")
    os.chmod(target, 0o600)
    link = link_dir / name
    link.symlink_to(target)
    write(link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old" and len(target.read_bytes()) > 10
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert _leftovers(real_dir) == [] and _leftovers(link_dir) == []


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_new_file_gets_the_umask_mode(writer, tmp_path):
    write, name = WRITERS[writer]
    old = os.umask(0o027)
    try:
        write(tmp_path / name)
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o666 & ~0o027


@pytest.mark.parametrize("writer", sorted(set(WRITERS) - {"study move"}))
def test_an_error_names_the_users_file_and_leaves_no_temporary_file(writer, tmp_path):
    write, name = WRITERS[writer]
    (tmp_path / "a_file").write_text("not a folder")
    path = tmp_path / "a_file" / name  # fails for every user, root included
    with pytest.raises(OSError) as info:
        write(path)
    assert str(path) in str(info.value) and ".tmp-" not in str(info.value)
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("suffix", ["svg", "png", "pdf"])
def test_a_viz_figure_that_fails_to_render_leaves_the_old_file_whole(suffix, tmp_path):
    from viz.plots import loss_curve

    path = tmp_path / f"f.{suffix}"
    path.write_bytes(b"the old figure")
    ax = loss_curve([3.0, 2.0, 1.0])
    ax.set_title("$\\undefined$")  # raw mathtext, set by the user: matplotlib raises while drawing
    with pytest.raises(ValueError):
        ax.figure.savefig(path)
    assert path.read_bytes() == b"the old figure" and _leftovers(tmp_path) == []
