"""Writing files so that nothing is ever half-written: a temp file in the same folder, then a rename."""

import os
import tempfile

__all__ = ["atomic_write"]


def _umask():
    # The umask can only be read by setting it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path, content):
    """Write `content` (str or bytes) to `path` atomically; return the path.

    The bytes go to a temporary file beside `path`, are flushed to disk, then
    renamed over `path`, so a reader sees the old file or the new one, never a
    mix. Raises OSError (e.g. PermissionError) when the folder is not writable;
    no temporary file is left behind.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
    handle, temp_path = tempfile.mkstemp(prefix=".tmp-", suffix="-" + os.path.basename(path), dir=folder)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            temp_file.write(data)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(temp_path, 0o666 & ~_umask())
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
        raise
    return path
