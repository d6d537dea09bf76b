"""Batch Normalisation built from the engine's primitives, node by node as in the seed's graph.

The engine derives its gradient; nothing here is BN-specific calculus. The twelve nodes carry
the seed's numbers and names as labels:

    (1) x          (2) mean = x.mean(0)     (3) x − mean          (4) (3)²
    (5) var = (4).mean(0)                   (6) std = sqrt((5) + ε)
    (7) 1/(6)      (8) x̂ = (3)·(7)          (9) γ                 (10) (8)·(9)
    (11) β         (12) out = (10) + (11)

Two more nodes have no number in the seed: the constant ε (a leaf of this graph's own, as the
seed draws it) and the sum (5)+ε under the square root, so ``out.nodes()`` lists 14 nodes.

The variance divides by N (the biased estimate), as in the seed, cs231n and the training-mode
forward pass of the paper. With N = 1 the variance is 0, std = √ε, x̂ = 0 and out = β: the
batch carries no information about scale, so BN's output is its shift alone (and dx = 0).
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from autograd_bn.bn.inputs import check_inputs
from autograd_bn.bn.overflow import BNOverflowError, forward_problem, output_problem
from autograd_bn.engine.blocks import block
from autograd_bn.engine.dtypes import refuse_non_finite
from autograd_bn.engine.tensor import Tensor

SEED_LABELS = {
    1: "(1) x", 2: "(2) mean", 3: "(3) x − mean", 4: "(4) (3)²", 5: "(5) var",
    6: "(6) std", 7: "(7) 1/(6)", 8: "(8) x̂", 9: "(9) γ", 10: "(10) (8)·(9)",
    11: "(11) β", 12: "(12) out",
}
"""The seed's node numbers and the labels `batchnorm` gives those nodes."""


def _array(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _leaf(given: Any, checked: np.ndarray, number: int) -> Tensor:
    """The caller's Tensor, or a new leaf (labelled) for an array."""
    if isinstance(given, Tensor):
        if given.data.dtype != checked.dtype:
            name = {1: "x", 9: "gamma", 11: "beta"}[number]
            raise TypeError(
                f"{name} is a {given.dtype} Tensor but the inputs together are {checked.dtype}: "
                "pass x, gamma and beta in one dtype (a Tensor is not converted)"
            )
        return given
    return Tensor(checked, label=SEED_LABELS[number])


def batchnorm(x: Any, gamma: Any, beta: Any, eps: float = 1e-5, *,
              name: str | None = None) -> Tensor:
    """Training-mode batch norm of an (N, D) ``x`` over axis 0, as a graph of engine ops.

    ``x``, ``gamma`` (D,) and ``beta`` (D,) may be Tensors (their labels are kept if they have
    one) or anything array-like (they become leaves labelled (1) x, (9) γ, (11) β). Returns
    node (12); call ``.backward(dout)`` on it and read ``x.grad``, ``gamma.grad``… or walk
    ``out.nodes()`` to see every intermediate gradient. ``name`` puts BN's own nodes (all but
    the inputs) in a block of that name (`autograd_bn.block`): the graph draws it as a box, or
    as one node when collapsed.

    Raises `ValueError` when x is not 2-D, the batch is empty, gamma or beta is not of shape
    (D,), or eps is not a finite number > 0; `autograd_bn.bn.overflow.BNOverflowError` (a
    `ValueError`) naming the step when a finite input overflows in the dtype (x ≈ 1e20 in
    float32: (x − mean)² is inf, and BN would silently return β); `TypeError` for non-numeric
    data, or for Tensors of a dtype other than the inputs' common one (the graph is built in
    one dtype).
    """
    x_arr, gamma_arr, beta_arr, eps = check_inputs(_array(x), _array(gamma), _array(beta), eps,
                                                   x_finite=False)
    x = _leaf(x, x_arr, 1)
    gamma = _leaf(gamma, gamma_arr, 9)
    beta = _leaf(beta, beta_arr, 11)
    # numpy's overflow warnings are silenced: overflow is checked, and named, in _normalise
    with block(name) if name is not None else contextlib.nullcontext(), \
            np.errstate(over="ignore", invalid="ignore"):
        return _normalise(x, gamma, beta, eps, x_arr)


def _normalise(x: Tensor, gamma: Tensor, beta: Tensor, eps: float, x_arr: np.ndarray) -> Tensor:
    epsilon = Tensor(np.asarray(eps, dtype=x_arr.dtype), label="ε", requires_grad=False)
    mean = _label(x.mean(axis=0), 2)
    centred = _label(x - mean, 3)
    squared = _label(centred**2, 4)
    var = _label(squared.mean(axis=0), 5)
    # One look at the (D,) variance, and a closer one only when it is not finite: a NaN or an
    # infinity in x makes its column's mean, and so the variance, NaN or infinite (so x itself
    # is checked only then: check_inputs would have made one more pass over all of x); and a
    # finite x can still overflow ((x − mean)² of x ≈ 1e20 in float32 is inf, and BN would
    # quietly return β).
    if not _finite(var.data):
        refuse_non_finite(x_arr, "x")
        problem = forward_problem(x_arr, mean.data, var.data, centred.data, squared.data)
        if problem is not None:
            raise BNOverflowError(problem)
    for given, number in ((x, 1), (gamma, 9), (beta, 11)):  # only once the inputs are good
        if given._label is None:
            given._label = SEED_LABELS[number]
    out = scale_and_shift(centred, var, epsilon, gamma, beta)
    if not _finite(out.data):  # (γ or β so large that γ·x̂ + β overflows)
        problem = output_problem(gamma.data, beta.data, x_arr.shape[0], out.data)
        if problem is not None:
            raise BNOverflowError(problem)
    return out


def scale_and_shift(centred: Tensor, var: Tensor, epsilon: Tensor, gamma: Tensor,
                    beta: Tensor) -> Tensor:
    """Nodes (5)+ε to (12): std = √(var + ε), x̂ = (x − mean)·(1/std), out = γ·x̂ + β (the
    whole family ends this way, whatever axes its mean and variance are over)."""
    shifted = var + epsilon
    shifted._label = "(5)+ε"
    std = _label(shifted.sqrt(), 6)
    inv_std = _label(std.reciprocal(), 7)
    x_hat = _label(centred * inv_std, 8)
    scaled = _label(x_hat * gamma, 10)
    return _label(scaled + beta, 12)


def _finite(array: np.ndarray) -> bool:
    """Whether every value is finite (no NaN, no infinity), at the price of a sum: a NaN or an
    infinity makes the sum non-finite. (A sum of finite values can overflow too: the closer
    look that follows a False finds nothing wrong then.)"""
    return math.isfinite(np.add.reduce(array, axis=None))


def _label(t: Tensor, number: int) -> Tensor:
    t._label = SEED_LABELS[number]  # (the setter's checks are for users: these are fine)
    return t
