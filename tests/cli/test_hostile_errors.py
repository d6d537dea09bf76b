"""Hostile use, each with a clear error (or a working answer) instead of a confusing one:
the engine's odd calls, control characters in labels, Ctrl-C while starting, negative numbers
for numeric flags, wide characters in --name."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import viz
from autograd_bn import Tensor, batchnorm
from autograd_bn.cli import join_negative_numbers, main
from autograd_bn.text.table import width


def test_a_huge_integer_says_how_to_write_it() -> None:
    with pytest.raises(TypeError, match="too large for int64: write it as a float"):
        Tensor(10**30)


def test_backward_with_a_tensor_as_grad_says_to_pass_its_data() -> None:
    with pytest.raises(TypeError, match="grad must be an array, not a Tensor: pass t.data"):
        Tensor([1.0, 2.0]).sum().backward(grad=Tensor(1.0))


@pytest.mark.parametrize("method", ["sum", "mean"])
def test_a_third_positional_argument_of_a_reduction(method: str) -> None:
    t = Tensor(np.ones((2, 3)))
    with pytest.raises(TypeError, match=rf"{method}\(\) takes from 1 to 3 positional "
                       r"arguments but 4 were given"):  # (self, axis, keepdims: Python's words)
        getattr(t, method)(0, True, 5)
    assert getattr(t, method)(0, True).shape == (1, 3)


def test_truth_of_a_tensor_is_refused() -> None:
    with pytest.raises(TypeError, match="the truth value of a Tensor is ambiguous"):
        bool(Tensor([0.0]))


def test_a_graph_can_be_deep_copied() -> None:
    out = batchnorm(np.random.RandomState(0).randn(4, 5), np.ones(5), np.zeros(5))
    out.backward(np.ones((4, 5)))
    twin = copy.deepcopy(out)
    assert twin is not out and len(twin.nodes()) == len(out.nodes())
    assert [n.label for n in twin.nodes()] == [n.label for n in out.nodes()]
    np.testing.assert_array_equal(twin.nodes()[0].grad, out.nodes()[0].grad)


@pytest.mark.parametrize("fmt", ["svg", "dot"])
def test_control_characters_in_labels_are_shown_escaped(tmp_path: Path, fmt: str) -> None:
    """Before: "Graphviz failed … syntax error" (\\x00, \\x1b, \\x07 in a label)."""
    t = Tensor([1.0], label="bad\x1bname\x00z") * 2
    t.label = "out\x07"
    path = viz.render(t, tmp_path / f"g.{fmt}")
    text = path.read_text("utf-8")
    assert "bad\\x1bname\\x00z" in text and "out\\x07" in text
    assert "\x1b" not in text and "\x00" not in text


@pytest.mark.parametrize("argv, message", [
    (["trace", "--eps", "-1e-5"], "--eps must be a finite number > 0, got -1e-05"),
    (["trace", "--eps", "-inf"], "--eps must be a finite number > 0, got -inf"),
    (["trace", "-N", "-3"], "-N must be at least 1"),
    (["graph", "--timeout", "-5"], "--timeout must be a number of seconds > 0, got -5"),
])
def test_negative_numbers_reach_the_value_check(argv: list[str], message: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2  # (before: "expected one argument", as if -1e-5 were a flag)
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_only_numbers_are_joined() -> None:
    assert join_negative_numbers(["trace", "--eps", "-1e-5", "-N", "4", "--json"]) == [
        "trace", "--eps=-1e-5", "-N", "4", "--json"]
    assert join_negative_numbers(["--eps", "--json"]) == ["--eps", "--json"]
    assert join_negative_numbers(["--", "--eps", "-1"]) == ["--", "--eps", "-1"]


def test_wide_names_keep_the_table_aligned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "layers.py").write_text(
        "from autograd_bn.bn.manual import batchnorm_forward, backward_compact as backward\n"
        "def forward(x, gamma, beta, bn_param):\n"
        "    return batchnorm_forward(x, gamma, beta, bn_param['eps'])\n")
    monkeypatch.chdir(tmp_path)
    assert main(["compare", "--forward", "layers.py:forward", "--backward",
                 "layers.py:backward", "--name", "批归一化🙂", "--no-torch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.startswith(("autograd ", "批归一化🙂"))][:2]
    assert len(rows) == 2
    assert width(rows[0]) == width(rows[1])  # the time column ends in the same column
    assert width("批归一化🙂") == 10 and width("x̂") == 1


@pytest.mark.skipif(not hasattr(signal, "SIGINT"), reason="no SIGINT")
@pytest.mark.parametrize("delay", [0.1, 0.15, 0.25])
def test_ctrl_c_while_starting_is_one_line(delay: float) -> None:
    """Before: a traceback from inside numpy's import (or an unrelated ImportError)."""
    proc = subprocess.Popen([sys.executable, "-m", "autograd_bn", "trace", "-N", "2000",
                             "-D", "1000", "--max-memory", "none"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    assert proc.stderr is not None
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    if proc.returncode == 0:  # (a fast machine finished first)
        return
    assert "Traceback" not in err
    assert (proc.returncode, err) == (130, "autograd-bn: interrupted\n")


def test_ctrl_c_during_the_imports_is_one_line() -> None:
    """SIGINT exactly while the commands (and numpy) are being imported."""
    script = (
        "import importlib, os, signal\n"
        "import autograd_bn.cli as cli\n"
        "real = importlib.import_module\n"
        "def interrupting(name, *args):\n"
        "    if name.startswith('autograd_bn.cli.'):\n"
        "        os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(name, *args)\n"
        "cli.importlib.import_module = interrupting\n"
        "raise SystemExit(cli.main(['trace']))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert (done.returncode, done.stderr.decode()) == (130, "autograd-bn: interrupted\n")
