"""Overflow in BN: where a finite input can still give an infinite or NaN intermediate.

A float32 ``x`` with values near 1e20 is finite, yet its square overflows: the variance is
inf, std is inf, x̂ = 0 and BN's output is exactly β with dx = dγ = 0, a wrong answer that
numpy only marks with a `RuntimeWarning`. The checks here find the step that overflowed and
say so. They look only where overflow can appear, and only at (D,)-sized arrays on the normal
path (the mean and the variance): the (N, D) arrays are looked at only once something is known
to have gone wrong, to name the step.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["BNOverflowError", "BNOverflowWarning", "forward_problem", "grads_problem",
           "output_problem"]


class BNOverflowError(ValueError):
    """An intermediate of BN's forward pass overflowed (inf or NaN) although the inputs are
    finite: the result would be silently wrong. (A `ValueError` too: bad input for the dtype.)"""


class BNOverflowWarning(RuntimeWarning):
    """A hand-written BN pass (`autograd_bn.bn.manual`) overflowed: its results hold inf or
    NaN. The command line turns it into an error (exit status 2)."""


def _advice(dtype: np.dtype) -> str:
    return "scale x or use float64" if dtype == np.float32 else "scale x"


def _finite(array: np.ndarray) -> bool:
    return bool(np.isfinite(array).all())


def _big(value: float) -> str:
    return f"{value:.3g}"


def forward_problem(x: np.ndarray, mean: np.ndarray, var: np.ndarray,
                    centred: np.ndarray | None = None,
                    squared: np.ndarray | None = None) -> str | None:
    """What overflowed in BN's forward pass, as a message naming the step; None if nothing did.

    ``x`` must be finite (checked before). Only ``mean`` and ``var``, both (D,), are looked at
    unless one of them is not finite; then ``centred`` (x − mean) and ``squared`` ((x − mean)²)
    are looked at, or recomputed when not given, to name the step.
    """
    dtype = x.dtype
    if _finite(mean) and _finite(var):
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        if not _finite(mean):
            biggest = float(np.abs(x).max())
            return (f"(2) mean overflowed to inf in {dtype}: the sum of a column of x exceeds "
                    f"the dtype's range (max |x| = {_big(biggest)}, N = {x.shape[0]}); "
                    f"{_advice(dtype)}")
        if centred is None:
            centred = x - mean
        spread = float(np.abs(centred).max())
        if not math.isfinite(spread):
            return (f"(3) x − mean overflowed to inf in {dtype}: x's values are too far "
                    f"apart for this dtype (max |x| = {_big(float(np.abs(x).max()))}); "
                    f"{_advice(dtype)}")
        if squared is None:
            squared = centred * centred
        if not _finite(squared):
            return (f"(4) (3)² overflowed to inf in {dtype}: x's spread is too large for this "
                    f"dtype (max |x − mean| = {_big(spread)}); {_advice(dtype)}")
        return (f"(5) var overflowed to inf in {dtype}: the sum of (x − mean)² over the batch "
                f"exceeds the dtype's range (max |x − mean| = {_big(spread)}, N = "
                f"{x.shape[0]}); {_advice(dtype)}")


def output_problem(gamma: np.ndarray, beta: np.ndarray, n: int,
                   out: np.ndarray) -> str | None:
    """Whether ``out`` = γ·x̂ + β overflowed; None if not. |x̂| ≤ √N, so when
    max|γ|·√N + max|β| is far inside the dtype's range (the usual case) ``out`` is not read."""
    dtype = out.dtype
    bound = float(np.abs(gamma).max(initial=0)) * math.sqrt(n) + float(
        np.abs(beta).max(initial=0))
    if bound < float(np.finfo(dtype).max) / 4 or _finite(out):
        return None
    return (f"(12) out = γ·x̂ + β overflowed to inf in {dtype}: γ or β is too large for this "
            f"dtype (max |γ| = {_big(float(np.abs(gamma).max()))}, max |β| = "
            f"{_big(float(np.abs(beta).max()))}); scale γ and β or use float64")


def grads_problem(method: str, grads: dict[str, np.ndarray]) -> str | None:
    """The first of ``grads`` (in their order) that holds inf or NaN, as a message; None if
    all are finite. dx, dgamma and dbeta (which must be among them) are checked with one sum
    each (no temporary array), the others only once one of those is not finite."""
    names = list(grads)
    finals = ("dx", "dgamma", "dbeta")
    with np.errstate(over="ignore", invalid="ignore"):
        if all(math.isfinite(float(np.add.reduce(grads[k], axis=None))) or _finite(grads[k])
               for k in finals):
            return None
        first = next(k for k in names if not _finite(grads[k]))
    dtype = grads[first].dtype
    return (f"{method} backward: {first} overflowed to inf or NaN in {dtype}: dout, γ or x is "
            f"too large for this dtype; scale them or use float64")
