"""Build: the engine compiled with mypyc when a C compiler is there, else the same source as plain Python.

Everything else about the package is in setup.cfg. The compiled modules are
listed in micrograd_it/_compiled.py (MODULES, and HELPER: a few lines of C that
keep the compiled nodes out of the cyclic collector), which at import checks the stamp
written here: the SHA-256 of each source compiled, so that a compiled module
is never used beside a .py that has changed since. Any failure to compile
(no compiler, mypyc missing, a compile error) prints one line and installs
the pure package: an install never fails for want of a compiler.
"""

import hashlib
import json
import os
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
MODULES = ("ops", "engine")  # the same as micrograd_it/_compiled.py's MODULES
HELPER = "_nodes"  # C, built beside them: the compiled nodes' memory, the ops + - *, freeing and walks (its header says why)
STAMP = "_compiled_sources.json"
PACKAGE = "micrograd_it"


class build_engine(build_ext):
    """build_ext that builds the engine with mypyc, or gives up with one line and builds nothing."""

    def finalize_options(self):
        self.not_compiled = None
        try:
            self.distribution.ext_modules = _mypyc_extensions()
        except (Exception, SystemExit) as error:  # mypyc missing, or rejecting the source (it exits)
            self.not_compiled = f"mypyc could not compile the engine ({type(error).__name__}: {error})"
            self.distribution.ext_modules = []
        super().finalize_options()

    def run(self):
        if self.not_compiled is None:
            try:
                super().run()
                self._write_stamp()
                return
            except (Exception, SystemExit) as error:  # no compiler, or a compile error
                self._remove_outputs()
                self.not_compiled = "no C compiler" if _is_compiler_failure(error) else f"the C build failed ({error})"
        self.extensions = []  # nothing built: the package is the plain Python one
        print(f"micrograd_it: {self.not_compiled}, using the pure-Python engine (same results, slower)")

    def _stamp_path(self):
        return os.path.join(os.path.dirname(self.get_ext_fullpath(f"{PACKAGE}.{MODULES[-1]}")), STAMP)

    def _write_stamp(self):
        digests = {}
        for filename in [name + ".py" for name in MODULES] + [HELPER + ".c"]:
            with open(os.path.join(PACKAGE, filename), "rb") as source:
                digests[filename] = hashlib.sha256(source.read()).hexdigest()
        with open(self._stamp_path(), "w", encoding="utf-8") as stamp:
            json.dump(digests, stamp, indent=1, sort_keys=True)

    def _remove_outputs(self):
        paths = [self._stamp_path()]
        paths += [self.get_ext_fullpath(extension.name) for extension in self.extensions
                  if isinstance(extension, Extension)]
        for path in paths:
            if os.path.exists(path):
                os.remove(path)


def _mypyc_extensions():
    """Return the Extensions that compile MODULES with mypyc (ImportError without mypyc)."""
    from mypyc.build import mypycify

    sources = [os.path.join(PACKAGE, name + ".py") for name in MODULES]
    extensions = mypycify(["--follow-imports=silent", *sources], opt_level="3", group_name=PACKAGE)
    for extension in extensions:
        # The interpreter's floating-point results exactly: no fused multiply-add, pow() called as it is.
        extension.extra_compile_args = list(extension.extra_compile_args or []) + ["-ffp-contract=off", "-fno-builtin-pow"]
    helper = Extension(f"{PACKAGE}.{HELPER}", [os.path.join(PACKAGE, HELPER + ".c")],
                       extra_compile_args=["-ffp-contract=off"])  # its + - * and chain rule: the interpreter's bits
    return extensions + [helper]


def _is_compiler_failure(error):
    from setuptools.errors import CCompilerError, CompileError, ExecError, LinkError

    return isinstance(error, (CCompilerError, CompileError, ExecError, LinkError, OSError))


# A placeholder so that setuptools runs build_ext (and tags the wheel for this platform);
# build_engine replaces it with mypyc's extensions.
setup(ext_modules=[Extension(f"{PACKAGE}.{MODULES[-1]}", [os.path.join(PACKAGE, MODULES[-1] + ".py")])],
      cmdclass={"build_ext": build_engine})
