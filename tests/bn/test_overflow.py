"""Hostile inputs: a finite x (or γ, β, dout) that overflows in its dtype is never a silent
wrong answer. Before: var = inf, out = β exactly, dx = dγ = 0, and only numpy's warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm, manual
from autograd_bn.bn.overflow import BNOverflowError, BNOverflowWarning

F32 = np.float32


def spread(n: int, d: int, scale: float, dtype: type = np.float64) -> np.ndarray:
    return (np.random.RandomState(0).randn(n, d) * scale).astype(dtype)


@pytest.mark.parametrize("x, message", [
    (spread(4, 5, 1e20, F32), r"^\(4\) \(3\)² overflowed to inf in float32: x's spread is too "
     r"large for this dtype \(max \|x − mean\| = [0-9.]+e\+20\); scale x or use float64$"),
    (spread(4, 5, 1e200), r"^\(4\) \(3\)² overflowed to inf in float64: .*; scale x$"),
    (np.array([[3e38, 1], [-3e38, 2], [-3e38, 3]], F32),
     r"^\(3\) x − mean overflowed to inf in float32"),
    (np.array([[1e308, 1.0], [1e308, 2.0]]), r"^\(2\) mean overflowed to inf in float64"),
    (np.tile([[1e154, 1.0], [-1e154, 2.0]], (200, 1)),
     r"^\(5\) var overflowed to inf in float64: the sum of \(x − mean\)²"),
])
def test_engine_bn_names_the_step_that_overflowed(x: np.ndarray, message: str) -> None:
    gamma, beta = np.ones(x.shape[1], x.dtype), np.zeros(x.shape[1], x.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no numpy RuntimeWarning on the way
        with pytest.raises(BNOverflowError, match=message) as info:
            batchnorm(x, gamma, beta)
    assert isinstance(info.value, ValueError)


def test_engine_bn_output_overflow_from_huge_gamma_and_beta() -> None:
    x = spread(4, 5, 1.0, F32)
    big = np.full(5, 3e38, F32)
    with np.errstate(over="ignore"):  # (check_inputs' own sum of γ overflows: not BN's)
        with pytest.raises(BNOverflowError, match=r"^\(12\) out = γ·x̂ \+ β overflowed"):
            batchnorm(x, big, big)


def test_a_large_but_safe_x_still_works() -> None:
    x = spread(4, 5, 1e15, F32)  # (x − μ)² ≈ 1e30 < 3.4e38
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = batchnorm(Tensor(x), np.ones(5, F32), np.zeros(5, F32))
    out.backward(np.ones((4, 5), F32))
    assert np.isfinite(out.data).all()


def test_manual_forward_warns_naming_the_step() -> None:
    x = spread(4, 5, 1e20, F32)
    with pytest.warns(BNOverflowWarning, match=r"^batchnorm_forward: \(4\) \(3\)² overflowed"):
        manual.batchnorm_forward(x, np.ones(5, F32), np.zeros(5, F32))
    assert issubclass(BNOverflowWarning, RuntimeWarning)


@pytest.mark.parametrize("method, first", [("staged", "d8_3"), ("analytical", "dL_mu"),
                                           ("compact", "dx"), ("paper", "dvar")])
def test_manual_backwards_warn_naming_the_first_bad_array(method: str, first: str) -> None:
    _, cache = manual.batchnorm_forward(spread(4, 5, 1.0, F32), np.ones(5, F32),
                                        np.zeros(5, F32))
    dout = np.full((4, 5), 3e38, F32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        manual.BACKWARDS[method](dout, cache)
    assert [w.category for w in caught] == [BNOverflowWarning]  # one warning, not numpy's
    assert str(caught[0].message).startswith(f"{method} backward: {first} overflowed")


def test_manual_passes_stay_quiet_on_ordinary_input() -> None:
    x = spread(64, 10, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, cache = manual.batchnorm_forward(x, np.ones(10), np.zeros(10))
        for backward in manual.BACKWARDS.values():
            backward(np.ones((64, 10)), cache)


def test_the_command_line_turns_the_warning_into_exit_2(monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """A problem that overflows (here: a dout of 3e38 in float32) is one line and exit 2."""
    import autograd_bn.bn.problem as problem_module
    from autograd_bn.cli import main

    made = problem_module.make_problem

    def hostile(*args: object, **kwargs: object) -> problem_module.Problem:
        p = made(*args, **kwargs)  # type: ignore[arg-type]
        return problem_module.Problem(p.x, p.gamma, p.beta, np.full_like(p.dout, 3e38),
                                      p.eps, p.seed)

    monkeypatch.setattr("autograd_bn.cli.common.make_problem", hostile)
    assert main(["trace", "--dtype", "float32"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-bn: error: staged backward: d10 overflowed to inf or NaN")
    assert err.count("\n") == 1
