"""The inputs every command works on: a random BN problem, reproducible from a seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DTYPES = ("float64", "float32")
MAX_SEED = 2**32 - 1
"""numpy's legacy generator (the one cs231n seeds) takes seeds up to this."""


@dataclass(frozen=True)
class Problem:
    """A BN problem: an (N, D) batch ``x``, ``gamma`` and ``beta`` (D,), an upstream ``dout``."""

    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    dout: np.ndarray
    eps: float
    seed: int

    @property
    def shape(self) -> tuple[int, int]:
        n, d = self.x.shape
        return n, d


def make_problem(
    n: int = 4, d: int = 5, seed: int = 0, dtype: str = "float64", eps: float = 1e-5, *,
    with_dout: bool = True,
) -> Problem:
    """Random inputs drawn as in cs231n's BN gradient check.

    ``np.random.seed(seed)``, then ``x = 5·randn(N, D) + 12``, ``gamma = randn(D)``,
    ``beta = randn(D)``, ``dout = randn(N, D)``, in that order, in float64, then cast to
    ``dtype``: seed 231 with N=4, D=5 reproduces the assignment's numbers exactly.
    ``with_dout=False`` (for a forward pass alone) does not draw dout: it is zeros that take
    no memory (a read-only broadcast of one number).
    """
    for name, value in (("N", n), ("D", d), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
    if seed > MAX_SEED:
        raise ValueError(f"seed must be at most 2**32 - 1 = {MAX_SEED}, got {seed}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    rng = np.random.RandomState(seed)
    x = rng.randn(n, d)
    x *= 5  # (in place: no (N, D) temporaries; the same numbers as 5 * randn + 12)
    x += 12
    gamma = rng.randn(d)
    beta = rng.randn(d)
    x, gamma, beta = (a.astype(dtype, copy=False) for a in (x, gamma, beta))
    dout = (rng.randn(n, d).astype(dtype, copy=False) if with_dout
            else np.broadcast_to(np.zeros((), dtype), (n, d)))
    return Problem(x, gamma, beta, dout, float(eps), int(seed))
