"""Running your own forward and hand-written backward for ``autograd-bn check FILE:FUNCTION``.

The contract: ``FUNCTION()`` (or ``FUNCTION(seed)`` when a seed is given) builds a forward pass
with Tensors, calls ``loss.backward()``, writes the backward pass by hand and returns
``(named, manual)``: ``named`` maps names to the graph's Tensors, ``manual`` the same names to
the gradients computed by hand (see `autograd_bn.check.grads.compare_grads`).

`check_in_child` (the command line) runs `check_step` in a child process of
`autograd_bn.check.sandbox`, stopped after a time limit: your function, its ``backward()`` and
the comparison (which reads your Tensors and arrays) all run there, and only the comparison's
rows come back, as plain data. Whatever your code does as a process (hangs, ``os._exit``, a
signal, writes to fd 1) becomes one `UserImplError` line, and what it prints goes to stderr.

`check_step` itself runs in the calling process: the function is loaded with
`autograd_bn.check.userimpl.load_callable` and called; anything it raises, `SystemExit`
included, becomes a one-line `UserImplError`, as does a return value of the wrong type.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Mapping
from contextlib import redirect_stdout
from typing import Any

import numpy as np

from autograd_bn.check.grads import (
    ATOL,
    RTOL,
    STATUSES,
    GradComparison,
    GradResult,
    NamedGradsError,
    compare_grads,
)
from autograd_bn.check.sandbox import run_child, serve
from autograd_bn.check.userimpl import TIMEOUT, UserImplError, _one_line, load_callable
from autograd_bn.engine.tensor import Tensor

CONTRACT = ("FUNCTION() (or FUNCTION(seed) with --seed) builds the forward pass with Tensors, "
            "calls loss.backward(), and returns (named, manual): named maps names to the "
            "graph's Tensors, manual the same names to your hand-computed gradients (numpy "
            "arrays; None: not written yet)")
STAGES = {"load": "while loading your file", "call": "in your function",
          "compare": "while its gradients were compared", "done": "after it was checked"}
"""Where the child was when it was stopped: the stage `check_step` last reached."""


def _nowhere(stage: str) -> None:
    pass


def call_step(spec: str, seed: int | None = None, stage: Callable[[str], None] = _nowhere,
              ) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Load ``FILE.py:FUNCTION`` (or ``package.module:FUNCTION``), call it and check that it
    returned ``(named, manual)``, two dicts; `UserImplError` otherwise. ``stage`` is told
    "load" and "call" before each."""
    stage("load")
    fn = load_callable(spec, "check")
    args = () if seed is None else (seed,)
    stage("call")
    try:
        with redirect_stdout(sys.stderr):
            result = fn(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        called = f"{spec}({'' if seed is None else seed})"
        raise UserImplError(f"check: {called} raised {_one_line(exc)}") from None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list))
               else f"a {type(result).__name__}")
        raise UserImplError(f"check: {spec} must return (named, manual), got {got}")
    named, manual = result
    for what, value in (("named", named), ("manual", manual)):
        if not isinstance(value, Mapping):
            raise UserImplError(f"check: {spec} must return (named, manual), two dicts; "
                                f"{what} is a {type(value).__name__}")
    return dict(named), dict(manual)


def check_step(spec: str, seed: int | None = None, stage: Callable[[str], None] = _nowhere,
               **tolerance: float) -> GradComparison:
    """`call_step`, then `compare_grads` of what it returned (``stage`` is told "compare"). A
    mistake in what the function returned (a name only in manual, a Tensor without a gradient)
    is a `UserImplError`, as is anything the returned objects raise while being compared."""
    named, manual = call_step(spec, seed, stage)
    stage("compare")
    try:
        with redirect_stdout(sys.stderr):
            return compare_grads(named, manual, **tolerance)
    except NamedGradsError as exc:
        raise UserImplError(f"check: {spec}: {exc}") from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # (your objects' code: a Tensor subclass, an __array__)
        raise UserImplError(f"check: {spec}: comparing what it returned raised "
                            f"{_one_line(exc)}") from None


def check_in_child(spec: str, seed: int | None = None, timeout: float = TIMEOUT, *,
                   rtol: float = RTOL, atol: float = ATOL) -> GradComparison:
    """`check_step` in a child process, stopped (SIGKILL) after ``timeout`` seconds; the same
    `GradComparison`, or `UserImplError` with one line for whatever went wrong there."""
    request = {"spec": spec, "seed": seed, "rtol": rtol, "atol": atol}
    meta, _ = run_child("autograd_bn.check.userstep", request, {}, timeout, f"check: {spec}",
                        STAGES)
    try:
        return GradComparison(tuple(_result(row) for row in meta["results"]), rtol, atol)
    except (KeyError, TypeError, ValueError) as exc:
        raise UserImplError(f"check: {spec}: the child process answered something unreadable "
                            f"({_one_line(exc)})") from None


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in value)


def _result(row: dict[str, Any]) -> GradResult:
    """A row of the child's answer (`dataclasses.asdict` of a `GradResult`, through JSON)."""
    if row["status"] not in STATUSES:
        raise ValueError(f"status {row['status']!r}")
    manual_shape, diff = row["manual_shape"], row["max_abs_diff"]
    return GradResult(str(row["name"]), str(row["status"]), _shape(row["shape"]),
                      None if manual_shape is None else _shape(manual_shape),
                      None if diff is None else float(diff), str(row["note"]))


def _answer(request: dict[str, Any], arrays: dict[str, np.ndarray], stage: Callable[[str], None],
            ) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The child's side of `check_in_child`: `check_step`, and its rows as plain data (JSON
    keeps NaN and infinity)."""
    import warnings

    from autograd_bn.bn.overflow import BNOverflowWarning

    warnings.simplefilter("error", BNOverflowWarning)  # an error, as in the command line
    comparison = check_step(request["spec"], request["seed"], stage, rtol=request["rtol"],
                            atol=request["atol"])
    stage("done")
    return {"results": [dataclasses.asdict(r) for r in comparison.results]}, {}


if __name__ == "__main__":
    serve(_answer)
