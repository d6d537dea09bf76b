"""`compare_layer`: any layer of the family (`autograd_bn.bn.layers`) checked as `compare` checks
batch norm: autograd (the engine's graph of the layer, the reference), the hand-written staged
and compact passes, your layer, each against autograd and a float64 numerical gradient.

In test mode (batch norm) your layer is graded on its test-mode output and on the running mean
and variance its training-mode call stored (``checks``); its backward is not called.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd_bn.bn import layers
from autograd_bn.bn.layers import LayerProblem
from autograd_bn.check import runners
from autograd_bn.check.compare import NUMERICAL_AUTO_LIMIT, _user_impl, explain_rows
from autograd_bn.check.diagnose import diagnose_grad, diagnose_out
from autograd_bn.check.metrics import (
    GRADS,
    NUMERICAL_TOLERANCE,
    measure,
    numerical_resolution,
    tolerance,
)
from autograd_bn.check.overflow import refuse_bn_overflow
from autograd_bn.check.results import Comparison, Row
from autograd_bn.check.usercall import Call, check_result
from autograd_bn.engine.gradcheck import numerical_gradient

Array = np.ndarray
DESCRIPTIONS = {
    "autograd": "the engine: the layer from primitive ops, reverse-mode autodiff (the reference)",
    "staged": "the seed's staged pass over the layer's axes, one step per node",
    "compact": "one line: (ĝ − mean(ĝ) − x̂·Σ(ĝ·x̂)/K)/σ with ĝ = dout·γ",
}


def _float64(p: LayerProblem) -> LayerProblem:
    arrays = {k: None if v is None else np.asarray(v, np.float64) for k, v in
              (("x", p.x), ("gamma", p.gamma), ("beta", p.beta), ("dout", p.dout),
               ("running_mean", p.running_mean), ("running_var", p.running_var))}
    return dataclasses.replace(p, **arrays)  # type: ignore[arg-type]


def _scales(p: LayerProblem) -> dict[str, float]:
    """The size of the terms each result sums (as `autograd_bn.check.metrics.scales`)."""
    q = _float64(p)
    _, c = layers.manual_forward(q)
    dout = q.view(q.dout)
    axes = tuple(i for i, n in enumerate(c.gamma.shape) if n == 1 and dout.shape[i] != 1)
    return {
        "out": float(np.max(np.abs(c.gamma * c.x_hat) + np.abs(q.param_view(q.beta)))),
        "dx": float(np.max(np.abs(c.gamma * dout / c.std))),
        "dgamma": float(np.max(np.abs(dout * c.x_hat).sum(axis=axes))),
        "dbeta": float(np.max(np.abs(dout).sum(axis=axes))),
        "running": float(max(np.max(np.abs(q.x)), np.max(np.abs(q.x.var(axis=0))), 1.0)),
    }


def numerical(p: LayerProblem) -> tuple[Array, Array, Array]:
    """Central-difference gradients of ``Σ out·dout`` in float64."""
    q = _float64(p)

    def f(i: int) -> Any:
        def out(v: Array) -> Array:
            args = [q.x, q.gamma, q.beta]
            args[i] = v
            return layers.numpy_out(q, *args)
        return out

    return tuple(numerical_gradient(f(i), a, q.dout, runners.NUMERICAL_STEP)  # type: ignore[return-value]
                 for i, a in enumerate((q.x, q.gamma, q.beta)))


def _bound(name: str, p: LayerProblem, cache: Any) -> Any:
    return lambda: layers.manual_backward(name, p, cache)


def _param_axes(p: LayerProblem) -> tuple[int, ...]:
    return (0,) if p.x.ndim == 2 else (0, 2, 3)


def compare_layer(p: LayerProblem, *, user: Any = None, numerical_grad: bool | None = None,
                  repeats: int | None = None, hint: str = "") -> Comparison:
    """Every method on one layer problem, against autograd and the numerical gradient."""
    user = _user_impl(user)
    dtype = str(p.x.dtype)
    sizes = _scales(p)
    out_t, leaves = layers.build_graph(p)
    dout_view = p.view(p.dout)
    out_t.backward(dout_view)
    ref_out = out_t.data.reshape(p.x.shape)
    ref_grads = p.unview(*(leaf.grad.copy() for leaf in leaves))  # type: ignore[union-attr]

    def reset() -> None:
        for leaf in leaves:
            leaf.grad = None

    seconds, calls = runners.median_time(lambda: out_t.backward(dout_view), repeats, reset)
    _, cache = layers.manual_forward(p)
    with np.errstate(over="ignore", invalid="ignore"):
        refuse_bn_overflow(cache.mean, cache.var, cache.std, cache.x_hat, ref_out, ref_grads,
                           p.x)
    tol = tolerance(dtype) if dtype == "float64" else 10 * tolerance(dtype)
    num_tol = max(tol, NUMERICAL_TOLERANCE)
    notes: list[str] = []
    if numerical_grad is None:
        numerical_grad = p.x.size <= NUMERICAL_AUTO_LIMIT
        if not numerical_grad:
            notes.append(f"numerical gradient skipped: x has {p.x.size} > "
                         f"{NUMERICAL_AUTO_LIMIT} elements (--numerical forces it)")
    numeric = numerical(p) if numerical_grad else None
    resolution = None if numeric is None else numerical_resolution(
        layers.numpy_out(_float64(p), *(np.asarray(a, np.float64)
                                        for a in (p.x, p.gamma, p.beta))),
        p.dout, runners.NUMERICAL_STEP)

    def row(name: str, kind: str, description: str, out: Array,
            grads: Sequence[Array] | None, seconds: float, calls: int,
            checks: dict[str, Any] | None = None) -> Row:
        fwd = measure(out, ref_out, tol, sizes["out"])
        vs_ag = {} if grads is None else {
            g: measure(a, r, tol, sizes[g]) for g, a, r in zip(GRADS, grads, ref_grads,
                                                               strict=True)}
        vs_num = None if numeric is None or grads is None else {
            g: measure(a, r, num_tol, sizes[g], resolution=resolution)
            for g, a, r in zip(GRADS, grads, numeric, strict=True)}
        return Row(name, kind, description, fwd, vs_ag, vs_num, seconds, calls,
                   tuple(grads or ()), checks or {})

    rows = [row("autograd", "engine", DESCRIPTIONS["autograd"], ref_out, ref_grads, seconds,
                calls)]
    manual_out = cache.gamma * cache.x_hat + p.param_view(p.beta)
    for name in ("staged", "compact"):
        grads = layers.manual_backward(name, p, cache)
        secs, n = runners.median_time(_bound(name, p, cache), repeats)
        rows.append(row(name, "manual", DESCRIPTIONS[name], manual_out.reshape(p.x.shape),
                        grads, secs, n))
    if user is not None:
        rows.append(_user_row(p, user, repeats, hint, row, cache, ref_grads, notes))
    notes += explain_rows(rows, dtype, tol, numeric is not None, resolution)
    return Comparison(p, dtype, tol, num_tol, scales=sizes, reference_error=0.0,
                      rows=tuple(rows), notes=tuple(notes), seed=p.seed, numerical_grads=numeric,
                      resolution=resolution, layer=p.layer)


def _user_row(p: LayerProblem, user: Any, repeats: int | None, hint: str, row: Any,
              cache: Any, ref_grads: Sequence[Array], notes: list[str]) -> Row:
    arrays = {"x": p.x, "gamma": p.gamma, "beta": p.beta, "dout": p.dout}
    if p.mode == "test":
        assert p.running_mean is not None and p.running_var is not None
        arrays.update(running_mean=p.running_mean, running_var=p.running_var)
    call = Call(p.layer, p.eps, p.groups, p.mode, p.momentum)
    raw = runners.user_raw(user, call, arrays, repeats, hint)
    shapes = {"out": p.x.shape, "dx": p.x.shape, "dgamma": p.gamma.shape,
              "dbeta": p.beta.shape, "running": (p.x.shape[1],)}
    out, grads, running, user_notes = check_result(raw, shapes, _param_axes(p), hint)
    notes += user_notes
    checks = {}
    if running is not None:
        tol = tolerance(str(p.x.dtype))
        ref_mean, ref_var = layers.running_stats(p)
        scale = _scales(p)["running"]
        checks = {"running_mean": measure(running[0], ref_mean, tol, scale),
                  "running_var": measure(running[1], ref_var, tol, scale)}
        notes.append("test mode: your forward is graded in test mode, with the running mean "
                     "and variance its training-mode call stored in bn_param (momentum "
                     f"{p.momentum:g}); your backward is not called")
    mine = row(user.name, "user", user.description, out, grads, raw.seconds, raw.calls, checks)
    if not mine.disagreements:
        return mine  # type: ignore[no-any-return]
    tol = 1e-6 if p.x.dtype == np.float64 else 1e-3
    hints: list[str] = []
    if "out" in mine.disagreements:
        hints += diagnose_out(p.view(out), x=p.view(p.x), gamma=cache.gamma,
                              beta=p.param_view(p.beta), eps=p.eps, axes=cache.axes,
                              bessel=p.bessel, tol=tol)
    for i, key in enumerate(("running_mean", "running_var")):
        if key in mine.disagreements and running is not None:
            a, r = running[i], layers.running_stats(p)[i]
            other = layers.running_stats(dataclasses.replace(p, bessel=not p.bessel))[i]
            why = (" (it uses the other variance: N vs N − 1)"
                   if np.allclose(a, other, rtol=tol) else "")
            hints.append(f"{key} is not momentum·old + (1 − momentum)·batch statistic "
                         f"(momentum {p.momentum:g}): max |diff| "
                         f"{float(np.max(np.abs(a - r))):.1e}{why}")
    if grads is not None:
        for g, a, r in zip(GRADS, grads, ref_grads, strict=True):
            if g in mine.disagreements and len(hints) < 2:
                view = p.view(a) if g == "dx" else a
                refv = p.view(r) if g == "dx" else r
                hints += diagnose_grad(g, view, refv, x_hat=cache.x_hat, gamma=cache.gamma,
                                       axes=cache.axes, count=cache.count, tol=tol)
    return dataclasses.replace(mine, hints=tuple(hints[:2]))
