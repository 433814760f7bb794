"""Parameters to and from JSON ({name: number}), for Module.save / Module.load. Never pickle."""

import json
import math

from ._files import atomic_write

__all__ = ["save_parameters", "load_parameters"]

FILE_FORMAT = "micrograd_it.parameters"


def save_parameters(named, path, about=""):
    """Write [(name, Value)] as {"format", "model": about, "parameters": {name: data}} to `path` atomically; return path."""
    document = {
        "format": FILE_FORMAT,
        "model": about,
        "parameters": {name: value.data for name, value in named},
    }
    return atomic_write(path, json.dumps(document, indent=1) + "\n")


def load_parameters(named, path):
    """Set each Value of [(name, Value)] from the file at `path`; return None.

    Raises ValueError (not JSON, not our format, missing or unexpected names,
    a value that is not a finite number) before assigning anything.
    """
    with open(path, encoding="utf-8") as handle:
        try:
            document = json.load(handle)
        except json.JSONDecodeError as error:
            raise ValueError(f"load: {path} is not JSON: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
        raise ValueError(f"load: {path} is not a micrograd_it parameter file (no format {FILE_FORMAT!r})")
    saved = document.get("parameters")
    if not isinstance(saved, dict):
        raise ValueError(f"load: {path} has no 'parameters' object")
    _check_names(path, [name for name, _ in named], saved)
    for name, number in saved.items():
        if not _is_finite_number(number):
            raise ValueError(
                f"load: parameter {name!r} in {path} must be a finite number, got {number!r} ({type(number).__name__})"
            )
    for name, value in named:
        value.data = float(saved[name])


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
            parts.append(f"{len(missing)} missing (e.g. {missing[:3]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[:3]})")
        raise ValueError(
            f"load: {path} does not match the model's shapes: " + ", ".join(parts)
            + f"; the model has {len(expected)} parameters, the file {len(saved)}"
        )
