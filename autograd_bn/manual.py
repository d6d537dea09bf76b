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

Dtype convention: every computation stays in the dtype of the cache arrays, which is the
working dtype chosen by :func:`check_inputs` (float32 in, float32 out; integers and bools
become float64).
"""

from collections.abc import Callable
from numbers import Real

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "BACKWARDS",
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
    "explain_dl_mu2",
]

Cache = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]
"""``(x, mean, var, std, gamma, x_hat, eps)``, as returned by :func:`batchnorm_forward`."""

Grads = tuple[np.ndarray, np.ndarray, np.ndarray]
"""``(dx, dgamma, dbeta)``, as returned by every backward pass."""


def _as_real_array(value: ArrayLike, name: str) -> np.ndarray:
    """Return ``value`` as an array; bools and integers become float64, floats are kept."""
    arr = np.asarray(value)
    if arr.dtype.kind in "biu":
        return arr.astype(np.float64)
    if arr.dtype.kind != "f":
        raise TypeError(f"{name} must hold real numbers, got dtype {arr.dtype}")
    return arr


def check_inputs(
    x: ArrayLike, gamma: ArrayLike, beta: ArrayLike, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Validate batch-norm inputs and return ``(x, gamma, beta, eps)`` in one working dtype.

    The working dtype is ``np.result_type`` of the three arrays after bools and integers are
    turned into float64, and at least float32 (float16 is promoted).  So float32 inputs stay
    float32 and a float32/float64 mix becomes float64.  Arrays already in the working dtype
    are returned without a copy.

    Raises:
        TypeError: an array is complex, object, string or another non-real dtype, or ``eps``
            is not a real number.
        ValueError: ``x`` is not 2-D, the batch is empty (``N == 0``), ``gamma`` or ``beta``
            is not of shape ``(D,)``, or ``eps`` is not a finite number > 0 (also in the
            working dtype).
    """
    arrays = [_as_real_array(a, n) for a, n in ((x, "x"), (gamma, "gamma"), (beta, "beta"))]
    dtype = np.promote_types(np.result_type(*arrays), np.float32)
    x_arr, gamma_arr, beta_arr = (a.astype(dtype, copy=False) for a in arrays)

    if x_arr.ndim != 2:
        raise ValueError(f"x must be 2-D (N, D), got shape {x_arr.shape}")
    n, d = x_arr.shape
    if n == 0:
        raise ValueError(
            f"x has an empty batch (shape {x_arr.shape}); batch norm needs at least one row"
        )
    for name, arr in (("gamma", gamma_arr), ("beta", beta_arr)):
        if arr.shape != (d,):
            raise ValueError(f"{name} must have shape (D,) = ({d},), got shape {arr.shape}")

    if not isinstance(eps, Real) or isinstance(eps, bool):
        raise TypeError(f"eps must be a real number, got {type(eps).__name__} {eps!r}")
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a finite number > 0, got eps={eps!r}")
    if dtype != np.float64:  # a Python float is a float64 already: only narrower types can fail
        with np.errstate(over="ignore", under="ignore"):
            eps_working = dtype.type(eps)
        if not (np.isfinite(eps_working) and eps_working > 0):
            raise ValueError(f"eps={eps!r} is not a finite number > 0 in {dtype}")
    return x_arr, gamma_arr, beta_arr, float(eps)


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
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta
    return out, (x, mean, var, std, gamma, x_hat, eps)


def _check_dout(dout: ArrayLike, x: np.ndarray) -> np.ndarray:
    """Return ``dout`` in the dtype of ``x``, after checking it has the same shape as ``x``."""
    arr = _as_real_array(dout, "dout")
    if arr.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got shape {arr.shape}")
    return arr.astype(x.dtype, copy=False)


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
    :func:`explain_dl_mu2` for the numbers.
    """
    x, mean, var, std, gamma, x_hat, eps = cache
    dout = _check_dout(dout, x)
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
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = gamma / (N * std) * (N * dout - dbeta - x_hat * dgamma)
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
    x_mu = x - mean
    var_eps = var + eps
    dx_hat = dout * gamma
    dvar = (dx_hat * x_mu).sum(axis=0) * -0.5 * var_eps**-1.5
    dmean = (dx_hat * (-1 / np.sqrt(var_eps))).sum(axis=0) + dvar * (-2 / N) * x_mu.sum(axis=0)
    dx = dx_hat / np.sqrt(var_eps) + dvar * 2 * x_mu / N + dmean / N
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)


BACKWARDS: dict[str, Callable[[ArrayLike, Cache], Grads]] = {
    "staged": backward_staged,
    "analytical": backward_analytical,
    "compact": backward_compact,
    "paper": backward_paper,
}
"""The four backward passes by name, in a fixed order."""


def _rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """cs231n's ``rel_error``: the largest elementwise ``|a - b| / max(1e-8, |a| + |b|)``."""
    ratio = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(ratio, initial=0.0))


def explain_dl_mu2(dout: ArrayLike, cache: Cache) -> dict[str, float]:
    """Measure what keeping the ``dL_mu2`` term does to ``dx`` (the seed's open question).

    The seed saw its chain-rule ``dx`` (which keeps ``dL_mu2``) differ from the graph version
    by ~1e-10, while cs231n's answer (which drops the term) differed by ~5e-13.

    ``dL_mu2 = S(dx_scaled * x_hat) * x_hat`` itself is *not* small.  What reaches ``dx`` is
    its sum over the batch, ``S(dL_mu2) = S(dx_scaled * x_hat) * S(x_hat)``, added to every
    row.  In real arithmetic ``S(x_hat) = S(x - mean) / std = 0``, hence ``dv/dmean =
    -(2/N) S(x - mean) = 0`` and the term adds exactly nothing.  In floating point
    ``S(x - mean)`` is a rounding residue of order ``N * max|x| * machine_eps``, so keeping
    the term adds rounding noise and nothing else; no variant is more accurate.  The seed's
    code makes the noise ``N`` times larger than the chain rule would: the true term is
    ``S(dL_mu2) / N`` (see :func:`analytical_terms`).  The graph and paper versions keep the
    true term, at its true size, and stay at the usual rounding level.

    Measured (numpy 2.4, float64, ``np.random.seed(231)``, ``x = 5 * randn + 12``):

    * cs231n gradient check, ``N, D = 4, 5``: ``max|S(x - mean)|`` = 7e-15,
      ``max|dL_mu2|`` = 0.068, ``max|S(dL_mu2)|`` = 3e-17, ``max|dx_with - dx_without|`` =
      3e-17, both variants within 1.1e-16 of ``backward_compact``.  Against a central
      numerical gradient (h = 1e-5) every pass has the same relative error, 1.7e-9, which is
      the numerical gradient's own error: keeping the term is invisible there.
    * cs231n's ``batchnorm_backward`` vs ``batchnorm_backward_alt`` comparison,
      ``N, D = 100, 500``: ``max|S(x - mean)|`` = 1.1e-12, ``max|S(dL_mu2)|`` = 1.2e-14
      (the true chain-rule term is 1.2e-16), ``max|dx_with - dx_without|`` = 1.3e-14 against
      4e-16 between the other passes, and the smallest ``|dx|`` is 7e-7.  cs231n's elementwise
      relative error divides by ``|a| + |b|``, so 1.3e-14 of noise on a near-zero entry
      reads as 1.1e-10 (with ``dL_mu2``) against 5.8e-13 (without), versus the staged
      pass.  That is the seed's 1e-10 vs 5e-13: amplified rounding noise, not a difference in
      the mathematics.  With the term scaled by ``1/N`` it reads 3e-13 versus the staged pass.

    Returns a dict of Python floats, computed in the cache's dtype (``S`` = sum over axis 0):

    ``sum_x_minus_mean_max_abs``: ``max|S(x - mean)|`` as computed;
    ``sum_x_minus_mean_exact``: 0.0, its value in real arithmetic;
    ``dv_dmean_max_abs``: ``max|-(2/N) S(x - mean)|`` as computed (exact value 0);
    ``sum_x_hat_max_abs``: ``max|S(x_hat)|`` as computed (exact value 0);
    ``rounding_scale``: ``N * max|x| * machine_eps``, the order of magnitude of such residues;
    ``dL_mu2_max_abs``: ``max|dL_mu2|``, the term itself (not small);
    ``sum_dL_mu2_max_abs``: ``max|S(dL_mu2)|``, what keeping the term adds to each ``dx``;
    ``chain_rule_term_max_abs``: ``max|S(dL_mu2) / N|``, what the chain rule would add;
    ``dx_with_minus_without_max_abs``: ``max|dx_with - dx_without|``;
    ``dx_with_vs_compact_max_abs``, ``dx_without_vs_compact_max_abs``,
    ``dx_chain_rule_vs_compact_max_abs``: each variant's ``max|dx - dx_compact|``;
    ``dx_with_vs_compact_rel_error``, ``dx_without_vs_compact_rel_error``,
    ``dx_chain_rule_vs_compact_rel_error``: the same with cs231n's elementwise relative
    error ``max |a - b| / max(1e-8, |a| + |b|)``;
    ``dx_min_abs``: the smallest ``|dx_compact|``, which sets how much that relative error
    amplifies absolute noise.
    """
    x, mean, var, std, gamma, x_hat, eps = cache
    N = x.shape[0]
    terms = analytical_terms(dout, cache)
    dx_compact = backward_compact(dout, cache)[0]
    variants = {
        "with": terms["dx"],
        "without": terms["dx_without_dL_mu2"],
        "chain_rule": terms["dx_chain_rule"],
    }
    sum_x_mu = (x - mean).sum(axis=0)
    sum_dl_mu2 = terms["dL_mu2"].sum(axis=0)

    def max_abs(a: np.ndarray) -> float:
        return float(np.max(np.abs(a), initial=0.0))

    result = {
        "sum_x_minus_mean_max_abs": max_abs(sum_x_mu),
        "sum_x_minus_mean_exact": 0.0,
        "dv_dmean_max_abs": max_abs(-2 / N * sum_x_mu),
        "sum_x_hat_max_abs": max_abs(x_hat.sum(axis=0)),
        "rounding_scale": float(N * max_abs(x) * np.finfo(x.dtype).eps),
        "dL_mu2_max_abs": max_abs(terms["dL_mu2"]),
        "sum_dL_mu2_max_abs": max_abs(sum_dl_mu2),
        "chain_rule_term_max_abs": max_abs(sum_dl_mu2 / N),
        "dx_with_minus_without_max_abs": max_abs(variants["with"] - variants["without"]),
    }
    for name, dx in variants.items():
        result[f"dx_{name}_vs_compact_max_abs"] = max_abs(dx - dx_compact)
    for name, dx in variants.items():
        result[f"dx_{name}_vs_compact_rel_error"] = _rel_error(dx, dx_compact)
    result["dx_min_abs"] = float(np.min(np.abs(dx_compact), initial=np.inf))
    return result
