"""The explorer's backward steps: the engine's own order of chain-rule steps, and each step written out in words.

`backward_order(root)` replicates `Value.backward()` step for step without
touching the graph: the same consumer counts (Kahn's algorithm), the same
stack, so the same order of ``child.grad += local * out.grad``. Read-only:
it reads ``children`` and the local derivatives each node stored in its
forward pass, and writes nothing, so an interrupted call changes nothing.

`replay(nodes, order)` applies those steps to fresh gradients (every Value
at 0.0) and returns what `backward()` gives after `zero_grad()`, bit for bit
(the tests check it on random graphs).

`local_text(value, index)` says where the local derivative of one input edge
comes from, with this graph's numbers: ``1 − t² at t = 0.99995``. The ops
with a hand-written text (`LOCAL_RULES`) show the numbers a learner needs
(how close t is to 1); any other op of the catalogue shows its entry's own
formula (``cos x at x = 1``), so a new op needs nothing here.
"""

import math
import re

from micrograd_it.catalogue import CATALOGUE, CUSTOM

__all__ = ["local_derivatives", "backward_order", "replay", "local_text", "local_rule", "catalogue_text",
           "expression_names", "number", "LOCAL_RULES"]


def local_derivatives(value):
    """Return the local derivatives d value / d child, one per child (the numbers the forward pass stored)."""
    return value.local_grads


def backward_order(root, nodes=None):
    """Return the chain-rule steps of ``root.backward()`` in the engine's order, as a list of Values.

    Each step is a non-leaf Value whose gradient is complete and is passed to
    its children. `nodes` (root.nodes(), if already computed) is only used to
    save a walk. Reads the graph, never writes it.
    """
    pending = {}  # id(node) -> consumers that have not yet passed their gradient down
    stack = [root]
    while stack:  # the engine's _count_consumers
        node = stack.pop()
        for child in node.children:
            key = id(child)
            if key in pending:
                pending[key] += 1
            else:
                pending[key] = 1
                stack.append(child)
    order, ready = [], [root]
    while ready:  # the engine's _backward: a node is ready once every consumer has passed its gradient
        out = ready.pop()
        children = out.children
        if not children:
            continue
        order.append(out)
        for child in children:
            pending[id(child)] -= 1
            if pending[id(child)] == 0:
                ready.append(child)
    return order


def replay(root, order, grad=1.0):
    """Return {id(Value): grad} after applying `order` to fresh gradients, as ``zero_grad(); backward(grad)`` would.

    Values that no gradient reaches are absent (their grad stays 0.0).
    """
    grads = {id(root): 0.0 + grad if root.is_leaf else grad}  # the engine's _seed: a leaf root accumulates
    for out in order:
        grad_out = grads[id(out)]
        for child, local in zip(out.children, local_derivatives(out)):
            grads[id(child)] = grads.get(id(child), 0.0) + local * grad_out
    return grads


def number(x, digits=4):
    """Return x as text with `digits` significant digits ('%g' style, as the graph prints numbers)."""
    return f"{x:.{digits}g}"


def _near_one(t):
    """t with enough digits that 1 - |t| is visible (t = 0.9999 prints as 0.9999, not as 1)."""
    gap = 1.0 - abs(t)
    if gap == 0.0:
        return f"{t:g} (exactly, in floats)"
    if gap < 1e-3:
        return f"{t:.{min(int(-math.log10(gap)) + 3, 17)}f}"
    return number(t, 5)


# op name -> rule(x, y, out, params, index, names) -> (text, the local derivative recomputed from that text's
# formula). `names` are the inputs' names. The recomputed number is a second, independent writing of each
# derivative: the tests check it against the engine's own, op by op, so a text here cannot drift from the
# engine's maths unnoticed.
def _add(x, y, out, params, index, names):
    return "1", 1.0


def _sub(x, y, out, params, index, names):
    return ("1", 1.0) if index == 0 else ("−1", -1.0)


def _mul(x, y, out, params, index, names):
    other = y if index == 0 else x
    return f"{names[1 - index]}.data = {number(other, 6)}, the other factor", other


def _div(x, y, out, params, index, names):
    if index == 0:
        return f"1/b at b = {number(y, 6)}", 1.0 / y
    return f"−a/b² at a = {number(x, 6)}, b = {number(y, 6)}", -x / (y * y)


def _neg(x, y, out, params, index, names):
    return "−1", -1.0


def _pow(x, y, out, params, index, names):
    n = params[0]
    return f"n·x^(n−1) at n = {n:g}, x = {number(x, 6)}", n * x ** (n - 1.0) if n != 0.0 else 0.0


def _rpow(x, y, out, params, index, names):
    c = params[0]
    return f"c^x · ln c at c = {c:g}, x = {number(x, 6)}", c ** x * math.log(c)


def _exp(x, y, out, params, index, names):
    return f"e^x = the output itself, {number(out, 6)}", math.exp(x)


def _log(x, y, out, params, index, names):
    return f"1/x at x = {number(x, 6)}", 1.0 / x


def _tanh(x, y, out, params, index, names):
    return f"1 − t² at t = {_near_one(out)}", 1.0 - math.tanh(x) ** 2


def _sigmoid(x, y, out, params, index, names):
    s = 1.0 / (1.0 + math.exp(-x)) if x > -700 else 0.0
    return f"s(1 − s) at s = {_near_one(out) if out > 0.5 else number(out, 6)}", s * (1.0 - s)


def _relu(x, y, out, params, index, names):
    return (f"1, as x = {number(x, 6)} > 0", 1.0) if x > 0.0 else (f"0, as x = {number(x, 6)} ≤ 0", 0.0)


def _leaky_relu(x, y, out, params, index, names):
    slope = params[0]
    if x > 0.0:
        return f"1, as x = {number(x, 6)} > 0", 1.0
    return f"the slope {slope:g}, as x = {number(x, 6)} ≤ 0", slope


def _elu(x, y, out, params, index, names):
    alpha = params[0]
    if x > 0.0:
        return f"1, as x = {number(x, 6)} > 0", 1.0
    return f"α·e^x at α = {alpha:g}, x = {number(x, 6)}", alpha * math.exp(x)


def _softplus(x, y, out, params, index, names):
    # 1 / (1 + e^-x) written as exp(-ln(1 + e^-x)): no cancellation in the far negative tail
    return f"sigmoid(x) at x = {number(x, 6)}", math.exp(-math.log1p(math.exp(-x))) if x > -700 else 0.0


def _gelu(x, y, out, params, index, names):
    c = math.sqrt(2.0 / math.pi)
    t = math.tanh(c * (x + 0.044715 * x ** 3)) if abs(x) < 1e100 else math.copysign(1.0, x)
    local = 0.5 * (1.0 + t) + (0.5 * x * (1.0 - t * t) * c * (1.0 + 3 * 0.044715 * x * x) if t * t != 1.0 else 0.0)
    return f"½(1 + t) + ½x(1 − t²)·c(1 + 0.134145x²), t = tanh(c(x + 0.044715x³)), at x = {number(x, 6)}", local


LOCAL_RULES = {
    "+": _add, "-": _sub, "*": _mul, "/": _div, "neg": _neg, "**": _pow, "rpow": _rpow, "exp": _exp, "log": _log,
    "tanh": _tanh, "sigmoid": _sigmoid, "relu": _relu, "leaky_relu": _leaky_relu, "elu": _elu,
    "softplus": _softplus, "gelu": _gelu,
}


def local_rule(value, index, names=("a", "b")):
    """Return (text, recomputed local derivative) for input `index` of `value`; raises KeyError for an unknown op."""
    children = value.children
    x = children[0].data
    y = children[1].data if len(children) > 1 else None
    return LOCAL_RULES[value.op](x, y, value.data, value.op_params, index, names)


def local_text(value, index, names=("a", "b")):
    """Return the text saying what d value / d input `index` is, e.g. ``1 − t² at t = 0.99995``.

    `names` are the inputs' names. An op without a rule here gets its catalogue entry's formula at
    this graph's numbers (`catalogue_text`); a node made by hand (op "custom") the number its maker
    gave; an op the catalogue does not know either, a plain text.
    """
    if value.op in LOCAL_RULES:
        return local_rule(value, index, names)[0]
    if value.op == CUSTOM:  # made by Value(data, children, local_grads): no formula, only the number given
        return f"{number(value.local_grads[index], 6)}, given by {value._op}() when it made the node"
    return catalogue_text(value, index)


def catalogue_text(value, index):
    """Return the catalogue's local derivative of input `index` of `value` as text, with its numbers:
    ``cos x at x = 1``; a two-input op's entry gives both (``1/y, -x/y²``), this takes one of them."""
    definition = CATALOGUE.get(value.op)
    if definition is None or not definition.local:
        return f"d {value.op} / d input {index}"
    formula = definition.local
    bold = re.search(r"\*\*(.+?)\*\*", formula)  # the docs' table bolds the formula before a remark
    if bold:
        formula = bold.group(1)
    parts = formula.split(", ")
    if definition.arity == 2 and len(parts) == 2:
        formula = parts[index]
    numbers = [f"{name} = {number(child.data, 6)}" for name, child in zip("xy", value.children)]
    if definition.param is not None and value.op_params:
        numbers.append(f"{definition.param.name} = {value.op_params[0]:g}")
    return f"{formula} at {', '.join(numbers)}"


_INFIX = {"+": " + ", "-": " − ", "*": "·", "/": "/"}
NAME_CHARS = 28  # longer expression names become v<id>


def expression_names(values, given, order):
    """Return a name per Value: `given` (a list, None where there is none), else the expression that made it
    (``x1·w1 + x2·w2``) while it stays short, else ``v<index>``; a constant leaf is its number."""
    index_of = {id(value): index for index, value in enumerate(values)}
    names = list(given)
    for index, value in enumerate(values):
        if names[index] is None and value.is_leaf:
            names[index] = number(value.data, 6)
    for value in reversed(order):  # children before the nodes made from them
        index = index_of[id(value)]
        if names[index] is not None:
            continue
        parts = [names[index_of[id(child)]] for child in value.children]
        if value.op in _INFIX:
            wrap = value.op != "+"
            parts = [f"({part})" if wrap and " " in part else part for part in parts]
            text = _INFIX[value.op].join(parts)
        elif value.op == "**":
            text = f"({parts[0]})**{value.op_params[0]:g}" if " " in parts[0] else f"{parts[0]}**{value.op_params[0]:g}"
        elif value.op == "neg":
            text = f"−({parts[0]})" if " " in parts[0] else f"−{parts[0]}"
        else:  # a one-input op of the catalogue, or a node made by hand with one or two inputs
            text = f"{value._op}({', '.join(parts)})"
        names[index] = text if len(text) <= NAME_CHARS else f"v{index}"
    return names
