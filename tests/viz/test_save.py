"""viz.save.save_figure lays a PNG's figure out once (not in a draw of its own): the same bytes as matplotlib's savefig.

Each figure is made twice from the same numbers: one saved by matplotlib's own `Figure.savefig`, the other by
save_figure; the files must be equal byte for byte, and the figure must keep its layout engine.
"""

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

matplotlib.use("Agg")

from viz import plots  # noqa: E402
from viz.save import save_figure  # noqa: E402


def _busy(layout="constrained", dpi=None):
    """A figure with what moves a layout: two axes, a colorbar, a log axis, a legend outside, a suptitle."""
    figure = Figure(figsize=(9, 3.5), layout=layout, **({} if dpi is None else {"dpi": dpi}))
    left, right = figure.subplots(1, 2, width_ratios=[1.3, 1])
    image = left.imshow(np.linspace(1e-6, 1.0, 60).reshape(6, 10), norm=LogNorm(1e-6, 1.0), aspect="auto")
    figure.colorbar(image, ax=left, label="a long colorbar label")
    right.hist(np.geomspace(1e-8, 10, 200), bins=np.geomspace(1e-8, 10, 30), label="counts")
    right.set(xscale="log", xlabel="one step's update", title="a title\non two lines")
    figure.legend(loc="outside lower center", ncols=2)
    figure.suptitle("Bold, long enough to need the room", fontweight="bold")
    return figure


def _matplotlib_png(figure, dpi=100):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


MAKERS = {
    "busy": _busy,
    "tight": lambda: _busy(layout="tight"),
    "no layout": lambda: _busy(layout=None),
    "loss curve": lambda: plots.loss_curve([3.0, 2.5, 2.0, 1.5, 1.2, 1.1], window=2).figure,
    "gallery": plots.activation_gallery,
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_the_png_is_matplotlibs_byte_for_byte_and_the_layout_engine_stays(tmp_path, name):
    ours, theirs = MAKERS[name](), MAKERS[name]()
    engine = ours.get_layout_engine()
    save_figure(ours, tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes() == _matplotlib_png(theirs)
    assert ours.get_layout_engine() is engine
    # and a second save is matplotlib's second save (which lays out again from the first one's layout)
    assert _matplotlib_png(ours) == _matplotlib_png(theirs)


@pytest.mark.parametrize("dpi", [72, 150])
def test_another_dpi_than_the_figures_is_saved_as_matplotlib_saves_it(tmp_path, dpi):
    save_figure(_busy(), tmp_path / "f.png", dpi=dpi)
    assert (tmp_path / "f.png").read_bytes() == _matplotlib_png(_busy(), dpi=dpi)


def test_an_svg_is_saved_as_matplotlib_saves_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # the SVG's date
    matplotlib.rcParams["svg.hashsalt"] = "fixed"  # and its ids are random otherwise
    try:
        save_figure(_busy(), tmp_path / "f.svg")
        buffer = io.BytesIO()
        _busy().savefig(buffer, format="svg", dpi=100)
    finally:
        matplotlib.rcParams["svg.hashsalt"] = None
    assert (tmp_path / "f.svg").read_bytes() == buffer.getvalue()
