"""Tealium payloads: EventStream event JSON, AudienceStream visitor JSON, or flat attributes.

The only module (with mapping) that knows Tealium's attribute names. A payload answers
`lookup(name)` by Tealium attribute name (`cp.<cookie>` included), then by dotted path from
its root, and offers the values automapping reads by the same names in every payload kind
(`automapped`), each with the attribute it came from.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from operator import itemgetter
from urllib.parse import parse_qs, urlsplit

from connector.core.errors import InputError
from connector.core.tealium_batch import REPEATED_DATA_FIELD, SEVERAL_JSON_VALUES, wrapped_reason, wrapped_records

#: The form or query field a Tealium webhook puts its JSON in.
DATA_FIELD = "data"

#: The retail extension's index-aligned item attributes -> the neutral item field they fill.
RETAIL_ITEM_FIELDS: dict[str, str] = {
    "_cprodname": "name",
    "_ccat": "content_type",
    "_cquan": "quantity",
    "_cprice": "price_major",
}
#: A content item field -> the attribute automapping reads it from (to name it in an error).
ITEM_SOURCES = {"id": "_csku", "name": "_cprodname", "content_type": "_ccat", "quantity": "_cquan", "amount": "_cprice"}
#: Every index-aligned item attribute; `_csku`, else `_cprod`, is the item's id.
RETAIL_ITEM_ATTRIBUTES = ("_csku", "_cprod", *RETAIL_ITEM_FIELDS)
#: An event keeps at most this many content items; the rest are dropped with a warning.
MAX_ITEMS_PER_EVENT = 1000

#: Tealium writes cookies as `cp.<name>` and query parameters as `qp.<name>` in the data layer.
COOKIE_PREFIX = "cp."
OPPREF_PARAMETER = "oppref"
#: The oppref candidate that is not an attribute: the query parameter, parsed from the source URL.
OPPREF_IN_URL = "the oppref parameter of the source URL"
#: Where automapping reads oppref, in order: the query parameter, then the Pixel's cookie.
OPPREF_SOURCES = ("qp.oppref", OPPREF_IN_URL, "cp.__oppref")

#: Automapped field -> the Tealium attributes it is read from, the first one present winning
#: (`dom.url` and `post_time` are read from the last event of a visitor).
AUTOMAP_SOURCES: dict[str, tuple[str, ...]] = {
    "id": ("_corder", "event_id"),
    "timestamp_ms": ("tealium_timestamp_epoch", "post_time"),
    "source_url": ("dom.url", "page_url.full_url"),
    "ip_address": ("client_ip",),
    "user_agent": ("useragent",),
    "obref": ("cp.__obref",),
    "amount_major": ("_csubtotal",),
    "currency": ("_ccurrency",),
}
#: How automapping reads each name, split once (it runs for every event): the bare cookie name for a
#: `cp.` name (else None), whether the name is a dotted path from the root too, and the name's path
#: (its first part, then the rest) in an event (a visitor's last event), looked for at its top and under
#: `data` (`dom.url` is `data.dom.url`). No part is a list position, so a dict walk reads what `dig` would.
AUTOMAP_PLANS: dict[str, tuple[str | None, bool, str, tuple[str, ...]]] = {
    name: (
        name[len(COOKIE_PREFIX) :] if name.startswith(COOKIE_PREFIX) else None,
        "." in name,
        name.split(".")[0],
        tuple(name.split(".")[1:]),
    )
    for name in {*(name for names in AUTOMAP_SOURCES.values() for name in names), *OPPREF_SOURCES}
    if name != OPPREF_IN_URL
}
#: The automapped names read by one probe of each scope (no `cp.` cookie, no dotted path).
AUTOMAP_PLAIN_NAMES = frozenset(
    name for name, (cookie, dotted, _, _) in AUTOMAP_PLANS.items() if cookie is None and not dotted
)
#: AUTOMAP_SOURCES as automap_into walks it: each field with its names, each marked plain or not, once.
_AUTOMAP_STEPS = tuple(
    (field_name, tuple((name, name in AUTOMAP_PLAIN_NAMES) for name in names))
    for field_name, names in AUTOMAP_SOURCES.items()
)


def parse_body(body: str | bytes | None, content_type: str | None, query: Mapping[str, str] | None) -> list[object]:
    """The request's payloads: a JSON object, a JSON list of them, or the form/query field `data`."""
    text = _decode(body)
    if not text.strip():
        if query and query.get(DATA_FIELD):
            return _parse_json(query[DATA_FIELD], "query.data")
        raise InputError("body", "is empty: send a JSON object, a JSON list, or the form field data")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        fields = parse_qs(text, keep_blank_values=True)
        if DATA_FIELD not in fields:
            raise InputError("body.data", "is missing: a form body carries the payload JSON in the field data")
        if len(fields[DATA_FIELD]) > 1:  # reading one would drop the others' events unanswered
            raise InputError("body.data", REPEATED_DATA_FIELD)
        return _parse_json(fields[DATA_FIELD][0], "body.data")
    return _parse_json(text, "body")


def _decode(body: str | bytes | None) -> str:
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError("body", "is not valid UTF-8") from None


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError("numbers beyond the float range are not valid JSON")
    return number


def _parse_json(text: str, where: str) -> list[object]:
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise InputError(where, "is nested too deeply") from None
    except ValueError as err:
        if isinstance(err, json.JSONDecodeError) and err.msg == "Extra data" and _more_json(text, err.pos):
            raise InputError(where, SEVERAL_JSON_VALUES) from None
        reason = str(err) if "not valid JSON" in str(err) else "is not valid JSON"
        raise InputError(where, reason.split(":")[0]) from None
    if wrapped := wrapped_records(document, lambda record: _is_event_json(record) or _is_visitor_json(record)):
        raise InputError(where, wrapped_reason(wrapped))
    return document if isinstance(document, list) else [document]


def _more_json(text: str, position: int) -> bool:
    """Whether another JSON object or list starts where the first value ended (after a comma or newline)."""
    return text[position:].lstrip(" \t\r\n,")[:1] in ("{", "[")


@dataclass(slots=True)
class Automapped:
    """Automapping's values, the Tealium attribute each came from, and the content items it dropped."""

    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    dropped_items: int = 0


@dataclass(slots=True)
class Payload:
    """One Tealium payload, and its attributes by name: the scopes they are looked up in, merged once.

    Not frozen: one is built per event, and a frozen dataclass sets each field through
    object.__setattr__ (three times the cost). Nothing changes a payload once read.
    """

    root: Mapping[str, object]
    kind: str
    attributes: Mapping[str, object]
    #: The event's first-party cookies by bare name (`cp.<name>` in the data layer).
    cookies: Mapping[str, object]
    #: The event (a visitor's last event) and its `data`: where automapping looks for the names
    #: that are not attributes, at the top (`post_time`) or by path (`dom.url` is `data.dom.url`).
    events: tuple[Mapping[str, object], Mapping[str, object]]

    def lookup(self, name: str) -> object | None:
        value = self.attributes.get(name, _ABSENT)  # one dict probe: automapping looks up ~20 names an event
        if value is not _ABSENT:
            return value
        if name.startswith(COOKIE_PREFIX):
            # Event JSON keeps the data layer's `cp.<name>` cookies by bare name in firstparty_tealium_cookies.
            cookie = self.cookies.get(name[len(COOKIE_PREFIX) :])
            if cookie is not None:
                return cookie
        return dig(self.root, name) if "." in name else None

    def automapped(self, source_url: object = None) -> Automapped:
        """What automapping fills in when no explicit mapping gave a value, and the attribute each came from.

        `source_url` is the URL the event will carry (an explicit mapping's, else the automapped one):
        the oppref query parameter is read from it when the data layer has no `qp.oppref`.
        """
        found = Automapped()
        found.dropped_items = self.automap_into(found.values, found.sources, source_url)
        return found

    def automap_into(self, values: dict[str, object], sources: dict[str, str], source_url: object = None) -> int:
        """Fill the fields `values` lacks, naming each one's attribute in `sources`; the content items dropped.

        A field already in `values` (an explicit mapping gave it) is never read: its value would be dropped.
        """
        attributes, (event, data) = self.attributes, self.events
        for field_name, names in _AUTOMAP_STEPS:
            if field_name in values:
                continue
            for name, plain in names:
                if plain:
                    # _automap_value for a name with no dot and no `cp.`, inline (most names, mostly absent):
                    # the data layer, then the event's top, then its `data`; empty text counts as absent.
                    value = attributes.get(name)
                    if value is None or value == "":
                        value = event.get(name)
                        if value is None or value == "":
                            value = data.get(name)
                            if value == "":
                                value = None
                else:
                    value = self._automap_value(name)
                if value is not None:
                    values[field_name], sources[field_name] = value, name
                    break
        if "oppref" not in values:
            url = source_url if source_url not in (None, "") else values.get("source_url")
            self._automap_oppref(values, sources, url)
        if "contents" in values:
            return 0
        items, total, columns = self._retail_items()
        if items:
            values["contents"], sources["contents"] = items, "/".join(columns)
        return total - len(items)

    def automapped_values(self) -> dict[str, object]:
        return self.automapped().values

    def _automap_value(self, name: str) -> object | None:
        """A Tealium name as automapping reads it in any payload kind: in the data layer, else in the event.

        `lookup` and a walk of each path, inlined: this runs for every name of every event, mostly for
        names the event lacks. None when nothing has a value (empty text is none).
        """
        value = self.attributes.get(name, _ABSENT)
        cookie, dotted, first, rest = AUTOMAP_PLANS[name]
        event, data = self.events
        if value is _ABSENT:
            value = self.cookies.get(cookie) if cookie is not None else None
            if value is None and dotted:
                value = self.root.get(first)
                if value is not None and rest:
                    value = _walk(value, rest)
                if event is self.root:
                    event = EMPTY  # an event's root, just walked by the same path: nothing there
        if value is not None and value != "":
            return value
        # Each event scope is a dict; most events lack the path's first part, which ends the walk.
        value = event.get(first)
        if value is not None and rest:
            value = _walk(value, rest)
        if value is not None and value != "":
            return value
        value = data.get(first)
        if value is not None and rest:
            value = _walk(value, rest)
        return value if value != "" else None

    def _automap_oppref(self, values: dict[str, object], sources: dict[str, str], source_url: object) -> None:
        for name in OPPREF_SOURCES:
            if name == OPPREF_IN_URL:
                value = query_parameter(source_url, OPPREF_PARAMETER)
            else:
                value = self._automap_value(name)
            if value not in (None, ""):
                values["oppref"], sources["oppref"] = value, name
                return

    def _retail_items(self) -> tuple[list[dict[str, object]], int, list[str]]:
        """At most MAX_ITEMS_PER_EVENT items, the total the data layer holds, and the attributes read.

        The limit is applied while splitting, before any item is built: a body of commas must not
        cost an item (or even a string) per comma.
        """
        # Item by item (docs/actions.md): id = _csku[i] or _cprod[i], content_type = _ccat[i] or "product".
        read: list[str] = []
        total = 0
        columns: dict[str, list[object]] = {}
        for name in RETAIL_ITEM_ATTRIBUTES:
            # What lookup() answers for a name with no dot and no `cp.`, without the call.
            value = self.attributes.get(name)
            if value is None:  # most events carry no retail attributes: _as_items would give nothing
                continue
            if type(value) is list:  # the commonest shape: what _as_items gives for it, without the call
                count = len(value)
                # The column is only read, never changed: a short list is kept as it is, not copied.
                column = value if count <= MAX_ITEMS_PER_EVENT else value[:MAX_ITEMS_PER_EVENT]
            else:
                column, count = _as_items(value, MAX_ITEMS_PER_EVENT)
            if count:
                read.append(name)
                columns[name] = column
                total = count if count > total else total  # no max() call: this runs for each column
        if not read:  # no retail attribute has an item (most events): nothing to build
            return [], 0, read
        skus, prods = columns.pop("_csku", []), columns.pop("_cprod", [])
        count = min(total, MAX_ITEMS_PER_EVENT)
        ids = skus or prods  # the product ids stand in for the skus only when there are no skus at all
        full = (ids, *columns.values())
        # Every column present, as long as the others, with a value at each position (no None or empty
        # text; a 0 or false also takes the item by item loop): a row per item, nothing to leave out.
        if len(full) == len(RETAIL_ITEM_FIELDS) + 1 and set(map(len, full)) == {count} and all(map(all, full)):
            return _full_items(ids, columns), total, read
        fields = [(RETAIL_ITEM_FIELDS[name], column) for name, column in columns.items()]
        items = []
        for i in range(count):
            item = {field: column[i] for field, column in fields if i < len(column) and column[i] not in (None, "")}
            # The sku, else the product id; inline, no calls: this runs for every item.
            item_id = skus[i] if i < len(skus) else None
            if item_id in (None, ""):
                item_id = prods[i] if i < len(prods) else None
            if item_id not in (None, ""):
                item["id"] = item_id
            item.setdefault("content_type", "product")
            items.append(item)
        return items, total, read


#: A full set of retail columns, in RETAIL_ITEM_FIELDS' order: the names, categories, quantities and prices.
_field_columns = itemgetter(*RETAIL_ITEM_FIELDS)


def _full_items(ids: list[object], columns: Mapping[str, list[object]]) -> list[dict[str, object]]:
    """What `_retail_items` builds item by item when every retail column is full, built row by row.

    The keys come in the order the item by item loop writes them: RETAIL_ITEM_FIELDS', then the id.
    """
    return [
        {"name": name, "content_type": content_type, "quantity": quantity, "price_major": price, "id": item_id}
        # Not strict: the caller found every column `count` long, and a strict zip costs 15% more here.
        for name, content_type, quantity, price, item_id in zip(*_field_columns(columns), ids, strict=False)
    ]


def read_payload(document: object, index: int = 0) -> Payload:
    if not isinstance(document, dict):
        raise InputError(f"events[{index}]", "must be a JSON object (Tealium event, visitor or attributes)")
    if _is_event_json(document):
        data = _dict(document.get("data"))
        # The first scope that has a name wins (the data layer, then the event, then its cookies): in
        # one dict display it comes last, to write last.
        cookies, udo = _dict(data.get("firstparty_tealium_cookies")), _dict(data.get("udo"))
        return Payload(document, "event", {**cookies, **document, **udo}, cookies, (document, data))
    if _is_visitor_json(document):
        # What _dict does, inline as below: a part that is no dict reads as an empty one.
        visit = s if isinstance(s := document.get("current_visit"), dict) else EMPTY
        last_event = s if isinstance(s := visit.get("last_event"), dict) else EMPTY
        data = s if isinstance(s := last_event.get("data"), dict) else EMPTY
        last_udo = s if isinstance(s := data.get("udo"), dict) else EMPTY
        # The first scope that has a name wins, so it comes last: the visitor's properties, metrics,
        # dates and flags, then the current visit's, then the last event's data layer, then the document.
        # A section that is no dict merges nothing.
        attributes = {
            **document,
            **last_udo,
            **(s if isinstance(s := visit.get("flags"), dict) else EMPTY),
            **(s if isinstance(s := visit.get("dates"), dict) else EMPTY),
            **(s if isinstance(s := visit.get("metrics"), dict) else EMPTY),
            **(s if isinstance(s := visit.get("properties"), dict) else EMPTY),
            **(s if isinstance(s := document.get("flags"), dict) else EMPTY),
            **(s if isinstance(s := document.get("dates"), dict) else EMPTY),
            **(s if isinstance(s := document.get("metrics"), dict) else EMPTY),
            **(s if isinstance(s := document.get("properties"), dict) else EMPTY),
        }
        cookies = _dict(data.get("firstparty_tealium_cookies"))
        return Payload(document, "visitor", attributes, cookies, (last_event, data))
    data = _dict(document.get("data"))
    return Payload(document, "attributes", document, _dict(data.get("firstparty_tealium_cookies")), (document, data))


def _is_event_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("data"), dict) and ("udo" in document["data"] or "post_time" in document)


def _is_visitor_json(document: Mapping[str, object]) -> bool:
    return isinstance(document.get("current_visit"), dict) or (
        isinstance(document.get("properties"), dict)
        and isinstance(document.get("metrics", {}), dict)
        and "visitor_id" in document["properties"]
    )


def dig(root: Mapping[str, object], path: str) -> object | None:
    """`data.dom.url` or `current_visit.properties.plan` (list positions as numbers: `items.0.id`)."""
    node: object = root
    for part in path.split("."):
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isascii() and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


#: Parsed JSON: objects are plain dicts (checking `dict` is far cheaper than an abstract Mapping).
EMPTY: dict[str, object] = {}
#: What dict.get returns for a name a payload does not have (None is a value a payload can hold).
_ABSENT = object()


def _walk(node: object, path: tuple[str, ...]) -> object | None:
    """What `dig` answers for a path of object keys (no list positions), from `node` on."""
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _dict(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else EMPTY


#: Types for isinstance(), built once: a `str | int` union would be built on every call (~10x slower).
_NUMBER = (int, float)


def _as_items(value: object, limit: int) -> tuple[list[object], int]:
    """Retail arrays arrive as lists or as comma-separated strings: at most `limit` items, and how many there are."""
    if isinstance(value, list):
        return value[:limit], len(value)
    if isinstance(value, str) and value.strip():
        return [part.strip() for part in islice(_split_commas(value), limit)], value.count(",") + 1
    if isinstance(value, _NUMBER) and not isinstance(value, bool):
        return [value], 1
    return [], 0


def _split_commas(text: str) -> Iterator[str]:
    """str.split(",") one part at a time: the caller takes only the parts it keeps."""
    start = 0
    while (end := text.find(",", start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def query_parameter(url: object, name: str) -> str | None:
    """The first value of a query parameter of a URL, or None."""
    if not isinstance(url, str) or name not in url:
        return None
    try:
        query = urlsplit(url.strip()).query
    except ValueError:
        return None
    values = parse_qs(query).get(name)
    return values[0] if values else None
