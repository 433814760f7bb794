"""The op catalogue's machinery: what one op definition holds, how it is registered, and views on it.

The ops themselves are defined in `micrograd_it.ops`, one entry each. An entry
is a plain function on floats that returns the op's value and its local
derivative side by side (``(out, local)``; a two-input op ``(out, dx, dy)``),
registered with `unary` or `binary` together with what the rest of the
project needs to know about the op: the name of its Value method, its
constant parameter, where its inputs are smooth (`Domain`, for the test
strategies), how it saturates if it is an activation (`Activation`), its
vectorised form for the numpy replay, and its row of the docs' table.

Everything else reads this table -- Value's methods (made by the engine from
each entry), both replays, the expression parser, the hypothesis strategies,
the activation lists of `nn` and of the pictures, tracing's saturation rule
-- so adding an op is one entry in ops.py (plus its closed form in the
tests). This module imports nothing of the engine.
"""

from collections.abc import Mapping

__all__ = ["CATALOGUE", "OpDef", "Domain", "Param", "Activation", "unary", "binary", "unregister",
           "PRODUCT", "CUSTOM", "watch", "View", "ACTIVATIONS", "table"]

CATALOGUE = {}  # op name -> OpDef, in the order the ops were registered
# The op name of a node made by hand, ``Value(data, children, local_grads)`` (microgpt's way):
# it has no entry here (no rule, only the local derivatives it was given), so no op may take the name.
CUSTOM = "custom"
_watchers = []  # (on_register, on_unregister): the engine makes and removes Value's methods
_version = [0]  # bumped on every change, so that a View knows when to rebuild


class Domain:
    """Where one input of an op is smooth: [low, high], less its kinks and poles.

    ``kinks``: points where the derivative jumps (relu at 0), so finite
    differences across them are wrong. ``poles``: points where the value or
    the derivative is infinite, or where the domain ends (1/y and log x at 0).
    The test strategies draw inputs from [low, high] away from both.
    """

    __slots__ = ("low", "high", "kinks", "poles")

    def __init__(self, low=-20.0, high=20.0, kinks=(), poles=()):
        self.low, self.high = float(low), float(high)
        self.kinks, self.poles = tuple(kinks), tuple(poles)

    def __repr__(self):
        return f"Domain({self.low:g}, {self.high:g}, kinks={self.kinks}, poles={self.poles})"


class Param:
    """The constant of a parameterised op: its name, its default (None: it must be given),
    and how error messages call it (``what``)."""

    __slots__ = ("name", "default", "what")

    def __init__(self, name, default=None, what=None):
        self.name, self.default = name, default
        self.what = what or name


class Activation:
    """How an op serves as a neuron's activation.

    ``gain``: std(w) * sqrt(fan_in) of the "scaled" init. ``saturated(preact,
    act, threshold)``: when one neuron on one sample passes (almost) no
    gradient; None for the default rule, the local derivative below
    ``1 - threshold``. It is applied to floats and, by the torch traces, to
    whole tensors, so it is written elementwise (``|``, not ``or``).
    ``caption``: a few words for the gallery's title.
    """

    __slots__ = ("gain", "saturated", "caption")

    def __init__(self, gain, saturated=None, caption=""):
        self.gain, self.saturated, self.caption = gain, saturated, caption


class OpDef:
    """One op of the catalogue; made by `unary` / `binary`, read by everything else."""

    def __init__(self, name, arity, rule, method, reflected, param, domain, examples, activation,
                 forward, local, notation, declared=None):
        self.name, self.arity, self.rule = name, arity, rule
        self.declared = declared  # a binary op's (dx, dy) given beside its rule, or None: see `binary`
        self.method, self.reflected, self.param = method, reflected, param
        self._domain, self.activation = domain, activation
        self.forward, self.local = forward, local
        self.notation = notation or ("{x} " + name + " {y}" if arity == 2 else None)
        if examples is None:
            examples = {name: None if param is None else param.default}
        self.examples = dict(examples)  # test case name -> the param (None for an op without one)
        self.arrays = None  # the vectorised form, (np, x[, y or param]) -> like rule; set by `.vectorised`

    def vectorised(self, function):
        """Decorator: `function(np, *inputs)` is this op's form on numpy arrays (numpy passed in, so
        this package never imports it). Without one, the numpy replay applies the scalar rule to arrays."""
        self.arrays = function
        return function

    def evaluate(self, *args):
        """Return the op's value and local derivatives at float inputs: ``(out, local)`` or ``(out, dx, dy)``
        (the rule's result, with a binary op's declared derivatives filled in)."""
        return self._complete(self.rule(*args), args)

    def on_arrays(self, np, *args):
        """The same as `evaluate` on numpy arrays, with the vectorised form (or the scalar rule, which
        then must work on arrays as it is)."""
        result = self.arrays(np, *args) if self.arrays is not None else self.rule(*args)
        return self._complete(result, args)

    def _complete(self, result, args):
        if self.declared is None:
            return result
        if self.declared == PRODUCT:
            return result, args[1], args[0]
        return (result,) + self.declared

    def domains(self, param=None):
        """Return one Domain per input, for this op with constant `param`."""
        domain = self._domain(param) if callable(self._domain) else self._domain
        return (domain,) if isinstance(domain, Domain) else tuple(domain)

    def local_at(self, x):
        """The local derivative of a one-input op at x, with the default constant."""
        if self.param is None:
            return self.rule(x)[1]
        return self.rule(x, self.param.default)[1]

    def text(self, params=()):
        """The op as a node shows it: ``"tanh"``, ``"**3"``, ``"2**"``, ``"leaky_relu(0.01)"``."""
        if not params:
            return self.name
        if self.notation is not None:
            return self.notation.format(x="", y="", p=f"{params[0]:g}").replace(" ", "")
        return f"{self.name}({', '.join(f'{p:g}' for p in params)})"

    def formula(self, x, y="", param=None):
        """The op written as maths around argument texts: ``"tanh(x0)"``, ``"(x0) ** 2"``, ``"(a + b)"``."""
        if self.arity == 2:
            return "(" + self.notation.format(x=x, y=y) + ")"
        if self.notation is not None:
            return self.notation.format(x=f"({x})", p=f"{param:g}" if param is not None else "")
        return f"{self.name}({x})" if param is None else f"{self.name}({x}, {param:g})"

    def usage(self):
        """How to call it on Values, for the docs' table: ``"x + y"``, ``"x.tanh()"``, ``"x ** n"``."""
        if self.notation is not None:
            return self.notation.format(x="x", y="y", p=self.param.name if self.param else "")
        if self.param is None:
            return f"x.{self.method}()"
        default = "" if self.param.default is None else f"={self.param.default:g}"
        return f"x.{self.method}({self.param.name}{default})"

    def __repr__(self):
        return f"<op {self.name!r}: Value.{self.method}>"


def unary(name, method=None, *, param=None, domain=Domain(), examples=None, activation=None,
          forward="", local="", notation=None):
    """Decorator: register `rule(x) -> (out, local)` (or `rule(x, param)`) as the one-input op `name`.

    `method`: the Value method (default: the name). Returns the OpDef.
    Raises ValueError for a name or method already taken.
    """
    def define(rule):
        return register(OpDef(name, 1, rule, method or name, None, param, domain, examples, activation,
                              forward, local, notation))
    return define


# The local derivatives of the product rule: d/dx (x y) = y, d/dy (x y) = x.
PRODUCT = ("y", "x")


def binary(name, method, reflected, *, dx=None, dy=None, domain=(Domain(), Domain()), forward="", local=""):
    """Decorator: register `rule(x, y) -> (out, dx, dy)` as the two-input op `name` (an operator:
    `method` such as ``"__add__"``, `reflected` such as ``"__radd__"`` for ``2 + v``). Returns the OpDef.

    An op whose local derivatives are constants (``dx=1.0, dy=-1.0`` for ``x - y``),
    or the product rule's (``dx="y", dy="x"``), declares them here and its rule
    returns only the value. Why: +, - and * are most of a network's nodes, and
    a rule returning a tuple costs them about 6% of a training step.
    """
    declared = None
    if (dx, dy) == PRODUCT:
        declared = PRODUCT
    elif dx is not None or dy is not None:
        if not all(isinstance(d, float) for d in (dx, dy)):
            raise TypeError(f"op {name!r}: dx and dy must be two floats or 'y', 'x' (the product rule)")
        declared = (dx, dy)

    def define(rule):
        return register(OpDef(name, 2, rule, method, reflected, None, domain, None, None, forward, local, None,
                              declared))
    return define


def register(definition):
    """Add `definition` to the catalogue and tell the watchers (the engine makes its Value method).

    Raises ValueError when its name or method is taken; then nothing is registered.
    """
    if definition.name in CATALOGUE or not definition.name:
        raise ValueError(f"op name {definition.name!r} is empty or already in the catalogue")
    if definition.name == CUSTOM:
        raise ValueError(f"op name {CUSTOM!r} is reserved for nodes made by Value(data, children, local_grads)")
    taken = {name for entry in CATALOGUE.values() for name in (entry.method, entry.reflected) if name}
    if definition.method in taken or (definition.reflected and definition.reflected in taken):
        raise ValueError(f"op {definition.name!r}: method {definition.method!r} is already another op's")
    done = []
    try:
        for on_register, on_unregister in _watchers:
            on_register(definition)
            done.append(on_unregister)
        CATALOGUE[definition.name] = definition
        _version[0] += 1
    except BaseException:
        for on_unregister in done:
            on_unregister(definition)
        raise
    return definition


def unregister(name):
    """Remove op `name` and its Value method (for tests and experiments). Raises KeyError if unknown."""
    definition = CATALOGUE.pop(name)
    _version[0] += 1
    for _, on_unregister in _watchers:
        on_unregister(definition)


def watch(on_register, on_unregister):
    """Call `on_register(op)` for every op, now and when one is registered; `on_unregister` on removal."""
    _watchers.append((on_register, on_unregister))
    for definition in CATALOGUE.values():
        on_register(definition)


class View(Mapping):
    """A read-only dict computed from the catalogue by `build()`, rebuilt whenever the catalogue changes.

    Module-level tables (``nn.ACTIVATIONS``, ``expr.FUNCTIONS``, ``testing.OPS``...)
    are Views, so an op registered later shows up in all of them.
    """

    def __init__(self, build):
        self._build, self._built, self._items = build, None, {}

    def _current(self):
        if self._built != _version[0]:
            self._items, self._built = self._build(), _version[0]
        return self._items

    def __getitem__(self, key):
        return self._current()[key]

    def __iter__(self):
        return iter(self._current())

    def __len__(self):
        return len(self._current())

    def __contains__(self, key):
        return key in self._current()

    def __repr__(self):
        return f"View({self._current()!r})"


ACTIVATIONS = View(lambda: {name: op for name, op in CATALOGUE.items() if op.activation is not None})


def table():
    """Return the docs' table of ops (markdown), one row per op in catalogue order.

    docs/engine.md holds it (a test checks); print it with
    ``python -c "from micrograd_it.catalogue import table; print(table())"``.
    """
    rows = ["| op | forward | local derivative |", "|---|---|---|"]
    rows += [f"| `{op.usage()}` | {op.forward} | {op.local} |" for op in CATALOGUE.values()]
    return "\n".join(rows) + "\n"
