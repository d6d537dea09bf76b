"""A gradient too large for its dtype is an error that names the edge, never a silent inf;
infinities that are the true answer (a derivative at a kink, an overflowed forward) pass."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm
from autograd_bn.engine import kernels
from autograd_bn.engine.show import GradientOverflowError


def test_bn_backward_overflow_in_float32_names_the_edge() -> None:
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    out = batchnorm(x, np.ones(5, np.float32), np.zeros(5, np.float32))
    with pytest.raises(GradientOverflowError, match=re.escape(
            "the gradient overflowed on its way back from (12) out to (11) β: it passed "
            "float32's largest number 3.4e+38, and what is too large is the gradient arriving "
            "there (the gradient of (12) out is up to 3.0e+38); scale the output gradient "
            "down, or use float64")):
        out.backward(np.full((4, 5), 3e38, np.float32))


def test_a_local_derivative_too_large_is_named_by_op_and_shape() -> None:
    x = Tensor([1e-200, 1.0])
    with pytest.raises(GradientOverflowError, match=re.escape(
            "from a reciprocal node of shape (2,) to an input of shape (2,): it passed "
            "float64's largest number 1.8e+308, and what is too large is the local "
            "derivative of a reciprocal node of shape (2,) with respect to an input of shape "
            "(2,), at these values (the gradient of a reciprocal node of shape (2,) is up to "
            "1.0e+00); keep the inputs away from where that derivative blows up")) as caught:
        x.reciprocal().sum().backward()
    assert "use float64" not in str(caught.value)  # it is float64 already
    assert isinstance(caught.value, ValueError)  # (as BN's overflow error is)


def test_two_parts_that_overflow_when_added_are_named() -> None:
    x = Tensor([1e-10], label="x")
    total = (x * 1e308 + x * 1e308).sum()  # 2e298: the forward pass is fine
    with pytest.raises(GradientOverflowError, match=re.escape(
            "the gradients reaching x overflowed when added up (the one from a mul_scalar "
            "node of shape (1,) is up to 1.0e+308)")):
        total.backward()
    y = Tensor(1.0, label="y")
    with pytest.raises(GradientOverflowError, match="the gradients reaching y overflowed "
                                                    "when added up .the one from an add node"):
        (y + y).backward(np.float64(1e308))


def test_a_leaf_gradient_that_overflows_over_passes_says_zero_grad() -> None:
    x = Tensor([1.0], label="x")
    y = (x * 1e308).sum()
    y.backward()
    with pytest.raises(GradientOverflowError, match=re.escape(
            "adding this pass's gradient of x to its .grad from earlier passes passed "
            "float64's largest number 1.8e+308: call zero_grad() between passes")):
        y.backward()
    assert x.grad is not None and x.grad[0] == 1e308  # the earlier pass's gradient is kept


def test_overflow_in_the_one_pass_product_sum_is_caught_too() -> None:
    """The fast kernel for γ's gradient (einsum) sets no overflow flag of numpy's: it falls
    back to numpy's ops when its sum is not finite, so fast and plain say the same."""
    for plain in (False, True):
        with kernels.plain_kernels(plain):
            gamma = Tensor(np.ones(64), label="gamma")
            x = Tensor(np.full((1024, 64), 1e300), requires_grad=False)
            assert x.size >= kernels.FUSE_FROM
            with pytest.raises(GradientOverflowError, match="back from a mul node of shape "
                                                            r"\(1024, 64\) to gamma"):
                (x * gamma).backward(np.full((1024, 64), 1e10))


def test_other_numpy_errors_the_caller_asked_for_are_not_called_overflow() -> None:
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError, match="divide by zero") as caught:
            Tensor(np.zeros(3)).sqrt().sum().backward()
    assert not isinstance(caught.value, GradientOverflowError)
    with np.errstate(over="ignore"):  # overflow in a backward pass is an error regardless
        with pytest.raises(GradientOverflowError):
            Tensor([1e-200]).reciprocal().sum().backward()


def test_true_infinities_are_not_overflow() -> None:
    """√x at 0 has an infinite derivative (a division by zero, not an overflow), and a
    forward pass that overflowed already gives an infinite gradient: both pass as numpy
    gives them, with numpy's own warning."""
    x = Tensor([0.0, 4.0])
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        x.sqrt().sum().backward()
    assert x.grad is not None and np.isinf(x.grad[0]) and x.grad[1] == 0.25
    big = Tensor([1000.0])
    with pytest.warns(RuntimeWarning, match="overflow"):
        y = big.exp()
    y.sum().backward()
    assert big.grad is not None and np.isinf(big.grad[0])


def test_numpy_settings_are_restored_and_on_node_runs_under_them() -> None:
    before = np.geterr()
    seen: list[float] = []

    def on_node(node: Tensor, g: np.ndarray) -> None:
        seen.append(float((g * 1e308 * 10).max()))  # inf, by the caller's rules: no error

    x = Tensor([1.0])
    with np.errstate(over="ignore"):
        (x * 2).sum().backward(on_node=on_node)
    assert seen and all(np.isinf(v) for v in seen)
    with pytest.raises(GradientOverflowError):
        (Tensor([1e-300]) * 1e308 * 10).sum().backward()  # 1e9, but d/dx is 1e309
    assert np.geterr() == before


def test_checking_a_huge_but_finite_gamma_warns_of_nothing() -> None:
    """BN's input check sums gamma to see it is finite: the sum may overflow quietly."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (the sum 9e38 overflowing used to warn)
        out = batchnorm(np.ones((2, 3), np.float32), np.full(3, 3e38, np.float32),
                        np.zeros(3, np.float32))
    np.testing.assert_array_equal(out.data, np.zeros((2, 3)))  # x̂ = 0: out = β
