"""Finite differences for everyone: check `backward()` against central differences.

`torch.autograd.gradcheck` is the model: a failure names each input that
disagrees, with the analytic value, the numeric value and the tolerance.
"""

import collections
import itertools

from .engine import Value, no_grad

_run = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C

__all__ = ["gradcheck", "central_difference", "GradcheckError"]


class GradcheckError(AssertionError):
    """Analytic and numeric gradients disagree. ``failures`` holds one dict per failing input."""

    def __init__(self, message, failures):
        super().__init__(message)
        self.failures = failures


def _check_inputs(f, inputs):
    if not callable(f):
        raise TypeError(f"gradcheck needs a callable f, got {f!r} ({type(f).__name__})")
    inputs = list(inputs)
    for index, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise TypeError(f"gradcheck input {index} must be a Value, got {value!r} ({type(value).__name__})")
        if not value.is_leaf:
            raise ValueError(f"gradcheck input {index} ({value!r}) must be a leaf, not the output of op '{value.op}'")
    if len({id(value) for value in inputs}) != len(inputs):
        raise ValueError("gradcheck inputs must be distinct Values")
    return inputs


def _evaluate(f, inputs):
    out = f(*inputs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck's f must return a Value, got {out!r} ({type(out).__name__})")
    return out


def central_difference(f, inputs, index, eps=1e-6):
    """Return (f(x_i + eps) - f(x_i - eps)) / (2 eps) for input `index`; `inputs` are left as found."""
    inputs = _check_inputs(f, inputs)
    value = inputs[index]
    original = value.data
    try:
        with no_grad():
            value.data = original + eps
            plus = _evaluate(f, inputs).data
            value.data = original - eps
            minus = _evaluate(f, inputs).data
    finally:
        value.data = original
    return (plus - minus) / (2.0 * eps)


def gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-4):
    """Compare every input's gradient from `backward()` with a central difference.

    `f` takes the Values in `inputs` and returns a Value. Returns True when,
    for every input, ``|analytic - numeric| <= atol + rtol * |numeric|``;
    otherwise raises `GradcheckError` listing index, label, analytic, numeric,
    difference and tolerance of each failing input. Every leaf's data and grad
    are left as they were found.
    """
    inputs = _check_inputs(f, inputs)
    out = _evaluate(f, inputs)
    touched = [node for node in out.nodes() if node.is_leaf] + inputs
    saved_grads = [value.grad for value in touched]
    try:
        for value in touched:
            value.grad = 0.0
        out.backward()
        analytic = [value.grad for value in inputs]
    finally:
        # One call into C puts every grad back: a Ctrl-C cannot leave them half restored.
        _run(map(setattr, touched, itertools.repeat("grad"), saved_grads))

    failures = []
    for index, value in enumerate(inputs):
        try:
            numeric = central_difference(f, inputs, index, eps)
        except (ArithmeticError, ValueError) as error:
            raise GradcheckError(
                f"f raised {type(error).__name__} within eps={eps:g} of input {index}"
                f" (label {value.label!r}, data {value.data!r}): {error}",
                [],
            ) from error
        difference = abs(analytic[index] - numeric)
        tolerance = atol + rtol * abs(numeric)
        if not difference <= tolerance:
            failures.append(
                dict(index=index, label=value.label, data=value.data, analytic=analytic[index],
                     numeric=numeric, difference=difference, tolerance=tolerance)
            )
    if failures:
        lines = [f"gradcheck failed for {len(failures)} of {len(inputs)} inputs (eps={eps:g}, atol={atol:g}, rtol={rtol:g}):"]
        for fail in failures:
            lines.append(
                f"  input {fail['index']} (label {fail['label']!r}, data {fail['data']!r}):"
                f" analytic {fail['analytic']!r}, numeric {fail['numeric']!r},"
                f" difference {fail['difference']:.3g} > tolerance {fail['tolerance']:.3g}"
            )
        raise GradcheckError("\n".join(lines), failures)
    return True
