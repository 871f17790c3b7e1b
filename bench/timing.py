"""Plain perf_counter loops: warm-up, then the median of several repeats, ours and baseline interleaved."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

#: Repeats per measurement; the median is reported (the machine is shared and noisy).
REPEATS = 7


def per_call(fn: Callable[[], object], number: int, repeats: int = REPEATS, warmup: int = 1) -> float:
    """Median seconds per call of `fn`."""
    return paired({"x": fn}, number, repeats, warmup)["x"]


def paired(
    fns: dict[str, Callable[[], object]], number: int, repeats: int = REPEATS, warmup: int = 1
) -> dict[str, float]:
    """Median seconds per call of each function; repeats interleave so noise hits all alike."""
    for fn in fns.values():
        for _ in range(warmup):
            for _ in range(number):
                fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[name].append((time.perf_counter() - start) / number)
    return {name: statistics.median(values) for name, values in samples.items()}
