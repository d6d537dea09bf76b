"""Hand-written Batch Normalisation: one forward pass and four backward passes.

Everything here is plain numpy and independent of the autodiff engine, so it can serve as
the reference the engine is checked against.

The forward pass is training-mode BN over axis 0 of an ``(N, D)`` input, with the biased
variance (divide by ``N``), as in the seed write-up and cs231n assignment 2.  Its cache is
``(x, mean, var, std, gamma, x_hat, eps)`` in that order, which is what every backward pass
unpacks.

The four backward passes compute the same gradients in four ways:

* ``backward_staged``: the seed's computational-graph version, one step per graph node;
* ``backward_analytical``: the seed's chain-rule version, which keeps the ``dL_mu2`` term;
* ``backward_compact``: the one-line formula of cs231n's ``batchnorm_backward_alt``;
* ``backward_paper``: the formulas on page 4 of Ioffe & Szegedy (2015).

Overflow: a finite input can still overflow in its dtype (x ≈ 1e20 in float32: (x − mean)² is
inf). Every pass then warns with a `BNOverflowWarning` (a `RuntimeWarning`) naming the step,
instead of numpy's anonymous warnings, and returns what numpy computed; the command line turns
the warning into an error. ``warnings.simplefilter("error", BNOverflowWarning)`` does the same.

Dtype convention: every computation stays in the dtype of the cache arrays, which is the
working dtype chosen by :func:`check_inputs` (float32 in, float32 out; integers and bools
become float64).
"""

import functools
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from autograd_bn.bn.inputs import check_dout as _check_dout
from autograd_bn.bn.inputs import check_inputs
from autograd_bn.bn.overflow import BNOverflowWarning, forward_problem, grads_problem
from autograd_bn.bn.overflow import output_problem as _output_problem

__all__ = [
    "BACKWARDS",
    "BNOverflowWarning",
    "Cache",
    "Grads",
    "analytical_terms",
    "backward_analytical",
    "backward_compact",
    "backward_paper",
    "backward_staged",
    "backward_staged_intermediates",
    "batchnorm_forward",
    "check_inputs",
]

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]
"""``(x, mean, var, std, gamma, x_hat, eps)``, as returned by :func:`batchnorm_forward`."""

Grads = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(dx, dgamma, dbeta)``, as returned by every backward pass."""


def batchnorm_forward(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float = 1e-5
) -> tuple[np.ndarray, Cache]:
    """Training-mode batch norm of an ``(N, D)`` batch over axis 0.

    ``mean`` and the biased ``var`` (divided by ``N``) are taken per column,
    ``std = sqrt(var + eps)``, ``x_hat = (x - mean) / std`` and ``out = gamma * x_hat + beta``.

    ``N = 1`` is allowed: then ``var = 0``, ``std = sqrt(eps)``, ``x_hat = 0`` and
    ``out = beta`` exactly, and every backward pass gives ``dx = 0`` (up to rounding).

    Returns:
        ``(out, cache)`` with ``cache = (x, mean, var, std, gamma, x_hat, eps)``, all arrays
        in the working dtype of :func:`check_inputs`.  The cache refers to ``x`` itself when no
        conversion was needed, so do not modify ``x`` before the backward pass.
    """
    x, gamma, beta, eps = check_inputs(x, gamma, beta, eps)
    with np.errstate(over="ignore", invalid="ignore"):  # checked, and named, below
        mean = x.mean(axis=0)
        var = ((x - mean) ** 2).mean(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mean) / std
        out = gamma * x_hat + beta
        problem = forward_problem(x, mean, var) or _output_problem(gamma, beta, len(x), out)
    if problem is not None:
        warnings.warn(f"batchnorm_forward: {problem}", BNOverflowWarning, stacklevel=2)
    return out, (x, mean, var, std, gamma, x_hat, eps)


def _check_grads(method: str, arrays: dict[str, np.ndarray]) -> None:
    """Warn with `BNOverflowWarning` naming the first of ``arrays`` that holds inf or NaN (dx,
    dgamma and dbeta cost one sum each; the others are read only when one of those is bad)."""
    with np.errstate(over="ignore", invalid="ignore"):
        problem = grads_problem(method, arrays)
    if problem is not None:
        warnings.warn(problem, BNOverflowWarning, stacklevel=3)


_QUIET = functools.partial(np.errstate, over="ignore", invalid="ignore", divide="ignore")
"""numpy's anonymous overflow warnings, silenced where `_check_grads` names the step."""


def backward_staged_intermediates(dout: ArrayLike, cache: Cache) -> dict[str, np.ndarray]:
    """The seed's computational-graph backward pass, returning every intermediate gradient.

    Node numbers follow the seed's graph: (3) = x - mean, (6) = std, (7) = 1/std,
    (8) = x_hat, (10) = gamma * x_hat.  ``d8_3`` is the gradient reaching (3) through (8),
    ``d8_7`` the one reaching (7).  Shapes: ``d5``, ``d2`` and all of
    ``d10, d8_3, d4, d3_1, dx`` are ``(N, D)``; ``d8_7, d7, d6, d3_2, dgamma, dbeta`` are
    ``(D,)``.
    """
    x, sample_mean, sample_var, sample_std, gamma, x_hat, eps = cache
    dout = _check_dout(dout, x)
    with _QUIET():
        grads = _staged(dout, cache)
    _check_grads("staged", grads)
    return grads


def _staged(dout: np.ndarray, cache: Cache) -> dict[str, np.ndarray]:
    x, sample_mean, sample_var, sample_std, gamma, x_hat, eps = cache
    N, D = dout.shape
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)

    step3 = x - sample_mean
    d10 = dout * gamma
    d8_3 = d10 * (1 / sample_std)
    d8_7 = (d10 * step3).sum(axis=0)
    d7 = -d8_7 / (sample_var + eps)
    d6 = d7 * 0.5 / sample_std
    d5 = d6 / N * np.ones(shape=(N, D), dtype=x.dtype)
    d4 = d5 * 2 * step3
    d3_1 = d4 + d8_3
    d3_2 = -1 * (d4 + d8_3).sum(axis=0)
    d2 = d3_2 / N * np.ones(shape=(N, D), dtype=x.dtype)
    dx = d2 + d3_1
    return {
        "d10": d10,
        "d8_3": d8_3,
        "d8_7": d8_7,
        "d7": d7,
        "d6": d6,
        "d5": d5,
        "d4": d4,
        "d3_1": d3_1,
        "d3_2": d3_2,
        "d2": d2,
        "dx": dx,
        "dgamma": dgamma,
        "dbeta": dbeta,
    }


def backward_staged(dout: ArrayLike, cache: Cache) -> Grads:
    """Backward pass along the seed's computational graph (see
    :func:`backward_staged_intermediates`)."""
    grads = backward_staged_intermediates(dout, cache)
    return grads["dx"], grads["dgamma"], grads["dbeta"]


def analytical_terms(dout: ArrayLike, cache: Cache) -> dict[str, np.ndarray]:
    """The terms of the seed's chain-rule backward pass, with ``S`` = sum over axis 0.

    Keys (``y`` = ``x_hat``, ``L`` the loss):
        ``dx_scaled``: ``dout * gamma / (N * std)``, the seed's temporary ``dx``;
        ``dL_v_x``: ``-S(dx_scaled * x_hat) * x_hat`` = dL/dv * dv/dx, the variance path;
        ``dL_mu``: ``-N * dx_scaled`` = dL/dy * dy/dmean; ``-dL_mu`` is the direct path
        ``x -> x_hat``;
        ``dL_mu2``: ``-dL_v_x``, the seed's term for the path ``x -> mean -> var``;
        ``d_mu_x``: ``S(-dx_scaled + dL_mu2)``, everything reaching ``x`` through the mean;
        ``dx``: ``dL_v_x - dL_mu + d_mu_x``, the seed's answer;
        ``dx_without_dL_mu2``: the same with ``d_mu_x = -S(dx_scaled)``, cs231n's answer;
        ``dx_chain_rule``: the same with ``d_mu_x = S(-dx_scaled + dL_mu2 / N)``;
        ``dgamma``, ``dbeta``.

    In real arithmetic ``S(dL_mu2) = S(dx_scaled * x_hat) * S(x_hat)`` is exactly 0 because
    ``S(x_hat) = S(x - mean) / std = 0``, so all three ``dx`` variants are equal.  The
    chain rule term dL/dv * dv/dmean * dmean/dx is ``S(dL_mu2) / N``: the seed's code (unlike
    its own formula, which has ``1/N`` twice) is ``N`` times too large, harmless in exact
    arithmetic (``N * 0 = 0``) but it multiplies a rounding residue by ``N``.  See
    `autograd_bn.check.explain.explain_dl_mu2` for the numbers.
    """
    x, mean, var, std, gamma, x_hat, eps = cache
    dout = _check_dout(dout, x)
    with _QUIET():
        terms = _analytical(dout, cache)
    _check_grads("analytical", terms)
    return terms


def _analytical(dout: np.ndarray, cache: Cache) -> dict[str, np.ndarray]:
    x, mean, var, std, gamma, x_hat, eps = cache
    N = dout.shape[0]

    def S(a: np.ndarray) -> np.ndarray:
        return a.sum(axis=0)

    dx_scaled = dout * gamma / (N * std)
    dL_v_x = -S(dx_scaled * x_hat) * x_hat
    dL_mu = -N * dx_scaled
    dL_mu2 = -dL_v_x
    d_mu_x = S(-dx_scaled + dL_mu2)
    return {
        "dx_scaled": dx_scaled,
        "dL_v_x": dL_v_x,
        "dL_mu": dL_mu,
        "dL_mu2": dL_mu2,
        "d_mu_x": d_mu_x,
        "dx": dL_v_x - dL_mu + d_mu_x,
        "dx_without_dL_mu2": dL_v_x - dL_mu - S(dx_scaled),
        "dx_chain_rule": dL_v_x - dL_mu + S(-dx_scaled + dL_mu2 / N),
        "dgamma": S(dout * x_hat),
        "dbeta": S(dout),
    }


def backward_analytical(dout: ArrayLike, cache: Cache) -> Grads:
    """The seed's chain-rule backward pass, keeping the ``dL_mu2`` term (see
    :func:`analytical_terms`)."""
    terms = analytical_terms(dout, cache)
    return terms["dx"], terms["dgamma"], terms["dbeta"]


def backward_compact(dout: ArrayLike, cache: Cache) -> Grads:
    """cs231n's one-line ``batchnorm_backward_alt``.

    ``dx = gamma / (N * std) * (N * dout - S(dout) - x_hat * S(dout * x_hat))``, where ``S``
    sums over the batch; note ``S(dout) = dbeta`` and ``S(dout * x_hat) = dgamma``.
    """
    x, mean, var, std, gamma, x_hat, eps = cache
    dout = _check_dout(dout, x)
    N = dout.shape[0]
    with _QUIET():
        dbeta = dout.sum(axis=0)
        dgamma = (dout * x_hat).sum(axis=0)
        dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)
    _check_grads("compact", {"dx": dx, "dgamma": dgamma, "dbeta": dbeta})
    return dx, dgamma, dbeta


def backward_paper(dout: ArrayLike, cache: Cache) -> Grads:
    """The backward pass as written on page 4 of Ioffe & Szegedy (2015).

    With ``dx_hat = dout * gamma`` and sums over the batch::

        dvar  = sum(dx_hat * (x - mean)) * (-1/2) * (var + eps) ** (-3/2)
        dmean = sum(dx_hat * (-1 / sqrt(var + eps))) + dvar * (-2/N) * sum(x - mean)
        dx    = dx_hat / sqrt(var + eps) + dvar * 2 * (x - mean) / N + dmean / N

    The paper keeps the ``dvar * (-2/N) * sum(x - mean)`` term, which is 0 in exact
    arithmetic; so is it kept here.
    """
    x, mean, var, std, gamma, x_hat, eps = cache
    dout = _check_dout(dout, x)
    N = dout.shape[0]
    with _QUIET():
        x_mu = x - mean
        var_eps = var + eps
        dx_hat = dout * gamma
        dvar = (dx_hat * x_mu).sum(axis=0) * -0.5 * var_eps**-1.5
        dmean = ((dx_hat * (-1 / np.sqrt(var_eps))).sum(axis=0)
                 + dvar * (-2 / N) * x_mu.sum(axis=0))
        dx = dx_hat / np.sqrt(var_eps) + dvar * 2 * x_mu / N + dmean / N
        dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
    _check_grads("paper", {"dx_hat": dx_hat, "dvar": dvar, "dmean": dmean, "dx": dx,
                           "dgamma": dgamma, "dbeta": dbeta})
    return dx, dgamma, dbeta


BACKWARDS: dict[str, Callable[[ArrayLike, Cache], Grads]] = {
    "staged": backward_staged,
    "analytical": backward_analytical,
    "compact": backward_compact,
    "paper": backward_paper,
}
"""The four backward passes by name, in a fixed order."""
