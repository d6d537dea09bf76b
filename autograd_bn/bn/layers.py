"""The family's layers by name, their problems, and each layer three ways: from the engine's ops
(`build_graph`), by hand (`manual_forward`, `manual_backward`) and as a plain float64 function
for the numerical gradient (`numpy_out`).

    batchnorm          (N, D), γ (D,)          cs231n batchnorm_forward(x, γ, β, bn_param)
    layernorm          (N, D), γ (D,)          cs231n layernorm_forward(x, γ, β, ln_param)
    spatial_batchnorm  (N, C, H, W), γ (C,)    spatial_batchnorm_forward(x, γ, β, bn_param)
    spatial_groupnorm  (N, C, H, W), γ (1, C, 1, 1), G groups
                                               spatial_groupnorm_forward(x, γ, β, G, gn_param)

Batch norm also has a test mode (``mode="test"``: the running statistics in place of the
batch's) and Bessel's correction (``bessel=True``: the variance divides by N − 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from autograd_bn.bn import norm_graph, norms
from autograd_bn.bn.problem import DTYPES, MAX_SEED
from autograd_bn.engine.tensor import Tensor

Array = np.ndarray


@dataclass(frozen=True)
class Layer:
    """What the grader knows about one layer."""

    name: str
    title: str
    default_shape: tuple[int, ...]
    param: str  # the name of its cs231n parameter dict
    normalises: str  # over what, in words


LAYERS: dict[str, Layer] = {
    "batchnorm": Layer("batchnorm", "batch norm", (4, 5), "bn_param",
                       "each column over the batch (axis 0)"),
    "layernorm": Layer("layernorm", "layer norm", (4, 5), "ln_param",
                       "each row over its features (axis 1)"),
    "spatial_batchnorm": Layer("spatial_batchnorm", "spatial batch norm", (2, 3, 4, 5),
                               "bn_param", "each channel over N, H and W (axes 0, 2, 3)"),
    "spatial_groupnorm": Layer("spatial_groupnorm", "spatial group norm", (2, 6, 4, 5),
                               "gn_param", "each example's group of C/G channels over "
                               "C/G, H and W"),
}
"""The layers by name, in the order ``--layer`` lists them."""


@dataclass(frozen=True)
class LayerProblem:
    """Inputs for one layer: x, γ, β and dout in the shapes its cs231n functions use."""

    layer: str
    x: Array
    gamma: Array
    beta: Array
    dout: Array
    eps: float
    seed: int | None
    groups: int = 1
    mode: str = "train"
    bessel: bool = False
    momentum: float = 0.9
    running_mean: Array | None = field(default=None, repr=False)
    running_var: Array | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape)

    @property
    def axes(self) -> tuple[int, ...]:
        """The axes of the working view (`view`) the statistics are taken over."""
        return {"batchnorm": (0,), "layernorm": (1,), "spatial_batchnorm": (0, 2, 3),
                "spatial_groupnorm": (2, 3, 4)}[self.layer]

    def view(self, a: Array) -> Array:
        """x or dout (or anything of x's shape) as the working view."""
        if self.layer == "spatial_groupnorm":
            n, c, h, w = a.shape
            return a.reshape(n, self.groups, c // self.groups, h, w)
        return a

    def param_view(self, a: Array) -> Array:
        """γ or β in the shape that broadcasts against the working view."""
        if self.layer == "spatial_groupnorm":
            return a.reshape(1, self.groups, -1, 1, 1)
        if self.layer == "spatial_batchnorm":
            return a.reshape(1, -1, 1, 1)
        return a.reshape(1, -1)

    def unview(self, dx: Array, dgamma: Array, dbeta: Array) -> tuple[Array, Array, Array]:
        """Gradients of the working views back in the shapes of x, γ and β."""
        return (dx.reshape(self.x.shape), dgamma.reshape(self.gamma.shape),
                dbeta.reshape(self.beta.shape))

    def describe(self) -> str:
        """The problem in a header: ``layer norm, x (4, 5), seed 0, float64``."""
        shape = "×".join(map(str, self.shape))
        extra = [f"G={self.groups}"] if self.layer == "spatial_groupnorm" else []
        if self.mode == "test":
            extra.append(f"test mode, momentum {self.momentum:g}")
        if self.bessel:
            extra.append("Bessel's correction (N−1)")
        source = "given arrays" if self.seed is None else f"seed {self.seed}"
        return ", ".join([f"{LAYERS[self.layer].title}, x {shape}", *extra, source,
                          str(self.x.dtype)])


def make_layer_problem(layer: str = "batchnorm", shape: tuple[int, ...] | None = None,
                       seed: int = 0, dtype: str = "float64", eps: float = 1e-5, *,
                       groups: int | None = None, mode: str = "train", bessel: bool = False,
                       momentum: float = 0.9) -> LayerProblem:
    """Random inputs as cs231n draws them for each check: ``RandomState(seed)``, then x
    (5·randn + 12 for (N, D), 4·randn + 10 for (N, C, H, W)), γ, β, dout; in test mode the
    initial running mean (randn) and variance (rand + 0.5) after them."""
    if layer not in LAYERS:
        raise ValueError(f"unknown layer {layer!r}; choose from {', '.join(LAYERS)}")
    spec = LAYERS[layer]
    shape = tuple(spec.default_shape if shape is None else shape)
    if len(shape) != len(spec.default_shape) or min(shape) < 1:
        raise ValueError(f"{spec.title} takes x of {len(spec.default_shape)} positive sizes "
                         f"(e.g. {'×'.join(map(str, spec.default_shape))}), got {shape}")
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be from 0 to 2**32 - 1, got {seed}")
    if mode not in ("train", "test"):
        raise ValueError(f"mode must be train or test, got {mode!r}")
    if (mode == "test" or bessel) and layer != "batchnorm":
        raise ValueError("test mode and Bessel's correction are for --layer batchnorm")
    if not 0 <= momentum <= 1:
        raise ValueError(f"momentum must be from 0 to 1, got {momentum}")
    g = 1 if groups is None else groups
    if layer == "spatial_groupnorm":
        g = 2 if groups is None else groups
        if g < 1 or shape[1] % g:
            raise ValueError(f"-G {g} must divide the number of channels C = {shape[1]}")
    rng = np.random.RandomState(seed)
    x = (5 * rng.randn(*shape) + 12) if len(shape) == 2 else (4 * rng.randn(*shape) + 10)
    c = shape[1]
    pshape = (1, c, 1, 1) if layer == "spatial_groupnorm" else (c,)
    gamma, beta, dout = rng.randn(*pshape), rng.randn(*pshape), rng.randn(*shape)
    rm = rv = None
    if mode == "test":
        rm, rv = rng.randn(c) + 12, rng.rand(c) * 25 + 5
    arrays = [a if a is None else a.astype(dtype) for a in (x, gamma, beta, dout, rm, rv)]
    return LayerProblem(layer, arrays[0], arrays[1], arrays[2], arrays[3], float(eps), seed,  # type: ignore[arg-type]
                        g, mode, bessel, momentum, arrays[4], arrays[5])


def build_graph(p: LayerProblem) -> tuple[Tensor, tuple[Tensor, Tensor, Tensor]]:
    """The layer as a graph of engine ops: ``(out, (x, γ, β))``, all in working views."""
    x, gamma, beta = norm_graph.leaves(p.view(p.x), p.param_view(p.gamma),
                                       p.param_view(p.beta))
    if p.mode == "test":
        assert p.running_mean is not None and p.running_var is not None
        out = norm_graph.normalise_test(x, gamma, beta, p.eps, p.param_view(p.running_mean),
                                        p.param_view(p.running_var))
    else:
        out = norm_graph.normalise(x, gamma, beta, p.eps, p.axes, bessel=p.bessel)
    return out, (x, gamma, beta)


def engine_grads(p: LayerProblem) -> tuple[Array, tuple[Array, Array, Array]]:
    """The engine's out and ``(dx, dγ, dβ)`` in the problem's shapes."""
    out, leaves = build_graph(p)
    out.backward(p.view(p.dout))
    grads = tuple(leaf.grad.copy() for leaf in leaves)  # type: ignore[union-attr]
    return out.data.reshape(p.x.shape), p.unview(*grads)


def manual_forward(p: LayerProblem) -> tuple[Array, norms.NormCache]:
    """The hand-written forward pass: out in x's shape and the cache (in working views)."""
    x, gamma, beta = p.view(p.x), p.param_view(p.gamma), p.param_view(p.beta)
    if p.mode == "test":
        assert p.running_mean is not None and p.running_var is not None
        out, cache = norms.forward_test(x, gamma, beta, p.eps, p.param_view(p.running_mean),
                                        p.param_view(p.running_var))
    else:
        out, cache = norms.forward(x, gamma, beta, p.eps, p.axes, bessel=p.bessel)
    return out.reshape(p.x.shape), cache


def manual_backward(name: str, p: LayerProblem,
                    cache: norms.NormCache) -> tuple[Array, Array, Array]:
    """The hand-written pass ``name`` ("staged" or "compact"), in the problem's shapes."""
    return p.unview(*norms.BACKWARDS[name](p.view(p.dout), cache))


def numpy_out(p: LayerProblem, x: Array, gamma: Array, beta: Array) -> Array:
    """The forward output for other x, γ, β (the numerical gradient's function)."""
    q = LayerProblem(p.layer, x, gamma, beta, p.dout, p.eps, p.seed, p.groups, p.mode,
                     p.bessel, p.momentum, p.running_mean, p.running_var)
    return manual_forward(q)[0]


def running_stats(p: LayerProblem) -> tuple[Array, Array]:
    """The running mean and variance after one training-mode forward pass on ``p.x``."""
    assert p.running_mean is not None and p.running_var is not None
    return norms.running_update(p.x, p.running_mean, p.running_var, p.momentum,
                                bessel=p.bessel)
