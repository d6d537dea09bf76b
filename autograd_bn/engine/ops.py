"""Every operation the engine knows, each defined once: forward, vector-Jacobian product, and
a human-readable local derivative.

An `Op` is a row of a table. For an op ``out = f(a, b)``:

* ``forward(a, b, **params)`` computes ``out`` from numpy arrays;
* ``vjps[i](g, out, a, b, **params)`` turns the gradient ``g = dL/d(out)`` into the
  contribution ``dL/d(input i)``: the vector-Jacobian product. It may return an array of a
  broadcast shape: `conform` brings every op's result to the input's own shape (by `fit`,
  which sums over broadcast axes) and dtype, in one place. It returns ``g`` itself, a view of
  ``g``, or a new array (never an input or ``out``): the engine adds into new arrays in
  place;
* ``derivatives[i]`` states the local derivative d(out)/d(input i) for people, as a
  `str.format` template over the input labels ``{a}``, ``{b}``, the output label ``{out}``
  and the op's parameters (``{p}``, ``{n}``, ``{axis}``); the graph renderer prints it on the
  backward edges. A callable is allowed where a template cannot say it (see ``pow``);
* ``methods`` are the `Tensor` methods that build this op (``reflected`` ones, ``__radd__``
  and friends, take their operands in reversed order);
* ``params``, for ops with settings rather than a second operand (``x ** p``, ``x.sum(axis)``),
  checks the method's arguments against the input and returns the op's parameters.

An op takes one input or two (`Op` checks it); only a one-input op has settings.
Adding an op means adding one `Op(...)` here: `Tensor` picks up its methods automatically.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray
Vjp = Callable[..., Array]
Description = str | Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class Op:
    """One differentiable operation; see the module docstring for the meaning of each field."""

    name: str
    forward: Callable[..., Array]
    vjps: tuple[Vjp, ...]
    derivatives: tuple[Description, ...]
    methods: tuple[str, ...] = ()
    reflected: tuple[str, ...] = field(default=())
    params: Callable[..., Mapping[str, Any]] | None = None

    def __post_init__(self) -> None:
        if len(self.vjps) not in (1, 2):
            raise ValueError(f"op {self.name!r} has {len(self.vjps)} inputs: an op takes one "
                             "or two (a Tensor keeps at most two parents)")
        if len(self.derivatives) != len(self.vjps):
            raise ValueError(f"op {self.name!r} needs one derivative text per input: "
                             f"{len(self.vjps)} VJPs, {len(self.derivatives)} texts")
        if self.params is not None and len(self.vjps) != 1:
            raise ValueError(f"op {self.name!r}: only a one-input op takes settings (params)")

    @property
    def arity(self) -> int:
        return len(self.vjps)

    def describe(self, i: int, names: dict[str, Any]) -> str:
        """The local derivative d(out)/d(input i), with labels and parameters filled in."""
        text = self.derivatives[i]
        return text(names) if callable(text) else text.format(**names)


# --------------------------------------------------------------------------------------------
# Broadcasting, written once: a gradient always reaches an input in that input's shape.


@functools.lru_cache(maxsize=4096)
def broadcast_axes(grad_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """Axes of ``grad_shape`` that must be summed to bring a gradient back to ``shape``.

    These are the leading axes numpy added, and the axes where ``shape`` has size 1 but the
    gradient does not. ``broadcast_axes((4, 5), (5,)) == (0,)``. None when the gradient has
    fewer dimensions than ``shape``: ``()`` (a reduction's gradient is spread out, not summed).
    """
    lead = len(grad_shape) - len(shape)
    if lead < 0:
        return ()
    axes = list(range(lead))
    for i, n in enumerate(shape):
        if n == 1 and grad_shape[lead + i] != 1:
            axes.append(lead + i)
    return tuple(axes)


def fit(grad: Array, shape: tuple[int, ...]) -> Array:
    """Bring a gradient to ``shape``: sum over broadcast axes, or spread a smaller one out.

    Summing undoes broadcasting in the forward pass (the input was repeated, so its gradient
    is the sum of the copies' gradients). Spreading (`spread_out`) is for a gradient of a
    reduced shape, as a reduction's own VJP spreads it: the gradient of ``x.sum(axis=0)``
    reaches every row of ``x`` (the seed's ``np.ones((N, D))``).
    """
    if grad.shape == shape:
        return grad
    axes, keepdims, summed_shape, spread = _fit_plan(grad.shape, shape)
    if axes:
        grad = add_up(grad, axes, keepdims)
        if type(grad) is not np.ndarray:  # a sum down to 0-d comes back as a numpy scalar
            grad = np.asarray(grad)
        if summed_shape is not None:
            grad = grad.reshape(summed_shape)
        if not spread:
            return grad
    return spread_out(grad, shape)


def add_up(a: Array, axes: tuple[int, ...], keepdims: bool = False) -> Array:
    """``a`` summed over ``axes`` (sorted): ``np.add.reduce(a, axes, keepdims=keepdims)``, to
    rounding.

    A sum over the leading axes of a row-major ndarray (the rows of an (N, D) batch, the
    common case) is done as a product with a vector of ones: from 64×100 up BLAS computes
    it 1.5–3× as fast as numpy's reduction, and no less accurately (numpy adds the rows one
    by one; OpenBLAS, which numpy's wheels ship, keeps several partial sums). Other sums,
    including a sum of every element (which numpy adds pairwise), sums of fewer than
    `_BLAS_FROM` elements and subclasses (a masked array), are numpy's.

    Two differences follow from BLAS's partial sums: the last bits of a sum over a very tall
    array may depend on how many threads OpenBLAS uses, and a column whose partial sums
    overflow to +inf and −inf sums to NaN where numpy's running sum stops at inf (non-finite
    either way). The result is always a new array of its own.
    """
    plan = _rows_plan(a.shape, axes, keepdims)
    if plan is None or type(a) is not np.ndarray or not a.flags.c_contiguous:
        return np.add.reduce(a, axis=axes, keepdims=keepdims)  # type: ignore[call-overload]
    rows, columns, shape = plan
    if shape is None:
        return _ones(rows, a.dtype) @ a.reshape(rows, columns)
    total = np.empty(shape, a.dtype)  # written through a flat view: the caller gets no view
    np.matmul(_ones(rows, a.dtype), a.reshape(rows, columns), out=total.reshape(columns))
    return total


@functools.lru_cache(maxsize=4096)
def _rows_plan(
    shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool
) -> tuple[int, int, tuple[int, ...] | None] | None:
    """How `add_up` sums ``axes`` of an array of ``shape`` as ones times a matrix: the
    matrix's rows and columns and the shape to give the result (None: it has it already).
    None when ``axes`` are not leading axes, leave fewer than two numbers to sum into, or
    the array is small (numpy's reduction starts sooner than a BLAS call)."""
    k = len(axes)
    columns = math.prod(shape[k:])
    if k == 0 or axes != tuple(range(k)) or columns < 2 or math.prod(shape) < _BLAS_FROM:
        return None
    kept = (1,) * k + shape[k:] if keepdims else shape[k:]
    return math.prod(shape[:k]), columns, None if kept == (columns,) else kept


_BLAS_FROM = 1024
"""`add_up` sums with BLAS from this many elements up."""


def _ones(n: int, dtype: np.dtype) -> Array:
    """A vector of ``n`` ones: made once per length and dtype (read-only) up to
    `_KEEP_ONES_UP_TO`, so that a very tall array's sum keeps no memory once it is done."""
    return _kept_ones(n, dtype) if n <= _KEEP_ONES_UP_TO else np.ones(n, dtype)


@functools.lru_cache(maxsize=64)
def _kept_ones(n: int, dtype: np.dtype) -> Array:
    ones = np.ones(n, dtype)
    ones.flags.writeable = False
    return ones


_KEEP_ONES_UP_TO = 1 << 16
"""At most 64 vectors of up to this many ones are kept (at most 32 MB)."""


def spread_out(grad: Array, shape: tuple[int, ...]) -> Array:
    """``grad`` repeated along its size-1 axes to ``shape``: how a reduction's gradient
    reaches every element it summed (the seed's ``np.ones((N, D))``)."""
    if math.prod(shape) >= _SPREAD_AS_VIEW_FROM:
        # a read-only view: no copy of a large array. Making one costs about 2 µs of Python,
        # so small gradients are copied instead.
        return np.broadcast_to(grad, shape)
    spread = np.empty(shape, grad.dtype)
    spread[...] = grad
    return spread


def one_copy(grad: Array) -> Array:
    """A spread-out gradient as one copy of what was spread: the inverse of `spread_out`.

    ``spread_out`` makes a large gradient a read-only view that repeats one row (its
    repeated axes have stride 0). Scaling that row and broadcasting the result touches each
    number once instead of all N copies: ``(2 * one_copy(g)) * a == 2 * g * a``. Any other
    array comes back as it is.
    """
    if 0 not in grad.strides or grad.size < _SPREAD_AS_VIEW_FROM:
        return grad
    return grad[tuple(slice(0, 1) if step == 0 else slice(None) for step in grad.strides)]


@functools.lru_cache(maxsize=4096)
def _fit_plan(
    grad_shape: tuple[int, ...], shape: tuple[int, ...]
) -> tuple[tuple[int, ...], bool, tuple[int, ...] | None, bool]:
    """How `fit` takes a gradient of ``grad_shape`` to ``shape``, worked out once per pair:
    the axes to sum, whether the sum keeps them as 1s, the shape to reshape the sum to (None:
    none needed), and whether what is left must still be spread out to ``shape``."""
    axes = broadcast_axes(grad_shape, shape)
    lead = len(grad_shape) - len(shape)
    if not axes:  # nothing to sum: a reduction's gradient, to spread out
        return (), False, None, True
    if axes == tuple(range(lead)):  # only axes numpy added in front: the sum drops them
        return axes, False, None, grad_shape[lead:] != shape
    kept = tuple(1 if i in axes else n for i, n in enumerate(grad_shape))[lead:]
    return axes, True, kept if lead else None, kept != shape


def conform(contribution: Any, like: Array) -> Array:
    """A VJP's result as an ndarray of ``like``'s shape (by `fit`) and dtype.

    (A 0-d result comes back from numpy as a scalar, and a float64 operand makes a float32
    input's contribution float64.)
    """
    if type(contribution) is not np.ndarray:
        contribution = np.asarray(contribution)
    if contribution.shape != like.shape:
        contribution = fit(contribution, like.shape)
    if contribution.dtype is not like.dtype and contribution.dtype != like.dtype:
        contribution = contribution.astype(like.dtype)
    return contribution


_SPREAD_AS_VIEW_FROM = 8192
"""Spread a gradient as a view, not a copy, from this many elements up."""


# --------------------------------------------------------------------------------------------
# Helpers for reductions.


def normalize_axis(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes; ``None`` means every axis."""
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and -ndim <= axis < ndim:  # the common case, quickly
        return (axis % ndim,)
    axes = axis if isinstance(axis, tuple) else (axis,)
    out = []
    for ax in axes:
        if not isinstance(ax, (int, np.integer)) or isinstance(ax, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimension(s)")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(sorted(out))


def _reduction_params(averaging: bool) -> Callable[..., dict[str, Any]]:
    """The ``params`` of ``sum`` (``averaging=False``) or ``mean``: checks the arguments of
    ``.sum()`` / ``.mean()`` and returns a copy of their cached `_reduction_layout`."""

    def params(
        a: Any,
        axis: int | tuple[int, ...] | None = None,
        keepdims: bool = False,
        *,
        dtype: Any = None,
        out: Any = None,
    ) -> dict[str, Any]:
        # numpy's np.sum(t) and np.mean(t) call t.sum(axis=..., dtype=None, out=None)
        if dtype is not None or out is not None:
            raise TypeError("a Tensor reduction takes no dtype= or out=: it keeps the tensor's "
                            "dtype and returns a new node")
        if keepdims is not False and keepdims is not True and not isinstance(keepdims, np.bool_):
            raise TypeError(f"keepdims must be True or False, got {keepdims!r}")
        if axis is not None and type(axis) is not int:  # (an int, the common case, is fine)
            items = axis if isinstance(axis, tuple) else (axis,)
            if not all(_is_int(ax) for ax in items):
                # checked here, not in the cached layout: 1 == 1.0 == True as cache keys
                raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        layout = _reduction_layout(a.shape, axis, bool(keepdims))
        if averaging and layout["n"] == 0:
            raise ValueError(f"mean over an empty axis of a tensor of shape {a.shape}: "
                             "it has no elements to average")
        return {**layout}  # a copy: the node's own

    return params


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


@functools.lru_cache(maxsize=1024)
def _reduction_layout(shape: tuple[int, ...], axis: Any, keepdims: bool) -> dict[str, Any]:
    """A reduction's parameters, worked out once per shape and axis: the reduced axes, whether
    they are kept, how many elements each result sums, and the result's shape with the
    reduced axes kept as 1s (how the gradient is spread back out)."""
    axes = normalize_axis(axis, len(shape))
    n = math.prod(shape[ax] for ax in axes)
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape))
    return {"axis": axes, "keepdims": keepdims, "n": n, "kept_shape": kept}


def _power_params(a: Any, p: Any) -> dict[str, Any]:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"the exponent of ** must be a real number, got {type(p).__name__}")
    if not math.isfinite(p):
        raise ValueError(f"the exponent of ** must be finite, got {p!r}")
    return {"p": float(p)}


def _times(g: Array, other: Array, shape: tuple[int, ...]) -> Array:
    """``g · other`` for an input of ``shape``, which `conform` then sums to that shape.

    When that input was broadcast over leading axes (a (D,) γ times an (N, D) x̂) and the
    arrays are large, the product is multiplied and summed over those axes in one pass with
    `np.einsum`, with no (N, D) temporary: from 32,768 elements and 64 columns up that is
    faster than the product and `add_up`'s BLAS sum (1.4× at 1024×256, 3× at 4096×1024,
    1.1× at 2048×64; over fewer columns einsum's loop is no faster, and over 3 it is 3.5×
    slower). It adds the rows in the same order as numpy's own reduction of the product (to
    the last bit): as accurate as numpy's sum, if a little less than `add_up`'s, which the
    products of smaller arrays get.
    """
    if (g.shape == shape or other.shape != g.shape or g.size < _FUSE_FROM or g.ndim > 26
            or math.prod(shape) < _FUSE_COLUMNS
            or not (g.flags.c_contiguous and other.flags.c_contiguous)):
        return g * other
    summed = broadcast_axes(g.shape, shape)
    if summed != tuple(range(len(summed))) or len(summed) >= g.ndim:  # not just leading axes
        return g * other
    total = np.einsum(_sum_of_products(g.ndim, summed), g, other)
    return total if total.shape == shape else total.reshape(shape)


@functools.lru_cache(maxsize=256)
def _sum_of_products(ndim: int, summed: tuple[int, ...]) -> str:
    """The einsum that multiplies two arrays of ``ndim`` axes and sums over ``summed``:
    ``_sum_of_products(2, (0,)) == "ab,ab->b"``."""
    axes = "abcdefghijklmnopqrstuvwxyz"[:ndim]
    kept = "".join(letter for i, letter in enumerate(axes) if i not in summed)
    return f"{axes},{axes}->{kept}"


_FUSE_FROM = 1 << 15
"""`_times` multiplies and sums in one pass from this many elements up (below, the
(N, D) temporary costs less than einsum's slower loop)…"""

_FUSE_COLUMNS = 64
"""…and when the sum leaves at least this many numbers (columns)."""


def _pow_derivative(names: dict[str, Any]) -> str:
    p, a = names["p"], names["a"]
    if p == 0:
        return "0"
    if p == 1:
        return "1"
    if p == 2:
        return f"2·{a}"
    return f"{p:g}·{a}^{p - 1:g}".replace("-", "−")


def _pow_vjp(g: Array, out: Array, a: Array, p: float) -> Array:
    if p == 0:  # x**0 is constant: its derivative is 0 everywhere, 0 included (not 0·0**−1)
        return np.zeros_like(g)
    row = one_copy(g)  # (the gradient of a variance, spread out from a mean, is one row)
    if row is not g:  # scale the row, then one pass over a
        with np.errstate(over="ignore"):  # (an overflow here is caught just below)
            scaled = row + row if p == 2 else p * row
        if np.isfinite(scaled).all() or not np.isfinite(row).all():
            return scaled * (a if p == 2 else np.power(a, p - 1))
        # (else the scaled row overflowed where g·a need not: multiply by a first, below)
    if p == 2:
        twice = g * a
        twice += twice  # exactly 2·g·a, in place, and quicker than *= 2 on small arrays
        return twice
    return g * (p * np.power(a, p - 1))


# --------------------------------------------------------------------------------------------
# The table. Each op: forward, then one vector-Jacobian product and one description per input.

add = Op(
    "add",
    forward=operator.add,
    vjps=(lambda g, out, a, b: g, lambda g, out, a, b: g),
    derivatives=("1", "1"),
    methods=("__add__",),
    reflected=("__radd__",),
)

sub = Op(
    "sub",
    forward=operator.sub,
    # negate after reducing to b's shape: one pass over g instead of two
    vjps=(lambda g, out, a, b: g, lambda g, out, a, b: -fit(g, b.shape)),
    derivatives=("1", "−1"),
    methods=("__sub__",),
    reflected=("__rsub__",),
)

mul = Op(
    "mul",
    forward=operator.mul,
    vjps=(lambda g, out, a, b: _times(g, b, a.shape), lambda g, out, a, b: _times(g, a, b.shape)),
    derivatives=("{b}", "{a}"),
    methods=("__mul__",),
    reflected=("__rmul__",),
)

neg = Op(
    "neg",
    forward=operator.neg,
    vjps=(lambda g, out, a: -g,),
    derivatives=("−1",),
    methods=("__neg__",),
)

pow = Op(
    "pow",
    forward=lambda a, p: a * a if p == 2 else np.power(a, p),
    vjps=(_pow_vjp,),
    derivatives=(_pow_derivative,),
    methods=("__pow__",),
    params=_power_params,
)

sqrt = Op(
    "sqrt",
    forward=np.sqrt,
    vjps=(lambda g, out, a: g * (0.5 / out),),  # d√a/da = 0.5/√a = 0.5/out
    derivatives=("0.5/{out}",),
    methods=("sqrt",),
)

reciprocal = Op(
    "reciprocal",
    forward=np.reciprocal,
    vjps=(lambda g, out, a: g * -(out * out),),  # d(1/a)/da = −1/a² = −out²
    derivatives=("−1/{a}²",),
    methods=("reciprocal",),
)

sum = Op(
    "sum",
    forward=lambda a, axis, keepdims, **_: add_up(a, axis, keepdims),
    vjps=(lambda g, out, a, kept_shape, **_: spread_out(g.reshape(kept_shape), a.shape),),
    derivatives=("1",),
    methods=("sum",),
    params=_reduction_params(averaging=False),
)

mean = Op(
    "mean",
    forward=lambda a, axis, keepdims, n, **_: add_up(a, axis, keepdims) / n,
    vjps=(lambda g, out, a, kept_shape, n, **_: spread_out(g.reshape(kept_shape) / n, a.shape),),
    derivatives=("1/{n}",),
    methods=("mean",),
    params=_reduction_params(averaging=True),
)


ALL: tuple[Op, ...] = (add, sub, mul, neg, pow, sqrt, reciprocal, sum, mean)
"""Every op, in the order the docs list them."""
