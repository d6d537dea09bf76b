"""Property tests: the four hand-written passes agree on random shapes and data (hypothesis)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd_bn.bn.manual import BACKWARDS, batchnorm_forward


@st.composite
def bn_cases(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 8))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.floats(0.5, 10.0))
    offset = draw(st.floats(-20.0, 20.0))
    rng = np.random.default_rng(seed)
    x = offset + scale * rng.standard_normal((n, d))
    gamma = rng.standard_normal(d)
    beta = rng.standard_normal(d)
    dout = rng.standard_normal((n, d))
    return x, gamma, beta, dout


def _tolerance(dout: np.ndarray, cache: tuple) -> float:
    """Absolute tolerance for comparing gradients computed from ``cache``.

    Rounding in ``x - mean`` is amplified by ``max|x| / min(std)`` (how far the data sit from
    zero compared with their spread), summing over the batch adds a factor ``N``, and the
    gradients are at most about ``3 * max|dout| * (max|gamma / std| + 1)``.  Measured
    differences stay below 0.12 of this bound; the factor 8 leaves a wide margin.
    """
    x, _, _, std, gamma, _, _ = cache
    unit = float(np.finfo(x.dtype).eps)
    condition = 1.0 + float(np.max(np.abs(x)) / np.min(std))
    grad_scale = 3.0 * float(np.max(np.abs(dout))) * (float(np.max(np.abs(gamma) / std)) + 1.0)
    return 8.0 * unit * condition * x.shape[0] * grad_scale


def _assert_agree(grads: dict, tol: float) -> None:
    reference = grads["compact"]
    for name, got in grads.items():
        for label, g, r in zip(("dx", "dgamma", "dbeta"), got, reference, strict=True):
            err = float(np.max(np.abs(g - r)))
            assert err <= tol, f"{name} {label}: {err} > {tol}"


@settings(max_examples=200, deadline=None)
@given(bn_cases())
def test_passes_agree_float64(case: tuple[np.ndarray, ...]) -> None:
    x, gamma, beta, dout = case
    _, cache = batchnorm_forward(x, gamma, beta)
    grads = {name: backward(dout, cache) for name, backward in BACKWARDS.items()}
    for name, got in grads.items():
        assert [g.shape for g in got] == [x.shape, gamma.shape, gamma.shape], name
        assert all(g.dtype == np.float64 for g in got), name
    _assert_agree(grads, _tolerance(dout, cache))


@settings(max_examples=200, deadline=None)
@given(bn_cases())
def test_passes_agree_float32(case: tuple[np.ndarray, ...]) -> None:
    x, gamma, beta, dout = (a.astype(np.float32) for a in case)
    out, cache = batchnorm_forward(x, gamma, beta)
    assert out.dtype == np.float32
    grads = {name: backward(dout, cache) for name, backward in BACKWARDS.items()}
    for name, got in grads.items():
        assert all(g.dtype == np.float32 for g in got), name
    tol = _tolerance(dout, cache)
    _assert_agree(grads, tol)

    # ... and they are close to the float64 answer on the same (float32-rounded) data.
    x64, gamma64, beta64, dout64 = (a.astype(np.float64) for a in (x, gamma, beta, dout))
    _, cache64 = batchnorm_forward(x64, gamma64, beta64)
    grads["float64"] = BACKWARDS["compact"](dout64, cache64)
    _assert_agree(grads, tol)
