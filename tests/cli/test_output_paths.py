"""Hostile ``-o`` paths for every command that writes a file: links, FIFOs, devices,
write-protected files, wrong extensions, empty names, a standard output that fails.

No test writes to a real system path: /dev/null is reached only through a link in tmp_path,
and the refusal happens before anything is opened.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest

from autograd_bn.cli import main


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.startswith("autograd-bn: error: ") and err.count("\n") == 1, err
    return err


FAST = ["--no-numerical", "--no-torch", "--repeats", "1"]
COMMANDS = [["graph", "--format", "dot"], ["report", *FAST]]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_symlink_is_written_through(cwd: Path, command: list[str]) -> None:
    real = cwd / "real"
    real.mkdir()
    link = cwd / ("out.dot" if command[0] == "graph" else "out.html")
    link.symlink_to(real / link.name)
    assert main([*command, "-o", str(link)]) == 0
    assert link.is_symlink() and (real / link.name).stat().st_size > 100


@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_is_refused(cwd: Path, command: list[str], capsys) -> None:
    fifo = cwd / ("pipe.dot" if command[0] == "graph" else "pipe.html")
    os.mkfifo(fifo)
    assert main([*command, "-o", fifo.name]) == 2
    assert "it is a FIFO (named pipe)" in error(capsys)
    assert fifo.is_fifo()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_link_to_a_device_is_refused(cwd: Path, command: list[str], capsys) -> None:
    link = cwd / ("null.dot" if command[0] == "graph" else "null.html")
    link.symlink_to(os.devnull)
    assert main([*command, "-o", link.name]) == 2
    assert "a system path" in error(capsys)
    assert link.is_symlink()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_write_protected_file_needs_force(cwd: Path, command: list[str], capsys) -> None:
    old = cwd / ("g.dot" if command[0] == "graph" else "r.html")
    old.write_text("keep me")
    old.chmod(0o444)
    assert main([*command, "-o", old.name]) == 2
    assert "write-protected; use --force" in error(capsys)
    assert old.read_text() == "keep me"
    assert main([*command, "-o", old.name, "--force"]) == 0
    assert old.read_text() != "keep me"


@pytest.mark.parametrize("argv, message", [
    (["report", "-o", "x.pdf"], "-o x.pdf has the extension '.pdf', but this command writes "
     "HTML: name it *.html or *.htm"),
    (["report", "-o", "x"], "-o x has no extension, but this command writes HTML"),
    (["report", "-o", ""], "-o is empty: give a file name (default bn_report.html)"),
    (["graph", "-o", ""], "-o is empty: give a file name (default bn_graph.svg)"),
    (["report", "-o", ".html"], "'.html' is a name with no stem, only an extension; name the "
     "file, e.g. bn_report.html"),
    (["graph", "-o", ".svg"], "'.svg' is a name with no stem, only an extension; name the "
     "file, e.g. bn_graph.svg"),
    (["graph", "-o", "-"], "-o - writes to standard output, which takes text: add --format dot"),
    (["bench", "--json", "r.txt"], "--json r.txt has the extension '.txt'"),
])
def test_bad_names_are_refused_before_any_work(cwd: Path, argv: list[str], message: str,
                                               capsys) -> None:
    assert main(argv) == 2
    assert message in error(capsys)
    assert list(cwd.iterdir()) == []


def test_dash_is_standard_output_for_text_formats(cwd: Path, capsys) -> None:
    assert main(["graph", "-o", "-", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith("digraph autograd {")
    assert main(["report", "-o", "-", *FAST]) == 0
    assert capsys.readouterr().out.lstrip().lower().startswith("<!doctype html>")
    assert list(cwd.iterdir()) == []


class FullStdout(io.StringIO):
    """A standard output on a full disk, as ``> /dev/full`` gives (no real device touched)."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")

    def fileno(self) -> int:
        raise io.UnsupportedOperation("no file descriptor")


def test_a_failing_standard_output_keeps_the_file_and_says_so(
        cwd: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    """``graph -o g.dot > /dev/full``: exit 2, the file is kept, and the error says so."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdout", FullStdout())
    assert main(["graph", "-o", "g.dot"]) == 2
    assert error(capsys) == ("autograd-bn: error: [Errno 28] g.dot was written (and is kept), "
                             "but printing its path failed: standard output: No space left "
                             "on device\n")
    assert (cwd / "g.dot").stat().st_size > 100
    assert main(["graph", "-o", "-", "--format", "dot"]) == 2
    assert "writing to standard output failed: No space left on device" in error(capsys)
