"""``autograd-bn check`` runs your function in a child process: whatever it does as a process
(hangs, exits, kills itself, recurses, prints to fd 1) ends in one line on stderr and exit 2,
or in the table; never a traceback, a hang, or a process left behind."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from autograd_bn.cli import build_parser, main

FIXTURES = Path(__file__).parents[1] / "fixtures"
HOSTILE = f"{FIXTURES}/ninja_hostile.py"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _state(pid: int) -> str | None:
    """The process's state letter (Z: a zombie), or None when there is no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()[0]


def _children() -> list[int]:
    """This process's live children (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid() and fields[0] != "Z":
                found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def no_process_left_behind():
    if not Path("/proc/self/stat").exists():
        pytest.skip("needs /proc to see child processes")
    before = set(_children())
    yield
    assert set(_children()) <= before


TIMED_OUT = " did not finish within 2 s (--timeout); stopped in your function"
NO_ANSWER = (" ended the process in your function without an answer ({}): os._exit, a crash "
             "or a signal")


@pytest.mark.parametrize(("function", "tail"), [
    ("hangs", TIMED_OUT),
    ("hangs_deaf", TIMED_OUT),
    ("exits", "() raised SystemExit: 3"),
    ("os_exit", NO_ANSWER.format("exit status 0")),
    ("kills_itself", NO_ANSWER.format("killed by SIGKILL")),
    ("recurses", "() raised RecursionError: maximum recursion depth exceeded"),
    ("raises", "() raised ValueError: bad news"),
    ("returns_none", " must return (named, manual), got a NoneType"),
    ("returns_three", " must return (named, manual), got 3 values"),
    ("named_not_a_tensor", ": named['x'] must be a Tensor, got int"),
    ("manual_is_text", ": manual['x'] must hold real numbers, got dtype <U2"),
    ("manual_exits_when_read", ": comparing what it returned raised SystemExit: 4"),
])
def test_a_hostile_function_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str],
                                                  function: str, tail: str) -> None:
    start = time.perf_counter()
    code, out, err = run(capsys, f"{HOSTILE}:{function}", "--timeout", "2")
    assert time.perf_counter() - start < 15
    assert (code, out) == (2, "")
    assert err == f"autograd-bn: error: check: {HOSTILE}:{function}{tail}\n"


def test_a_grandchild_is_stopped_with_the_function(capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, f"{HOSTILE}:spawns_and_hangs", "--timeout", "2")
    assert code == 2 and out == "" and "did not finish within 2 s" in err
    pid = int((tmp_path / "grandchild.pid").read_text())
    deadline = time.monotonic() + 5
    while _state(pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(pid) in (None, "Z")  # (a zombie is dead; PID 1 reaps it when it likes)


@pytest.mark.parametrize("flags", [[], ["--json"]])
def test_what_the_function_prints_goes_to_stderr(capsys: pytest.CaptureFixture[str],
                                                 flags: list[str]) -> None:
    code, out, err = run(capsys, f"{HOSTILE}:prints", *flags)
    assert code == 0
    if flags:
        assert json.loads(out)["ok"] is True
    else:
        assert out.startswith("Hand-written gradients") and out.endswith("(3 exact, 0 close).\n")
    assert "to stdout" not in out and "fd 1" not in out
    for line in ("print: to stdout", "sys.stdout.write: to stdout", "os.write: to fd 1",
                 "os.write: to fd 2"):
        assert line in err


def test_a_nan_gradient_is_wrong_not_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, f"{HOSTILE}:nan_gradient")
    assert code == 1 and err == ""
    marked = [line for line in out.splitlines() if "look here" in line]
    assert len(marked) == 1 and marked[0].split()[1:5] == ["a", "no", "no", "nan"]
    assert "manual has 6 NaN: NaN is never close" in marked[0]
    code, out, _ = run(capsys, f"{HOSTILE}:nan_gradient", "--json")
    data = json.loads(out)
    assert code == 1 and data["first_wrong"] == "a"
    assert data["results"][1]["status"] == "wrong" and data["results"][1]["max_abs_diff"] is None


def test_timeout_is_compares(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser()
    assert parser.parse_args(["check", "f.py:g"]).timeout == \
        parser.parse_args(["compare"]).timeout == 60.0


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "-inf"])
def test_a_bad_timeout_exits_2(capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out, err = run(capsys, f"{FIXTURES}/ninja_steps.py:right", "--timeout", value)
    assert (code, out) == (2, "")
    assert err == (f"autograd-bn: error: --timeout must be a number of seconds > 0, "
                   f"got {float(value):g}\n")


def test_help_says_it_runs_in_a_child_process(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["check", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--timeout SECONDS" in out
    assert "runs in a child process, stopped after --timeout seconds" in out
