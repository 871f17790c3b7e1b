"""Amounts in a currency's minor units (ISO 4217 exponents)."""

from __future__ import annotations

import re

from connector.errors import InvalidValue

#: ISO 4217 currencies with no minor unit.
ZERO_DECIMAL = frozenset(
    {
        *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"),
        *("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
    }
)
#: ISO 4217 currencies with three decimals.
THREE_DECIMAL = frozenset(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"])

CURRENCY_CODE = re.compile(r"[A-Z]{3}")
#: A major-unit amount as Tealium's e-commerce extension writes it: "129.99", "1,299.00" (commas removed).
MAJOR_AMOUNT = re.compile(r"([0-9]{1,30})(?:\.([0-9]{1,30}))?")
#: A mapped minor-unit amount as text; the length cap keeps int() from refusing it with a ValueError.
MINOR_AMOUNT = re.compile(r"[0-9]{1,100}")
#: Integers above this lose precision in JavaScript readers of the JSON.
MAX_AMOUNT = 2**53 - 1


def exponent(currency: str) -> int:
    if currency in ZERO_DECIMAL:
        return 0
    if currency in THREE_DECIMAL:
        return 3
    return 2


def normalize_currency(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidValue("must be a three-letter ISO 4217 code")
    code = raw.strip().upper()
    if not CURRENCY_CODE.fullmatch(code):
        raise InvalidValue("must be a three-letter ISO 4217 code")
    return code


def _checked(amount: int) -> int:
    if amount < 0:
        raise InvalidValue("must not be negative")
    if amount > MAX_AMOUNT:
        raise InvalidValue(f"must be at most {MAX_AMOUNT}")
    return amount


def parse_minor_units(raw: object) -> int:
    """A mapped amount is already an integer in minor units: 12999, 12999.0 or "12999"."""
    if isinstance(raw, bool):
        raise InvalidValue("must be an integer in minor units (e.g. 12999 for 129.99)")
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and MINOR_AMOUNT.fullmatch(raw.strip()):
        raw = int(raw.strip())
    if not isinstance(raw, int):
        raise InvalidValue("must be an integer in minor units (e.g. 12999 for 129.99)")
    return _checked(raw)


def major_to_minor(raw: object, currency: str) -> int:
    """ "129.99" USD -> 12999; "1500" JPY -> 1500; "1.234" KWD -> 1234. Exact: integer arithmetic only."""
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise InvalidValue('must be a decimal amount in major units (e.g. "129.99")')
    match = MAJOR_AMOUNT.fullmatch(str(raw).strip().replace(",", ""))
    if match is None:
        raise InvalidValue('must be a non-negative decimal amount in major units (e.g. "129.99")')
    whole, fraction = match.groups("")
    places = exponent(currency)
    if fraction[places:].strip("0"):
        raise InvalidValue(f"has more decimals than {currency} allows ({places})")
    fraction = fraction[:places].ljust(places, "0")
    return _checked(int(whole) * 10**places + (int(fraction) if fraction else 0))
