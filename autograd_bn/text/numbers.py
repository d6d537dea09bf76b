"""Numbers as the tables print them: one rule for errors and differences, one for times."""

from __future__ import annotations

import math


def format_number(value: float | None) -> str:
    """An error or difference: ``1.7e-09``; ``0`` when exactly zero; ``-`` when there is none;
    ``nan`` or ``inf`` as such."""
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.1e}" if math.isfinite(value) else str(value)


def format_seconds(value: float | None) -> str:
    """A time per call: ``36.7 µs``, or ``12.3 ms`` from 10 ms up; ``-`` when there is none."""
    if value is None:
        return "-"
    if value >= 0.01:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def problem_text(n: int, d: int, seed: int | None, dtype: object) -> str:
    """A problem in a header: ``N=4, D=5, seed 0, float64``; ``given arrays`` in place of the
    seed when the inputs were passed in rather than drawn from a seed."""
    source = "given arrays" if seed is None else f"seed {seed}"
    return f"N={n}, D={d}, {source}, {dtype}"
