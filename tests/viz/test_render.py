"""`viz.render`: formats, bad input, unwritable places and a missing Graphviz, all checked
before anything is drawn or written."""

from __future__ import annotations

import os
from pathlib import Path

import graphviz
import numpy as np
import pytest

import viz
from autograd_bn import Tensor
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem


def bn_graph() -> Tensor:
    p = make_problem(4, 5, seed=0)
    return batchnorm(p.x, p.gamma, p.beta, p.eps)


@pytest.mark.parametrize(("name", "magic"), [
    ("g.svg", b"<?xml"), ("g.png", b"\x89PNG"), ("g.pdf", b"%PDF"), ("g.dot", b"digraph"),
    ("g.gv", b"digraph"), ("G.SVG", b"<?xml"),
])
def test_render_format_from_extension(tmp_path: Path, name: str, magic: bytes) -> None:
    path = viz.render(bn_graph(), tmp_path / name)
    assert path == tmp_path / name
    assert path.read_bytes().startswith(magic)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_render_dot_is_the_draw_source(tmp_path: Path) -> None:
    out = bn_graph()
    path = viz.render(out, str(tmp_path / "g.dot"), backward=False, rankdir="LR")
    assert path.read_text(encoding="utf-8") == viz.draw(out, backward=False, rankdir="LR").source


def test_render_explicit_format(tmp_path: Path) -> None:
    assert viz.render(bn_graph(), tmp_path / "graph", format="png").read_bytes()[:4] == b"\x89PNG"
    assert viz.render(bn_graph(), tmp_path / "g.txt", format="DOT").read_text().startswith(
        "digraph")


@pytest.mark.parametrize("bad", [np.ones(3), [1.0], None, "x"])
def test_non_tensor_is_a_type_error(bad, tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="needs a Tensor"):
        viz.draw(bad)
    with pytest.raises(TypeError, match="needs a Tensor"):
        viz.render(bad, tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


def test_bad_path_rankdir_and_option(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="path must be"):
        viz.render(bn_graph(), 42)
    with pytest.raises(ValueError, match="rankdir must be one of TB, BT, LR, RL"):
        viz.draw(bn_graph(), rankdir="sideways")
    with pytest.raises(TypeError):
        viz.render(bn_graph(), tmp_path / "g.svg", colour="blue")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "fmt", "words"), [
    ("g.gif", None, ["cannot tell the format", "'.gif'", ".svg"]),
    ("graph", None, ["no extension"]),
    ("g.svg", "gif", ["unknown format 'gif'", "svg, png, pdf, dot"]),
    ("g.png", "svg", ["does not match the extension"]),
])
def test_unknown_or_contradictory_format(tmp_path: Path, name, fmt, words) -> None:
    with pytest.raises(ValueError) as info:
        viz.render(bn_graph(), tmp_path / name, format=fmt)
    for word in words:
        assert word in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.render(bn_graph(), tmp_path / "missing" / "g.svg")
    (tmp_path / "file").write_text("")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        viz.render(bn_graph(), tmp_path / "file" / "g.svg")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_path_is_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "g.svg").mkdir()

    def draw(*args, **kwargs):
        raise AssertionError("drew the graph before finding it cannot be written")

    monkeypatch.setattr("viz.output.draw", draw)  # fail before the work, not after it
    with pytest.raises(IsADirectoryError, match=r"cannot write .*g\.svg: it is a directory"):
        viz.render(bn_graph(), tmp_path / "g.svg")
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        viz.render(bn_graph(), tmp_path, format="dot")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to read-only folders")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="cannot write"):
            viz.render(bn_graph(), folder / "g.svg")
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_unwritable_folder_simulated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("viz.files.tempfile.mkstemp", refuse)
    with pytest.raises(PermissionError, match="cannot write .*Permission denied"):
        viz.render(bn_graph(), tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def no_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH without Graphviz's dot program."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    return tmp_path


@pytest.mark.parametrize("name", ["g.svg", "g.png", "g.pdf"])
def test_missing_dot_says_how_to_install(no_dot: Path, name: str) -> None:
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.render(bn_graph(), no_dot / name)
    message = str(info.value)
    for word in ("dot", "apt install graphviz", "brew install graphviz", "conda install",
                 ".dot"):
        assert word in message
    assert isinstance(info.value, RuntimeError)
    assert sorted(p.name for p in no_dot.iterdir()) == ["empty-bin"]


def test_missing_dot_found_by_which_but_not_runnable(
    no_dot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("viz.output.shutil.which", lambda name: "/usr/bin/dot")
    with pytest.raises(viz.GraphvizNotFoundError, match="could not be run.*apt install"):
        viz.render(bn_graph(), no_dot / "g.svg")


def test_dot_output_needs_no_graphviz(no_dot: Path) -> None:
    path = viz.render(bn_graph(), no_dot / "g.dot")
    assert path.read_text(encoding="utf-8").startswith("digraph autograd {")


def test_failed_render_keeps_the_old_file(no_dot: Path) -> None:
    old = no_dot / "g.svg"
    old.write_text("old picture")
    with pytest.raises(viz.GraphvizNotFoundError):
        viz.render(bn_graph(), old)
    assert old.read_text() == "old picture"
    assert sorted(p.name for p in no_dot.iterdir()) == ["empty-bin", "g.svg"]


def test_graphviz_failure_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self, format=None, **kwargs):
        raise graphviz.CalledProcessError(1, ["dot"], output=b"", stderr=b"Error: out of\nmemory")

    monkeypatch.setattr(graphviz.Digraph, "pipe", broken)
    with pytest.raises(RuntimeError, match="Graphviz failed to render svg: Error: out of memory"):
        viz.render(bn_graph(), tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []
