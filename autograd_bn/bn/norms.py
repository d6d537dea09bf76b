"""The normalisation family by hand (numpy only): one forward pass and two backward passes that
serve layer norm, spatial batch norm, group norm and batch norm with Bessel's correction, plus
batch norm's test mode and its running statistics.

Every member normalises ``x`` over some ``axes`` of a working view of it (keeping those axes,
so the statistics broadcast back), then scales by γ and shifts by β:

    batch norm (N, D)          axes (0,)         γ (D,)
    layer norm (N, D)          axes (1,)         γ (D,)
    spatial batch norm         axes (0, 2, 3)    γ (C,), seen as (1, C, 1, 1)
    spatial group norm         axes (2, 3, 4)    of x seen as (N, G, C/G, H, W); γ (1, C, 1, 1)

The variance divides by M (the number of values in one statistic), or by M − 1 with
``bessel=True`` (makemore's "backprop ninja"; cs231n and the paper's training mode use M).
The cache is ``NormCache``; the backward passes return ``(dx, dgamma, dbeta)`` in the shapes of
the working view and of γ's broadcast view (`autograd_bn.bn.layers` turns them back).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Array = np.ndarray
Axes = tuple[int, ...]


@dataclass(frozen=True)
class NormCache:
    """What the backward passes need: the forward pass's named intermediates."""

    x: Array
    mean: Array
    var: Array
    std: Array
    gamma: Array
    x_hat: Array
    eps: float
    axes: Axes
    bessel: bool = False
    test: bool = False

    @property
    def count(self) -> int:
        """M: how many values one statistic is taken over."""
        return int(np.prod([self.x.shape[a] for a in self.axes]))

    @property
    def divisor(self) -> int:
        """What the variance divides by: M, or M − 1 with Bessel's correction."""
        return self.count - 1 if self.bessel else self.count


def param_axes(x_shape: tuple[int, ...], gamma_shape: tuple[int, ...]) -> Axes:
    """The axes γ is broadcast along (its gradient sums over them)."""
    return tuple(i for i, (n, g) in enumerate(zip(x_shape, gamma_shape, strict=True))
                 if g == 1 and n != 1)


def forward(x: Array, gamma: Array, beta: Array, eps: float, axes: Axes, *,
            bessel: bool = False) -> tuple[Array, NormCache]:
    """Training-mode normalisation over ``axes``; γ and β already in broadcast shape."""
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    m = int(np.prod([x.shape[a] for a in axes]))
    var = (centred**2).sum(axis=axes, keepdims=True) / (m - 1 if bessel else m)
    std = np.sqrt(var + eps)
    x_hat = centred / std
    out = gamma * x_hat + beta
    return out, NormCache(x, mean, var, std, gamma, x_hat, eps, axes, bessel)


def forward_test(x: Array, gamma: Array, beta: Array, eps: float, running_mean: Array,
                 running_var: Array) -> tuple[Array, NormCache]:
    """Test-mode batch norm: the running statistics in place of the batch's."""
    std = np.sqrt(running_var + eps)
    x_hat = (x - running_mean) / std
    out = gamma * x_hat + beta
    return out, NormCache(x, running_mean, running_var, std, gamma, x_hat, eps, (0,), test=True)


def running_update(x: Array, running_mean: Array, running_var: Array, momentum: float, *,
                   bessel: bool = False) -> tuple[Array, Array]:
    """cs231n's update after a training-mode forward pass:
    ``running = momentum · running + (1 − momentum) · batch statistic``."""
    mean = x.mean(axis=0)
    var = x.var(axis=0, ddof=1 if bessel else 0)
    return (momentum * running_mean + (1 - momentum) * mean,
            momentum * running_var + (1 - momentum) * var)


def _sum(a: Array, cache: NormCache, axes: Axes) -> Array:
    return a.sum(axis=axes, keepdims=True) if axes else a


def backward_staged_intermediates(dout: Array, cache: NormCache) -> dict[str, Array]:
    """The seed's staged pass, one step per node of the numbered graph, over ``cache.axes``.

    Names as in `autograd_bn.bn.manual.backward_staged_intermediates` (``d10``, ``d8_3``,
    ``d8_7``, … ``dx``); ``S`` sums over the normalised axes (keeping them). In test mode only
    the direct path exists: ``dx = d8_3``.
    """
    c = cache
    p_axes = param_axes(dout.shape, c.gamma.shape)
    dbeta = _sum(dout, c, p_axes)
    dgamma = _sum(dout * c.x_hat, c, p_axes)
    d10 = dout * c.gamma
    inv_std = 1 / c.std
    d8_3 = d10 * inv_std
    if c.test:
        return {"d10": d10, "d8_3": d8_3, "dx": d8_3, "dgamma": dgamma, "dbeta": dbeta}
    step3 = c.x - c.mean
    ones = np.ones(c.x.shape, dtype=c.x.dtype)
    d8_7 = (d10 * step3).sum(axis=c.axes, keepdims=True)
    d7 = -d8_7 / (c.var + c.eps)
    d6 = d7 * 0.5 / c.std
    d5 = d6 / c.divisor * ones
    d4 = d5 * 2 * step3
    d3_1 = d4 + d8_3
    d3_2 = -1 * d3_1.sum(axis=c.axes, keepdims=True)
    d2 = d3_2 / c.count * ones
    dx = d2 + d3_1
    return {"d10": d10, "d8_3": d8_3, "d8_7": d8_7, "d7": d7, "d6": d6, "d5": d5, "d4": d4,
            "d3_1": d3_1, "d3_2": d3_2, "d2": d2, "dx": dx, "dgamma": dgamma, "dbeta": dbeta}


def backward_staged(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """`backward_staged_intermediates`' ``(dx, dgamma, dbeta)``."""
    g = backward_staged_intermediates(dout, cache)
    return g["dx"], g["dgamma"], g["dbeta"]


def backward_compact(dout: Array, cache: NormCache) -> tuple[Array, Array, Array]:
    """One line: ``dx = (ĝ − mean(ĝ) − x̂·S(ĝ·x̂)/K) / σ`` with ĝ = dout·γ, K = M (or M − 1)."""
    c = cache
    p_axes = param_axes(dout.shape, c.gamma.shape)
    g = dout * c.gamma
    if c.test:
        dx = g / c.std
    else:
        dx = (g - g.mean(axis=c.axes, keepdims=True)
              - c.x_hat * (g * c.x_hat).sum(axis=c.axes, keepdims=True) / c.divisor) / c.std
    return dx, _sum(dout * c.x_hat, c, p_axes), _sum(dout, c, p_axes)


BACKWARDS = {"staged": backward_staged, "compact": backward_compact}
"""The family's hand-written backward passes by name."""
