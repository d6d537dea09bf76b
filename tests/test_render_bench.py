"""benchmarks/render.py: its graphs are what it says, and its report and exit status follow the
goals (timings faked; no test asserts a time)."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH: dict[str, Any] = runpy.run_path(str(ROOT / "benchmarks" / "render.py"))


def test_the_graphs_are_the_ones_the_goals_name() -> None:
    assert len(BENCH["bn_graph"]().nodes()) == 14
    network = BENCH["shared_weight_network"]()
    weights = [n for n in network.nodes() if n.label in ("w", "b")]
    assert len(weights) == 2  # one w and one b, used by every layer
    assert sum(w in n.parents for n in network.nodes() for w in weights) == 40
    chain = BENCH["binary_chain"]()
    assert 1990 <= len(chain.nodes()) <= 2000
    assert {n.op for n in chain.nodes()} >= {"mul", "mul_scalar", "add_scalar"}


def test_report_and_exit_status_follow_the_goals(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str],
                                                 tmp_path: Path) -> None:
    seconds = {"BN (14 nodes)": 0.1, "20-layer network, shared w and b": 3.0,
               "2,000 nodes, binary ops, repeated numbers": 1.0}
    names = iter(seconds)
    main = BENCH["main"]
    monkeypatch.setitem(main.__globals__, "measure",
                        lambda build, runs: {"nodes": 7, "median_s": seconds[next(names)],
                                             "runs": runs})
    assert main(["--quick", "--json", str(tmp_path / "r.json")]) == 1  # one goal missed
    out = capsys.readouterr().out
    assert "20-layer network, shared w and b" in out and "≤ 2 s MISSED" in out
    assert out.count(" ok") == 2 and (tmp_path / "r.json").is_file()
