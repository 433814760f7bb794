"""The house's rules, read from the source with ast: the import graph of the three packages has no
circle, dependencies run one way (engine <- viz <- application), no room imports another's private
module, and every module's docstring says in a sentence what it is for.

Each rule is checked on the real tree and, so that it can fail, on a small made-up case.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("micrograd_it", "viz", "micrograd_it_app")
FIRST_PARTY = set(PACKAGES) | {"demos", "micrograd_it_demos"}


def module_name(path):
    """`viz/graph.py` -> ``viz.graph``; `viz/__init__.py` -> ``viz``."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_files(packages=PACKAGES):
    """Every .py file of the packages (and their subfolders), as {module name: path}."""
    return {module_name(path): path for package in packages for path in sorted((ROOT / package).rglob("*.py"))}


ALL_MODULES = set(package_files())


def imports(source, module, is_package=False):
    """Return [(imported module, at module level?, line)] of `source`, relative imports resolved.

    ``from a.b import c, d`` gives ``a.b.c`` and ``a.b.d`` where they are modules of the tree (a
    package's ``from . import ops``), else ``a.b`` once. Code in a function body runs only when
    called, so its imports are not at module level (class bodies run at import).
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []

    def visit(nodes, module_level):
        for node in nodes:
            if isinstance(node, ast.Import):
                found.extend((alias.name, module_level, node.lineno) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([node.module] if node.module else []))
                submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in ALL_MODULES]
                names = len(submodules) < len(node.names)
                found.extend((name, module_level, node.lineno) for name in ([base] if names else []) + submodules)
            inner = module_level and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            visit([child for child in ast.iter_child_nodes(node) if isinstance(child, (ast.stmt, ast.excepthandler))],
                  inner)

    visit(ast.parse(source).body, True)
    return found


def import_graph(files, module_level_only=True):
    """{module: {modules of `files` it imports}}: at module level only, or also inside functions."""
    return {module: {name for name, module_level, _ in imports(path.read_text(encoding="utf-8"), module,
                                                                path.name == "__init__.py")
                     if (module_level or not module_level_only) and name in files and name != module}
            for module, path in files.items()}


def find_cycle(graph):
    """Return one import circle as a list of modules (first == last), or None. Iterative depth-first search."""
    state = {}  # module -> "open" while on the current path, "done" after
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [], [(start, iter(sorted(graph[start])))]
        state[start] = "open"
        path.append(start)
        while stack:
            node, children = stack[-1]
            for child in children:
                if state.get(child) == "open":
                    return path[path.index(child):] + [child]
                if child not in state:
                    state[child] = "open"
                    path.append(child)
                    stack.append((child, iter(sorted(graph.get(child, ())))))
                    break
            else:
                stack.pop()
                state[path.pop()] = "done"
    return None


# -- no import circle ---------------------------------------------------------------------------

def test_the_three_packages_have_no_import_circle():
    graph = import_graph(package_files())
    assert "micrograd_it.ops" in graph["micrograd_it.engine"]  # the graph sees relative imports
    assert "micrograd_it.tape" in graph["micrograd_it.tape_numpy"]
    cycle = find_cycle(graph)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_circle_either_through_the_imports_inside_functions():
    # A lazy import still makes two modules depend on each other (the float tape once loaded the numpy
    # tape inside record(), while the numpy tape imported the float one): dependencies run one way.
    cycle = find_cycle(import_graph(package_files(), module_level_only=False))
    assert cycle is None, "import circle (counting imports inside functions): " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set(), "d": {"c", "a"}}) is None
    source = ("from . import tape\nfrom .tape import record\nimport numpy as np\n"
              "def later():\n    from . import tape_numpy, __version__\n")
    assert imports(source, "micrograd_it.engine") == [
        ("micrograd_it.tape", True, 1), ("micrograd_it.tape", True, 2), ("numpy", True, 3),
        ("micrograd_it", False, 5), ("micrograd_it.tape_numpy", False, 5)]


# -- dependencies run one way --------------------------------------------------------------------

def imported_roots(path, module, module_level_only):
    """{top-level name: first line} of what `path` imports (at module level only, or anywhere)."""
    roots = {}
    for name, module_level, line in imports(path.read_text(encoding="utf-8"), module, path.name == "__init__.py"):
        if module_level or not module_level_only:
            roots.setdefault(name.split(".")[0], line)
    return roots


def test_no_picture_module_imports_the_application():
    offenders = [f"{module} (line {roots['micrograd_it_app']})" for module, path in package_files(["viz"]).items()
                 if "micrograd_it_app" in (roots := imported_roots(path, module, module_level_only=False))]
    assert not offenders, f"viz imports the application (micrograd_it_app): {offenders}"


# What the engine package imports beyond the standard library and itself, module by module, today.
# At module level: only its optional modules their optional package (record(backend="numpy") loads
# tape_numpy; the torch extra; the test extra). Anywhere: the application only from __main__ (the one door
# to the command line, imported when the command runs), never pictures.
ENGINE_MODULE_LEVEL = {
    "micrograd_it.tape_numpy": {"numpy"},
    "micrograd_it.testing": {"hypothesis"},
    "micrograd_it.torch_trace": {"torch"},
    "micrograd_it.torch_activations": {"torch"},
    "micrograd_it.torch_trace_layer": {"torch", "numpy"},
    "micrograd_it.torch_makemore": {"torch"},
    "micrograd_it.torch_deep": {"torch"},
}
# The one door the other way (README, "Layout"): `python -m micrograd_it` must live in the engine's package,
# and imports the command's door micrograd_it_app.start inside a function, only when run.
ENGINE_LAZY = {"micrograd_it.__main__": {"micrograd_it_app"}}
WATCHED = {"numpy", "matplotlib", "graphviz", "torch", "hypothesis", "jinja2", "tqdm", "PIL", "viz",
           "micrograd_it_app"}


NEVER = {"viz", "micrograd_it_app", "matplotlib", "graphviz"}  # not even lazily (but ENGINE_LAZY)


def engine_import_offences(files):
    offences = []
    for module, path in files.items():
        anywhere = imported_roots(path, module, module_level_only=False)
        at_import = imported_roots(path, module, module_level_only=True)
        for root, line in sorted(anywhere.items()):
            if root in at_import and root in WATCHED and root not in ENGINE_MODULE_LEVEL.get(module, set()):
                offences.append(f"{module} imports {root} at module level (line {at_import[root]})")
            elif root in NEVER and root not in at_import and root not in ENGINE_LAZY.get(module, set()):
                offences.append(f"{module} imports {root} (line {line})")
    return offences


def test_the_engine_imports_no_pictures_no_application_and_numpy_only_where_optional():
    files = package_files(["micrograd_it"])
    assert set(ENGINE_MODULE_LEVEL) | set(ENGINE_LAZY) <= set(files), "a module named above is gone: update the table"
    offences = engine_import_offences(files)
    assert not offences, offences


def test_the_engine_check_sees_an_offence(tmp_path):
    (tmp_path / "micrograd_it").mkdir()
    (tmp_path / "micrograd_it" / "engine.py").write_text("import numpy as np\ndef draw():\n    import viz\n")
    (tmp_path / "micrograd_it" / "tape_numpy.py").write_text("import numpy\n")
    files = {"micrograd_it.engine": tmp_path / "micrograd_it" / "engine.py",
             "micrograd_it.tape_numpy": tmp_path / "micrograd_it" / "tape_numpy.py"}
    assert engine_import_offences(files) == ["micrograd_it.engine imports numpy at module level (line 1)",
                                             "micrograd_it.engine imports viz (line 3)"]


# -- public API only between rooms ---------------------------------------------------------------

def _private(name):
    return name.startswith("_") and not name.startswith("__")


def private_imports(path, module):
    """The imports in `path` of a private module (a ``_name`` part), or of a private name, of another
    first-party top-level package."""
    own = module.split(".")[0]
    source = path.read_text(encoding="utf-8")
    found = []
    for name, _, line in imports(source, module, path.name == "__init__.py"):
        parts = name.split(".")
        if parts[0] in FIRST_PARTY and parts[0] != own and name in ALL_MODULES and any(map(_private, parts[1:])):
            found.append(f"{module} line {line}: {name}")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module.split(".")[0] in FIRST_PARTY \
                and node.module.split(".")[0] != own:
            found.extend(f"{module} line {node.lineno}: {node.module}.{alias.name}"
                         for alias in node.names if _private(alias.name))
    return found


def test_lessons_and_rooms_use_only_the_public_modules_of_another_package():
    files = package_files(PACKAGES + ("demos", "benchmarks"))
    found = [offence for module, path in files.items() for offence in private_imports(path, module)]
    assert not found, f"imports of another package's private module: {found}"


def test_the_private_import_check_sees_one(tmp_path):
    path = tmp_path / "layout.py"
    path.write_text("from micrograd_it import Value\nfrom micrograd_it._gc import gc_paused\n"
                    "from ._arrays import describe\nfrom micrograd_it.engine import _check_real\n")
    assert private_imports(path, "viz.layout") == ["viz.layout line 2: micrograd_it._gc",
                                                   "viz.layout line 4: micrograd_it.engine._check_real"]


# -- every room says what it is for --------------------------------------------------------------

def docstring_problem(source):
    """Return why a module's docstring does not say what it is for, or None when it opens with a sentence:
    a first line of four words or more starting with a capital (or a `name`), its paragraph ending in . or :"""
    docstring = ast.get_docstring(ast.parse(source), clean=True)
    if not docstring:
        return "no module docstring"
    paragraph = docstring.split("\n\n")[0].strip()
    first = paragraph.splitlines()[0]
    if len(first.split()) < 4 or not (first[0].isupper() or first[0] == "`"):
        return f"its first line is a label, not a sentence: {first!r}"
    if not paragraph.endswith((".", ":")):
        return f"its first sentence does not end: {paragraph!r}"
    return None


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_says_what_it_is_for(package):
    problems = {module: problem for module, path in package_files([package]).items()
                if (problem := docstring_problem(path.read_text(encoding="utf-8")))}
    assert not problems, problems


def test_the_docstring_check_refuses_a_label():
    assert docstring_problem('"""Helpers."""\n') is not None
    assert docstring_problem("import os\n") == "no module docstring"
    assert docstring_problem('"""the tape"""\n') is not None
    assert docstring_problem('"""Level-batched replay with numpy: the tape of\ntape.py, one call per group."""\n') is None


def test_every_door_against_the_flow_is_named_in_the_readme():
    # An exception to the one-way rule is a design decision: the README's Layout says which and why.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    layout = readme[readme.index("## Layout"):]
    for module in ENGINE_LAZY:
        path = module.replace(".", "/") + ".py"
        assert f"`{path}`" in layout and "ENGINE_LAZY" in layout, f"{path} is not named in README's Layout"
