"""Embedding figures in a self-contained HTML page: escaped text, SVG inline, PNG as a data URI.

Every piece of text goes through `html.escape`; every figure is embedded (SVG
inline, PNG as a base64 data URI), so the page needs no network and no files
beside it.
"""

import base64
import html
import os
import re

__all__ = ["esc", "figure"]

_SVG_PROLOG = re.compile(r"^\s*(<\?xml[^>]*\?>\s*)?(<!DOCTYPE[^>]*>\s*)?(<!--.*?-->\s*)*", re.S)


def esc(text):
    """Return `text` (anything; it is converted with str) escaped for HTML."""
    return html.escape(str(text), quote=True)


def _svg_inline(path, natural_size=False):
    with open(path, encoding="utf-8") as svg_file:
        svg = svg_file.read()
    # The XML prolog and DOCTYPE are not allowed inside HTML; the <svg> element itself is.
    svg = _SVG_PROLOG.sub("", svg, count=1)
    # Remove scripts and event handlers, should a figure ever contain any.
    svg = re.sub(r"<script.*?</script>", "", svg, flags=re.S | re.I)
    svg = re.sub(r"\son\w+\s*=\s*(\"[^\"]*\"|'[^']*')", "", svg)
    return f'<div class="svg{" big" if natural_size else ""}">{svg}</div>'


def _png_inline(path, alt):
    with open(path, "rb") as png_file:
        encoded = base64.b64encode(png_file.read()).decode("ascii")
    return f'<img alt="{esc(alt)}" src="data:image/png;base64,{encoded}">'


def figure(path, caption, out_dir=None, natural_size=False):
    """Return a <figure> embedding the PNG or SVG at `path`, with an escaped caption.

    `natural_size`: show the figure unscaled in a scrolling box (for big graphs
    whose text would be unreadable shrunk to the page width).

    `data-file` names the file (relative to `out_dir`) so readers and tests can
    match each embedded figure to its stand-alone file. Raises ValueError for
    other file types and OSError when the file cannot be read.
    """
    suffix = os.path.splitext(path)[1].lower()
    name = os.path.relpath(path, out_dir) if out_dir else os.path.basename(path)
    if suffix == ".svg":
        body = _svg_inline(path, natural_size)
    elif suffix == ".png":
        body = _png_inline(path, caption)
    else:
        raise ValueError(f"cannot embed {path!r}: only .png and .svg figures")
    return (f'<figure data-file="{esc(name)}">{body}'
            f"<figcaption>{esc(caption)} <span class=\"file\">({esc(name)})</span></figcaption></figure>")
