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
    assert main([]) == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert name in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["frobnicate"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


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
