"""Request packing: group events by route, then cut each group into as few requests as the limits allow.

Events keep their order within a group. Filling each request greedily before opening the
next is optimal for an ordered sequence: no split into contiguous requests uses fewer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TypeVar

from connector.core.wire.request import MAX_EVENTS_PER_REQUEST, MAX_REQUEST_BYTES, request_overhead

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def group_by(items: Iterable[T], key: Callable[[T], K]) -> dict[K, list[T]]:
    """Groups in first-seen order, items in arrival order."""
    groups: dict[K, list[T]] = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    return groups


def pack_sizes(
    sizes: Sequence[int],
    *,
    overhead: int,
    max_events: int = MAX_EVENTS_PER_REQUEST,
    max_bytes: int = MAX_REQUEST_BYTES,
    separator: int = 1,
) -> tuple[list[range], list[int]]:
    """Split positions 0..n-1 into contiguous requests within both limits.

    A request's size is `overhead + sum(sizes) + separator * (count - 1)`. Returns the
    requests as ranges, and the positions of events too large to fit any request alone.
    """
    requests: list[range] = []
    too_large: list[int] = []
    start, used = 0, overhead
    count = 0
    for position, size in enumerate(sizes):
        if overhead + size > max_bytes:
            if count:
                requests.append(range(start, position))
            too_large.append(position)
            start, used, count = position + 1, overhead, 0
            continue
        extra = size + (separator if count else 0)
        if count and (count == max_events or used + extra > max_bytes):
            requests.append(range(start, position))
            start, used, count = position, overhead, 0
            extra = size
        used += extra
        count += 1
    if count:
        requests.append(range(start, len(sizes)))
    return requests, too_large


def pack_events(
    encoded: Sequence[bytes], validate_only: bool, integration_source: str | None = None
) -> tuple[list[range], list[int]]:
    """Pack serialized wire events into OpenAI request bodies (see connector/core/wire/request.py)."""
    overhead = request_overhead(validate_only, integration_source)
    return pack_sizes([len(e) for e in encoded], overhead=overhead)
