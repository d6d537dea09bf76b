"""Tests for the hand-written batch norm passes in ``autograd_bn.bn.manual``."""

from collections.abc import Callable
from itertools import combinations

import numpy as np
import pytest

from autograd_bn.bn.manual import (
    BACKWARDS,
    analytical_terms,
    backward_staged_intermediates,
    batchnorm_forward,
    check_inputs,
)

PASSES = list(BACKWARDS)


# rel_error and numerical_gradient are written out here on purpose, as cs231n writes them, and
# not imported from autograd_bn.engine.gradcheck: the hand-written passes are checked against an
# oracle that shares no code with the package.


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    """cs231n's relative error: largest elementwise ``|a - b| / max(1e-8, |a| + |b|)``."""
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))


def numerical_gradient(
    f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference gradient of ``sum(f(x) * df)`` with respect to ``x``.

    Like cs231n's ``eval_numerical_gradient_array``: ``x`` is perturbed in place, one entry at
    a time, and restored afterwards.
    """
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        plus = f(x).copy()
        x[idx] = old - h
        minus = f(x).copy()
        x[idx] = old
        grad[idx] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def cs231n_case(n: int = 4, d: int = 5) -> tuple[np.ndarray, ...]:
    """The data of cs231n's batch norm gradient check (seed 231)."""
    np.random.seed(231)
    x = 5 * np.random.randn(n, d) + 12
    gamma = np.random.randn(d)
    beta = np.random.randn(d)
    dout = np.random.randn(n, d)
    return x, gamma, beta, dout


# --- forward ---------------------------------------------------------------------------


def test_forward_normalises_columns() -> None:
    x, gamma, beta, _ = cs231n_case()
    out, _ = batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out.mean(axis=0), beta, atol=1e-12)
    # std of out is |gamma| * sqrt(var / (var + eps)); var ~ 25 here, so within 1e-6.
    np.testing.assert_allclose(out.std(axis=0), np.abs(gamma), rtol=1e-6)


def test_forward_cache_order_and_types() -> None:
    x, gamma, beta, _ = cs231n_case()
    out, cache = batchnorm_forward(x, gamma, beta, eps=1e-3)
    assert isinstance(cache, tuple) and len(cache) == 7
    cx, mean, var, std, cgamma, x_hat, eps = cache
    for arr in (cx, mean, var, std, cgamma, x_hat, out):
        assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    assert isinstance(eps, float) and eps == 1e-3
    np.testing.assert_array_equal(cx, x)
    np.testing.assert_array_equal(cgamma, gamma)
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-15)
    np.testing.assert_allclose(var, x.var(axis=0), rtol=1e-13)  # biased: divides by N
    np.testing.assert_allclose(std, np.sqrt(var + eps), rtol=1e-15)
    np.testing.assert_allclose(x_hat, (x - mean) / std, rtol=1e-15)
    np.testing.assert_allclose(out, gamma * x_hat + beta, rtol=1e-15)
    assert mean.shape == var.shape == std.shape == (5,)
    assert x_hat.shape == (4, 5)


def test_forward_single_row() -> None:
    x = np.array([[3.0, -7.0, 0.5]])
    gamma = np.array([2.0, -1.0, 4.0])
    beta = np.array([0.1, 0.2, 0.3])
    out, (_, mean, var, std, _, x_hat, eps) = batchnorm_forward(x, gamma, beta, eps=1e-4)
    np.testing.assert_array_equal(mean, x[0])
    np.testing.assert_array_equal(var, 0.0)
    np.testing.assert_array_equal(std, np.sqrt(1e-4))
    np.testing.assert_array_equal(x_hat, 0.0)
    np.testing.assert_array_equal(out, beta[None, :])


@pytest.mark.parametrize("name", PASSES)
def test_backward_single_row(name: str) -> None:
    x = np.array([[3.0, -7.0, 0.5]])
    gamma = np.array([2.0, -1.0, 4.0])
    dout = np.array([[0.3, -1.2, 2.0]])
    _, cache = batchnorm_forward(x, gamma, np.zeros(3))
    dx, dgamma, dbeta = BACKWARDS[name](dout, cache)
    # out = beta does not depend on x or gamma.
    np.testing.assert_allclose(dx, 0.0, atol=1e-12)
    np.testing.assert_array_equal(dgamma, 0.0)
    np.testing.assert_array_equal(dbeta, dout[0])


# --- dtypes ------------------------------------------------------------------------------


def test_float32_stays_float32() -> None:
    x, gamma, beta, dout = (a.astype(np.float32) for a in cs231n_case())
    out, cache = batchnorm_forward(x, gamma, beta)
    assert out.dtype == np.float32
    assert all(a.dtype == np.float32 for a in cache[:6])
    for name, backward in BACKWARDS.items():
        # float64 dout is cast to the cache's dtype.
        for grad in backward(dout.astype(np.float64), cache):
            assert grad.dtype == np.float32, name


@pytest.mark.parametrize(
    ("x_dtype", "gamma_dtype", "expected"),
    [
        (np.int64, np.int64, np.float64),
        (np.int32, np.float32, np.float64),
        (np.bool_, np.float64, np.float64),
        (np.float32, np.float64, np.float64),
        (np.float16, np.float16, np.float32),
    ],
)
def test_working_dtype(x_dtype: type, gamma_dtype: type, expected: type) -> None:
    x = np.array([[1, 0], [0, 1], [1, 1]]).astype(x_dtype)
    gamma = np.array([1, 2]).astype(gamma_dtype)
    beta = np.array([0, 1]).astype(gamma_dtype)
    x_out, gamma_out, beta_out, _ = check_inputs(x, gamma, beta, 1e-5)
    assert x_out.dtype == gamma_out.dtype == beta_out.dtype == expected
    out, _ = batchnorm_forward(x, gamma, beta)
    assert out.dtype == expected


def test_check_inputs_does_not_copy_working_dtype() -> None:
    x, gamma, beta, _ = cs231n_case()
    x_out, gamma_out, beta_out, eps = check_inputs(x, gamma, beta, 1e-5)
    assert x_out is x and gamma_out is gamma and beta_out is beta
    assert eps == 1e-5


# --- cs231n gradient check -----------------------------------------------------------------


@pytest.mark.parametrize("name", PASSES)
def test_gradient_check(name: str) -> None:
    x, gamma, beta, dout = cs231n_case()
    _, cache = batchnorm_forward(x, gamma, beta)
    dx, dgamma, dbeta = BACKWARDS[name](dout, cache)

    dx_num = numerical_gradient(lambda a: batchnorm_forward(a, gamma, beta)[0], x.copy(), dout)
    dgamma_num = numerical_gradient(lambda a: batchnorm_forward(x, a, beta)[0], gamma.copy(), dout)
    dbeta_num = numerical_gradient(lambda a: batchnorm_forward(x, gamma, a)[0], beta.copy(), dout)

    assert rel_error(dx, dx_num) < 1e-8
    assert rel_error(dgamma, dgamma_num) < 1e-8
    assert rel_error(dbeta, dbeta_num) < 1e-8


def test_passes_agree_cs231n_case() -> None:
    x, gamma, beta, dout = cs231n_case()
    _, cache = batchnorm_forward(x, gamma, beta)
    grads = {name: backward(dout, cache) for name, backward in BACKWARDS.items()}
    for a, b in combinations(PASSES, 2):
        for ga, gb in zip(grads[a], grads[b], strict=True):
            assert rel_error(ga, gb) < 1e-12, (a, b)


def test_backwards_registry() -> None:
    assert PASSES == ["staged", "analytical", "compact", "paper"]
    assert all(callable(f) for f in BACKWARDS.values())


# --- staged intermediates ------------------------------------------------------------------


def test_staged_intermediates_names_and_shapes() -> None:
    x, gamma, beta, dout = cs231n_case()
    _, cache = batchnorm_forward(x, gamma, beta)
    inter = backward_staged_intermediates(dout, cache)
    nd, d = (4, 5), (5,)
    expected = {
        "d10": nd,
        "d8_3": nd,
        "d8_7": d,
        "d7": d,
        "d6": d,
        "d5": nd,
        "d4": nd,
        "d3_1": nd,
        "d3_2": d,
        "d2": nd,
        "dx": nd,
        "dgamma": d,
        "dbeta": d,
    }
    assert list(inter) == list(expected)
    assert {k: v.shape for k, v in inter.items()} == expected
    dx, dgamma, dbeta = BACKWARDS["staged"](dout, cache)
    for got, key in ((dx, "dx"), (dgamma, "dgamma"), (dbeta, "dbeta")):
        np.testing.assert_array_equal(got, inter[key])


def test_staged_intermediates_values() -> None:
    x, gamma, beta, dout = cs231n_case()
    _, cache = batchnorm_forward(x, gamma, beta)
    _, mean, var, std, _, _, eps = cache
    inter = backward_staged_intermediates(dout, cache)
    np.testing.assert_allclose(inter["d10"], dout * gamma)  # dL/dx_hat
    np.testing.assert_allclose(inter["d3_1"] + inter["d2"], inter["dx"])
    # d6 is dL/dvar: compare with the paper's formula.
    dvar = (dout * gamma * (x - mean)).sum(axis=0) * -0.5 * (var + eps) ** -1.5
    np.testing.assert_allclose(inter["d6"], dvar, rtol=1e-12)
    np.testing.assert_allclose(inter["dbeta"], dout.sum(axis=0))


def test_analytical_terms() -> None:
    x, gamma, beta, dout = cs231n_case()
    _, cache = batchnorm_forward(x, gamma, beta)
    terms = analytical_terms(dout, cache)
    for key in ("dL_v_x", "dL_mu", "dL_mu2", "d_mu_x", "dx", "dx_without_dL_mu2"):
        assert key in terms
    np.testing.assert_array_equal(terms["dL_mu2"], -terms["dL_v_x"])
    dx_compact = BACKWARDS["compact"](dout, cache)[0]
    for key in ("dx", "dx_without_dL_mu2", "dx_chain_rule"):
        assert rel_error(terms[key], dx_compact) < 1e-12, key
