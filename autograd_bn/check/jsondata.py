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


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Valid JSON for ``obj`` (see `jsonable`): never a NaN literal; non-ASCII text kept."""
    return json.dumps(jsonable(obj), indent=indent, ensure_ascii=False, allow_nan=False)
