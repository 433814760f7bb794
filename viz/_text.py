"""How a picture shows a text given by the user (a label, a parameter or layer name, a title).

Pictures show text, never markup: the same rule for Graphviz drawings (viz.layout escapes it for DOT)
and matplotlib figures (`plain_text`: no mathtext). What a picture shows of a text (`shown`) is the
text itself, except
- a control character other than the newline (U+0000-U+001F, U+007F) is shown as its Python escape,
  e.g. "\\x01" (a tab as "\\x09"), and a lone surrogate or the non-characters U+FFFE/U+FFFF as
  "\\ud800" ("\\ufffe"): XML, so SVG, cannot hold them, and an escape says what was there;
- a text longer than the limit (MAX_NAME = 80 characters for a name, once escaped) is cut to its
  first limit - 1 characters and an ellipsis "…".
Standard library only, so that the figures need no Graphviz.
"""

__all__ = ["shown", "plain_text", "MAX_NAME", "ELLIPSIS"]

MAX_NAME = 80
ELLIPSIS = "\u2026"


def _visible(char):
    code = ord(char)
    if (code < 32 and char != "\n") or code == 127:
        return f"\\x{code:02x}"
    if 0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF):
        return f"\\u{code:04x}"
    return char


def shown(text, limit=MAX_NAME):
    """Return `text` (any object: its str) as a picture shows it: control characters, lone surrogates and
    U+FFFE/U+FFFF as visible escapes (``\\x01``), then cut to `limit` characters with an ellipsis."""
    text = "".join(map(_visible, str(text)))
    return text if len(text) <= limit else text[:limit - 1] + ELLIPSIS


def plain_text(text, limit=MAX_NAME):
    """Return `text` for a matplotlib title, label, tick or legend entry: ``shown(text, limit)`` with every
    ``$`` escaped, so that matplotlib draws it as typed instead of reading mathtext (``$\\undefined$``
    would make savefig raise)."""
    return shown(text, limit).replace("$", "\\$")
