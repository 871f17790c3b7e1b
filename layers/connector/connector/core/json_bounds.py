"""Bounds on untrusted JSON values: how deep they nest and how large their numbers are.

A value the connector passes on as it came (a custom property) is walked here, without recursion, before
anything recursive (the JSON encoder, the surrogate check in connector/core/pipeline.py) or OpenAI sees it.
Beyond these bounds a value is refused, never cut: RFC 8259 section 9 lets a parser limit nesting, and
section 6 warns that numbers beyond IEEE 754 double precision range are not interoperable.
"""

from __future__ import annotations

import math

#: Levels of objects and lists a custom property may nest (the property itself is level 0). Custom data
#: seen in practice nests two or three levels; this is far above it and far below Python's recursion limit.
MAX_NESTING_DEPTH = 32

TOO_DEEP = f"is nested more than {MAX_NESTING_DEPTH} levels deep"
NUMBER_OUT_OF_RANGE = "holds a number beyond the range of a 64-bit float (not interoperable JSON)"

_CONTAINERS = (dict, list)


def value_problem(value: object) -> str | None:
    """Why a JSON value must not go on (too deep, or a number out of range), or None.

    Iterative: a value nested 20,000 levels deep costs a walk of its nodes, never a RecursionError.
    """
    if not isinstance(value, _CONTAINERS):  # the common case: a scalar property
        return _number_problem(value)
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, _CONTAINERS):
            if depth >= MAX_NESTING_DEPTH:
                return TOO_DEEP
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
        elif _number_problem(node):
            return NUMBER_OUT_OF_RANGE
    return None


def _number_problem(value: object) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return NUMBER_OUT_OF_RANGE
    if isinstance(value, int) and value.bit_length() > 1000:  # a cheap test first: 2**1000 is about 1e301
        try:
            float(value)
        except OverflowError:
            return NUMBER_OUT_OF_RANGE
    return None
