"""The scalar autograd engine: `Value`, its ops, and an iterative `backward`.

Every op is written in one place, in `micrograd_it.ops`: its forward value
and its local derivative side by side. This module makes Value's op methods
from those entries; the node keeps the local derivative, and `backward()`
applies the chain rule ``child.grad += local * out.grad`` in one loop, in
reverse topological order. For tanh that is literally ``(1 - t**2) * out.grad``.

Design choices that keep it fast without hiding the maths:
- `__slots__` and no per-node closures, so a graph holds no reference cycles
  and Python's cyclic garbage collector has nothing to chase (compiled, the
  nodes are made outside its lists altogether: micrograd_it/_nodes.c);
- at most two inputs per node, kept in slots (no tuple per node);
- an iterative topological order (Kahn's algorithm), so a chain of a million
  nodes needs no recursion.

The type annotations document, and they let mypyc compile this same file
into a C extension when a C compiler is present at install time (a W1
training step in 20% of the instructions; `micrograd_it.COMPILED` tells
which is running, and docs/performance.md what each annotation is for).
"""

from __future__ import annotations

import collections
import itertools
import math
import numbers
import operator
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, ClassVar, Final, Optional

from . import ops as _ops  # noqa: F401  (registers every op in the catalogue)
from ._modes import ScopedMode
from ._mypyc import mypyc_attr
from .catalogue import CATALOGUE, CUSTOM, PRODUCT, watch

__all__ = ["Value", "Op", "no_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "AnomalyError"]


class Op:
    """What made a node: a name such as ``"tanh"`` and the op's constant parameters.

    ``params`` holds the constants that are not inputs (the exponent of ``x**3``,
    the slope of a leaky relu), so that a graph can be replayed from its ops;
    ``text`` is how a node shows it (``"**3"``).
    """

    __slots__ = ("name", "params", "text")
    name: str
    params: tuple
    text: str

    def __init__(self, name: str, params: tuple = (), text: Optional[str] = None) -> None:
        self.name = name
        self.params = params
        self.text = name if text is None else text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Op({self.name!r}, {self.params!r})"


LEAF: Final = Op("")

# -- modes ---------------------------------------------------------------
#
# Both modes hold for the thread or asyncio task that entered them, from the
# block's entry to its exit (see _modes.py); other threads and tasks do not
# see them.

_no_grad = ScopedMode("micrograd_it.no_grad")
_anomaly = ScopedMode("micrograd_it.detect_anomaly")


class _GradSwitch:
    """The op methods' fast path: ``everywhere`` is True while no no_grad() block is open in any
    thread or task, so that recording a node costs one read, as with a plain global flag. Only
    while some block is open somewhere do they ask the context. (An attribute of an object read
    once rather than a global: compiled, every use of a changing global is a dict look-up.)"""

    __slots__ = ("everywhere",)
    everywhere: bool

    def __init__(self) -> None:
        self.everywhere = True


_grad: Final = _GradSwitch()


class _TraceSwitch:
    """The activation ops' hook for `micrograd_it.trace_values`: ``anywhere`` is True while a
    trace_values() block is open in some thread or task, and then every activation op (relu,
    tanh... what the catalogue marks as one) calls ``record(preact, act, op)`` after making its
    node; the recorder decides whether this context is tracing. Off, it costs one read per op.
    A node made by hand in a function named as a catalogue activation (microgpt's way,
    ``def tanh(self): return Value(t, (self,), (1 - t**2,))``) calls ``record_made`` instead:
    the line to report is the one that called that function."""

    __slots__ = ("anywhere", "record", "record_made")
    anywhere: bool
    record: Any
    record_made: Any

    def __init__(self) -> None:
        self.anywhere = False
        self.record = None
        self.record_made = None


_tracing: Final = _TraceSwitch()

# The compiled build's C module (micrograd_it/_nodes.c) once its ops, freeing and walks are
# on (micrograd_it/_compiled.py's _use_nodes turns them on after checking them); else None.
_fast: Any = None
_open_no_grad_blocks = 0
_no_grad_lock = threading.Lock()
_innermost_no_grad: Final = _no_grad.innermost_block


def _count_no_grad_block(change):
    global _open_no_grad_blocks
    with _no_grad_lock:
        _open_no_grad_blocks += change
        _grad.everywhere = _open_no_grad_blocks == 0
        if _fast is not None:  # the C ops read the same switch (micrograd_it/_nodes.c)
            _fast.set_grad_everywhere(_grad.everywhere)


class no_grad:
    """Context manager: ops inside it build no graph (their results are leaves).

    Use it for SGD updates and evaluation. It holds for the thread or asyncio
    task that entered it (and tasks created inside it, while it is open), not
    for other threads; it restores the previous mode on exit, even when the
    block raises. One instance may be entered again, nested or later.
    """

    def __enter__(self):
        _count_no_grad_block(+1)  # before the block opens: the fast path must never miss an open block
        try:
            _no_grad.enter()
        except BaseException:
            _count_no_grad_block(-1)
            raise
        return self

    def __exit__(self, *exc_info):
        _no_grad.exit()
        _count_no_grad_block(-1)  # after the block has closed
        return False


def is_grad_enabled():
    """Return True when ops record the graph here (outside any `no_grad` of this thread or task)."""
    return _grad.everywhere or not _no_grad.is_on()


class detect_anomaly:
    """Context manager: `backward()` checks every gradient as it writes it and raises `AnomalyError` at the first NaN or infinity.

    The error names the op whose chain-rule step produced it, the node's label
    and data, and the path from the root. It holds for the thread or asyncio
    task that entered it and restores the previous mode on exit.
    """

    def __enter__(self):
        _anomaly.enter()
        return self

    def __exit__(self, *exc_info):
        _anomaly.exit()
        return False


def is_anomaly_enabled():
    """Return True inside `detect_anomaly()` (in this thread or task)."""
    return _anomaly.is_on()


@mypyc_attr(native_class=False)  # compiled, an exception class must be a plain one
class AnomalyError(OverflowError):
    """A gradient became NaN or infinite in `backward()`.

    An OverflowError: with finite data and finite local derivatives (which
    the ops guarantee), a gradient can only leave the floats by overflowing.
    """


# -- Value ---------------------------------------------------------------

def _describe(value):
    return f"{value!r} ({type(value).__name__})"


def _check_real(number, what):
    """Return `number` as a float, or raise TypeError naming it (bool is not a number here)."""
    if isinstance(number, bool) or not isinstance(number, numbers.Real):
        raise TypeError(f"{what} needs a real number, got {_describe(number)}")
    return float(number)


def _check_data(data: Any, label: Any, what: str = "Value.data") -> float:
    """Return `data` as a finite float, or raise TypeError / ValueError naming it (and the Value's label)."""
    if type(data) is not float:  # floats, the common case, skip the slower numbers.Real check
        try:
            data = _check_real(data, what)
        except OverflowError:  # an int too large for a float
            raise ValueError(f"{what} needs a finite number, got an int of {data.bit_length()} bits "
                             f"(label {label!r})") from None
    if not math.isfinite(data):
        raise ValueError(f"{what} needs a finite number, got {data!r} (label {label!r})")
    return data


# The default of Value()'s children and local_grads: compared by identity, so that the
# common ``Value(2.0)`` costs one comparison each (the empty tuple is a single object).
_NO_INPUTS: Final[tuple] = ()


@mypyc_attr(allow_interpreted_subclasses=True)
class Value:
    """A scalar that remembers how it was computed, so that `backward()` can find its gradient.

    Public attributes: ``data`` (float), ``grad`` (float, starts at 0.0),
    ``label`` (str), ``op`` (name of the op that made it, ``""`` for a leaf) and
    ``children`` (the Values it was made from).

    ``Value(data)`` makes a leaf; ``Value(data, label="x")`` (or the older
    ``Value(data, "x")``) names it. ``Value(data, children, local_grads)`` makes a
    node by hand, as micrograd's and microgpt's custom ops do
    (``Value(t, (self,), (1 - t**2,))``): at most two children (this engine's
    nodes hold two inputs), one local derivative d data / d child per child. Its
    op is ``"custom"``, shown as the name of the function that made it.
    Raises TypeError/ValueError naming what is wrong.
    """

    # _x, _y: the op's inputs (None when absent); _dx, _dy: the local
    # derivatives d(out)/d(_x) and d(out)/d(_y), computed in the forward pass.
    # _pending: scratch space of backward() (how many consumers have not yet
    # passed their gradient down); 0 outside backward().
    # _operation: the Op that made it (LEAF for a leaf).
    # _data, _grad, _label: what the properties data, grad and label read; the engine's own loops use
    # them directly, and only what a user writes goes through the properties' checks (below).
    __slots__ = ("_data", "_grad", "_label", "_operation", "_x", "_dx", "_y", "_dy", "_pending")
    _data: float
    _grad: float
    _label: str
    _operation: Op
    _x: Optional[Value]
    _dx: float
    _y: Optional[Value]
    _dy: float
    _pending: int

    # numpy scalars defer to our reflected ops instead of building object arrays.
    __array_ufunc__: ClassVar[None] = None

    def __init__(self, data: Any, children: Any = _NO_INPUTS, local_grads: Any = _NO_INPUTS,
                 label: Any = "") -> None:  # Any: the checks below name a wrong type
        if type(data) is not float:  # floats, the common case, skip the slower numbers.Real check
            data = _check_data(data, label, "Value()")
        if children is not _NO_INPUTS or local_grads is not _NO_INPUTS:
            # A node made by hand (microgpt's way), or the old ``Value(2.0, "x")``: see _init_given.
            _init_given(self, data, children, local_grads, label)
            return
        number: float = data
        if math.isinf(number) or math.isnan(number):  # compiled, two C tests (math.isfinite is a Python call)
            raise ValueError(f"Value() needs a finite number, got {data!r} (label {label!r})")
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {_describe(label)}")
        self._data = number
        self._grad = 0.0
        self._label = label
        self._operation = LEAF
        self._x = self._y = None
        self._dx = self._dy = 0.0
        self._pending = 0

    # The three attributes a user writes, checked at the assignment in both builds (compiled and
    # source alike): data as in Value() (a real number, not a bool, finite), grad a real number (not
    # a bool; NaN or infinite allowed: backward() names a leaf holding one), label a str. Each is
    # stored as a float / str, whatever real number type was given (int, numpy float, Fraction).

    @property
    def data(self) -> float:
        """The number this Value holds (a float)."""
        return self._data

    @data.setter
    def data(self, number: Any) -> None:
        if type(number) is float:  # the common case (an optimizer's step), checked without a call
            value: float = number
            if not (math.isinf(value) or math.isnan(value)):  # compiled, two C tests
                self._data = value
                return
        self._data = _check_data(number, self._label)

    @property
    def grad(self) -> float:
        """d root / d self after root.backward() (a float; 0.0 until a gradient arrives)."""
        return self._grad

    @grad.setter
    def grad(self, number: Any) -> None:
        if type(number) is not float:
            number = _check_real(number, "Value.grad")
        self._grad = number

    @property
    def label(self) -> str:
        """The name shown for this Value in pictures and errors (a str, "" when unnamed)."""
        return self._label

    @label.setter
    def label(self, text: Any) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Value.label must be a str, got {_describe(text)}")
        self._label = text

    @property
    def op(self) -> str:
        """Name of the op that made this Value (``""`` for a leaf)."""
        return self._operation.name

    @property
    def op_params(self) -> tuple:
        """The op's constant parameters, e.g. ``(3.0,)`` for ``x**3``; ``()`` for most ops."""
        return self._operation.params

    @property
    def _op(self) -> str:
        """The op as text, as the micrograd lecture reads it: ``"*"``, ``"tanh"``, ``"**2"``, ``""`` for a leaf."""
        return self._operation.text

    @property
    def children(self) -> tuple[Value, ...]:
        """The Values this one was computed from (an empty tuple for a leaf)."""
        if self._x is None:
            return ()
        if self._y is None:
            return (self._x,)
        return (self._x, self._y)

    @property
    def local_grads(self) -> tuple[float, ...]:
        """The local derivatives d self / d child, one per child, in the order of `children`.

        They are the numbers the forward pass stored beside the op, and what
        backward() multiplies by ``self.grad``: ``(1 - t**2,)`` for ``t = x.tanh()``.
        """
        if self._x is None:
            return ()
        if self._y is None:
            return (self._dx,)
        return (self._dx, self._dy)

    @property
    def _children(self) -> tuple[Value, ...]:
        """microgpt's name for `children`: the Values this one was computed from."""
        return self.children

    @property
    def _local_grads(self) -> tuple[float, ...]:
        """microgpt's name for `local_grads`: d self / d child, one per child."""
        return self.local_grads

    @property
    def is_leaf(self) -> bool:
        """True when this Value was not made by an op (an input, a parameter, a constant)."""
        return self._x is None

    def __repr__(self) -> str:
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g})"

    def _repr_html_(self) -> str:
        """Jupyter's view of a Value: a one-row table of its label, data, grad and the op that made it."""
        from ._html_repr import table

        op = " ".join([self.op] + [f"{param:g}" for param in self.op_params])  # "**" and its exponent: "** 3"
        if self.op == CUSTOM:  # made by Value(data, children, local_grads): its maker's name too
            op = f"{self._op} ({CUSTOM})"
        return table(("label", "data", "grad", "op"),
                     [(self.label or "-", f"{self.data:.6g}", f"{self.grad:.6g}", op or "leaf")])

    # The ops (+, *, tanh, ...) are methods made from the catalogue (micrograd_it/ops.py):
    # compiled, those written below by micrograd_it/_generate_methods.py (native methods);
    # interpreted, those made at import below the class (see _install), which cost less there.

    # -- generated from the op catalogue by micrograd_it/_generate_methods.py (methods): begin
    def __add__(self, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        x = self._data
        y = other._data
        data = x + y  # the rule's expression (ops.add)
        return _native_node(data, _OP_add, self, 1.0, other, 1.0)

    def __radd__(self, other: object) -> Value:
        return _as_value(other).__add__(self)

    def __sub__(self, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        x = self._data
        y = other._data
        data = x - y  # the rule's expression (ops.sub)
        return _native_node(data, _OP_sub, self, 1.0, other, -1.0)

    def __rsub__(self, other: object) -> Value:
        return _as_value(other).__sub__(self)

    def __mul__(self, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        x = self._data
        y = other._data
        data = x * y  # the rule's expression (ops.mul)
        return _native_node(data, _OP_mul, self, y, other, x)

    def __rmul__(self, other: object) -> Value:
        return _as_value(other).__mul__(self)

    def __truediv__(self, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        x = self._data
        y = other._data
        try:
            data, dx, dy = _RULE_div(x, y)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self, other) from None
        return _native_node(data, _OP_div, self, dx, other, dy)

    def __rtruediv__(self, other: object) -> Value:
        return _as_value(other).__truediv__(self)

    def __neg__(self) -> Value:
        try:
            data, local = _RULE_neg(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_neg, self, local, None, 0.0)
        return out

    def exp(self) -> Value:
        try:
            data, local = _RULE_exp(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_exp, self, local, None, 0.0)
        return out

    def log(self) -> Value:
        try:
            data, local = _RULE_log(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_log, self, local, None, 0.0)
        return out

    def tanh(self) -> Value:
        try:
            data, local = _RULE_tanh(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_tanh, self, local, None, 0.0)
        if _tracing.anywhere:
            _tracing.record(self, out, _OP_tanh)
        return out

    def sigmoid(self) -> Value:
        try:
            data, local = _RULE_sigmoid(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_sigmoid, self, local, None, 0.0)
        if _tracing.anywhere:
            _tracing.record(self, out, _OP_sigmoid)
        return out

    def relu(self) -> Value:
        try:
            data, local = _RULE_relu(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_relu, self, local, None, 0.0)
        if _tracing.anywhere:
            _tracing.record(self, out, _OP_relu)
        return out

    def softplus(self) -> Value:
        try:
            data, local = _RULE_softplus(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_softplus, self, local, None, 0.0)
        if _tracing.anywhere:
            _tracing.record(self, out, _OP_softplus)
        return out

    def gelu(self) -> Value:
        try:
            data, local = _RULE_gelu(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_gelu, self, local, None, 0.0)
        if _tracing.anywhere:
            _tracing.record(self, out, _OP_gelu)
        return out

    def sin(self) -> Value:
        try:
            data, local = _RULE_sin(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _native_node(data, _OP_sin, self, local, None, 0.0)
        return out
    # -- generated (methods): end

    # -- graph-wide operations ----------------------------------------------

    def backward(self, grad: Any = 1.0) -> None:
        """Fill in ``.grad`` of every Value this one depends on, by the chain rule.

        The root's gradient is seeded with `grad`. Leaves accumulate: a second
        `backward()` adds to their ``.grad`` again (call `zero_grad()` between
        steps). Intermediate nodes are recomputed from zero on every call, so
        they always show the gradient of the latest pass. Returns None.

        Raises ValueError for a seed that is NaN or infinite, and AnomalyError
        (naming the op, the node and the path from the root) when a gradient
        becomes NaN or infinite, e.g. when finite local derivatives multiply
        past the largest float; then no leaf's grad is changed. An exception at any moment (Ctrl-C included) leaves every leaf's grad
        as it was before the call, intermediate grads at 0.0, and the graph
        ready for the next backward().
        """
        grad = _check_seed(grad)
        _check_made(self)
        if _interrupted:
            _repair_interrupted()
        key = id(self)
        leaves: list[Value] = []
        restore_leaves: Any = ()  # becomes an iterator that puts every leaf's grad back, when run
        try:
            if _fast is None:
                _count_consumers(self, leaves)
                before = list(map(_grad_of, leaves))
            else:  # the same walk in C (micrograd_it/_nodes.c), which also reads the leaves' grads
                before = _fast.count_consumers(self, leaves)
            restore_leaves = map(setattr, leaves, _repeat("_grad"), before)
            _seed(self, grad)
            if _anomaly.is_on():
                _backward_checked(self)
            elif _fast is None:
                _chain_rule(self)
            else:  # the same walk in C
                _fast.chain_rule(self)
            # NaN and infinity stick to every gradient they flow into, down to the leaves:
            # one sum of the leaves' grads sees them all.
            if not _isfinite(sum(map(_grad_of, leaves)) if _fast is None else _fast.grads_sum(leaves)):
                _raise_if_not_finite(self, grad, leaves, before)
        except BaseException:
            # Nothing here may be cut short by a second interrupt and leave the graph half
            # done. The root is registered first (a store, at which CPython runs no signal
            # handler), so the next backward() repairs the counts if the walk below is cut
            # short; the leaves are restored in one call into C code, which no signal
            # handler can interrupt.
            _interrupted[key] = self
            _run(restore_leaves)
            _reset_graph(self)
            _interrupted.pop(key, None)
            raise

    def zero_grad(self) -> None:
        """Set ``.grad`` to 0.0 on this Value and everything it depends on. Returns None."""
        for node in _walk(self):
            node._grad = 0.0

    def nodes(self) -> list[Value]:
        """Return a list of this Value and every Value it depends on, each once, root first."""
        return list(_walk(self))

    # -- the micrograd lecture's names ----------------------------------------

    @property
    def _prev(self) -> set[Value]:
        """The set of Values this one was computed from: micrograd's name for `children`."""
        return set(self.children)

    def _backward(self) -> None:
        """Do this node's own chain-rule step, ``child.grad += local * self.grad`` for each input; return None.

        Nothing else: no other node, no ordering. The micrograd lecture calls it
        by hand from the output down (``o.grad = 1.0; o._backward();
        n._backward(); ...``) to show how backprop works; in a topological
        order that gives the gradients `backward()` gives. A leaf passes nothing.
        """
        grad_out = self._grad
        x = self._x
        if x is not None:  # x.grad += local * self.grad (mypyc miscompiles += on a property: the slot directly)
            x._grad += self._dx * grad_out
            y = self._y
            if y is not None:
                y._grad += self._dy * grad_out


# Final: compiled, a module's name is a dict look-up at every use; a Final one is read once.
# _new makes a node without running __init__'s checks: object.__new__ (compiled: Value's own).
_new: Final[Callable[[type], Any]] = Value.__new__
_isfinite: Final = math.isfinite


# -- the compiled build's op methods ------------------------------------------------
#
# Compiled, Value's op methods are the generated ones in its class body (native
# methods: an op costs a C call, its floats stay unboxed); interpreted, they are
# removed here and the methods made at import (_install) serve, as they are cheaper
# there. Both run the catalogue's rules, so both give the same bits
# (tests/test_compiled.py). _NATIVE: this module runs compiled.
_NATIVE: Final = not __file__.endswith(".py")

# -- generated from the op catalogue by micrograd_it/_generate_methods.py (constants): begin
_OP_add: Final = Op('+')
_RULE_add: Final[Callable[..., Any]] = CATALOGUE['+'].rule
_OP_sub: Final = Op('-')
_RULE_sub: Final[Callable[..., Any]] = CATALOGUE['-'].rule
_OP_mul: Final = Op('*')
_RULE_mul: Final[Callable[..., Any]] = CATALOGUE['*'].rule
_OP_div: Final = Op('/')
_RULE_div: Final[Callable[..., Any]] = CATALOGUE['/'].rule
_OP_neg: Final = Op('neg')
_RULE_neg: Final[Callable[..., Any]] = CATALOGUE['neg'].rule
_OP_exp: Final = Op('exp')
_RULE_exp: Final[Callable[..., Any]] = CATALOGUE['exp'].rule
_OP_log: Final = Op('log')
_RULE_log: Final[Callable[..., Any]] = CATALOGUE['log'].rule
_OP_tanh: Final = Op('tanh')
_RULE_tanh: Final[Callable[..., Any]] = CATALOGUE['tanh'].rule
_OP_sigmoid: Final = Op('sigmoid')
_RULE_sigmoid: Final[Callable[..., Any]] = CATALOGUE['sigmoid'].rule
_OP_relu: Final = Op('relu')
_RULE_relu: Final[Callable[..., Any]] = CATALOGUE['relu'].rule
_OP_softplus: Final = Op('softplus')
_RULE_softplus: Final[Callable[..., Any]] = CATALOGUE['softplus'].rule
_OP_gelu: Final = Op('gelu')
_RULE_gelu: Final[Callable[..., Any]] = CATALOGUE['gelu'].rule
_OP_sin: Final = Op('sin')
_RULE_sin: Final[Callable[..., Any]] = CATALOGUE['sin'].rule
_GENERATED_OPS: Final = ('+', '-', '*', '/', 'neg', 'exp', 'log', 'tanh', 'sigmoid', 'relu', 'softplus', 'gelu', 'sin')
_GENERATED_METHODS: Final = ('__add__', '__radd__', '__sub__', '__rsub__', '__mul__', '__rmul__', '__truediv__', '__rtruediv__', '__neg__', 'exp', 'log', 'tanh', 'sigmoid', 'relu', 'softplus', 'gelu', 'sin')
# -- generated (constants): end

if not _NATIVE:
    for _method_name in _GENERATED_METHODS:
        delattr(Value, _method_name)

def _instance_maker() -> Callable[[type], Any]:
    """Compiled: the C helper's new_instance (cls.__new__(cls) in one C call; see _nodes.c)."""
    if not _NATIVE:
        return _new  # never used: the source has no generated methods
    helper: Any = sys.modules[__name__.rpartition(".")[0] + "._nodes"]  # imported first by _compiled.py
    maker: Callable[[type], Any] = helper.new_instance
    return maker


_new_instance: Final = _instance_maker()


def _native_node(data: float, op: Op, x: Value, dx: float, y: Optional[Value], dy: float) -> Value:
    """`_node` for the generated methods (compiled): the node is made by the C helper, without
    __init__, and every field is set here. Raises OverflowError when `data` is not finite."""
    if math.isinf(data) or math.isnan(data):  # C tests, compiled (math.isfinite would box the float)
        raise _overflow(op, data, x) if y is None else _overflow(op, data, x, y)
    out: Value = _new_instance(Value)
    out._data = data
    out._grad = 0.0
    out._label = ""
    out._pending = 0
    # Grad mode, as _node reads it:
    if (_grad.everywhere or _innermost_no_grad() is None
            or (not _innermost_no_grad().open and is_grad_enabled())):
        out._operation = op
        out._x = x
        out._dx = dx
        out._y = y
        out._dy = dy
    else:
        out._operation = LEAF
        out._x = None
        out._dx = 0.0
        out._y = None
        out._dy = 0.0
    return out


def _as_value(other: object) -> Value:
    """Return `other` as a Value: Values pass through, real numbers become constant leaves."""
    if type(other) is Value:
        return other
    if type(other) is float or type(other) is int:
        return Value(other)
    if isinstance(other, Value):
        return other
    if isinstance(other, bool) or not isinstance(other, numbers.Real):
        raise TypeError(f"a Value can only be combined with a real number or a Value, got {_describe(other)}")
    return Value(other)


# -- nodes made by hand: Value(data, children, local_grads) ------------------------
#
# micrograd's and microgpt's way to add an op: compute the value and the local
# derivatives yourself and hand them over, ``Value(t, (self,), (1 - t**2,))``.
# The node is an ordinary one (the same slots, the same backward); its Op is named
# "custom" (it has no rule in the catalogue: its local derivatives are numbers fixed
# here, so a replay cannot recompute them) and is shown as the name of the function
# that made it, so a graph reads ``silu`` where the learner wrote ``def silu(self)``.

def _init_given(node: Value, data: float, children: Any, local_grads: Any, label: Any) -> None:
    """Fill in `node` from Value()'s second and third arguments (see Value); raise naming the culprit."""
    if isinstance(children, str):  # the older Value(data, "label")
        if local_grads is not _NO_INPUTS or label != "":
            raise TypeError(f"Value() takes a label once: as its second argument ({children!r}) or as label=,"
                            " and no local_grads after it")
        children, label = (), children
    if not isinstance(label, str):
        raise TypeError(f"Value() label must be a str, got {_describe(label)}")
    if not _isfinite(data):
        raise ValueError(f"Value() needs a finite number, got {data!r} (label {label!r})")
    inputs, locals_ = _check_given(children, local_grads)
    node._data = data
    node._grad = 0.0
    node._label = label
    node._pending = 0
    node._operation = LEAF
    node._x = node._y = None
    node._dx = node._dy = 0.0
    if inputs and is_grad_enabled():  # under no_grad(), as every op, it makes a leaf
        text = _maker_name()
        node._operation = _custom_op(text)
        node._x, node._dx = inputs[0], locals_[0]
        if len(inputs) == 2:
            node._y, node._dy = inputs[1], locals_[1]
        elif _tracing.anywhere and _is_activation(text):
            # a learner's own tanh/relu...: trace_values() records it as that activation (its
            # saturation read by the catalogue's rule), at the line that called the function
            _tracing.record_made(inputs[0], node, _activation_op(text))


def _check_given(children: Any, local_grads: Any) -> tuple[list, list]:
    """Return (children, local derivatives as floats) of a node made by hand; TypeError/ValueError naming the culprit."""
    for what, given in (("children", children), ("local_grads", local_grads)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(f"Value() {what} must be a tuple (or list), got {_describe(given)}")
    if len(children) > 2:
        raise ValueError(f"Value() got {len(children)} children, but this engine's nodes hold at most two inputs;"
                         " build the op from steps of one or two inputs (a + b + c is (a + b) + c)")
    if len(local_grads) != len(children):
        raise ValueError(f"Value() got {len(children)} child(ren) and {len(local_grads)} local_grads:"
                         " it needs one local derivative d(data)/d(child) per child")
    inputs = list(children)
    for index, child in enumerate(inputs):
        if not isinstance(child, Value):
            raise TypeError(f"Value() children[{index}] must be a Value, got {_describe(child)}")
    locals_ = []
    for index, local in enumerate(local_grads):
        # A bool is taken as the 0 or 1 it is here: ``(x > 0,)`` is a common way to write relu's derivative.
        number = float(local) if isinstance(local, bool) else _check_real(local, f"Value() local_grads[{index}]")
        if not _isfinite(number):
            raise ValueError(f"Value() local_grads[{index}] needs a finite number, got {number!r}")
        locals_.append(number)
    return inputs, locals_


# How a node made inside an operator method shows its op (a subclass may write ops microgpt's way).
_DUNDER_TEXT: Final = {
    "__add__": "+", "__radd__": "+", "__sub__": "-", "__rsub__": "-", "__mul__": "*", "__rmul__": "*",
    "__truediv__": "/", "__rtruediv__": "/", "__pow__": "**", "__rpow__": "**", "__neg__": "neg",
}
_CUSTOM_OPS: dict[str, Op] = {}
_CUSTOM_OPS_MAX = 1024


def _maker_name() -> str:
    """The name of the user's function that called Value(...): ``"silu"`` for ``def silu(self)``.

    Frames of this module (the Python source; compiled, it runs in none) and of ``__init__``
    methods (a subclass passing its arguments on) are skipped. ``"custom"`` at module level.
    """
    frame: Any = sys._getframe(0)
    here = __file__
    while frame is not None and (frame.f_code.co_filename == here or frame.f_code.co_name == "__init__"):
        frame = frame.f_back
    if frame is None:
        return CUSTOM
    name: str = frame.f_code.co_name
    if name.startswith("<"):  # <module>, <lambda>, <listcomp>, <genexpr>
        return CUSTOM
    return _DUNDER_TEXT.get(name, name)


_ACTIVATION_OPS: dict[str, Op] = {}


def _is_activation(name: str) -> bool:
    """True when `name` is an activation of the catalogue (relu, tanh, ...: one input, a saturation rule)."""
    definition = CATALOGUE.get(name)
    return definition is not None and definition.arity == 1 and definition.activation is not None


def _activation_op(name: str) -> Op:
    """The Op of the catalogue's activation `name` (for trace_values' layers of hand-made nodes)."""
    op = _ACTIVATION_OPS.get(name)
    if op is None:
        op = _ACTIVATION_OPS[name] = Op(name)
    return op


def _custom_op(text: str) -> Op:
    """Return the Op of a node made by hand, shown as `text`: one per text."""
    op = _CUSTOM_OPS.get(text)
    if op is None:
        op = Op(CUSTOM, (), text)
        if len(_CUSTOM_OPS) < _CUSTOM_OPS_MAX:
            _CUSTOM_OPS[text] = op
    return op


# -- the op methods, made from the catalogue ------------------------------------
#
# Each op of micrograd_it/ops.py is a rule on floats; here it becomes a method
# of Value once, at import (and when an op is registered later), so that an op
# is written in one place. The cost, in instructions per W1 step (callgrind,
# docs/performance.md): a method that calls its rule and then _node makes one
# Python call more than a hand-written op (+18% if every op did), and unpacking
# the rule's tuple costs too (+5%). So +, - and *, 95% of a network's nodes,
# declare their local derivatives, and their methods call a rule that returns
# only the value and fill in the node inline; the other ops go through _node.
# W1: +1.2% in all. Compiled (mypyc), Value is a native class: methods set on it
# after it is built serve Python callers (the generated ones, in its body, are used
# for the ops of ops.py; these for ops registered later and the constant ops).

def _unary_method(rule: Callable[[float], tuple[float, float]], op: Op,
                  activation: bool = False) -> Callable[[Value], Value]:
    """Return the method applying the one-input `rule(x) -> (out, local)` and recording `op`
    (an `activation`'s method also tells a trace_values() block, when one is open)."""
    if activation:
        return _activation_method(rule, op)

    def method(self: Value) -> Value:
        try:
            data, local = rule(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        return _node(data, op, self, local)
    return method


def _activation_method(rule: Callable[[float], tuple[float, float]], op: Op) -> Callable[[Value], Value]:
    """The method of an activation op: a one-input method that shows its node to trace_values()."""
    def method(self: Value) -> Value:
        try:
            data, local = rule(self._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self) from None
        out = _node(data, op, self, local)
        if _tracing.anywhere:  # off: one read (W1 within 1%, docs/performance.md)
            _tracing.record(self, out, op)
        return out
    return method


def _binary_method(definition, op):
    """Return the method applying a two-input op. Its rule gives (out, dx, dy), or only out when
    the op declares its local derivatives: constants, or the product rule's (y, x)."""
    rule, declared = definition.rule, definition.declared
    if declared is None:
        return _binary_general(rule, op)
    if declared == PRODUCT:
        return _binary_product(rule, op)
    return _binary_constant(rule, op, *declared)


# The product and constant methods are one method written twice, differing only in
# where the local derivatives come from: a branch between them costs W1 1.4% (callgrind).

def _binary_general(rule: Callable[[float, float], tuple[float, float, float]],
                    op: Op) -> Callable[[Value, object], Value]:
    def method(self: Value, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        try:
            data, dx, dy = rule(self._data, other._data)
        except (ArithmeticError, ValueError) as error:
            raise _labelled(error, self, other) from None
        return _node(data, op, self, dx, other, dy)
    return method


def _binary_product(rule: Callable[[float, float], float], op: Op) -> Callable[[Value, object], Value]:
    def method(self: Value, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        x = self._data
        y = other._data
        data = rule(x, y)
        if not _isfinite(data):
            raise _overflow(op, data, self, other)
        out: Value = _new(Value)
        out._data = data
        out._grad = 0.0
        out._label = ""
        out._pending = 0
        # Grad mode, as _node reads it:
        if (_grad.everywhere or _innermost_no_grad() is None
                or (not _innermost_no_grad().open and is_grad_enabled())):
            out._operation = op
            out._x, out._dx = self, y  # d/dx (x y) = y
            out._y, out._dy = other, x  # d/dy (x y) = x
        else:
            out._operation = LEAF
            out._x = out._y = None
            out._dx = out._dy = 0.0
        return out
    return method


def _binary_constant(rule: Callable[[float, float], float], op: Op, dx: float,
                     dy: float) -> Callable[[Value, object], Value]:
    def method(self: Value, other: object) -> Value:
        if type(other) is not Value:
            other = _as_value(other)
        data = rule(self._data, other._data)
        if not _isfinite(data):
            raise _overflow(op, data, self, other)
        out: Value = _new(Value)
        out._data = data
        out._grad = 0.0
        out._label = ""
        out._pending = 0
        # Grad mode, as _node reads it:
        if (_grad.everywhere or _innermost_no_grad() is None
                or (not _innermost_no_grad().open and is_grad_enabled())):
            out._operation = op
            out._x, out._dx = self, dx
            out._y, out._dy = other, dy
        else:
            out._operation = LEAF
            out._x = out._y = None
            out._dx = out._dy = 0.0
        return out
    return method


def _reflected_method(forward):
    """Return the method for ``number op Value`` (``2 * v``): the number becomes a constant leaf."""
    def method(self, other):
        return forward(_as_value(other), self)
    return method


def _param_method(definition):
    """Return the method of an op with a constant (``x ** n``, ``x.leaky_relu(slope)``)."""
    param = definition.param

    def method(self, constant=param.default):
        return _param_op(definition, _check_real(constant, param.what))[1](self)
    return method


# Ops with a constant share one (Op, method) per constant value.
_PARAM_OPS: dict[tuple[str, float], tuple[Op, Callable[[Value], Value]]] = {}
_PARAM_OPS_MAX = 1024


def _param_op(definition, constant):
    """Return (the Op, the method applying it) of op `definition` with this constant."""
    key = (definition.name, constant)
    made = _PARAM_OPS.get(key)
    if made is None:
        rule, params = definition.rule, (constant,)
        op = Op(definition.name, params, definition.text(params))
        made = (op, _unary_method(lambda x: rule(x, constant), op, definition.activation is not None))
        if len(_PARAM_OPS) < _PARAM_OPS_MAX:
            _PARAM_OPS[key] = made
    return made


def _methods(definition):
    """Return {method name: function} that op `definition` gives Value."""
    if definition.param is not None:
        method = _param_method(definition)
    elif definition.arity == 2:
        method = _binary_method(definition, Op(definition.name))
    else:
        method = _unary_method(definition.rule, Op(definition.name), definition.activation is not None)
    method.__name__ = method.__qualname__ = definition.method
    method.__doc__ = definition.rule.__doc__
    made = {definition.method: method}
    if definition.reflected:
        made[definition.reflected] = _reflected_method(method)
    return made


def _install(definition):
    """Give Value the methods of op `definition`; ValueError if Value already has one of the names."""
    if _NATIVE and definition.name in _GENERATED_OPS:
        return  # the compiled Value has this op's generated method in its class body already
    made = _methods(definition)
    clash = [name for name in made if hasattr(Value, name)]
    if clash:
        raise ValueError(f"op {definition.name!r}: Value already has {clash[0]!r}")
    for name, method in made.items():
        setattr(Value, name, method)


def _uninstall(definition):
    if _NATIVE and definition.name in _GENERATED_OPS:
        return  # a method of the class body stays (the op's name is free again in the catalogue)
    for name in (definition.method, definition.reflected):
        if name and name in vars(Value):
            delattr(Value, name)
    for key in [key for key in _PARAM_OPS if key[0] == definition.name]:
        del _PARAM_OPS[key]


def _labelled(error, *inputs):
    """The rule's error again, naming the labels of the Values it was applied to."""
    if len(inputs) == 1:
        return type(error)(f"{error} (label {inputs[0].label!r})")
    return type(error)(f"{error} (labels {inputs[0].label!r}, {inputs[1].label!r})")


def _overflow(op, data, *inputs):
    return OverflowError(f"op '{op}' gave {data!r} from finite inputs {tuple(value.data for value in inputs)}")


def _node(data: float, op: Op, x: Value, dx: float, y: Optional[Value] = None, dy: float = 0.0) -> Value:
    """Make the Value that `op` computed from inputs x (and y) with local derivatives dx (dy).

    The ops that are most of a network's nodes do the same inline (above): a call per op costs.
    """
    if not _isfinite(data):
        raise _overflow(op, data, x) if y is None else _overflow(op, data, x, y)
    out: Value = _new(Value)
    out._data = data
    out._grad = 0.0
    out._label = ""
    out._pending = 0
    # Grad mode, cheaply: no no_grad block open anywhere (one global read), else this
    # context's innermost block (C calls); only a closed, inherited one needs the full check.
    # (No local variable here: one more costs every node about 0.4% of a W1 step.)
    if (_grad.everywhere or _innermost_no_grad() is None
            or (not _innermost_no_grad().open and is_grad_enabled())):
        out._operation = op
        out._x, out._dx = x, dx
        out._y, out._dy = y, dy
    else:
        out._operation = LEAF
        out._x = out._y = None
        out._dx = out._dy = 0.0
    return out


def _walk(root: Value) -> Iterator[Value]:
    """Yield root and every Value it depends on, each once (iterative depth-first)."""
    seen = {root}
    stack: list[Value] = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in (node._x, node._y):
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)


def _count_consumers(root: Value, leaves: list[Value]) -> None:
    """Set each node's ``_pending`` to how many edges of root's graph use it; zero non-leaf grads.

    Appends every leaf to `leaves`, once. The counts live on the nodes (a slot)
    rather than in a dict: it halves the cost of backward. Every count is back
    at 0 when backward has finished.
    The tests compare counts with ``!= 0`` / ``== 0`` rather than truthiness:
    Python 3.11 specialises an int comparison, while ``if count:`` calls bool().
    """
    stack: list[Value] = [root]
    while stack:
        node = stack.pop()
        x = node._x
        if x is None:
            leaves.append(node)
            continue
        node._grad = 0.0
        if x._pending != 0:
            x._pending += 1
        else:
            x._pending = 1
            stack.append(x)
        y = node._y
        if y is not None:
            if y._pending != 0:
                y._pending += 1
            else:
                y._pending = 1
                stack.append(y)


def _check_made(node: Value) -> None:
    """Raise AttributeError, before backward() changes anything, for a Value made by ``Value.__new__``
    without ``__init__`` (its fields unset): reading them is what raises. Without this, the clean-up
    of the failed pass would fail too and leave every later backward() to fail in its repair."""
    _unused = (node._data, node._x, node._y)


def _check_seed(grad):
    """Return the seed of backward() as a float; raise TypeError or ValueError naming it."""
    try:
        grad = _check_real(grad, "backward(grad)")
    except OverflowError:  # an int too large for a float
        raise ValueError(f"backward(grad) needs a finite number, got an int of {grad.bit_length()} bits") from None
    if not _isfinite(grad):
        raise ValueError(f"backward(grad) needs a finite number, got {grad!r}")
    return grad


def _raise_if_not_finite(root, grad, leaves, before):
    """Raise AnomalyError naming where a leaf's grad became NaN or infinite; return if none is (a sum overflowed)."""
    if all(map(_isfinite, map(_grad_of, leaves))):
        return
    for leaf, old in zip(leaves, before):
        if not _isfinite(old):
            raise AnomalyError(
                f"leaf {_name(leaf)} (data={leaf.data!r}) had grad {old!r} before this backward();"
                " reset it (zero_grad()) first"
            )
    # Run the pass again, checking every write: the same arithmetic in the same
    # order stops at the first gradient that is not finite and names its op.
    _run(map(setattr, leaves, _repeat("_grad"), before))
    _count_consumers(root, [])
    _seed(root, grad)
    _backward_checked(root)
    raise AnomalyError("a leaf's gradient is not finite, yet the checked pass found no step that made it")


def _seed(root: Value, grad: float) -> None:
    if root._x is None:
        root._grad += grad
    else:
        root._grad = grad


# Roots of passes that an exception stopped, kept until their counts are reset:
# {id(root): root}. The clean-up in `backward` normally empties it at once; an
# entry stays only when a second interrupt cut that clean-up short.
_interrupted: dict[int, Value] = {}
_grad_of: Final = operator.attrgetter("_grad")
_repeat: Final = itertools.repeat
_run: Callable[[Any], None] = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C


def _reset_graph(root: Value) -> None:
    """Zero every count and every non-leaf grad of root's graph (idempotent)."""
    for node in _walk(root):
        node._pending = 0
        if node._x is not None:
            node._grad = 0.0


def _repair_interrupted() -> None:
    """Zero the counts left behind by passes whose clean-up was itself interrupted."""
    for key, root in list(_interrupted.items()):
        for node in _walk(root):
            node._pending = 0
        _interrupted.pop(key, None)


def _chain_rule(root: Value) -> None:
    """Apply ``child.grad += local * out.grad`` to every edge, each node once all its consumers are done."""
    # Kahn's algorithm: a node is ready once every node that uses it has
    # passed its gradient down, i.e. in reverse topological order.
    ready: list[Value] = [root]
    while ready:
        out = ready.pop()
        x = out._x
        if x is None:
            continue
        g = out._grad
        # chain rule: child.grad += local * out.grad
        x._grad += out._dx * g
        x._pending -= 1
        if x._pending == 0:
            ready.append(x)
        y = out._y
        if y is not None:
            y._grad += out._dy * g
            y._pending -= 1
            if y._pending == 0:
                ready.append(y)


def _backward_checked(root: Value) -> None:
    """The same loop as `_chain_rule`, checking every gradient it writes (detect_anomaly mode)."""
    if not _isfinite(root._grad):
        raise AnomalyError(f"the root's gradient is {root._grad!r}")
    ready: list[Value] = [root]
    while ready:
        out = ready.pop()
        for child, local in ((out._x, out._dx), (out._y, out._dy)):
            if child is None:
                continue
            child._grad += local * out._grad
            if not _isfinite(child._grad):
                _raise_anomaly(root, out, child, local)
            child._pending -= 1
            if not child._pending:
                ready.append(child)


def _raise_anomaly(root, out, child, local):
    path = " -> ".join(_name(node) for node in _path(root, out) + [child])
    raise AnomalyError(
        f"backward of op '{out._op}' produced gradient {child.grad!r} for its input {_name(child)}"
        f" (data={child.data!r}); local derivative {local!r}, gradient arriving {out.grad!r} at"
        f" node {_name(out)} (data={out.data!r}). Path from the root: {path}"
    )


def _name(node):
    if node.label:
        return repr(node.label)
    return f"<{node.op or 'leaf'}>"


def _path(root, target):
    """Return the list of nodes from root down to target (breadth-first, so the shortest path)."""
    parent = {root: None}
    frontier = [root]
    while frontier and target not in parent:
        next_frontier = []
        for node in frontier:
            for child in (node._x, node._y):
                if child is not None and child not in parent:
                    parent[child] = node
                    next_frontier.append(child)
        frontier = next_frontier
    path = []
    node = target
    while node is not None:
        path.append(node)
        node = parent.get(node)
    return path[::-1]


watch(_install, _uninstall)
