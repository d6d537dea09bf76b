"""Checking batch-norm inputs and choosing the working dtype (numpy only, like `manual`)."""

from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["check_dout", "check_finite", "check_inputs"]


def _as_real_array(value: ArrayLike, name: str) -> np.ndarray:
    """Return ``value`` as an array; bools and integers become float64, floats are kept."""
    arr = np.asarray(value)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise `ValueError` naming ``name`` when ``arr`` holds a NaN or an infinity."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise ValueError(f"{name} is not finite: it holds {bad} NaN or infinite value(s)")


def check_inputs(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate batch-norm inputs and return ``(x, gamma, beta, eps)`` in one working dtype.

    The working dtype is ``np.result_type`` of the three arrays after bools and integers are
    turned into float64, and at least float32 (float16 is promoted).  So float32 inputs stay
    float32 and a float32/float64 mix becomes float64.  Arrays already in the working dtype
    are returned without a copy.

    Raises:
        TypeError: an array is complex, object, string or another non-real dtype, or ``eps``
            is not a real number.
        ValueError: ``x`` is not 2-D, the batch is empty (``N == 0``), ``gamma`` or ``beta``
            is not of shape ``(D,)``, an array holds a NaN or an infinity (in the working
            dtype), or ``eps`` is not a finite number > 0 (also in the working dtype).
    """
    arrays = [_as_real_array(a, n) for a, n in ((x, "x"), (gamma, "gamma"), (beta, "beta"))]
    dtype = np.promote_types(np.result_type(*arrays), np.float32)
    x_arr, gamma_arr, beta_arr = (a.astype(dtype, copy=False) for a in arrays)

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
    for name, arr in (("x", x_arr), ("gamma", gamma_arr), ("beta", beta_arr)):
        check_finite(arr, name)

    if not isinstance(eps, Real) or isinstance(eps, bool):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__} {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite number > 0, got eps={eps!r}")
    if dtype != np.float64:  # a Python float is a float64 already: only narrower types can fail
        with np.errstate(over="ignore", under="ignore"):
            eps_working = dtype.type(eps)
        if not (np.isfinite(eps_working) and eps_working > 0):
            raise ValueError(f"eps={eps!r} is not a finite number > 0 in {dtype}")
    return x_arr, gamma_arr, beta_arr, float(eps)


def check_dout(dout: ArrayLike, x: np.ndarray) -> np.ndarray:
    """Return ``dout`` in the dtype of ``x``, after checking it has the same shape as ``x``."""
    arr = _as_real_array(dout, "dout")
    if arr.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got shape {arr.shape}")
    return arr.astype(x.dtype, copy=False)
