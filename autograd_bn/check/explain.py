"""The seed's question, answered with numbers measured on the run: what does ``dL_mu2`` do?

The seed's chain-rule backward pass keeps a term ``dL_mu2`` for the path x → μ → v. It found
its dx "about 1e-10" away from the graph version, while cs231n's answer, which drops the term,
was 5e-13 away. In real arithmetic the term is exactly zero, because ``dv/dμ = −(2/N)·Σ(x − μ)``
and ``Σ(x − μ) = 0``. `explain_report` measures, for the run's problem and dtype, how far from
zero that sum is as computed, how large the term is, how much it moves dx, and how that
compares with the numerical gradient's own error; and it recomputes the comparison the seed's
two numbers come from (cs231n's ``batchnorm_backward`` against ``batchnorm_backward_alt`` on
N=100, D=500, seed 231, float64), so that nothing is quoted from memory.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from autograd_bn.bn import manual
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.metrics import max_abs, worst_entry
from autograd_bn.check.results import Comparison
from autograd_bn.engine.gradcheck import rel_error

__all__ = ["SEED_SETTING", "explain_dl_mu2", "explain_report"]

SEED_SETTING: dict[str, int | str] = {"N": 100, "D": 500, "seed": 231, "dtype": "float64"}
"""cs231n's check of ``batchnorm_backward`` against ``batchnorm_backward_alt``."""


def explain_dl_mu2(dout: ArrayLike, cache: manual.Cache) -> dict[str, float]:
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
    ``S(dL_mu2) / N`` (see `autograd_bn.bn.manual.analytical_terms`).  The graph and paper
    versions keep the true term, at its true size, and stay at the usual rounding level.

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

    Returns a dict of Python floats, computed in the cache's dtype (``S`` = sum over axis 0;
    the relative errors are `autograd_bn.engine.gradcheck.rel_error`, in float64):

    ``sum_x_minus_mean_max_abs``: ``max|S(x - mean)|`` as computed (exact value 0);
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
    terms = manual.analytical_terms(dout, cache)
    dx_compact = manual.backward_compact(dout, cache)[0]
    variants = {
        "with": terms["dx"],
        "without": terms["dx_without_dL_mu2"],
        "chain_rule": terms["dx_chain_rule"],
    }
    sum_x_mu = (x - mean).sum(axis=0)
    sum_dl_mu2 = terms["dL_mu2"].sum(axis=0)

    result = {
        "sum_x_minus_mean_max_abs": max_abs(sum_x_mu),
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
        result[f"dx_{name}_vs_compact_rel_error"] = rel_error(dx, dx_compact)
    result["dx_min_abs"] = float(np.min(np.abs(dx_compact), initial=np.inf))
    return result


def _this_run(c: Comparison) -> dict[str, Any]:
    p = c.problem
    _, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
    x, mean = cache[0], cache[1]
    terms = manual.analytical_terms(p.dout, cache)
    with_, without = terms["dx"], terms["dx_without_dL_mu2"]
    dx_auto = c.rows[0].grads[0]
    report: dict[str, Any] = {"N": p.shape[0], "D": p.shape[1], "seed": c.seed,
                              "dtype": c.dtype,
                              "sum_x_minus_mean": [float(v) for v in (x - mean).sum(axis=0)]}
    report.update(explain_dl_mu2(p.dout, cache))
    report.update({
        "dx_max_abs": max_abs(dx_auto),
        "with_vs_autograd_rel_error": rel_error(with_, dx_auto),
        "with_vs_autograd_max_abs": max_abs(with_ - dx_auto),
        "without_vs_autograd_rel_error": rel_error(without, dx_auto),
        "without_vs_autograd_max_abs": max_abs(without - dx_auto),
    })
    num = c.numerical_grads
    report.update({
        "autograd_vs_numerical_rel_error": None if num is None else rel_error(dx_auto, num[0]),
        "with_vs_numerical_rel_error": None if num is None else rel_error(with_, num[0]),
        "without_vs_numerical_rel_error": None if num is None else rel_error(without, num[0]),
    })
    return report


def _seed_setting() -> dict[str, Any]:
    s = SEED_SETTING
    p = make_problem(int(s["N"]), int(s["D"]), int(s["seed"]), str(s["dtype"]))
    _, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
    staged = manual.backward_staged(p.dout, cache)[0]
    terms = manual.analytical_terms(p.dout, cache)
    variants = {
        "with": terms["dx"],
        "without": terms["dx_without_dL_mu2"],
        "chain_rule": terms["dx_chain_rule"],
        "compact": manual.backward_compact(p.dout, cache)[0],
    }
    report: dict[str, Any] = dict(s)
    for name, dx in variants.items():
        report[f"{name}_vs_staged_rel_error"] = rel_error(dx, staged)
        report[f"{name}_vs_staged_max_abs"] = max_abs(dx - staged)
    worst = worst_entry(variants["with"], staged)
    measured = explain_dl_mu2(p.dout, cache)
    report.update({
        "worst_entry": [int(i) for i in worst],
        "worst_entry_dx": float(staged[worst]),
        "worst_entry_diff": float(abs(variants["with"][worst] - staged[worst])),
        "sum_x_minus_mean_max_abs": measured["sum_x_minus_mean_max_abs"],
        "sum_dL_mu2_max_abs": measured["sum_dL_mu2_max_abs"],
        "dx_min_abs": measured["dx_min_abs"],
    })
    return report


def explain_report(comparison: Comparison) -> dict[str, Any]:
    """The numbers behind the explanation: ``{"this_run": {...}, "seed_setting": {...}}``.

    ``this_run`` holds `explain_dl_mu2` for the comparison's problem (in its
    dtype), ``sum_x_minus_mean`` per column, and the relative errors of dx with and without
    ``dL_mu2`` against autograd and (None when it was skipped) the numerical gradient.
    ``seed_setting`` recomputes cs231n's N=100, D=500, seed 231 float64 comparison, each
    variant's dx against the staged (graph) pass, as in the seed.
    """
    return {"this_run": _this_run(comparison), "seed_setting": _seed_setting()}
