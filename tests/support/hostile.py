"""Hostile JSON for the poison tests: fragments of JSON text a caller or a queue writer can send.

Each strategy draws JSON *text*, not values: nesting 20,000 levels deep and numbers beyond the float
range cannot be written by `json.dumps`, and a lone surrogate is sent as the `\\ud800` escape a client
writes. tests/integration/test_poison_messages.py feeds them to the batch sender inside queue messages
and to ingest inside Tealium payloads.
"""

from __future__ import annotations

import json

from hypothesis import strategies as st

#: Deeper than any JSON decoder's own limit (CPython's stops near 10,000 levels).
MAX_DEPTH = 20_000

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
#: Any JSON shape (objects, lists, scalars), any text: written with and without ASCII escapes.
any_json_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@st.composite
def any_json_text(draw) -> str:
    return json.dumps(draw(any_json_values), ensure_ascii=draw(st.booleans()))


@st.composite
def deep_nesting(draw) -> str:
    """Lists or objects nested from a few dozen levels to 20,000, around a scalar."""
    depth = draw(st.sampled_from([33, 100, 999, 5_000, 9_999, 12_000, MAX_DEPTH]) | st.integers(33, MAX_DEPTH))
    if draw(st.booleans()):
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


#: Numbers no 64-bit float holds: JSON decodes "1e400" to inf, and a 5,000-digit integer is refused by Python.
huge_numbers = st.sampled_from(["1e400", "-1e400", "1E999", "2" + "0" * 400, "-" + "9" * 400, "1" + "0" * 5000])


@st.composite
def lone_surrogate_text(draw) -> str:
    """A JSON string holding an unpaired surrogate, as the escape a client sends (raw in Python once decoded)."""
    surrogate = draw(st.integers(0xD800, 0xDFFF))
    prefix = draw(st.text(alphabet="abc ", max_size=4))
    return json.dumps(prefix)[:-1] + f"\\u{surrogate:04x}" + '"'


#: Characters a terminal or SQS acts on, in JSON escapes: controls, ESC, CSI, bidi override, non-characters.
_control_text = st.sampled_from(['"\\u001b[2J"', '"a\\u0000b"', '"\\u009b31m"', '"\\u202egnp"', '"\\ufffe\\uffff"'])

#: A JSON value written as text: any shape, extreme nesting, huge numbers, lone surrogates, control characters.
hostile_values = any_json_text() | deep_nesting() | huge_numbers | lone_surrogate_text() | _control_text
#: Only what can never pass: too deep, beyond range, or text UTF-8 cannot carry.
poison_values = deep_nesting() | huge_numbers | lone_surrogate_text()
