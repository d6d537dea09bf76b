"""`autograd_bn.bn.inputs`: bad batch-norm inputs are refused with a message naming the
problem."""

import numpy as np
import pytest

from autograd_bn.bn.manual import BACKWARDS, batchnorm_forward, check_inputs

PASSES = list(BACKWARDS)


GOOD_X = np.ones((4, 5)) + np.arange(20.0).reshape(4, 5) ** 2


GOOD_G = np.ones(5)


GOOD_B = np.zeros(5)


@pytest.mark.parametrize(
    ("x", "gamma", "beta", "eps", "error", "match"),
    [
        (np.ones(3), np.ones(3), np.ones(3), 1e-5, ValueError,
         r"x must be 2-D \(N, D\), got shape \(3,\)"),
        (np.ones((2, 3, 4)), GOOD_G, GOOD_B, 1e-5, ValueError, r"2-D.*\(2, 3, 4\)"),
        (5.0, GOOD_G, GOOD_B, 1e-5, ValueError, r"2-D.*\(\)"),
        (np.ones((0, 5)), GOOD_G, GOOD_B, 1e-5, ValueError,
         r"empty batch.*\(0, 5\).*at least one row"),
        (GOOD_X, np.ones(4), GOOD_B, 1e-5, ValueError, r"gamma.*\(5,\).*got shape \(4,\)"),
        (GOOD_X, np.ones((1, 5)), GOOD_B, 1e-5, ValueError, r"gamma.*\(5,\).*\(1, 5\)"),
        (GOOD_X, GOOD_G, np.ones(6), 1e-5, ValueError, r"beta.*\(5,\).*got shape \(6,\)"),
        (GOOD_X, GOOD_G, 0.0, 1e-5, ValueError, r"beta.*\(5,\).*got shape \(\)"),
        (GOOD_X, GOOD_G, GOOD_B, 0.0, ValueError, r"eps.*> 0.*eps=0\.0"),
        (GOOD_X, GOOD_G, GOOD_B, -1e-5, ValueError, r"eps=-1e-05"),
        (GOOD_X, GOOD_G, GOOD_B, float("nan"), ValueError, r"eps=nan"),
        (GOOD_X, GOOD_G, GOOD_B, float("inf"), ValueError, r"eps=inf"),
        (GOOD_X.astype(np.float32), GOOD_G.astype(np.float32), GOOD_B.astype(np.float32),
         1e-50, ValueError, r"eps=1e-50.*float32"),
        (GOOD_X, GOOD_G, GOOD_B, "1e-5", TypeError, r"eps must be a real number.*str"),
        (GOOD_X, GOOD_G, GOOD_B, None, TypeError, r"eps must be a real number"),
        (GOOD_X + 1j, GOOD_G, GOOD_B, 1e-5, TypeError, r"x .*complex128"),
        (GOOD_X.astype(object), GOOD_G, GOOD_B, 1e-5, TypeError, r"x .*object"),
        (GOOD_X, np.array(list("abcde")), GOOD_B, 1e-5, TypeError, r"gamma .*<U1"),
        (GOOD_X, GOOD_G, GOOD_B.astype("datetime64[s]"), 1e-5, TypeError, r"beta .*datetime64"),
        (np.where(GOOD_X > 50, np.nan, GOOD_X), GOOD_G, GOOD_B, 1e-5, ValueError,
         r"^x is not finite: it holds 12 NaN or infinite value\(s\)$"),
        (GOOD_X, np.array([1, 2, np.inf, 4, 5]), GOOD_B, 1e-5, ValueError,
         r"^gamma is not finite: it holds 1 NaN"),
        (GOOD_X, GOOD_G, np.full(5, -np.inf), 1e-5, ValueError, r"^beta is not finite"),
    ],
)  # fmt: skip
def test_bad_inputs(
    x: object, gamma: object, beta: object, eps: object, error: type, match: str
) -> None:
    with pytest.raises(error, match=match):
        check_inputs(x, gamma, beta, eps)
    with pytest.raises(error, match=match):
        batchnorm_forward(x, gamma, beta, eps)


@pytest.mark.parametrize("name", PASSES)
@pytest.mark.parametrize("shape", [(3, 5), (4, 4), (5,), (4, 5, 1), (20,)])
def test_bad_dout_shape(name: str, shape: tuple[int, ...]) -> None:
    _, cache = batchnorm_forward(GOOD_X, GOOD_G, GOOD_B)
    pattern = r"dout.*\(4, 5\).*got shape " + repr(shape).replace("(", r"\(").replace(")", r"\)")
    with pytest.raises(ValueError, match=pattern):
        BACKWARDS[name](np.ones(shape), cache)


@pytest.mark.parametrize("name", PASSES)
def test_bad_dout_dtype(name: str) -> None:
    _, cache = batchnorm_forward(GOOD_X, GOOD_G, GOOD_B)
    with pytest.raises(TypeError, match="dout .*complex"):
        BACKWARDS[name](np.ones((4, 5)) * 1j, cache)


def test_int_dout_is_accepted() -> None:
    _, cache = batchnorm_forward(GOOD_X, GOOD_G, GOOD_B)
    dout = np.arange(20).reshape(4, 5)
    for backward in BACKWARDS.values():
        dx, _, dbeta = backward(dout, cache)
        assert dx.dtype == np.float64
        np.testing.assert_array_equal(dbeta, dout.sum(axis=0))
