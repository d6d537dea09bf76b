"""`autograd_bn.check.compare.compare`'s arguments: the problem, the methods, your layer,
defaults."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.bn import manual
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.compare import compare
from autograd_bn.check.userimpl import UserImpl, load_callable
from autograd_bn.text.table import format_table

FIXTURES = Path(__file__).parents[1] / "fixtures"


def fixture(spec: str) -> str:
    return f"{FIXTURES / spec}"


def test_methods_can_be_chosen() -> None:
    c = compare(make_problem(3, 2, 0), methods=["paper"], with_torch=False, repeats=1)
    assert [r.name for r in c.rows] == ["autograd", "paper"]
    c = compare(make_problem(3, 2, 0), methods=[], with_torch=False, repeats=1)
    assert [r.name for r in c.rows] == ["autograd"] and c.agree
    with pytest.raises(ValueError, match="unknown method.*'fast'.*staged"):
        compare(make_problem(3, 2, 0), methods=["fast"])
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="repeats must be a positive integer"):
            compare(make_problem(3, 2, 0), repeats=bad)


def test_numerical_is_left_to_size_by_default() -> None:
    assert inspect.signature(compare).parameters["numerical"].default is None
    big = compare(make_problem(51, 50, 0), methods=[], with_torch=False, repeats=1)
    assert not big.numerical and "numerical gradient skipped" in big.notes[0]


def test_one_method_may_be_named_as_a_string() -> None:
    c = compare(make_problem(3, 2, 0), methods="paper", with_torch=False, repeats=1)
    assert [r.name for r in c.rows] == ["autograd", "paper"]
    with pytest.raises(ValueError, match="unknown method.*'pap'"):
        compare(make_problem(3, 2, 0), methods="pap")
    with pytest.raises(TypeError, match="methods must be a method name or a list of names"):
        compare(make_problem(3, 2, 0), methods=3)


@pytest.mark.parametrize("user", [(manual.backward_compact,), (print, print, print), "f:g",
                                  (print, 3)], ids=["one", "three", "str", "not callable"])
def test_user_must_be_a_pair_of_functions(user) -> None:
    with pytest.raises(TypeError, match=r"user must be a UserImpl or a \(forward, backward\) "
                                        "pair of functions"):
        compare(make_problem(3, 2, 0), user=user, with_torch=False, repeats=1)


def test_your_rows_name_fits_the_table() -> None:
    fwd = load_callable(fixture("bn_correct.py:batchnorm_forward"))
    bwd = load_callable(fixture("bn_correct.py:batchnorm_backward"))
    longest = "n" * 20
    c = compare(make_problem(4, 5, 231), user=UserImpl(fwd, bwd, longest, "x " * 80),
                methods="paper", with_torch=False, repeats=1)
    assert max(len(line) for line in format_table(c).splitlines()) <= 100
    for bad in (longest + "n", "", "   ", "two\nlines"):
        with pytest.raises(ValueError, match="your row's name"):
            compare(make_problem(4, 5, 231), user=UserImpl(fwd, bwd, bad), with_torch=False)


def test_arrays_have_no_seed() -> None:
    c = compare(**arrays(), eps=1e-5, with_torch=False, repeats=1)
    assert c.seed is None and c.problem.seed is None
    assert "seed" not in format_table(c).splitlines()[0]


def arrays(n: int = 4, d: int = 3) -> dict:
    p = make_problem(n, d, 0)
    return {"x": p.x, "gamma": p.gamma, "beta": p.beta, "dout": p.dout}


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"x": np.ones(4)}, ValueError, r"x must be 2-D \(N, D\), got shape \(4,\)"),
    ({"x": np.ones((2, 3, 1))}, ValueError, r"x must be 2-D \(N, D\), got shape \(2, 3, 1\)"),
    ({"gamma": np.ones(4)}, ValueError, r"gamma must have shape \(D,\) = \(3,\), got shape \(4,"),
    ({"beta": np.ones((3, 1))}, ValueError, r"beta must have shape \(D,\) = \(3,\), got shape"),
    ({"x": np.ones((0, 3)), "dout": np.ones((0, 3))}, ValueError, r"empty batch \(shape \(0, 3"),
    ({"eps": 0.0}, ValueError, "eps must be a finite number > 0, got eps=0.0"),
    ({"eps": -1e-5}, ValueError, "eps must be a finite number > 0"),
    ({"eps": float("nan")}, ValueError, "eps must be a finite number > 0"),
    ({"eps": "1e-5"}, TypeError, "eps must be a real number"),
    ({"x": np.array([["a", "b", "c"]] * 4)}, TypeError, "x must hold real numbers"),
    ({"gamma": np.ones(3, dtype=complex)}, TypeError, "gamma must hold real numbers"),
    ({"dout": np.ones((4, 2))}, ValueError, r"dout must have the shape of x \(4, 3\)"),
    ({"dout": np.array([["x"] * 3] * 4)}, TypeError, "dout must hold real numbers"),
    ({"x": np.full((4, 3), np.nan)}, ValueError, r"^x is not finite: it holds 12 NaN"),
    ({"gamma": np.array([1.0, np.inf, 1.0])}, ValueError, "^gamma is not finite"),
    ({"beta": np.array([1.0, 1.0, -np.inf])}, ValueError, "^beta is not finite"),
    ({"dout": np.full((4, 3), -np.inf)}, ValueError,
     r"^dout is not finite: it holds 12 NaN or infinite value\(s\)$"),
])
def test_bad_input_names_the_problem(change: dict, error: type, message: str) -> None:
    kwargs = {**arrays(), "eps": 1e-5, **change}
    with pytest.raises(error, match=message):
        compare(**kwargs, with_torch=False, repeats=1)


def test_arrays_or_a_problem() -> None:
    c = compare(**arrays(), eps=1e-5, with_torch=False, repeats=1)
    assert c.agree and c.seed is None and json.loads(c.to_json())["problem"]["seed"] is None
    with pytest.raises(TypeError, match="missing dout"):
        compare(x=np.ones((2, 2)), gamma=np.ones(2), beta=np.ones(2))
    with pytest.raises(TypeError, match="not both"):
        compare(make_problem(2, 2, 0), x=np.ones((2, 2)))


def test_integer_and_list_input_become_float64() -> None:
    c = compare(x=[[1, 2], [3, 5], [4, 4]], gamma=[1, 2], beta=[0, 1], dout=[[1, 0], [0, 1],
                [1, 1]], with_torch=False, repeats=1)
    assert c.dtype == "float64" and c.agree
