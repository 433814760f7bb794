"""The replay rules: for each op of the engine, its forward value and local derivatives on plain floats.

``RULES[op](x, y, params) -> (out, d out/d x, d out/d y)``; unary ops ignore
`y` and return 0.0 as its derivative, parameterised ops read their constant
from `params` (``Value.op_params``). These are the formulas of the Value
methods in engine.py, written for floats so that `micrograd_it.tape` can
replay a graph without building Values; tests/test_tape.py checks, for every
op, that they give bit for bit the engine's data and local derivatives.
"""

import math

__all__ = ["RULES"]


def _add(x, y, params):
    return x + y, 1.0, 1.0


def _sub(x, y, params):
    return x - y, 1.0, -1.0


def _mul(x, y, params):
    return x * y, y, x


def _div(x, y, params):
    if y == 0.0:
        raise ZeroDivisionError(f"division by zero: {x!r} / {y!r}")
    out = x / y
    return out, 1.0 / y, -out / y


def _neg(x, y, params):
    return -x, -1.0, 0.0


def _pow(x, y, params):
    n = params[0]
    if x < 0.0 and not n.is_integer():
        raise ValueError(f"{x!r} ** {n!r} is not real: negative base with non-integer exponent")
    if x == 0.0 and n < 1.0 and n != 0.0:
        raise ZeroDivisionError(f"0.0 ** {n!r}: value or derivative is infinite at 0")
    return x**n, (n * x ** (n - 1.0) if n != 0.0 else 0.0), 0.0


def _rpow(x, y, params):
    base = params[0]
    out = base**x
    return out, out * math.log(base), 0.0


def _exp(x, y, params):
    out = math.exp(x)
    return out, out, 0.0


def _log(x, y, params):
    if x <= 0.0:
        raise ValueError(f"log of non-positive value {x!r}")
    return math.log(x), 1.0 / x, 0.0


def _tanh(x, y, params):
    t = math.tanh(x)
    return t, 1 - t**2, 0.0


def _sigmoid(x, y, params):
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    return s, s * (1.0 - s), 0.0


def _relu(x, y, params):
    return (x, 1.0, 0.0) if x > 0.0 else (0.0, 0.0, 0.0)


def _leaky_relu(x, y, params):
    slope = params[0]
    return (x, 1.0, 0.0) if x > 0.0 else (slope * x, slope, 0.0)


def _elu(x, y, params):
    alpha = params[0]
    if x > 0.0:
        return x, 1.0, 0.0
    return alpha * math.expm1(x), alpha * math.exp(x), 0.0


def _softplus(x, y, params):
    out = math.log1p(math.exp(-abs(x))) + (x if x > 0.0 else 0.0)
    return out, _sigmoid(x, y, params)[0], 0.0


_GELU_C = math.sqrt(2.0 / math.pi)


def _gelu(x, y, params):
    cube = x * x * x if abs(x) < 1e100 else math.copysign(math.inf, x)
    t = math.tanh(_GELU_C * (x + 0.044715 * cube))
    sech2 = 1.0 - t * t
    local = 0.5 * (1.0 + t)
    if sech2:
        local += 0.5 * x * sech2 * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
    return 0.5 * x * (1.0 + t), local, 0.0


RULES = {
    "+": _add, "-": _sub, "*": _mul, "/": _div, "neg": _neg, "**": _pow, "rpow": _rpow,
    "exp": _exp, "log": _log, "tanh": _tanh, "sigmoid": _sigmoid, "relu": _relu,
    "leaky_relu": _leaky_relu, "elu": _elu, "softplus": _softplus, "gelu": _gelu,
}
