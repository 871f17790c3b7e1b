"""The event's content items: a mapped `contents` list or the Tealium adapter's retail items, checked item by item.

An item's texts (id, group id, name, content type, variant names and values) are free text: one that
looks like an email address or a phone number (connector/core/personal_data.py) is dropped with a warning.
"""

from __future__ import annotations

from operator import itemgetter

from connector.core import money
from connector.core.errors import InvalidValue
from connector.core.personal_data import may_be_personal, personal_kind
from connector.core.types import Issue
from connector.core.wire.fields import MAX_TEXT_CHARS, Builder, as_list, parse_quantity, parse_text

#: A content item's fields in OpenAI's order.
CONTENT_ITEM_FIELDS = ("id", "group_id", "name", "content_type", "quantity", "amount", "currency", "variant_dict")
#: A mapped item may give its price in major units instead of `amount` in minor units.
ITEM_PRICE_KEYS = ("price", "price_major")
#: A content item's text fields.
ITEM_TEXT_FIELDS = ("id", "group_id", "name", "content_type")
#: Every key an item may hold on the way in (a mapped `contents` list or the Tealium adapter's items).
ITEM_KEYS = frozenset({*CONTENT_ITEM_FIELDS, *ITEM_PRICE_KEYS})
#: Digits of a quantity that can never exceed MAX_QUANTITY (2**31 - 1 has ten).
_QUANTITY_DIGITS = 9


#: The keys of the commonest item: the one connector/core/tealium.py builds from a full set of retail columns.
PLAIN_ITEM_KEYS = ("id", "name", "content_type", "quantity", "price_major")
_plain_item_values = itemgetter(*PLAIN_ITEM_KEYS)
_PLAIN_ITEM_COUNT = len(PLAIN_ITEM_KEYS)
_PLAIN_TEXTS_CHARS = MAX_TEXT_CHARS + 2


def build_contents(b: Builder, currency: str | None) -> list[dict[str, object]]:
    items = as_list(b.values.get("contents"))
    contents = _plain_contents(items, currency, b.decimal_separator)
    if contents is not None:
        return contents
    contents = []
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            b.errors.append(Issue(f"data.contents[{position}]", "must be an object"))
            continue
        wire_item = _build_item(b, item, position, currency)
        if wire_item is not None:
            contents.append(wire_item)
    return contents


def _plain_contents(items: list[object], currency: str | None, separator: str) -> list[dict[str, object]] | None:
    """The wire items `_build_item` makes of these items when all are plain, else None (it then reads them).

    Plain: a dict of exactly PLAIN_ITEM_KEYS, all text; id, name and content_type not blank and together
    within MAX_TEXT_CHARS; a quantity of at most _QUANTITY_DIGITS ASCII digits; prices that
    money.cents_column reads in a two-decimal currency; no text that looks personal. No rule can refuse
    or warn about such an item, so each value is checked once: this runs for every item of every event
    that carries retail items.
    """
    if currency is None or money.exponent(currency) != 2:
        return None  # no price could be read by money.cents_column: the general path decides
    contents, prices = [], []
    for item in items:
        if type(item) is not dict or len(item) != _PLAIN_ITEM_COUNT:
            return None
        try:
            item_id, name, content_type, quantity, price = _plain_item_values(item)
        except KeyError:
            return None
        if not (type(item_id) is type(name) is type(content_type) is type(quantity) is type(price) is str):
            return None
        texts = f"{item_id}|{name}|{content_type}"  # `|` joins no run of digits
        # Within the limit together (two `|` aside), so each is; longer texts take the general path.
        if len(texts) > _PLAIN_TEXTS_CHARS:
            return None
        # Judged as they came: stripping whitespace at a text's ends adds or removes no `@`, `%`, `+` or digit,
        # and ends no run of digits (a run starts and ends with a digit).
        if may_be_personal(texts):
            return None  # the general path judges each text, drops one that is personal and warns
        item_id, name, content_type = item_id.strip(), name.strip(), content_type.strip()
        if not (item_id and name and content_type and len(quantity) <= _QUANTITY_DIGITS):
            return None
        if not (quantity.isascii() and quantity.isdigit()):
            return None
        # The amount is read below, with the whole column; its key is written now, in OpenAI's order.
        wire_item = {
            "id": item_id,
            "name": name,
            "content_type": content_type,
            "quantity": int(quantity),
            "amount": None,
            "currency": currency,
        }
        contents.append(wire_item)
        prices.append(price)
    amounts = money.cents_column(prices, currency, separator)
    if amounts is None:
        return None
    for wire_item, amount in zip(contents, amounts, strict=True):
        wire_item["amount"] = amount
    return contents


def _build_item(b: Builder, item: dict[str, object], position: int, currency: str | None) -> dict[str, object] | None:
    # This runs for every item of every event: the common shapes (short text, a quantity in digits, no
    # per-item currency or amount) skip the general parsers, which still decide everything else.
    wire_item: dict[str, object] = {}
    for name in ITEM_TEXT_FIELDS:
        raw = item.get(name)
        if raw is None:
            continue
        if type(raw) is str and len(raw) <= MAX_TEXT_CHARS:
            value = raw.strip()  # what parse_text returns for such text
        else:
            value = _read_item(b, item, name, position, parse_text)
        if value and (kind := personal_kind(value)):
            b.warnings.append(Issue(f"data.contents[{position}].{name}", f"dropped: looks like {kind}"))
        elif value:
            wire_item[name] = value
    raw = item.get("quantity")
    if type(raw) is str and len(raw) <= _QUANTITY_DIGITS and raw.isascii() and raw.isdigit():
        quantity = int(raw)  # what parse_quantity returns for plain digits
    else:
        quantity = _read_item(b, item, "quantity", position, parse_quantity)
    if quantity is not None:
        wire_item["quantity"] = quantity
    item_currency = None
    if "currency" in item:
        item_currency = _read_item(b, item, "currency", position, money.normalize_currency)
    item_currency = item_currency or currency
    amount = _read_item(b, item, "amount", position, money.parse_minor_units) if "amount" in item else None
    price = None
    if amount is None:  # the price is read only to stand in for a missing amount
        for key in ITEM_PRICE_KEYS:
            price = item.get(key)
            if price not in (None, ""):
                break
        else:
            price = None
    if amount is None and price is not None:
        if item_currency is None:
            b.errors.append(Issue(f"data.contents[{position}].amount", "needs a currency to convert a price"))
            return None
        try:
            amount = money.major_to_minor(price, item_currency, b.decimal_separator)
        except InvalidValue as problem:
            b.errors.append(Issue(f"data.contents[{position}].amount", str(problem)))
    if amount is not None:
        if item_currency is None:
            b.errors.append(Issue(f"data.contents[{position}].currency", "is required when an amount is given"))
            return None
        wire_item["amount"] = amount
    if item_currency is not None and (amount is not None or "currency" in item):
        wire_item["currency"] = item_currency
    variants = _read_item(b, item, "variant_dict", position, parse_variant_dict) if "variant_dict" in item else None
    if variants:
        variants = _without_personal_variants(b, variants, position)
    if variants:
        wire_item["variant_dict"] = variants
    unknown = [] if ITEM_KEYS.issuperset(item) else sorted(k for k in item if k not in ITEM_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ITEM_KEYS - {"price_major"}))
        b.warnings.append(Issue(f"data.contents[{position}].{unknown[0]}", f"dropped: an item holds only {allowed}"))
    return wire_item


def parse_variant_dict(raw: object) -> dict[str, str]:
    """`{"size": "M", "color": "blue"}`: OpenAI takes strings only; numbers are written as text."""
    if not isinstance(raw, dict):
        raise InvalidValue("must be an object of strings")
    variants = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidValue("must have non-empty text keys")
        variants[key.strip()] = parse_text(value)
    return variants


def _without_personal_variants(b: Builder, variants: dict[str, str], position: int) -> dict[str, str]:
    kept = {}
    for key, value in variants.items():
        kind = personal_kind(key) or personal_kind(value)
        if kind:  # the warning names the object, never the key: the key itself may be the address
            b.warnings.append(Issue(f"data.contents[{position}].variant_dict", f"dropped a variant: looks like {kind}"))
        else:
            kept[key] = value
    return kept


def _read_item(b: Builder, item: dict[str, object], key: str, position: int, parse):
    raw = item.get(key)
    if raw is None or raw == "":
        return None
    try:
        return parse(raw)
    except InvalidValue as problem:
        # The field name is built only on the error path: this loop runs for every item of every event.
        b.errors.append(Issue(f"data.contents[{position}].{key}", str(problem)))
        return None
