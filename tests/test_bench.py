"""The benchmark script's bookkeeping (its timings are never asserted: machines are noisy)."""

from __future__ import annotations

import importlib.util
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


def _fake_run(monkeypatch: pytest.MonkeyPatch, events: list[tuple[str, object]],
              peers: dict[str, object] | None = None) -> dict[str, object]:
    """A quick run with every timing faked (each method 1 s a call), recording in ``events``
    each timed set of methods, each subprocess part and each change of torch's threads."""
    module = BENCH["run"].__globals__  # (run_path returned a copy of it)

    def fake_sample_times(methods: dict[str, Callable[[], object]], rounds: int,
                          target: float) -> dict[str, list[float]]:
        events.append(("sample", frozenset(methods)))
        return {name: [1.0] * rounds for name in methods}

    def fake_subprocess(part: str, env: dict[str, str], quick: bool) -> dict[str, object]:
        events.append(("subprocess", (part, dict(env))))
        return {"env": env, "error": "faked"}

    if module["torch"] is not None:  # (torch's threads stay as they are in this process)
        monkeypatch.setattr(module["torch"], "set_num_threads",
                            lambda n: events.append(("threads", n)))
    monkeypatch.setitem(module, "sample_times", fake_sample_times)
    monkeypatch.setitem(module, "warm_up", lambda methods, seconds: None)
    monkeypatch.setitem(module, "run_in_subprocess", fake_subprocess)
    monkeypatch.setitem(module, "measure_peers", lambda rounds, target: peers or {
        "installed": {"autograd": None, "jax": None, "micrograd": None}, "bn": [],
        "per_op_0d": None})
    return BENCH["run"](True)


def test_one_thread_rounds_run_last_and_torch_is_never_switched_back(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch")
    events: list[tuple[str, object]] = []
    results = _fake_run(monkeypatch, events)
    switches = [e for e in events if e[0] == "threads"]
    assert switches == [("threads", 1)]  # once, to one thread, and never back
    at = events.index(("threads", 1))
    before, after = events[:at], events[at + 1:]
    assert all(kind == "sample" and what == {"engine", "torch eager, 1 thread"}
               for kind, what in after)
    assert len(after) == len(BENCH["SIZES"])  # one pair of methods per settled size
    assert any(kind == "sample" and "torch eager" in what for kind, what in before)
    assert [e[1][0] for e in before if e[0] == "subprocess"] == ["per-op", "bn"]
    assert all("torch eager, 1 thread" not in row["seconds"] for row in results["bn"])
    assert all(row["ratios"]["engine / torch eager, 1 thread"] == 1.0
               for row in results["bn_settled"])


def test_variables_read_at_import_are_set_in_processes_of_their_own(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, object]] = []
    results = _fake_run(monkeypatch, events)
    parts = dict(e[1] for e in events if e[0] == "subprocess")  # type: ignore[misc]
    assert parts == {"per-op": {"AUTOGRAD_BN_PLAIN": "1"}, "bn": {"OPENBLAS_NUM_THREADS": "1"}}
    assert results["plain"]["error"] == "faked"  # merged into the results as returned
    assert results["one_blas_thread"]["env"] == {"OPENBLAS_NUM_THREADS": "1"}
    text = BENCH["report"](results)
    assert "OPENBLAS_NUM_THREADS=1 (a process of its own" in text and "not measured" in text


def test_a_part_in_a_subprocess_sees_its_variable_and_comes_back_merged() -> None:
    pytest.importorskip("torch")
    part = BENCH["run_in_subprocess"]("per-op", {"AUTOGRAD_BN_PLAIN": "1"}, True)
    assert part["env"] == {"AUTOGRAD_BN_PLAIN": "1"}
    assert part["environment"]["AUTOGRAD_BN_PLAIN"] == "1"  # as the child process saw it
    assert set(part["chains"]) == {"engine, new numbers", "torch, new numbers"}
    assert part["chain_ratios"]["engine / torch, new numbers"] > 0


def test_the_0d_part_imports_only_numpy_the_engine_and_micrograd() -> None:
    pytest.importorskip("micrograd", reason="micrograd is not installed (the peers extra)")
    part = BENCH["run_in_subprocess"]("per-op-0d", {"AUTOGRAD_BN_BENCH_NO_TORCH": "1"}, True)
    assert part["environment"]["AUTOGRAD_BN_BENCH_NO_TORCH"] == "1"
    assert part["imported"] == ["autograd_bn", "micrograd", "numpy"]  # no torch, jax, viz
    assert set(part["seconds"]) == set(part["gc_disabled"]["seconds"]) == {"engine",
                                                                          "micrograd"}
    assert part["ratio"] > 0 and part["gc_disabled"]["ratio"] > 0


def test_a_part_that_fails_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.executable", "/bin/false")
    part = BENCH["run_in_subprocess"]("bn", {"OPENBLAS_NUM_THREADS": "1"}, True)
    assert part["env"] == {"OPENBLAS_NUM_THREADS": "1"}
    assert part["error"].startswith("exit status 1")


def test_a_new_number_at_every_op_in_each_of_five_calls() -> None:
    numbers = BENCH["_numbers"](10, True)
    calls = [next(numbers) for _ in range(6)]
    assert len({x for call in calls[:5] for x in call}) == 50  # all new
    assert calls[5] == calls[0]  # then the first set again (the engine has dropped it)
    assert next(BENCH["_numbers"](10, False)) == [1.0001, 0.5] * 5


def test_the_chains_compute_y_times_c_plus_d() -> None:
    numbers = next(BENCH["_numbers"](6, True))
    c = numbers[0::2]
    # y = ((x·c0 + d0)·c1 + d1)·c2 + d2: dy/dx = c0·c1·c2
    np.testing.assert_allclose(BENCH["chain"](6, new_numbers=True)(), np.full((4, 5), np.prod(c)))
    assert BENCH["chain"](6, new_numbers=True, shape=())().shape == ()
    if importlib.util.find_spec("micrograd"):
        assert BENCH["micrograd_chain"](6)() == pytest.approx(np.prod(c))
    if importlib.util.find_spec("torch"):
        got = BENCH["chain"](6, use_torch=True, new_numbers=True)().numpy()
        np.testing.assert_allclose(got, np.full((4, 5), np.prod(c)))


@pytest.mark.parametrize("peer", ["autograd", "jax", "micrograd"])
@pytest.mark.parametrize(("n", "d"), [(4, 5), (8, 3)])
def test_each_peer_gives_the_engines_gradients(peer: str, n: int, d: int) -> None:
    pytest.importorskip(peer, reason=f"{peer} is not installed (the peers extra)")
    x, gamma, beta, dout = BENCH["inputs"](n, d, "float64")
    want = BENCH["engine_bn_grads"](x, gamma, beta, dout)
    if peer == "autograd":
        fns = [BENCH["hips_autograd_bn"](x, gamma, beta, dout)]
    elif peer == "jax":
        eager, jitted, compile_seconds = BENCH["jax_bn"](x, gamma, beta, dout, compiles=1)
        fns = [eager, jitted]
        assert compile_seconds > 0
    else:
        fns = [BENCH["micrograd_bn"](x, gamma, beta, dout)]
    for fn in fns:
        got = fn()
        BENCH["assert_same_grads"](peer, got, want)
        wrong = (np.asarray(got[0]) * (1 + 1e-5), got[1], got[2])
        with pytest.raises(AssertionError, match="dx differs"):
            BENCH["assert_same_grads"](peer, wrong, want)


def test_peer_methods_are_only_the_installed_ones() -> None:
    x, gamma, beta, dout = BENCH["inputs"](4, 5, "float64")
    none = {"autograd": None, "jax": None, "micrograd": None}
    assert BENCH["peer_bn_methods"](x, gamma, beta, dout, none) == ({}, {})
    if importlib.util.find_spec("micrograd"):
        methods, _ = BENCH["peer_bn_methods"](x, gamma, beta, dout, {**none, "micrograd": "0"})
        assert list(methods) == ["micrograd"]  # at 4×5 only
        x, gamma, beta, dout = BENCH["inputs"](64, 100, "float64")
        assert BENCH["peer_bn_methods"](x, gamma, beta, dout, {**none, "micrograd": "0"}
                                        ) == ({}, {})


def test_measuring_no_peers_times_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    module = BENCH["measure_peers"].__globals__
    monkeypatch.setitem(module, "installed_peers", lambda: {"autograd": None, "jax": None,
                                                            "micrograd": None})
    monkeypatch.setitem(module, "sample_times", lambda *args: pytest.fail("timed"))
    assert BENCH["measure_peers"](3, 0.0) == {
        "installed": {"autograd": None, "jax": None, "micrograd": None}, "bn": [],
        "per_op_0d": None}


def test_peers_are_timed_against_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    module = BENCH["measure_peers"].__globals__
    found = {"autograd": "1", "jax": None, "micrograd": "0.1"}
    monkeypatch.setitem(module, "installed_peers", lambda: found)
    monkeypatch.setitem(module, "warm_up", lambda methods, seconds: None)
    monkeypatch.setitem(module, "peer_bn_methods", lambda x, g, b, dout, f: (
        {"HIPS autograd": lambda: None}, {}))
    monkeypatch.setitem(module, "micrograd_chain", lambda n_ops: lambda: None)
    timed = []
    seconds = {"engine": 1.0, "HIPS autograd": 4.0, "micrograd": 500.0}

    def fake_sample_times(methods: dict[str, Callable[[], object]], rounds: int,
                          target: float) -> dict[str, list[float]]:
        timed.append(sorted(methods))
        return {name: [seconds[name]] * rounds for name in methods}

    monkeypatch.setitem(module, "sample_times", fake_sample_times)
    peers = BENCH["measure_peers"](3, 0.0)
    assert timed == [["HIPS autograd", "engine"]] * 3  # the 0-d pair: in a process of its own
    assert [(r["N"], r["D"]) for r in peers["bn"]] == BENCH["PEER_SIZES"]
    assert peers["bn"][0]["ratios"] == {"engine / HIPS autograd": 0.25}
    assert peers["per_op_0d"] is None


def test_the_0d_pair_runs_in_a_process_of_its_own_without_torch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, object]] = []
    installed = {"autograd": None, "jax": None, "micrograd": "0.1.0"}
    results = _fake_run(monkeypatch, events, {"installed": installed, "bn": [],
                                              "per_op_0d": None})
    parts = [e[1] for e in events if e[0] == "subprocess"]
    assert ("per-op-0d", {"AUTOGRAD_BN_BENCH_NO_TORCH": "1"}) in parts
    assert not any(kind == "sample" and "micrograd" in what for kind, what in events)
    assert results["peers"]["per_op_0d"]["error"] == "faked"  # merged into the peers
    assert not any("micrograd" in c["check"] for c in results["checks"])  # nothing to check
    assert "0-d tensor (a 1,000-op chain, a new number at every op): not measured (faked)" \
        in BENCH["report"](results)


def test_the_0d_pair_is_timed_with_the_collector_on_then_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    module = BENCH["measure_per_op_0d"].__globals__
    # (micrograd's place taken by a second engine chain: this test needs no micrograd)
    monkeypatch.setitem(module, "micrograd_chain",
                        lambda n_ops: BENCH["chain"](n_ops, new_numbers=True, shape=()))
    seen: list[tuple[bool, object]] = []
    seconds = iter([{"engine": 4.0, "micrograd": 8.0}, {"engine": 3.0, "micrograd": 2.0}])

    def fake_sample_times(methods: dict[str, Callable[[], object]], rounds: int, target: float,
                          before: Callable[[], object] | None = None) -> dict[str, list[float]]:
        seen.append((gc.isenabled(), before))
        times = next(seconds)
        return {name: [times[name]] * rounds for name in methods}

    monkeypatch.setitem(module, "sample_times", fake_sample_times)
    assert gc.isenabled()
    part = BENCH["measure_per_op_0d"](3, 0.0)
    assert seen == [(True, None), (False, gc.collect)]  # on as found; off, a collection a turn
    assert gc.isenabled()  # and on again after
    assert part["seconds"] == {"engine": 4e-3, "micrograd": 8e-3} and part["ratio"] == 0.5
    assert part["gc_disabled"] == {"seconds": {"engine": 3e-3, "micrograd": 2e-3},
                                   "ratio": 1.5}
    assert "numpy" in part["imported"] and part["gc_objects"] > 0


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
    assert not_checked[1].split()[-3:] == ["1024×256,", "settled", "0.800"]
    assert "torch eager, 1 thread (timed last)" in not_checked[1]


def test_new_checks_and_sections_from_given_numbers() -> None:
    row = {"N": 4, "D": 5, "dtype": "float64", "seconds": {"engine": 1.0, "torch eager": 2.0},
           "ratios": {"engine / torch eager": 0.5, "engine / numpy + staged": 1.0}}
    peer_rows = [{"N": n, "D": d, "dtype": "float64",
                  "seconds": {"engine": 1.0, "HIPS autograd": 2.0, "jax jit": 0.5},
                  "ratios": {"engine / HIPS autograd": ratio, "engine / jax jit": 2.0},
                  "compile_seconds": {"jax jit": 0.25}}
                 for (n, d), ratio in [((4, 5), 0.45), ((64, 100), 0.55), ((1024, 256), 0.9)]]
    peer_rows[0]["seconds"]["micrograd"] = 9.0
    results = {
        "machine": {"python": "3", "numpy": "2", "torch": "2", "cpus": 2,
                    "OPENBLAS_NUM_THREADS": None}, "quick": True,
        "bn": [row], "memory": [],
        "chains": {"engine": 2e-6, "torch": 5e-6, "engine, new numbers": 4e-6,
                   "torch, new numbers": 5e-6, "engine 100k": 3e-6},
        "chain_ratios": {"engine / torch": 0.4, "engine / torch, new numbers": 0.8,
                         "100k / 1k": 1.5},
        "peers": {"installed": {"autograd": "1.9", "jax": "0.10", "micrograd": None},
                  "bn": peer_rows,
                  "per_op_0d": {"seconds": {"engine": 3e-6, "micrograd": 2e-6}, "ratio": 1.5}},
        "plain": {"env": {"AUTOGRAD_BN_PLAIN": "1"},
                  "chains": {"engine, new numbers": 2e-6, "torch, new numbers": 5e-6},
                  "chain_ratios": {"engine / torch, new numbers": 0.4}},
        "one_blas_thread": {"env": {"OPENBLAS_NUM_THREADS": "1"}, "bn": [row],
                            "bn_settled": [{**row, "ratios": {"engine / torch eager": 0.3}}]},
    }
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    new = checks["per-op overhead, a new number at every op, engine / torch"]
    assert (new["ratio"], new["limit"], new["ok"]) == (0.8, 0.5, False)
    assert checks["engine / HIPS autograd, 4×5"]["ok"]  # 0.45 ≤ 0.5
    assert not checks["engine / HIPS autograd, 64×100"]["ok"]  # 0.55 > 0.5
    assert checks["engine / HIPS autograd, 1024×256"]["limit"] == 1.0
    assert not checks["per op on a 0-d tensor, engine / micrograd"]["ok"]  # 1.5 > 1
    # only the engine's own mode and HIPS autograd are checked; the rest are reported
    assert not any(w in name for name in checks for w in ("jax", "PLAIN", "OPENBLAS"))
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    assert f"{len(checks) - 3} of {len(checks)} checks passed" in text
    per_op = text.split("Per-op overhead")[1].splitlines()
    assert per_op[2].split() == ["the", "same", "two", "numbers", "2.00", "5.00", "0.400"]
    assert per_op[3].split()[-3:] == ["4.00", "5.00", "0.800"]
    assert per_op[4].split() == ["the", "same,", "AUTOGRAD_BN_PLAIN=1", "2.00", "5.00", "0.400"]
    peers = text.split("Peers (HIPS autograd 1.9, jax 0.10)")[1].splitlines()
    assert peers[2].split() == ["engine", "1000.000", "1000.000", "1000.000"]
    assert peers[5].split() == ["micrograd", "9000.000", "—", "—"]  # at 4×5 only
    assert "4×5 250, 64×100 250, 1024×256 250" in peers[6]  # compile ms, apart
    assert "engine 3.00, micrograd 2.00" in peers[7]
    assert "micrograd: not installed" in peers[8]
    unchecked = dict(line.rsplit(None, 1) for line in
                     text.split("Not checked (reported only)\n")[1].splitlines())
    unchecked = {k.strip(): float(v) for k, v in unchecked.items()}
    assert unchecked["OPENBLAS_NUM_THREADS=1: engine / torch eager, 4×5, settled"] == 0.3
    assert unchecked["AUTOGRAD_BN_PLAIN=1: per op, a new number at every op, engine / torch"
                     ] == 0.4
    assert unchecked["engine / jax jit, 1024×256"] == 2.0
    assert "engine / HIPS autograd, 4×5" not in unchecked  # checked, not repeated here

    # the 0-d pair from a process of its own: the collector on (checked) and off (reported)
    results["peers"]["per_op_0d"] = {  # type: ignore[index]
        "env": {"AUTOGRAD_BN_BENCH_NO_TORCH": "1"}, "seconds": {"engine": 4e-6,
                                                                "micrograd": 8e-6},
        "ratio": 0.5, "gc_disabled": {"seconds": {"engine": 3e-6, "micrograd": 2e-6},
                                      "ratio": 1.5},
        "imported": ["autograd_bn", "micrograd", "numpy"], "gc_objects": 26000}
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    assert checks["per op on a 0-d tensor, engine / micrograd"]["ok"]  # 0.5 ≤ 1
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    zero_d = text.split("per op on a 0-d tensor (a 1,000-op chain")[1].splitlines()
    assert "imports only autograd_bn, micrograd, numpy (26,000 objects" in zero_d[0]
    assert zero_d[1].endswith("(checked): engine 4.00, micrograd 8.00")
    assert "(gc.disable(), not checked): engine 3.00, micrograd 2.00" in zero_d[2]
    unchecked_lines = text.split("Not checked (reported only)\n")[1].splitlines()
    assert unchecked_lines[-1].split()[-4:] == ["engine", "/", "micrograd", "1.500"]
    assert "the cycle collector off" in unchecked_lines[-1]


def test_holding_torch_to_one_thread_holds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = pytest.importorskip("torch")
    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    BENCH["hold_torch_to_one_thread"]()
    assert calls == [1]  # and nothing gives the threads back


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


def test_the_performance_doc_shows_the_committed_run() -> None:
    """docs/performance.md's tables are the report of benchmarks/results.json, line for line,
    and the README links to it."""
    import json

    root = Path(__file__).resolve().parent.parent
    results = json.loads((root / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    doc = (root / "docs" / "performance.md").read_text(encoding="utf-8")
    report = BENCH["report"](results)
    table = report[report.index("BN forward+backward, median ms per call"):]
    assert table in doc
    assert "(docs/performance.md)" in (root / "README.md").read_text(encoding="utf-8")


def test_the_network_step_methods_give_the_engines_parameter_gradients() -> None:
    methods = BENCH["network_methods"]()
    assert set(methods) >= {"engine", "numpy + by hand"}
    assert ("torch eager" in methods) == (importlib.util.find_spec("torch") is not None)
    want = methods["engine"]()
    assert sorted(want) == sorted(["C", "W1", "b1", "W2", "b2", "bngain", "bnbias"])
    for name, fn in methods.items():
        BENCH["assert_same_network_grads"](fn(), want, name)
    wrong = {**want, "W1": want["W1"] * (1 + 1e-6)}
    with pytest.raises(AssertionError, match="dW1 differs"):
        BENCH["assert_same_network_grads"](wrong, want, "wrong")


def test_the_network_step_is_timed_side_by_side_in_the_run_and_checked(
        monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[tuple[str, object]] = []
    results = _fake_run(monkeypatch, events)
    timed = {"engine", "numpy + by hand"} | ({"torch eager"} if BENCH["torch"] else set())
    assert ("sample", frozenset(timed)) in events
    threads = events.index(("threads", 1)) if ("threads", 1) in events else len(events)
    assert events.index(("sample", frozenset(timed))) < threads  # before torch is held to 1
    network = results["network"]
    assert network["batch"] == 32 and set(network["seconds"]) == timed
    assert network["ratios"]["engine / numpy + by hand"] == 1.0
    checks = {c["check"]: c for c in results["checks"]}
    if BENCH["torch"]:
        check = checks["network step (batch 32), engine / torch eager"]
        assert (check["ratio"], check["limit"], check["ok"]) == (1.0, 0.5, False)
    assert "A training step of makemore part 4's network" in BENCH["report"](results)


def test_the_one_blas_thread_part_times_the_network_step_too(
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = BENCH["run_part"].__globals__
    monkeypatch.setitem(module, "warm_up", lambda methods, seconds: None)
    monkeypatch.setitem(module, "measure_bn", lambda cases, rounds, target: [])
    monkeypatch.setitem(module, "settle_allocator", lambda: None)
    monkeypatch.setitem(module, "measure_network", lambda rounds, target: {"timed": rounds})
    part = BENCH["run_part"]("bn", True)
    assert part["network"] == {"timed": 5}


def test_network_checks_and_report_from_given_numbers() -> None:
    def row(engine: float, torch: float) -> dict[str, object]:
        return {"batch": 32,
                "seconds": {"engine": engine, "numpy + by hand": 0.25e-3, "torch eager": torch},
                "ratios": {"engine / numpy + by hand": engine / 0.25e-3,
                           "engine / torch eager": engine / torch}}

    bn = [{"N": 4, "D": 5, "dtype": "float64", "seconds": {"engine": 1.0},
           "ratios": {"engine / numpy + staged": 1.0}}]
    results = {
        "machine": {"python": "3", "numpy": "2", "torch": "2", "cpus": 2}, "quick": True,
        "bn": bn, "memory": [],
        "chains": {"engine": 2e-6, "torch": 5e-6, "engine 100k": 3e-6},
        "chain_ratios": {"engine / torch": 0.4, "100k / 1k": 1.5},
        "network": row(0.6e-3, 60e-3),  # torch slowed by the threads of numpy's OpenBLAS
        "one_blas_thread": {"env": {"OPENBLAS_NUM_THREADS": "1"}, "bn": bn, "bn_settled": bn,
                            "network": row(0.6e-3, 0.75e-3)},
    }
    checks = {c["check"]: c for c in BENCH["checks"](results)}
    here = checks["network step (batch 32), engine / torch eager"]
    alone = checks["network step (batch 32), OPENBLAS_NUM_THREADS=1, "
                   "engine / torch eager"]
    assert here["ratio"] == pytest.approx(0.01) and here["ok"]
    assert alone["ratio"] == pytest.approx(0.8) and (alone["limit"], alone["ok"]) == (0.5, False)
    results["checks"] = list(checks.values())
    text = BENCH["report"](results)
    section = text.split("A training step of makemore part 4's network")[1].splitlines()
    assert section[1].split() == ["this", "process", "OPENBLAS_NUM_THREADS=1"]
    assert section[2].split() == ["engine", "0.600", "0.600"]
    assert section[4].split() == ["torch", "eager", "60.000", "0.750"]
    assert section[6].split() == ["engine", "/", "torch", "eager", "0.010", "0.800"]
    assert "MISSED" in text
    del results["network"], results["one_blas_thread"]
    assert "A training step" not in BENCH["report"](results)  # older runs: no section


def test_a_network_method_with_other_gradients_is_never_timed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    module = BENCH["measure_network"].__globals__
    methods = BENCH["network_methods"]()
    right = methods["engine"]()
    methods["numpy + by hand"] = lambda: {**right, "b2": right["b2"] + 1e-3}
    monkeypatch.setitem(module, "network_methods", lambda: methods)
    monkeypatch.setitem(module, "sample_times", lambda *args: pytest.fail("timed"))
    with pytest.raises(AssertionError, match="numpy \\+ by hand: db2 differs"):
        BENCH["measure_network"](3, 0.0)
