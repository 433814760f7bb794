"""Compiled replay: record a graph once, then replay its forward and backward on plain floats.

A training loop builds the same graph on every step; only the numbers change.
`record` walks the graph once and writes it onto a *tape*: one step per node,
in topological order, each step naming its op and where its inputs live. A
replay then runs the tape for new input values with no Value objects at all,
so there is nothing for Python's garbage collector to chase::

    tape = record(loss, inputs=net.parameters())
    for step in range(100):
        loss_value = tape.forward()        # reads each input's current .data
        grads = tape.backward()            # d loss / d input, in the order of `inputs`
        for p, g in zip(net.parameters(), grads):
            p.data -= 0.1 * g

Leaves that are not inputs (the training data, constants) keep the values
they had when the graph was recorded. Branches are re-decided on every replay
(a relu whose input changes sign takes its other branch), but the *shape* of
the graph is fixed: code whose graph depends on the data (an ``if`` on a
value) must be recorded again.

Tracing: a replay does not call the network's layers, so a trace does not see
it by itself. `Tape.write_back()` copies the replayed values and gradients
into the recorded Value objects, and a trace made while recording (which reads
those objects) then shows the latest replay.

Each step runs its op's rule from the catalogue (`micrograd_it.ops`), the
same function Value's method runs, so a replay gives the object engine's
numbers bit for bit.

`backend="numpy"` returns a level-batched tape (`micrograd_it.tape_numpy`);
it needs numpy, while this module needs only the standard library. The numpy
tape builds on this module; this one never imports it (`record` loads a
backend by its module name, as matplotlib loads its backends).
"""

import importlib
import math

from .catalogue import CATALOGUE, CUSTOM, PRODUCT
from .engine import AnomalyError, Value, _check_real

__all__ = ["record", "Tape", "BACKENDS"]

# backend name -> the module holding its tape class (a module that may import this one)
BACKENDS = {"python": __name__, "numpy": "micrograd_it.tape_numpy"}

# How a step runs its rule (see Tape.forward).
_UNARY, _WITH_CONSTANT, _BINARY, _CONSTANT_LOCALS, _PRODUCT_LOCALS = range(5)


# -- recording --------------------------------------------------------------------

def topological_order(root):
    """Return every Value root depends on, each once, inputs before the nodes made from them."""
    order = []
    seen = {root}
    stack = [(root, iter(root.children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if child not in seen:
                seen.add(child)
                stack.append((child, iter(child.children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def check_replayable(nodes):
    """Raise ValueError naming the first node made by hand, ``Value(data, children, local_grads)``.

    Such a node has no rule in the catalogue, only the local derivatives it was given when it
    was made: a replay with new inputs would reuse those stale numbers and give a wrong gradient
    that looks right. So it cannot be recorded (register the op in the catalogue instead).
    """
    for position, node in enumerate(nodes):
        if node.op == CUSTOM:
            label = f" (label {node.label!r})" if node.label else ""
            raise ValueError(
                f"record() cannot replay node {position}{label}: op '{node._op}' was made by "
                "Value(data, children, local_grads), so its local derivatives are numbers fixed when it was "
                "made, not a rule a replay could recompute for new inputs; register the op in the catalogue "
                "(micrograd_it.catalogue.unary) to replay it, or run the graph on the object engine")


def check_inputs(inputs):
    """Return `inputs` (Values, or a Module: its parameters) as a list of distinct leaf Values.

    Raises TypeError/ValueError naming a bad one.
    """
    if hasattr(inputs, "parameters"):
        inputs = inputs.parameters()
    try:
        inputs = list(inputs)
    except TypeError:
        raise TypeError(f"record() inputs must be a list of Values or a Module, got {inputs!r}") from None
    seen = set()
    for i, value in enumerate(inputs):
        if not isinstance(value, Value):
            raise TypeError(f"record() inputs must be Values, input {i} is {value!r} ({type(value).__name__})")
        if not value.is_leaf:
            raise ValueError(f"record() inputs must be leaves, input {i} ({value!r}) was made by op '{value.op}'")
        if value in seen:
            raise ValueError(f"record() input {i} ({value!r}) appears twice")
        seen.add(value)
    return inputs


def record(root, inputs=(), backend="python"):
    """Record root's graph onto a tape that replays it for new values of `inputs`.

    `inputs` are the leaf Values that change between replays (for example
    ``net.parameters()``, or just ``net``). Returns a `Tape` (``backend="python"``, standard
    library only) or a `micrograd_it.tape_numpy.NumpyTape` (``"numpy"``).
    Raises TypeError for a root or input that is not a Value, ValueError for
    an input that is not a leaf or appears twice or for an unknown backend,
    ImportError when the numpy backend is asked for without numpy.
    """
    if not isinstance(root, Value):
        raise TypeError(f"record() needs a Value as root, got {root!r} ({type(root).__name__})")
    if backend not in BACKENDS:
        raise ValueError(f"record() backend must be one of {sorted(BACKENDS)}, got {backend!r}")
    try:
        module = importlib.import_module(BACKENDS[backend])
    except ImportError as error:
        raise ImportError(f"record(backend={backend!r}) needs numpy: pip install numpy") from error
    return module.TAPE(root, inputs)


class Tape:
    """A recorded graph replayed on plain Python floats (one step per node, topological order).

    Build it with `record`. ``nodes`` are the recorded Values (inputs before
    the nodes made from them), ``inputs`` the Values whose data a replay
    changes.
    """

    def __init__(self, root, inputs=()):
        self.nodes = topological_order(root)
        check_replayable(self.nodes)
        self.inputs = check_inputs(inputs)
        index = {node: i for i, node in enumerate(self.nodes)}
        sink = len(self.nodes)  # where unary steps send their (zero) second gradient
        self._dx = [0.0] * (sink + 1)
        self._dy = [0.0] * (sink + 1)
        # One step per op node: (kind, rule, out, x, y, constant), all positions in the lists below.
        self._steps = []
        for out, node in enumerate(self.nodes):
            if not node.is_leaf:
                self._steps.append(self._step(node, out, index, sink))
        self._input_positions = [index.get(value) for value in self.inputs]
        self._leaf_positions = [position for position, node in enumerate(self.nodes) if node.is_leaf]
        self._data = [node.data for node in self.nodes] + [0.0]
        self._grad = None
        self._ready = False  # backward needs the local derivatives of a forward()

    def _step(self, node, out, index, sink):
        """The step replaying `node`; a binary op's constant local derivatives are written here, once."""
        definition = CATALOGUE[node.op]
        children = node.children
        x = index[children[0]]
        if definition.arity == 1:
            if definition.param is None:
                return (_UNARY, definition.rule, out, x, sink, None)
            return (_WITH_CONSTANT, definition.rule, out, x, sink, node.op_params[0])
        y = index[children[1]]
        if definition.declared is None:
            return (_BINARY, definition.rule, out, x, y, None)
        if definition.declared == PRODUCT:
            return (_PRODUCT_LOCALS, definition.rule, out, x, y, None)
        self._dx[out], self._dy[out] = definition.declared
        return (_CONSTANT_LOCALS, definition.rule, out, x, y, None)

    def __len__(self):
        return len(self.nodes)

    def forward(self, values=None):
        """Replay the forward pass; return the root's new value.

        `values` gives one number per input (default: each input's current
        ``.data``). Raises TypeError/ValueError for bad values, and the op's
        own error (ValueError, ZeroDivisionError, OverflowError) naming the
        node when a new value leaves an op's domain or overflows.
        """
        data = self._data
        for position, number in zip(self._input_positions, self._input_values(values)):
            if position is not None:
                data[position] = number
        dx, dy = self._dx, self._dy
        out = None
        try:
            for kind, rule, out, x, y, constant in self._steps:
                if kind == _CONSTANT_LOCALS:  # + and -: their local derivatives were written once
                    data[out] = rule(data[x], data[y])
                elif kind == _PRODUCT_LOCALS:  # *: d/dx (x y) = y, d/dy (x y) = x
                    dy[out] = a = data[x]
                    dx[out] = b = data[y]
                    data[out] = rule(a, b)
                elif kind == _UNARY:
                    data[out], dx[out] = rule(data[x])
                elif kind == _BINARY:
                    data[out], dx[out], dy[out] = rule(data[x], data[y])
                else:
                    data[out], dx[out] = rule(data[x], constant)
        except (ArithmeticError, ValueError) as error:
            self._ready = False
            raise type(error)(f"replay of {self._describe(out)}: {error}") from None
        # Fast check: a sum of finite floats is finite (unless it overflows, and
        # then the exact scan below decides); one C-level sum costs far less than
        # checking every node.
        if not math.isfinite(sum(data) + sum(dx) + sum(dy)):
            self._ready = False
            self._raise_non_finite()
        self._grad = None
        self._ready = True
        return data[len(self.nodes) - 1]

    def backward(self, grad=1.0):
        """Replay backward from the root (seeded with `grad`); return the list of d root / d input.

        An input the root does not depend on gets 0.0. Raises RuntimeError
        before the first `forward` (backward uses the local derivatives it
        computes), ValueError for a seed that is not finite, and AnomalyError
        (as the object engine's backward does, naming the op and the node) when
        a gradient becomes NaN or infinite; a refused backward changes nothing.
        """
        if not self._ready:
            raise RuntimeError("backward() needs a forward() first: it uses the local derivatives forward computes")
        if type(grad) is not float or not math.isfinite(grad):
            grad = _number(grad, "backward(grad)")
        data, dx, dy = self._data, self._dx, self._dy
        grads = [0.0] * len(data)
        grads[len(self.nodes) - 1] = grad
        for _, _, out, x, y, _ in reversed(self._steps):
            g = grads[out]
            # chain rule: child.grad += local * out.grad
            grads[x] += dx[out] * g
            grads[y] += dy[out] * g
        # NaN and infinity stick to every gradient they flow into, down to the leaves: one sum of
        # the leaves' gradients sees them all (a sum that only overflows is sorted out by the scan).
        if not math.isfinite(sum(map(grads.__getitem__, self._leaf_positions))):
            self._raise_non_finite_gradient(grad)
        self._grad = grads
        return [0.0 if position is None else grads[position] for position in self._input_positions]

    def write_back(self):
        """Copy the last replay's values (and gradients, after `backward`) into the recorded Values.

        Afterwards the Values -- and a trace or a drawing that reads them --
        show the replay. Leaves get their gradient added to ``.grad`` like the
        object engine's backward; other nodes get it assigned. Returns None.
        """
        for node, number in zip(self.nodes, self._data):
            node.data = number
        if self._grad is not None:
            for node, g in zip(self.nodes, self._grad):
                if node.is_leaf:
                    node.grad += g
                else:
                    node.grad = g

    def _input_values(self, values):
        if values is None:
            return [value.data for value in self.inputs]
        values = list(values)
        if len(values) != len(self.inputs):
            raise ValueError(f"forward() needs {len(self.inputs)} values (one per input), got {len(values)}")
        return [_number(number, f"forward() value {i}") for i, number in enumerate(values)]

    def _describe(self, position):
        node = self.nodes[position]
        label = f" (label {node.label!r})" if node.label else ""
        return f"op '{node._op}' at node {position}{label}"

    def _raise_non_finite_gradient(self, grad):
        """Run backward again, checking every gradient as it is written; raise AnomalyError at the first non-finite one."""
        data, dx, dy, sink = self._data, self._dx, self._dy, len(self.nodes)
        grads = [0.0] * len(data)
        grads[sink - 1] = grad
        for _, _, out, x, y, _ in reversed(self._steps):
            g = grads[out]
            for child, local in ((x, dx[out]), (y, dy[out])):
                if child == sink:
                    continue
                grads[child] += local * g
                if not math.isfinite(grads[child]):
                    raise AnomalyError(
                        f"replay backward of {self._describe(out)} produced gradient {grads[child]!r} for its "
                        f"input, node {child} (data={data[child]!r}); local derivative {local!r}, gradient "
                        f"arriving {g!r}")

    def _raise_non_finite(self):
        for _, _, out, x, y, _ in self._steps:
            for what, number in (("value", self._data[out]), ("local derivative", self._dx[out]),
                                 ("local derivative", self._dy[out])):
                if not math.isfinite(number):
                    inputs = (self._data[x],) if y == len(self.nodes) else (self._data[x], self._data[y])
                    raise OverflowError(f"replay of {self._describe(out)}: {what} is {number!r} at inputs {inputs}")


def _number(number, what):
    """Return number as a finite float, or raise TypeError/ValueError naming it."""
    number = _check_real(number, what)
    if not math.isfinite(number):
        raise ValueError(f"{what} needs a finite number, got {number!r}")
    return number


TAPE = Tape  # what record() builds for this backend
