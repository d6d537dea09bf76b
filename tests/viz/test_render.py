"""`viz.render`: formats, bad input, unwritable places and a missing Graphviz, all checked
before anything is drawn or written; time and node limits, and no ``dot`` or file left behind
after a timeout, Ctrl-C, SIGTERM or SIGHUP."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import viz
from autograd_bn import Tensor
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem
from tests.slow import (
    HAS_PROC,
    command_name,
    group_is_gone,
    slow_graph,
    start_python,
    wait_for_dot,
)
from viz import process


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


def fake_dot(folder: Path, script: str) -> Path:
    """A folder, to put first on PATH, whose ``dot`` is the shell ``script``."""
    bin_dir = folder / "fake-bin"
    bin_dir.mkdir()
    dot = bin_dir / "dot"
    dot.write_text(f"#!/bin/sh\n{script}\n")
    dot.chmod(0o755)
    return bin_dir


@pytest.mark.parametrize(("script", "message"), [
    ("cat >/dev/null; echo 'Error: out of' >&2; echo memory >&2; exit 1",
     "Graphviz failed to render svg: Error: out of memory"),
    ("cat >/dev/null; exit 3", "Graphviz failed to render svg: dot exited with 3"),
    ("cat >/dev/null; kill -SEGV $$", "Graphviz failed to render svg: dot was killed by SIGSEGV"),
])
def test_graphviz_failure_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, script: str, message: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("PATH", f"{fake_dot(tmp_path, script)}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(RuntimeError) as info:
        viz.render(bn_graph(), out / "g.svg")
    assert str(info.value) == message
    assert list(out.iterdir()) == []


# Bounded rendering: a time limit, a node limit, and no dot (or file) left behind however the
# render ends. `slow_graph()` is 103 nodes that dot needs minutes for.

needs_proc = pytest.mark.skipif(not HAS_PROC, reason="finds child processes through /proc")


@pytest.fixture
def dots(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen]:
    """Every process `viz` starts, as it starts it."""
    started: list[subprocess.Popen] = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.pgid = os.getpgid(self.pid)
            started.append(self)

    monkeypatch.setattr("viz.process.subprocess.Popen", Recorded)
    return started


def assert_stopped(dots: list[subprocess.Popen]) -> None:
    """One dot was started, in a process group of its own, and nothing of it is left."""
    assert len(dots) == 1
    dot = dots[0]
    assert dot.returncode is not None  # reaped
    assert dot.pgid == dot.pid  # it led a process group of its own...
    assert group_is_gone(dot.pid)  # ...of which nothing is left, not even a zombie
    assert not Path(f"/proc/{dot.pid}").exists() or not HAS_PROC


def test_timeout_stops_dot_and_keeps_the_old_file(tmp_path: Path, dots) -> None:
    old = tmp_path / "g.svg"
    old.write_text("old picture")
    start = time.monotonic()
    with pytest.raises(viz.RenderTimeoutError) as info:
        viz.render(slow_graph(), old, timeout=0.5)
    took = time.monotonic() - start
    message = str(info.value)
    for words in ("103 nodes", "300 edges", "limit of 0.5 s", "timeout=", "--timeout",
                  "collapse blocks (collapse=)", "smaller graph"):
        assert words in message
    assert isinstance(info.value, RuntimeError)
    assert 0.5 <= took < 0.5 + process.GRACE + 1.5, took
    assert_stopped(dots)
    assert old.read_text() == "old picture"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]  # no temporary file


def test_no_timeout_and_a_whole_number(tmp_path: Path, dots) -> None:
    assert viz.render(bn_graph(), tmp_path / "a.svg", timeout=None).read_bytes()[:5] == b"<?xml"
    assert viz.render(bn_graph(), tmp_path / "b.svg", timeout=5).read_bytes()[:5] == b"<?xml"
    assert [dot.returncode for dot in dots] == [0, 0]


@pytest.mark.parametrize(("timeout", "error"), [
    (0, ValueError), (-1, ValueError), (float("nan"), ValueError), (float("inf"), ValueError),
    ("60", TypeError), (True, TypeError), ([1], TypeError),
])
def test_bad_timeout(tmp_path: Path, timeout, error, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("viz.output.draw", fail_if_drawn)
    with pytest.raises(error, match="timeout must be a"):
        viz.render(bn_graph(), tmp_path / "g.svg", timeout=timeout)
    with pytest.raises(error, match="timeout must be a"):
        viz.render(bn_graph(), tmp_path / "g.dot", timeout=timeout)
    assert list(tmp_path.iterdir()) == []


def fail_if_drawn(*args, **kwargs):
    raise AssertionError("drew the graph before refusing it")


def test_node_limit_refuses_before_dot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = bn_graph()
    count = len(out.nodes())

    def no_dot(*args, **kwargs):
        raise AssertionError("started dot")

    monkeypatch.setattr("viz.process.subprocess.Popen", no_dot)
    monkeypatch.setattr("viz.output.draw", fail_if_drawn)
    with pytest.raises(ValueError) as info:
        viz.render(out, tmp_path / "g.png", max_nodes=count - 1)
    message = str(info.value)
    for words in (f"has {count} nodes", f"max_nodes={count - 1}", "max_nodes=None"):
        assert words in message
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert viz.render(out, tmp_path / "g.svg", max_nodes=count).exists()  # at the limit: drawn
    assert viz.render(out, tmp_path / "g.dot", max_nodes=1).exists()  # DOT source: no layout


def test_default_node_limit(tmp_path: Path) -> None:
    y = Tensor(1.0)
    for _ in range(viz.output.MAX_NODES):
        y = y * 1.0
    with pytest.raises(ValueError, match=f"more than max_nodes={viz.output.MAX_NODES}"):
        viz.render(y, tmp_path / "g.svg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("max_nodes", "error"), [
    (0, ValueError), (-5, ValueError), (10.0, TypeError), ("10", TypeError), (True, TypeError),
])
def test_bad_max_nodes(tmp_path: Path, max_nodes, error) -> None:
    for name in ("g.svg", "g.dot"):
        with pytest.raises(error, match="max_nodes must be"):
            viz.render(bn_graph(), tmp_path / name, max_nodes=max_nodes)
    assert list(tmp_path.iterdir()) == []


@needs_proc
def test_keyboard_interrupt_stops_dot(tmp_path: Path, dots) -> None:
    def interrupt(signum, frame):
        if not dots or command_name(dots[0].pid) != "dot":  # not yet started: try again soon
            signal.setitimer(signal.ITIMER_REAL, 0.05)
            return
        raise KeyboardInterrupt  # interrupted while dot runs

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        with pytest.raises(KeyboardInterrupt):
            viz.render(slow_graph(), tmp_path / "g.svg", timeout=None)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert_stopped(dots)
    assert list(tmp_path.iterdir()) == []


RENDER_SLOWLY = """
import sys, viz
from tests.slow import slow_graph
viz.render(slow_graph(), sys.argv[1])
"""


@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_signal_to_python_stops_dot(tmp_path: Path, sig: signal.Signals) -> None:
    python = start_python(RENDER_SLOWLY.replace("sys.argv[1]", repr(str(tmp_path / "g.svg"))))
    try:
        dot = wait_for_dot(python.pid)
        python.send_signal(sig)
        _, err = python.communicate(timeout=10)
    finally:
        python.kill()
    assert python.returncode == -sig, err  # ended by the signal, as it would have without dot
    assert "Traceback" not in err
    assert group_is_gone(dot) and command_name(dot) == ""
    assert list(tmp_path.iterdir()) == []


@needs_proc
def test_sigterm_goes_to_the_previous_handler(tmp_path: Path, dots) -> None:
    """A program's own SIGTERM handler is back after the render and gets the signal."""

    class Stop(Exception):
        pass

    def stop(signum, frame):
        raise Stop

    def send_sigterm_once_dot_runs() -> None:
        wait_for_dot(os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        threading.Thread(target=send_sigterm_once_dot_runs, daemon=True).start()
        with pytest.raises(Stop):
            viz.render(slow_graph(), tmp_path / "g.svg", timeout=10)
        assert signal.getsignal(signal.SIGTERM) is stop
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert_stopped(dots)
    assert list(tmp_path.iterdir()) == []


@needs_proc
def test_an_ignored_sighup_stays_ignored(tmp_path: Path, dots) -> None:
    """Under ``nohup`` a hang-up does not stop the render (here it runs on to its time limit)."""

    def hang_up_once_dot_runs() -> None:
        wait_for_dot(os.getpid())
        os.kill(os.getpid(), signal.SIGHUP)

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        threading.Thread(target=hang_up_once_dot_runs, daemon=True).start()
        with pytest.raises(viz.RenderTimeoutError):
            viz.render(slow_graph(), tmp_path / "g.svg", timeout=0.5)
        assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert_stopped(dots)


def test_handlers_are_restored_and_threads_can_render(tmp_path: Path) -> None:
    before = {sig: signal.getsignal(sig) for sig in process.TERMINATING + (signal.SIGINT,)}
    viz.render(bn_graph(), tmp_path / "main.svg")
    assert {sig: signal.getsignal(sig) for sig in before} == before
    errors: list[BaseException] = []

    def render_in_thread() -> None:
        try:
            viz.render(bn_graph(), tmp_path / "thread.svg")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=render_in_thread)
    thread.start()
    thread.join()
    assert errors == []
    assert (tmp_path / "thread.svg").read_bytes()[:5] == b"<?xml"
