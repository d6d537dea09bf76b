"""A gradient too large for its dtype is an error that names the edge, never a silent inf;
infinities that are the true answer (a derivative at a kink, an overflowed forward) pass."""

from __future__ import annotations

import re

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm
from autograd_bn.engine.show import GradientOverflowError


def test_bn_backward_overflow_in_float32_names_the_edge() -> None:
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    out = batchnorm(x, np.ones(5, np.float32), np.zeros(5, np.float32))
    with pytest.raises(GradientOverflowError, match=re.escape(
            "the gradient overflowed on its way back from (12) out to (11) β: it passed "
            "float32's largest number 3.4e+38 (the gradient of (12) out is up to 3.0e+38 in "
            "size), so it would be inf: scale the output gradient down or use float64")):
        out.backward(np.full((4, 5), 3e38, np.float32))


def test_a_local_derivative_too_large_is_named_by_op_and_shape() -> None:
    x = Tensor([1e-200, 1.0])
    with pytest.raises(GradientOverflowError, match=re.escape(
            "from a reciprocal node of shape (2,) to an input of shape (2,): it passed "
            "float64's largest number 1.8e+308")) as caught:
        x.reciprocal().sum().backward()
    assert "use float64" not in str(caught.value)  # it is float64 already


def test_two_parts_that_overflow_when_added_are_named() -> None:
    x = Tensor([1e-10], label="x")
    total = (x * 1e308 + x * 1e308).sum()  # 2e298: the forward pass is fine
    with pytest.raises(GradientOverflowError, match=r"on its way back from a mul_scalar node "
                                                    r"of shape \(1,\) to x"):
        total.backward()


def test_a_leaf_gradient_that_overflows_over_passes_says_zero_grad() -> None:
    x = Tensor([1.0], label="x")
    y = (x * 1e308).sum()
    y.backward()
    with pytest.raises(GradientOverflowError, match=re.escape(
            "adding this pass's gradient of x to its .grad from earlier passes passed "
            "float64's largest number 1.8e+308: call zero_grad() between passes")):
        y.backward()
    assert x.grad is not None and x.grad[0] == 1e308  # the earlier pass's gradient is kept


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
