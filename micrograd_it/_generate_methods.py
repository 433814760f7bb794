"""Writes the compiled engine's op methods from the op catalogue: source text, spliced into engine.py.

A mypyc native class runs fast only the methods written in its class body; the
methods the engine makes from the catalogue at import sit on a plain base class
and cost a Python-level dispatch per op (docs/performance.md). So the op methods
that the compiled `Value` runs are *generated* from the catalogue
(micrograd_it/ops.py stays the one place where an op is written) and kept in
engine.py between two pairs of marker lines: the methods in `Value`'s body, and
their module-level constants (each op's `Op` and rule) below the class.

    python -m micrograd_it._generate_methods          # rewrite the regions in engine.py
    python -m micrograd_it._generate_methods --check  # exit 1 if they are stale

tests/test_generated_methods.py checks that the regions are what this module
writes from today's catalogue. What is generated: every op without a constant
parameter (``x ** n`` and the like keep the methods made at import). For ``+``,
``-`` and ``*``, whose rule is one ``return`` of an expression on ``x`` and
``y`` and whose local derivatives are declared, the expression is written into
the method (the same float operation, so the same bits); every other op calls
its rule. The Python source runs the methods made at import instead (they cost
less interpreted): engine.py removes the generated ones from the class when it
is not compiled, so both builds compute with the catalogue's rules.
"""

import ast
import os
import sys

__all__ = ["generated_ops", "regions", "rewrite", "stale"]

FOLDER = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.join(FOLDER, "engine.py")
OPS = os.path.join(FOLDER, "ops.py")
METHODS = "methods"
CONSTANTS = "constants"
_BEGIN = "# -- generated from the op catalogue by micrograd_it/_generate_methods.py ({}): begin"
_END = "# -- generated ({}): end"


def generated_ops():
    """Return the OpDefs of ops.py that get generated methods: those without a constant parameter, in catalogue order."""
    from . import ops  # noqa: F401  (registers the built-in ops)
    from .catalogue import CATALOGUE

    module = sys.modules[f"{__package__}.ops"]
    return [op for op in CATALOGUE.values() if op.param is None and op.rule.__module__ == module.__name__]


def _ident(op):
    """The op's name as a Python identifier fragment: its rule's function name (``add``, ``tanh``)."""
    return op.rule.__name__


def _inline_expression(op):
    """The rule's returned expression as text when its body is one ``return EXPR`` on x and y, else None."""
    # ops.py read as text: compiled, its functions have no source to inspect.
    with open(OPS, encoding="utf-8") as source:
        tree = ast.parse(source.read())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == op.rule.__name__]
    if len(functions) != 1:
        return None
    function = functions[0]
    body = [node for node in function.body
            if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]  # a docstring
    params = [arg.arg for arg in function.args.args]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or params != ["x", "y"]:
        return None
    names = {node.id for node in ast.walk(body[0].value) if isinstance(node, ast.Name)}
    if not names <= {"x", "y"}:
        return None
    return ast.unparse(body[0].value)


def _binary(op):
    ident = _ident(op)
    lines = [f"def {op.method}(self, other: object) -> Value:"]
    lines.append("    if type(other) is not Value:")
    lines.append("        other = _as_value(other)")
    lines.append("    x = self._data")
    lines.append("    y = other._data")
    expression = _inline_expression(op) if op.declared is not None else None
    if op.declared is None:
        lines += ["    try:",
                  f"        data, dx, dy = _RULE_{ident}(x, y)",
                  "    except (ArithmeticError, ValueError) as error:",
                  "        raise _labelled(error, self, other) from None",
                  f"    return _native_node(data, _OP_{ident}, self, dx, other, dy)"]
    else:
        value = f"{expression}  # the rule's expression (ops.{ident})" if expression else f"_RULE_{ident}(x, y)"
        dx, dy = ("y", "x") if isinstance(op.declared[0], str) else (repr(op.declared[0]), repr(op.declared[1]))
        lines += [f"    data = {value}",
                  f"    return _native_node(data, _OP_{ident}, self, {dx}, other, {dy})"]
    lines.append("")
    lines.append(f"def {op.reflected}(self, other: object) -> Value:")
    lines.append(f"    return _as_value(other).{op.method}(self)")
    return lines


def _unary(op):
    ident = _ident(op)
    lines = [f"def {op.method}(self) -> Value:",
             "    try:",
             f"        data, local = _RULE_{ident}(self._data)",
             "    except (ArithmeticError, ValueError) as error:",
             "        raise _labelled(error, self) from None",
             f"    out = _native_node(data, _OP_{ident}, self, local, None, 0.0)"]
    if op.activation is not None:
        lines += ["    if _tracing.anywhere:",
                  f"        _tracing.record(self, out, _OP_{ident})"]
    lines.append("    return out")
    return lines


def regions():
    """Return {region name: its text}, the lines between the markers, as this catalogue gives them."""
    methods, constants = [], []
    names = []
    for op in generated_ops():
        body = _binary(op) if op.arity == 2 else _unary(op)
        methods += [("    " + line) if line else "" for line in body] + [""]
        ident = _ident(op)
        constants.append(f"_OP_{ident}: Final = Op({op.name!r})")
        constants.append(f"_RULE_{ident}: Final[Callable[..., Any]] = CATALOGUE[{op.name!r}].rule")
        names += [op.method] + ([op.reflected] if op.reflected else [])
    constants.append(f"_GENERATED_OPS: Final = {tuple(op.name for op in generated_ops())!r}")
    constants.append(f"_GENERATED_METHODS: Final = {tuple(names)!r}")
    return {METHODS: "\n".join(methods).rstrip("\n") + "\n", CONSTANTS: "\n".join(constants) + "\n"}


def _split(text, name):
    """Return (before, region, after) of `text` around region `name`'s markers; ValueError if they are missing."""
    begin, end = _BEGIN.format(name), _END.format(name)
    start = text.find(begin)
    stop = text.find(end, start)
    if start < 0 or stop < 0:
        raise ValueError(f"engine.py has no region {name!r} (the lines {begin!r} ... {end!r})")
    body_start = text.index("\n", start) + 1
    line_start = text.rindex("\n", 0, stop) + 1
    return text[:body_start], text[body_start:line_start], text[line_start:]


def stale(path=ENGINE):
    """Return the names of the regions of engine.py that differ from what the catalogue gives ([] when in sync)."""
    with open(path, encoding="utf-8") as source:
        text = source.read()
    return [name for name, body in regions().items() if _split(text, name)[1] != body]


def rewrite(path=ENGINE):
    """Write the regions into engine.py; return the names of those that changed."""
    with open(path, encoding="utf-8") as source:
        text = source.read()
    changed = []
    for name, body in regions().items():
        before, old, after = _split(text, name)
        if old != body:
            changed.append(name)
            text = before + body + after
    if changed:
        from .files import atomic_write
        atomic_write(path, text)
    return changed


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        out_of_date = stale()
        print("stale: " + ", ".join(out_of_date) if out_of_date else "in sync")
        sys.exit(1 if out_of_date else 0)
    print("rewrote: " + (", ".join(rewrite()) or "nothing (in sync)"))
