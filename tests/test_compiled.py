"""The compiled engine (mypyc, built at install time when a C compiler is there) and the Python source.

The source is the reference: the compiled engine must give the same numbers
bit for bit (tests/engine_fingerprint.py prints every one of a battery in
float.hex), and must never run beside a source that has changed since it was
compiled. Where no compiled engine was built, the tests that need one skip
and say why.
"""

import glob
import json
import math
import os
import shutil
import subprocess
import sys

import pytest

import micrograd_it
from micrograd_it import Value

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(os.path.abspath(micrograd_it.__file__))
needs_compiled = pytest.mark.skipif(not micrograd_it.COMPILED,
                                    reason=f"no compiled engine here: {micrograd_it.COMPILED_REASON}")


def _run(code_or_script, *, pure, cwd=None, path=None):
    """Run Python (a script path or -c code) in a fresh process; return its stdout lines."""
    env = dict(os.environ)
    env.pop("MICROGRAD_IT_PURE", None)
    if pure:
        env["MICROGRAD_IT_PURE"] = "1"
    if path is not None:
        env["PYTHONPATH"] = path
    args = [code_or_script] if code_or_script.endswith(".py") else ["-c", code_or_script]
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _first_difference(compiled, pure):
    for part in ("ops", "w1", "operators", "gpt"):
        for key in (pure[part] if part == "ops" else range(len(pure[part]))):
            if compiled[part][key] != pure[part][key]:
                return f"{part}[{key!r}]: compiled {compiled[part][key][:4]}..., pure {pure[part][key][:4]}..."
    return None


@needs_compiled
def test_the_compiled_engine_gives_the_numbers_of_the_source_bit_for_bit():
    script = os.path.join(HERE, "engine_fingerprint.py")
    compiled_head, compiled = _run(script, pure=False)
    pure_head, pure = _run(script, pure=True)
    assert json.loads(compiled_head)["compiled"] is True
    assert json.loads(pure_head) == {"compiled": False, "reason": "MICROGRAD_IT_PURE is set"}
    compiled, pure = json.loads(compiled), json.loads(pure)
    assert set(compiled["ops"]) == set(pure["ops"]) and len(pure["ops"]) >= len(micrograd_it.catalogue.CATALOGUE)
    assert compiled == pure, _first_difference(compiled, pure)


def test_micrograd_it_pure_runs_the_python_source():
    lines = _run("import micrograd_it, micrograd_it.engine as e, micrograd_it.ops as o;"
                 "print(micrograd_it.COMPILED, micrograd_it.COMPILED_REASON);"
                 "print(e.__file__.endswith('engine.py'), o.__file__.endswith('ops.py'))", pure=True)
    assert lines == ["False MICROGRAD_IT_PURE is set", "True True"]


def test_the_flag_says_which_engine_is_running():
    suffix = os.path.splitext(micrograd_it.engine.__file__)[1]
    assert micrograd_it.COMPILED == (suffix != ".py")
    assert (micrograd_it.COMPILED_REASON == "") == micrograd_it.COMPILED


def _copy_of_the_installed_package(tmp_path):
    """The package folder and the compiled engine's shared library, copied under tmp_path."""
    shutil.copytree(PACKAGE, tmp_path / "micrograd_it", ignore=shutil.ignore_patterns("__pycache__"))
    for library in glob.glob(os.path.join(os.path.dirname(PACKAGE), "micrograd_it__mypyc*")):
        shutil.copy(library, tmp_path)
    return tmp_path


@needs_compiled
def test_a_source_changed_since_it_was_compiled_runs_as_source(tmp_path):
    root = _copy_of_the_installed_package(tmp_path)
    probe = "import micrograd_it; print(micrograd_it.COMPILED, micrograd_it.engine.__file__)"
    compiled, where = _run(probe, pure=False, cwd=root, path=str(root))[0].split()
    assert (compiled, os.path.dirname(where)) == ("True", str(root / "micrograd_it"))

    with open(root / "micrograd_it" / "engine.py", "a", encoding="utf-8") as source:
        source.write("\nEDITED = True\n")  # an edit the compiled module does not have
    lines = _run(probe + "; print(micrograd_it.COMPILED_REASON); import micrograd_it.engine as e; print(e.EDITED)",
                 pure=False, cwd=root, path=str(root))
    assert lines[0].split()[0] == "False" and lines[0].endswith("engine.py")
    assert lines[1].startswith("engine.py changed since it was compiled") and lines[2] == "True"


@needs_compiled
def test_compiled_modules_without_a_source_they_were_compiled_from_run_as_source(tmp_path):
    # e.g. a wheel built from a tree with an in-place build: the .so and the stamp, not _nodes.c
    root = _copy_of_the_installed_package(tmp_path)
    os.remove(root / "micrograd_it" / "_nodes.c")
    lines = _run("import micrograd_it; print(micrograd_it.COMPILED); print(micrograd_it.COMPILED_REASON)",
                 pure=False, cwd=root, path=str(root))
    assert lines[0] == "False" and lines[1].startswith("_nodes.c, compiled into the stamp, cannot be read")


class Labelled(Value):
    """A user's subclass of Value, with an attribute of its own."""

    __slots__ = ("note",)

    def __init__(self, data, note):
        super().__init__(data)
        self.note = note


def test_value_can_be_subclassed():
    x = Labelled(1.5, note="mine")
    y = (x * x + 1.0).tanh()
    y.backward()
    # d/dx tanh(x^2 + 1) = (1 - tanh(x^2 + 1)^2) 2x, at x = 1.5
    t = 1.5 * 1.5 + 1.0
    assert x.note == "mine" and isinstance(x, Value)
    assert x.grad == pytest.approx((1 - math.tanh(t) ** 2) * 3.0, rel=1e-12)


# -- the compiled nodes, outside the cyclic collector (micrograd_it/_nodes.c) --------

@needs_compiled
def test_compiled_nodes_are_not_tracked_by_the_cyclic_collector_and_a_subclass_s_are():
    import gc

    x, w = Value(0.5), Value(-1.0)
    nodes = [x, (x * w + 0.1).tanh(), x ** 3, -x, Value.__new__(Value)]
    assert not any(gc.is_tracked(node) for node in nodes)
    assert gc.is_tracked(Labelled(1.0, note="mine"))  # a Python subclass allocates as Python classes do
    with micrograd_it._compiled.nodes_tracked():
        inside = x * w
    assert gc.is_tracked(inside) and not gc.is_tracked(x * w)  # back to untracked after the block


def test_the_python_source_s_nodes_are_tracked():
    lines = _run("import gc, micrograd_it as m; x = m.Value(0.5); print(gc.is_tracked(x), gc.is_tracked(x * 2))",
                 pure=True)
    assert lines == ["True True"]


@needs_compiled
def test_the_helper_refuses_a_class_it_was_not_made_for():
    from micrograd_it import _nodes

    for cls in (int, float, micrograd_it.engine.Op.__mro__[-1]):  # not GC-tracked, or not allocated generically
        with pytest.raises(TypeError, match="set_tracked"):
            _nodes.set_tracked(cls, False)
    with pytest.raises(TypeError):
        _nodes.set_tracked("Value", False)
    assert _nodes.is_tracked_class(dict) and not _nodes.is_tracked_class(Value)


@needs_compiled
def test_untracked_chains_are_freed_without_recursion_and_keep_their_memory_sound():
    # The collector's header stays on an untracked node, so CPython's trashcan frees a deep
    # chain iteratively; a chain far past its 50-level threshold, freed in a fresh process,
    # must exit normally (a broken trashcan crashes, or corrupts the allocator, well before this).
    lines = _run("import gc, micrograd_it as m\n"
                 "x = m.Value(0.5)\n"
                 "for _ in range(300_000): x = (x * 1.0 + 0.0).tanh()\n"
                 "assert not gc.is_tracked(x)\n"
                 "x.backward(); del x\n"
                 "y = [m.Value(float(i)) * 2.0 for i in range(100_000)]\n"  # the freed memory, used again
                 "print(sum(v.data for v in y))", pure=False)
    assert lines == [repr(float(sum(2.0 * i for i in range(100_000))))]
