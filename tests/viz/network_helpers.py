"""Read a network map back: its cells from the DOT text, their drawn positions from the SVG of a real engine."""

import html
import re
import xml.etree.ElementTree as ElementTree

ATTR = re.compile(r'(\w+)="([^"]*)"')
CELL = re.compile(r'<TD ID="((?:x|l\d+_)\d+)"([^>]*)>')
BAR = re.compile(r'<TD ID="((?:x|l\d+_)\d+)_(in|out)"([^>]*)>')
FONT_TEXT = re.compile(r"<FONT[^>]*>(?:<B>)?([^<]*)")
SVG = "{http://www.w3.org/2000/svg}"
NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


class Cell:
    """One neuron's cell as written in the DOT text: its TD attributes, its first line of text, its bars."""

    def __init__(self, ident, attrs, text):
        self.ident, self.attrs, self.text = ident, attrs, text
        self.bars = {}  # "in"/"out" -> attributes of the bar's TD

    @property
    def dead_marked(self):
        return self.text.startswith("\u00d7") or self.attrs["BORDER"] == "3"


def cells(source):
    """Return {cell ID: Cell} for every input and neuron cell of a map's DOT `source`."""
    found = {}
    for match in CELL.finditer(source):
        attrs = dict(ATTR.findall(match.group(2)))
        attrs["TITLE"] = html.unescape(attrs.get("TITLE", ""))
        text = html.unescape(FONT_TEXT.search(source, match.end()).group(1))
        found[match.group(1)] = Cell(match.group(1), attrs, text)
    for match in BAR.finditer(source):
        found[match.group(1)].bars[match.group(2)] = dict(ATTR.findall(match.group(3)))
    return found


def _points(shape):
    numbers = [float(number) for number in NUMBER.findall(shape.get("points") or shape.get("d") or "")]
    return list(zip(numbers[::2], numbers[1::2]))


def drawn_cells(svg):
    """Return {cell ID: (x, y) of its centre} from an SVG laid out by an engine (the anchors ``a_<ID>``)."""
    root = ElementTree.fromstring(svg)
    centres = {}
    for group in root.iter(SVG + "g"):
        ident = group.get("id") or ""
        if not re.fullmatch(r"a_(?:x|l\d+_)\d+", ident):
            continue
        shape = next(element for element in group.iter() if element.tag in (SVG + "polygon", SVG + "path"))
        points = _points(shape)
        xs, ys = [point[0] for point in points], [point[1] for point in points]
        centres[ident[2:]] = ((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2)
    return centres
