"""How long drawing a graph takes, from a Tensor to an SVG file: the BN graph, a 20-layer
network that reuses its weight and bias in every layer, and a 2,000-node graph of binary ops
that reuse their numbers. Medians of a few runs, each checked against its goal.

    python benchmarks/render.py [--quick] [--json FILE]

(Before numbers became op settings and hubs were drawn apart, the 104-node version of the
last graph took 794 s, and the 20-layer network 49-84 s.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import viz  # noqa: E402
from autograd_bn import Tensor, batchnorm  # noqa: E402

GOALS = {"BN (14 nodes)": 0.5, "20-layer network, shared w and b": 2.0,
         "2,000 nodes, binary ops, repeated numbers": 10.0}
"""Seconds, from the issue that set them."""


def bn_graph() -> Tensor:
    rng = np.random.default_rng(0)
    out = batchnorm(rng.standard_normal((4, 5)), np.ones(5), np.zeros(5))
    out.backward(rng.standard_normal((4, 5)))
    return out


def shared_weight_network(layers: int = 20) -> Tensor:
    """``z = h*w + b; h = z*0.5 + sqrt(z*z + 1e-5)*0.5`` with one w and one b for every layer."""
    rng = np.random.default_rng(0)
    h = Tensor(rng.standard_normal((4, 3)), label="x")
    w, b = Tensor(rng.standard_normal(3), label="w"), Tensor(rng.standard_normal(3), label="b")
    for _ in range(layers):
        z = h * w + b
        h = z * 0.5 + (z * z + 1e-5).sqrt() * 0.5
    return h.sum()


def binary_chain(nodes: int = 2000) -> Tensor:
    """Binary ops between tensors, and the same two numbers again and again."""
    x = Tensor(np.ones(3), label="x")
    y, previous = x, x
    while len(y.nodes()) < nodes - 4:
        y, previous = y * previous * 0.5 + 0.25, y  # (bounded: tends to 0.29)
    return y.sum()


CASES: dict[str, Callable[[], Tensor]] = dict(zip(GOALS, (bn_graph, shared_weight_network,
                                                          binary_chain), strict=True))


def measure(build: Callable[[], Tensor], runs: int) -> dict[str, Any]:
    graph = build()
    times = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(runs):
            start = time.perf_counter()
            viz.render(graph, Path(folder) / "g.svg")
            times.append(time.perf_counter() - start)
    return {"nodes": len(graph.nodes()), "median_s": statistics.median(times), "runs": runs}


def run(quick: bool) -> dict[str, Any]:
    rows = {}
    for name, build in CASES.items():
        row = measure(build, 1 if quick else 3)
        row["goal_s"] = GOALS[name]
        row["ok"] = row["median_s"] <= GOALS[name]
        rows[name] = row
    return rows


def report(rows: dict[str, Any]) -> str:
    lines = ["Drawing a graph to SVG (viz.render), median seconds",
             f"  {'graph':44} {'nodes':>6} {'time':>8}  goal"]
    for name, row in rows.items():
        verdict = "ok" if row["ok"] else "MISSED"
        lines.append(f"  {name:44} {row['nodes']:>6} {row['median_s']:>7.2f}s  "
                     f"≤ {row['goal_s']:g} s {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per graph")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    rows = run(args.quick)
    print(report(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")
    return 0 if all(row["ok"] for row in rows.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
