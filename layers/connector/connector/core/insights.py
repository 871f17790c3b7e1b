"""A small CloudWatch Logs Insights: parses the subset of the query language the trail's queries use, and runs it.

The subset: `SOURCE 'group'` (dashboards), `fields a, b as c`, `filter` (comparisons with = != < > <= >=,
`and`, `or`, `not`, parentheses, `ispresent(f)`), `stats count(*)|count(f)|sum(f)|avg(f)|min(f)|max(f)
[as name], ... [by f, ...]`, `sort f [asc|desc], ...` and `limit n`. As in Logs Insights, a JSON boolean
counts as 1 or 0. `python -m connector report` and `trace` run the dashboard's own queries
(connector/core/trail_queries.py) over the local runner's log with it, and the template test parses
the dashboard's queries with it, so a query that does not parse here fails a test, not a dashboard.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|=|<|>|\(|\)|,|\||\*)
    |(?P<name>[A-Za-z_@][A-Za-z0-9_.@]*|`[^`]+`)
    )""",
    re.VERBOSE,
)
AGGREGATES = ("count", "sum", "avg", "min", "max")
COMPARISONS = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}

Row = dict[str, object]
Predicate = Callable[[Mapping[str, object]], bool]


class QuerySyntaxError(ValueError):
    """The query is outside the subset, or not a query: the message says where."""


@dataclass
class Query:
    sources: list[str] = field(default_factory=list)
    stages: list[Callable[[list[Row]], list[Row]]] = field(default_factory=list)

    def run(self, lines: Iterable[Mapping[str, object]]) -> list[Row]:
        rows: list[Row] = [dict(line) for line in lines]
        for stage in self.stages:
            rows = stage(rows)
        return rows


def parse(query: str) -> Query:
    tokens = _tokenize(query)
    parsed = Query()
    for stage in _split(tokens, "|"):
        if not stage:
            raise QuerySyntaxError("an empty stage between two |")
        command, rest = stage[0], stage[1:]
        builder = _COMMANDS.get(command.lower() if command != "SOURCE" else command)
        if builder is None:
            raise QuerySyntaxError(f"unknown command {command!r}")
        built = builder(rest, parsed)
        if built is not None:
            parsed.stages.append(built)
    return parsed


def value_of(row: Mapping[str, object], name: str) -> object:
    value = row.get(name.strip("`"))
    return int(value) if isinstance(value, bool) else value  # Logs Insights reads true/false as 1/0


# ---- tokens --------------------------------------------------------------------------------------------


def _tokenize(query: str) -> list[str]:
    tokens, position, text = [], 0, query.strip()
    while position < len(text):
        found = _TOKEN.match(text, position)
        if not found or found.end() == position:
            raise QuerySyntaxError(f"cannot read the query at character {position}: {text[position : position + 20]!r}")
        tokens.append(found.group().strip())
        position = found.end()
    return [token for token in tokens if token]


def _split(tokens: list[str], separator: str) -> list[list[str]]:
    parts: list[list[str]] = [[]]
    depth = 0
    for token in tokens:
        depth += (token == "(") - (token == ")")
        if token == separator and depth == 0:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _literal(token: str) -> object:
    if token[0] in "\"'":
        return re.sub(r"\\(.)", r"\1", token[1:-1])
    if re.fullmatch(r"-?\d+(?:\.\d+)?", token):
        return float(token) if "." in token else int(token)
    raise QuerySyntaxError(f"expected a string or a number, not {token!r}")


def _name(token: str) -> str:
    if not re.fullmatch(r"[A-Za-z_@][A-Za-z0-9_.@]*|`[^`]+`", token) or token.lower() in ("and", "or", "not", "by"):
        raise QuerySyntaxError(f"expected a field name, not {token!r}")
    return token.strip("`")


# ---- commands ------------------------------------------------------------------------------------------


def _source(rest: list[str], query: Query) -> None:
    if len(rest) != 1 or rest[0][0] != "'":
        raise QuerySyntaxError("SOURCE takes one quoted log group name")
    query.sources.append(str(_literal(rest[0])))


def _fields(rest: list[str], query: Query) -> Callable[[list[Row]], list[Row]]:
    chosen: list[tuple[str, str]] = []
    for part in _split(rest, ","):
        if len(part) == 1:
            chosen.append((_name(part[0]), _name(part[0])))
        elif len(part) == 3 and part[1].lower() == "as":
            chosen.append((_name(part[0]), _name(part[2])))
        else:
            raise QuerySyntaxError(f"fields: expected `name` or `name as alias`, not {' '.join(part)!r}")
    # Logs Insights keeps every field for later stages; `fields` adds the aliases.
    return lambda rows: [row | {alias: row.get(name) for name, alias in chosen} for row in rows]


def _filter(rest: list[str], query: Query) -> Callable[[list[Row]], list[Row]]:
    predicate, position = _or(rest, 0)
    if position != len(rest):
        raise QuerySyntaxError(f"filter: unexpected {rest[position]!r}")
    return lambda rows: [row for row in rows if predicate(row)]


def _or(tokens: list[str], position: int) -> tuple[Predicate, int]:
    left, position = _and(tokens, position)
    while position < len(tokens) and tokens[position].lower() == "or":
        right, position = _and(tokens, position + 1)
        left = (lambda a, b: lambda row: a(row) or b(row))(left, right)
    return left, position


def _and(tokens: list[str], position: int) -> tuple[Predicate, int]:
    left, position = _not(tokens, position)
    while position < len(tokens) and tokens[position].lower() == "and":
        right, position = _not(tokens, position + 1)
        left = (lambda a, b: lambda row: a(row) and b(row))(left, right)
    return left, position


def _not(tokens: list[str], position: int) -> tuple[Predicate, int]:
    if position < len(tokens) and tokens[position].lower() == "not":
        inner, position = _not(tokens, position + 1)
        return (lambda row: not inner(row)), position
    return _atom(tokens, position)


def _atom(tokens: list[str], position: int) -> tuple[Predicate, int]:
    if position >= len(tokens):
        raise QuerySyntaxError("filter: the condition ends too soon")
    if tokens[position] == "(":
        inner, position = _or(tokens, position + 1)
        if position >= len(tokens) or tokens[position] != ")":
            raise QuerySyntaxError("filter: a ( is not closed")
        return inner, position + 1
    if tokens[position].lower() == "ispresent":
        if tokens[position + 1 : position + 2] != ["("] or tokens[position + 3 : position + 4] != [")"]:
            raise QuerySyntaxError("filter: ispresent takes one field: ispresent(name)")
        name = _name(tokens[position + 2])
        return (lambda row: value_of(row, name) is not None), position + 4
    if position + 3 > len(tokens):
        raise QuerySyntaxError("filter: expected `field operator value`")
    name, operator, literal = _name(tokens[position]), tokens[position + 1], _literal(tokens[position + 2])
    compare = COMPARISONS.get(operator)
    if compare is None:
        raise QuerySyntaxError(f"filter: unknown operator {operator!r}")

    def predicate(row: Mapping[str, object]) -> bool:
        value = value_of(row, name)
        if value is None or isinstance(value, str) != isinstance(literal, str):
            return False
        return bool(compare(value, literal))

    return predicate, position + 3


def _stats(rest: list[str], query: Query) -> Callable[[list[Row]], list[Row]]:
    lowered = [token.lower() for token in rest]
    by_at = lowered.index("by") if "by" in lowered else len(rest)
    group_by = (
        [_name(part[0]) for part in _split(rest[by_at + 1 :], ",") if len(part) == 1] if by_at < len(rest) else []
    )
    if by_at < len(rest) and len(group_by) != len(_split(rest[by_at + 1 :], ",")):
        raise QuerySyntaxError("stats: `by` takes field names separated by commas")
    aggregates = [_aggregate(part) for part in _split(rest[:by_at], ",")]

    def run(rows: list[Row]) -> list[Row]:
        groups: dict[tuple, list[Row]] = {}
        for row in rows:
            groups.setdefault(tuple(value_of(row, name) for name in group_by), []).append(row)
        return [
            dict(zip(group_by, key, strict=True)) | {alias: compute(members) for alias, compute in aggregates}
            for key, members in groups.items()
        ]

    return run


def _aggregate(part: list[str]) -> tuple[str, Callable[[list[Row]], object]]:
    if len(part) not in (4, 6) or part[0].lower() not in AGGREGATES or part[1] != "(" or part[3] != ")":
        raise QuerySyntaxError(f"stats: expected `function(field) [as name]`, not {' '.join(part)!r}")
    function, argument = part[0].lower(), part[2]
    if len(part) == 6 and part[4].lower() != "as":
        raise QuerySyntaxError(f"stats: expected `as name` after {' '.join(part[:4])!r}")
    alias = _name(part[5]) if len(part) == 6 else f"{function}({argument})"
    if argument == "*":
        if function != "count":
            raise QuerySyntaxError(f"stats: {function}(*) is not a function; count(*) is")
        return alias, len
    name = _name(argument)

    def compute(rows: list[Row]) -> object:
        values = [value_of(row, name) for row in rows]
        present = [value for value in values if value is not None]
        if function == "count":
            return len(present)
        numbers = [value for value in present if isinstance(value, int | float)]
        if not numbers:
            return None
        return {"sum": sum, "min": min, "max": max}.get(function, lambda v: sum(v) / len(v))(numbers)

    return alias, compute


def _sort(rest: list[str], query: Query) -> Callable[[list[Row]], list[Row]]:
    keys = []
    for part in _split(rest, ","):
        if not 1 <= len(part) <= 2 or (len(part) == 2 and part[1].lower() not in ("asc", "desc")):
            raise QuerySyntaxError(f"sort: expected `field [asc|desc]`, not {' '.join(part)!r}")
        keys.append((_name(part[0]), len(part) == 2 and part[1].lower() == "desc"))

    def run(rows: list[Row]) -> list[Row]:
        for name, descending in reversed(keys):  # stable sorts, last key first
            rows = sorted(rows, key=lambda row: _sortable(value_of(row, name)), reverse=descending)
        return rows

    return run


def _sortable(value: object) -> tuple[int, object]:
    if value is None:
        return (0, 0)
    return (1, value) if isinstance(value, int | float) else (2, str(value))


def _limit(rest: list[str], query: Query) -> Callable[[list[Row]], list[Row]]:
    if len(rest) != 1 or not rest[0].isdigit() or int(rest[0]) == 0:
        raise QuerySyntaxError("limit takes a positive whole number")
    count = int(rest[0])
    return lambda rows: rows[:count]


_COMMANDS: dict[str, Callable[[list[str], Query], Callable[[list[Row]], list[Row]] | None]] = {
    "SOURCE": _source,
    "fields": _fields,
    "filter": _filter,
    "stats": _stats,
    "sort": _sort,
    "limit": _limit,
}
