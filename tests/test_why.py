"""benchmarks/why.py: its plain-numpy BN is the engine's, and the script runs (times unasserted)."""

from __future__ import annotations

import runpy
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm

WHY = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "why.py"),
                     run_name="why_under_test")


@pytest.mark.parametrize(("n", "d"), [(1, 3), (8, 3), (64, 100), (1024, 256)])
def test_plain_numpy_bn_gives_the_engines_gradients(n: int, d: int) -> None:
    rng = np.random.default_rng(n)
    x = rng.standard_normal((n, d)) * 5 + 12
    gamma, beta, dout = rng.standard_normal(d), rng.standard_normal(d), rng.standard_normal((n, d))
    leaves = Tensor(x), Tensor(gamma), Tensor(beta)
    batchnorm(*leaves, WHY["bench"].EPS).backward(dout)
    for keep_all in (False, True):
        grads = WHY["plain_numpy_bn"](x, gamma, beta, dout, keep_all=keep_all)
        for got, leaf in zip(grads, leaves, strict=True):
            np.testing.assert_allclose(got, leaf.grad, rtol=1e-9, atol=1e-12)


def test_keeping_all_keeps_the_engines_arrays_to_the_end() -> None:
    x, gamma, beta, dout = WHY["bench"].inputs(256, 256, "float64")  # 0.5 MB arrays
    peaks = {}
    for keep_all in (False, True):
        tracemalloc.start()
        try:
            WHY["plain_numpy_bn"](x, gamma, beta, dout, keep_all=keep_all)
            peaks[keep_all] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peaks[True] - peaks[False] >= 3 * x.nbytes  # at least three more held at once


def test_measure_prints_medians_and_the_first_method_over_each(
        monkeypatch: pytest.MonkeyPatch) -> None:
    samples = {"engine": [2e-6, 3e-6, 9e-6], "plain": [1e-6, 1e-6, 3e-6]}  # ratios 2, 3, 3
    monkeypatch.setattr(WHY["bench"], "sample_times", lambda methods, rounds, target: samples)
    lines = WHY["measure"]({"engine": lambda: None, "plain": lambda: None}, 3, 0.0)
    assert lines[0].split() == ["engine", "3.0", "µs"]
    assert lines[1].split() == ["plain", "1.0", "µs", "engine", "/", "this:", "3.00"]


def test_torch_is_timed_on_its_own_threads_then_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    methods = WHY["bn_methods"]()
    assert list(methods) == ["engine", "plain numpy, same passes", "the same, keeping all",
                             "torch eager"]
    assert list(WHY["one_thread_methods"]()) == ["engine", "torch eager, 1 thread"]
    timed: list[object] = []
    monkeypatch.setattr(WHY["bench"], "hold_torch_to_one_thread", lambda: timed.append("hold"))
    monkeypatch.setattr(WHY["bench"], "sample_times", lambda methods, rounds, target: (
        timed.append(list(methods)) or {name: [1.0] * rounds for name in methods}))
    WHY["run"](True)
    at = timed.index("hold")
    assert timed[at - 1] == list(methods)  # torch on its own threads, before
    assert timed[at + 1:] == [["engine", "torch eager, 1 thread"]]  # one thread, last


def test_the_quick_run_reports_every_measurement(capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(WHY["bench"], "hold_torch_to_one_thread", lambda: None)  # (this process)
    assert WHY["main"](["--quick"]) == 0
    out = capsys.readouterr().out
    for line in ("(N, D) · (D,) row", "to a thread and back", "plain numpy, same passes"):
        assert line in out
    assert "engine / this:" in out
