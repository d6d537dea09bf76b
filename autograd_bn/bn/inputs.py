"""Checking batch-norm inputs: shapes, dtypes, finiteness and eps (numpy only)."""

import math
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

from autograd_bn.engine.dtypes import as_float_array, check_finite

__all__ = ["check_dout", "check_inputs"]


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
