"""Running your own forward and hand-written backward for ``autograd-bn check FILE:FUNCTION``.

The contract: ``FUNCTION()`` (or ``FUNCTION(seed)`` when a seed is given) builds a forward pass
with Tensors, calls ``loss.backward()``, writes the backward pass by hand and returns
``(named, manual)``: ``named`` maps names to the graph's Tensors, ``manual`` the same names to
the gradients computed by hand (see `autograd_bn.check.grads.compare_grads`).

The function is loaded with `autograd_bn.check.userimpl.load_callable` (in this process, no
time limit), and called here: anything it raises, `SystemExit` included, becomes a one-line
`UserImplError`, as does a return value of the wrong type; what it prints goes to stderr, so
``--json`` stays clean.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from contextlib import redirect_stdout
from typing import Any

from autograd_bn.check.grads import GradComparison, NamedGradsError, compare_grads
from autograd_bn.check.userimpl import UserImplError, load_callable
from autograd_bn.engine.tensor import Tensor

CONTRACT = ("FUNCTION() (or FUNCTION(seed) with --seed) builds the forward pass with Tensors, "
            "calls loss.backward(), and returns (named, manual): named maps names to the "
            "graph's Tensors, manual the same names to your hand-computed gradients (numpy "
            "arrays; None: not written yet)")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def call_step(spec: str, seed: int | None = None) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """Load ``FILE.py:FUNCTION`` (or ``package.module:FUNCTION``), call it and check that it
    returned ``(named, manual)``, two dicts; `UserImplError` otherwise."""
    fn = load_callable(spec, "check")
    args = () if seed is None else (seed,)
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


def check_step(spec: str, seed: int | None = None, **tolerance: float) -> GradComparison:
    """`call_step`, then `compare_grads` of what it returned. A mistake in what the function
    returned (a name only in manual, a Tensor without a gradient) is a `UserImplError`."""
    named, manual = call_step(spec, seed)
    try:
        return compare_grads(named, manual, **tolerance)
    except NamedGradsError as exc:
        raise UserImplError(f"check: {spec}: {exc}") from None
