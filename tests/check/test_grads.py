"""`autograd_bn.check.compare_grads`: a hand-written backward, name by name (makemore's cmp)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import autograd_bn
from autograd_bn import Tensor
from autograd_bn.check import GradComparison, NamedGradsError, compare_grads
from autograd_bn.check.grads import backward_order


def small() -> tuple[dict[str, Tensor], dict[str, np.ndarray]]:
    """loss = sum(tanh(x·w)·3): named Tensors and their gradients by hand."""
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)))
    w = Tensor(rng.standard_normal(3))
    a = x * w
    h = a.tanh()
    loss = (h * 3.0).sum()
    loss.backward()
    dh = np.full((4, 3), 3.0)
    da = dh * (1 - h.data**2)
    manual = {"h": dh, "a": da, "w": (da * x.data).sum(0), "x": da * w.data}
    return {"x": x, "w": w, "a": a, "h": h}, manual


def test_right_gradients_are_exact_or_close_in_backward_order() -> None:
    named, manual = small()
    c = compare_grads(named, manual)
    assert isinstance(c, GradComparison)
    assert [r.name for r in c.results] == ["h", "a", "w", "x"]  # users before inputs
    assert c.ok and c.exit_code == 0 and c.first_wrong is None and c.missing == []
    assert c.result("h").exact and c.result("h").max_abs_diff == 0.0
    assert all(r.close and r.shape_ok for r in c.results)
    assert c.summary.startswith("all 4 gradients agree")


def test_close_is_allclose_with_the_stated_tolerance() -> None:
    named, manual = small()
    manual["a"] = manual["a"] * (1 + 1e-9)
    c = compare_grads(named, manual)
    r = c.result("a")
    assert r.status == "close" and not r.exact and r.close and 0 < r.max_abs_diff < 1e-8
    assert compare_grads(named, manual, rtol=1e-12, atol=0.0).result("a").status == "wrong"
    assert (c.rtol, c.atol) == (1e-5, 1e-8)  # numpy's defaults, as makemore's cmp
    assert c.to_dict()["tolerance"]["rtol"] == 1e-5


def test_the_first_wrong_name_in_backward_order_is_the_place_to_look() -> None:
    named, manual = small()
    manual["a"] = manual["a"] * 2  # and everything computed from it would be wrong too
    manual["x"] = manual["x"] * 2
    c = compare_grads(named, manual)
    assert c.first_wrong == "a" and [r.name for r in c.wrong] == ["a", "x"]
    assert not c.ok and c.exit_code == 1
    assert c.result("a").max_abs_diff == pytest.approx(np.abs(named["a"].grad).max())
    assert "first in backward order is a" in c.summary
    # the order comes from the graph, not from the dicts' order
    reordered = {k: named[k] for k in ("x", "a", "w", "h")}
    assert compare_grads(reordered, manual).first_wrong == "a"


def test_missing_manual_gradients_are_reported_not_raised() -> None:
    named, manual = small()
    del manual["w"]
    manual["x"] = None  # not written yet
    c = compare_grads(named, manual)
    assert c.missing == ["w", "x"] and c.result("w").status == "missing"
    assert c.result("w").shape_ok is None and c.result("w").max_abs_diff is None
    assert not c.ok and c.exit_code == 1 and c.first_wrong is None
    assert "2 missing (w, x)" in c.summary


def test_a_wrong_shape_is_reported() -> None:
    named, manual = small()
    manual["w"] = manual["w"].reshape(1, 3)  # broadcasts, so allclose alone would pass it
    r = compare_grads(named, manual).result("w")
    assert r.status == "shape" and r.shape_ok is False and not r.close
    assert (r.shape, r.manual_shape) == ((3,), (1, 3)) and r.max_abs_diff is None
    assert "(1, 3)" in r.note and compare_grads(named, manual).first_wrong == "w"


def test_nan_is_not_close_and_says_so() -> None:
    named, manual = small()
    manual["a"] = manual["a"].copy()
    manual["a"][0, 0] = np.nan
    r = compare_grads(named, manual).result("a")
    assert r.status == "wrong" and not r.close and np.isnan(r.max_abs_diff)
    assert r.note == "manual has 1 NaN: NaN is never close"
    d = compare_grads(named, manual).to_dict()
    assert d["results"][1]["max_abs_diff"] is None  # valid JSON: NaN becomes null


def test_a_name_only_in_manual_is_an_error_with_a_hint() -> None:
    named, manual = small()
    manual["hh"] = manual.pop("h")
    with pytest.raises(NamedGradsError, match=r"named has not: 'hh' \(did you mean 'h'\?\)"):
        compare_grads(named, manual)


def test_a_tensor_without_a_gradient_is_an_error() -> None:
    x = Tensor(np.ones(3))
    y = x * 2.0
    with pytest.raises(NamedGradsError, match="call loss.backward"):
        compare_grads({"x": x, "y": y}, {"x": np.ones(3)})
    named, manual = small()
    named["late"] = named["h"] * 2.0  # made after backward() was called
    with pytest.raises(NamedGradsError, match="no gradient in late: backward"):
        compare_grads(named, manual)


@pytest.mark.parametrize(("named", "manual", "message"), [
    ([], {}, "named must map names to Tensors"),
    ({}, {}, "named is empty"),
    ({"x": np.ones(3)}, {}, r"named\['x'\] must be a Tensor, got ndarray"),
    (None, [], "named must map"),
])
def test_bad_arguments_are_errors(named: object, manual: object, message: str) -> None:
    with pytest.raises(NamedGradsError, match=message):
        compare_grads(named, manual)  # type: ignore[arg-type]


def test_bad_manual_values_and_tolerances_are_errors() -> None:
    named, manual = small()
    with pytest.raises(NamedGradsError, match="manual must map"):
        compare_grads(named, [1, 2])  # type: ignore[arg-type]
    with pytest.raises(NamedGradsError, match=r"manual\['h'\] must hold real numbers"):
        compare_grads(named, {**manual, "h": "oops"})
    with pytest.raises(NamedGradsError, match=r"manual\['h'\] is a Tensor"):
        compare_grads(named, {**manual, "h": named["h"]})
    with pytest.raises(NamedGradsError, match="rtol must be a finite number"):
        compare_grads(named, manual, rtol=-1.0)
    with pytest.raises(NamedGradsError, match="same Tensor"):
        compare_grads({**named, "again": named["h"]}, manual)


def test_results_are_plain_data() -> None:
    named, manual = small()
    del manual["x"]
    c = compare_grads(named, manual)
    data = json.loads(c.to_json())
    assert data == c.to_dict()
    assert data["ok"] is False and data["missing"] == ["x"]
    assert [r["name"] for r in data["results"]] == ["h", "a", "w", "x"]
    assert data["results"][0] == {"name": "h", "status": "exact", "exact": True, "close": True,
                                  "shape_ok": True, "shape": [4, 3], "manual_shape": [4, 3],
                                  "max_abs_diff": 0.0, "note": ""}


def test_backward_order_puts_leaves_last_as_the_engine_does() -> None:
    x = Tensor(np.ones(2))
    y = x * 2.0
    late = Tensor(np.ones(2))  # a leaf made after an op: reverse creation alone puts it first
    z = y * Tensor(np.ones(2))
    out = z + late
    visited: list[Tensor] = []
    out.sum().backward(on_node=lambda node, g: visited.append(node))
    named = {"late": late, "x": x, "y": y, "z": z, "out": out}
    engine = [n for t in visited for n, v in named.items() if v is t]
    assert backward_order(named) == engine == ["out", "z", "y", "late", "x"]


def test_exported_from_the_package() -> None:
    assert autograd_bn.compare_grads is compare_grads
