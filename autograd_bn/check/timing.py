"""Timing a call: the median of repeated calls (`median_time`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

_MIN_CALLS, _MAX_CALLS, _BUDGET = 5, 2000, 0.02


def median_time(
    call: Callable[[], Any],
    repeats: int | None = None,
    setup: Callable[[], Any] | None = None,
    budget: float = _BUDGET,
) -> tuple[float, int]:
    """Median seconds per ``call()`` and the number of calls timed.

    With ``repeats`` the call is timed that many times; otherwise until ``budget`` seconds
    have passed and at least 5 calls were made (at most 2000). ``setup()`` runs before each
    call, outside the timed region.
    """
    times: list[float] = []
    start = time.perf_counter()
    while True:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if repeats is not None:
            if len(times) >= repeats:
                break
        elif len(times) >= _MAX_CALLS or (
            len(times) >= _MIN_CALLS and time.perf_counter() - start >= budget
        ):
            break
    return float(np.median(times)), len(times)
