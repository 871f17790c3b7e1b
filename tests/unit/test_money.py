"""money: currency codes and amounts in the currency's minor units (ISO 4217 exponents)."""

from __future__ import annotations

import pytest
from connector.core import money
from connector.core.errors import InvalidValue
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize(
    "currency, digits",
    [("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("CLP", 0), ("ISK", 0)]
    + [(code, 3) for code in ("BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD")],
)
def test_exponent_follows_iso_4217(currency, digits):
    assert money.exponent(currency) == digits


@pytest.mark.parametrize(
    "raw, currency, minor",
    [
        ("129.99", "USD", 12999),
        ("25.00", "USD", 2500),
        ("25", "USD", 2500),
        ("0.5", "USD", 50),
        ("1,299.00", "USD", 129900),
        (" 79.99 ", "EUR", 7999),
        ("1500", "JPY", 1500),
        ("1.234", "KWD", 1234),
        ("1.2", "KWD", 1200),
        (25, "USD", 2500),
        (79.99, "USD", 7999),
        ("0", "USD", 0),
    ],
)
def test_major_to_minor_converts_by_the_currency_exponent(raw, currency, minor):
    assert money.major_to_minor(raw, currency) == minor


@pytest.mark.parametrize(
    "raw, currency",
    [
        ("1.5", "JPY"),  # JPY has no minor unit
        ("1.2345", "KWD"),
        ("129.999", "USD"),
        ("-5.00", "USD"),
        ("12.99 USD", "USD"),
        ("$12.99", "USD"),
        ("1e3", "USD"),
        ("", "USD"),
        (None, "USD"),
        (True, "USD"),
        (float("inf"), "USD"),
        (float("nan"), "USD"),
        ("9" * 20, "USD"),  # beyond what JSON readers keep exactly
    ],
)
def test_major_to_minor_refuses_what_is_not_a_plain_amount(raw, currency):
    with pytest.raises(InvalidValue):
        money.major_to_minor(raw, currency)


@pytest.mark.parametrize("raw, minor", [(12999, 12999), (12999.0, 12999), ("12999", 12999), (" 0 ", 0)])
def test_mapped_amount_is_an_integer_in_minor_units(raw, minor):
    assert money.parse_minor_units(raw) == minor


@pytest.mark.parametrize("raw", ["129.99", 129.99, "12,999", "-1", -1, True, None, [], "", 2**53, "١٢٣"])
def test_mapped_amount_in_major_units_or_not_an_integer_is_refused(raw):
    with pytest.raises(InvalidValue):
        money.parse_minor_units(raw)


@pytest.mark.parametrize("raw, code", [("usd", "USD"), (" Eur ", "EUR"), ("JPY", "JPY")])
def test_currency_is_three_uppercase_letters(raw, code):
    assert money.normalize_currency(raw) == code


@pytest.mark.parametrize("raw", ["US", "USDT", "U$D", "", 840, None, "€"])
def test_currency_that_is_not_a_three_letter_code_is_refused(raw):
    with pytest.raises(InvalidValue):
        money.normalize_currency(raw)


ANY = st.none() | st.booleans() | st.integers() | st.floats() | st.text() | st.lists(st.integers(), max_size=2)
AMOUNT_TEXT = st.from_regex(r"\s*-?[0-9,]{0,12}(\.[0-9]{0,4})?\s*", fullmatch=True)
CURRENCIES = st.sampled_from(["USD", "JPY", "KWD", "EUR", "BHD", "CLP"])


@settings(max_examples=300, deadline=None)
@given(raw=ANY | AMOUNT_TEXT, currency=CURRENCIES)
def test_money_rules_answer_in_range_or_raise_invalid_value(raw, currency):
    for rule in (lambda v: money.major_to_minor(v, currency), money.parse_minor_units, money.normalize_currency):
        try:
            value = rule(raw)
        except InvalidValue:
            continue
        if isinstance(value, int):
            assert 0 <= value <= money.MAX_AMOUNT


@settings(max_examples=200, deadline=None)
@given(units=st.integers(min_value=0, max_value=10**12), currency=CURRENCIES)
def test_major_to_minor_round_trips_a_formatted_amount(units, currency):
    digits = money.exponent(currency)
    text = f"{units / 10**digits:.{digits}f}" if digits else str(units)
    assert money.major_to_minor(text, currency) == units


def test_an_integer_too_long_to_print_is_an_invalid_value_not_a_crash():
    with pytest.raises(InvalidValue):
        money.parse_minor_units("9" * 5000)


# ---- the decimal separator an action declares -------------------------------------------


@pytest.mark.parametrize(
    "raw, separator, minor",
    [
        ("129.99", ".", 12999),
        ("1,299.99", ".", 129999),
        ("1299", ".", 129900),
        ("1,234,567.00", ".", 123456700),
        ("129,99", ",", 12999),
        ("1.299,50", ",", 129950),
        ("1.234.567,00", ",", 123456700),
        ("1,5", ",", 150),
        ("1299", ",", 129900),
        (129.99, ",", 12999),  # a JSON number has a decimal point whatever the site writes
    ],
)
def test_amount_is_read_with_the_declared_decimal_separator(raw, separator, minor):
    assert money.major_to_minor(raw, "EUR", separator) == minor


@pytest.mark.parametrize(
    "raw, separator, declare",
    [
        ("129,99", ".", ","),  # a decimal comma, with "." declared
        ("1,5", ".", ","),
        ("1.299,00", ".", ","),
        ("1,299", ".", ","),  # thousands, or 1.299 written with a decimal comma: never guessed
        ("129.99", ",", "."),
        ("1,299.00", ",", "."),
        ("1.299", ",", "."),
    ],
)
def test_amount_the_declared_separator_cannot_read_for_sure_is_refused_saying_how_to_declare(raw, separator, declare):
    with pytest.raises(InvalidValue) as refused:
        money.major_to_minor(raw, "EUR", separator)
    reason = str(refused.value)
    assert f'set the action\'s decimal_separator to "{declare}"' in reason
    assert raw not in reason


@pytest.mark.parametrize("raw", ["1,,299", "1,29,99", ",99", "99,", "1.2.3,4", "12,3456", "1 299,00"])
def test_badly_grouped_amounts_are_refused_under_both_separators(raw):
    for separator in money.DECIMAL_SEPARATORS:
        with pytest.raises(InvalidValue):
            money.major_to_minor(raw, "EUR", separator)


CURRENCIES = st.sampled_from(["USD", "EUR", "JPY", "KWD"])
SEPARATORS = st.sampled_from(money.DECIMAL_SEPARATORS)
AMOUNT_TEXT = st.text(alphabet="0123456789.,", min_size=1, max_size=14)


def written(minor: int, currency: str, separator: str, grouped: bool) -> str:
    """An amount as a site writing this separator prints it: "1.299,50" or "1299,50" for ","."""
    places = money.exponent(currency)
    whole, fraction = divmod(minor, 10**places)
    text = f"{whole:,}".replace(",", money.THOUSANDS_SEPARATOR[separator]) if grouped else str(whole)
    return text + (separator + str(fraction).zfill(places) if places else "")


def read(raw: str, currency: str, separator: str) -> int | None:
    try:
        return money.major_to_minor(raw, currency, separator)
    except InvalidValue:
        return None


@settings(max_examples=300, deadline=None)
@given(minor=st.integers(0, 10**12), currency=CURRENCIES, separator=SEPARATORS, grouped=st.booleans())
def test_an_amount_written_with_the_declared_separator_round_trips(minor, currency, separator, grouped):
    # Grouped amounts without decimals ("1,299" JPY) are refused as ambiguous: they are left out here.
    grouped = grouped and money.exponent(currency) > 0
    assert money.major_to_minor(written(minor, currency, separator, grouped), currency, separator) == minor


@settings(max_examples=500, deadline=None)
@given(raw=AMOUNT_TEXT, currency=CURRENCIES, separator=SEPARATORS)
def test_every_accepted_amount_round_trips_to_the_same_minor_units(raw, currency, separator):
    minor = read(raw, currency, separator)
    if minor is not None:
        for grouped in (False, money.exponent(currency) > 0):
            assert read(written(minor, currency, separator, grouped), currency, separator) == minor


@settings(max_examples=600, deadline=None)
@given(raw=AMOUNT_TEXT | st.from_regex(r"[0-9]{1,3}([.,][0-9]{1,4}){0,3}", fullmatch=True), currency=CURRENCIES)
def test_no_text_is_read_as_two_different_amounts_under_the_two_separators(raw, currency):
    point, comma = read(raw, currency, "."), read(raw, currency, ",")
    assert point is None or comma is None or point == comma


PRICE_TEXTS = ["12.99", "0.00", "1234567890123.99", "12345678901234.99", "12,99", "1,299.00", "12.9", "12.999", "12"]
PRICE_TEXTS += [" 12.99", "12.99 ", "1 2.99", "12.99 13.99", ".99", "12.", "", "\u0661.99", "12.9a", "1.2.99"]


@pytest.mark.parametrize("price", PRICE_TEXTS)
@pytest.mark.parametrize("currency", ["USD", "EUR", "JPY", "KWD"])
@pytest.mark.parametrize("separator", money.DECIMAL_SEPARATORS)
def test_a_cents_column_reads_a_price_as_major_to_minor_does_or_not_at_all(price, currency, separator):
    column = ["10.00".replace(".", separator), price, "7.50".replace(".", separator)]
    amounts = money.cents_column(column, currency, separator)
    plain = money.exponent(currency) == 2 and money.CENTS[separator].fullmatch(price) is not None
    # Read exactly when each price is plain (money.CENTS in a two-decimal currency), and then as major_to_minor reads it
    assert (amounts is not None) == plain
    if plain:
        assert amounts == [money.major_to_minor(text, currency, separator) for text in column]


def test_a_cents_column_of_one_price_holding_a_space_is_not_read():
    assert money.cents_column(["12.99 13.99"], "USD") is None
    assert money.cents_column([], "USD") is None
