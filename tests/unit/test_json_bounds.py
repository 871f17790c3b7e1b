"""json_bounds: a value passed on as it came is refused beyond 32 levels or the float range, without recursion."""

from __future__ import annotations

import json

import pytest
from connector.core.json_bounds import MAX_NESTING_DEPTH, NUMBER_OUT_OF_RANGE, TOO_DEEP, value_problem


def nested(depth: int, leaf: object = 1) -> object:
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value


@pytest.mark.parametrize("value", [None, True, "text", 0, -(2**63), 1.5, 1e308, [], {}, {"a": [1, "b", None]}])
def test_ordinary_values_pass(value):
    assert value_problem(value) is None


def test_the_limit_is_32_levels_of_objects_and_lists():
    assert value_problem(nested(MAX_NESTING_DEPTH)) is None
    assert value_problem(nested(MAX_NESTING_DEPTH + 1)) == TOO_DEEP


def test_20000_levels_cost_a_walk_never_a_recursion_error():
    deep = json.loads("[" * 5_000 + "]" * 5_000)  # as deep as the JSON decoder goes without trouble
    for _ in range(3):
        deep = [nested(5_000, deep)]  # built without recursion: 20,000 levels and more
    assert value_problem(deep) == TOO_DEEP


@pytest.mark.parametrize("number", [float("inf"), float("-inf"), float("nan"), 2 * 10**400, -(10**309), 2**1024])
def test_numbers_beyond_the_float_range_are_refused_wherever_they_are(number):
    assert value_problem(number) == NUMBER_OUT_OF_RANGE
    assert value_problem({"a": [1, {"b": number}]}) == NUMBER_OUT_OF_RANGE


def test_the_largest_integers_a_float_holds_pass():
    assert value_problem(10**308) is None
    assert value_problem(2**1023) is None
