"""BN built from the engine's primitives: the seed's twelve nodes, its gradients, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm, rel_error
from autograd_bn.bn import manual
from autograd_bn.bn.primitives import SEED_LABELS
from autograd_bn.bn.problem import make_problem


def test_the_graph_carries_the_seeds_twelve_labels() -> None:
    p = make_problem(4, 5, 0)
    out = batchnorm(p.x, p.gamma, p.beta)
    labels = {node.label for node in out.nodes()}
    assert set(SEED_LABELS.values()) <= labels
    assert labels - set(SEED_LABELS.values()) == {"ε", "(5)+ε"}
    ops = {node.label: node.op for node in out.nodes()}
    assert ops["(2) mean"] == "mean" and ops["(7) 1/(6)"] == "reciprocal"
    assert ops["(6) std"] == "sqrt" and ops["(12) out"] == "add" and ops["(1) x"] is None


@pytest.mark.parametrize("dtype, tol", [("float64", 1e-12), ("float32", 1e-4)])
def test_engine_matches_the_seeds_staged_pass(dtype: str, tol: float) -> None:
    p = make_problem(6, 3, 231, dtype)
    x, gamma, beta = Tensor(p.x), Tensor(p.gamma), Tensor(p.beta)
    out = batchnorm(x, gamma, beta, p.eps)
    out.backward(p.dout)
    expected_out, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
    dx, dgamma, dbeta = manual.backward_staged(p.dout, cache)
    assert out.dtype == x.grad.dtype == np.dtype(dtype)
    for got, want in ((out.data, expected_out), (x.grad, dx), (gamma.grad, dgamma),
                      (beta.grad, dbeta)):
        assert rel_error(got, want) < tol


def test_given_tensors_keep_their_labels() -> None:
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2)), label="activations")
    out = batchnorm(x, np.ones(2), np.zeros(2))
    names = [node.label for node in out.nodes()]
    assert "activations" in names and "(1) x" not in names and "(9) γ" in names


def test_a_batch_of_one() -> None:
    """N = 1: var = 0, std = √ε, x̂ = 0, so out = β and dx = 0."""
    out = batchnorm(np.array([[3.0, -1.0]]), np.array([2.0, 5.0]), np.array([0.5, 0.25]))
    np.testing.assert_array_equal(out.data, [[0.5, 0.25]])
    x = out.nodes()[0]
    out.backward(np.array([[1.0, 1.0]]))
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-12)


@pytest.mark.parametrize("x, gamma, beta, eps, error, message", [
    (np.ones(4), np.ones(4), np.ones(4), 1e-5, ValueError,
     r"x must be 2-D \(N, D\), got shape \(4,\)"),
    (np.ones((2, 3)), np.ones(2), np.ones(3), 1e-5, ValueError,
     r"gamma must have shape \(D,\) = \(3,\), got shape \(2,\)"),
    (np.ones((2, 3)), np.ones(3), np.ones((1, 3)), 1e-5, ValueError, r"beta must have shape"),
    (np.ones((0, 3)), np.ones(3), np.ones(3), 1e-5, ValueError, "empty batch"),
    (np.ones((2, 3)), np.ones(3), np.ones(3), 0.0, ValueError, "eps must be a finite number > 0"),
    (np.ones((2, 3)), np.ones(3), np.ones(3), -1.0, ValueError, "eps must be a finite number > 0"),
    (np.ones((2, 3)), np.ones(3), np.ones(3), 10**400, ValueError,
     "eps must be a finite number > 0, got eps=1000"),
    (np.ones((2, 3)), np.ones(3), np.ones(3), np.float64("inf"), ValueError,
     "eps must be a finite number > 0, got eps=np.float64\\(inf\\)"),
    (np.ones((2, 3)), np.ones(3), np.ones(3), "1e-5", TypeError,
     "eps must be a real number, got str '1e-5'"),
    (np.array([["a", "b"]]), np.ones(2), np.ones(2), 1e-5, TypeError, "x must hold real numbers"),
    (Tensor(np.ones((2, 3), np.float32)), np.ones(3), np.ones(3), 1e-5, TypeError,
     "x is a float32 Tensor but the inputs together are float64"),
])
def test_bad_input(x: object, gamma: object, beta: object, eps: float, error: type,
                   message: str) -> None:
    with pytest.raises(error, match=message):
        batchnorm(x, gamma, beta, eps)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_x_is_refused_by_name_and_count(bad: float) -> None:
    x = np.ones((4, 3))
    x[1, 2] = bad
    with pytest.raises(ValueError, match=r"^x is not finite: it holds 1 NaN or infinite value"):
        batchnorm(x, np.ones(3), np.zeros(3))


def test_a_finite_x_whose_column_sums_overflow_is_refused_naming_the_mean() -> None:
    x = np.array([[1e308, 1.0], [1e308, 2.0]])  # the first column's sum overflows to inf
    with pytest.raises(ValueError, match=r"^\(2\) mean overflowed to inf in float64"):
        batchnorm(x, np.ones(2), np.zeros(2))  # (it used to go on and return NaN)


def test_a_refused_call_leaves_the_callers_tensors_as_they_were() -> None:
    x, gamma = Tensor([[1.0, np.nan], [2.0, 3.0]]), Tensor([1.0, 1.0])
    with pytest.raises(ValueError, match="^x is not finite"):
        batchnorm(x, gamma, np.zeros(2))
    assert x.label is None and gamma.label is None
    batchnorm(Tensor([[1.0, 2.0], [2.0, 3.0]]), gamma, np.zeros(2))
    assert gamma.label == "(9) γ"


def test_an_x_with_both_infinities_warns_once_and_is_refused() -> None:
    import warnings

    x = np.array([[np.inf, 1.0], [-np.inf, 2.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="^x is not finite: it holds 2 NaN or infinite"):
            batchnorm(x, np.ones(2), np.zeros(2))
    assert len(caught) <= 1  # numpy's own "invalid value" from inf − inf in the mean
