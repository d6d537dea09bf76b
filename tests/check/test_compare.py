"""`autograd_bn.check.compare` as a library: the numbers, the verdict, dtypes and sizes, JSON,
table."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.bn import manual
from autograd_bn.bn.problem import make_problem
from autograd_bn.check import runners
from autograd_bn.check.compare import compare, dumps
from autograd_bn.check.metrics import GRADS, Metrics, measure, tolerance
from autograd_bn.check.runners import median_time
from autograd_bn.check.userimpl import load_user_impl
from autograd_bn.engine.gradcheck import rel_error
from autograd_bn.text.table import format_table

FIXTURES = Path(__file__).parents[1] / "fixtures"
METHODS = list(manual.BACKWARDS)


def fixture(spec: str) -> str:
    return f"{FIXTURES / spec}"


@pytest.fixture(scope="module")
def cs231n():
    """The cs231n gradient-check set-up: seed 231, N=4, D=5, x = 5·randn + 12."""
    return compare(make_problem(4, 5, 231), with_torch=False, repeats=3)


# ---- the done-when numbers ------------------------------------------------------------------


def test_autograd_matches_numerical_gradient_like_the_assignment(cs231n) -> None:
    auto = cs231n.row("autograd")
    for g in GRADS:
        assert 1e-13 <= auto.vs_numerical[g].rel_error <= 1e-8, g
        assert auto.vs_numerical[g].allclose


@pytest.mark.parametrize("method", METHODS)
def test_every_hand_written_pass_matches_autograd_to_1e_12(cs231n, method: str) -> None:
    row = cs231n.row(method)
    assert row.kind == "manual" and row.agrees
    for g in GRADS:
        assert row.vs_autograd[g].rel_error <= 1e-12, g
        assert row.vs_autograd[g].max_abs_diff <= 1e-14, g
        assert row.vs_autograd[g].allclose
        assert 1e-13 <= row.vs_numerical[g].rel_error <= 1e-8, g
    assert row.forward.allclose and row.forward.max_abs_diff <= 1e-14


def test_rows_and_verdict(cs231n) -> None:
    assert [r.name for r in cs231n.rows] == ["autograd", *METHODS]
    auto = cs231n.row("autograd")
    assert all(auto.vs_autograd[g].exact and auto.vs_autograd[g].max_abs_diff == 0 for g in GRADS)
    assert cs231n.agree and cs231n.exit_code == 0 and cs231n.disagreeing == []
    assert cs231n.dtype == "float64" and cs231n.tolerance == pytest.approx(1.49e-8, rel=1e-2)
    # dbeta is the same sum everywhere: bitwise equal
    assert all(cs231n.row(m).vs_autograd["dbeta"].exact for m in METHODS)
    with pytest.raises(KeyError, match="no method 'nope'"):
        cs231n.row("nope")


def test_row_grads_are_the_methods_results(cs231n) -> None:
    p = cs231n.problem
    _, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
    for name in METHODS:
        for mine, theirs in zip(cs231n.row(name).grads, manual.BACKWARDS[name](p.dout, cache),
                                strict=True):
            np.testing.assert_array_equal(mine, theirs)
    assert cs231n.numerical_grads[0].dtype == np.float64


def test_times_are_positive_and_repeats_is_honoured(cs231n) -> None:
    for row in cs231n.rows:
        assert row.median_seconds > 0 and row.calls == 3
    adaptive = compare(make_problem(3, 2, 1), methods=["compact"], with_torch=False,
                       numerical=False)
    assert all(r.median_seconds > 0 and r.calls >= 5 for r in adaptive.rows)


def test_median_time_counts_calls() -> None:
    calls = []
    seconds, n = median_time(lambda: calls.append(1), repeats=7, setup=lambda: None)
    assert n == 7 and len(calls) == 7 and seconds >= 0


def wrong_autograd(monkeypatch: pytest.MonkeyPatch, size: float = 1e-3) -> None:
    """Make the engine's dx wrong by ``size``·max|dx| (every method then disagrees with it)."""
    real = runners.autograd

    def wrong(p, repeats):
        out, grads, seconds, calls = real(p, repeats)
        return out, (grads[0] + size * np.abs(grads[0]).max(), *grads[1:]), seconds, calls

    monkeypatch.setattr(runners, "autograd", wrong)


def test_the_verdict_checks_autograd_against_the_numerical_gradient(monkeypatch) -> None:
    wrong_autograd(monkeypatch)
    c = compare(make_problem(4, 5, 231), methods=[], with_torch=False, repeats=1)
    assert not c.agree and c.exit_code == 1
    assert c.row("autograd").disagreements == ["dx"]
    assert [r.name for r in c.disagreeing] == ["autograd"]
    lines = format_table(c).splitlines()
    assert lines[-1] == "RESULT: autograd disagrees with the numerical gradient (dx)."
    autograd_line = next(line for line in lines if line.startswith("autograd ") and "exact" in line)
    assert autograd_line.endswith("SUSPECT")
    data = json.loads(c.to_json())
    assert data["agree"] is False and data["disagreeing"] == ["autograd"]
    both = compare(make_problem(4, 5, 231), methods=["compact"], with_torch=False, repeats=1)
    assert format_table(both).splitlines()[-1] == (
        "RESULT: autograd disagrees with the numerical gradient (dx). "
        "1 of 1 disagree with autograd: compact (dx).")
    # without a numerical gradient there is nothing to check autograd against
    unchecked = compare(make_problem(4, 5, 231), methods=[], with_torch=False, repeats=1,
                        numerical=False)
    assert unchecked.agree


# ---- dtypes, sizes, tolerance -----------------------------------------------------------------


def test_tolerance_fits_the_dtype() -> None:
    assert tolerance("float64") == pytest.approx(np.sqrt(np.finfo(np.float64).eps))
    assert tolerance(np.float32) == pytest.approx(3.45e-4, rel=1e-2)


def test_float32_agrees_with_float32_tolerances() -> None:
    c = compare(make_problem(4, 5, 231, "float32"), with_torch=False, repeats=2)
    assert c.dtype == "float32" and c.tolerance == tolerance("float32") and c.agree
    assert all(g.dtype == np.float32 for r in c.rows for g in r.grads)
    assert all(g.dtype == np.float64 for g in c.numerical_grads)  # always float64
    for name in METHODS:
        assert max(c.row(name).vs_autograd[g].rel_error for g in GRADS) < 1e-3
        assert max(c.row(name).vs_numerical[g].rel_error for g in GRADS) < 1e-3


@pytest.mark.parametrize(("n", "d", "seed", "dtype"), [
    (1, 5, 0, "float64"), (1, 3, 7, "float32"), (2, 3, 231, "float32"), (2, 3, 0, "float64"),
    (3, 1, 4, "float32"), (16, 7, 5, "float32"), (60, 40, 231, "float64"),
])
def test_correct_methods_agree_on_awkward_sizes(n: int, d: int, seed: int, dtype: str) -> None:
    # N = 1: dx = 0 exactly; N = 2: dx is ~0 and only rounding noise is left. The tolerance is
    # relative to the size of the summed terms, so noise never reads as a disagreement.
    c = compare(make_problem(n, d, seed, dtype), with_torch=False, repeats=1,
                numerical=n * d <= 100)
    assert c.agree, format_table(c)


def test_badly_conditioned_float32_raises_the_tolerance_but_still_catches_mistakes() -> None:
    # x = 1000 + 0.05·randn: x − μ keeps only a few float32 digits, in every method.
    rng = np.random.default_rng(3)
    x, gamma, beta, dout = ((1000 + 0.05 * rng.standard_normal((8, 3))), rng.standard_normal(3),
                            rng.standard_normal(3), rng.standard_normal((8, 3)))
    arrays32 = {"x": x, "gamma": gamma, "beta": beta, "dout": dout}
    arrays32 = {k: v.astype(np.float32) for k, v in arrays32.items()}
    fwd = fixture("bn_correct.py:batchnorm_forward")
    good = load_user_impl(fwd, fixture("bn_correct.py:batchnorm_backward"))
    bad = load_user_impl(fwd, fixture("bn_wrong.py:backward_direct_path_only"))
    c = compare(**arrays32, user=good, with_torch=False, repeats=1)
    assert c.agree and c.reference_error > tolerance("float32") / 10
    assert c.tolerance == pytest.approx(10 * c.reference_error) and "raised" in c.notes[0]
    assert json.loads(c.to_json())["tolerance"]["reference_error"] == c.reference_error
    c = compare(**arrays32, user=bad, with_torch=False, repeats=1)
    assert [r.name for r in c.disagreeing] == ["yours"]
    c64 = compare(x=x, gamma=gamma, beta=beta, dout=dout, with_torch=False, repeats=1)
    assert c64.agree and c64.reference_error == 0 and c64.tolerance == tolerance("float64")
    assert c64.notes == ()


def test_batch_of_one_gives_zero_dx() -> None:
    c = compare(make_problem(1, 4, 3), with_torch=False, repeats=1)
    assert np.all(c.row("autograd").grads[0] == 0)
    np.testing.assert_array_equal(c.row("autograd").grads[2], c.problem.dout[0])


def test_measure_uses_the_scale_for_near_zero_results() -> None:
    ref = np.array([1e-9, 1.0])
    noisy = ref + np.array([1e-12, 0.0])
    m = measure(noisy, ref, tol=1e-8, scale=1.0)
    assert m.allclose and not m.exact and m.rel_error > 1e-4  # cs231n's error is fooled
    assert not measure(ref * 1.01, ref, tol=1e-8, scale=1.0).allclose
    assert measure(ref, ref, 1e-8, 1.0) == Metrics(0.0, 0.0, True, True)


def test_nan_never_agrees() -> None:
    m = measure(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), 1e-8, 1.0)
    assert not m.allclose and not m.exact and math.isnan(m.rel_error)
    assert m.to_dict()["rel_error"] is None and m.to_dict()["max_abs_diff"] is None


# ---- JSON and table -----------------------------------------------------------------------------


def test_json_is_valid_with_stable_keys(cs231n) -> None:
    data = json.loads(cs231n.to_json())
    assert list(data) == ["problem", "reference", "tolerance", "numerical_gradient", "time",
                          "agree", "disagreeing", "methods", "notes"]
    assert data["problem"] == {"N": 4, "D": 5, "seed": 231, "dtype": "float64", "eps": 1e-5}
    assert data["agree"] is True and data["disagreeing"] == []
    assert [m["name"] for m in data["methods"]] == ["autograd", *METHODS]
    row = data["methods"][1]
    assert list(row) == ["name", "kind", "description", "agrees", "disagreements",
                         "median_seconds", "calls", "forward", "vs_autograd", "vs_numerical",
                         "checks", "hints"]
    assert list(row["vs_autograd"]) == list(GRADS)
    assert list(row["vs_autograd"]["dx"]) == ["max_abs_diff", "rel_error", "norm_error", "exact",
                                              "allclose", "resolvable"]
    assert row["vs_autograd"]["dx"]["rel_error"] == cs231n.rows[1].vs_autograd["dx"].rel_error
    resolution = data["numerical_gradient"].pop("resolution")
    assert data["numerical_gradient"] == {"computed": True, "h": 1e-5, "dtype": "float64"}
    assert 1e-12 < resolution < 1e-8  # ε·Σ|out·dout|/h
    assert cs231n.to_json() == cs231n.to_json()


def test_json_has_no_nan_literals() -> None:
    text = dumps({"a": float("nan"), "b": [np.float32("inf"), np.int64(3)],
                                 "c": np.bool_(True)})
    assert json.loads(text) == {"a": None, "b": [None, 3], "c": True}


def test_table_is_aligned_and_fits_100_columns(cs231n) -> None:
    text = format_table(cs231n)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[-1] == f"RESULT: all {len(METHODS)} methods agree with autograd."
    rows = [line for line in lines if line.split()[:1] == ["staged"]]
    assert len(rows) == 4  # three tables (relative, norm-wise, agreement) and the legend
    header = next(line for line in lines if line.startswith("method"))
    assert rows[0].index("1.7e-09") == header.index("dx", header.index("dbeta"))
    assert "float64" in text and "N=4, D=5, seed 231" in text


def test_numerical_can_be_skipped_or_left_to_size() -> None:
    c = compare(make_problem(3, 2, 0), with_torch=False, numerical=False, repeats=1)
    assert not c.numerical and c.row("staged").vs_numerical is None
    assert json.loads(c.to_json())["methods"][0]["vs_numerical"] is None
    assert "(skipped in this run)" in format_table(c)
    big = compare(make_problem(51, 50, 0), methods=[], with_torch=False, numerical=None,
                  repeats=1)
    assert not big.numerical and "numerical gradient skipped" in big.notes[0]
    small = compare(make_problem(3, 2, 0), methods=[], with_torch=False, numerical=None,
                    repeats=1)
    assert small.numerical and small.notes == ()


# ---- torch ---------------------------------------------------------------------------------------


def test_torch_row_agrees() -> None:
    pytest.importorskip("torch")
    c = compare(make_problem(4, 5, 231), repeats=3)
    row = c.row("torch")
    assert row.kind == "torch" and row.agrees and row.median_seconds > 0
    assert all(row.vs_autograd[g].rel_error < 1e-12 for g in GRADS)
    assert all(1e-13 <= row.vs_numerical[g].rel_error <= 1e-8 for g in GRADS)
    c32 = compare(make_problem(4, 5, 231, "float32"), with_torch=True, repeats=1)
    assert c32.row("torch").agrees and c32.row("torch").grads[0].dtype == np.float32
    one = compare(make_problem(1, 3, 0), with_torch=True, repeats=1)
    assert "torch" not in [r.name for r in one.rows] and "torch skipped" in one.notes[0]


def test_torch_can_be_left_out_or_required(monkeypatch) -> None:
    c = compare(make_problem(3, 2, 0), with_torch=False, repeats=1)
    assert "torch" not in [r.name for r in c.rows]
    monkeypatch.setattr(runners, "torch_available", lambda: False)
    assert "torch" not in [r.name for r in compare(make_problem(3, 2, 0), repeats=1).rows]
    with pytest.raises(ModuleNotFoundError, match="pip install torch"):
        compare(make_problem(3, 2, 0), with_torch=True)


def test_rel_error_is_the_gradcheck_one(cs231n) -> None:
    row = cs231n.row("compact")
    assert row.vs_autograd["dx"].rel_error == rel_error(row.grads[0],
                                                        cs231n.row("autograd").grads[0])
