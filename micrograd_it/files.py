"""Writing files so that nothing is ever half-written: a temp file in the same folder, then a rename.

Public: every room that writes a file uses `atomic_write` -- the engine's
``save()``, the pictures (viz), the application's report and output folders,
and your own code (``from micrograd_it.files import atomic_write``).
"""

import os
import stat

__all__ = ["atomic_write"]


def atomic_write(path, content):
    """Write `content` (str or bytes) to `path` atomically; return the path.

    The bytes go to a temporary file beside the file, are flushed to disk, then
    renamed over it, so a reader sees the old file or the new one, never a mix.
    A symlink is followed: its target gets the new bytes and the link stays.
    An existing file keeps its permission bits; a new one gets what a plain
    open() would give (0o666 minus the umask). Raises OSError (e.g.
    PermissionError) naming `path` when the file cannot be written; on any
    error (Ctrl-C included) no temporary file is left behind.
    """
    path = os.fspath(path)
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    target = os.path.realpath(path)
    if os.path.islink(target):  # realpath stops at a symlink loop; open() would refuse it
        raise OSError(40, "Too many levels of symbolic links", path)
    try:
        existing = os.stat(target)
    except FileNotFoundError:
        existing = None
    except OSError as error:
        raise _naming(error, path) from None
    folder, name = os.path.split(target)
    temp_path = None
    try:
        while True:
            # The name is chosen before the file exists, so an interrupt at any moment
            # leaves a name the clean-up below can remove.
            temp_path = os.path.join(folder, f".tmp-{os.urandom(4).hex()}-{name}")
            try:
                handle = _open_temp(temp_path, existing)
                break
            except FileExistsError:  # another writer's temporary file: not ours to remove
                temp_path = None
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        os.replace(temp_path, target)
        temp_path = None
    except OSError as error:
        raise _naming(error, path) from None
    finally:
        if temp_path is not None:
            try:
                os.unlink(temp_path)
            except OSError:
                pass
    return path


def _open_temp(temp_path, existing):
    """Create `temp_path` (it must not exist) with the final file's mode; return its file descriptor."""
    if existing is None:
        # the kernel applies the umask: exactly the mode a plain open() would give
        return os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    handle = os.open(temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(handle, stat.S_IMODE(existing.st_mode))
    except BaseException:
        os.close(handle)
        raise
    return handle


def _naming(error, path):
    """The same kind of OSError, naming the file the caller asked for (not a temporary one)."""
    if error.errno is not None:
        try:
            return type(error)(error.errno, error.strerror, path)
        except TypeError:  # a subclass with its own signature
            return OSError(error.errno, error.strerror, path)
    return type(error)(f"cannot write {path!r}: {error}")
