"""The class where Value's op methods (+, *, tanh, ...) live: Value inherits it.

The engine makes each op's method from the catalogue at import and sets it
on this class (see `micrograd_it.engine._install`). It is a plain Python
class in a module of its own, never compiled, because a compiled Value (a
mypyc native class) takes no methods that are set after it is built, while
a plain class does, and Value then finds them by inheritance.
"""

__all__ = []


class _Operators:
    """Value's op methods, set here by the engine (no state: instances are Values)."""

    __slots__ = ()
