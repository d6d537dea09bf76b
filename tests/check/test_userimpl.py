"""`autograd_bn.check.userimpl`: your own layer, loaded, run, checked and timed by `compare`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.bn import manual
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.compare import compare
from autograd_bn.check.metrics import GRADS
from autograd_bn.check.userimpl import UserImpl, UserImplError, load_callable, load_user_impl
from autograd_bn.text.table import format_table

FIXTURES = Path(__file__).parents[1] / "fixtures"
METHODS = list(manual.BACKWARDS)


def fixture(spec: str) -> str:
    return f"{FIXTURES / spec}"


def test_correct_user_implementation_agrees() -> None:
    user = load_user_impl(fixture("bn_correct.py:batchnorm_forward"),
                          fixture("bn_correct.py:batchnorm_backward"))
    c = compare(make_problem(4, 5, 231), user=user, with_torch=False, repeats=2)
    row = c.row("yours")
    assert row.kind == "user" and row.agrees and c.exit_code == 0
    assert "bn_correct.py:batchnorm_forward" in row.description
    assert all(row.vs_autograd[g].rel_error < 1e-12 for g in GRADS)
    assert row.median_seconds > 0 and row.calls == 2


def test_user_functions_can_be_passed_directly() -> None:
    fwd = load_callable(fixture("bn_correct.py:Layer.forward"))
    bwd = load_callable(fixture("bn_correct.py:Layer.backward"))
    c = compare(make_problem(3, 4, 1, "float32"), user=(fwd, bwd), with_torch=False, repeats=1)
    assert c.row("yours").agrees
    with pytest.raises(ValueError, match="'compact' is taken"):
        compare(make_problem(3, 4, 1), user=UserImpl(fwd, bwd, "compact"))


@pytest.mark.parametrize(("forward", "backward", "wrong"), [
    ("bn_correct.py:batchnorm_forward", "bn_wrong.py:backward_direct_path_only", ["dx"]),
    ("bn_correct.py:batchnorm_forward", "bn_wrong.py:backward_swapped", ["dgamma", "dbeta"]),
    ("bn_wrong.py:forward_unbiased", "bn_correct.py:batchnorm_backward", ["out", "dx", "dgamma"]),
])
def test_wrong_user_implementation_disagrees(forward: str, backward: str, wrong: list) -> None:
    user = load_user_impl(fixture(forward), fixture(backward), name="homework")
    c = compare(make_problem(4, 5, 231), user=user, with_torch=False, repeats=1)
    assert c.exit_code == 1 and not c.agree
    assert [r.name for r in c.disagreeing] == ["homework"]
    assert c.row("homework").disagreements == wrong
    assert format_table(c).splitlines()[-1] == (
        f"RESULT: 1 of {len(METHODS) + 1} disagree with autograd: homework "
        f"({', '.join(wrong)}).")
    assert json.loads(c.to_json())["disagreeing"] == ["homework"]


@pytest.mark.parametrize(("forward", "backward", "message"), [
    ("forward_raises", "batchnorm_backward",
     "forward forward_raises raised ValueError: Invalid forward batchnorm mode"),
    ("forward_one_value", "batchnorm_backward", "must return (out, cache), got a ndarray"),
    ("forward_wrong_shape", "batchnorm_backward", "out has shape (5, 4), expected (4, 5)"),
    ("forward_nan", "batchnorm_backward", "out contains 1 NaN or infinite value(s)"),
    ("batchnorm_forward", "backward_raises", "backward backward_raises raised KeyError: 'x_hat'"),
    ("batchnorm_forward", "backward_two_values", "must return (dx, dgamma, dbeta), got 2 values"),
    ("batchnorm_forward", "backward_none", "must return (dx, dgamma, dbeta), got a NoneType"),
    ("batchnorm_forward", "backward_wrong_shape",
     "dgamma has shape (4,), expected (5,) (that is the shape of a sum over axis 1; "),
    ("batchnorm_forward", "backward_nan", "dx contains 20 NaN or infinite value(s)"),
    ("batchnorm_forward", "backward_strings", "dgamma must hold real numbers, got dtype <U"),
    ("forward_exits", "batchnorm_backward", "forward forward_exits raised SystemExit: 0"),
    ("batchnorm_forward", "backward_exits", "backward backward_exits raised SystemExit: giving up"),
    ("batchnorm_forward", "backward_aborts", "backward backward_aborts raised Abort: stop"),
    ("batchnorm_forward", "backward_exits_when_timed",
     "backward raised on a repeated call: SystemExit: 0"),
])
def test_broken_user_implementation_is_a_one_line_error(forward, backward, message) -> None:
    user = load_user_impl(fixture(f"bn_broken.py:{forward}"), fixture(f"bn_broken.py:{backward}"))
    with pytest.raises(UserImplError) as info:
        compare(make_problem(4, 5, 231), user=user, with_torch=False, repeats=1)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_ctrl_c_in_your_layer_still_interrupts() -> None:
    user = load_user_impl(fixture("bn_broken.py:batchnorm_forward"),
                          fixture("bn_broken.py:backward_interrupted"))
    with pytest.raises(KeyboardInterrupt):
        compare(make_problem(4, 5, 231), user=user, with_torch=False, repeats=1)


def test_user_gets_copies_and_the_cs231n_bn_param() -> None:
    seen = {}

    def forward(x, gamma, beta, bn_param):
        seen["bn_param"] = dict(bn_param)
        x += 1  # scribbling on the input must not change the problem
        return manual.batchnorm_forward(x - 1, gamma, beta, bn_param["eps"])

    def backward(dout, cache):
        grads = manual.backward_compact(dout, cache)
        dout[:] = 0
        return grads

    p = make_problem(4, 5, 231, eps=1e-3)
    x_before = p.x.copy()
    c = compare(p, user=(forward, backward), with_torch=False, repeats=3)
    assert seen["bn_param"] == {"mode": "train", "eps": 1e-3}
    np.testing.assert_array_equal(p.x, x_before)
    assert c.row("yours").agrees


def test_load_from_a_module_on_the_current_directory(monkeypatch) -> None:
    monkeypatch.chdir(FIXTURES)
    monkeypatch.delitem(sys.modules, "bn_correct", raising=False)
    fn = load_callable("bn_correct:batchnorm_forward", "--forward")
    assert fn.__name__ == "batchnorm_forward"
    assert load_callable("bn_wrong.py:backward_swapped").__name__ == "backward_swapped"


@pytest.mark.parametrize(("spec", "message"), [
    ("bn_correct.py", "expected FILE.py:NAME or package.module:NAME"),
    ("bn_correct.py:", "expected FILE.py:NAME"),
    (":batchnorm_forward", "expected FILE.py:NAME"),
    ("missing.py:f", "file missing.py not found (paths are relative to"),
    ("no_such_module_xyz:f", "module no_such_module_xyz not found"),
    ("not a module:f", "is neither a .py file nor a module name"),
    ("bn_import_error.py:f", "importing bn_import_error.py failed: RuntimeError: homework not"),
    ("bn_correct.py:batchnorm_fwd", "has no attribute 'batchnorm_fwd' (it defines: Layer, "),
    ("bn_correct.py:Layer.nope", "has no attribute 'Layer.nope'"),
    ("bn_broken.py:NOT_A_FUNCTION", "NOT_A_FUNCTION is not a function (it is of type int)"),
])
def test_load_errors_name_the_problem(monkeypatch, spec: str, message: str) -> None:
    monkeypatch.chdir(FIXTURES)
    with pytest.raises(UserImplError) as info:
        load_callable(spec, "--forward")
    text = str(info.value)
    assert text.startswith("--forward") and message in text and "\n" not in text


def test_module_import_failure_inside_a_package_names_the_cause(tmp_path, monkeypatch) -> None:
    (tmp_path / "homework.py").write_text("import numpy\nimport does_not_exist_abc\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserImplError, match="importing homework failed: ModuleNotFoundError: "
                                            "No module named 'does_not_exist_abc'"):
        load_callable("homework:f", "--backward")


def test_a_module_that_imports_a_missing_module_is_found(tmp_path, monkeypatch) -> None:
    (tmp_path / "layers.py").write_text("import lay\n")  # "layers" starts with "lay"
    (tmp_path / "hw").mkdir()
    (tmp_path / "hw" / "__init__.py").write_text("")
    (tmp_path / "hw" / "bn.py").write_text("import hw.helpers\n")
    monkeypatch.chdir(tmp_path)
    try:
        with pytest.raises(UserImplError, match="importing layers failed: ModuleNotFoundError: "
                                                "No module named 'lay'"):
            load_callable("layers:f", "--forward")
        with pytest.raises(UserImplError, match="importing hw.bn failed: .*'hw.helpers'"):
            load_callable("hw.bn:f", "--forward")
        for missing in ("hw.nothing", "nothing.bn"):
            with pytest.raises(UserImplError, match=f"module {missing} not found"):
                load_callable(f"{missing}:f", "--forward")
    finally:
        for name in ("layers", "hw", "hw.bn", "hw.nothing"):
            sys.modules.pop(name, None)
