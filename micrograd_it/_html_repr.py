"""How the engine's objects show themselves in Jupyter: small HTML tables and a saturation map, standard library only.

`Value`, `Trace` and `LayerTrace` call these from their ``_repr_html_``. The
engine room knows nothing of matplotlib, so the saturation map is a tiny PNG
written here with zlib (white = saturated, black = not, the dead neurons'
columns marked in vermillion above), embedded as a data URI. Every piece of
text goes through `html.escape`.
"""

import base64
import html
import struct
import zlib

__all__ = ["table", "saturation_png", "saturation_img"]

WHITE, BLACK = (255, 255, 255), (0, 0, 0)
DEAD_MARK, ALIVE_MARK, GAP = (0xD5, 0x5E, 0x00), (0xE6, 0xE6, 0xE6), (255, 255, 255)  # Okabe-Ito vermillion

_TABLE_STYLE = "border-collapse:collapse;font-family:monospace;font-size:12px"
_CELL_STYLE = "border:1px solid #ccc;padding:2px 6px;text-align:right"


def esc(text):
    """Return str(text) escaped for HTML text and attribute values."""
    return html.escape(str(text), quote=True)


def table(header, rows, caption=None):
    """Return an HTML table of `header` (cell texts) and `rows` (lists of cell texts); every cell is escaped."""
    head = "".join(f'<th style="{_CELL_STYLE};background:#f3f3f3">{esc(cell)}</th>' for cell in header)
    body = "".join("<tr>" + "".join(f'<td style="{_CELL_STYLE}">{esc(cell)}</td>' for cell in row) + "</tr>"
                   for row in rows)
    title = f'<caption style="text-align:left;font-weight:bold">{esc(caption)}</caption>' if caption else ""
    return f'<table style="{_TABLE_STYLE}">{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(pixel_rows):
    """Return PNG bytes of an RGB image given as rows of (r, g, b) tuples (8 bits, no filter)."""
    height, width = len(pixel_rows), len(pixel_rows[0])
    raw = b"".join(b"\x00" + bytes(channel for pixel in row for channel in pixel) for row in pixel_rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, deflate, no interlace
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9)) + _chunk(b"IEND", b"")


def saturation_png(flags, dead):
    """Return PNG bytes of a saturation map: one pixel per (sample, neuron), white when `flags[i][j]`.

    Above the map: a row marking each neuron of `dead` (indices) vermillion, the
    others light grey, then a white gap row. Raises ValueError for no samples.
    """
    if not flags or not flags[0]:
        raise ValueError("a saturation map needs at least one sample and one neuron")
    dead = set(dead)
    marks = [DEAD_MARK if j in dead else ALIVE_MARK for j in range(len(flags[0]))]
    return _png([marks, [GAP] * len(marks)] + [[WHITE if flag else BLACK for flag in row] for row in flags])


def saturation_img(flags, dead, alt):
    """Return an <img> of `saturation_png` with sharp pixels, scaled up to about 800 x 320 CSS pixels (at most 800 x 480)."""
    n_samples, n_neurons = len(flags), len(flags[0])
    scale_x = max(1, min(16, 800 // n_neurons))
    scale_y = max(1, min(16, 320 // (n_samples + 2)))
    width, height = min(n_neurons * scale_x, 800), min((n_samples + 2) * scale_y, 480)  # big layers: shrunk
    encoded = base64.b64encode(saturation_png(flags, dead)).decode("ascii")
    return (f'<img alt="{esc(alt)}" src="data:image/png;base64,{encoded}" width="{width}" height="{height}" '
            'style="image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid #888">')
