"""Hypothesis strategies for testing gradients: safe inputs per op and random expression trees.

Needs the `test` extra (``pip install micrograd_it[test]``), which brings
hypothesis. `OPS` has a test case for every op of the catalogue
(`micrograd_it.ops`: each entry's ``examples``), with inputs drawn from the
op's domains, away from its kinks and poles; the property tests of the engine
and of any user's own code draw from here.

>>> from hypothesis import given
>>> from micrograd_it import gradcheck
>>> from micrograd_it.testing import expressions, well_conditioned
"""

try:
    from hypothesis import strategies as st
except ImportError as error:  # pragma: no cover - only without the test extra
    raise ImportError("micrograd_it.testing needs hypothesis: pip install 'micrograd_it[test]'") from error

from .catalogue import CATALOGUE, View
from .engine import Value

__all__ = [
    "reals",
    "away_from",
    "OPS",
    "op_inputs",
    "domain_inputs",
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


KINK_MARGIN = 1e-3  # how far test inputs stay from a kink (relu's 0)
POLE_MARGIN = 0.2  # ... and from a pole or the end of a domain (1/y and log x at 0)


def domain_inputs(domain):
    """Strategy for one input inside `domain` (a catalogue Domain), away from its kinks and poles."""
    cuts = sorted([(point - KINK_MARGIN, point + KINK_MARGIN) for point in domain.kinks]
                  + [(point - POLE_MARGIN, point + POLE_MARGIN) for point in domain.poles])
    pieces, low = [], domain.low
    for start, end in cuts:
        if end <= low or start >= domain.high:
            continue  # outside the domain: nothing to keep away from
        if start > low:
            pieces.append(reals(low, start))
        low = max(low, end)
    if low < domain.high:
        pieces.append(reals(low, domain.high))
    return st.one_of(pieces)


class _Cases(View):
    """test case name -> (arity, how to apply it to Values, strategy for its input tuples)."""

    def __init__(self):
        super().__init__(lambda: {name: case[:3] for name, case in _cases().items()})
        self._ops = View(lambda: {name: case[3] for name, case in _cases().items()})

    def case(self, name):
        """Return (the catalogue entry, its constant or None) of test case `name`."""
        return self._ops[name]


def _apply(definition, param):
    if param is None:
        return lambda *values: getattr(values[0], definition.method)(*values[1:])
    return lambda value: getattr(value, definition.method)(param)


def _cases():
    cases = {}
    for definition in CATALOGUE.values():
        for name, param in definition.examples.items():
            strategy = st.tuples(*[domain_inputs(domain) for domain in definition.domains(param)])
            cases[name] = (definition.arity, _apply(definition, param), strategy, (definition, param))
    return cases


# Each op of the catalogue, as one or more test cases: "tanh", "**2", "**0.5", ...
OPS = _Cases()


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
        definition, param = OPS.case(self.op)
        return definition.formula(*[repr(arg) for arg in self.args], param=param)


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


def well_conditioned(root, margin=KINK_MARGIN, pole_margin=POLE_MARGIN, bound=1e4):
    """Return True when finite differences can be trusted on root's graph.

    False when a node's value exceeds `bound`, or an op's input is within
    `margin` of one of its kinks (relu's 0) or within `pole_margin` of one of
    its poles (1/y, log x, x**-1 at 0), as its catalogue entry's domains say
    (a node made by hand, op "custom", has no entry: only its value is checked).
    """
    for node in root.nodes():
        if abs(node.data) > bound:
            return False
        if node.is_leaf:
            continue
        definition = CATALOGUE.get(node.op)
        if definition is None:  # a node made by hand (op "custom"): no domain is known for it
            continue
        params = node.op_params
        domains = definition.domains(params[0] if params else None)
        for child, domain in zip(node.children, domains):
            x = child.data
            if any(abs(x - kink) < margin for kink in domain.kinks):
                return False
            if any(abs(x - pole) < pole_margin for pole in domain.poles):
                return False
    return True
