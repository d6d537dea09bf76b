"""Checking the settings of ops: the number in ``x * 2``, the p of ``x ** p``, the axis of a sum.

Each function takes what the user passed to a `Tensor` method and returns the op's parameters,
or raises a `TypeError` / `ValueError` that names the problem.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

NUMBERS = (int, float, np.integer, np.floating, np.bool_)
"""What counts as a number in an op (``x * 2``): it becomes the op's parameter ``c``."""


def is_number(value: Any) -> bool:
    return isinstance(value, NUMBERS)


def number(value: Any) -> dict[str, float]:
    """The parameter ``c`` of an op with a number in it: ``x * 2`` is ``mul_scalar(x, c=2.0)``.

    The number is kept as a Python float, so it takes the tensor's dtype in the op (numpy's
    rule for Python numbers): a float32 graph stays float32.
    """
    try:
        return {"c": float(value)}
    except OverflowError:
        raise ValueError(f"the number {value} is too large for a float: use a float "
                         "(e.g. 1e30) or a Tensor") from None


def power(p: Any) -> dict[str, float]:
    """The parameter of ``x ** p``: a finite real number."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, NUMBERS):
        raise TypeError(f"the exponent of ** must be a real number, got {type(p).__name__}")
    if not math.isfinite(p):
        raise ValueError(f"the exponent of ** must be finite, got {p!r}")
    return {"p": float(p)}


def no_more_positional(method: str, extra: tuple[Any, ...]) -> None:
    """Refuse a third positional argument of ``t.sum(0, True, 5)`` with a clear message."""
    if extra:
        raise TypeError(f"{method}() takes at most 2 positional arguments (axis, keepdims), "
                        f"got {2 + len(extra)}: pass anything else by name")


def reduction(shape: tuple[int, ...], axis: Any, keepdims: Any, *, averaging: bool,
              dtype: Any = None, out: Any = None) -> dict[str, Any]:
    """The parameters of ``x.sum(axis, keepdims)`` or ``x.mean(...)`` (``averaging``): the axes
    as a sorted tuple, keepdims, how many elements each result adds up (``n``) and the result's
    shape with the reduced axes kept as 1s (``kept``: how the gradient is spread back)."""
    # numpy's np.sum(t) and np.mean(t) call t.sum(axis=..., dtype=None, out=None)
    if dtype is not None or out is not None:
        raise TypeError("a Tensor reduction takes no dtype= or out=: it keeps the tensor's "
                        "dtype and returns a new node")
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be True or False, got {keepdims!r}")
    if axis is not None:
        for ax in axis if isinstance(axis, tuple) else (axis,):
            if not isinstance(ax, (int, np.integer)) or isinstance(ax, (bool, np.bool_)):
                raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        axis = tuple(int(ax) for ax in axis) if isinstance(axis, tuple) else int(axis)
    params = dict(_reduction_layout(shape, axis, bool(keepdims)))  # (a copy: the node's own)
    if averaging and params["n"] == 0:
        raise ValueError(f"mean over an empty axis of a tensor of shape {shape}: "
                         "it has no elements to average")
    return params


@functools.lru_cache(maxsize=1024)
def _reduction_layout(shape: tuple[int, ...], axis: int | tuple[int, ...] | None,
                      keepdims: bool) -> dict[str, Any]:
    axes = normalize_axis(axis, len(shape))
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape))
    return {"axis": axes, "keepdims": keepdims, "n": math.prod(shape[ax] for ax in axes),
            "kept": kept}


def normalize_axis(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes; ``None`` means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimension(s)")
    out = sorted(ax % ndim for ax in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(out)


def power_text(p: float, a: str, **_: Any) -> str:
    """The local derivative of ``a ** p`` as people write it: ``2·(3)``, ``1.5·a^0.5``."""
    if p == 0:
        return "0"
    if p == 1:
        return "1"
    if p == 2:
        return f"2·{a}"
    return f"{p:g}·{a}^{p - 1:g}".replace("-", "−")
