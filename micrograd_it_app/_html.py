"""Small helpers for a self-contained HTML page: escaped text, embedded figures, tables.

Every piece of text goes through `html.escape`; every figure is embedded (SVG
inline, PNG as a base64 data URI), so the page needs no network and no files
beside it.
"""

import base64
import html
import os
import re

__all__ = ["esc", "figure", "table", "page"]

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


def table(header, rows):
    """Return an HTML table; every cell is escaped."""
    head = "".join(f"<th>{esc(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 980px; margin: 2em auto; padding: 0 1em;
       line-height: 1.5; color: #222; background: #fff; }
h1, h2, h3 { font-family: 'DejaVu Sans', Helvetica, Arial, sans-serif; line-height: 1.2; }
h2 { border-bottom: 2px solid #ddd; padding-bottom: .2em; margin-top: 2em; }
code { background: #f3f3f3; padding: 0 .25em; border-radius: 3px; font-size: 95%; }
figure { margin: 1.2em 0; text-align: center; }
figure img, figure .svg svg { max-width: 100%; height: auto; }
figure .svg { overflow-x: auto; }
figure .svg.big { overflow: auto; max-height: 85vh; border: 1px solid #ddd; text-align: left; }
figure .svg.big svg { max-width: none; }
figcaption { font-size: 90%; color: #555; margin-top: .3em; }
figcaption .file { font-family: monospace; color: #888; }
table { border-collapse: collapse; margin: 1em 0; font-family: 'DejaVu Sans', Helvetica, sans-serif; font-size: 90%; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; }
td:first-child, th:first-child { text-align: left; }
.key { background: #fff8e0; border-left: 4px solid #e0b000; padding: .5em 1em; }
.row { display: flex; flex-wrap: wrap; gap: 1em; justify-content: center; }
.row figure { flex: 1 1 440px; }
"""


def page(title, body_parts):
    """Return a complete HTML5 document: escaped `title`, the already-built HTML `body_parts` joined."""
    body = "\n".join(body_parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{esc(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n")
