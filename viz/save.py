"""Saving a matplotlib figure to a file atomically: a reader never sees half a PNG."""

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
    figure.savefig(buffer, format=suffix, dpi=dpi)
    return atomic_write(path, buffer.getvalue())
