"""The data the report's step-through reads: the engine's backward order, each node's chain
rule with its numbers, every backward edge with where it is drawn and the size of its
gradient.

Everything comes from a `Trace` (`autograd_bn.check.trace`), so the page steps through exactly
what ``autograd-bn trace`` prints. Ids are the drawing's: node ``n<index>`` in `Tensor.nodes`
order, a collapsed block ``b<k>``, a red edge ``bwd_<user>_<i>`` (or ``bwd_<input>_<block>``
into a collapsed block), as `viz.draw` writes them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_bn.check.jsondata import finite, jsonable
from autograd_bn.check.trace import Step, Trace
from autograd_bn.engine.naming import axis_text
from autograd_bn.engine.tensor import Tensor
from viz.blocks import Collapsed, block_paths, chosen, collapsed_groups

FIRST = 6
"""Values of an array the step panel shows (the first ones, flattened)."""


def first_values(array: np.ndarray | None) -> dict[str, Any] | None:
    """The first `FIRST` values of an array, flattened, with its shape and RMS."""
    if array is None:
        return None
    a = np.asarray(array, dtype=np.float64)
    return {"shape": list(a.shape), "size": int(a.size),
            "values": jsonable(a.ravel()[:FIRST]), "rms": rms(a)}


def rms(array: np.ndarray) -> float | None:
    """The root mean square of an array: the size of a gradient (None if not finite)."""
    a = np.asarray(array, dtype=np.float64)
    return finite(float(np.sqrt(np.mean(a * a)))) if a.size else 0.0


def grad_name(key: str) -> str:
    """dL/d(node) as the seed writes it: ``d(3)``, ``dx``, ``d[#4]``."""
    return f"d{key}" if key.startswith("(") or key.isidentifier() else f"d[{key}]"


def term_text(user: str, derivative: str, axes: Sequence[int], ones: list[int] | None) -> str:
    """One term of a chain rule: ``d(8)·(7)``, ``d(4)·2·(3)``, ``(d(3)·(−1)).sum(axis=0)``,
    ``d(5)·1/4·ones((4, 5))``."""
    text = grad_name(user)
    if derivative != "1":
        text += "·" + (f"({derivative})" if derivative.startswith(("−", "-")) else derivative)
    if ones is not None:
        text += f"·ones({tuple(ones)})"
    if axes:
        text = (f"({text})" if "·" in text else text) + f".sum(axis={axis_text(tuple(axes))})"
    return text


def drawn_ids(out: Tensor, collapse: bool | Sequence[str] = False
              ) -> tuple[dict[str, str], dict[str, str | None]]:
    """Where each node and each backward edge of ``out``'s graph is drawn by
    ``viz.draw(out, collapse=collapse)``: node id → drawn node id, and edge ``n<user>_<i>`` →
    drawn red edge id (None: inside a collapsed block, or into a constant: not drawn)."""
    nodes = out.nodes()
    groups = collapsed_groups(nodes, chosen(collapse, block_paths(nodes)))
    ids: dict[Tensor | Collapsed, str] = {node: f"n{i}" for i, node in enumerate(nodes)}
    for k, group in enumerate(dict.fromkeys(groups.values())):
        ids[group] = f"b{k}"
    node_ids = {f"n{i}": ids[groups.get(node, node)] for i, node in enumerate(nodes)}
    edge_ids: dict[str, str | None] = {}
    for index, node in enumerate(nodes):
        for i, parent in enumerate(node.parents):
            source, target = groups.get(parent, parent), groups.get(node, node)
            drawn = None
            if parent.requires_grad and source is not target:
                drawn = (f"bwd_{ids[source]}_{ids[target]}" if isinstance(target, Collapsed)
                         else f"bwd_n{index}_{i}")
            edge_ids[f"n{index}_{i}"] = drawn
    return node_ids, edge_ids


def step_data(trace: Trace, out: Tensor, collapse: bool | Sequence[str] = False,
              start: str | None = None) -> dict[str, Any]:
    """The step-through's data: ``steps`` in the engine's order, ``edges`` (every backward edge
    that carries a gradient), ``output``, ``leaves`` (inputs that get a gradient) and ``drawn``
    (node id → drawn id). ``start`` names the gradient the pass starts from (``dout``)."""
    node_ids, edge_ids = drawn_ids(out, collapse)
    by_id = {step.node_id: step for step in trace.steps}
    edges: dict[str, dict[str, Any]] = {}
    sent: dict[str, list[tuple[str, Step, int]]] = {}  # node id → (edge, user step, i)
    for step in trace.steps:
        for i, edge in enumerate(step.edges):
            if edge.contribution is None:
                continue
            key = f"{step.node_id}_{i}"
            edges[key] = {"from": step.node_id, "to": edge.parent_id, "drawn": edge_ids[key],
                          "rms": rms(edge.contribution)}
            sent.setdefault(edge.parent_id, []).append((key, step, i))
    steps = []
    for step in trace.steps:
        terms = []
        total: np.ndarray | None = None
        for key, user, i in sent.get(step.node_id, []):
            edge = user.edges[i]
            assert edge.contribution is not None
            total = edge.contribution.astype(np.float64) if total is None \
                else total + edge.contribution
            ones = list(edge.contribution.shape) if edge.spread else None
            terms.append({
                "edge": key, "from": user.node_id, "from_name": user.key,
                "text": term_text(user.key, edge.local_derivative, edge.summed_axes, ones),
                "derivative": edge.local_derivative, "axes": list(edge.summed_axes),
                "ones": ones, "user_grad": first_values(user.grad),
                "contribution": first_values(edge.contribution),
                "partial": first_values(total),
                "seed": edge.seed.name if edge.seed else None,
            })
        steps.append({
            "index": step.index, "node": step.node_id, "drawn": node_ids[step.node_id],
            "name": step.key, "grad_name": grad_name(step.key), "label": step.label,
            "op": step.op, "grad": first_values(step.grad),
            "seed": step.seed.name if step.seed else None,
            "start": (start or "the gradient given to backward()") if not terms else None,
            "terms": terms,
            "sends": [key for key, value in edges.items() if value["from"] == step.node_id],
        })
    output = trace.steps[0].node_id if trace.steps else None
    leaves = [s.node_id for s in trace.steps if not any(e["from"] == s.node_id
                                                        for e in edges.values())
              and s.node_id != output]
    return {"steps": steps, "edges": edges, "output": output, "drawn": node_ids,
            "leaves": [{"id": leaf, "name": by_id[leaf].key, "label": by_id[leaf].label}
                       for leaf in leaves]}
