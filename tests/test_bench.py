"""The benchmark script's bookkeeping (its timings are never asserted: machines are noisy)."""

from __future__ import annotations

import runpy
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.cli import bench as cli_bench
from autograd_bn.cli import main

BENCH = runpy.run_path(str(Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"),
                       run_name="bench_under_test")


def test_every_method_computes_the_same_dx() -> None:
    x, gamma, beta, dout = BENCH["inputs"](8, 3, "float64")
    results = {name: fn() for name, fn in BENCH["bn_methods"](x, gamma, beta, dout).items()}
    reference = results.pop("engine")
    for name, value in results.items():
        dx = value[0] if isinstance(value, tuple) else value
        dx = dx.detach().numpy() if hasattr(dx, "detach") else dx
        np.testing.assert_allclose(dx, reference, rtol=1e-9, atol=1e-12, err_msg=name)


def test_sampled_times_are_positive_per_call_figures() -> None:
    times = BENCH["sample_times"]({"a": lambda: sum(range(10)), "b": lambda: None}, 3, 0.001)
    assert set(times) == {"a", "b"} and all(t > 0 for ts in times.values() for t in ts)
    assert BENCH["peak_memory"](lambda: np.ones(100_000)) >= 800_000


def test_each_method_follows_each_other_one_in_some_round() -> None:
    calls: list[str] = []
    methods = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    BENCH["sample_times"](methods, 12, 0.0)  # one call per method per round (and calibration)
    rounds = [calls[i:i + 3] for i in range(3, len(calls), 3)]
    assert all(sorted(r) == ["a", "b", "c"] for r in rounds)
    after = {(r[i - 1], r[i]) for r in rounds for i in (1, 2)}
    assert after == {(x, y) for x in "abc" for y in "abc" if x != y}  # rotation gives only 3


def test_the_one_thread_timing_is_wired_to_torch_on_one_thread(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    seconds = {"engine": 1.0, "torch eager": 2.0, "torch eager, 1 thread": 4.0}
    wrapped = []

    def one_thread(fn: Callable[[], object]) -> Callable[[], object]:
        def run() -> object:
            return fn()
        wrapped.append(run)
        return run

    def fake_sample_times(methods: dict[str, Callable[[], object]], rounds: int,
                          target: float) -> dict[str, list[float]]:
        if "torch eager, 1 thread" in methods:  # timed apart, with the engine only
            assert set(methods) == {"engine", "torch eager, 1 thread"}
            assert methods["torch eager, 1 thread"] in wrapped
        return {name: [seconds.get(name, 3.0)] * rounds for name in methods}

    module = BENCH["measure_bn"].__globals__  # (run_path returned a copy of it)
    monkeypatch.setitem(module, "sample_times", fake_sample_times)
    monkeypatch.setitem(module, "one_thread", one_thread)
    plain, = BENCH["measure_bn"]([(4, 5, "float64")], 3, 0.0)
    assert "torch eager, 1 thread" not in plain["seconds"]
    row, = BENCH["measure_bn"]([(4, 5, "float64")], 3, 0.0, with_one_thread=True)
    assert len(wrapped) == 1
    assert row["seconds"]["torch eager, 1 thread"] == 4.0
    assert row["ratios"]["engine / torch eager, 1 thread"] == 0.25
    assert row["ratios"]["engine / torch eager"] == 0.5


def test_a_run_times_torch_on_one_thread_once_settled_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    module = BENCH["run"].__globals__
    monkeypatch.setitem(module, "sample_times", lambda methods, rounds, target: {
        name: [1.0] * rounds for name in methods})
    monkeypatch.setitem(module, "warm_up", lambda methods, seconds: None)
    results = BENCH["run"](True)
    assert all("torch eager, 1 thread" not in row["seconds"] for row in results["bn"])
    assert all(row["ratios"]["engine / torch eager, 1 thread"] == 1.0
               for row in results["bn_settled"])


def test_paired_ratio_is_the_median_of_ratios_within_rounds() -> None:
    samples = {"a": [1.0, 2.0, 30.0], "b": [2.0, 4.0, 10.0]}  # a slow spell in round 2
    assert BENCH["paired_ratio"](samples, "a", "b") == 0.5  # not median 2 / median 4 ...
    assert BENCH["paired_ratio"](samples, "b", "a") == 2.0
    times = BENCH["sample_times"]({"a": lambda: None, "b": lambda: None}, 4, 0.001)
    assert [len(v) for v in times.values()] == [4, 4]


def test_settling_the_allocator_frees_one_large_block_and_keeps_nothing() -> None:
    tracemalloc.start()
    try:
        BENCH["settle_allocator"]()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 31 << 20 and kept < 4096


def test_checks_and_report_from_given_numbers() -> None:
    fast = {"engine": 1.0, "numpy + staged": 2.0, "numpy + compact": 1.0, "torch eager": 3.0}
    ratios = {"engine / numpy + staged": 0.5, "engine / numpy + compact": 1.0,
              "engine / torch eager": 0.33}
    results = {
        "machine": {"python": "3", "numpy": "2", "torch": "2", "cpus": 2}, "quick": True,
        "bn": [{"N": 4, "D": 5, "dtype": "float64", "seconds": dict(fast), "ratios": ratios},
               {"N": 4096, "D": 1024, "dtype": "float64",
                "seconds": {**fast, "numpy + compact": 0.5},
                "ratios": {**ratios, "engine / numpy + compact": 2.0}}],
        "chains": {"engine": 2e-6, "torch": 5e-6, "engine 100k": 5e-6},
        "chain_ratios": {"engine / torch": 0.4, "100k / 1k": 2.5},
        "memory": [{"N": 1024, "D": 256, "bytes": {"engine": 10, "numpy + staged": 10,
                                                   "numpy + compact": 5}}],
    }
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    assert checks["engine / torch eager, 4×5"]["ok"]  # 0.33 ≤ 0.5
    assert checks["engine / torch eager, 4096×1024"]["ratio"] == 0.33
    assert not checks["engine / numpy + compact, 4096×1024"]["ok"]  # 2.0 > 1.5
    assert not checks["per op, 100k chain / 1k chain"]["ok"]  # 2.5 > 2
    assert checks["per-op overhead, engine / torch"]["ratio"] == pytest.approx(0.4)
    assert checks["peak memory, engine / numpy + staged, 1024×256"]["ratio"] == 1.0
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    assert "MISSED" in text and "engine / torch eager, 4×5" in text
    assert "settled" not in text  # no settled run, no second table

    # the settled run is checked against the same limits, and gets a table of its own
    slow = {**ratios, "engine / torch eager": 1.02}
    results["bn_settled"] = [{"N": 1024, "D": 256, "dtype": "float64",
                              "seconds": {**fast, "engine": 3.06}, "ratios": slow}]
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    assert not checks["engine / torch eager, 1024×256, settled"]["ok"]  # 1.02 > 1.0
    assert checks["engine / numpy + staged, 1024×256, settled"]["ok"]
    assert "engine / torch eager, 1024×256" not in checks  # (no such run before settling)
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    assert "The same once the allocator is settled" in text
    assert "3060.000" in text.split("The same once")[1]  # the settled engine time, in ms
    assert "Not checked" not in text  # no one-thread timing, no such lines

    # the engine against torch on one thread is reported, never checked
    results["bn_settled"][0]["ratios"]["engine / torch eager, 1 thread"] = 0.8
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    assert not any("1 thread" in name for name in checks)
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    not_checked = text.split("Not checked")[1].splitlines()
    assert not_checked[1].split() == ["1024×256,", "settled", "0.800"]


def test_one_thread_holds_torch_to_one_thread_and_gives_its_threads_back() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    assert BENCH["one_thread"](torch.get_num_threads)() == 1
    assert torch.get_num_threads() == before

    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        BENCH["one_thread"](fails)()
    assert torch.get_num_threads() == before


def test_cli_bench_without_the_source_tree(monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(cli_bench, "SCRIPT", Path("/nonexistent/bench.py"))
    assert main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("autograd-bn: error: the benchmark script is not here")
    assert err.count("\n") == 1


def test_cli_bench_json_into_a_missing_folder_fails_before_measuring(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--quick", "--json", "/nonexistent/folder/b.json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""  # nothing was measured
    assert "folder /nonexistent/folder does not exist" in captured.err


def test_the_readme_table_is_the_committed_run() -> None:
    """The README's performance table is the report of benchmarks/results.json, line for line."""
    import json

    root = Path(__file__).resolve().parent.parent
    results = json.loads((root / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    readme = (root / "README.md").read_text(encoding="utf-8")
    report = BENCH["report"](results)
    table = report[report.index("BN forward+backward, median ms per call"):]
    assert table in readme
