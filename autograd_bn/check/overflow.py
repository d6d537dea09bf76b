"""Refusing a run whose own numbers overflowed: a tolerance is never widened to hide it.

A finite x can still overflow inside the layer (x·1e20 in float32: (x − mean)² exceeds
float32's largest number, so var is inf, σ is inf, x̂ is 0 and every gradient looks "close").
`refuse_overflow` names the first step that is not finite, in the graph's numbering, and raises
`ValueError`, so the command line exits 2 with that message.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from autograd_bn.check.metrics import GRADS, max_abs


def refuse_overflow(steps: Iterable[tuple[str, np.ndarray]], x: np.ndarray) -> None:
    """Raise `ValueError` naming the first of ``steps`` (name, array) with a NaN or infinity."""
    dtype = np.asarray(x).dtype
    for name, value in steps:
        arr = np.asarray(value)
        if arr.size and not np.all(np.isfinite(arr)):
            largest = float(np.finfo(dtype).max) if dtype.kind == "f" else float("nan")
            raise ValueError(
                f"step {name} is not finite in {dtype} (it overflowed: |x| is up to "
                f"{max_abs(x):.1e}, squares of its spread pass {dtype}'s largest number "
                f"{largest:.1e}); the comparison would be meaningless: use --dtype float64 "
                "or smaller inputs")


def refuse_bn_overflow(mean: np.ndarray, var: np.ndarray, std: np.ndarray, x_hat: np.ndarray,
                       out: np.ndarray, grads: Iterable[np.ndarray], x: np.ndarray) -> None:
    """`refuse_overflow` over the steps every layer of BN's family has, in the seed's
    numbering: (2) mean, (5) var, (6) std, (8) x̂, (12) out, then dx, dgamma, dbeta."""
    refuse_overflow([("(2) mean", mean), ("(5) var", var), ("(6) std", std), ("(8) x̂", x_hat),
                     ("(12) out", out), *zip(GRADS, grads, strict=True)], x)
