"""Hypothesis strategies for testing gradients: safe inputs per op and random expression trees.

Needs the `test` extra (``pip install micrograd_it[test]``), which brings
hypothesis. Every op of the engine has one line in `OPS`; the property tests
of the engine and of any user's own code draw from here.

>>> from hypothesis import given
>>> from micrograd_it import gradcheck
>>> from micrograd_it.testing import expressions, well_conditioned
"""

import operator

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - only without the test extra
    raise ImportError("micrograd_it.testing needs hypothesis: pip install 'micrograd_it[test]'") from error

from .engine import Value

__all__ = [
    "reals",
    "away_from",
    "OPS",
    "op_inputs",
    "Expr",
    "expressions",
    "well_conditioned",
]


def reals(low=-20.0, high=20.0):
    """Finite floats in [low, high] (no NaN, no infinity)."""
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def away_from(point, margin, low=-20.0, high=20.0):
    """Finite floats in [low, high] at least `margin` away from `point` (a kink or a pole)."""
    below = reals(low, point - margin)
    above = reals(point + margin, high)
    return st.one_of(below, above)


def _one(strategy):
    return st.tuples(strategy)


def _two(first, second):
    return st.tuples(first, second)


# One line per op: (arity, how to apply it to Values, inputs kept away from
# its kinks and domain edges). Adding an op to the engine = one line here.
OPS = {
    "+": (2, operator.add, _two(reals(), reals())),
    "-": (2, operator.sub, _two(reals(), reals())),
    "*": (2, operator.mul, _two(reals(), reals())),
    "/": (2, operator.truediv, _two(reals(), away_from(0.0, 0.2))),
    "neg": (1, operator.neg, _one(reals())),
    "**2": (1, lambda x: x**2, _one(reals(-50, 50))),
    "**3": (1, lambda x: x**3, _one(reals(-10, 10))),
    "**-1": (1, lambda x: x**-1, _one(away_from(0.0, 0.2))),
    "**0.5": (1, lambda x: x**0.5, _one(reals(0.05, 50))),
    "rpow": (1, lambda x: 2.0**x, _one(reals(-20, 20))),
    "exp": (1, Value.exp, _one(reals(-20, 10))),
    "log": (1, Value.log, _one(reals(0.05, 50))),
    "tanh": (1, Value.tanh, _one(reals(-30, 30))),
    "sigmoid": (1, Value.sigmoid, _one(reals(-30, 30))),
    "relu": (1, Value.relu, _one(away_from(0.0, 1e-3))),
    "leaky_relu": (1, lambda x: x.leaky_relu(0.1), _one(away_from(0.0, 1e-3))),
    "elu": (1, lambda x: x.elu(1.5), _one(away_from(0.0, 1e-3))),
    "softplus": (1, Value.softplus, _one(reals(-30, 30))),
    "gelu": (1, Value.gelu, _one(reals(-10, 10))),
}

# Ops whose derivative jumps at 0 and ops with a pole or a domain edge at 0.
_KINKED = frozenset({"relu", "leaky_relu", "elu"})


def op_inputs(name):
    """Strategy for input tuples of op `name` (a key of `OPS`) that are safe for finite differences."""
    return OPS[name][2]


class Expr:
    """A random expression tree: ``Expr("var", index=0)``, ``Expr("const", value=2.5)`` or an op of `OPS`.

    ``repr`` prints it as infix maths, so hypothesis shrinks to readable counterexamples.
    """

    __slots__ = ("op", "args", "index", "value")

    def __init__(self, op, args=(), index=None, value=None):
        self.op = op
        self.args = tuple(args)
        self.index = index
        self.value = value

    def build(self, inputs, apply=None):
        """Evaluate the tree on `inputs` (Values, or anything `apply` accepts).

        `apply(op_name, *args)` maps an op of `OPS` onto other objects (for
        example PyTorch tensors); by default the engine's own op is used.
        """
        if self.op == "var":
            return inputs[self.index]
        if self.op == "const":
            return self.value if apply is not None else Value(self.value)
        args = [arg.build(inputs, apply) for arg in self.args]
        if apply is not None:
            return apply(self.op, *args)
        return OPS[self.op][1](*args)

    def __repr__(self):
        if self.op == "var":
            return f"x{self.index}"
        if self.op == "const":
            return repr(self.value)
        if OPS[self.op][0] == 2:
            left, right = self.args
            return f"({left!r} {self.op} {right!r})"
        (arg,) = self.args
        if self.op.startswith("**"):
            return f"({arg!r}){self.op}"
        if self.op == "rpow":
            return f"2.0**({arg!r})"
        if self.op == "neg":
            return f"-({arg!r})"
        return f"{self.op}({arg!r})"


def expressions(n_vars=3, max_leaves=10, ops=None):
    """Strategy for random `Expr` trees over variables x0..x{n_vars-1}, constants and `ops` (default: all)."""
    names = sorted(OPS if ops is None else ops)
    unary = [name for name in names if OPS[name][0] == 1]
    binary = [name for name in names if OPS[name][0] == 2]
    variables = st.integers(0, n_vars - 1).map(lambda i: Expr("var", index=i))
    constants = st.sampled_from([0.5, 1.0, 2.0, -3.0]).map(lambda c: Expr("const", value=c))
    leaves = st.one_of(variables, constants)

    def extend(children):
        options = []
        if unary:
            options.append(st.builds(lambda op, arg: Expr(op, (arg,)), st.sampled_from(unary), children))
        if binary:
            options.append(
                st.builds(lambda op, a, b: Expr(op, (a, b)), st.sampled_from(binary), children, children)
            )
        return st.one_of(options)

    return st.recursive(leaves, extend, max_leaves=max_leaves)


def well_conditioned(root, margin=1e-3, pole_margin=0.2, bound=1e4):
    """Return True when finite differences can be trusted on root's graph.

    False when a node's value exceeds `bound`, a relu-like op's input is within
    `margin` of its kink at 0, or a division, log or negative/fractional power
    is within `pole_margin` of its pole at 0.
    """
    for node in root.nodes():
        if abs(node.data) > bound:
            return False
        op = node.op
        if not op:
            continue
        inputs = node.children
        if op in _KINKED and abs(inputs[0].data) < margin:
            return False
        if op == "/" and abs(inputs[1].data) < pole_margin:
            return False
        if op == "log" and inputs[0].data < pole_margin:
            return False
        if op == "**":
            exponent = node.op_params[0]
            if (exponent < 1 or not float(exponent).is_integer()) and abs(inputs[0].data) < pole_margin:
                return False
    return True
