"""`mypyc_attr`, the decorator that tells the mypyc compiler how to build a class, or a stand-in.

The engine is plain Python that mypyc can compile (see docs/performance.md).
Its decorators come from `mypy_extensions` when that is installed (at build
time it is, with mypy); without it, as in a plain install, the stand-in
returns the class unchanged, which is all the decorator does at run time.
"""

try:
    from mypy_extensions import mypyc_attr
except ImportError:  # the engine needs only the standard library
    def mypyc_attr(*attrs, **kwattrs):  # type: ignore[no-redef,misc]
        """Return a decorator that returns its class unchanged (mypyc reads the real one at build time)."""
        return lambda cls: cls

__all__ = ["mypyc_attr"]
