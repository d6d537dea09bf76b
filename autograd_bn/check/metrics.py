"""How far one gradient is from another, and what counts as agreement.

Agreement ("allclose") means ``|a − ref| ≤ tol·|ref| + tol·scale`` elementwise, with
``tol = √(machine epsilon)`` of the dtype (1.5e-8 for float64, 3.5e-4 for float32) and
``scale`` the size of the terms the gradient is a sum of (``max|γ·dout/σ|`` for dx,
``max Σ|dout·x̂|`` for dgamma, ``max Σ|dout|`` for dbeta, ``max(|γ·x̂| + |β|)`` for the
forward output). Rounding error is proportional to those terms, not to the result: when they
cancel (dx is 0 for N = 1 and nearly 0 for N = 2) only rounding noise is left, and cs231n's
relative error reads it as 1. A wrong formula is off by a fraction of ``scale`` itself.

Below float64 the reference itself is inexact: for badly conditioned batches (``|x| ≫ σ``,
where ``x − μ`` loses digits) float32 autograd can be off by more than √ε (ε: the machine
epsilon, not BN's). So ``tol`` is raised to 10× autograd's own error, measured against the
engine run in float64 on the same inputs (relative to ``scale``), whenever that is larger
(`reference_error`). For float64 runs there is nothing more precise to measure against, and
``tol`` stays √ε.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_bn.bn.problem import Problem
from autograd_bn.check import runners
from autograd_bn.check.jsondata import finite
from autograd_bn.engine.gradcheck import rel_error

Array = np.ndarray
GRADS = ("dx", "dgamma", "dbeta")
"""The three gradients of BN, in the order every backward pass returns them."""
NUMERICAL_TOLERANCE = 1e-6
"""The smallest ``tol`` used against the numerical gradient, whose own error is ~1e-10…1e-8."""


def tolerance(dtype: Any) -> float:
    """``√(machine epsilon)`` of ``dtype``: 1.5e-8 for float64, 3.5e-4 for float32."""
    return float(np.sqrt(np.finfo(np.dtype(dtype)).eps))


def max_abs(a: Any) -> float:
    """``max|a|`` as a Python float (0.0 for an empty array; NaN if ``a`` holds one)."""
    return float(np.max(np.abs(a), initial=0.0))


def max_abs_diff(a: Any, b: Any) -> float:
    """``max|a − b|``, computed in float64 (NaN when either holds a NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return max_abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))


def worst_entry(a: Array, b: Array) -> tuple[int, ...]:
    """The index where `autograd_bn.engine.gradcheck.rel_error` of ``a`` and ``b`` is attained: the
    largest elementwise ``|a − b| / max(1e-8, |a| + |b|)`` (cs231n's rule, as there)."""
    a64, b64 = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ratio = np.abs(a64 - b64) / np.maximum(1e-8, np.abs(a64) + np.abs(b64))
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(ratio)), ratio.shape))


@dataclass(frozen=True)
class Metrics:
    """One array against its reference."""

    max_abs_diff: float
    rel_error: float
    exact: bool
    allclose: bool
    norm_error: float = 0.0
    """Norm-wise relative error ``‖a − ref‖ / ‖ref‖`` (0 when both are 0, inf when only ref is)."""
    resolvable: bool = True
    """False when the gradient is smaller than the numerical gradient's resolution: the
    numerical check cannot tell it from 0, so it is not judged."""

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_diff": finite(self.max_abs_diff), "rel_error": finite(self.rel_error),
                "norm_error": finite(self.norm_error), "exact": self.exact,
                "allclose": self.allclose, "resolvable": self.resolvable}


def norm_error(a: Any, ref: Any) -> float:
    """``‖a − ref‖ / ‖ref‖`` in float64 (Frobenius norms): one number for the whole array, which
    small entries cannot blow up as they do cs231n's elementwise relative error."""
    a64 = np.asarray(a, dtype=np.float64)
    r64 = np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        diff = float(np.linalg.norm((a64 - r64).ravel()))
        size = float(np.linalg.norm(r64.ravel()))
    if diff == 0:
        return 0.0
    return diff / size if size else math.inf


def measure(a: Array, ref: Array, tol: float, scale: float, *,
            resolution: float | None = None) -> Metrics:
    """`Metrics` of ``a`` against ``ref``; allclose with ``rtol = tol``, ``atol = tol·scale``.

    Against a numerical gradient, ``resolution`` (`numerical_resolution`) is its own noise:
    ``atol`` is at least that, and a gradient whose every entry is below it (in ``a`` and in
    ``ref``) is marked not resolvable."""
    a64 = np.asarray(a, dtype=np.float64)
    r64 = np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = rel_error(a64, r64)
    atol = tol * scale
    resolvable = True
    if resolution is not None:
        atol = max(atol, resolution)
        resolvable = max(max_abs(a64), max_abs(r64)) > resolution
    return Metrics(max_abs_diff(a64, r64), err, bool(np.array_equal(a, ref)),
                   bool(np.allclose(a64, r64, rtol=tol, atol=atol)), norm_error(a64, r64),
                   resolvable)


def numerical_resolution(out: Array, dout: Array, h: float) -> float:
    """How finely a central difference with step ``h`` resolves a gradient of ``Σ out·dout``:
    each evaluation of the sum is rounded by about ``ε·Σ|out·dout|`` (ε of float64), and the
    difference of two of them is divided by ``2h``, so ``ε·Σ|out·dout| / h``."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = float(np.sum(np.abs(np.asarray(out, np.float64) * np.asarray(dout, np.float64))))
    return float(np.finfo(np.float64).eps) * total / h


def scales(p: Problem) -> dict[str, float]:
    """The size of the terms each result is a sum of, in float64 (see the module docstring)."""
    x, gamma, beta, dout = (np.asarray(a, dtype=np.float64)
                            for a in (p.x, p.gamma, p.beta, p.dout))
    centred = x - x.mean(axis=0)
    std = np.sqrt((centred**2).mean(axis=0) + p.eps)
    x_hat = centred / std
    return {
        "out": float(np.max(np.abs(gamma * x_hat) + np.abs(beta))),
        "dx": float(np.max(np.abs(gamma * dout / std))),
        "dgamma": float(np.max(np.abs(dout * x_hat).sum(axis=0))),
        "dbeta": float(np.max(np.abs(dout).sum(axis=0))),
    }


def reference_error(p: Problem, out: Array, grads: Sequence[Array],
                    sizes: dict[str, float]) -> float:
    """How far autograd in the run's dtype is from autograd in float64, relative to ``scale``.

    0.0 for float64 runs (there is nothing more precise to compare with).
    """
    if p.x.dtype == np.float64:
        return 0.0
    x, gamma, beta, dout = (np.asarray(a, dtype=np.float64) for a in (p.x, p.gamma, p.beta, p.dout))
    p64 = Problem(x, gamma, beta, dout, p.eps, p.seed)
    out64, grads64, _, _ = runners.autograd(p64, 1)
    worst = 0.0
    for key, a, b in zip(("out", *GRADS), (out, *grads), (out64, *grads64), strict=True):
        diff = max_abs_diff(a, b)
        if diff:
            worst = max(worst, diff / sizes[key] if sizes[key] else math.inf)
    return worst
