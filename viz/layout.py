"""The one place that runs a layout engine: DOT text in, SVG/PNG/PDF bytes out.

Which engine? In this order:
1. a ``dot`` on PATH: the user's own Graphviz (the only one that writes PDF);
2. the ``graphviz-pure`` binary that ``pip install`` brought along (a port of
   Graphviz's ``dot`` with fonts built in). It is found through the files of
   its installed distribution (``importlib.metadata``), not through PATH, so
   it works from a venv that was never activated.

With neither, or with a format the engine cannot write (PDF needs Graphviz),
`run_layout` raises `LayoutEngineMissing`, a subclass of graphviz's
``ExecutableNotFound``, so code that already catches that keeps working.
Nothing here ever installs software.
"""

import importlib.metadata
import os
import shutil
import subprocess

import graphviz

from micrograd_it.files import atomic_write

from ._text import MAX_NAME, shown

__all__ = ["layout_engine", "find_engines", "run_layout", "write_drawing", "LaidOutDigraph", "inline_svg",
           "LayoutEngineMissing", "LayoutFailed", "FIXES",
           "shown", "dot_text", "quote", "record_field", "html_text", "attributes", "Raw", "MAX_NAME", "MAX_LABEL"]

BUNDLED = "graphviz-pure"
# What graphviz-pure 0.2 can write (its own error message lists them: no pdf, no ps).
BUNDLED_FORMATS = {"svg", "png", "jpg", "jpeg", "dot", "gv", "xdot", "json", "plain", "plain-ext", "canon"}
FIXES = "install Graphviz (e.g. apt install graphviz, brew install graphviz), or: pip install graphviz-pure"
DEFAULT_TIMEOUT = 120  # seconds; a layout that takes longer is a graph too big to read anyway


class LayoutEngineMissing(graphviz.ExecutableNotFound):
    """No layout engine can write the requested format (none installed, or e.g. PDF without Graphviz)."""

    def __init__(self, message):
        RuntimeError.__init__(self, message)


class LayoutFailed(RuntimeError):
    """The layout engine ran but failed (bad DOT, or it took longer than the timeout)."""


class Engine:
    """A layout engine found on this machine: a `name` to show, the `path` to run, the `formats` it writes."""

    def __init__(self, name, path, formats=None):
        self.name, self.path, self.formats = name, path, formats

    def can_write(self, fmt):
        """Return True when this engine writes `fmt` (a system dot is trusted to write everything)."""
        return self.formats is None or fmt in self.formats

    def __str__(self):
        return f"{self.name} at {self.path}"


def _bundled_binary():
    """Return the path of graphviz-pure's binary from its distribution's file list, or None."""
    try:
        files = importlib.metadata.distribution(BUNDLED).files or []
    except importlib.metadata.PackageNotFoundError:
        return None
    wanted = {BUNDLED, BUNDLED + ".exe"}
    for file in files:
        if file.name in wanted:
            path = os.path.abspath(str(file.locate()))
            if os.path.isfile(path) and os.access(path, os.X_OK):
                return path
    return None


def find_engines():
    """Return the usable engines, best first: a system `dot` on PATH, then the bundled graphviz-pure."""
    engines = []
    system_dot = shutil.which("dot")
    if system_dot:
        engines.append(Engine("dot", system_dot))
    bundled = _bundled_binary()
    if bundled:
        engines.append(Engine(BUNDLED, bundled, BUNDLED_FORMATS))
    return engines


def layout_engine():
    """Return a str naming the engine in use, e.g. "dot at /usr/bin/dot", or "none: <how to get one>"."""
    engines = find_engines()
    return str(engines[0]) if engines else f"none: {FIXES}"


def _missing_message(fmt, engines, dot_path):
    if engines:
        found = ", ".join(engine.name for engine in engines)
        problem = f"no layout engine here can write {fmt.upper()} (found: {found}; only Graphviz's dot writes PDF)"
    else:
        problem = f"no layout engine found to make {fmt.upper()}"
    where = f"the DOT text was written to {dot_path}" if dot_path else "the DOT text is in the graph's .source"
    return f"{problem}; {where}. Fix: {FIXES}, or save as .dot"


def run_layout(dot_source, fmt, *, timeout=DEFAULT_TIMEOUT, dot_path=None):
    """Lay out `dot_source` (str) with the best engine that writes `fmt`; return the output bytes.

    `dot_path` only names, in the error message, where the caller saved the
    DOT text. Raises LayoutEngineMissing when no engine writes `fmt`, and
    LayoutFailed when the engine rejects the DOT or exceeds `timeout` seconds.
    """
    fmt = fmt.lower()
    engines = find_engines()
    usable = [engine for engine in engines if engine.can_write(fmt)]
    if not usable:
        raise LayoutEngineMissing(_missing_message(fmt, engines, dot_path))
    for engine in usable:
        try:
            result = subprocess.run([engine.path, f"-T{fmt}"], input=dot_source.encode("utf-8"),
                                    capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise LayoutFailed(f"{engine} took more than {timeout} s to lay out the graph; "
                               "draw fewer nodes (max_nodes=, group='neuron')") from None
        except OSError as error:
            raise LayoutFailed(f"cannot run {engine}: {error}") from None
        stderr = result.stderr.decode("utf-8", "replace").strip()
        if result.returncode == 0 and result.stdout:
            return result.stdout
        if "not recognized" in stderr and engine is not usable[-1]:
            continue  # this dot was built without that format: try the next engine
        raise LayoutFailed(f"{engine} failed (exit code {result.returncode}): {stderr[:500]}")
    raise LayoutFailed(f"no engine could write {fmt}")  # pragma: no cover  (the loop returns or raises)



SOURCE_SUFFIXES = {"dot", "gv"}


def write_drawing(dot_source, path, fmt=None):
    """Write `dot_source` laid out as `fmt` (default: from the suffix of `path`) to `path`, atomically.

    ``.dot``/``.gv`` write the DOT text itself and need no engine. Returns the
    path. When no engine can write `fmt`, the DOT text is written beside `path`
    (same name, ``.dot``) and LayoutEngineMissing says so.
    """
    path = os.fspath(path)
    fmt = (fmt or os.path.splitext(path)[1].lstrip(".")).lower()
    if not fmt:
        raise ValueError(f"cannot tell the format of {path!r}: give it a suffix such as .svg, .png, .pdf or .dot")
    if fmt in SOURCE_SUFFIXES:
        return atomic_write(path, dot_source)
    try:
        image = run_layout(dot_source, fmt)
    except LayoutEngineMissing:
        dot_path = atomic_write(os.path.splitext(path)[0] + ".dot", dot_source)
        raise LayoutEngineMissing(_missing_message(fmt, find_engines(), dot_path)) from None
    return atomic_write(path, image)


class LaidOutDigraph(graphviz.Digraph):
    """A graphviz.Digraph whose pipe(), render() and Jupyter display all go through `run_layout`.

    So it renders with the bundled engine when Graphviz is not installed,
    writes files atomically, leaves no ``.gv`` file behind, and shows a one-line
    explanation plus the DOT text in a notebook when no engine is available.
    """

    def pipe(self, format=None, renderer=None, formatter=None, neato_no_op=None, quiet=False, *,
             engine=None, encoding=None):
        """Return the graph laid out as `format` (default: the graph's format): bytes, or str with `encoding`."""
        image = run_layout(self.source, format or self.format)
        return image.decode(encoding) if encoding else image

    def render(self, filename=None, directory=None, view=False, cleanup=False, format=None,
               renderer=None, formatter=None, neato_no_op=None, quiet=False, quiet_view=False, *,
               outfile=None, engine=None, raise_if_result_exists=False, overwrite_source=False):
        """Write the laid-out graph and return its path (no ``.gv`` source file is written).

        As in graphviz: `outfile` is the output path (format from its suffix),
        else ``<directory>/<filename>.<format>``. Raises LayoutEngineMissing
        (the DOT text is then saved beside the output) or LayoutFailed.
        """
        if outfile is not None:
            path = os.fspath(outfile)
            fmt = format or os.path.splitext(path)[1].lstrip(".") or self.format
        else:
            fmt = format or self.format
            base = os.fspath(filename) if filename is not None else os.path.splitext(self.filename)[0]
            path = os.path.join(os.fspath(directory or self.directory or ""), f"{base}.{fmt}")
        if raise_if_result_exists and os.path.exists(path):
            raise graphviz.FileExistsError(f"output file exists: {path!r}")
        write_drawing(self.source, path, fmt)
        if view:
            graphviz.view(path, quiet=quiet_view)
        return path

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        """The graph for Jupyter: ``image/svg+xml`` and ``text/html`` (the same SVG inline, one layout).

        JupyterLab and Notebook 7 show ``image/svg+xml`` as an ``<img>``, which drops the
        hover tooltips; an inline ``<svg>`` in HTML keeps them. Without a layout engine:
        ``text/plain`` saying why, then the DOT text.
        """
        wanted = set(include) if include is not None else {"image/svg+xml", "text/html"}
        wanted -= set(exclude or ())
        try:
            bundle = super()._repr_mimebundle_(wanted - {"text/html"}, None, **kwargs)
            if "text/html" in wanted:
                svg = bundle.get("image/svg+xml") or self.pipe(format="svg", encoding="utf-8")
                bundle["text/html"] = inline_svg(svg)
        except (LayoutEngineMissing, LayoutFailed) as error:
            return {"text/plain": f"(cannot draw this graph here: {error})\n\n{self.source}"}
        return bundle


SVG_FIT_WIDTH = '<svg style="max-width:100%;height:auto"'  # shrinks to the output's width, as an <img> would


def inline_svg(svg):
    """Return an SVG document (str) as HTML: the ``<svg>`` element alone, shrunk to fit, in a ``<div>``.

    The XML declaration, DOCTYPE and comments before ``<svg`` are not allowed inside HTML.
    Raises ValueError when `svg` holds no ``<svg`` element.
    """
    start = svg.find("<svg")
    if start < 0:
        raise ValueError(f"not an SVG document: {svg[:60]!r}")
    return f'<div class="micrograd-it-graph">{SVG_FIT_WIDTH}{svg[start + len("<svg"):]}</div>'


# -- DOT text: every label goes through `dot_text`, so no label can break the DOT or the SVG -------------
#
# A label shows ``shown(text)`` (viz/_text.py: control characters as escapes, cut with an ellipsis).
# Names given by the user (labels, parameter and layer names) are cut at MAX_NAME; any one label at
# MAX_LABEL, so that no quoted string reaches the system dot's 16 kB limit even with every character
# escaped (6 bytes at most).

MAX_LABEL = 1500
# How each syntax writes a character that is not text to it, and a newline. Both engines read entities
# (&amp;) and backslash escapes (\N: the node's name) in every kind of label, so & and \ are always escaped.
_QUOTED = {"&": "&amp;", "\\": "\\\\", '"': '\\"'}
# a record field drops the spaces at its ends, merges runs of them and (dot 2.43) drops one after a
# non-ASCII character: as entities they all stay
_RECORD = {**_QUOTED, **{char: "\\" + char for char in "{}|<>"}, " ": "&#32;"}
# (a "]" just before a tag breaks the system dot's HTML lexer)
_HTML = {"&": "&amp;", "\\": "\\\\", "<": "&lt;", ">": "&gt;", '"': "&quot;", "]": "&#93;"}
SYNTAXES = {"quoted": (_QUOTED, "\\n"), "record": (_RECORD, "\\n"), "html": (_HTML, "<BR/>"),
            "html-attribute": (_HTML, "&#10;")}


def dot_text(text, syntax="quoted", limit=MAX_LABEL):
    """Return `text` escaped once for DOT so that the engine draws exactly ``shown(text, limit)``.

    `syntax`: "quoted" (inside a double-quoted DOT string), "record" (one field of a record label: ``{ | }``
    and spaces stay text), "html" (inside a Graphviz HTML-like label: newlines become
    ``<BR/>``) or "html-attribute" (an attribute value of one, e.g. TITLE: newlines become ``&#10;``).
    ``&`` and ``\\`` are escaped in every syntax, ``"`` too, and ``{ } | < >`` and spaces in a record.
    Raises ValueError for another `syntax`.
    """
    if syntax not in SYNTAXES:
        raise ValueError(f"syntax must be one of {', '.join(map(repr, SYNTAXES))}, got {syntax!r}")
    escapes, newline = SYNTAXES[syntax]
    return newline.join("".join(escapes.get(char, char) for char in line) for line in shown(text, limit).split("\n"))


def quote(text):
    """Return `text` as a double-quoted DOT string that renders as exactly ``shown(text, MAX_LABEL)``."""
    return '"' + dot_text(text) + '"'


def record_field(text):
    """Return `text` escaped for one field of a record label: ``{ } | < >`` become text, not structure."""
    return dot_text(text, "record")


def html_text(text):
    """Return `text` escaped for a Graphviz HTML-like label (markup as entities, newlines as ``<BR/>``)."""
    return dot_text(text, "html")


def attributes(attrs):
    """Return ``[key="value" ...]`` for a dict of DOT attributes (values quoted with `quote`), "" if empty.

    A value wrapped in `Raw` is written as is (for record labels escaped with `record_field`).
    """
    if not attrs:
        return ""
    parts = [f"{key}={value.text if isinstance(value, Raw) else quote(value)}" for key, value in attrs.items()]
    return " [" + " ".join(parts) + "]"


class Raw:
    """DOT text already escaped (a record label built from `record_field`); written inside quotes as is."""

    def __init__(self, text):
        self.text = '"' + text + '"'
