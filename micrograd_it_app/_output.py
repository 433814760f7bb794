"""Writing results into an output folder: created if missing, never wiped, each file replaced atomically,
and held by one run at a time (a lock file)."""

import contextlib
import os

from micrograd_it.files import atomic_write
from micrograd_it.quoting import quote
from viz.save import save_figure as _save_figure

from ._errors import UserError
from ._interrupt import checkpoint

try:
    import fcntl
except ImportError:  # not on Windows: there runs are not locked
    fcntl = None

__all__ = ["UserError", "LOCK_NAME", "prepare_out_dir", "lock_out_dir", "close_locks_in_child", "save_figure",
           "save_text"]

LOCK_NAME = ".micrograd-it.lock"
_lock_handles = set()  # the lock files this process holds open


def prepare_out_dir(path):
    """Create `path` if needed and check that files can be written there; return its absolute path.

    Existing files are left alone (results are replaced one by one as they are
    written). Raises UserError when the folder cannot be created or written.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not os.path.isdir(path):
        raise UserError(f"output folder {quote(path)} exists and is not a folder")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create output folder {quote(path)}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UserError(f"output folder {quote(path)} is not writable")
    return path


@contextlib.contextmanager
def lock_out_dir(path):
    """Hold the lock file ``path/.micrograd-it.lock`` while the block runs; raise UserError if another run holds it.

    The lock is the kernel's (flock): it ends with the process that holds it,
    however it ends, so a killed run never blocks the next one (forked workers
    close their copy, see close_locks_in_child). The file itself stays:
    removing it would let a third run lock a new file while a second still
    waits on the old one.
    """
    if fcntl is None:
        yield path
        return
    lock_path = os.path.join(path, LOCK_NAME)
    try:
        handle = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    except OSError as error:
        raise UserError(f"cannot create the lock file {quote(lock_path)}: {error.strerror or error}") from None
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 20, 0).decode("ascii", "replace").strip()
            by = f"process {holder}" if holder.isdigit() else "another run"
            raise UserError(f"output folder {quote(path)} is in use by {by} of micrograd-it; "
                            "wait for it to end, or choose another --out") from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        _lock_handles.add(handle)
        yield path
    finally:
        _lock_handles.discard(handle)
        os.close(handle)  # releases the lock


def close_locks_in_child():
    """In a forked child: close the inherited lock files (the parent's lock stays; it ends with the parent); None."""
    while _lock_handles:
        try:
            os.close(_lock_handles.pop())
        except OSError:
            pass


def save_text(path, text):
    """Write `text` to `path` atomically; return the path. Raises UserError if it cannot be written."""
    checkpoint()
    try:
        return atomic_write(path, text)
    except OSError as error:
        raise UserError(f"cannot write {quote(path)}: {error.strerror or error}") from None


def save_figure(figure, path, dpi=100):
    """Save a matplotlib Figure to `path` (.png or .svg, from the suffix) atomically; return the path.

    The figure is rendered into memory first, so a reader never sees half a PNG.
    """
    checkpoint()
    try:
        return _save_figure(figure, path, dpi=dpi)
    except OSError as error:
        raise UserError(f"cannot write {quote(path)}: {error.strerror or error}") from None
