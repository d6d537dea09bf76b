"""The BN backward pass step by step, in the order the engine runs it, beside the seed's.

`trace_batchnorm(problem)` builds BN from the engine's ops, runs ``backward(dout)`` and records,
for every node as the engine completes its gradient: the gradient arriving there, and for each
input the local derivative and the contribution sent along that edge (``Tensor.vjp``, the
engine's own edge computation). Each is set beside the matching intermediate of the seed's
staged backward (`autograd_bn.bn.manual.backward_staged_intermediates`) where there is one.

Where each seed name lives in the engine's graph is one table, `SEED_PLACES`. The seed names
a gradient after the node that sends it: ``d8_3`` goes from (8) to (3), ``d10`` from (10) to
(8). A node with one consumer receives exactly that edge's gradient, so most names are both an
edge and a node's gradient; node (3) has two consumers, and its gradient ``d3_1`` is the sum of
the edges ``d8_3`` and ``d4``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_bn.bn import layers, norms
from autograd_bn.bn.layers import LayerProblem
from autograd_bn.bn.manual import backward_staged_intermediates, batchnorm_forward
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import Problem
from autograd_bn.check.jsondata import dumps, finite
from autograd_bn.check.metrics import max_abs, max_abs_diff
from autograd_bn.check.steps import Edge, Place, SeedMatch, Step, place_dict, seed_number
from autograd_bn.engine import naming
from autograd_bn.engine.tensor import Tensor

__all__ = ["SEED_PLACES", "TOLERANCES", "Edge", "Place", "SeedMatch", "Step", "Trace",
           "record_steps", "seed_number", "trace_batchnorm", "trace_graph", "unique_names"]

SEED_PLACES: dict[str, tuple[Place, ...]] = {
    "dout": ("(12)", ("(12)", "(10)"), "(10)"),
    "d10": ("(8)", ("(10)", "(8)")),
    "d8_3": (("(8)", "(3)"),),
    "d8_7": ("(7)", ("(8)", "(7)")),
    "d7": ("(6)", ("(7)", "(6)")),
    "d6": ("(5)+ε", ("(6)", "(5)+ε"), "(5)", ("(5)+ε", "(5)")),
    "d5": ("(4)", ("(5)", "(4)")),
    "d4": (("(4)", "(3)"),),
    "d3_1": ("(3)", ("(3)", "(1)")),
    "d3_2": ("(2)", ("(3)", "(2)")),
    "d2": (("(2)", "(1)"),),
    "dx": ("(1)",),
    "dgamma": ("(9)", ("(10)", "(9)")),
    "dbeta": ("(11)", ("(12)", "(11)")),
}
"""Every intermediate of the seed's staged backward (and ``dout``, the gradient it starts from),
and where it equals the engine's values: a node's gradient, or an edge's contribution."""

TOLERANCES = {"float64": 1e-12, "float32": 1e-4}
"""Largest accepted ``max|engine − seed|`` per dtype, for values up to 1 in size; larger
values get ``max|value|`` times as much (the rounding error of a sum grows with its terms)."""


def _scale(array: np.ndarray) -> float:
    """``max(1, max|array|)``: what a tolerance is relative to."""
    return max(1.0, max_abs(array))


@dataclass(frozen=True)
class Trace:
    """The engine's backward pass, step by step, and (for BN) how it compares with the seed's.

    ``problem`` is the BN problem traced, or None for any other graph (`trace_graph`).
    """

    problem: Problem | LayerProblem | None
    steps: tuple[Step, ...]
    tolerance: float
    seed_places: dict[str, tuple[Place, ...]] = field(default_factory=lambda: dict(SEED_PLACES))

    @property
    def dtype(self) -> str:
        if self.problem is None:
            return str(self.steps[0].grad.dtype) if self.steps else "float64"
        return str(self.problem.x.dtype)

    def matches(self) -> list[tuple[SeedMatch, Place]]:
        """Every comparison made, with where it was made."""
        found: list[tuple[SeedMatch, Place]] = []
        for step in self.steps:
            if step.seed is not None:
                found.append((step.seed, step.key))
            for edge in step.edges:
                if edge.seed is not None:
                    found.append((edge.seed, (step.key, edge.parent)))
        return found

    def seed_summary(self) -> dict[str, dict[str, Any]]:
        """Per seed name, in `SEED_PLACES` order: where it was found and the largest difference."""
        summary: dict[str, dict[str, Any]] = {
            name: {"places": [], "max_abs_diff": None, "matches": False}
            for name in self.seed_places
        }
        for match, place in self.matches():
            entry = summary[match.name]
            first = not entry["places"]
            entry["places"].append(place)
            entry["max_abs_diff"] = (match.max_abs_diff if first
                                     else max(entry["max_abs_diff"], match.max_abs_diff))
            entry["matches"] = match.matches and (first or entry["matches"])
        return summary

    @property
    def all_match(self) -> bool:
        """Every seed intermediate was found, at every place, within tolerance; sums agree."""
        summary = self.seed_summary()
        sums_ok = all(s.sum_diff is None or s.sum_diff <= self.tolerance * _scale(s.grad)
                      for s in self.steps)
        return sums_ok and all(entry["matches"] for entry in summary.values())

    @property
    def max_diff(self) -> float:
        """The largest ``max|engine − seed|`` of all comparisons (NaN if one is NaN)."""
        diffs = [m.max_abs_diff for m, _ in self.matches()]
        return float(np.max(diffs)) if diffs else 0.0

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        """As data: every value and gradient in full, or with ``full=False`` as its first
        values and statistics (``{"first", "size", "mean", "min", "max", "non_finite"}``)."""
        summary = self.seed_summary()
        problem: dict[str, Any] | None = None
        if self.problem is not None:
            shape = tuple(self.problem.x.shape)
            problem = ({"N": shape[0], "D": shape[1]} if len(shape) == 2
                       else {"shape": list(shape)})
            problem.update(seed=self.problem.seed, dtype=self.dtype, eps=self.problem.eps)
            if isinstance(self.problem, LayerProblem):
                problem.update(layer=self.problem.layer, groups=self.problem.groups)
        return {
            "problem": problem,
            "all_match": self.all_match,
            "max_abs_diff": finite(self.max_diff),
            "tolerance": self.tolerance,
            "seed_intermediates": {
                name: {
                    "places": [place_dict(p) for p in entry["places"]],
                    "max_abs_diff": finite(entry["max_abs_diff"]),
                    "matches": entry["matches"],
                }
                for name, entry in summary.items()
            },
            "steps": [step.to_dict(full) for step in self.steps],
        }

    def to_json(self, indent: int | None = 2, full: bool = True) -> str:
        """`to_dict` as JSON: valid (NaN and infinities become null), keys in a fixed order."""
        return dumps(self.to_dict(full), indent=indent)



def trace_batchnorm(problem: Problem) -> Trace:
    """Run BN's backward pass on ``problem`` and record every step beside the seed's values."""
    x, gamma, beta, dout, eps = problem.x, problem.gamma, problem.beta, problem.dout, problem.eps
    out = batchnorm(x, gamma, beta, eps)
    _, cache = batchnorm_forward(x, gamma, beta, eps)
    reference = {"dout": np.asarray(dout), **backward_staged_intermediates(dout, cache)}
    return _trace(problem, out, reference, SEED_PLACES)


def trace_layer(problem: LayerProblem) -> Trace:
    """`trace_batchnorm` for a layer of the family: its graph beside
    `autograd_bn.bn.norms.backward_staged_intermediates` in training mode without Bessel's
    correction; in test mode or with it (no staged pass exists), the engine's steps alone."""
    out, _ = layers.build_graph(problem)
    dout = problem.view(problem.dout)
    if problem.mode != "train" or problem.bessel:  # no staged pass to set beside it
        return _trace(problem, out, {"dout": dout}, {})
    _, cache = layers.manual_forward(problem)
    reference = {"dout": dout, **norms.backward_staged_intermediates(dout, cache)}
    return _trace(problem, out, reference, SEED_PLACES)


def _trace(problem: Problem | LayerProblem, out: Tensor, reference: dict[str, np.ndarray],
           places: dict[str, tuple[Place, ...]]) -> Trace:
    dout = reference["dout"]
    tolerance = TOLERANCES.get(str(np.asarray(problem.x).dtype), TOLERANCES["float32"])

    node_names: dict[str, str] = {}
    edge_names: dict[tuple[str, str], str] = {}
    for name, where in places.items():
        for place in where:
            if isinstance(place, str):
                node_names[place] = name
            else:
                edge_names[place] = name

    def compare(name: str | None, value: np.ndarray) -> SeedMatch | None:
        if name is None:
            return None
        return SeedMatch(name, max_abs_diff(value, reference[name]),
                         tolerance * _scale(reference[name]))

    steps = record_steps(
        out, dout, naming.short_names(out.nodes()),
        node_seed=lambda key, grad: compare(node_names.get(key), grad),
        edge_seed=lambda key, parent, part: compare(edge_names.get((key, parent)), part))
    return Trace(problem, steps, tolerance, seed_places=dict(places))


def trace_graph(out: Tensor, grad: Any = None) -> Trace:
    """Any graph's backward pass from ``out``, step by step, as `trace_batchnorm` records BN's
    (without a seed to compare with: ``problem`` is None, ``seed_places`` empty).

    ``grad`` is dL/d(out): by default 1 for a one-element ``out``, else the gradient ``out``
    got from your last ``out.backward(grad)``. The pass is the engine's own; afterwards every
    node's ``.grad`` is as it was before (nothing accumulates in your leaves).
    """
    if grad is None and out.size != 1 and out.grad is not None:
        grad = np.array(out.grad, copy=True)
    nodes = out.nodes()
    saved = [(node, node.grad) for node in nodes]
    try:
        steps = record_steps(out, grad, unique_names(nodes))
    finally:
        for node, before in saved:
            node.grad = before
    dtype = str(out.dtype)
    return Trace(None, steps, TOLERANCES.get(dtype, TOLERANCES["float32"]), seed_places={})


def unique_names(nodes: list[Tensor]) -> dict[Tensor, str]:
    """`naming.short_names`, made unique: a name several nodes share (two BN blocks each have a
    ``(3)``) is prefixed with the node's block path (``bn1/(3)``), then, if still shared,
    followed by its index (``(3)#7``)."""
    names = naming.short_names(nodes)
    for qualify in (lambda i, n: "/".join(n.block + (names[n],)),
                    lambda i, n: f"{names[n]}#{i}"):
        counts = Counter(names.values())
        for index, node in enumerate(nodes):
            if counts[names[node]] > 1:
                names[node] = qualify(index, node)
    return names


NodeSeed = Callable[[str, np.ndarray], SeedMatch | None]
EdgeSeed = Callable[[str, str, np.ndarray], SeedMatch | None]


def record_steps(out: Tensor, grad: Any, names: dict[Tensor, str], *,
                 node_seed: NodeSeed | None = None, edge_seed: EdgeSeed | None = None
                 ) -> tuple[Step, ...]:
    """Run ``out.backward(grad)`` and record, for every node as the engine completes its
    gradient, that gradient and what it sends along each edge (the engine's own `Tensor.vjp`).
    Nodes are called ``names[node]``; ``node_seed(name, grad)`` and ``edge_seed(name, parent,
    contribution)`` may set a seed's value beside each."""
    ids = {node: f"n{index}" for index, node in enumerate(out.nodes())}
    received: dict[str, list[tuple[str, str, np.ndarray]]] = {}
    steps: list[Step] = []

    def on_node(node: Tensor, grad: np.ndarray) -> None:
        key = names[node]
        grad = np.array(grad, copy=True)
        edges = []
        for i, parent in enumerate(node.parents):
            pkey = names[parent]
            contribution = None
            if parent.requires_grad:
                contribution = np.array(node.vjp(i, grad), copy=True)
                received.setdefault(pkey, []).append((key, ids[node], contribution))
            edges.append(Edge(
                parent=pkey,
                parent_label=parent.label or pkey,
                local_derivative=node.local_derivative(i, names),
                summed_axes=naming.summed_axes(node, i),
                spread=naming.spreads(node, i),
                contribution=contribution,
                seed=None if contribution is None or edge_seed is None
                else edge_seed(key, pkey, contribution),
                parent_id=ids[parent],
            ))
        incoming = received.pop(key, [])
        sum_diff = None
        if incoming:
            total = incoming[0][2].astype(np.float64)
            for _, _, c in incoming[1:]:
                total = total + c
            sum_diff = max_abs_diff(total, grad)
        steps.append(Step(
            index=len(steps) + 1,
            key=key,
            label=node.label or key,
            op=naming.op_text(node),
            value=np.array(node.data, copy=True),
            grad=grad,
            seed=None if node_seed is None else node_seed(key, grad),
            edges=tuple(edges),
            received_from=tuple(child for child, _, _ in incoming),
            sum_diff=sum_diff,
            node_id=ids[node],
            received_ids=tuple(child_id for _, child_id, _ in incoming),
        ))

    out.backward(grad, on_node=on_node)
    return tuple(steps)
