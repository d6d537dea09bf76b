"""Running each backward pass on a BN problem, and timing it.

Every runner takes a `Problem` and ``repeats`` (None: time for about 20 ms) and returns
``(out, (dx, dgamma, dbeta), median_seconds, calls)``: autograd (`autograd`), torch.autograd
(`torch_run`) and your layer (`user_run`). `numerical` is the float64 central-difference
reference; the hand-written passes are timed with `median_time` directly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_bn.bn import manual
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import Problem
from autograd_bn.check.timing import median_time
from autograd_bn.check.usercall import Call, RawResult, check_result, run_layer
from autograd_bn.check.userimpl import UserImpl, UserImplError, UserSpec
from autograd_bn.engine.gradcheck import numerical_gradient
from autograd_bn.engine.tensor import Tensor

Array = np.ndarray
Result = tuple[Array, tuple[Array, ...], float, int]
"""``(out, (dx, dgamma, dbeta), median seconds per backward call, calls timed)``."""

NUMERICAL_STEP = 1e-5
"""The central-difference step h of the numerical gradient."""
DESCRIPTIONS = {
    "autograd": "the engine: BN from primitive ops, reverse-mode autodiff (the reference)",
    "staged": "the seed's computational-graph pass, one step per node",
    "analytical": "the seed's chain-rule pass, which keeps the dL_mu2 term",
    "compact": "cs231n's one-line batchnorm_backward_alt",
    "paper": "Ioffe & Szegedy (2015), page 4",
    "torch": "torch.autograd through torch.nn.functional.batch_norm (outside reference)",
}
def numerical(p: Problem) -> tuple[Array, Array, Array]:
    """Central-difference gradients of ``Σ out·dout``, always in float64."""
    x, gamma, beta, dout = (np.asarray(a, dtype=np.float64)
                            for a in (p.x, p.gamma, p.beta, p.dout))

    def bn(xa: Array, ga: Array, ba: Array) -> Array:
        return manual.batchnorm_forward(xa, ga, ba, p.eps)[0]

    return (
        numerical_gradient(lambda v: bn(v, gamma, beta), x, dout, NUMERICAL_STEP),
        numerical_gradient(lambda v: bn(x, v, beta), gamma, dout, NUMERICAL_STEP),
        numerical_gradient(lambda v: bn(x, gamma, v), beta, dout, NUMERICAL_STEP),
    )


def autograd(p: Problem, repeats: int | None) -> Result:
    """The engine: BN built from ops, ``backward(dout)`` timed on the built graph."""
    leaves = [Tensor(p.x, label="(1) x"), Tensor(p.gamma, label="(9) γ"),
              Tensor(p.beta, label="(11) β")]
    out = batchnorm(leaves[0], leaves[1], leaves[2], eps=p.eps)
    out.backward(p.dout)
    grads = tuple(leaf.grad.copy() for leaf in leaves)  # type: ignore[union-attr]

    def reset() -> None:
        for leaf in leaves:
            leaf.grad = None

    seconds, calls = median_time(lambda: out.backward(p.dout), repeats, reset)
    return out.data, grads, seconds, calls


def manual_run(name: str, p: Problem, repeats: int | None,
               cache: manual.Cache) -> tuple[tuple[Array, ...], float, int]:
    """The hand-written pass ``name`` on ``cache``: its gradients, median time and calls."""
    backward = manual.BACKWARDS[name]
    grads = backward(p.dout, cache)
    seconds, calls = median_time(lambda: backward(p.dout, cache), repeats)
    return grads, seconds, calls


def torch_available() -> bool:
    """Whether ``import torch`` works (an installed but broken torch counts as missing)."""
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


def torch_run(p: Problem, repeats: int | None) -> Result:
    """torch.autograd through ``torch.nn.functional.batch_norm`` in training mode."""
    import torch

    x, gamma, beta = (torch.from_numpy(np.array(a)).requires_grad_()
                      for a in (p.x, p.gamma, p.beta))
    dout = torch.from_numpy(np.array(p.dout))
    out = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True,
                                         momentum=0.0, eps=p.eps)

    def backward() -> tuple[Any, ...]:
        return torch.autograd.grad(out, (x, gamma, beta), dout, retain_graph=True)

    grads = tuple(g.detach().numpy().copy() for g in backward())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # like numpy here; idle worker threads only add noise
    try:
        seconds, calls = median_time(backward, repeats)
    finally:
        torch.set_num_threads(threads)
    return out.detach().numpy().copy(), grads, seconds, calls


def user_raw(impl: UserImpl | UserSpec, call: Call, arrays: dict[str, Array],
             repeats: int | None, hint: str = "") -> RawResult:
    """Run your layer: in a child process for a `UserSpec` (`autograd_bn.check.sandbox`), in
    this one for functions. A failing forward's message ends with ``hint``."""
    try:
        if isinstance(impl, UserSpec):
            from autograd_bn.check.sandbox import run_in_child

            return run_in_child(impl, call, arrays, repeats)
        return run_layer(impl, call, arrays,
                         lambda fn, setup: median_time(fn, repeats, setup))
    except UserImplError as exc:
        if hint and str(exc).startswith("forward"):
            raise UserImplError(f"{exc}{hint}") from None
        raise


def user_run(impl: UserImpl | UserSpec, p: Problem, repeats: int | None,
             hint: str = "") -> tuple[Result, list[str]]:
    """Your batch-norm layer: forward and backward checked, backward timed; and notes (a
    gradient graded after dropping size-1 axes)."""
    arrays = {"x": p.x, "gamma": p.gamma, "beta": p.beta, "dout": p.dout}
    raw = user_raw(impl, Call("batchnorm", p.eps), arrays, repeats, hint)
    shapes = {"out": p.x.shape, "dx": p.x.shape, "dgamma": p.gamma.shape,
              "dbeta": p.beta.shape}
    out, grads, _, notes = check_result(raw, shapes, (0,), hint)
    assert grads is not None
    return (out, grads, raw.seconds, raw.calls), notes
