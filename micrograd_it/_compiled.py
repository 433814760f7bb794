"""Which engine runs: the one compiled by mypyc at install time, or the Python source it was compiled from.

`pip install` compiles the modules in `MODULES` with mypyc when a C compiler
is present (setup.py) and writes beside them a stamp, `_compiled_sources.json`,
holding the SHA-256 of each source it compiled. Python would import a
compiled module in preference to its .py file whatever the .py says now, so
this module, run first by the package, decides: the compiled modules are used
only when every one is there and the stamp matches every .py on disk (an
edited engine.py in an editable install runs as edited, interpreted, until it
is built again), and the environment variable ``MICROGRAD_IT_PURE=1`` forces
the source. Otherwise each module is loaded from its .py, before anything
imports it. Both give the same results bit for bit (tests/test_compiled.py).

With the compiled engine comes `HELPER`, C built beside it (`_nodes.c`, whose
header says why): the compiled Value's own instances live in slabs of memory
that the next graph uses again, outside the cyclic garbage collector's lists
(a graph of them holds no reference cycle); and, once `_use_nodes` has
checked that its fields are where the C code reads them, the ops + - *, the
freeing of a graph and backward's two walks run in C, with the same results
bit for bit. The Python source leaves its nodes tracked and runs all in Python.
"""

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import json
import os
import sys

__all__ = ["MODULES", "HELPER", "STAMP", "choose", "nodes_tracked", "fast_path", "fast_function"]

PACKAGE = __name__.rpartition(".")[0]
FOLDER = os.path.dirname(os.path.abspath(__file__))
MODULES = ("ops", "engine")  # the modules setup.py compiles, each after those it imports
HELPER = "_nodes"  # built from HELPER.c beside them
STAMP = "_compiled_sources.json"


def source_digest(path):
    """Return the SHA-256 (hex) of the file at `path`."""
    with open(path, "rb") as source:
        return hashlib.sha256(source.read()).hexdigest()


def _why_not_compiled():
    """Return None when the compiled modules may be used, else the reason they may not (a sentence)."""
    if os.environ.get("MICROGRAD_IT_PURE", "") not in ("", "0"):
        return "MICROGRAD_IT_PURE is set"
    try:
        with open(os.path.join(FOLDER, STAMP), encoding="utf-8") as stamp_file:
            stamp = json.load(stamp_file)
    except FileNotFoundError:
        return "the engine was not compiled at install time (no C compiler, or mypyc was not available)"
    except (OSError, ValueError) as error:
        return f"the stamp {STAMP} cannot be read ({error})"
    for name, source in [(name, name + ".py") for name in MODULES] + [(HELPER, HELPER + ".c")]:
        if not any(os.path.exists(os.path.join(FOLDER, name + suffix))
                   for suffix in importlib.machinery.EXTENSION_SUFFIXES):
            return f"the compiled {name} module is missing"
        try:
            digest = source_digest(os.path.join(FOLDER, source))
        except OSError as error:  # e.g. compiled modules copied without their sources
            return f"{source}, compiled into the stamp, cannot be read ({error.strerror})"
        if stamp.get(source) != digest:
            return (f"{source} changed since it was compiled (reinstall, e.g. pip install -e ., "
                    "to compile it again)")
    return None


def _load_source(name):
    """Import micrograd_it.`name` from its .py file, even where a compiled module sits beside it."""
    fullname = f"{PACKAGE}.{name}"
    path = os.path.join(FOLDER, name + ".py")
    loader = importlib.machinery.SourceFileLoader(fullname, path)
    spec = importlib.util.spec_from_file_location(fullname, path, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[fullname] = module
    try:
        loader.exec_module(module)
    except BaseException:
        del sys.modules[fullname]
        raise
    setattr(sys.modules[PACKAGE], name, module)
    return module


def choose():
    """Import the engine, compiled when it may be; return (compiled: bool, the reason when it is not, or "")."""
    reason = _why_not_compiled()
    if reason is None:
        try:
            helper = importlib.import_module(f"{PACKAGE}.{HELPER}")  # first: if it fails, no compiled code has run
            engine = importlib.import_module(f"{PACKAGE}.{MODULES[-1]}")  # the engine, which imports the others
        except ImportError as error:  # e.g. built for another Python: nothing of it ran
            for name in MODULES + (HELPER,):
                sys.modules.pop(f"{PACKAGE}.{name}", None)
            reason = f"the compiled engine cannot be imported ({error})"
        else:
            _use_nodes(helper, engine)
    if reason is not None:
        for name in MODULES:
            _load_source(name)
        return False, reason
    return True, ""


_FAST_PATH = {"on": False, "reason": "the engine is not compiled"}


def fast_path():
    """Return (on: bool, the reason when it is off, or ""): whether the C ops, freeing and walks run."""
    return _FAST_PATH["on"], _FAST_PATH["reason"]


def fast_function(name):
    """Return the C helper's function `name` when the fast path is on (its other C code, e.g. Adam's
    update), else None: the caller then runs its Python, which gives the same numbers."""
    return getattr(sys.modules[f"{PACKAGE}.{HELPER}"], name) if _FAST_PATH["on"] else None


# What micrograd_it/_nodes.c computes for + - *: the local derivatives the catalogue declares for them.
_C_OPS = {"+": (1.0, 1.0), "-": (1.0, -1.0), "*": "product"}


def _use_nodes(helper, engine):
    """Put the compiled Value's nodes in the C helper's slabs, and its C ops, freeing and walks on
    when its fields are where the helper reads them (else the compiled methods do all, as before)."""
    import gc

    from .catalogue import CATALOGUE, PRODUCT

    value = engine.Value
    if any(type(thing) is value for thing in gc.get_objects()):  # made by another allocator: never freed by it
        _FAST_PATH["reason"] = "Values existed before the engine's memory was set up"
        return
    try:
        helper.install(value, sys.getsizeof([]) - [].__sizeof__())  # the collector's header before each object
    except TypeError as error:  # a Python whose compiled classes allocate otherwise: tracked nodes, slower
        _FAST_PATH["reason"] = str(error)
        return
    declared = {name: (PRODUCT if want == "product" else want) for name, want in _C_OPS.items()}
    if any(CATALOGUE[name].declared != want for name, want in declared.items()):
        _FAST_PATH["reason"] = "the catalogue's + - * are not the ones the C ops compute"
        return
    a, b = value(1.25), value(-113.0)  # -113.0: the marker mypyc gives an undefined float
    probe = a * b  # by the compiled __mul__
    probe.grad = -113.0
    if not helper.layout_ok(probe, a, b, engine._OP_mul, engine.LEAF):
        _FAST_PATH["reason"] = "the compiled Value's fields are not where the C helper reads them"
        return
    helper.enable(probe, engine.LEAF, engine._OP_add, engine._OP_sub, engine._OP_mul)
    engine._fast = helper
    _FAST_PATH.update(on=True, reason="")


@contextlib.contextmanager
def nodes_tracked():
    """Within the block, the compiled Value's new instances are tracked by the cyclic collector, as the source's are.

    For tests that look for reference cycles with `gc` (gc.collect,
    gc.get_objects): what the block makes is seen by them. Nodes made before
    or after it stay untracked. It holds for the whole process while open (a
    test helper, not a mode). With the Python source it changes nothing.
    """
    helper = sys.modules.get(f"{PACKAGE}.{HELPER}")
    value = sys.modules[f"{PACKAGE}.engine"].Value
    if helper is None or helper.is_tracked_class(value):
        yield
        return
    helper.set_tracked(value, True)
    try:
        yield
    finally:
        helper.set_tracked(value, False)
