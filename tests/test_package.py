"""The engine package needs only the standard library, and never imports viz."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import micrograd_it

# tape_numpy is the optional numpy backend (loaded only by record(..., backend="numpy"));
# testing needs hypothesis (the test extra); __main__ is the command's entry point into viz;
# torch_trace, torch_trace_layer and torch_activations are the optional PyTorch tracing, torch_makemore the
# lecture's model in PyTorch, torch_deep the lecture's deep net in PyTorch (the torch extra).
OPTIONAL = {"micrograd_it.tape_numpy", "micrograd_it.testing", "micrograd_it.__main__",
            "micrograd_it.torch_trace", "micrograd_it.torch_trace_layer", "micrograd_it.torch_activations",
            "micrograd_it.torch_makemore", "micrograd_it.torch_deep"}
THIRD_PARTY = ("numpy", "matplotlib", "graphviz", "viz", "hypothesis", "torch", "PIL")


def test_engine_modules_import_only_the_standard_library():
    modules = sorted(
        f"micrograd_it.{info.name}" for info in pkgutil.iter_modules([str(Path(micrograd_it.__file__).parent)])
    )
    modules = [name for name in modules if name not in OPTIONAL]
    assert "micrograd_it.engine" in modules and "micrograd_it.nn" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {THIRD_PARTY!r})\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "", f"engine modules pulled in: {result.stdout.strip()}"


def test_the_check_sees_a_third_party_import():
    # The same probe must notice a third-party module when one is imported (so the test above can fail).
    code = f"import sys, numpy\nprint(','.join(m for m in sys.modules if m.split('.')[0] in {THIRD_PARTY!r}))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "numpy" in result.stdout


def test_the_explorers_script_and_styles_are_package_data():
    """`pip install .` (not editable) ships only what setup.cfg's package_data names besides the .py files."""
    import configparser
    import fnmatch
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    config = configparser.ConfigParser()
    config.read(root / "setup.cfg")
    patterns = config["options.package_data"]["viz"].split()
    used = set()
    for module in ("explore.py", "replay.py"):
        found = re.findall(r'page_asset\("([^"]+)"\)', (root / "viz" / module).read_text(encoding="utf-8"))
        assert found, f"viz/{module} no longer embeds its assets through page_asset()"
        used.update(found)
    for name in used:
        assert (root / "viz" / "explorer" / name).is_file()
        assert any(fnmatch.fnmatch(f"explorer/{name}", pattern) for pattern in patterns), name
