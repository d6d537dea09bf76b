"""The engine's numeric kernels: each a named function with a plain numpy meaning.

The op table calls these for the few steps where a faster way than the obvious numpy
expression pays off. Each kernel has two versions:

====================  ============================================  =============================
kernel                plain meaning                                 fast path
====================  ============================================  =============================
``sum_axes``          ``np.sum(a, axis=axes, keepdims=keepdims)``   sums over leading axes as a
                                                                    BLAS product with ones
``spread``            ``np.broadcast_to(g, shape)``                 a copy for small arrays
``multiply``          ``g * other``                                 multiply and sum a broadcast
                                                                    input's axes in one einsum
``power``             ``np.power(a, p)``                            ``a * a`` for p = 2
``power_grad``        ``g * p * a**(p-1)`` (0 for p = 0)            one pass, and one row of a
                                                                    spread-out gradient scaled
``scatter``           ``np.add.at(zeros(shape), index, g)``         ``np.bincount`` of where each
                                                                    element came from
====================  ============================================  =============================

``AUTOGRAD_BN_PLAIN=1`` in the environment (read at import) makes every kernel its plain
meaning; `use_plain` switches them at run time (the tests compare the two). Both give the
same numbers to rounding. How much each fast path saves is measured in ``benchmarks/``.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

Array = np.ndarray
KERNELS = ("sum_axes", "spread", "multiply", "power", "power_grad", "scatter")


# ---- plain: what each kernel means ----------------------------------------------------------


def plain_sum_axes(a: Array, axes: tuple[int, ...], keepdims: bool = False) -> Array:
    return np.asarray(np.add.reduce(a, axis=axes, keepdims=keepdims))  # type: ignore[call-overload]


def plain_spread(g: Array, shape: tuple[int, ...]) -> Array:
    return np.broadcast_to(g, shape)


def plain_multiply(g: Array, other: Array, into: tuple[int, ...]) -> Array:
    return g * other


def plain_power(a: Array, p: float) -> Array:
    return np.power(a, p)


def plain_power_grad(g: Array, a: Array, p: float) -> Array:
    if p == 0:  # x**0 is constant: its derivative is 0 everywhere, 0 included (not 0·0**−1)
        return np.zeros_like(g)
    return g * (p * np.power(a, p - 1))


def plain_scatter(g: Array, index: Any, shape: tuple[int, ...]) -> Array:
    """The gradient of ``a[index]`` for an ``a`` of ``shape``: ``g`` put back where the
    elements were taken from, adding where an index repeats, zero elsewhere."""
    grad = np.zeros(shape, g.dtype)
    np.add.at(grad, index, g)
    return grad


# ---- fast -----------------------------------------------------------------------------------


def fast_sum_axes(a: Array, axes: tuple[int, ...], keepdims: bool = False) -> Array:
    """A sum over the leading axes of a large row-major array (the rows of an (N, D) batch)
    as ones @ a: BLAS keeps several partial sums, so this is faster than numpy's row-by-row
    reduction and no less accurate. Other sums are numpy's. Always a new array."""
    plan = _rows_plan(a.shape, axes, keepdims) if a.size >= SUM_WITH_BLAS_FROM else None
    if plan is None or type(a) is not np.ndarray or not a.flags.c_contiguous:
        return plain_sum_axes(a, axes, keepdims)
    rows, columns, shape = plan
    total = _ones(rows, a.dtype) @ a.reshape(rows, columns)
    return total if shape is None else total.reshape(shape)


@functools.lru_cache(maxsize=4096)
def _rows_plan(shape: tuple[int, ...], axes: tuple[int, ...],
               keepdims: bool) -> tuple[int, int, tuple[int, ...] | None] | None:
    """How `fast_sum_axes` sums ``axes`` of ``shape`` as ones @ matrix: the matrix's rows and
    columns and the result's shape (None: it has it). None when BLAS does not pay: the axes
    are not leading, fewer than two columns are left, or the array is small."""
    k = len(axes)
    columns = math.prod(shape[k:])
    if k == 0 or axes != tuple(range(k)) or columns < 2 or math.prod(shape) < SUM_WITH_BLAS_FROM:
        return None
    kept = (1,) * k + shape[k:] if keepdims else shape[k:]
    return math.prod(shape[:k]), columns, None if kept == (columns,) else kept


SUM_WITH_BLAS_FROM = 1024
_KEEP_ONES_UP_TO = 1 << 16  # at most 64 kept vectors of ones, read-only, up to 32 MB in all


def _ones(n: int, dtype: np.dtype) -> Array:
    return _kept_ones(n, dtype) if n <= _KEEP_ONES_UP_TO else np.ones(n, dtype)


@functools.lru_cache(maxsize=64)
def _kept_ones(n: int, dtype: np.dtype) -> Array:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


def fast_spread(g: Array, shape: tuple[int, ...]) -> Array:
    """A read-only broadcast view for large gradients (no copy); small ones are copied,
    which costs less than making a view."""
    if math.prod(shape) >= SPREAD_AS_VIEW_FROM:
        return np.broadcast_to(g, shape)
    spread = np.empty(shape, g.dtype)
    spread[...] = g
    return spread


SPREAD_AS_VIEW_FROM = 8192


def fast_multiply(g: Array, other: Array, into: tuple[int, ...]) -> Array:
    """``g * other`` summed to ``into`` in one einsum pass, with no (N, D) temporary, when the
    input of shape ``into`` was broadcast over leading axes (a (D,) γ times an (N, D) x̂) and
    the arrays are large; else ``g * other`` (the engine sums it afterwards)."""
    if (g.size < FUSE_FROM or g.shape == into or other.shape != g.shape or g.ndim > 26
            or math.prod(into) < FUSE_COLUMNS
            or not (g.flags.c_contiguous and other.flags.c_contiguous)):
        return g * other
    padded = (1,) * (g.ndim - len(into)) + into
    summed = 0  # how many leading axes to sum: those where the input had (or was given) a 1
    while summed < g.ndim and padded[summed] == 1 and g.shape[summed] != 1:
        summed += 1
    if summed == 0 or padded[summed:] != g.shape[summed:]:  # not just leading axes
        return g * other
    total = np.einsum(_sum_of_products(g.ndim, summed), g, other)
    if not np.isfinite(total).all():  # einsum sets no overflow flag: numpy's ops will say
        return g * other
    return total if total.shape == into else total.reshape(into)


@functools.lru_cache(maxsize=256)
def _sum_of_products(ndim: int, summed: int) -> str:
    """``_sum_of_products(2, 1) == "ab,ab->b"``: multiply, sum the first ``summed`` axes."""
    axes = "abcdefghijklmnopqrstuvwxyz"[:ndim]
    return f"{axes},{axes}->{axes[summed:]}"


FUSE_FROM = 1 << 15
FUSE_COLUMNS = 64


def fast_power(a: Array, p: float) -> Array:
    return a * a if p == 2 else np.power(a, p)


def fast_power_grad(g: Array, a: Array, p: float) -> Array:
    """For p = 2, ``2·g·a`` in one pass; for a gradient spread out from a mean (a read-only
    view repeating one row) the row is scaled first, so each number is touched once."""
    if p == 0:
        return np.zeros_like(g)
    row = _one_row(g)
    if row is not g:
        with np.errstate(over="ignore"):
            scaled = row + row if p == 2 else p * row
        if np.isfinite(scaled).all() or not np.isfinite(row).all():
            return scaled * (a if p == 2 else np.power(a, p - 1))
        # the scaled row overflowed where g·a need not: multiply by a first, below
    if p == 2:
        twice = g * a
        twice += twice  # exactly 2·g·a
        return twice
    return g * (p * np.power(a, p - 1))


def _one_row(g: Array) -> Array:
    """The row a large spread-out gradient repeats (its stride-0 axes cut to length 1), or
    ``g`` itself: ``(2 * _one_row(g)) * a == 2 * g * a``."""
    if 0 not in g.strides or g.size < SPREAD_AS_VIEW_FROM:
        return g
    return g[tuple(slice(0, 1) if step == 0 else slice(None) for step in g.strides)]


def fast_scatter(g: Array, index: Any, shape: tuple[int, ...]) -> Array:
    """`plain_scatter` for a large ``g`` as one count: the position in ``a`` each element of
    ``g`` came from (``arange(a.size)`` indexed the same way), each position's elements added
    up by ``np.bincount`` (``np.add.at`` takes a slow path for an index array with trailing
    axes: 5× slower for an embedding). bincount adds in float64, in the order np.add.at
    does: the same bits for float64, for float32 closer to the exact sum than float32 adding
    (so the two differ by float32 rounding). A few elements taken from a large ``a`` are
    numpy's: counting costs a pass over all of it."""
    size = math.prod(shape)
    if g.size < SCATTER_BY_COUNT_FROM or 4 * g.size < size:
        return plain_scatter(g, index, shape)
    came_from = np.arange(size).reshape(shape)[index]
    counted = np.bincount(came_from.reshape(-1), weights=g.reshape(-1), minlength=size)
    return counted.reshape(shape).astype(g.dtype, copy=False)


SCATTER_BY_COUNT_FROM = 512


# ---- choosing -------------------------------------------------------------------------------

sum_axes = fast_sum_axes
spread = fast_spread
multiply = fast_multiply
power = fast_power
power_grad = fast_power_grad
scatter = fast_scatter


def use_plain(plain: bool) -> None:
    """Make every kernel its plain meaning (True) or its fast path (False)."""
    global sum_axes, spread, multiply, power, power_grad, scatter
    if plain:
        sum_axes, spread, multiply = plain_sum_axes, plain_spread, plain_multiply
        power, power_grad, scatter = plain_power, plain_power_grad, plain_scatter
    else:
        sum_axes, spread, multiply = fast_sum_axes, fast_spread, fast_multiply
        power, power_grad, scatter = fast_power, fast_power_grad, fast_scatter


def is_plain() -> bool:
    return sum_axes is plain_sum_axes


@contextlib.contextmanager
def plain_kernels(plain: bool = True) -> Iterator[None]:
    """``with plain_kernels(): ...`` runs the block with the plain kernels (tests use it)."""
    before = is_plain()
    use_plain(plain)
    try:
        yield
    finally:
        use_plain(before)


PLAIN = os.environ.get("AUTOGRAD_BN_PLAIN", "").strip() not in ("", "0")
"""``AUTOGRAD_BN_PLAIN=1`` at import: the engine runs on the plain kernels."""
use_plain(PLAIN)
