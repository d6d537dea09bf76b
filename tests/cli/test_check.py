"""``autograd-bn check FILE:FUNCTION``: table, JSON, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autograd_bn.cli import build_parser, main

FIXTURES = Path(__file__).parents[1] / "fixtures"
STEPS = f"{FIXTURES}/ninja_steps.py"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_is_a_command() -> None:
    from autograd_bn.cli.check import run_check

    assert build_parser().parse_args(["check", "f.py:g"]).run is run_check


def test_right_gradients_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, f"{STEPS}:right")
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert [line.split()[1] for line in lines[3:6]] == ["b", "a", "x"]  # backward order
    assert lines[-1] == "RESULT: all 3 gradients agree (3 exact, 0 close)."
    assert "rtol=1e-05, atol=1e-08" in out


def test_a_wrong_gradient_exits_1_and_marks_the_first(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, f"{STEPS}:wrong")
    assert code == 1
    marked = [line for line in out.splitlines() if "look here" in line]
    assert len(marked) == 1 and marked[0].split()[1:4] == ["a", "no", "no"]
    assert "2 of 3 wrong; the first in backward order is a: look there" in out


def test_missing_gradients_exit_1_and_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, f"{STEPS}:incomplete")
    assert code == 1 and "missing: no manual gradient" in out
    assert out.splitlines()[-1] == "RESULT: 1 missing (x)."


def test_seed_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, f"{STEPS}:right_with_seed", "--seed", "5", "--json")
    assert code == 0 and "chatty" in err  # what the function prints goes to stderr
    data = json.loads(out)
    assert data["ok"] is True and [r["name"] for r in data["results"]] == ["b", "a", "x"]
    code, out, _ = run(capsys, f"{STEPS}:wrong", "--json")
    assert code == 1 and json.loads(out)["first_wrong"] == "a"


def test_tolerances(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, f"{STEPS}:wrong", "--rtol", "10")
    assert code == 0 and "rtol=10" in out
    code, _, err = run(capsys, f"{STEPS}:right", "--atol", "-1")
    assert code == 2 and "--atol must be a finite number >= 0" in err


@pytest.mark.parametrize(("spec", "message"), [
    ("nowhere.py:step", "file nowhere.py not found"),
    (f"{STEPS}:nope", "has no attribute 'nope'"),
    (f"{STEPS}:raises", "raised RuntimeError: forgot something"),
    (f"{STEPS}:exits", "raised SystemExit: 3"),
    (f"{STEPS}:right_with_seed", "missing 1 required positional argument"),
    (f"{STEPS}:one_value", "must return (named, manual), got a dict"),
    (f"{STEPS}:not_dicts", "two dicts; named is a list"),
    (f"{STEPS}:unknown_name", "manual has a name that named has not: 'y'"),
    (f"{STEPS}:no_backward", "call loss.backward()"),
    ("no_colon", "expected FILE.py:NAME"),
])
def test_bad_input_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], spec: str,
                                         message: str) -> None:
    code, out, err = run(capsys, spec)
    assert code == 2 and out == ""
    assert err.startswith("autograd-bn: error: check") and err.count("\n") == 1
    assert message in err


def test_help_states_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = capsys.readouterr().out
    for words in ("returns (named, manual)", "loss.backward()", "FUNCTION(seed) with --seed",
                  "missing", "exit status: 0", "examples/backprop_ninja.py:step"):
        assert words in out
