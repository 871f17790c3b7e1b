"""printable: text from data is escaped before it reaches a terminal; ordinary text is left as it is."""

from __future__ import annotations

import pytest
from connector.core.printable import LINE_BREAK, printable


@pytest.mark.parametrize("text", ["OpenAI rejected it: events[0].user.emails_sha256", "Ștefănescu 東京 €12,99 ✓", ""])
def test_printable_text_is_unchanged(text):
    assert printable(text) == text


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[2J\x1b[31mred", r"\x1b[2J\x1b[31mred"),  # ANSI: clear the screen, colour
        ("a\x9b0mb", r"a\x9b0mb"),  # the one-byte CSI
        ("ok\rforged", r"ok\rforged"),  # a carriage return hides what came before
        ("line\nforged row", r"line\nforged row"),
        ("\u202eevil", r"\u202eevil"),  # a bidi override reverses what follows
        ("x\udc80y", r"x\udc80y"),  # a lone surrogate: the terminal's UTF-8 could not write it
        ("\x00\x07\x7f", r"\x00\x07\x7f"),
        ("\U000e0001tag", r"\U000e0001tag"),
    ],
)
def test_what_a_terminal_would_act_on_is_escaped(raw, shown):
    assert printable(raw) == shown
    printable(raw).encode("utf-8")


def test_the_outputs_own_line_breaks_can_be_kept():
    assert printable("a\nb\x1b", keep=LINE_BREAK) == "a\nb\\x1b"
