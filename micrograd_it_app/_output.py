"""Writing results into an output folder: created if missing, never wiped, each file replaced atomically."""

import os

from micrograd_it.files import atomic_write
from viz.save import save_figure as _save_figure

from ._interrupt import checkpoint

__all__ = ["UserError", "prepare_out_dir", "save_figure", "save_text"]


class UserError(Exception):
    """A mistake the user can fix (bad folder, unknown demo, ...): the CLI prints it as one line, no traceback."""


def prepare_out_dir(path):
    """Create `path` if needed and check that files can be written there; return its absolute path.

    Existing files are left alone (results are replaced one by one as they are
    written). Raises UserError when the folder cannot be created or written.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"output folder {path!r} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create output folder {path!r}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"output folder {path!r} is not writable")
    return path


def save_text(path, text):
    """Write `text` to `path` atomically; return the path. Raises UserError if it cannot be written."""
    checkpoint()
    try:
        return atomic_write(path, text)
    except OSError as error:
        raise UserError(f"cannot write {path!r}: {error.strerror or error}") from None


def save_figure(figure, path, dpi=100):
    """Save a matplotlib Figure to `path` (.png or .svg, from the suffix) atomically; return the path.

    The figure is rendered into memory first, so a reader never sees half a PNG.
    """
    checkpoint()
    try:
        return _save_figure(figure, path, dpi=dpi)
    except OSError as error:
        raise UserError(f"cannot write {path!r}: {error.strerror or error}") from None
