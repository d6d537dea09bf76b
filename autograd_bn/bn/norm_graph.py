"""The normalisation family built from the engine's ops, with the seed's numbered labels.

`normalise` is `autograd_bn.bn.primitives.batchnorm`'s graph over any ``axes`` (kept, so the
statistics broadcast back): (1) x, (2) mean, (3) x − mean, (4) (3)², (5) var, (6) std,
(7) 1/(6), (8) x̂, (9) γ, (10) (8)·(9), (11) β, (12) out. With Bessel's correction (5) is a
sum times 1/(M − 1). `normalise_test` is batch norm's test mode: (2) and (5) are the running
statistics, constants of the graph, and there is no (4).

Group norm needs x seen as (N, G, C/G, H, W): that view is made of the *array* before x
becomes a leaf (`autograd_bn.bn.layers`), so every op the engine differentiates is one it has.
"""

from __future__ import annotations

import numpy as np

from autograd_bn.bn.primitives import SEED_LABELS, scale_and_shift
from autograd_bn.engine.tensor import Tensor

Axes = tuple[int, ...]


def _label(t: Tensor, number: int, text: str | None = None) -> Tensor:
    t._label = text or SEED_LABELS[number]
    return t


def leaves(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> tuple[Tensor, Tensor, Tensor]:
    """x, γ and β as the graph's labelled leaves (arrays in their working/broadcast shapes)."""
    return (Tensor(x, label=SEED_LABELS[1]), Tensor(gamma, label=SEED_LABELS[9]),
            Tensor(beta, label=SEED_LABELS[11]))


def normalise(x: Tensor, gamma: Tensor, beta: Tensor, eps: float, axes: Axes, *,
              bessel: bool = False) -> Tensor:
    """Node (12) of the family's graph: γ·(x − mean)/√(var + ε) + β over ``axes``."""
    epsilon = Tensor(np.asarray(eps, dtype=x.dtype), label="ε", requires_grad=False)
    mean = _label(x.mean(axis=axes, keepdims=True), 2)
    centred = _label(x - mean, 3)
    squared = _label(centred**2, 4)
    if bessel:
        m = int(np.prod([x.shape[a] for a in axes]))
        if m < 2:
            raise ValueError("Bessel's correction divides by M − 1: it needs at least two values "
                             f"per statistic, got M = {m}")
        var = _label(squared.sum(axis=axes, keepdims=True) * (1.0 / (m - 1)), 5,
                     "(5) var (÷(M−1))")
    else:
        var = _label(squared.mean(axis=axes, keepdims=True), 5)
    return scale_and_shift(centred, var, epsilon, gamma, beta)


def normalise_test(x: Tensor, gamma: Tensor, beta: Tensor, eps: float,
                   running_mean: np.ndarray, running_var: np.ndarray) -> Tensor:
    """Node (12) of batch norm's test-mode graph: the running statistics are constants."""
    epsilon = Tensor(np.asarray(eps, dtype=x.dtype), label="ε", requires_grad=False)
    mean = Tensor(running_mean, label="(2) running mean", requires_grad=False)
    var = Tensor(running_var, label="(5) running var", requires_grad=False)
    centred = _label(x - mean, 3, "(3) x − running mean")
    return scale_and_shift(centred, var, epsilon, gamma, beta)
