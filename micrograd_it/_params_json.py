"""Parameters to and from JSON ({name: number}), for Module.save / Module.load. Never pickle."""

import collections
import itertools
import json
import math
import os

from .files import atomic_write

__all__ = ["save_parameters", "load_parameters"]

FILE_FORMAT = "micrograd_it.parameters"
_run = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C


def save_parameters(named, path, about=""):
    """Write [(name, Value)] as {"format", "model": about, "parameters": {name: data}} to `path` atomically; return path."""
    document = {
        "format": FILE_FORMAT,
        "model": about,
        "parameters": {name: value.data for name, value in named},
    }
    return atomic_write(path, json.dumps(document, indent=1) + "\n")


MAX_FILE_BYTES = 64 * 1024 * 1024  # far above any model here (a 1M-parameter file is ~30 MB)


class _DuplicateName(ValueError):
    def __init__(self, name):
        super().__init__(name)
        self.name = name


def load_parameters(named, path):
    """Set each Value of [(name, Value)] from the file at `path`; return None.

    Raises ValueError naming the file (too large, not UTF-8, not JSON, nested
    too deep, a name given twice, not our format, missing or unexpected
    names, a value that is not a finite number) before assigning anything;
    OSError when it cannot be read. On any error the Values are unchanged.
    """
    document = _read_json(path)
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise ValueError(f"load: {path} is not a micrograd_it parameter file (no format {FILE_FORMAT!r})")
    saved = document.get("parameters")
    if not isinstance(saved, dict):
        raise ValueError(f"load: {path} has no 'parameters' object")
    _check_names(path, [name for name, _ in named], saved)
    for name, number in saved.items():
        if not _is_finite_number(number):
            raise ValueError(
                f"load: parameter {_shown(name)} in {path} must be a finite number, got {_shown(number)}"
                f" ({type(number).__name__})"
            )
    values = [value for _, value in named]
    numbers = [float(saved[name]) for name, _ in named]
    # One call into C sets them all: a Ctrl-C cannot leave the model half loaded.
    _run(map(setattr, values, itertools.repeat("data"), numbers))


def _read_json(path):
    """Return the JSON document in the file at `path`; raise ValueError naming the file when it is not one."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise ValueError(f"load: {path} is {size:,} bytes, more than a parameter file may be ({MAX_FILE_BYTES:,})")
        data = handle.read(MAX_FILE_BYTES + 1)  # a special file may report size 0
    if len(data) > MAX_FILE_BYTES:
        raise ValueError(f"load: {path} holds more than {MAX_FILE_BYTES:,} bytes, more than a parameter file may")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"load: {path} is not UTF-8 text (byte {error.start} is {data[error.start]:#04x})") from None
    try:
        return json.loads(text, object_pairs_hook=_refuse_duplicate_names)
    except json.JSONDecodeError as error:
        raise ValueError(f"load: {path} is not JSON: {error}") from None
    except RecursionError:
        raise ValueError(f"load: {path} is nested too deeply to be a parameter file") from None
    except _DuplicateName as error:
        raise ValueError(f"load: {path} gives the name {_shown(error.name)} twice in one object: ambiguous") from None
    except ValueError as error:  # e.g. an integer of more digits than Python converts
        reason = str(error).split(";")[0]  # without the advice to raise Python's limit
        raise ValueError(f"load: {path} holds a number that cannot be read: {reason}") from None


def _refuse_duplicate_names(pairs):
    document = {}
    for name, value in pairs:
        if name in document:
            raise _DuplicateName(name)
        document[name] = value
    return document


def _shown(value, limit=80):
    """repr(value), shortened to about `limit` characters (a file may hold anything)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<an int of {value.bit_length()} bits>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_finite_number(number):
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return False
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float
        return False


def _check_names(path, expected, saved):
    missing = [name for name in expected if name not in saved]
    expected_set = set(expected)
    unexpected = [name for name in saved if name not in expected_set]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {', '.join(map(_shown, missing[:3]))})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(map(_shown, unexpected[:3]))})")
        raise ValueError(
            f"load: {path} does not match the model's shapes: " + ", ".join(parts)
            + f"; the model has {len(expected)} parameters, the file {len(saved)}"
        )
