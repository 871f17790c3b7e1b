"""Text from data made safe for an operator's terminal: every character that is not printable is escaped.

A dead-letter reason quotes OpenAI's message and field names from the queued event; an event's id or a
custom property comes from whoever called the API. Printed as they are, an ANSI escape sequence (ESC, or
the one-byte CSI U+009B) could rewrite the screen, a carriage return hide what came before it, a bidi
override reverse it, and a lone surrogate break the output's encoding. Escaped, each one is visible text.
"""

from __future__ import annotations

#: Kept as they are where the caller asks: the line breaks of the connector's own multi-line output.
LINE_BREAK = "\n"


def printable(text: str, keep: str = "") -> str:
    """`text` with every character str.isprintable() refuses (controls, format characters such as bidi
    overrides, separators other than the space, surrogates, unassigned code points), except those in
    `keep`, written as a Python-style escape: \\n, \\x1b, \\u202e, \\udc80."""
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(c if c.isprintable() or c in keep else _escape(c) for c in text)


#: The escapes every reader knows, as Python and JSON write them.
SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(character: str) -> str:
    if character in SHORT_ESCAPES:
        return SHORT_ESCAPES[character]
    code = ord(character)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
