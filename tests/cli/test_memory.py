"""Bounded memory: every command estimates its peak before starting and refuses above a limit
(--max-memory, by default a share of the available memory). Tested with estimates and a tiny
limit, never by allocating gigabytes."""

from __future__ import annotations

import argparse
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.cli import main, memory

FAST = ["--no-numerical", "--no-torch", "--repeats", "1"]


@pytest.mark.parametrize("text, size", [
    ("2G", 2 * 2**30), ("512M", 512 * 2**20), ("1.5GB", int(1.5 * 2**30)),
    ("800MiB", 800 * 2**20),
    ("100000", 100000), ("64k", 65536), ("none", memory.NO_LIMIT), ("1e9", 10**9),
])
def test_sizes(text: str, size: int | str) -> None:
    assert memory.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "abc", "-1G", "0", "2X", "nan"])
def test_bad_sizes(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="invalid size"):
        memory.parse_size(text)


def test_the_estimate_grows_with_the_problem_and_the_dtype() -> None:
    small = memory.estimate("trace", 4, 5)
    big = memory.estimate("trace", 10000, 1000)
    assert small < 70 * 2**20 < 2 * 2**30 < big < 5 * 2**30  # (measured: 3.2 GB before)
    assert memory.estimate("trace", 10000, 1000, "float32") < big
    assert memory.estimate("graph", 10000, 1000) < memory.estimate("graph --values", 10000, 1000)
    assert memory.estimate("trace --json --full", 1000, 1000) > 4 * 10**9  # ~4 kB/element
    assert memory.estimate("compare", 50, 50, numerical=True) > memory.estimate("compare", 50, 50)


@pytest.mark.parametrize("command", [
    ["graph", "-o", "g.svg"], ["graph", "-o", "g.svg", "--values"], ["trace"],
    ["trace", "--json", "--full"], ["compare", *FAST], ["report", *FAST], ["bench"],
])
def test_every_command_refuses_above_the_limit_before_starting(
        command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    problem = [] if command[0] == "bench" else ["-N", "2000", "-D", "1000"]
    assert main([*command, *problem, "--max-memory", "50M"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and list(tmp_path.iterdir()) == []
    line = captured.err
    assert line.startswith(f"autograd-bn: error: autograd-bn {command[0]}")
    assert line.count("\n") == 1
    assert "would need about" in line and "more than the limit of 50 MB (--max-memory)" in line


def test_the_default_limit_is_a_share_of_the_available_memory(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(memory, "available", lambda: 80 * 2**20)
    assert main(["trace", "-N", "1000", "-D", "1000"]) == 2
    assert "more than the limit of 60 MB (75% of the 80 MB available now)" in (
        capsys.readouterr().err)
    assert main(["trace", "-N", "1000", "-D", "1000", "--max-memory", "none"]) == 0


def test_available_memory_is_read() -> None:
    free = memory.available()
    assert free is None or free > 0


@pytest.mark.parametrize("command, argv", [
    ("graph", ["graph", "-o", "{tmp}/g.dot"]),
    ("graph --values", ["graph", "-o", "{tmp}/g.dot", "--values"]),
    ("trace", ["trace"]),
    ("compare", ["compare", *FAST]),
    ("report", ["report", "-o", "{tmp}/r.html", *FAST]),
])
def test_the_estimates_bound_what_numpy_allocates(command: str, argv: list[str],
                                                  tmp_path: Path, capsys) -> None:
    """At 300×100 what Python allocates (tracemalloc), less 8 MB for what does not grow with
    the problem (the page's text, the SVG), stays under the estimate per element."""
    n, d = 300, 100
    tracemalloc.start()
    try:
        main([a.format(tmp=tmp_path) for a in argv] + ["-N", str(n), "-D", str(d)])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    capsys.readouterr()
    per_element = (memory.estimate(command, n, d) - memory.BASE) / (n * d)
    measured = (peak - 8 * 2**20) / (n * d)
    assert measured <= per_element, (measured, per_element)


def test_graph_without_values_draws_no_dout_and_runs_no_backward(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autograd_bn.engine.tensor import Tensor

    def no_backward(*args: object, **kwargs: object) -> None:
        raise AssertionError("graph without --values ran a backward pass")

    monkeypatch.setattr(Tensor, "backward", no_backward)
    made = []
    import autograd_bn.cli.common as common

    real = common.make_problem
    monkeypatch.setattr(common, "make_problem", lambda *a, **k: made.append(k) or real(*a, **k))
    assert main(["graph", "-o", str(tmp_path / "g.dot"), "-N", "300", "-D", "100"]) == 0
    assert made == [{"with_dout": False}]


def test_trace_json_writes_summaries_unless_full(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--json", "-N", "30", "-D", "20"]) == 0
    short = capsys.readouterr().out
    step = json.loads(short)["steps"][0]
    assert set(step["grad"]) == {"first", "size", "mean", "min", "max", "non_finite"}
    assert step["grad"]["size"] == 600 and len(step["grad"]["first"]) == 5
    assert main(["trace", "--json", "--full", "-N", "30", "-D", "20"]) == 0
    full = capsys.readouterr().out
    grad = np.array(json.loads(full)["steps"][0]["grad"])
    assert grad.shape == (30, 20)
    assert grad.ravel()[:5].tolist() == step["grad"]["first"]
    assert len(short) * 5 < len(full)


def test_full_without_json_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--full"]) == 2
    assert "--full is for --json" in capsys.readouterr().err
