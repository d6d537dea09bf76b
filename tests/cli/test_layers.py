"""The command line on the family: --layer and friends, and your layer in a child process."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from autograd_bn.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"
FAST = ["--no-torch", "--repeats", "1"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["compare", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def layer(forward: str, backward: str, fixture: str = "norm_correct.py") -> list[str]:
    return ["--forward", f"{FIXTURES}/{fixture}:{forward}",
            "--backward", f"{FIXTURES}/{fixture}:{backward}"]


def test_layernorm_is_read_off_the_function_names(capsys) -> None:
    code, out, _ = run(capsys, *FAST, *layer("layernorm_forward", "layernorm_backward"))
    assert code == 0
    assert "note: layer layernorm, chosen from your function's name layernorm_forward" in out
    assert out.splitlines()[-1] == "RESULT: all 3 methods agree with autograd."


@pytest.mark.parametrize(("args", "prefix"), [
    (["--layer", "spatial_batchnorm"], "spatial_batchnorm"),
    (["--layer", "spatial_groupnorm", "-G", "3", "--shape", "2x6x2x3"], "spatial_groupnorm"),
    (["--mode", "test"], "batchnorm"),
    (["--bessel"], "bessel"),
])
def test_each_layer_from_the_command_line(capsys, args: list, prefix: str) -> None:
    code, out, _ = run(capsys, *FAST, "--json", *args,
                       *layer(f"{prefix}_forward", f"{prefix}_backward"))
    data = json.loads(out)
    assert code == 0 and data["agree"], data["methods"][-1]
    assert data["numerical_gradient"]["resolution"] > 0


def test_keepdims_note_in_the_table(capsys) -> None:
    code, out, _ = run(capsys, *FAST,
                       *layer("layernorm_forward", "layernorm_backward_keepdims"))
    assert code == 0
    assert "note: backward layernorm_backward_keepdims: dgamma has shape (1, 5)" in out


def test_a_wrong_layer_gets_why_lines(capsys) -> None:
    code, out, _ = run(capsys, *FAST,
                       "--forward", f"{FIXTURES}/norm_correct.py:batchnorm_forward",
                       "--backward", f"{FIXTURES}/norm_broken.py:backward_no_mean_term")
    assert code == 1 and "yours: why: dx is off by the same amount down each column" in out


def test_shapes_that_do_not_fit_say_which_layer_was_assumed(capsys) -> None:
    code, out, err = run(capsys, *FAST, "--forward", f"{FIXTURES}/norm_correct.py:_norm",
                         "--backward", f"{FIXTURES}/norm_correct.py:layernorm_backward")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "[graded as batch norm with x of shape (4, 5)" in err
    assert "--layer layernorm|spatial_batchnorm|spatial_groupnorm]" in err


@pytest.mark.parametrize(("backward", "message"), [
    ("backward_os_exit", "ended the process in your backward without an answer (exit status 0)"),
    ("backward_crashes", "(killed by SIGSEGV)"),
    ("backward_loops", "did not finish within 2 s (--timeout); stopped in your backward"),
])
def test_a_layer_that_misbehaves_as_a_process_exits_2(capsys, backward: str, message: str) -> None:
    start = time.perf_counter()
    code, out, err = run(capsys, *FAST, "--json", "--timeout", "2",
                         "--forward", f"{FIXTURES}/norm_correct.py:batchnorm_forward",
                         "--backward", f"{FIXTURES}/norm_broken.py:{backward}")
    assert code == 2 and out == ""
    assert err.startswith("autograd-bn: error: ") and message in err and err.count("\n") == 1
    assert time.perf_counter() - start < 10


def test_writes_to_fd_1_do_not_break_the_json(capsys) -> None:
    code, out, err = run(capsys, *FAST, "--json",
                         "--forward", f"{FIXTURES}/norm_correct.py:batchnorm_forward",
                         "--backward", f"{FIXTURES}/norm_broken.py:backward_writes_fd1")
    assert code == 0 and json.loads(out)["agree"] is True
    assert '{"agree": true}' in err and "to fd 2" in err


def test_patching_the_tools_modules_changes_no_verdict(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--json",
                       "--forward", f"{FIXTURES}/norm_correct.py:batchnorm_forward",
                       "--backward", f"{FIXTURES}/norm_broken.py:backward_patches_the_tool")
    data = json.loads(out)
    assert code == 1 and data["disagreeing"] == ["yours"]
    assert "γ is missing" in data["methods"][-1]["hints"][0]


def test_overflow_in_float32_exits_2_naming_the_step(capsys, monkeypatch) -> None:
    import dataclasses

    import numpy as np

    import autograd_bn.cli.compare as command
    from autograd_bn.bn.problem import make_problem

    p = make_problem(dtype="float32")
    monkeypatch.setattr(command, "problem_from_args",
                        lambda args: dataclasses.replace(p, x=p.x * np.float32(1e20)))
    code, out, err = run(capsys, *FAST)
    assert code == 2 and out == ""
    assert "(4) (3)² overflowed to inf in float32" in err


def test_a_huge_eps_reads_against_the_numerical_resolution(capsys) -> None:
    code, out, _ = run(capsys, *FAST, "--eps", "1e12")
    assert code == 0, out
    assert "its resolution here:" in out


@pytest.mark.parametrize(("command", "args"), [
    ("graph", ["--layer", "spatial_groupnorm", "-o", "g.dot"]),
    ("graph", ["--mode", "test", "-o", "t.dot"]),
    ("trace", ["--layer", "layernorm"]),
    ("trace", ["--layer", "spatial_groupnorm", "-G", "3", "--shape", "1x3x2x2"]),
])
def test_graph_and_trace_take_the_layer(capsys, tmp_path, monkeypatch, command, args) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([command, *args]) == 0
    out = capsys.readouterr().out
    if command == "graph":
        assert "(8) x̂" in Path(out.strip()).read_text(encoding="utf-8")
    else:
        assert "14 of 14 seed values found" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--layer", "layernorm", "-G", "2"], "-G is for --layer spatial_groupnorm"),
    (["-G", "2"], "-G and --shape are for"),
    (["--layer", "spatial_groupnorm", "-G", "4"], "must divide"),
    (["--layer", "layernorm", "--mode", "test"], "for --layer batchnorm"),
    (["--timeout", "0"], "--timeout must be a number of seconds > 0"),
    (["--layer", "layernorm", "--explain"], "--explain answers batch norm's"),
])
def test_layer_usage_errors_exit_2(capsys, args: list, message: str) -> None:
    code, out, err = run(capsys, "--no-torch", *args)
    assert code == 2 and out == "" and message in err


@pytest.mark.parametrize("flags", [["--mode", "test"], ["--bessel"]])
def test_trace_of_a_layer_without_a_staged_pass_shows_the_engines_steps(
        capsys: pytest.CaptureFixture[str], flags: list[str]) -> None:
    from autograd_bn.cli import main

    assert main(["trace", "--layer", "batchnorm", *flags]) == 0
    out = capsys.readouterr().out
    assert "(1) x" in out and "No staged pass to compare with" in out and "MISMATCH" not in out
    assert main(["trace", "--layer", "batchnorm", *flags, "--json"]) == 0
    assert '"seed_intermediates": {}' in capsys.readouterr().out
