"""An array as a few short lines of text: whole when small, summary statistics when big."""

from __future__ import annotations

import numpy as np

SMALL = 20
"""Arrays with at most this many elements are shown whole; bigger ones as statistics."""


def array_lines(array: np.ndarray, *, small: int = SMALL) -> list[str]:
    """``array`` as lines of text, each short enough to sit inside a graph node.

    A small array is printed whole (4 significant digits, one line per row of a matrix); a
    big one as ``mean … min … max …``, so a node never grows with the data.
    """
    array = np.asarray(array)
    if array.size == 0:
        return ["(empty)"]
    if array.size <= small:
        cells = [_num(v) for v in array.ravel()]
        width = max(len(c) for c in cells)
        # numpy's stubs type `formatter` differently from version to version
        text = np.array2string(  # type: ignore[call-overload, unused-ignore]
            array, separator=" ", max_line_width=10_000,
            formatter={"all": lambda v: _num(v).rjust(width)},  # type: ignore[arg-type, unused-ignore]
        )
        return [line.rstrip() for line in text.splitlines()]
    finite = array[np.isfinite(array)]
    if finite.size == 0:
        return [f"all {array.size} values non-finite"]
    stats = f"mean {_num(finite.mean())}  min {_num(finite.min())}  max {_num(finite.max())}"
    lines = [stats]
    if finite.size < array.size:
        lines.append(f"{array.size - finite.size} non-finite (nan/inf) not counted")
    return lines


def _num(value: float) -> str:
    return f"{float(value):.4g}".replace("-", "−")
