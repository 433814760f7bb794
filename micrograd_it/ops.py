"""Every op of the engine, written once: its forward value and its local derivative side by side.

Each op is a plain function on floats: ``x -> (out, d out/d x)``, or for a
two-input op ``(x, y) -> (out, d out/d x, d out/d y)``; a parameterised op
takes its constant too (``x ** n``: ``(x, n)``). The three ops that make most
of a network's nodes, ``+ - *``, give their (constant or product-rule) local
derivatives in their decorator, right above the rule, which then returns only
the value (see `micrograd_it.catalogue.binary` for why). The Value methods are made
from these functions (`micrograd_it.engine`), both replays run them
(`micrograd_it.tape`, and `micrograd_it.tape_numpy` with the ``vectorised``
form written beside an op where the scalar one cannot take arrays), and the
parser, the test strategies, `nn`, tracing and the pictures read the rest of
each entry (see `micrograd_it.catalogue`). ``backward()`` then applies the
chain rule ``child.grad += local * out.grad``; for tanh that is literally
``(1 - t**2) * out.grad``.

To add an op: one entry here, and its closed form in tests/closed_forms.py.
"""

import math

from .catalogue import Activation, Domain, Param, binary, unary

__all__ = []  # the entries are reached through micrograd_it.catalogue.CATALOGUE

_KINK_AT_0 = Domain(kinks=(0.0,))


def _finite_local(local, op, *inputs):
    """Return `local`, or raise OverflowError when it is not finite (it would poison backward)."""
    if not math.isfinite(local):
        raise OverflowError(f"op '{op}': local derivative is {local!r} at inputs {inputs}")
    return local


# -- arithmetic -------------------------------------------------------------------

@binary("+", "__add__", "__radd__", dx=1.0, dy=1.0, forward="x + y", local="1, 1")
def add(x, y):
    # d/dx (x + y) = 1, d/dy (x + y) = 1: declared above, constants
    return x + y


@binary("-", "__sub__", "__rsub__", dx=1.0, dy=-1.0, forward="x - y", local="1, -1")
def sub(x, y):
    # d/dx (x - y) = 1, d/dy (x - y) = -1: declared above, constants
    return x - y


@binary("*", "__mul__", "__rmul__", dx="y", dy="x", forward="x y", local="y, x")
def mul(x, y):
    # d/dx (x * y) = y, d/dy (x * y) = x: declared above, the product rule
    return x * y


@binary("/", "__truediv__", "__rtruediv__", domain=(Domain(), Domain(poles=(0.0,))),
        forward="x / y", local="1/y, -x/y²")
def div(x, y):
    if y == 0.0:
        raise ZeroDivisionError(f"division by zero: {x!r} / {y!r}")
    out = x / y
    # d/dx (x / y) = 1 / y, d/dy (x / y) = -x / y^2 = -out / y
    return out, _finite_local(1.0 / y, "/", x, y), _finite_local(-out / y, "/", x, y)


@div.vectorised
def div_arrays(np, x, y):
    if (y == 0.0).any():
        raise ZeroDivisionError("division by zero")
    out = x / y
    return out, 1.0 / y, -out / y


@unary("neg", "__neg__", notation="-{x}", forward="-x", local="-1")
def neg(x):
    # d/dx (-x) = -1
    return -x, -1.0


def _power_domain(n):
    """x**n has a pole at 0 for n < 1 or a fractional n, and needs x >= 0 for a fractional n;
    |x| is bounded so that x**n stays small enough for finite differences."""
    if not float(n).is_integer():
        return Domain(0.05, 50.0, poles=(0.0,))
    if n < 1.0:
        return Domain(-20.0, 20.0, poles=(0.0,))
    bound = 50.0 if n <= 2.0 else 10.0
    return Domain(-bound, bound)


@unary("**", "__pow__", param=Param("n", what="Value ** exponent"), notation="{x} ** {p}",
       domain=_power_domain, examples={"**2": 2.0, "**3": 3.0, "**-1": -1.0, "**0.5": 0.5},
       forward="xⁿ (n a number)", local="n xⁿ⁻¹")
def power(x, n):
    if x < 0.0 and not n.is_integer():
        raise ValueError(f"{x!r} ** {n!r} is not real: negative base with non-integer exponent")
    if x == 0.0 and n < 1.0 and n != 0.0:
        raise ZeroDivisionError(f"0.0 ** {n!r}: value or derivative is infinite at 0")
    try:
        out = x**n
        # d/dx x^n = n * x^(n-1)
        local = n * x ** (n - 1.0) if n != 0.0 else 0.0
    except OverflowError:
        raise OverflowError(f"op '**' overflowed: {x!r} ** {n!r}") from None
    return out, _finite_local(local, "**", x)


@power.vectorised
def power_arrays(np, x, n):
    if not float(n).is_integer() and (x < 0.0).any():
        raise ValueError(f"negative base ** {n!r} is not real: non-integer exponent")
    if n < 1.0 and n != 0.0 and (x == 0.0).any():
        raise ZeroDivisionError(f"0.0 ** {n!r}: value or derivative is infinite at 0")
    return x**n, (n * x ** (n - 1.0) if n != 0.0 else 0.0)


@unary("rpow", "__rpow__", param=Param("c", what="number ** Value"), notation="{p} ** {x}",
       examples={"rpow": 2.0}, forward="cˣ (c > 0 a number)", local="cˣ ln c")
def rpow(x, c):
    if c <= 0.0:
        raise ValueError(f"number ** Value needs a positive base, got {c!r}")
    try:
        out = c**x
    except OverflowError:
        raise OverflowError(f"op 'rpow' overflowed: {c!r} ** {x!r}") from None
    # d/dx c^x = c^x * ln(c)
    return out, _finite_local(out * math.log(c), "rpow", x)


@rpow.vectorised
def rpow_arrays(np, x, c):
    out = c**x
    return out, out * np.log(c)


# -- exp and log -------------------------------------------------------------------

@unary("exp", domain=Domain(-20.0, 10.0), forward="eˣ", local="eˣ")
def exp(x):
    """Return e**x; raises OverflowError when the result is too large for a float."""
    try:
        out = math.exp(x)
    except OverflowError:
        raise OverflowError(f"op 'exp' overflowed: exp({x!r})") from None
    # d/dx e^x = e^x
    return out, out


@exp.vectorised
def exp_arrays(np, x):
    out = np.exp(x)
    return out, out


@unary("log", domain=Domain(0.05, 50.0, poles=(0.0,)), forward="ln x", local="1/x")
def log(x):
    """Return the natural log; raises ValueError for a value <= 0."""
    if x <= 0.0:
        raise ValueError(f"log of non-positive value {x!r}")
    # d/dx ln(x) = 1 / x
    local = _finite_local(1.0 / x, "log", x)
    return math.log(x), local


@log.vectorised
def log_arrays(np, x):
    if (x <= 0.0).any():
        raise ValueError(f"log of non-positive value {x[x <= 0.0][0]!r}")
    return np.log(x), 1.0 / x


# -- activations -------------------------------------------------------------------

@unary("tanh", domain=Domain(-30.0, 30.0), forward="t = tanh x",
       local="**1 - t²** (0 when t = ±1: the gradient dies)",
       activation=Activation(gain=5.0 / 3.0, saturated=lambda preact, act, threshold: abs(act) > threshold))
def tanh(x: float) -> tuple[float, float]:
    """Return tanh(x); exact and finite for every finite input."""
    t = math.tanh(x)
    # d/dx tanh(x) = 1 - tanh(x)^2: the chain rule step is (1 - t**2) * out.grad,
    # which is 0 when tanh saturates at t = +-1 -- the gradient dies there.
    return t, 1 - t**2


@tanh.vectorised
def tanh_arrays(np, x):
    t = np.tanh(x)
    return t, 1 - t**2


# The gains of the "scaled" init are Kaiming He et al.'s / PyTorch's calculate_gain:
# 5/3 for tanh, sqrt(2) for the rectifiers (softplus and gelu included: for large |x| they
# are relu), 1 for sigmoid. A neuron counts as saturated where it passes (almost) no
# gradient: by default where its local derivative is below 1 - threshold; tanh and
# sigmoid use the usual rules on their output (|h| > 0.99 for tanh).

@unary("sigmoid", domain=Domain(-30.0, 30.0), forward="s = 1/(1+e⁻ˣ)", local="s (1 - s)",
       activation=Activation(gain=1.0, saturated=lambda preact, act, threshold: (act > threshold)
                             | (act < 1.0 - threshold)))
def sigmoid(x):
    """Return 1 / (1 + e**-x), computed without overflow for any finite input."""
    if x >= 0.0:
        s = 1.0 / (1.0 + math.exp(-x))
    else:
        e = math.exp(x)
        s = e / (1.0 + e)
    # d/dx sigmoid(x) = s * (1 - s)
    return s, s * (1.0 - s)


@sigmoid.vectorised
def sigmoid_arrays(np, x):
    e = np.exp(-np.abs(x))  # e^-x for x >= 0, e^x below: never overflows
    s = np.where(x >= 0.0, 1.0 / (1.0 + e), e / (1.0 + e))
    return s, s * (1.0 - s)


@unary("relu", domain=_KINK_AT_0, forward="max(0, x)", local="1 if x > 0 else 0",
       activation=Activation(gain=math.sqrt(2.0)))
def relu(x):
    """Return max(0, x); the derivative at 0 is taken as 0."""
    # d/dx relu(x) = 1 if x > 0 else 0
    return (x, 1.0) if x > 0.0 else (0.0, 0.0)


@relu.vectorised
def relu_arrays(np, x):
    positive = x > 0.0
    return np.where(positive, x, 0.0), np.where(positive, 1.0, 0.0)


@unary("leaky_relu", param=Param("slope", 0.01, "leaky_relu slope"), domain=_KINK_AT_0,
       examples={"leaky_relu": 0.1}, forward="x if x > 0 else slope·x", local="1 or slope",
       activation=Activation(gain=math.sqrt(2.0), caption="slope 0.01: never saturates"))
def leaky_relu(x, slope):
    """Return x if x > 0 else slope * x."""
    # d/dx leaky_relu(x) = 1 if x > 0 else slope
    return (x, 1.0) if x > 0.0 else (slope * x, slope)


@leaky_relu.vectorised
def leaky_relu_arrays(np, x, slope):
    positive = x > 0.0
    return np.where(positive, x, slope * x), np.where(positive, 1.0, slope)


@unary("elu", param=Param("alpha", 1.0, "elu alpha"), domain=_KINK_AT_0, examples={"elu": 1.5},
       forward="x if x > 0 else α(eˣ - 1)", local="1 or α eˣ",
       activation=Activation(gain=math.sqrt(2.0), caption="alpha 1"))
def elu(x, alpha):
    """Return x if x > 0 else alpha * (e**x - 1)."""
    if x > 0.0:
        return x, 1.0
    # d/dx alpha * (e^x - 1) = alpha * e^x
    return alpha * math.expm1(x), alpha * math.exp(x)


@elu.vectorised
def elu_arrays(np, x, alpha):
    positive = x > 0.0
    negative_part = np.minimum(x, 0.0)
    return np.where(positive, x, alpha * np.expm1(negative_part)), np.where(positive, 1.0, alpha * np.exp(negative_part))


@unary("softplus", domain=Domain(-30.0, 30.0), forward="ln(1 + eˣ)", local="sigmoid(x)",
       activation=Activation(gain=math.sqrt(2.0), caption="a smooth relu"))
def softplus(x):
    """Return ln(1 + e**x), computed without overflow."""
    out = math.log1p(math.exp(-abs(x))) + (x if x > 0.0 else 0.0)
    # d/dx softplus(x) = sigmoid(x)
    return out, sigmoid.rule(x)[0]


@softplus.vectorised
def softplus_arrays(np, x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0), sigmoid_arrays(np, x)[0]


_GELU_C = math.sqrt(2.0 / math.pi)


@unary("gelu", domain=Domain(-10.0, 10.0),
       forward="½x(1 + tanh(c(x + 0.044715x³))), c = √(2/π) (**tanh approximation**)",
       local="½(1+t) + ½x(1-t²)c(1 + 3·0.044715x²)",
       activation=Activation(gain=math.sqrt(2.0), caption="tanh approximation"))
def gelu(x):
    """Return GELU with the tanh approximation: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi)."""
    cube = x * x * x if abs(x) < 1e100 else math.copysign(math.inf, x)
    t = math.tanh(_GELU_C * (x + 0.044715 * cube))
    # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
    sech2 = 1.0 - t * t
    local = 0.5 * (1.0 + t)
    if sech2:
        local += 0.5 * x * sech2 * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
    return 0.5 * x * (1.0 + t), local


@gelu.vectorised
def gelu_arrays(np, x):
    cube = np.where(np.abs(x) < 1e100, x * x * x, np.copysign(np.inf, x))
    t = np.tanh(_GELU_C * (x + 0.044715 * cube))
    sech2 = 1.0 - t * t
    slope = np.where(sech2 != 0.0, 0.5 * x * sech2 * _GELU_C * (1.0 + 3 * 0.044715 * x * x), 0.0)
    return 0.5 * x * (1.0 + t), 0.5 * (1.0 + t) + slope


# -- trigonometry ------------------------------------------------------------------

@unary("sin", forward="sin x", local="cos x")
def sin(x):
    """Return sin(x)."""
    # d/dx sin(x) = cos(x)
    return math.sin(x), math.cos(x)


@sin.vectorised
def sin_arrays(np, x):
    return np.sin(x), np.cos(x)
