"""Checking the settings of ops: the number in ``x * 2``, the p of ``x ** p``, the axis of a sum.

Each function takes what the user passed to a `Tensor` method and returns the op's parameters,
or raises a `TypeError` / `ValueError` that names the problem.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import numpy as np

from autograd_bn.engine.dtypes import as_float_array

NUMBERS = (int, float, np.integer, np.floating, np.bool_)
"""What counts as a number in an op (``x * 2``): it becomes the op's parameter ``c``."""


def is_number(value: Any) -> bool:
    return isinstance(value, NUMBERS)


def number(value: Any) -> tuple[float]:
    """The parameter ``c`` of an op with a number in it: ``x * 2`` is ``mul_scalar(x, c=2.0)``.

    The number is kept as a Python float, so it takes the tensor's dtype in the op (numpy's
    rule for Python numbers): a float32 graph stays float32.
    """
    try:
        return (float(value),)
    except OverflowError:
        raise ValueError(f"the number {value} is too large for a float: use a float "
                         "(e.g. 1e30) or a Tensor") from None


def power(p: Any) -> tuple[float]:
    """The parameter of ``x ** p``: a finite real number."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, NUMBERS):
        raise TypeError(f"the exponent of ** must be a real number, got {type(p).__name__}")
    if not math.isfinite(p):
        raise ValueError(f"the exponent of ** must be finite, got {p!r}")
    return (float(p),)


class Reduction(NamedTuple):
    """The parameters of a sum, mean or max, in the order its op takes them."""

    axis: tuple[int, ...]  # the reduced axes, sorted
    keepdims: bool
    n: int  # how many elements each result reduces
    kept: tuple[int, ...]  # the result's shape with the reduced axes kept as 1s


def reduction(shape: tuple[int, ...], axis: Any, keepdims: Any, op: str = "sum", *,
              dtype: Any = None, out: Any = None) -> Reduction:
    """The parameters of ``x.sum(axis, keepdims)``, ``x.mean(...)`` or ``x.max(...)`` (``op``):
    the axes as a sorted tuple, keepdims, how many elements each result reduces (``n``) and
    the result's shape with the reduced axes kept as 1s (``kept``: how the gradient goes back).
    """
    # numpy's np.sum(t) and np.mean(t) call t.sum(axis=..., dtype=None, out=None)
    if dtype is not None or out is not None:
        raise TypeError("a Tensor reduction takes no dtype= or out=: it keeps the tensor's "
                        "dtype and returns a new node")
    if not isinstance(keepdims, (bool, np.bool_)):
        raise TypeError(f"keepdims must be True or False, got {keepdims!r}")
    if axis is not None:
        for ax in axis if isinstance(axis, tuple) else (axis,):
            if not isinstance(ax, (int, np.integer)) or isinstance(ax, (bool, np.bool_)):
                raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        axis = tuple(int(ax) for ax in axis) if isinstance(axis, tuple) else int(axis)
    params = _reduction_layout(shape, axis, bool(keepdims))
    if op != "sum" and params.n == 0:
        raise ValueError(f"{op} over an empty axis of a tensor of shape {shape}: "
                         "it has no elements")
    return params


@functools.lru_cache(maxsize=1024)
def _reduction_layout(shape: tuple[int, ...], axis: int | tuple[int, ...] | None,
                      keepdims: bool) -> Reduction:
    axes = normalize_axis(axis, len(shape))
    kept = tuple(1 if i in axes else size for i, size in enumerate(shape))
    return Reduction(axes, keepdims, math.prod(shape[ax] for ax in axes), kept)


def normalize_axis(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    """``axis`` as a sorted tuple of non-negative axes; ``None`` means every axis."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    for ax in axes:
        if not -ndim <= ax < ndim:
            raise ValueError(f"axis {ax} is out of range for a tensor with {ndim} dimension(s)")
    out = sorted(ax % ndim for ax in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"axis {axis!r} repeats an axis")
    return tuple(out)


def power_text(p: float, a: str, **_: Any) -> str:
    """The local derivative of ``a ** p`` as people write it: ``2·(3)``, ``1.5·a^0.5``."""
    if p == 0:
        return "0"
    if p == 1:
        return "1"
    if p == 2:
        return f"2·{a}"
    return f"{p:g}·{a}^{p - 1:g}".replace("-", "−")


def matmul(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    """``a @ b`` needs matrices (or stacks of them) whose inner sizes agree."""
    if len(a_shape) < 2 or len(b_shape) < 2:
        raise ValueError(f"@ needs two tensors of 2 or more dimensions, got shapes {a_shape} "
                         f"and {b_shape}: make a vector a row with v.reshape(1, -1) or a "
                         "column with v.reshape(-1, 1)")
    if a_shape[-1] != b_shape[-2]:
        raise ValueError(f"@ of shapes {a_shape} and {b_shape}: the last size of the first "
                         f"({a_shape[-1]}) must equal the second to last of the second "
                         f"({b_shape[-2]})")


def index(shape: tuple[int, ...], key: Any) -> tuple[Any]:
    """The parameter of ``x[key]``: the key, with any Tensor in it replaced by its array, and
    checked against ``shape`` (numpy's own IndexError, with the shape added)."""
    def plain(part: Any) -> Any:
        data = part.data if hasattr(part, "parents") else part  # a Tensor of indices: values
        if isinstance(data, list):
            data = np.asarray(data)
        if isinstance(data, np.ndarray) and data.dtype.kind == "f":
            if data is not part and np.array_equal(data, np.round(data)):
                return data.astype(np.intp)  # (a Tensor holds floats: whole numbers are fine)
            raise IndexError(f"indices must be integers or booleans, got {data.dtype} values")
        return data

    key = tuple(plain(part) for part in key) if isinstance(key, tuple) else plain(key)
    try:
        np.empty(shape, dtype=np.bool_)[key]  # numpy checks the key (cheap: one byte each)
    except IndexError as exc:
        raise IndexError(f"{exc} (indexing a tensor of shape {shape})") from None
    return (key,)


def reshape(shape: tuple[int, ...], new: tuple[Any, ...]) -> tuple[tuple[int, ...]]:
    """The parameter of ``x.reshape(*shape)``: the new shape, as numpy works it out."""
    if len(new) == 1 and isinstance(new[0], (tuple, list)):
        new = tuple(new[0])
    try:
        result = np.empty(shape, dtype=np.bool_).reshape(new).shape
    except (TypeError, ValueError) as exc:
        raise ValueError(f"cannot reshape a tensor of shape {shape} to {new}: {exc}") from None
    return (result,)


def transpose(ndim: int, axes: tuple[Any, ...]) -> tuple[tuple[int, ...]]:
    """The parameter of ``x.transpose(*axes)``: a permutation of the axes (reversed if none)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        return (tuple(reversed(range(ndim))),)
    if not all(isinstance(ax, (int, np.integer)) and not isinstance(ax, bool) for ax in axes):
        raise TypeError(f"transpose's axes must be ints, got {axes}")
    if sorted(normalize_axis(tuple(axes), ndim)) != list(range(ndim)) or len(axes) != ndim:
        raise ValueError(f"transpose needs a permutation of the {ndim} axes, got {axes}")
    return (tuple(int(ax) % ndim for ax in axes),)


def count(shape: tuple[int, ...], axis: Any, ddof: Any) -> int:
    """What ``var``/``std`` divide by: the number of elements each result reduces, less
    ``ddof`` (0: the biased variance of cs231n and the BN paper; 1: Bessel's correction)."""
    if not isinstance(ddof, (int, np.integer)) or isinstance(ddof, bool) or ddof < 0:
        raise ValueError(f"ddof must be an integer ≥ 0, got {ddof!r}")
    n = reduction(shape, axis, False, "var").n - int(ddof)
    if n <= 0:
        raise ValueError(f"var with ddof={ddof} needs more than {ddof} element(s) per result")
    return n


def can_backpropagate(requires_grad: bool, is_leaf: bool) -> None:
    if not requires_grad:
        what = "a leaf made with requires_grad=False" if is_leaf else \
            "none of its inputs requires grad"
        raise RuntimeError(f"backward() on a tensor that does not require grad: {what}")


def output_grad(grad: Any, data: np.ndarray) -> np.ndarray:
    """The gradient ``backward(grad)`` starts from: ones for a one-element output, else
    ``grad``, which must have the output's shape (it takes the output's dtype)."""
    if hasattr(grad, "parents"):  # a Tensor
        raise TypeError("grad must be an array, not a Tensor: pass t.data")
    if grad is None:
        if data.size != 1:
            raise ValueError(f"backward() on a tensor of shape {data.shape} needs a gradient: "
                             f"pass grad= an array of shape {data.shape} (only one-element "
                             "outputs default to ones)")
        return np.ones_like(data)
    grad = as_float_array(grad, "grad")
    if grad.shape != data.shape:
        raise ValueError(f"grad has shape {grad.shape} but the tensor has shape "
                         f"{data.shape}: they must be equal")
    return grad.astype(data.dtype, copy=False)


_REFLECTED = {np.add: "__radd__", np.subtract: "__rsub__", np.multiply: "__rmul__",
              np.true_divide: "__rtruediv__", np.matmul: "__rmatmul__"}


def reflected(ufunc: Any, method: str, inputs: tuple[Any, ...], kwargs: dict[str, Any],
              tensor: Any) -> str:
    """For ``ndarray + tensor`` (numpy asks the Tensor through ``__array_ufunc__``): the
    Tensor's reflected method (``__radd__``). Any other numpy function on a Tensor is refused
    with what to use instead."""
    swapped = _REFLECTED.get(ufunc) if method == "__call__" and not kwargs else None
    if swapped and len(inputs) == 2 and inputs[1] is tensor:
        return swapped
    name = getattr(ufunc, "__name__", str(ufunc))
    raise TypeError(f"numpy's {name} does not work on a Tensor: use the Tensor's own methods "
                    "(t.exp(), t.log(), t.tanh(), t.relu(), t.max(), t @ u), or t.data for "
                    "its values")


def not_an_array(tensor: Any, *args: Any, **kwargs: Any) -> np.ndarray:
    """``np.asarray(tensor)``, ``np.dot(t, u)``…: refused with what to use instead."""
    raise TypeError("a Tensor is not a numpy array: use the Tensor's own ops (t @ u, t.sum(), "
                    "t.exp()…), or t.data for its values")
