"""``autograd-bn compare``: table, JSON, --explain, your own layer, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograd_bn.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parents[1] / "fixtures"
CORRECT = ["--forward", f"{FIXTURES}/bn_correct.py:batchnorm_forward",
           "--backward", f"{FIXTURES}/bn_correct.py:batchnorm_backward"]
FAST = ["--no-torch", "--repeats", "2"]


def run(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_is_a_command() -> None:
    from autograd_bn.cli.compare import run_compare

    assert build_parser().parse_args(["compare"]).run is run_compare


def test_default_table(capsys) -> None:
    code, out, err = run(capsys, "--no-torch")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].endswith("N=4, D=5, seed 0, float64, eps=1e-05")
    assert max(len(line) for line in lines) <= 100
    for name in ("autograd", "staged", "analytical", "compact", "paper"):
        assert sum(line.split()[:1] == [name] for line in lines) == 4
    assert "µs" in out and lines[-1] == "RESULT: all 4 methods agree with autograd."


def test_problem_flags_reach_the_table(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "-N", "6", "-D", "3", "--seed", "231", "--eps", "1e-3",
                       "--dtype", "float32")
    assert code == 0
    assert "N=6, D=3, seed 231, float32, eps=0.001" in out and "(float32)" in out


def test_json(capsys) -> None:
    code, out, err = run(capsys, *FAST, "--json", "--seed", "231")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["agree"] is True and data["problem"]["seed"] == 231
    assert [m["name"] for m in data["methods"]] == ["autograd", "staged", "analytical",
                                                    "compact", "paper"]
    assert "explain" not in data and "NaN" not in out
    assert all(m["calls"] == 2 and m["median_seconds"] > 0 for m in data["methods"])


def test_json_with_explain(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--json", "--explain", "--seed", "231")
    data = json.loads(out)
    assert code == 0 and list(data["explain"]) == ["this_run", "seed_setting"]
    assert data["explain"]["this_run"]["sum_x_minus_mean_max_abs"] > 0  # rounding residue
    assert data["explain"]["seed_setting"]["N"] == 100


def test_explain(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--explain", "--seed", "231")
    assert code == 0
    table, text = out.split("\nWhy keeping dL_mu2 changes dx", 1)
    assert table.rstrip().endswith("agree with autograd.")
    assert "(N=4, D=5, seed 231, float64)" in text and "S(x - mu) per column" in text
    assert "batchnorm_backward_alt" in text
    assert max(len(line) for line in out.splitlines()) <= 100


def test_your_correct_layer_exits_0(capsys) -> None:
    code, out, _ = run(capsys, *FAST, *CORRECT)
    assert code == 0
    assert any(line.startswith("yours ") and line.endswith("agrees") for line in out.splitlines())
    assert "RESULT: all 5 methods agree with autograd." in out


def test_your_wrong_layer_exits_1(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--name", "hw2", "--forward",
                       f"{FIXTURES}/bn_correct.py:batchnorm_forward", "--backward",
                       f"{FIXTURES}/bn_wrong.py:backward_direct_path_only")
    assert code == 1
    row = next(line for line in out.splitlines() if "DISAGREES" in line)
    assert row.startswith("hw2 ") and "DIFFERS" in row
    assert out.rstrip().endswith("RESULT: 1 of 5 disagree with autograd: hw2 (dx).")


def test_a_wrong_autograd_is_caught_by_the_numerical_gradient(capsys, monkeypatch) -> None:
    import autograd_bn.check.runners

    real = autograd_bn.check.runners.autograd

    def wrong(p, repeats):
        out, grads, seconds, calls = real(p, repeats)
        return out, (grads[0] * 1.01, *grads[1:]), seconds, calls

    monkeypatch.setattr(autograd_bn.check.runners, "autograd", wrong)
    code, out, _ = run(capsys, *FAST)
    result = out.splitlines()[-1]
    assert code == 1
    assert result.startswith("RESULT: autograd disagrees with the numerical gradient (dx). ")


def test_your_wrong_layer_in_json_exits_1(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--json", "--forward",
                       f"{FIXTURES}/bn_wrong.py:forward_unbiased", "--backward",
                       f"{FIXTURES}/bn_correct.py:batchnorm_backward")
    data = json.loads(out)
    assert code == 1 and data["agree"] is False and data["disagreeing"] == ["yours"]
    assert data["methods"][-1]["disagreements"][0] == "out"


@pytest.mark.parametrize(("forward", "backward", "message"), [
    ("bn_broken.py:forward_raises", "bn_correct.py:batchnorm_backward",
     "raised ValueError: Invalid forward batchnorm mode"),
    ("bn_broken.py:forward_one_value", "bn_correct.py:batchnorm_backward",
     "must return (out, cache)"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_raises", "raised KeyError"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_two_values",
     "must return (dx, dgamma, dbeta), got 2 values"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_wrong_shape",
     "dgamma has shape (4,), expected (5,) (that is the shape of a sum over "
     "axis 1; "),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_nan", "NaN"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:no_such_function",
     "has no attribute 'no_such_function'"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:NOT_A_FUNCTION", "is not a function"),
    ("bn_correct.py:batchnorm_forward", "bn_import_error.py:backward",
     "importing"),
    ("bn_correct.py:batchnorm_forward", "nowhere.py:backward", "not found"),
    ("bn_broken.py:forward_exits", "bn_correct.py:batchnorm_backward", "raised SystemExit: 0"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_exits", "raised SystemExit"),
    ("bn_correct.py:batchnorm_forward", "bn_broken.py:backward_exits_when_timed",
     "backward raised on a repeated call: SystemExit: 0"),
])
def test_broken_layer_exits_2_with_one_line(capsys, forward, backward, message) -> None:
    code, out, err = run(capsys, *FAST, "--forward", f"{FIXTURES}/{forward}",
                         "--backward", f"{FIXTURES}/{backward}")
    assert code == 2 and out == ""
    assert err.startswith("autograd-bn: error: ") and err.count("\n") == 1
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--forward", "a.py:f"], "--forward needs --backward too"),
    (["--backward", "a.py:f"], "--backward needs --forward too"),
    (["-N", "0"], "-N must be at least 1"),
    (["-D", "0"], "-D must be at least 1"),
    (["--eps", "0"], "--eps must be a finite number > 0"),
    (["--eps=-1e-5"], "--eps must be a finite number > 0"),
    (["--repeats", "0"], "--repeats must be at least 1"),
    (["--name", "compact", *CORRECT], "'compact' is taken"),
])
def test_usage_errors_exit_2(capsys, args: list, message: str) -> None:
    code, out, err = run(capsys, "--no-torch", *args)
    assert code == 2 and out == "" and message in err and err.count("\n") == 1


@pytest.mark.parametrize("name", ["x", "gamma", "beta", "dout"])
def test_non_finite_input_exits_2(capsys, monkeypatch, name: str) -> None:
    import dataclasses

    import numpy as np

    import autograd_bn.cli.compare as command
    from autograd_bn.bn.problem import make_problem

    p = make_problem()
    bad = getattr(p, name).copy()
    bad[0] = np.nan
    monkeypatch.setattr(command, "problem_from_args",
                        lambda args: dataclasses.replace(p, **{name: bad}))
    code, out, err = run(capsys, *FAST)
    assert code == 2 and out == ""
    assert err.startswith(f"autograd-bn: error: {name} is not finite") and err.count("\n") == 1


def test_your_layers_prints_do_not_spoil_the_json(capsys) -> None:
    code, out, err = run(capsys, "--no-torch", "--repeats", "5", "--json",
                         "--forward", f"{FIXTURES}/bn_chatty.py:batchnorm_forward",
                         "--backward", f"{FIXTURES}/bn_chatty.py:batchnorm_backward")
    assert code == 0 and json.loads(out)["agree"] is True
    assert "importing bn_chatty" in err and "forward called" in err and "backward called" in err
    # the timed repeats of backward print nothing: their output would repeat once per call
    assert err.count("backward called") == 1


def test_a_long_name_is_refused(capsys) -> None:
    code, out, err = run(capsys, *FAST, *CORRECT, "--name", "a_rather_long_row_name")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "your row's name 'a_rather_long_row_name' is 22 characters long" in err
    code, out, _ = run(capsys, *FAST, *CORRECT, "--name", "exactly_twenty_chars")
    assert code == 0 and max(len(line) for line in out.splitlines()) <= 100


def test_batch_of_one_works(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "-N", "1")
    assert code == 0 and "agree with autograd" in out


def test_numerical_flags(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--no-numerical", "--json")
    assert code == 0 and json.loads(out)["numerical_gradient"]["computed"] is False
    code, out, _ = run(capsys, *FAST, "-N", "60", "-D", "50")
    assert code == 0 and "note: numerical gradient skipped" in out


def test_torch_row(capsys) -> None:
    pytest.importorskip("torch")
    code, out, _ = run(capsys, "--repeats", "2", "--json")
    data = json.loads(out)
    assert code == 0 and data["methods"][-1]["name"] == "torch"
    assert data["methods"][-1]["agrees"] is True


def test_torch_required_but_missing(capsys, monkeypatch) -> None:
    import autograd_bn.check.runners

    monkeypatch.setattr(autograd_bn.check.runners, "torch_available", lambda: False)
    code, _, err = run(capsys, "--torch")
    assert code == 2 and "torch is not installed" in err


def test_as_a_program_relative_paths_and_exit_codes(tmp_path: Path) -> None:
    for name in ("bn_correct.py", "bn_wrong.py", "bn_broken.py"):
        (tmp_path / name).write_text((FIXTURES / name).read_text())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("AUTOGRAD_BN_DEBUG", None)

    def program(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "autograd_bn", "compare", *FAST, *args],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)

    ok = program("--forward", "bn_correct.py:batchnorm_forward",
                 "--backward", "bn_correct.py:batchnorm_backward")
    assert ok.returncode == 0, ok.stderr
    wrong = program("--forward", "bn_correct:batchnorm_forward",  # module on the cwd
                    "--backward", "bn_wrong:backward_swapped")
    assert wrong.returncode == 1 and "yours (dgamma, dbeta)" in wrong.stdout
    broken = program("--forward", "bn_correct.py:batchnorm_forward",
                     "--backward", "bn_broken.py:backward_none")
    assert broken.returncode == 2 and broken.stdout == ""
    assert broken.stderr.count("\n") == 1 and "Traceback" not in broken.stderr
    exits = program("--forward", "bn_correct.py:batchnorm_forward",  # sys.exit(0) when timed
                    "--backward", "bn_broken.py:backward_exits_when_timed")
    assert exits.returncode == 2 and exits.stdout == "", exits
    assert exits.stderr.startswith("autograd-bn: error: ") and exits.stderr.count("\n") == 1
