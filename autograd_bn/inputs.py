"""The dtype rules of the whole project, and checking batch-norm inputs (numpy only).

One rule everywhere: see `as_float_array`.
"""

import math
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["as_float_array", "check_dout", "check_finite", "check_inputs", "refuse_non_finite"]


_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_REJECTED_KINDS = {"c": "complex", "O": "object", "U": "string", "S": "bytes", "V": "structured"}


def as_float_array(data: Any, what: str = "data") -> np.ndarray:
    """``data`` as a float32 or float64 ndarray, following the engine's dtype rules.

    Integers and booleans become float64, float16 becomes float32; float32 and float64 are
    kept as given. Complex, object, string and other non-real data, and wider floats
    (float128), raise `TypeError` naming the dtype.
    """
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    if array.dtype in _FLOATS:
        return array
    kind = array.dtype.kind
    if kind in "biu":
        return array.astype(np.float64)
    if array.dtype == np.float16:
        return array.astype(np.float32)
    if kind == "f":
        raise TypeError(f"{what} has the unsupported float dtype {array.dtype}: "
                        "use float32 or float64")
    name = _REJECTED_KINDS.get(kind, "non-real")
    raise TypeError(
        f"{what} must hold real numbers (float32, float64, int or bool), "
        f"got {name} data of dtype {array.dtype}"
    )


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise `ValueError` naming ``name`` when ``arr`` holds a NaN or an infinity."""
    # A NaN or an infinity makes the sum non-finite, so a finite sum settles it in one pass
    # with no temporary array; a non-finite sum (maybe just overflow) is checked element-wise.
    if not math.isfinite(np.add.reduce(arr, axis=None)):
        refuse_non_finite(arr, name)


def refuse_non_finite(arr: np.ndarray, name: str) -> None:
    """`check_finite`'s element-wise check: raise `ValueError` saying how many values of
    ``arr`` are NaN or infinite, if any are (no numpy warning either way)."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise ValueError(f"{name} is not finite: it holds {bad} NaN or infinite value(s)")


def check_inputs(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float, *, x_finite: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate batch-norm inputs and return ``(x, gamma, beta, eps)`` in one working dtype.

    The working dtype is ``np.result_type`` of the three arrays after `as_float_array` (bools
    and integers become float64, float16 becomes float32; wider floats are refused). So
    float32 inputs stay float32 and a float32/float64 mix becomes float64. Arrays already in
    the working dtype are returned without a copy. ``x_finite=False`` leaves x's finiteness to
    the caller (`batchnorm` reads it off x's mean, which it computes anyway).

    Raises:
        TypeError: an array is complex, object, string or another non-real dtype, or ``eps``
            is not a real number.
        ValueError: ``x`` is not 2-D, the batch is empty (``N == 0``), ``gamma`` or ``beta``
            is not of shape ``(D,)``, an array holds a NaN or an infinity (in the working
            dtype), or ``eps`` is not a finite number > 0 (also in the working dtype).
    """
    x_arr = as_float_array(x, "x")
    gamma_arr = as_float_array(gamma, "gamma")
    beta_arr = as_float_array(beta, "beta")
    dtype = x_arr.dtype
    if gamma_arr.dtype != dtype or beta_arr.dtype != dtype:
        dtype = np.result_type(x_arr, gamma_arr, beta_arr)
        x_arr, gamma_arr, beta_arr = (a.astype(dtype, copy=False)
                                      for a in (x_arr, gamma_arr, beta_arr))

    if x_arr.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {x_arr.shape}")
    n, d = x_arr.shape
    if n == 0:
        raise ValueError(
            f"x has an empty batch (shape {x_arr.shape}); batch norm needs at least one row"
        )
    for name, arr in (("gamma", gamma_arr), ("beta", beta_arr)):
        if arr.shape != (d,):
            raise ValueError(f"{name} must have shape (D,) = ({d},), got shape {arr.shape}")
    if x_finite:
        check_finite(x_arr, "x")
    check_finite(gamma_arr, "gamma")
    check_finite(beta_arr, "beta")

    if type(eps) is not float and (not isinstance(eps, Real) or isinstance(eps, bool)):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__} {eps!r}")
    if not (_is_finite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite number > 0, got eps={eps!r}")
    if dtype != np.float64:  # a Python float is a float64 already: only narrower types can fail
        with np.errstate(over="ignore", under="ignore"):
            eps_working = dtype.type(eps)
        if not (np.isfinite(eps_working) and eps_working > 0):
            raise ValueError(f"eps={eps!r} is not a finite number > 0 in {dtype}")
    return x_arr, gamma_arr, beta_arr, float(eps)


def _is_finite(number: float) -> bool:
    try:
        return math.isfinite(number)
    except OverflowError:  # an int too large for a float
        return False


def check_dout(dout: ArrayLike, x: np.ndarray) -> np.ndarray:
    """Return ``dout`` in the dtype of ``x``, after checking it has the same shape as ``x``."""
    arr = as_float_array(dout, "dout")
    if arr.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got shape {arr.shape}")
    return arr.astype(x.dtype, copy=False)
