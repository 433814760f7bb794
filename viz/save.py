"""Saving a matplotlib figure to a file atomically: a reader never sees half a PNG."""

import contextlib
import io
import os

from micrograd_it.files import atomic_write

__all__ = ["save_figure"]


def save_figure(figure, path, dpi=100):
    """Save a matplotlib Figure to `path` (.png, .svg or .pdf, from the suffix) atomically; return the path.

    The figure is rendered into memory first, then written in one replace.
    Raises OSError when the file cannot be written.
    """
    suffix = os.path.splitext(os.fspath(path))[1].lstrip(".").lower() or "png"
    buffer = io.BytesIO()
    with _laid_out_once(figure, suffix, dpi):
        figure.savefig(buffer, format=suffix, dpi=dpi)
    return atomic_write(path, buffer.getvalue())


@contextlib.contextmanager
def _laid_out_once(figure, suffix, dpi):
    """Lay out a PNG-bound `figure` now, and keep its layout engine switched off while it is saved.

    On a figure with a layout engine (the "constrained" layout viz uses),
    matplotlib's savefig first draws the whole figure without rendering it, to
    lay it out, then draws it again (12 % of a study figure's instructions).
    Laid out here with the renderer savefig then draws with (the figure's Agg
    canvas, which a figure made without pyplot gets here and keeps, at the
    same dpi), the figure is drawn once, to the same bytes. The engine is put
    back afterwards. Anything else (SVG, another dpi than the figure's, a
    canvas that is not Agg's) is saved as matplotlib saves it.
    """
    from matplotlib.backend_bases import FigureCanvasBase
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.layout_engine import PlaceHolderLayoutEngine

    engine = figure.get_layout_engine()
    if (suffix != "png" or engine is None or isinstance(engine, PlaceHolderLayoutEngine) or figure.dpi != dpi
            or type(figure.canvas) not in (FigureCanvasBase, FigureCanvasAgg)):
        yield
        return
    if type(figure.canvas) is FigureCanvasBase:  # a Figure made without pyplot: draw it with Agg, as savefig would
        FigureCanvasAgg(figure)
    engine.execute(figure)
    try:
        figure.set_layout_engine(None)  # no engine at all: savefig's first draw is for a figure's engine
        yield
    finally:
        figure.set_layout_engine(engine)
