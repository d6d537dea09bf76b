"""JSON for every output of the package: always valid, with one rule for NaN and infinities.

JSON has no NaN or infinity, so a non-finite number becomes ``null`` everywhere (the comparison,
the trace, the report's inline data); numpy scalars and arrays become Python numbers and lists.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is None, NaN or infinite."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def jsonable(obj: Any) -> Any:
    """``obj`` with NaN and infinite floats as None, numpy scalars as Python numbers and numpy
    arrays as nested lists."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        obj = obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return finite(obj)
    return obj


SUMMARY_FIRST = 5
"""How many first values an array's summary keeps."""


def summary(array: np.ndarray) -> dict[str, Any]:
    """``array`` in a few numbers: its first values (flattened) and statistics of its finite
    values, so a trace of a big problem stays small (`Trace.to_dict(full=False)`)."""
    flat = np.asarray(array).reshape(-1)
    finite_values = flat[np.isfinite(flat)]
    stats = ({"mean": None, "min": None, "max": None} if finite_values.size == 0 else
             {"mean": finite_values.mean(dtype=np.float64), "min": finite_values.min(),
              "max": finite_values.max()})
    return jsonable({"first": flat[:SUMMARY_FIRST], "size": flat.size, **stats,
                     "non_finite": flat.size - finite_values.size})


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Valid JSON for ``obj`` (see `jsonable`): never a NaN literal; non-ASCII text kept."""
    return json.dumps(jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)
