"""Numerical gradient checking: central differences, the cs231n relative error, and `gradcheck`.

The numerical gradient is the reference a hand-written or engine gradient is checked against.
It has its own error: with step ``h`` it is off by about ``h²·f'''`` (truncation) plus
``eps·|f|/h`` (rounding), about 1e-10 relative for well-scaled float64 inputs at ``h = 1e-5``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from autograd_bn.engine.dtypes import as_float_array
from autograd_bn.engine.tensor import Tensor

Array = np.ndarray


def rel_error(a: Array, b: Array) -> float:
    """cs231n's relative error: ``max(|a − b| / max(1e-8, |a| + |b|))``, 0.0 for empty arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"rel_error needs arrays of one shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(
    f: Callable[[Array], Array], x: Array, dout: Array, h: float = 1e-5
) -> Array:
    """Central-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    ``f`` maps an array shaped like ``x`` to an array shaped like ``dout``, as in cs231n's
    ``eval_numerical_gradient_array``. ``x`` itself is not modified: ``f`` is called on a
    float64 copy that is nudged by ``±h`` one element at a time.
    """
    if not h > 0:
        raise ValueError(f"the step h must be positive, got {h!r}")
    work = np.array(as_float_array(x, "x"), dtype=np.float64)
    dout = np.asarray(as_float_array(dout, "dout"), dtype=np.float64)
    grad = np.zeros_like(work)
    for ix in np.ndindex(*work.shape):
        old = work[ix]
        work[ix] = old + h
        plus = np.array(f(work), dtype=np.float64)
        work[ix] = old - h
        minus = np.array(f(work), dtype=np.float64)
        work[ix] = old
        if plus.shape != dout.shape:
            raise ValueError(f"f returned shape {plus.shape}, but dout has shape {dout.shape}")
        grad[ix] = np.sum((plus - minus) * dout) / (2 * h)
    return grad


@dataclass(frozen=True)
class InputCheck:
    """How one input's engine gradient compares with its numerical gradient."""

    index: int
    shape: tuple[int, ...]
    rel_error: float
    max_abs_error: float
    passed: bool


@dataclass(frozen=True)
class GradcheckResult:
    """The outcome of `gradcheck`: one `InputCheck` per input, and ``passed`` for all."""

    inputs: tuple[InputCheck, ...]
    tolerance: float
    atol: float

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.inputs)

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "passed" if self else "FAILED"
        lines = [f"gradcheck (rel tolerance {self.tolerance:.0e}, atol {self.atol:.0e}): {verdict}"]
        for c in self.inputs:
            lines.append(
                f"  input {c.index} {c.shape}: rel error {c.rel_error:.2e}, "
                f"max abs error {c.max_abs_error:.2e} {'ok' if c.passed else 'FAILED'}"
            )
        return "\n".join(lines)


def gradcheck(
    f: Callable[..., Tensor],
    *arrays: Array,
    dout: Array | None = None,
    h: float = 1e-5,
    tolerance: float = 1e-6,
    atol: float = 1e-8,
    seed: int = 0,
) -> GradcheckResult:
    """Check the engine's gradient of ``f`` against central differences, for every input.

    ``f`` takes one Tensor per array and returns a Tensor. The arrays are used in float64.
    ``dout`` (the upstream gradient) defaults to standard normal noise from ``seed``. An input
    passes when its cs231n relative error is at most ``tolerance``, or when every element is
    within ``atol`` of the numerical value: where the true gradient is 0 (d(x³)/dx at 0) the
    relative error only measures the numerical gradient's own ~h² truncation error.
    """
    if not arrays:
        raise ValueError("gradcheck needs at least one input array")
    values = [np.array(as_float_array(a, f"input {i}"), dtype=np.float64)
              for i, a in enumerate(arrays)]
    leaves = [Tensor(v) for v in values]
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"f must return a Tensor, got {type(out).__name__}")
    if dout is None:
        dout = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(dout)

    checks = []
    for i, leaf in enumerate(leaves):
        def f_i(x: Array, i: int = i) -> Array:
            args: Sequence[Tensor] = [Tensor(x) if j == i else Tensor(v)
                                      for j, v in enumerate(values)]
            return f(*args).data

        numeric = numerical_gradient(f_i, values[i], dout, h)
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(values[i])
        err = rel_error(analytic, numeric)
        abs_err = float(np.max(np.abs(analytic - numeric), initial=0.0))
        passed = err <= tolerance or abs_err <= atol
        checks.append(InputCheck(i, values[i].shape, err, abs_err, passed))
    return GradcheckResult(tuple(checks), tolerance, atol)
