"""The result of `autograd_bn.check.compare.compare`: one `Row` per method, in a `Comparison`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_bn.bn.layers import LayerProblem
from autograd_bn.bn.problem import Problem
from autograd_bn.check.jsondata import dumps, finite
from autograd_bn.check.metrics import GRADS, Metrics
from autograd_bn.check.runners import NUMERICAL_STEP

Array = np.ndarray


@dataclass(frozen=True)
class Row:
    """One method: its forward output and gradients against autograd and numerical, its time."""

    name: str
    kind: str  # "engine", "manual", "torch" or "user"
    description: str
    forward: Metrics
    vs_autograd: dict[str, Metrics]
    vs_numerical: dict[str, Metrics] | None
    median_seconds: float
    calls: int
    grads: tuple[Array, ...] = field(repr=False, compare=False, default=())
    """dx, dgamma, dbeta as the method returned them."""
    checks: dict[str, Metrics] = field(default_factory=dict)
    """Other results checked (test mode: the running mean and variance after a train call)."""
    hints: tuple[str, ...] = ()
    """What a disagreement looks like and what usually causes it (`autograd_bn.check.diagnose`)."""

    @property
    def disagreements(self) -> list[str]:
        """What is not allclose to this row's reference: some of "out", "dx", "dgamma", "dbeta".

        Every method is checked against autograd; autograd itself against the numerical
        gradient (when it was computed), within the numerical tolerance.
        """
        if self.kind == "engine":
            num = self.vs_numerical or {}
            return [g for g in GRADS if g in num and num[g].resolvable and not num[g].allclose]
        bad = [] if self.forward.allclose else ["out"]
        bad += [g for g in GRADS if g in self.vs_autograd and not self.vs_autograd[g].allclose]
        return bad + [k for k, m in self.checks.items() if not m.allclose]

    @property
    def agrees(self) -> bool:
        return not self.disagreements

    def to_dict(self) -> dict[str, Any]:
        num = self.vs_numerical
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "agrees": self.agrees,
            "disagreements": self.disagreements,
            "median_seconds": self.median_seconds,
            "calls": self.calls,
            "forward": self.forward.to_dict(),
            "vs_autograd": {g: self.vs_autograd[g].to_dict() for g in GRADS
                            if g in self.vs_autograd},
            "vs_numerical": None if num is None else {g: num[g].to_dict() for g in GRADS
                                                      if g in num},
            "checks": {k: m.to_dict() for k, m in self.checks.items()},
            "hints": list(self.hints),
        }


@dataclass(frozen=True)
class Comparison:
    """The result of `compare`: one `Row` per method, autograd first."""

    problem: Problem | LayerProblem = field(repr=False, compare=False)
    dtype: str
    tolerance: float
    numerical_tolerance: float
    scales: dict[str, float]
    reference_error: float
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    seed: int | None = None
    numerical_grads: tuple[Array, ...] | None = field(default=None, repr=False, compare=False)
    """The numerical dx, dgamma, dbeta (float64), or None when skipped."""
    resolution: float | None = None
    """The numerical gradient's own resolution (`metrics.numerical_resolution`)."""
    layer: str = "batchnorm"

    @property
    def numerical(self) -> bool:
        return self.rows[0].vs_numerical is not None

    @property
    def disagreeing(self) -> list[Row]:
        return [row for row in self.rows if not row.agrees]

    @property
    def agree(self) -> bool:
        """Every method agrees with autograd within `tolerance`, and autograd with the
        numerical gradient within `numerical_tolerance` (when it was computed)."""
        return not self.disagreeing

    @property
    def summary(self) -> str:
        """The verdict in one sentence, as the table's RESULT line and the report say it."""
        engine, methods = self.rows[0], self.rows[1:]
        parts = []
        if not engine.agrees:
            parts.append(f"autograd disagrees with the numerical gradient "
                         f"({', '.join(engine.disagreements)})")
        bad = [row for row in methods if not row.agrees]
        if bad:
            what = "; ".join(f"{r.name} ({', '.join(r.disagreements)})" for r in bad)
            parts.append(f"{len(bad)} of {len(methods)} disagree with autograd: {what}")
        elif not parts:
            parts.append(f"all {len(methods)} methods agree with autograd")
        return ". ".join(parts) + "."

    @property
    def exit_code(self) -> int:
        return 0 if self.agree else 1

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no method {name!r}; methods: {', '.join(r.name for r in self.rows)}")

    def to_dict(self) -> dict[str, Any]:
        shape = tuple(self.problem.x.shape)
        problem: dict[str, Any] = ({"N": shape[0], "D": shape[1]} if len(shape) == 2
                                   else {"shape": list(shape)})
        problem.update(seed=self.seed, dtype=self.dtype, eps=self.problem.eps)
        if self.layer != "batchnorm" or hasattr(self.problem, "layer"):
            problem.update(layer=self.layer, **{k: getattr(self.problem, k) for k in
                                                ("groups", "mode", "bessel", "momentum")
                                                if hasattr(self.problem, k)})
        return {
            "problem": problem,
            "reference": "autograd",
            "tolerance": {
                "autograd": self.tolerance,
                "numerical": self.numerical_tolerance,
                "rule": "allclose: |a - ref| <= tol*|ref| + tol*scale, elementwise; "
                        "tol = max(sqrt(machine epsilon), 10*reference_error)",
                "scale": {k: finite(v) for k, v in self.scales.items()},
                "reference_error": finite(self.reference_error),
            },
            "numerical_gradient": {"computed": self.numerical, "h": NUMERICAL_STEP,
                                   "dtype": "float64",
                                   "resolution": None if self.resolution is None
                                   else finite(self.resolution)},
            "time": "median seconds per backward call over `calls` repeated calls",
            "agree": self.agree,
            "disagreeing": [row.name for row in self.disagreeing],
            "methods": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """`to_dict` as JSON: valid (NaN and infinities become null), keys in a fixed order."""
        return dumps(self.to_dict(), indent=indent)
