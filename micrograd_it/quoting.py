"""Quoting what a user typed inside an error message: on one line, and never more than about 100 characters of it.

Every error message that echoes user input -- the expression parser's, the
command line's -- goes through `quote`, so a 120 kB binding or a name with a
newline in it still gives one short line on the terminal.
"""

__all__ = ["QUOTE_LIMIT", "quote"]

QUOTE_LIMIT = 100  # characters of the user's text shown; the rest is counted, not shown


def quote(text, limit=QUOTE_LIMIT):
    """Return `text` (a str; anything else is shown as its str) quoted as Python would, control characters escaped;
    past `limit` characters it is cut, with an ellipsis and the full length: ``'xxx...' (120,000 characters)``."""
    text = text if isinstance(text, str) else str(text)
    if len(text) <= limit:
        return repr(text)
    shown = repr(text[:limit])
    return f"{shown[:-1]}...{shown[-1]} ({len(text):,} characters)"
