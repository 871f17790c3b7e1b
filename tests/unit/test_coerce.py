"""coerce: loosely typed Tealium values (booleans as "1"/"0", epoch times in any unit, integers as text)."""

from __future__ import annotations

import contextlib

import pytest
from connector.core import coerce
from connector.core.errors import InvalidValue
from hypothesis import example, given, settings
from hypothesis import strategies as st

NOW_S = 1_795_000_000
NOW_MS = NOW_S * 1000


@pytest.mark.parametrize(
    "raw, expected",
    [
        *[(True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False), ("true", True)],
        *[(" TRUE ", True), ("false", False), ("yes", True), ("no", False), ("on", True), ("off", False)],
    ],
)
def test_parse_bool(raw, expected):
    assert coerce.parse_bool(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "2", 2, -1, 1.0, None, [], {}, "tru"])
def test_parse_bool_refuses_anything_else(raw):
    with pytest.raises(InvalidValue):
        coerce.parse_bool(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        (NOW_S, NOW_MS),  # seconds
        (str(NOW_S), NOW_MS),  # seconds as text (tealium_timestamp_epoch)
        (NOW_S + 0.5, NOW_MS + 500),
        (NOW_MS, NOW_MS),  # milliseconds
        (f" {NOW_MS} ", NOW_MS),
        (NOW_MS * 1000, NOW_MS),  # microseconds
        (NOW_MS * 1_000_000, NOW_MS),  # nanoseconds
        ("2026-11-18T11:06:40Z", NOW_MS),
        ("2026-11-18T13:06:40.250+02:00", NOW_MS + 250),
    ],
)
def test_parse_epoch_ms_tells_units_apart_by_magnitude(raw, expected):
    assert coerce.parse_epoch_ms(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "yesterday",
        "2026-11-18T11:06:40",
        0,
        -5,
        True,
        None,
        [],
        float("nan"),
        float("inf"),
        "nan",
        "1e999",
        10**400,
    ],
)
def test_parse_epoch_ms_refuses_what_is_not_a_time(raw):
    # 10**400 is a valid JSON integer: it must be refused, not overflow a float
    with pytest.raises(InvalidValue):
        coerce.parse_epoch_ms(raw)


@pytest.mark.parametrize("raw, expected", [(2, 2), ("2", 2), (" 3 ", 3), ("-1", -1), (2.0, 2), (0, 0)])
def test_parse_int(raw, expected):
    assert coerce.parse_int(raw) == expected


@pytest.mark.parametrize("raw", ["2.5", 2.5, "two", "--5", "-", "", "²", "٣", True, None, [], "9" * 5000])
def test_parse_int_refuses_what_is_not_an_integer(raw):
    with pytest.raises(InvalidValue):
        coerce.parse_int(raw)


ANY = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**400)
    | st.floats()
    | st.text()
    | st.from_regex(r"\s*-{0,2}[0-9]{0,20}(\.[0-9]{0,3})?\s*", fullmatch=True)
    | st.lists(st.integers(), max_size=2)
)


@settings(max_examples=300, deadline=None)
@given(raw=ANY)
@example(raw="--5")
@example(raw=10**400)
def test_coercions_answer_or_raise_invalid_value_only(raw):
    # Anything but InvalidValue escaping fails the test.
    for rule in (coerce.parse_bool, coerce.parse_int, coerce.parse_epoch_ms):
        with contextlib.suppress(InvalidValue):
            rule(raw)


@settings(max_examples=200, deadline=None)
@given(ms=st.integers(min_value=10**11, max_value=9 * 10**12))  # nanoseconds fit up to the year 2262
def test_milliseconds_seconds_and_nanoseconds_of_one_instant_agree(ms):
    assert coerce.parse_epoch_ms(ms) == ms
    assert coerce.parse_epoch_ms(str(ms)) == ms
    assert coerce.parse_epoch_ms(ms * 1_000_000) == ms


# ---- consent ----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, 1, "1", "true", "TRUE", " Yes ", "granted", "Granted"])
def test_consent_is_granted_only_by_an_explicit_yes(raw):
    assert coerce.grants_consent(raw) is True


@pytest.mark.parametrize("raw", [None, False, 0, "0", "false", "no", "denied", "", "maybe", 2, [], {}, 1.0])
def test_anything_else_is_no_consent(raw):
    assert coerce.grants_consent(raw) is False


@settings(max_examples=300, deadline=None)
@given(epoch=st.integers(min_value=1, max_value=10**14 - 1), zeros=st.integers(min_value=0, max_value=3))
@example(epoch=10**11 - 1, zeros=0)
@example(epoch=10**11, zeros=0)
def test_an_epoch_reads_the_same_as_an_integer_a_float_or_digits(epoch, zeros):
    # Integers and digit strings take shorter paths than floats and padded text: all four agree
    as_float = coerce.parse_epoch_ms(float(epoch))
    assert coerce.parse_epoch_ms(epoch) == as_float
    assert coerce.parse_epoch_ms("0" * zeros + str(epoch)) == as_float == coerce.parse_epoch_ms(f" {epoch} ")
