"""The frame of every self-contained page viz makes (the explorer, the training replay): one head, one shape.

A page is one HTML file that needs nothing else: its styles and script are
embedded from the package's `explorer/` folder (`page_asset`), its data is
JSON in a ``<script type="application/json">`` element (`embed_json`), and
its Content-Security-Policy (`CSP`) forbids every request, so a page can
neither load nor send anything.
"""

import html
import json
import math
from importlib import resources

__all__ = ["CSP", "page_asset", "embed_json", "html_page"]

CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
       "base-uri 'none'; form-action 'none'")


def page_asset(name):
    """Return the text of one of the pages' files shipped with the package (``explorer.js``, ...)."""
    return (resources.files(__package__) / "explorer" / name).read_text("utf-8")


def embed_json(payload):
    """Return `payload` as JSON safe inside a ``<script>`` element (no ``</script>`` can end it early).

    Raises ValueError naming where a NaN or infinite number is: JSON has none, and the page's script
    would compute with it.
    """
    try:
        text = json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except ValueError:
        where = _non_finite_at(payload, "data")
        raise ValueError(f"a page cannot show a number that is NaN or infinite: {where}") from None
    return text.replace("<", "\\u003c")


def _non_finite_at(payload, path):
    """The path (data["frames"][3]["loss"]) and value of the first non-finite number in `payload`, or None."""
    if isinstance(payload, float):
        return None if math.isfinite(payload) else f"{path} is {payload!r}"
    items = payload.items() if isinstance(payload, dict) else enumerate(payload) \
        if isinstance(payload, (list, tuple)) else ()
    for key, item in items:
        found = _non_finite_at(item, f"{path}[{key!r}]")
        if found:
            return found
    return None


def html_page(title, body, *, style, script, data_id, data):
    """Return a whole page (a str): head (charset, `CSP`, viewport, the escaped `title`, `style`), then
    `body` (HTML, as given), then `data` as JSON in ``<script id=data_id>``, then `script`."""
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{style}</style>
</head>
<body>
{body}
<script type="application/json" id="{data_id}">{embed_json(data)}</script>
<script>{script}</script>
</body>
</html>
"""
