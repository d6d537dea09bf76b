"""``autograd-bn graph``: default file, -o, --format, --no-backward, --values, errors, --timeout
and SIGTERM during a render."""

from __future__ import annotations

import os
import signal
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from autograd_bn.cli import build_parser, main
from tests.slow import (
    HAS_PROC,
    children,
    command_name,
    group_is_gone,
    slow_graph,
    start_python,
    wait_for_dot,
)


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_graph_is_a_command() -> None:
    from autograd_bn.cli.graph import run

    assert build_parser().parse_args(["graph"]).run is run


def test_default_writes_bn_graph_svg_here(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["graph"]) == 0
    assert capsys.readouterr().out == "bn_graph.svg\n"
    assert files(cwd) == ["bn_graph.svg"]
    svg = ET.fromstring((cwd / "bn_graph.svg").read_bytes())
    texts = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "(12) out" in texts and "·2·(3)" in texts


def test_output_path(cwd: Path, capsys: pytest.CaptureFixture) -> None:
    (cwd / "docs").mkdir()
    assert main(["graph", "-o", "docs/bn.png"]) == 0
    assert capsys.readouterr().out == "docs/bn.png\n"
    assert (cwd / "docs" / "bn.png").read_bytes()[:4] == b"\x89PNG"
    assert files(cwd / "docs") == ["bn.png"]


@pytest.mark.parametrize(("fmt", "magic"), [("dot", b"digraph"), ("pdf", b"%PDF"),
                                            ("png", b"\x89PNG"), ("svg", b"<?xml")])
def test_format_names_the_default_file(cwd: Path, capsys, fmt: str, magic: bytes) -> None:
    assert main(["graph", "--format", fmt]) == 0
    assert capsys.readouterr().out == f"bn_graph.{fmt}\n"
    assert (cwd / f"bn_graph.{fmt}").read_bytes().startswith(magic)


def test_format_with_output(cwd: Path, capsys) -> None:
    assert main(["graph", "-o", "graph.txt", "--format", "dot"]) == 0
    assert (cwd / "graph.txt").read_text(encoding="utf-8").startswith("digraph")


def test_no_backward_values_and_problem_flags(cwd: Path, capsys) -> None:
    assert main(["graph", "--format", "dot", "--no-backward", "-N", "3", "-D", "2"]) == 0
    source = (cwd / "bn_graph.dot").read_text(encoding="utf-8")
    assert "class=backward" not in source and "input · (3, 2)" in source
    assert main(["graph", "-o", "v.dot", "--values", "--seed", "1", "--rankdir", "LR"]) == 0
    source = (cwd / "v.dot").read_text(encoding="utf-8")
    assert "class=backward" in source and "rankdir=LR" in source
    assert "value" in source and "grad" in source and "none yet" not in source


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-bn: error: ")
    assert "Traceback" not in captured.err
    return lines[0]


def test_missing_folder_is_one_line_and_leaves_nothing(cwd: Path, capsys) -> None:
    assert main(["graph", "-o", "missing/bn.svg"]) == 2
    assert "missing" in one_line_error(capsys) and files(cwd) == []


def test_output_that_is_a_folder_is_one_line(cwd: Path, capsys) -> None:
    (cwd / "out.svg").mkdir()
    assert main(["graph", "-o", "out.svg"]) == 2
    assert "out.svg: it is a directory" in one_line_error(capsys)
    assert files(cwd) == ["out.svg"] and files(cwd / "out.svg") == []


def test_unwritable_folder_is_one_line_and_leaves_nothing(
    cwd: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("viz.files.tempfile.mkstemp", refuse)
    assert main(["graph"]) == 2
    assert "Permission denied" in one_line_error(capsys) and files(cwd) == []


def test_unknown_extension_and_contradiction(cwd: Path, capsys) -> None:
    assert main(["graph", "-o", "bn.gif"]) == 2
    assert "cannot tell the format" in one_line_error(capsys)
    assert main(["graph", "-o", "bn.png", "--format", "svg"]) == 2
    assert "does not match" in one_line_error(capsys)
    assert files(cwd) == []


def test_unknown_format_is_a_usage_error(cwd: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["graph", "--format", "gif"])
    assert info.value.code == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-bn: error: "), lines
    assert "invalid choice: 'gif'" in lines[0]
    assert files(cwd) == []


def test_bad_problem_flag(cwd: Path, capsys) -> None:
    assert main(["graph", "-N", "0"]) == 2
    assert "-N must be at least 1" in one_line_error(capsys)


def test_missing_dot(cwd: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(cwd / "no-bin"))
    assert main(["graph"]) == 2
    message = one_line_error(capsys)
    assert "dot" in message and "apt install graphviz" in message and "brew" in message
    assert files(cwd) == []
    assert main(["graph", "--format", "dot"]) == 0
    assert files(cwd) == ["bn_graph.dot"]


def test_help_lists_graph(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "graph" in capsys.readouterr().out


def test_timeout_flag() -> None:
    assert build_parser().parse_args(["graph"]).timeout == 60
    assert build_parser().parse_args(["graph", "--timeout", "2.5"]).timeout == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf"])
def test_bad_timeout_is_one_line(cwd: Path, capsys, value: str) -> None:
    assert main(["graph", "--timeout", value]) == 2
    assert "--timeout must be a number of seconds > 0" in one_line_error(capsys)
    assert files(cwd) == []


def test_timeout_not_a_number_is_a_usage_error(cwd: Path, capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["graph", "--timeout", "soon"])
    assert info.value.code == 2
    assert "invalid float value: 'soon'" in capsys.readouterr().err


@pytest.fixture
def slow_bn(monkeypatch: pytest.MonkeyPatch) -> None:
    """BN's graph replaced by one that Graphviz takes minutes for."""
    monkeypatch.setattr("autograd_bn.cli.graph.batchnorm", lambda *args: slow_graph())


def test_timeout_is_one_line_and_leaves_nothing(cwd: Path, capsys, slow_bn) -> None:
    start = time.monotonic()
    assert main(["graph", "--timeout", "0.5"]) == 2
    assert time.monotonic() - start < 5
    message = one_line_error(capsys)
    for words in ("did not finish", "103 nodes", "limit of 0.5 s", "--timeout", "collapse="):
        assert words in message
    assert files(cwd) == []
    assert not [child for child in children(os.getpid()) if command_name(child) == "dot"]


GRAPH_SLOWLY = """
import autograd_bn.cli.graph as graph
from tests.slow import slow_graph
from autograd_bn.cli import main
graph.batchnorm = lambda *args: slow_graph()
raise SystemExit(main(["graph", "-o", OUTPUT]))
"""


@pytest.mark.skipif(not HAS_PROC, reason="finds child processes through /proc")
def test_sigterm_during_a_render_leaves_no_dot_and_no_file(tmp_path: Path) -> None:
    python = start_python(GRAPH_SLOWLY.replace("OUTPUT", repr(str(tmp_path / "bn.svg"))))
    try:
        dot = wait_for_dot(python.pid)
        python.send_signal(signal.SIGTERM)
        out, err = python.communicate(timeout=10)
    finally:
        python.kill()
    assert python.returncode == -signal.SIGTERM, err  # a shell shows 143
    assert out == "" and "Traceback" not in err
    assert group_is_gone(dot) and command_name(dot) == ""
    assert files(tmp_path) == []


def test_graph_collapse_draws_bn_as_one_block(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--collapse", "-o", str(tmp_path / "g.dot")]) == 0
    source = (tmp_path / "g.dot").read_text()
    assert source.count("class=block") == 1
    assert "∂batchnorm/∂(1)" in source and "∂batchnorm/∂(9)" in source
    assert "(3) x − mean" not in source  # the twelve nodes are inside the block
    assert main(["graph", "-o", str(tmp_path / "full.dot")]) == 0
    assert "(3) x − mean" in (tmp_path / "full.dot").read_text()
