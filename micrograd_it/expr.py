"""A safe parser for small arithmetic expressions such as ``tanh(x*w + b)``, built into Values.

The text is parsed with the standard library's `ast` and then walked by hand:
only numbers, variable names, ``+ - * / **``, unary ``-``/``+`` and calls to the
engine's own functions (the catalogue's ops that are not operators) are accepted. Everything else (attribute access, calls
to other names, subscripts, lambdas, comprehensions, f-strings, ``__`` names,
huge exponents, huge or deeply nested trees) is refused with an
`ExpressionError` naming the culprit. Nothing is ever passed to `eval`/`exec`.

>>> root, leaves = build("tanh(x*w + b)", {"x": 2.0, "w": -3.0, "b": 6.88})
>>> root.backward(); leaves["w"].grad   # d tanh(x*w + b) / dw
"""

import ast
import math
import unicodedata
import warnings

from .quoting import quote
from .catalogue import CATALOGUE, View
from .engine import Value

__all__ = ["ExpressionError", "FUNCTIONS", "parse", "variables", "build", "parse_bindings"]

MAX_CHARS = 1000  # longer text is refused before parsing
MAX_NODES = 400  # syntax-tree nodes
MAX_DEPTH = 60  # nesting depth of the syntax tree (our evaluator recurses)
MAX_EXPONENT = 100.0  # |n| in x**n and in number**number


class ExpressionError(ValueError):
    """The expression text is not something `build` accepts (the message says what and where)."""


def _functions():
    # Every op of the catalogue called as a function (not an operator such as
    # "+" or "**"): its name, as it is the Value method's, and its constant
    # as an optional second argument: leaky_relu(x) or leaky_relu(x, slope).
    return {definition.method: (definition.method, 0 if definition.param is None else 1)
            for definition in CATALOGUE.values()
            if definition.arity == 1 and not definition.method.startswith("__")}


# name -> (method of Value, how many extra constant arguments it may take), read from the catalogue
FUNCTIONS = View(_functions)

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.USub: "-", ast.UAdd: "+"}

# Friendly names for the node types people most often try.
_REFUSED = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Lambda: "lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "*unpacking",
}


def _snippet(text, node):
    """The source of `node`, quoted for a message (shortened past 40 characters)."""
    return quote(ast.get_source_segment(text, node) or type(node).__name__, limit=40)


def _refuse(text, node, what):
    raise ExpressionError(f"not allowed in an expression: {what} in {_snippet(text, node)}")


def _check_name(text, node, name):
    if "__" in name:
        _refuse(text, node, f"the dunder name {quote(name)}")


def _check_call(text, node):
    if not isinstance(node.func, ast.Name):
        _refuse(text, node, "a call of something that is not a plain function name")
    name = node.func.id
    _check_name(text, node.func, name)
    if name not in FUNCTIONS:
        known = ", ".join(sorted(FUNCTIONS))
        raise ExpressionError(f"unknown function {quote(name)} in {_snippet(text, node)}; known: {known}")
    if node.keywords:
        _refuse(text, node, "keyword arguments")
    extra = FUNCTIONS[name][1]
    if not 1 <= len(node.args) <= 1 + extra:
        wanted = "1 argument" if extra == 0 else f"1 or {1 + extra} arguments"
        raise ExpressionError(f"{name}() takes {wanted}, got {len(node.args)} in {_snippet(text, node)}")


def _check_node(text, node, parent):
    """Raise ExpressionError unless `node` is one of the few accepted kinds."""
    if isinstance(node, (ast.Expression, ast.Load)) or type(node) in _BINARY or type(node) in _UNARY:
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY:
            _refuse(text, node, f"the operator {type(node.op).__name__}")
    elif isinstance(node, ast.UnaryOp):
        if type(node.op) not in _UNARY:
            _refuse(text, node, f"the operator {type(node.op).__name__}")
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            shown = quote(value, limit=40) if isinstance(value, str) else repr(value)[:40]
            _refuse(text, node, f"the constant {shown} (only numbers)")
        if isinstance(value, float) and not math.isfinite(value):
            _refuse(text, node, "a number too large for a float")
        if isinstance(value, int) and abs(value) > 10**300:
            _refuse(text, node, "a number too large for a float")
    elif isinstance(node, ast.Name):
        _check_name(text, node, node.id)
        is_callee = isinstance(parent, ast.Call) and parent.func is node
        if node.id in FUNCTIONS and not is_callee:
            raise ExpressionError(f"{quote(node.id)} is a function: call it, e.g. {node.id}(x)")
    elif isinstance(node, ast.Call):
        _check_call(text, node)
    else:
        what = _REFUSED.get(type(node), f"the syntax {type(node).__name__}")
        _refuse(text, node, what)


def parse(text):
    """Return the checked `ast.Expression` of `text`; raise ExpressionError if it is not allowed."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be a str, got {text!r:.40} ({type(text).__name__})")
    if len(text) > MAX_CHARS:
        raise ExpressionError(f"expression too long: {len(text)} characters (limit {MAX_CHARS})")
    if not text.strip():
        raise ExpressionError("empty expression")
    try:
        with warnings.catch_warnings():  # e.g. "1if x else 2": Python only warns; we refuse
            warnings.simplefilter("error", SyntaxWarning)
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, SyntaxWarning, ValueError, RecursionError, MemoryError) as error:
        detail = getattr(error, "msg", None) or type(error).__name__
        raise ExpressionError(f"cannot parse {quote(text.strip())}: {detail}") from None
    text = text.strip()
    # Walk iteratively (no recursion), checking every node, the size and the depth.
    stack, count = [(tree, None, 0)], 0
    while stack:
        node, parent, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression too large: more than {MAX_NODES} syntax nodes")
        if depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested too deeply: more than {MAX_DEPTH} levels")
        _check_node(text, node, parent)
        stack.extend((child, node, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


def variables(text):
    """Return the variable names of `text` in order of first appearance (functions excluded)."""
    tree = parse(text)
    callees = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    names = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and id(node) not in callees]
    names.sort(key=lambda node: (node.lineno, node.col_offset))
    return list(dict.fromkeys(node.id for node in names))


def parse_bindings(pairs):
    """Turn ``["x=2", "w=-3"]`` into ``{"x": 2.0, "w": -3.0}``; raise ExpressionError on a bad pair.

    Names are NFKC-normalised as Python normalises the identifiers of an
    expression, so ``ｘ=1`` binds the ``ｘ`` of ``ｘ*2`` (which Python reads as
    ``x``); a name given twice (in any spelling) is refused.
    """
    values = {}
    for pair in pairs:
        name, sep, number = pair.partition("=")
        name = unicodedata.normalize("NFKC", name.strip())
        if not sep or not name.isidentifier() or "__" in name or name in FUNCTIONS:
            raise ExpressionError(f"a variable must be given as NAME=NUMBER, got {quote(pair)}")
        if name in values:
            raise ExpressionError(f"the variable {quote(name)} is given twice (in {quote(pair)})")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{quote(name)} needs a number, got {quote(number)}") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{quote(name)} needs a finite number, got {quote(number)}")
        values[name] = value
    return values


def build(text, values):
    """Build `text` as a graph of Values; return ``(root, leaves)``, leaves a dict name -> leaf Value.

    `values` maps every variable of the expression to a number. Each variable
    becomes one labelled leaf (used twice, it is the same leaf). Raises
    ExpressionError for refused syntax, missing variables, or maths that fails
    at these values (log of a negative number, division by zero, overflow).
    """
    tree = parse(text)
    text = text.strip()
    names = variables(text)
    missing = [name for name in names if name not in values]
    if missing:
        given = " ".join(f"{name}=..." for name in missing)
        raise ExpressionError(f"no value for {', '.join(missing)}: give {given}")
    leaves = {name: Value(float(values[name]), label=name) for name in names}
    try:
        root = _evaluate(text, tree.body, leaves)
    except (ValueError, ZeroDivisionError, OverflowError, TypeError) as error:
        if isinstance(error, ExpressionError):
            raise
        raise ExpressionError(f"cannot compute {quote(text)} at these values: {_reason(error)}") from None
    if not isinstance(root, Value):  # only numbers, no variables: still draw one node
        root = Value(root, label=text[:20])
    return root, leaves


def _evaluate(text, node, leaves):
    """Return a Value (or a float for a constant part) for one checked syntax node."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return leaves[node.id]
    if isinstance(node, ast.UnaryOp):
        operand = _evaluate(text, node.operand, leaves)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _evaluate(text, node.left, leaves)
        right = _evaluate(text, node.right, leaves)
        if isinstance(node.op, ast.Pow):
            return _constant(text, node, lambda base, exponent: _power(text, node, base, exponent), left, right)
        operation = {ast.Add: _add, ast.Sub: _sub, ast.Mult: _mul, ast.Div: _div}[type(node.op)]
        return _constant(text, node, operation, left, right)
    # the only other checked node: a call of a known function
    method, _ = FUNCTIONS[node.func.id]
    argument = _evaluate(text, node.args[0], leaves)
    if not isinstance(argument, Value):
        argument = Value(argument)
    constants = [_evaluate(text, extra, leaves) for extra in node.args[1:]]
    if any(isinstance(constant, Value) for constant in constants):
        raise ExpressionError(f"the second argument of {node.func.id}() must be a number, in {_snippet(text, node)}")
    return getattr(argument, method)(*constants)


def _constant(text, node, operation, left, right):
    """`operation(left, right)`; when both are numbers (no variable), the result must be a finite float.

    Python's floats overflow to inf (1e308 + 1e308) or nan (inf * 0) without a
    word, and Value ops check their results but plain numbers are folded here:
    a constant part that leaves the floats is named, as an expression error.
    """
    if isinstance(left, Value) or isinstance(right, Value):
        return operation(left, right)
    try:
        result = operation(left, right)
    except ZeroDivisionError:
        raise ExpressionError(f"division by zero in {_snippet(text, node)}") from None
    except OverflowError:
        result = math.inf
    if math.isnan(result):  # inf * 0, inf - inf: only after an overflow further in
        raise ExpressionError(f"{_snippet(text, node)} is not a number: a part of it overflows the floats")
    if math.isinf(result):
        raise ExpressionError(f"{_snippet(text, node)} overflows: its value is beyond the range of a float")
    return result


def _reason(error):
    """The text of a maths error, in words (math's OverflowError reads "(34, 'Numerical result out of range')")."""
    if isinstance(error, OverflowError) and error.args and isinstance(error.args[0], int):
        return "a result beyond the range of a float"
    return str(error)


def _add(left, right):
    return left + right


def _sub(left, right):
    return left - right


def _mul(left, right):
    return left * right


def _div(left, right):
    return left / right


def _power(text, node, base, exponent):
    """x**n (n a number), c**x (c > 0 a number) or number**number, with |exponent| bounded."""
    if isinstance(exponent, Value) and isinstance(base, Value):
        raise ExpressionError(
            f"{_snippet(text, node)}: the exponent must be a number when the base has variables"
            " (write exp(y*log(x)) for x**y)")
    if not isinstance(exponent, Value) and abs(exponent) > MAX_EXPONENT:
        raise ExpressionError(f"exponent {exponent:g} too large in {_snippet(text, node)} (limit {MAX_EXPONENT:g})")
    if not isinstance(exponent, Value) and not isinstance(base, Value):
        if base < 0 and not exponent.is_integer():
            raise ExpressionError(f"{_snippet(text, node)} is not a real number")
    return base**exponent
