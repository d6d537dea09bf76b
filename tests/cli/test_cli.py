"""The command line as a whole: help, version, python -m, and a reader that stops early."""

from __future__ import annotations

import subprocess
import sys

import pytest

from autograd_bn import __version__
from autograd_bn.cli import COMMANDS, main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"autograd-bn {__version__}"


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2  # no command is a usage error; the help goes to stderr
    out = capsys.readouterr().err
    for name in COMMANDS:
        assert name in out


def test_python_dash_m_and_a_closed_pipe() -> None:
    """``python -m autograd_bn trace --json | head -1`` (9 MB of output): no error line."""
    command = [sys.executable, "-m", "autograd_bn", "trace", "--json", "-N", "300", "-D", "50"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert first.strip()
    assert err == b""
    assert proc.returncode in (0, 141)


def test_a_broken_pipe_elsewhere_is_an_error(monkeypatch: pytest.MonkeyPatch,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    """Only a closed standard output ends quietly; any other broken pipe is reported."""
    import autograd_bn.cli.trace as trace_command

    def broken(args: object) -> int:
        raise BrokenPipeError(32, "Broken pipe (to a helper process)")

    monkeypatch.setattr(trace_command, "run", broken)
    assert main(["trace"]) == 2
    err = capfd.readouterr().err
    assert err == "autograd-bn: error: [Errno 32] Broken pipe (to a helper process)\n"


@pytest.mark.parametrize("argv, message", [
    (["compare", "--dtype", "float16"], "argument --dtype: invalid choice: 'float16'"),
    (["trace", "-N", "abc"], "argument -N: invalid int value: 'abc'"),
    (["graph", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
])
def test_usage_errors_are_one_line(argv: list[str], message: str,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"autograd-bn: error: {message}") and err.count("\n") == 1


def test_name_without_a_layer_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", "--name", "mine"]) == 2
    assert "--name names your layer's row: it needs --forward and --backward" in (
        capsys.readouterr().err)


@pytest.mark.parametrize("command", [*COMMANDS, None])
def test_every_help_page_prints(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    """argparse %-formats help texts: a bare % in one (``75% of``) broke every --help."""
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"] if command else ["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: autograd-bn") and "--help" in out
