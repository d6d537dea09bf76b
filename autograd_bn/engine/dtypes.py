"""The dtype rules of the whole project (numpy only): one rule everywhere, `as_float_array`;
and refusing non-finite arrays with a message that names them."""

import math
from typing import Any

import numpy as np

__all__ = ["as_float_array", "check_finite", "read_only", "refuse_non_finite"]


_FLOATS = frozenset({np.dtype(np.float32), np.dtype(np.float64)})
_REJECTED_KINDS = {"c": "complex", "O": "object", "U": "string", "S": "bytes", "V": "structured"}


def as_float_array(data: Any, what: str = "data") -> np.ndarray:
    """``data`` as a float32 or float64 ndarray, following the engine's dtype rules.

    Integers and booleans become float64, float16 becomes float32; float32 and float64 are
    kept as given. Complex, object, string and other non-real data, and wider floats
    (float128), raise `TypeError` naming the dtype.
    """
    if type(data) is not np.ndarray:  # lists, numbers, and subclasses such as np.matrix
        if isinstance(data, np.ma.MaskedArray):
            raise TypeError(f"{what} is a masked array: the engine would ignore its mask; "
                            "pass data.filled(value) or data.compressed() instead")
        try:
            data = np.asarray(data)
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{what} cannot be read as an array: {exc}") from None
    array = data
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
    if kind == "O" and any(isinstance(v, int) and not isinstance(v, bool)
                           for v in array.reshape(-1)[:1000]):
        raise TypeError(f"{what} holds an integer too large for int64: write it as a float "
                        "(e.g. 1e30)")
    name = _REJECTED_KINDS.get(kind, "non-real")
    raise TypeError(
        f"{what} must hold real numbers (float32, float64, int or bool), "
        f"got {name} data of dtype {array.dtype}"
    )


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise `ValueError` naming ``name`` when ``arr`` holds a NaN or an infinity."""
    # A NaN or an infinity makes the sum non-finite, so a finite sum settles it in one pass
    # with no temporary array; a non-finite sum (maybe just overflow) is checked element-wise.
    with np.errstate(over="ignore", invalid="ignore"):  # (the sum of finite values may overflow)
        total = np.add.reduce(arr, axis=None)
    if not math.isfinite(total):
        refuse_non_finite(arr, name)


def refuse_non_finite(arr: np.ndarray, name: str) -> None:
    """`check_finite`'s element-wise check: raise `ValueError` saying how many values of
    ``arr`` are NaN or infinite, if any are (no numpy warning either way)."""
    finite = np.isfinite(arr)
    if not finite.all():
        bad = int(finite.size - np.count_nonzero(finite))
        raise ValueError(f"{name} is not finite: it holds {bad} NaN or infinite value(s)")


def read_only(array: np.ndarray) -> np.ndarray:
    """``array`` seen read-only (a view: no copy), so a graph's values cannot be changed."""
    view = array.view()
    view.flags.writeable = False
    return view
