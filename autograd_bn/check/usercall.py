"""Calling your layer as cs231n does, for every layer of the family, and collecting what it
returned as plain arrays (`RawResult`). The same code runs in the tool's process (functions
passed from Python) and in the child process of `autograd_bn.check.sandbox` (the command line).

The calls, per layer (``param`` is a new dict each call; arrays are fresh copies):

    batchnorm, spatial_batchnorm   forward(x, gamma, beta, bn_param)  {"mode": "train", "eps"}
    layernorm                      forward(x, gamma, beta, ln_param)  {"eps"}
    spatial_groupnorm              forward(x, gamma, beta, G, gn_param)  {"eps"}
    every layer                    backward(dout, cache) -> (dx, dgamma, dbeta)

In test mode (batch norm) the forward is called twice: in training mode with
``bn_param["momentum"]``, ``["running_mean"]`` and ``["running_var"]``, whose updated values are
read back from ``bn_param``; then with ``mode="test"`` and the given running statistics, whose
output is graded. The backward is not called in test mode.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from autograd_bn.check.userimpl import UserImpl, UserImplError, describe, guarded

Array = np.ndarray
Timer = Callable[[Callable[[], Any], Callable[[], Any]], tuple[float, int]]


@dataclass(frozen=True)
class Call:
    """How to call the user's layer: which layer, its ε and the options of its parameter dict."""

    layer: str = "batchnorm"
    eps: float = 1e-5
    groups: int = 1
    mode: str = "train"
    momentum: float = 0.9

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "eps": self.eps, "groups": self.groups, "mode": self.mode,
                "momentum": self.momentum}


@dataclass(frozen=True)
class RawResult:
    """What the layer returned, as arrays (shapes not yet checked), and the backward's time."""

    out: Array
    grads: tuple[Array, ...] | None  # None in test mode
    running: tuple[Array, Array] | None  # the running mean and variance after a train call
    seconds: float
    calls: int
    names: tuple[str, str] = ("forward", "backward")  # the functions' names, for messages


def _param(call: Call, mode: str, running: tuple[Array, Array] | None) -> dict[str, Any]:
    param: dict[str, Any] = {"eps": call.eps}
    if call.layer in ("batchnorm", "spatial_batchnorm"):
        param = {"mode": mode, "eps": call.eps}
    if running is not None:
        param.update(momentum=call.momentum, running_mean=running[0].copy(),
                     running_var=running[1].copy())
    return param


def _forward(impl: UserImpl, call: Call, a: dict[str, Array], param: dict[str, Any]) -> Any:
    args: list[Any] = [a["x"].copy(), a["gamma"].copy(), a["beta"].copy()]
    if call.layer == "spatial_groupnorm":
        args.append(call.groups)
    return impl.forward(*args, param)


def as_array(value: Any, what: str) -> Array:
    """``value`` as an array of real numbers (any shape), or `UserImplError`."""
    try:
        arr = np.array(value)
    except Exception as exc:  # ragged lists and the like
        raise UserImplError(f"{what} is not an array: {type(exc).__name__}") from None
    if arr.dtype.kind not in "biuf":
        raise UserImplError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    return arr


def _pair(result: Any, who: str) -> tuple[Any, Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list))
               else f"a {type(result).__name__}")
        raise UserImplError(f"{who} must return (out, cache), got {got}")
    return result[0], result[1]


def run_layer(impl: UserImpl, call: Call, arrays: dict[str, Array], timer: Timer,
              stage: Callable[[str], None] = lambda name: None) -> RawResult:
    """Run the user's layer on ``arrays`` (x, gamma, beta, dout; running_mean and running_var in
    test mode) and time its backward with ``timer(call, setup)``. ``stage(name)`` is told
    "forward" and "backward" before each runs."""
    stage("forward")
    who = f"forward {describe(impl.forward)}"
    running = None
    if call.mode == "test":
        given = (arrays["running_mean"], arrays["running_var"])
        param = _param(call, "train", given)
        with guarded(f"{who} raised (training mode, updating the running statistics)"):
            _pair(_forward(impl, call, arrays, param), who)
        stats = []
        for key in ("running_mean", "running_var"):
            if key not in param:
                raise UserImplError(f"{who} did not store bn_param[{key!r}] in training mode")
            stats.append(as_array(param[key], f"{who}: bn_param[{key!r}]"))
        running = (stats[0], stats[1])
        with guarded(f"{who} raised in test mode"):
            out, _ = _pair(_forward(impl, call, arrays, _param(call, "test", given)), who)
        return RawResult(as_array(out, f"{who}: out"), None, running, 0.0, 0,
                         (describe(impl.forward), describe(impl.backward)))
    with guarded(f"{who} raised"):
        result = _forward(impl, call, arrays, _param(call, "train", None))
    out, cache = _pair(result, who)
    out = as_array(out, f"{who}: out")
    bwho = f"backward {describe(impl.backward)}"
    dout = arrays["dout"]
    stage("backward")
    with guarded(f"{bwho} raised"):
        grads = impl.backward(dout.copy(), cache)
    if not isinstance(grads, (tuple, list)) or len(grads) != 3:
        got = (f"{len(grads)} values" if isinstance(grads, (tuple, list))
               else f"a {type(grads).__name__}")
        raise UserImplError(f"{bwho} must return (dx, dgamma, dbeta), got {got}")
    arrs = tuple(as_array(g, f"{bwho}: {n}")
                 for g, n in zip(grads, ("dx", "dgamma", "dbeta"), strict=True))
    fresh: list[Array] = []

    def setup() -> None:
        fresh[:] = [dout.copy()]  # outside the timed region

    with guarded("backward raised on a repeated call:", quiet=True):
        seconds, calls = timer(lambda: impl.backward(fresh[0], cache), setup)
    return RawResult(out, arrs, running, seconds, calls,
                     (describe(impl.forward), describe(impl.backward)))


def _axes_text(axes: tuple[int, ...]) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else f"axes {', '.join(map(str, axes))}"


def _wrong_axes(shape: tuple[int, ...], x_shape: tuple[int, ...],
                right: tuple[int, ...]) -> str:
    """`` (that is the shape of a sum over axis 1; …)`` when a gradient's shape is what summing
    an x-shaped array over other axes gives."""
    import itertools

    squeezed = tuple(n for n in shape if n != 1)
    for k in range(1, len(x_shape) + 1):
        for axes in itertools.combinations(range(len(x_shape)), k):
            kept = tuple(n for i, n in enumerate(x_shape) if i not in axes and n != 1)
            if axes != right and kept == squeezed:
                return (f" (that is the shape of a sum over {_axes_text(axes)}; this layer's "
                        f"parameter gradients sum over {_axes_text(right)})")
    return ""


def check_result(raw: RawResult, shapes: dict[str, tuple[int, ...]],
                 param_axes: tuple[int, ...], hint: str = "",
                 ) -> tuple[Array, tuple[Array, ...] | None, tuple[Array, Array] | None,
                            list[str]]:
    """Check what the layer returned against the expected ``shapes`` (out, dx, dgamma, dbeta,
    running): ``(out, grads, running, notes)``; notes say where size-1 axes were dropped.
    ``hint`` ends every shape error (which layer was assumed, how to choose another)."""
    from autograd_bn.check.userimpl import _check_array

    notes: list[str] = []
    fwho, bwho = f"forward {raw.names[0]}", f"backward {raw.names[1]}"

    def check(value: Array, key: str, what: str) -> Array:
        try:
            return _check_array(value, shapes[key], what, notes)
        except UserImplError as exc:
            extra = ""
            if "has shape" in str(exc) and key in ("dgamma", "dbeta"):
                extra = _wrong_axes(np.shape(value), shapes["dx"], param_axes)
            raise UserImplError(f"{exc}{extra}{hint if 'has shape' in str(exc) else ''}") \
                from None

    out = check(raw.out, "out", f"{fwho}: out")
    grads = None if raw.grads is None else tuple(
        check(g, key, f"{bwho}: {key}") for g, key in zip(raw.grads, ("dx", "dgamma", "dbeta"),
                                                           strict=True))
    running = None if raw.running is None else (
        check(raw.running[0], "running", f"{fwho}: bn_param['running_mean']"),
        check(raw.running[1], "running", f"{fwho}: bn_param['running_var']"))
    return out, grads, running, notes
