"""A writable home for matplotlib's config and cache when its default is not (a read-only or missing HOME).

matplotlib writes its font cache into its config folder ($MPLCONFIGDIR, else
$XDG_CONFIG_HOME/matplotlib or ~/.config/matplotlib on Linux). When that
cannot be written (a container user without a home, HOME read-only) it prints
two warning lines on stderr and makes a fresh temporary folder on every start.
The command's stderr is its own one-line contract (_errors.py), so before
matplotlib is imported the command points MPLCONFIGDIR at a folder of its own:
``micrograd-it-matplotlib-<uid>`` in the temporary folder, made private
(0700) and kept between runs so the font cache is built once. Nothing is done
when MPLCONFIGDIR is set or the default can be written.
"""

import os
import stat
import sys
import tempfile

__all__ = ["ensure_matplotlib_home"]


def _default_config_dir(environ):
    """matplotlib's default config folder on this system (its _get_config_or_cache_dir, without MPLCONFIGDIR)."""
    home = environ.get("HOME") or os.path.expanduser("~")
    if sys.platform.startswith(("linux", "freebsd")):
        base = environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
        return os.path.join(base, "matplotlib")
    return os.path.join(home, ".matplotlib")


def _writable(folder):
    """True when `folder` is a writable folder or can be made one (as matplotlib would make it)."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK) and os.path.isdir(folder)


def _own_private_folder(path):
    """True when `path` is a real folder (no link) of this user that nobody else can write."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def ensure_matplotlib_home(environ=os.environ):
    """Set environ["MPLCONFIGDIR"] to a private writable folder when matplotlib's default is not writable.

    Returns the folder set, or None when nothing was needed (MPLCONFIGDIR given, or the default writable).
    Call it before matplotlib is imported: matplotlib reads the variable once.
    """
    if environ.get("MPLCONFIGDIR") or _writable(_default_config_dir(environ)):
        return None
    folder = os.path.join(tempfile.gettempdir(), f"micrograd-it-matplotlib-{os.getuid()}")
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass
    except OSError:
        folder = None
    if folder is None or not _own_private_folder(folder):  # another user's, or a link: a fresh one of our own
        folder = tempfile.mkdtemp(prefix="micrograd-it-matplotlib-")
    environ["MPLCONFIGDIR"] = folder
    return folder
