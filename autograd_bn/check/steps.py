"""The pieces of a trace: one `Step` per node of the backward pass, one `Edge` per input, and
a `SeedMatch` where the seed's staged backward has the same values (see
`autograd_bn.check.trace`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_bn.check.jsondata import finite, jsonable, summary
from autograd_bn.engine import naming

Place = str | tuple[str, str]
"""A node, by the first word of its label (``"(3)"``), or an edge ``(child, parent)``."""


def seed_number(key: str) -> int | None:
    """The seed's node number for a key such as ``"(3)"``; None for ``"(5)+ε"`` and the like."""
    if key.startswith("(") and key.endswith(")") and key[1:-1].isdigit():
        return int(key[1:-1])
    return None


def place_dict(place: Place) -> dict[str, str]:
    if isinstance(place, str):
        return {"node": place}
    return {"from": place[0], "to": place[1]}


@dataclass(frozen=True)
class SeedMatch:
    """A seed intermediate set beside an engine value: its name and ``max|engine − seed|``."""

    name: str
    max_abs_diff: float
    tolerance: float

    @property
    def matches(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "max_abs_diff": finite(self.max_abs_diff),
                "tolerance": self.tolerance, "matches": self.matches}


@dataclass(frozen=True)
class Edge:
    """One backward edge: the gradient a node sends to one of its inputs."""

    parent: str
    parent_label: str
    local_derivative: str
    summed_axes: tuple[int, ...]
    spread: bool
    contribution: np.ndarray | None  # None: the input is a constant, nothing is sent
    seed: SeedMatch | None = None
    parent_id: str = ""  # the input's place in `Tensor.nodes` order, ``n<index>`` as drawn

    @property
    def text(self) -> str:
        """The edge as the trace and the report write it: ``× 2·(3), Σ axis 0, spread``; an edge
        into a constant carries nothing, and says so."""
        if self.contribution is None:
            return "(a constant: nothing is sent)"
        return naming.edge_text(self.local_derivative, self.summed_axes, self.spread)

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        arrays = jsonable if full else _summary_or_none
        return {
            "to": self.parent,
            "to_id": self.parent_id,
            "to_label": self.parent_label,
            "local_derivative": self.local_derivative,
            "summed_axes": list(self.summed_axes),
            "spread": self.spread,
            "requires_grad": self.contribution is not None,
            "shape": None if self.contribution is None else list(self.contribution.shape),
            "contribution": arrays(self.contribution),
            "seed": None if self.seed is None else self.seed.to_dict(),
        }


@dataclass(frozen=True)
class Step:
    """One node of the backward pass, as the engine completes its gradient."""

    index: int  # 1-based position in the engine's order
    key: str
    label: str
    op: str
    value: np.ndarray
    grad: np.ndarray
    seed: SeedMatch | None
    edges: tuple[Edge, ...]
    received_from: tuple[str, ...]  # children whose edges sum to grad (empty for the output)
    sum_diff: float | None  # max|sum of the received contributions − grad|
    node_id: str = ""  # the node's place in `Tensor.nodes` order, ``n<index>`` as drawn
    received_ids: tuple[str, ...] = ()  # the ids of ``received_from``

    @property
    def number(self) -> int | None:
        return seed_number(self.key)

    def to_dict(self, full: bool = True) -> dict[str, Any]:
        """As data; ``full=False``: each array as its first values and statistics."""
        arrays = jsonable if full else summary
        return {
            "step": self.index,
            "node": self.key,
            "id": self.node_id,
            "number": self.number,
            "label": self.label,
            "op": self.op,
            "shape": list(self.grad.shape),
            "value": arrays(self.value),
            "grad": arrays(self.grad),
            "seed": None if self.seed is None else self.seed.to_dict(),
            "received_from": list(self.received_from),
            "received_ids": list(self.received_ids),
            "sum_max_abs_diff": None if self.sum_diff is None else finite(self.sum_diff),
            "edges": [edge.to_dict(full) for edge in self.edges],
        }


def _summary_or_none(array: np.ndarray | None) -> Any:
    return None if array is None else summary(array)
