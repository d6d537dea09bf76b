"""Checking a whole hand-written backward pass, name by name (makemore's ``cmp``), as plain data.

``compare_grads(named, manual)``: ``named`` maps names to the Tensors of a graph after
``.backward()``, ``manual`` maps the same names to the gradients you computed by hand. Each
name gets a `GradResult`: exact (bitwise equal), close (``np.allclose`` with the stated
``rtol`` and ``atol``), max |diff|, whether the shapes agree; names are listed in the order the
engine's backward pass reaches them, so the first wrong one is the place to look (the ones after
it are usually wrong because they were computed from it).

What is a mistake in the call, not in the gradients, raises `NamedGradsError` with one line
saying what to fix: a name in ``manual`` that ``named`` does not have, a value of ``named`` that
is not a Tensor, a Tensor without a gradient (``backward()`` not called, or not on the path to
the loss), a manual value that is not an array of numbers. A name of ``named`` with no manual
gradient (absent, or None) is reported as missing.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_bn.check.jsondata import dumps, finite
from autograd_bn.engine.tensor import Tensor

Array = np.ndarray

RTOL = 1e-5
"""The default relative tolerance of "close": numpy's own default, as makemore's ``cmp``."""
ATOL = 1e-8
"""The default absolute tolerance of "close": numpy's own default. It matters where a gradient
is zero in exact arithmetic and only rounding noise is left (a bias before batch norm)."""

STATUSES = ("exact", "close", "wrong", "shape", "missing")
"""What each name can be: exact and close are right; wrong (not close, or NaN), shape (the
manual gradient has another shape) and missing (no manual gradient) are not."""


class NamedGradsError(ValueError):
    """The names or values given to `compare_grads` cannot be compared (see its message)."""


@dataclass(frozen=True)
class GradResult:
    """One name: its manual gradient against the engine's."""

    name: str
    status: str  # one of STATUSES
    shape: tuple[int, ...]  # the engine's gradient's shape (the Tensor's)
    manual_shape: tuple[int, ...] | None  # None when missing
    max_abs_diff: float | None  # None when not compared (missing, wrong shape); NaN with NaN
    note: str = ""

    @property
    def exact(self) -> bool:
        return self.status == "exact"

    @property
    def close(self) -> bool:
        """Exact or within the tolerance (an exact gradient is close too)."""
        return self.status in ("exact", "close")

    @property
    def shape_ok(self) -> bool | None:
        """Whether the shapes agree; None when there is no manual gradient."""
        return None if self.manual_shape is None else self.manual_shape == self.shape

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "exact": self.exact,
                "close": self.close, "shape_ok": self.shape_ok, "shape": list(self.shape),
                "manual_shape": None if self.manual_shape is None else list(self.manual_shape),
                "max_abs_diff": finite(self.max_abs_diff), "note": self.note}


@dataclass(frozen=True)
class GradComparison:
    """Every name's `GradResult`, in the order the backward pass reaches the Tensors."""

    results: tuple[GradResult, ...]
    rtol: float
    atol: float

    @property
    def wrong(self) -> list[GradResult]:
        """The names whose manual gradient is given but is not right (wrong, shape), in
        backward order."""
        return [r for r in self.results if r.status in ("wrong", "shape")]

    @property
    def missing(self) -> list[str]:
        return [r.name for r in self.results if r.status == "missing"]

    @property
    def first_wrong(self) -> str | None:
        """The first wrong name in backward order: the place to look. None when none is."""
        wrong = self.wrong
        return wrong[0].name if wrong else None

    @property
    def ok(self) -> bool:
        """Every name is exact or close (a missing gradient is not)."""
        return all(r.close for r in self.results)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    def result(self, name: str) -> GradResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no name {name!r}; names: {', '.join(r.name for r in self.results)}")

    @property
    def summary(self) -> str:
        """The verdict in one sentence."""
        counts = {s: sum(r.status == s for r in self.results) for s in STATUSES}
        n = len(self.results)
        if self.ok:
            return (f"all {n} gradients agree ({counts['exact']} exact, "
                    f"{counts['close']} close).")
        parts = []
        if self.wrong:
            parts.append(f"{len(self.wrong)} of {n} wrong; the first in backward order is "
                         f"{self.first_wrong}: look there")
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({', '.join(self.missing)})")
        return "; ".join(parts) + "."

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "first_wrong": self.first_wrong,
            "missing": self.missing,
            "order": "backward: the order the engine's backward pass reaches each Tensor",
            "tolerance": {"rtol": self.rtol, "atol": self.atol,
                          "rule": "close: np.allclose(manual, engine, rtol, atol), i.e. "
                                  "|manual - engine| <= atol + rtol*|engine| elementwise; "
                                  "exact: bitwise equal"},
            "summary": self.summary,
            "results": [r.to_dict() for r in self.results],
        }

    def to_json(self, indent: int | None = 2) -> str:
        """`to_dict` as JSON (NaN becomes null)."""
        return dumps(self.to_dict(), indent=indent)


def compare_grads(named: Mapping[str, Tensor], manual: Mapping[str, Any], *,
                  rtol: float = RTOL, atol: float = ATOL) -> GradComparison:
    """Each name's manual gradient against the engine's, in backward order (see the module).

    ``named``: names to Tensors of one graph after ``.backward()``; ``manual``: the same names
    to arrays (or None: not written yet). Raises `NamedGradsError` for mistakes in the call.
    """
    _check_tolerance(rtol, "rtol")
    _check_tolerance(atol, "atol")
    tensors = _tensors(named)
    manual = _manual(manual, tensors)
    results = [_one(name, tensors[name], manual.get(name), rtol, atol)
               for name in backward_order(tensors)]
    return GradComparison(tuple(results), rtol, atol)


def backward_order(tensors: Mapping[str, Tensor]) -> list[str]:
    """The names in the order `Tensor.backward` completes their gradients: the nodes an op
    made, newest first, then the leaves, newest first (a node is made after its inputs, so
    newest first visits every user of a node before the node)."""
    def key(name: str) -> tuple[bool, int]:
        t = tensors[name]
        return t.is_leaf, -t._order  # the engine's creation number (Tensor.nodes sorts by it)

    return sorted(tensors, key=key)


def _check_tolerance(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
            or value == float("inf"):
        raise NamedGradsError(f"{what} must be a finite number >= 0, got {value!r}")


def _tensors(named: Any) -> dict[str, Tensor]:
    if not isinstance(named, Mapping):
        raise NamedGradsError(f"named must map names to Tensors (a dict), got "
                              f"{type(named).__name__}")
    if not named:
        raise NamedGradsError("named is empty: give at least one name and its Tensor")
    out: dict[str, Tensor] = {}
    for name, t in named.items():
        if not isinstance(name, str):
            raise NamedGradsError(f"names must be strings, got {name!r}")
        if not isinstance(t, Tensor):
            raise NamedGradsError(f"named[{name!r}] must be a Tensor, got {type(t).__name__}")
        out[name] = t
    seen: dict[int, str] = {}
    for name, t in out.items():
        if id(t) in seen:
            raise NamedGradsError(f"named[{name!r}] and named[{seen[id(t)]!r}] are the same "
                                  "Tensor: give each Tensor one name")
        seen[id(t)] = name
    without = [name for name, t in out.items() if t.grad is None]
    if len(without) == len(out):
        raise NamedGradsError("no Tensor in named has a gradient: call loss.backward() before "
                              "comparing")
    if without:
        why = [f"{n} (requires_grad=False)" if not out[n].requires_grad else n for n in without]
        raise NamedGradsError(f"no gradient in {', '.join(why)}: backward() did not reach "
                              f"{'it' if len(without) == 1 else 'them'} (not on the path to "
                              "the Tensor backward() was called on, or made after that call)")
    return out


def _manual(manual: Any, tensors: Mapping[str, Tensor]) -> dict[str, Any]:
    if not isinstance(manual, Mapping):
        raise NamedGradsError(f"manual must map names to arrays (a dict), got "
                              f"{type(manual).__name__}")
    unknown = [name for name in manual if name not in tensors]
    if unknown:
        hints = []
        for name in unknown:
            near = difflib.get_close_matches(str(name), list(tensors), n=1)
            hints.append(f"{name!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
        raise NamedGradsError(f"manual has {'a name' if len(unknown) == 1 else 'names'} that "
                              f"named has not: {', '.join(hints)}; named has: "
                              f"{', '.join(tensors)}")
    return dict(manual)


def _as_array(value: Any, name: str) -> Array:
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if isinstance(value, Tensor):
        raise NamedGradsError(f"manual[{name!r}] is a Tensor: give its array (t.data), or the "
                              "numpy array you computed")
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise NamedGradsError(f"manual[{name!r}] is not an array: {exc}") from None
    if arr.dtype.kind not in "biuf":
        raise NamedGradsError(f"manual[{name!r}] must hold real numbers, got dtype {arr.dtype}")
    return arr


def _one(name: str, tensor: Tensor, value: Any, rtol: float, atol: float) -> GradResult:
    engine = tensor.grad
    assert engine is not None  # (checked in _tensors)
    shape = tuple(engine.shape)
    if value is None:
        return GradResult(name, "missing", shape, None, None, "no manual gradient")
    mine = _as_array(value, name)
    if mine.shape != shape:
        return GradResult(name, "shape", shape, tuple(mine.shape), None,
                          f"manual has shape {mine.shape}, the engine's gradient "
                          f"{shape}")
    if np.array_equal(mine, engine):
        return GradResult(name, "exact", shape, shape, 0.0)
    a, b = np.asarray(mine, dtype=np.float64), np.asarray(engine, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = float(np.max(np.abs(a - b), initial=0.0))
    notes = [f"{what} has {count} NaN" for what, count in
             (("manual", int(np.isnan(a).sum())), ("engine", int(np.isnan(b).sum()))) if count]
    close = bool(np.allclose(a, b, rtol=rtol, atol=atol))  # (never with a NaN)
    return GradResult(name, "close" if close else "wrong", shape, shape, diff,
                      "; ".join(notes) + (": NaN is never close" if notes else ""))
