"""`Tensor`: a numpy array that remembers how it was made, and backpropagates through it.

Every op on a Tensor returns a new Tensor that records the op (a row of the op table in
`ops.py`), its inputs (``parents``) and its settings (``args``). Together they form a graph;
`Tensor.backward` walks it from the output back to the leaves, asking each op for the
vector-Jacobian product of each input.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from operator import attrgetter
from types import MappingProxyType
from typing import Any

import numpy as np

from autograd_bn.engine import blocks, ops, params, show
from autograd_bn.engine.dtypes import as_float_array, read_only
from autograd_bn.engine.op import Op
from autograd_bn.engine.params import not_an_array
from autograd_bn.engine.shapes import conform

Array = np.ndarray
_creation_order = itertools.count()  # each node's number: a node is made after its inputs
Axis = int | tuple[int, ...] | None


class Tensor:
    """A node of a computational graph: a numpy array, its gradient, and how it was made.

    ``Tensor(data, label=None, requires_grad=True)`` makes a leaf. ``data`` is anything
    `numpy.asarray` accepts: integers and booleans become float64, float16 becomes float32,
    float32 stays float32 (and so do its gradients). The array is not copied: the Tensor keeps a
    read-only view of it, so nothing can write into a graph through it.

    Attributes: ``data``, ``grad`` (None before a backward pass), ``label`` (the name graphs and
    traces show), ``op`` (the name of the op that made it; None for a leaf), ``parents`` (its
    input tensors, in order), ``args`` (the op's settings, in the order the op takes them:
    ``(2.0,)`` for ``x ** 2``; ``params`` names them: ``{"p": 2.0}``), ``requires_grad``,
    ``block`` (the path of the ``with block(...)`` it was made in: ``("bn1",)``; ``()``
    outside any).

    A number in an op is a setting of that op, not a node: ``x * 2`` is one node,
    ``mul_scalar`` with ``c = 2``. An array in an op becomes a constant leaf of its own.
    Tensors are compared and hashed by identity (they can be dict keys): ``t == 0`` is False.
    """

    __slots__ = ("data", "grad", "_label", "_op", "parents", "args", "requires_grad", "block",
                 "_order")

    def __init__(self, data: Any, *, label: str | None = None, requires_grad: bool = True):
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be True or False, got {requires_grad!r}")
        self.data: Array = read_only(as_float_array(data.data if isinstance(data, Tensor)
                                                    else data))
        self.grad: Array | None = None
        self.label = label
        self._op: Op | None = None
        self.parents: tuple[Tensor, ...] = ()
        self.args: tuple[Any, ...] = ()
        self.requires_grad = requires_grad
        self.block = blocks.CURRENT.get()  # the `with block(...)` it was made in, if any
        self._order = next(_creation_order)

    # ---- the ops: each builds one node (see the op table in ops.py) -----------------------

    def __add__(self, other: Any) -> Tensor: return self._with(other, ops.add, ops.add_scalar)
    def __radd__(self, other: Any) -> Tensor: return self._with(other, ops.add, ops.add_scalar)
    def __sub__(self, other: Any) -> Tensor: return self._with(other, ops.sub, ops.sub_scalar)
    def __rsub__(self, other: Any) -> Tensor:  # other − self
        if isinstance(other, params.NUMBERS):
            return make(ops.rsub_scalar, (self,), params.number(other))
        return make(ops.sub, (lift(other), self))
    def __mul__(self, other: Any) -> Tensor: return self._with(other, ops.mul, ops.mul_scalar)
    def __rmul__(self, other: Any) -> Tensor: return self._with(other, ops.mul, ops.mul_scalar)
    def __truediv__(self, other: Any) -> Tensor: return self._divide(other)  # a·(1/b)
    def __rtruediv__(self, other: Any) -> Tensor: return self.reciprocal() * other  # (1/a)·c
    def __matmul__(self, other: Any) -> Tensor: return make(ops.matmul, _matrices(self, other))
    def __rmatmul__(self, other: Any) -> Tensor: return make(ops.matmul, _matrices(other, self))
    def maximum(self, other: Any) -> Tensor: return make(ops.maximum, (self, lift(other, self)))
    def __neg__(self) -> Tensor: return make(ops.neg, (self,))
    def __pow__(self, p: float) -> Tensor: return make(ops.pow, (self,), params.power(p))
    def sqrt(self) -> Tensor: return make(ops.sqrt, (self,))
    def reciprocal(self) -> Tensor: return make(ops.reciprocal, (self,))
    def exp(self) -> Tensor: return make(ops.exp, (self,))
    def log(self) -> Tensor: return make(ops.log, (self,))
    def tanh(self) -> Tensor: return make(ops.tanh, (self,))
    def relu(self) -> Tensor: return make(ops.relu, (self,))
    def __getitem__(self, index: Any) -> Tensor:  # x[rows, cols], x[1:], x[mask]
        return make(ops.getitem, (self,), params.index(self.shape, index))
    def reshape(self, *shape: Any) -> Tensor:
        return make(ops.reshape, (self,), params.reshape(self.shape, shape))
    def transpose(self, *axes: Any) -> Tensor:
        return make(ops.transpose, (self,), params.transpose(self.ndim, axes))
    @property
    def T(self) -> Tensor: return self.transpose()  # noqa: N802 (numpy's name)
    # (numpy's np.sum(t) and np.mean(t) call t.sum(axis=..., dtype=None, out=None): **kw)
    def sum(self, axis: Axis = None, keepdims: bool = False, **kw: Any) -> Tensor:
        return make(ops.sum, (self,), params.reduction(self.shape, axis, keepdims, **kw))
    def mean(self, axis: Axis = None, keepdims: bool = False, **kw: Any) -> Tensor:
        return make(ops.mean, (self,), params.reduction(self.shape, axis, keepdims, "mean", **kw))
    def max(self, axis: Axis = None, keepdims: bool = False, **kw: Any) -> Tensor:
        return make(ops.max, (self,), params.reduction(self.shape, axis, keepdims, "max", **kw))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        """The variance, built from primitives so the graph shows each: sum((x − mean)²)
        divided by n − ddof (ddof=0: cs231n and the BN paper; ddof=1: Bessel's correction)."""
        n = params.count(self.shape, axis, ddof)
        return ((self - self.mean(axis, keepdims=True)) ** 2).sum(axis, keepdims) / n

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Tensor:
        return self.var(axis, keepdims, ddof).sqrt()

    def _with(self, other: Any, op: Op, scalar_op: Op) -> Tensor:
        """``self op other`` (``other op self`` for add and mul, which commute): a number
        becomes the scalar op's parameter c; anything else a Tensor."""
        if isinstance(other, Tensor):
            return make(op, (self, other))
        if isinstance(other, params.NUMBERS):
            return make(scalar_op, (self,), params.number(other))
        return make(op, (self, lift(other)))

    def _divide(self, other: Any) -> Tensor:
        if isinstance(other, params.NUMBERS):
            return make(ops.div_scalar, (self,), params.number(other))
        return self * lift(other).reciprocal()

    # ---- backpropagation ------------------------------------------------------------------

    def backward(self, grad: Any = None, *,
                 on_node: Callable[[Tensor, Array], None] | None = None) -> None:
        """Backpropagate ``grad`` = dL/d(self) to every node below that requires grad.

        ``grad`` defaults to 1 for a one-element tensor. Afterwards every such node holds its
        ``.grad``: a leaf's adds up over calls (until `zero_grad`), an intermediate node's is
        this call's. ``on_node(node, grad)`` is called as each node's gradient is complete.
        Raises `GradientOverflowError` naming the edge where a gradient grew past its dtype's
        largest number (numpy would make it inf), whatever `numpy.seterr` says; infinities
        that are the answer (√x at 0, a node whose value is already inf) pass as numpy gives.
        """
        grads: dict[Tensor, Array] = {self: self._output_grad(grad)}  # sums still collecting
        sums: dict[int, Array] = {}  # sums made here, by id, still pending: no one else has them
        nodes = self.nodes(requiring_grad=True)[::-1]  # newest first: users before inputs
        outside: Mapping[str, Any] = np.geterr() if on_node else {}  # (on_node: as set outside)
        with np.errstate(over="raise"):  # a gradient too large for its dtype: named, not inf
            for node in [n for n in nodes if n._op] + [n for n in nodes if not n._op]:
                g = grads.pop(node)  # complete: every node using this one has sent its part
                ours = sums.pop(id(g), None) is not None  # (from here on, VJPs may pass it on)
                if on_node is not None:
                    with np.errstate(**outside):
                        on_node(node, g)
                try:
                    if node._op is None:  # a leaf: gradients add up over calls, in its own array
                        node.grad = (g if ours else g.copy()) if node.grad is None else \
                            _add(node.grad, g)
                        continue
                    node.grad = g
                    inputs = [parent.data for parent in node.parents]
                    for i, parent in enumerate(node.parents):
                        if parent.requires_grad:  # the chain rule, one edge: dL/d(parent) += VJP
                            vjp = node._op.vjps[i](g, node.data, *inputs, *node.args)
                            part = conform(vjp, inputs[i])  # (to the input's shape and dtype)
                            if parent not in grads:
                                grads[parent] = part
                            elif id(grads[parent]) in sums:  # a sum made here: add in place
                                grads[parent] += part
                            else:
                                total = grads[parent] = _add(grads[parent], part)
                                sums[id(total)] = total
                except FloatingPointError as error:
                    if "overflow" not in str(error):  # (numpy set by the caller to raise others)
                        raise
                    raise show.gradient_overflow(node, parent if node._op else None, g) from None

    def vjp(self, i: int, g: Array) -> Array:
        """What ``g`` = dL/d(self) contributes to dL/d(parents[i]): the op's vector-Jacobian
        product, brought to the parent's shape (summed where it was broadcast) and dtype."""
        if self._op is None:
            raise ValueError("a leaf has no inputs to send a gradient to")
        inputs = [parent.data for parent in self.parents]
        return conform(self._op.vjps[i](g, self.data, *inputs, *self.args), inputs[i])

    def _output_grad(self, grad: Any) -> Array:
        params.can_backpropagate(self.requires_grad, self.is_leaf)
        return read_only(params.output_grad(grad, self.data))  # the caller's array, not copied

    def zero_grad(self) -> None:
        """Forget the gradients of this tensor and of every node below it."""
        for node in self.nodes():
            node.grad = None

    # ---- reading the graph ----------------------------------------------------------------

    def nodes(self, *, requiring_grad: bool = False) -> list[Tensor]:
        """Every tensor this one depends on, itself included, each once, inputs first.

        A node is made after its inputs, so sorting by creation is a topological order; the
        nodes are found by an iterative walk (graphs of any depth work). With
        ``requiring_grad=True``, only the nodes a backward pass visits.
        """
        seen = {self}
        stack = [self]
        while stack:
            for parent in stack.pop().parents:
                if parent not in seen and (parent.requires_grad or not requiring_grad):
                    seen.add(parent)
                    stack.append(parent)
        return sorted(seen, key=_creation)

    @property
    def label(self) -> str | None:
        return self._label

    @label.setter
    def label(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"label must be a string or None, got {type(value).__name__}")
        self._label = value

    @property
    def params(self) -> Mapping[str, Any]:
        """The op's settings by name: ``{"c": 1.5}`` for ``x * 1.5`` (read only)."""
        return MappingProxyType({} if self._op is None else
                                dict(zip(self._op.params, self.args, strict=True)))

    @property
    def op(self) -> str | None:
        """The name of the op that made this tensor (``"mul"``, ``"sqrt"``…); None for a leaf."""
        return None if self._op is None else self._op.name

    def local_derivative(self, i: int, names: Mapping[Tensor, str] | None = None) -> str:
        """d(self)/d(parents[i]) in words, e.g. ``"2·(3)"``: nodes named by ``names[node]``,
        else by the first word of their label (``(3)``), else ``a``, ``b``, ``out``."""
        if self._op is None:
            raise ValueError("a leaf has no local derivative: it has no inputs")
        fill: dict[str, Any] = dict(self.params)
        for key, node in (*zip("ab", self.parents, strict=False), ("out", self)):
            words = node.label.split() if node.label else []
            fill[key] = names[node] if names is not None else words[0] if words else key
        return self._op.describe(i, fill)

    @property
    def is_leaf(self) -> bool: return self._op is None
    @property
    def shape(self) -> tuple[int, ...]: return self.data.shape
    @property
    def dtype(self) -> np.dtype: return self.data.dtype
    @property
    def ndim(self) -> int: return self.data.ndim
    @property
    def size(self) -> int: return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return float(self.data.reshape(()))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``ndarray + Tensor`` (and −, *, /, @) is the Tensor op; numpy's other functions say
        which Tensor method to use instead."""
        swapped = params.reflected(ufunc, method, inputs, kwargs, self)
        return getattr(self, swapped)(inputs[0])

    __array__ = not_an_array

    def __bool__(self) -> bool:
        raise TypeError("the truth value of a Tensor is ambiguous: compare t.data, "
                        "or use t.item() for a one-element tensor")

    def __repr__(self) -> str:
        return show.tensor_repr(self.data, self.label, self.op, self.requires_grad)


def make(op: Op, inputs: tuple[Tensor, ...], args: tuple[Any, ...] = ()) -> Tensor:
    """Run ``op`` forward on the inputs' data and its settings ``args``, and record the result
    as a new node."""
    a = inputs[0]
    if len(inputs) == 1:
        data = op.forward(a.data, *args)
        requires_grad = a.requires_grad
    else:  # (an op of two tensors has no settings)
        b = inputs[1]
        data, requires_grad = op.forward(a.data, b.data), a.requires_grad or b.requires_grad
    node = object.__new__(Tensor)  # (Tensor.__init__'s checks are for users' data)
    # numpy gives a scalar, not an array, for 0-d results: keep .data an ndarray
    node.data = data if type(data) is np.ndarray else np.asarray(data)
    node.grad = None
    node._label = None
    node._op = op
    node.parents = inputs
    node.args = args
    node.requires_grad = requires_grad
    node.block = blocks.CURRENT.get()  # (the block being built in, if any)
    node._order = next(_creation_order)
    return node


_creation = attrgetter("_order")



def _add(a: Array, b: Array) -> Array:
    return np.asarray(a + b)  # (a sum of 0-d arrays is a numpy scalar: keep an array)


def lift(value: Any, like: Tensor | None = None) -> Tensor:
    """An operand as a Tensor: an array (or list) becomes a constant leaf of its own; so does
    a number, in ``like``'s dtype, when ``like`` is given."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (np.ndarray, list, tuple)):
        return Tensor(value, requires_grad=False)
    if like is not None and isinstance(value, params.NUMBERS):
        return Tensor(np.asarray(value, like.dtype), requires_grad=False)
    raise TypeError(f"cannot combine a Tensor with {type(value).__name__}: use a Tensor, an "
                    "ndarray or a number")


def _matrices(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    a, b = lift(a), lift(b)
    params.matmul(a.shape, b.shape)
    return a, b

