"""Amounts in a currency's minor units (ISO 4217 exponents)."""

from __future__ import annotations

import re

from connector.core.errors import InvalidValue

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
#: How a site writes the decimal point of major-unit amounts (the action's decimal_separator)...
DECIMAL_SEPARATORS = (".", ",")
#: ...and the thousands separator that goes with each.
THOUSANDS_SEPARATOR = {".": ",", ",": "."}
#: How each decimal separator writes an amount, for the reasons that tell how to declare it.
WRITTEN = {".": '"12,345.67"', ",": '"12.345,67"'}
UNAMBIGUOUS = {".": '"12345" or "12,345.00"', ",": '"12345" or "12.345,00"'}
#: A major-unit amount as Tealium's e-commerce extension writes it, per decimal separator: digits, or
#: groups of three after a first group of one to three ("1,299"), then an optional fraction.
MAJOR_AMOUNT = {
    decimal: re.compile(
        rf"([0-9]{{1,30}}|[0-9]{{1,3}}(?:{re.escape(thousands)}[0-9]{{3}}){{1,10}})(?:{re.escape(decimal)}([0-9]{{1,30}}))?"
    )
    for decimal, thousands in THOUSANDS_SEPARATOR.items()
}
#: The commonest price ("129.99" under ".", "129,99" under ","): digits, the decimal separator, two
#: decimals, too short to pass MAX_AMOUNT. MAJOR_AMOUNT reads it the same way, by its first alternative.
CENTS = {decimal: re.compile(rf"[0-9]{{1,13}}{re.escape(decimal)}[0-9]{{2}}") for decimal in DECIMAL_SEPARATORS}
#: A column of such prices joined by single spaces, for one regex call instead of one per price.
CENTS_COLUMN = {decimal: re.compile(rf"{cents.pattern}(?: {cents.pattern})*") for decimal, cents in CENTS.items()}
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


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_AMOUNT_TYPES = (str, int, float)


def major_to_minor(raw: object, currency: str, decimal_separator: str = ".") -> int:
    """ "129.99" USD -> 12999; "1500" JPY -> 1500; "1.234" KWD -> 1234. Exact: integer arithmetic only.

    Read as written, never guessed: with "." declared, "1,299.00" is 1299 but "129,99" and "1,5" are
    refused, and "1,299" too, since a site writing decimal commas means 1.299 by it. With ","
    declared the roles swap. So no text is ever read as two different amounts under the two settings.
    """
    if type(raw) is str:
        text = raw.strip()  # the common case (every Tealium price), ahead of the checks only other types need
        if CENTS[decimal_separator].fullmatch(text) and currency not in ZERO_DECIMAL and currency not in THREE_DECIMAL:
            return int(text[:-3] + text[-2:])  # two decimals in a two-decimal currency: what the general path gives
    else:
        if isinstance(raw, bool) or not isinstance(raw, _AMOUNT_TYPES):
            raise InvalidValue('must be a decimal amount in major units (e.g. "129.99")')
        if not isinstance(raw, str):
            decimal_separator = "."  # a JSON number: its decimal point is never a matter of locale
        text = str(raw).strip()
    whole, fraction = _split_amount(text, decimal_separator)
    places = exponent(currency)
    if fraction[places:].strip("0"):
        raise InvalidValue(f"has more decimals than {currency} allows ({places})")
    fraction = fraction[:places].ljust(places, "0")
    amount = int(whole) * 10**places + (int(fraction) if fraction else 0)
    return amount if amount <= MAX_AMOUNT else _checked(amount)  # never negative: made of digits


def cents_column(prices: list[str], currency: str, decimal_separator: str = ".") -> list[int] | None:
    """What major_to_minor gives each of these prices when all are written as CENTS writes them and the
    currency has two decimals (its fast path), else None: the column is read with one regex call.
    """
    if currency in ZERO_DECIMAL or currency in THREE_DECIMAL:
        return None
    joined = " ".join(prices)
    if CENTS_COLUMN[decimal_separator].fullmatch(joined) is None:
        return None
    digits = joined.replace(decimal_separator, "").split(" ")
    # As many parts as prices: no price holds a space of its own, so each matched CENTS whole.
    return list(map(int, digits)) if len(digits) == len(prices) else None


def _split_amount(text: str, decimal_separator: str) -> tuple[str, str]:
    """The whole digits and the fraction digits of a major-unit amount written with this separator."""
    other = THOUSANDS_SEPARATOR[decimal_separator]
    match = MAJOR_AMOUNT[decimal_separator].fullmatch(text)
    if match is not None and other not in text:
        # The common case ("129.99" under "."): without the other separator the other reading has no
        # fraction, so it can make nothing ambiguous, and there are no thousands separators to remove.
        return match.group(1), match.group(2) or ""
    other_match = MAJOR_AMOUNT[other].fullmatch(text)
    if match is None:
        if other_match is not None:
            raise InvalidValue(
                f'is written the way decimal_separator "{other}" reads (as in {WRITTEN[other]}), but the action '
                f'declares "{decimal_separator}": if the site writes amounts that way, set the action\'s '
                f'decimal_separator to "{other}"'
            )
        raise InvalidValue('must be a non-negative decimal amount in major units (e.g. "129.99")')
    if other_match is not None and other_match.group(2) is not None:
        # "1,299" under ".": the comma may be thousands, or a decimal comma. Refused, never guessed.
        raise InvalidValue(
            f'is ambiguous: its "{other}" may separate thousands or decimals; write it without thousands '
            f"separators or with decimals (as in {UNAMBIGUOUS[decimal_separator]}), or, if the site writes "
            f'amounts as in {WRITTEN[other]}, set the action\'s decimal_separator to "{other}"'
        )
    whole, fraction = match.groups("")
    return whole.replace(other, ""), fraction
