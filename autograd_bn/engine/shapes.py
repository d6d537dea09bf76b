"""Broadcasting, undone once for every op: a gradient always reaches an input in its shape.

When numpy broadcast an input in the forward pass (a (D,) γ against an (N, D) x̂), the input was
used once per row, so its gradient is the sum of the rows' gradients: `unbroadcast` sums over
the axes broadcasting added (the seed's ``.sum(axis=0)``).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from autograd_bn.engine import kernels


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``grad`` summed over the axes that broadcasting added to ``shape``.

    ``unbroadcast(ones((4, 5)), (5,))`` sums the 4 rows; ``unbroadcast(ones((4, 5)), (4, 1))``
    sums each row, keeping the axis. A gradient smaller than ``shape`` is spread out instead.
    """
    if grad.shape == shape:
        return grad
    axes = broadcast_axes(grad.shape, shape)
    if not axes:  # nothing to sum: smaller than shape, so spread it out
        return kernels.spread(grad, shape)
    summed = kernels.sum_axes(grad, axes, keepdims=True)
    return summed.reshape(shape) if summed.shape != shape else summed


@functools.lru_cache(maxsize=4096)
def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``grad_shape`` to sum to get back to ``shape``: the leading axes numpy
    added, and the axes where ``shape`` has a 1 and the gradient does not.
    ``broadcast_axes((4, 5), (5,)) == (0,)``; ``()`` when the gradient has fewer dimensions."""
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        return ()
    ones = (lead + i for i, n in enumerate(shape) if n == 1 and grad_shape[lead + i] != 1)
    return (*range(lead), *ones)


def conform(contribution: Any, like: np.ndarray) -> np.ndarray:
    """A VJP's result as an ndarray of ``like``'s shape (`unbroadcast`) and dtype.

    (numpy returns a scalar, not an array, for 0-d results; and a float64 operand makes a
    float32 input's contribution float64.)
    """
    if type(contribution) is not np.ndarray:
        contribution = np.asarray(contribution)
    if contribution.shape != like.shape:
        contribution = unbroadcast(contribution, like.shape)
    if contribution.dtype is not like.dtype and contribution.dtype != like.dtype:
        contribution = contribution.astype(like.dtype)
    return contribution


def first_max(a: np.ndarray, top: np.ndarray, axis: tuple[int, ...]) -> np.ndarray:
    """1 where ``a`` has its maximum over ``axis``, 0 elsewhere; where several elements tie,
    only the first (in row-major order over those axes) gets the 1. Same shape as ``a``.
    ``top`` is that maximum, with the reduced axes kept as 1s."""
    at_top = a == top  # (a NaN maximum equals nothing: its slice has no match, hence the test)
    if np.count_nonzero(at_top) == top.size and not np.isnan(top).any():
        return at_top.astype(a.dtype)  # one match in each slice: no tie to break
    rest = [ax for ax in range(a.ndim) if ax not in axis]
    moved = np.moveaxis(a, [*rest, *axis], range(a.ndim))  # the reduced axes last…
    flat = moved.reshape(*moved.shape[:len(rest)], -1)  # …as one
    first = np.argmax(flat, axis=-1)[..., None]  # argmax picks the first maximum
    mask = np.zeros(flat.shape, a.dtype)
    np.put_along_axis(mask, first, 1, axis=-1)
    return np.moveaxis(mask.reshape(moved.shape), range(a.ndim), [*rest, *axis])
