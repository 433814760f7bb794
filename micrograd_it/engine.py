"""The scalar autograd engine: `Value`, its ops, and an iterative `backward`.

Every op is written in one place: its forward value and its local derivative
side by side. The node keeps the local derivative, and `backward()` applies the
chain rule ``child.grad += local * out.grad`` in one loop, in reverse
topological order. For tanh that is literally ``(1 - t**2) * out.grad``.

Design choices that keep it fast without hiding the maths:
- `__slots__` and no per-node closures, so a graph holds no reference cycles
  and Python's cyclic garbage collector has nothing to chase;
- at most two inputs per node, kept in slots (no tuple per node);
- an iterative topological order (Kahn's algorithm), so a chain of a million
  nodes needs no recursion.
"""

import collections
import itertools
import math
import numbers
import operator
import threading

from ._modes import ScopedMode

__all__ = ["Value", "Op", "no_grad", "is_grad_enabled", "detect_anomaly", "is_anomaly_enabled", "AnomalyError"]


class Op:
    """What made a node: a name such as ``"tanh"`` and the op's constant parameters.

    ``params`` holds the constants that are not inputs (the exponent of ``x**3``,
    the slope of a leaky relu), so that a graph can be replayed from its ops.
    """

    __slots__ = ("name", "params")

    def __init__(self, name, params=()):
        self.name = name
        self.params = params

    def __str__(self):
        if self.name == "**":
            return f"**{self.params[0]:g}"
        if self.name == "rpow":
            return f"{self.params[0]:g}**"
        if self.params:
            return f"{self.name}({', '.join(f'{p:g}' for p in self.params)})"
        return self.name

    def __repr__(self):
        return f"Op({self.name!r}, {self.params!r})"


LEAF = Op("")
ADD, SUB, MUL, DIV, NEG = Op("+"), Op("-"), Op("*"), Op("/"), Op("neg")
EXP, LOG, TANH, SIGMOID = Op("exp"), Op("log"), Op("tanh"), Op("sigmoid")
RELU, SOFTPLUS, GELU = Op("relu"), Op("softplus"), Op("gelu")

# Ops with a constant parameter share one Op object per parameter value.
_PARAM_OPS = {}
_PARAM_OPS_MAX = 1024


def _param_op(name, param):
    key = (name, param)
    op = _PARAM_OPS.get(key)
    if op is None:
        op = Op(name, (param,))
        if len(_PARAM_OPS) < _PARAM_OPS_MAX:
            _PARAM_OPS[key] = op
    return op


# -- modes ---------------------------------------------------------------
#
# Both modes hold for the thread or asyncio task that entered them, from the
# block's entry to its exit (see _modes.py); other threads and tasks do not
# see them.

_no_grad = ScopedMode("micrograd_it.no_grad")
_anomaly = ScopedMode("micrograd_it.detect_anomaly")

# _node's fast path: True while no no_grad() block is open in any thread or
# task, so that recording a node costs one global read, as with a plain global
# flag. Only while some block is open somewhere does _node ask the context.
_grad_everywhere = True
_open_no_grad_blocks = 0
_no_grad_lock = threading.Lock()
_innermost_no_grad = _no_grad.innermost_block


def _count_no_grad_block(change):
    global _open_no_grad_blocks, _grad_everywhere
    with _no_grad_lock:
        _open_no_grad_blocks += change
        _grad_everywhere = _open_no_grad_blocks == 0


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
    return _grad_everywhere or not _no_grad.is_on()


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


class Value:
    """A scalar that remembers how it was computed, so that `backward()` can find its gradient.

    Public attributes: ``data`` (float), ``grad`` (float, starts at 0.0),
    ``label`` (str), ``op`` (name of the op that made it, ``""`` for a leaf) and
    ``children`` (the Values it was made from).
    """

    # _x, _y: the op's inputs (None when absent); _dx, _dy: the local
    # derivatives d(out)/d(_x) and d(out)/d(_y), computed in the forward pass.
    # _pending: scratch space of backward() (how many consumers have not yet
    # passed their gradient down); 0 outside backward().
    __slots__ = ("data", "grad", "label", "_op", "_x", "_dx", "_y", "_dy", "_pending")

    # numpy scalars defer to our reflected ops instead of building object arrays.
    __array_ufunc__ = None

    def __init__(self, data, label=""):
        if type(data) is not float:  # floats, the common case, skip the slower numbers.Real check
            data = _check_real(data, "Value()")
        if not math.isfinite(data):
            raise ValueError(f"Value() needs a finite number, got {data!r} (label {label!r})")
        if not isinstance(label, str):
            raise TypeError(f"Value() label must be a str, got {_describe(label)}")
        self.data = data
        self.grad = 0.0
        self.label = label
        self._op = LEAF
        self._x = self._y = None
        self._dx = self._dy = 0.0
        self._pending = 0

    @property
    def op(self):
        """Name of the op that made this Value (``""`` for a leaf)."""
        return self._op.name

    @property
    def op_params(self):
        """The op's constant parameters, e.g. ``(3.0,)`` for ``x**3``; ``()`` for most ops."""
        return self._op.params

    @property
    def children(self):
        """The Values this one was computed from (an empty tuple for a leaf)."""
        if self._x is None:
            return ()
        if self._y is None:
            return (self._x,)
        return (self._x, self._y)

    @property
    def is_leaf(self):
        """True when this Value was not made by an op (an input, a parameter, a constant)."""
        return self._x is None

    def __repr__(self):
        label = f"label={self.label!r}, " if self.label else ""
        return f"Value({label}data={self.data:.6g}, grad={self.grad:.6g})"

    def _repr_html_(self):
        """Jupyter's view of a Value: a one-row table of its label, data, grad and the op that made it."""
        from ._html_repr import table

        op = " ".join([self.op] + [f"{param:g}" for param in self.op_params])  # "**" and its exponent: "** 3"
        return table(("label", "data", "grad", "op"),
                     [(self.label or "-", f"{self.data:.6g}", f"{self.grad:.6g}", op or "leaf")])

    # -- ops: forward value and local derivative side by side -------------

    def __add__(self, other):
        if type(other) is not Value:
            other = _as_value(other)
        # d/dx (x + y) = 1, d/dy (x + y) = 1
        return _node(self.data + other.data, ADD, self, 1.0, other, 1.0)

    def __sub__(self, other):
        if type(other) is not Value:
            other = _as_value(other)
        # d/dx (x - y) = 1, d/dy (x - y) = -1
        return _node(self.data - other.data, SUB, self, 1.0, other, -1.0)

    def __mul__(self, other):
        if type(other) is not Value:
            other = _as_value(other)
        # d/dx (x * y) = y, d/dy (x * y) = x
        return _node(self.data * other.data, MUL, self, other.data, other, self.data)

    def __truediv__(self, other):
        other = _as_value(other)
        if other.data == 0.0:
            raise ZeroDivisionError(f"division by zero: {self!r} / {other!r}")
        out = self.data / other.data
        # d/dx (x / y) = 1 / y, d/dy (x / y) = -x / y^2 = -out / y
        dx, dy = 1.0 / other.data, -out / other.data
        _check_local(dx, DIV, self, other)
        _check_local(dy, DIV, self, other)
        return _node(out, DIV, self, dx, other, dy)

    def __neg__(self):
        # d/dx (-x) = -1
        return _node(-self.data, NEG, self, -1.0)

    def __pow__(self, exponent):
        n = _check_real(exponent, "Value ** exponent")
        x = self.data
        if x < 0.0 and not n.is_integer():
            raise ValueError(f"{x!r} ** {n!r} is not real: negative base with non-integer exponent")
        if x == 0.0 and n < 1.0 and n != 0.0:
            raise ZeroDivisionError(f"0.0 ** {n!r}: value or derivative is infinite at 0")
        try:
            out = x ** n
            # d/dx x^n = n * x^(n-1)
            local = n * x ** (n - 1.0) if n != 0.0 else 0.0
        except OverflowError:
            raise OverflowError(f"op '**' overflowed: {x!r} ** {n!r}") from None
        op = _param_op("**", n)
        _check_local(local, op, self)
        return _node(out, op, self, local)

    def __rpow__(self, base):
        c = _check_real(base, "number ** Value")
        if c <= 0.0:
            raise ValueError(f"number ** Value needs a positive base, got {c!r}")
        try:
            out = c ** self.data
        except OverflowError:
            raise OverflowError(f"op 'rpow' overflowed: {c!r} ** {self.data!r}") from None
        # d/dx c^x = c^x * ln(c)
        op = _param_op("rpow", c)
        local = out * math.log(c)
        _check_local(local, op, self)
        return _node(out, op, self, local)

    def __radd__(self, other):
        return _as_value(other) + self

    def __rsub__(self, other):
        return _as_value(other) - self

    def __rmul__(self, other):
        return _as_value(other) * self

    def __rtruediv__(self, other):
        return _as_value(other) / self

    def exp(self):
        """Return e**self; raises OverflowError when the result is too large for a float."""
        try:
            out = math.exp(self.data)
        except OverflowError:
            raise OverflowError(f"op 'exp' overflowed: exp({self.data!r}) (label {self.label!r})") from None
        # d/dx e^x = e^x
        return _node(out, EXP, self, out)

    def log(self):
        """Return the natural log; raises ValueError for a value <= 0."""
        x = self.data
        if x <= 0.0:
            raise ValueError(f"log of non-positive value {x!r} (label {self.label!r})")
        # d/dx ln(x) = 1 / x
        local = 1.0 / x
        _check_local(local, LOG, self)
        return _node(math.log(x), LOG, self, local)

    def tanh(self):
        """Return tanh(self); exact and finite for every finite input."""
        t = math.tanh(self.data)
        # d/dx tanh(x) = 1 - tanh(x)^2: the chain rule step is (1 - t**2) * out.grad,
        # which is 0 when tanh saturates at t = +-1 -- the gradient dies there.
        return _node(t, TANH, self, 1 - t**2)

    def sigmoid(self):
        """Return 1 / (1 + e**-self), computed without overflow for any finite input."""
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        # d/dx sigmoid(x) = s * (1 - s)
        return _node(s, SIGMOID, self, s * (1.0 - s))

    def relu(self):
        """Return max(0, self); the derivative at 0 is taken as 0."""
        x = self.data
        # d/dx relu(x) = 1 if x > 0 else 0
        return _node(x if x > 0.0 else 0.0, RELU, self, 1.0 if x > 0.0 else 0.0)

    def leaky_relu(self, slope=0.01):
        """Return self if self > 0 else slope * self."""
        slope = _check_real(slope, "leaky_relu slope")
        x = self.data
        # d/dx leaky_relu(x) = 1 if x > 0 else slope
        if x > 0.0:
            return _node(x, _param_op("leaky_relu", slope), self, 1.0)
        return _node(slope * x, _param_op("leaky_relu", slope), self, slope)

    def elu(self, alpha=1.0):
        """Return self if self > 0 else alpha * (e**self - 1)."""
        alpha = _check_real(alpha, "elu alpha")
        x = self.data
        if x > 0.0:
            return _node(x, _param_op("elu", alpha), self, 1.0)
        # d/dx alpha * (e^x - 1) = alpha * e^x
        return _node(alpha * math.expm1(x), _param_op("elu", alpha), self, alpha * math.exp(x))

    def softplus(self):
        """Return ln(1 + e**self), computed without overflow."""
        x = self.data
        out = math.log1p(math.exp(-abs(x))) + (x if x > 0.0 else 0.0)
        # d/dx softplus(x) = sigmoid(x)
        if x >= 0.0:
            local = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            local = e / (1.0 + e)
        return _node(out, SOFTPLUS, self, local)

    def gelu(self):
        """Return GELU with the tanh approximation: 0.5 x (1 + tanh(c (x + 0.044715 x^3))), c = sqrt(2/pi)."""
        x = self.data
        cube = x * x * x if abs(x) < 1e100 else math.copysign(math.inf, x)
        t = math.tanh(_GELU_C * (x + 0.044715 * cube))
        # d/dx = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 * 0.044715 x^2)
        sech2 = 1.0 - t * t
        local = 0.5 * (1.0 + t)
        if sech2:
            local += 0.5 * x * sech2 * _GELU_C * (1.0 + 3 * 0.044715 * x * x)
        return _node(0.5 * x * (1.0 + t), GELU, self, local)

    # -- graph-wide operations ----------------------------------------------

    def backward(self, grad=1.0):
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
        if _interrupted:
            _repair_interrupted()
        key = id(self)
        leaves = []
        restore_leaves = ()  # becomes an iterator that puts every leaf's grad back, when run
        try:
            _count_consumers(self, leaves)
            before = list(map(_grad_of, leaves))
            restore_leaves = map(setattr, leaves, _repeat("grad"), before)
            _seed(self, grad)
            if _anomaly.is_on():
                _backward_checked(self)
            else:
                _chain_rule(self)
            # NaN and infinity stick to every gradient they flow into, down to the leaves:
            # one sum of the leaves' grads sees them all.
            if not _isfinite(sum(map(_grad_of, leaves))):
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

    def zero_grad(self):
        """Set ``.grad`` to 0.0 on this Value and everything it depends on. Returns None."""
        for node in _walk(self):
            node.grad = 0.0

    def nodes(self):
        """Return a list of this Value and every Value it depends on, each once, root first."""
        return list(_walk(self))

    # -- the micrograd lecture's names ----------------------------------------

    @property
    def _prev(self):
        """The set of Values this one was computed from: micrograd's name for `children`."""
        return set(self.children)

    def _backward(self):
        """Do this node's own chain-rule step, ``child.grad += local * self.grad`` for each input; return None.

        Nothing else: no other node, no ordering. The micrograd lecture calls it
        by hand from the output down (``o.grad = 1.0; o._backward();
        n._backward(); ...``) to show how backprop works; in a topological
        order that gives the gradients `backward()` gives. A leaf passes nothing.
        """
        grad_out = self.grad
        x = self._x
        if x is not None:
            x.grad += self._dx * grad_out
            y = self._y
            if y is not None:
                y.grad += self._dy * grad_out


_GELU_C = math.sqrt(2.0 / math.pi)
_new = object.__new__
_isfinite = math.isfinite


def _as_value(other):
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


def _check_local(local, op, *inputs):
    """Raise OverflowError when an op's local derivative is not finite (it would poison backward)."""
    if not _isfinite(local):
        data = tuple(value.data for value in inputs)
        raise OverflowError(f"op '{op}': local derivative is {local!r} at inputs {data}")


def _node(data, op, x, dx, y=None, dy=0.0):
    """Make the Value that `op` computed from inputs x (and y) with local derivatives dx (dy)."""
    if not _isfinite(data):
        inputs = (x.data,) if y is None else (x.data, y.data)
        raise OverflowError(f"op '{op}' gave {data!r} from finite inputs {inputs}")
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    out._pending = 0
    # Grad mode, cheaply: no no_grad block open anywhere (one global read), else this
    # context's innermost block (C calls); only a closed, inherited one needs the full check.
    # (No local variable here: one more costs every node about 0.4% of a W1 step.)
    if (_grad_everywhere or _innermost_no_grad() is None
            or (not _innermost_no_grad().open and is_grad_enabled())):
        out._op = op
        out._x = x
        out._dx = dx
        out._y = y
        out._dy = dy
    else:
        out._op = LEAF
        out._x = out._y = None
        out._dx = out._dy = 0.0
    return out


def _walk(root):
    """Yield root and every Value it depends on, each once (iterative depth-first)."""
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        for child in (node._x, node._y):
            if child is not None and child not in seen:
                seen.add(child)
                stack.append(child)


def _count_consumers(root, leaves):
    """Set each node's ``_pending`` to how many edges of root's graph use it; zero non-leaf grads.

    Appends every leaf to `leaves`, once. The counts live on the nodes (a slot)
    rather than in a dict: it halves the cost of backward. Every count is back
    at 0 when backward has finished.
    The tests compare counts with ``!= 0`` / ``== 0`` rather than truthiness:
    Python 3.11 specialises an int comparison, while ``if count:`` calls bool().
    """
    stack = [root]
    pop, push, add_leaf = stack.pop, stack.append, leaves.append
    while stack:
        node = pop()
        x = node._x
        if x is None:
            add_leaf(node)
            continue
        node.grad = 0.0
        if x._pending != 0:
            x._pending += 1
        else:
            x._pending = 1
            push(x)
        y = node._y
        if y is not None:
            if y._pending != 0:
                y._pending += 1
            else:
                y._pending = 1
                push(y)


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
    _run(map(setattr, leaves, _repeat("grad"), before))
    _count_consumers(root, [])
    _seed(root, grad)
    _backward_checked(root)
    raise AnomalyError("a leaf's gradient is not finite, yet the checked pass found no step that made it")


def _seed(root, grad):
    if root._x is None:
        root.grad += grad
    else:
        root.grad = grad


# Roots of passes that an exception stopped, kept until their counts are reset:
# {id(root): root}. The clean-up in `backward` normally empties it at once; an
# entry stays only when a second interrupt cut that clean-up short.
_interrupted = {}
_grad_of = operator.attrgetter("grad")
_repeat = itertools.repeat
_run = collections.deque(maxlen=0).extend  # runs an iterator to its end in one call into C


def _reset_graph(root):
    """Zero every count and every non-leaf grad of root's graph (idempotent)."""
    for node in _walk(root):
        node._pending = 0
        if node._x is not None:
            node.grad = 0.0


def _repair_interrupted():
    """Zero the counts left behind by passes whose clean-up was itself interrupted."""
    for key, root in list(_interrupted.items()):
        for node in _walk(root):
            node._pending = 0
        _interrupted.pop(key, None)


def _chain_rule(root):
    """Apply ``child.grad += local * out.grad`` to every edge, each node once all its consumers are done."""
    # Kahn's algorithm: a node is ready once every node that uses it has
    # passed its gradient down, i.e. in reverse topological order.
    ready = [root]
    pop, push = ready.pop, ready.append
    while ready:
        out = pop()
        x = out._x
        if x is None:
            continue
        g = out.grad
        # chain rule: child.grad += local * out.grad
        x.grad += out._dx * g
        x._pending -= 1
        if x._pending == 0:
            push(x)
        y = out._y
        if y is not None:
            y.grad += out._dy * g
            y._pending -= 1
            if y._pending == 0:
                push(y)


def _backward_checked(root):
    """The same loop as `_chain_rule`, checking every gradient it writes (detect_anomaly mode)."""
    if not _isfinite(root.grad):
        raise AnomalyError(f"the root's gradient is {root.grad!r}")
    ready = [root]
    while ready:
        out = ready.pop()
        for child, local in ((out._x, out._dx), (out._y, out._dy)):
            if child is None:
                continue
            child.grad += local * out.grad
            if not _isfinite(child.grad):
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
    return f"<{node._op.name or 'leaf'}>"


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
