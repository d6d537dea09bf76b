"""`Tensor`: a numpy array that remembers how it was made, and can backpropagate through it.

Every operation on a Tensor returns a new Tensor that records its op, its parents and the op's
parameters. Together they form a DAG; `Tensor.backward` walks it from the output back to the
leaves, asking each op (in `autograd_bn.engine.ops`) for the vector-Jacobian product of each input.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from autograd_bn.engine import ops
from autograd_bn.engine.backward import backpropagate
from autograd_bn.engine.dtypes import as_float_array

Array = np.ndarray
_NUMBER = (int, float, np.integer, np.floating, np.bool_)
Operand = Any  # a Tensor, an ndarray (or list) or a number: see `Tensor._lift`
_creation_order = itertools.count()  # every node's number: parents are always made first
_NO_PARAMS: Mapping[str, Any] = MappingProxyType({})  # the params of an op without settings


class Tensor:
    """A node of a computational graph: a numpy array, its gradient, and how it was made.

    ``Tensor(data, label=None, requires_grad=True)`` makes a leaf. ``data`` is anything
    `numpy.asarray` accepts; integers and booleans become float64, float16 becomes float32,
    float32 stays float32 (and so do its gradients). The array is used as given, not copied.
    ``Tensor(other_tensor)`` is a new leaf sharing ``other_tensor``'s data: no gradient flows
    back to ``other_tensor`` through it.

    Attributes: ``data`` (ndarray), ``grad`` (ndarray of ``data``'s shape, or None before a
    backward pass), ``label`` (a name shown by the renderer and the trace, settable), ``op``
    (the name of the op that made it; None for a leaf), ``parents`` (its inputs, in order),
    ``params`` (the op's parameters, e.g. ``{"p": 2.0}`` for ``x ** 2``; not to be changed),
    ``requires_grad``.

    A number on either side of an op becomes a constant node, shared by equal numbers of one
    dtype (``(x * 2).parents[1] is (y * 2).parents[1]``); its data and label are read-only,
    and it must stay a constant (do not set its ``requires_grad``: every graph would see it).

    Tensors are compared and hashed by identity, so they can be dictionary keys and set members:
    ``t == 0`` is False (compare ``t.data`` for values), and ``<`` is not defined.
    Gradients of intermediate nodes may share memory with each other (``a + b`` passes the same
    array to both inputs); copy one before writing into it. Leaf gradients are never shared.
    """

    # A node's inputs are kept in two slots, not in a tuple: ops take one input or two, and
    # one object per node instead of two halves the work of Python's cycle collector while a
    # large graph is built. `parents` gives them as a tuple.
    __slots__ = ("data", "grad", "_label", "_op", "_a", "_b", "params", "requires_grad",
                 "_order")
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__ instead of looping

    if TYPE_CHECKING:
        # What `_install_ops` adds from the op table, spelled out for type checkers only
        # (tests/test_engine.py checks that this list and `ops.ALL` agree).
        def __add__(self, other: Operand) -> Tensor: ...
        def __radd__(self, other: Operand) -> Tensor: ...
        def __sub__(self, other: Operand) -> Tensor: ...
        def __rsub__(self, other: Operand) -> Tensor: ...
        def __mul__(self, other: Operand) -> Tensor: ...
        def __rmul__(self, other: Operand) -> Tensor: ...
        def __neg__(self) -> Tensor: ...
        def __pow__(self, p: float) -> Tensor: ...
        def sqrt(self) -> Tensor: ...
        def reciprocal(self) -> Tensor: ...
        def sum(self, axis: int | tuple[int, ...] | None = None,
                keepdims: bool = False) -> Tensor: ...
        def mean(self, axis: int | tuple[int, ...] | None = None,
                 keepdims: bool = False) -> Tensor: ...

    def __init__(self, data: Any, *, label: str | None = None, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string or None, got {type(label).__name__}")
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be True or False, got {requires_grad!r}")
        self.data: Array = as_float_array(data)
        self.grad: Array | None = None
        self._label = label
        self._op: ops.Op | None = None
        self._a: Tensor | None = None
        self._b: Tensor | None = None
        self.params: Mapping[str, Any] = _NO_PARAMS
        self.requires_grad = requires_grad
        self._order = next(_creation_order)

    # ---- building the graph -----------------------------------------------------------------

    def _lift(self, other: Any) -> Tensor:
        """An operand as a Tensor: numbers and arrays become constants (no gradient)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, _NUMBER):  # labelled by its value when the label is first read
            return _constant(other, self.data.dtype)
        if isinstance(other, (np.ndarray, list, tuple)):
            return Tensor(other, requires_grad=False)
        raise TypeError(
            f"cannot combine a Tensor with {type(other).__name__}: use a Tensor, an ndarray "
            "or a number"
        )

    def __truediv__(self, other: Any) -> Tensor:
        """``a / b``, built as ``a * b.reciprocal()``, as the seed's graph does."""
        return self * self._lift(other).reciprocal()

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._lift(other) * self.reciprocal()

    # ---- reading it -------------------------------------------------------------------------

    @property
    def label(self) -> str | None:
        """The node's name in graphs and traces; a number's constant is named by its value."""
        if self._label is None and self._op is None and not self.requires_grad \
                and self.data.ndim == 0:
            return f"{self.data.item():g}"
        return self._label

    @label.setter
    def label(self, value: str | None) -> None:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"label must be a string or None, got {type(value).__name__}")
        if self._order == _SHARED:
            raise AttributeError(
                f"the constant {self.label} is shared by every graph that uses the number: "
                f"to name it, use a Tensor({self.label}, requires_grad=False) of your own"
            )
        self._label = value

    @property
    def parents(self) -> tuple[Tensor, ...]:
        """The tensors this one was made from, in order: ``(a,)`` or ``(a, b)``; ``()`` for a
        leaf."""
        if self._b is not None:
            return (self._a, self._b)  # type: ignore[return-value]
        return () if self._a is None else (self._a,)

    @property
    def op(self) -> str | None:
        """The name of the op that made this tensor (``"mul"``, ``"sqrt"``…); None for a leaf."""
        return None if self._op is None else self._op.name

    @property
    def is_leaf(self) -> bool:
        return self._op is None

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a one-element tensor, got shape {self.shape}")
        return float(self.data.reshape(()))

    @property
    def op_text(self) -> str | None:
        """The op with its settings, as people write it: ``mean(axis=0)``, ``pow(p=2)``, ``sub``.

        None for a leaf.
        """
        if self._op is None:
            return None
        settings = []
        axes = self.params.get("axis")
        if axes:  # none for a sum of a 0-d tensor
            settings.append(f"axis={axes[0] if len(axes) == 1 else axes}")
        if self.params.get("keepdims"):
            settings.append("keepdims")
        if "p" in self.params:
            settings.append(f"p={self.params['p']:g}")
        return f"{self._op.name}({', '.join(settings)})" if settings else self._op.name

    def local_derivative(self, i: int, names: Mapping[Tensor, str] | None = None) -> str:
        """The local derivative d(self)/d(parents[i]) in words, e.g. ``"2·(3)"``.

        Nodes are named by ``names[node]`` when given, else by the first word of their labels
        (``"(3) x − mean"`` is ``(3)``), or ``a``, ``b`` and ``out`` when unlabelled; the op's
        parameters fill in the rest.
        """
        if self._op is None:
            raise ValueError("a leaf has no local derivative: it has no inputs")
        fill: dict[str, Any] = dict(self.params)
        for key, node in (*zip("ab", self.parents, strict=False), ("out", self)):
            if names is not None:
                fill[key] = names[node]
            else:
                words = node.label.split() if node.label else []
                fill[key] = words[0] if words else key
        return self._op.describe(i, fill)

    def summed_axes(self, i: int) -> tuple[int, ...]:
        """Axes summed over when this node's gradient flows into ``parents[i]``.

        Non-empty where the forward pass broadcast that input (a (D,) γ times an (N, D) x̂:
        ``(0,)``), as in the seed's ``.sum(axis=0)``.
        """
        return ops.broadcast_axes(self.shape, self.parents[i].shape)

    def nodes(self, *, requiring_grad: bool = False) -> list[Tensor]:
        """Every tensor this one depends on, itself included, each once, inputs first.

        A node is always made after its inputs, so the order of creation is a topological
        order: the nodes are found by an iterative walk (graphs of any depth work) and sorted
        by when they were made, except that a number's constant (shared by every graph that
        uses the number) comes just before its first user. With ``requiring_grad=True`` only
        the nodes a backward pass visits (those that require grad) are listed.
        """
        place: dict[Tensor, float] = {self: self._order}  # where each node goes in the list
        stack = [self]
        while stack:
            node = stack.pop()
            for parent in node.parents:
                if parent._order == _SHARED:  # a shared number goes just before its first user
                    if not requiring_grad:
                        place[parent] = min(place.get(parent, node._order), node._order - 0.5)
                elif parent not in place and (parent.requires_grad or not requiring_grad):
                    place[parent] = parent._order
                    stack.append(parent)
        return sorted(place, key=place.__getitem__)  # (ties keep the order they were found in)

    # ---- backpropagation --------------------------------------------------------------------

    def backward(
        self, grad: Any = None, *, on_node: Callable[[Tensor, Array], None] | None = None
    ) -> None:
        """Backpropagate ``grad`` = dL/d(self) to every node of the graph below.

        ``grad`` defaults to ones for a one-element tensor and is required otherwise. After the
        call each node that requires grad holds its ``.grad``: leaves accumulate over calls
        (call ``zero_grad`` to reset them), intermediate nodes get this call's gradient.
        ``on_node(node, grad)``, if given, is called as each node's gradient is complete, in
        the order the engine visits them (the trace uses it).
        """
        if not self.requires_grad:
            what = ("a leaf made with requires_grad=False" if self._op is None
                    else "none of its inputs requires grad")
            raise RuntimeError(f"backward() on a tensor that does not require grad: {what}")
        if grad is None:
            if self.data.size != 1:
                raise ValueError(
                    f"backward() on a tensor of shape {self.shape} needs a gradient: pass "
                    f"grad= an array of shape {self.shape} (only one-element outputs default "
                    "to ones)"
                )
            grad = np.ones_like(self.data)
        else:
            grad = as_float_array(grad, "grad")
            if grad.shape != self.data.shape:
                raise ValueError(
                    f"grad has shape {grad.shape} but the tensor has shape {self.shape}: "
                    "they must be equal"
                )
            # The output's .grad is the caller's array, seen read-only (not copied).
            if grad.dtype != self.data.dtype:
                grad = grad.astype(self.data.dtype)
            grad = grad.view()
            grad.flags.writeable = False

        # Backward makes no reference cycles, so the cycle collector has nothing to find here;
        # pausing it saves it from scanning a large graph again and again.
        collecting = gc.isenabled()
        gc.disable()
        try:
            backpropagate(self, grad, on_node)
        finally:
            if collecting:
                gc.enable()

    def vjp(self, i: int, grad: Array) -> Array:
        """The gradient that ``grad`` (dL/d self) sends to ``parents[i]``: one edge of backward.

        It is the op's vector-Jacobian product, brought to the parent's shape (summed over
        broadcast axes, or spread back out after a reduction) and dtype.
        """
        if self._op is None:
            raise ValueError("a leaf has no inputs to send a gradient to")
        inputs = [p.data for p in self.parents]
        return ops.conform(self._op.vjps[i](grad, self.data, *inputs, **self.params), inputs[i])

    def zero_grad(self) -> None:
        """Forget the gradients of this tensor and of every node below it."""
        for node in self.nodes():
            node.grad = None

    # ---- printing ---------------------------------------------------------------------------

    def __repr__(self) -> str:
        body = np.array2string(self.data, precision=4, threshold=20, separator=", ")
        body = body.replace("\n", "\n" + " " * 7)
        extra = [f"shape={self.shape}"]
        if self.dtype != np.float64:
            extra.append(f"dtype={self.dtype}")
        if self.label is not None:
            extra.append(f"label={self.label!r}")
        if self._op is not None:
            extra.append(f"op={self.op}")
        if not self.requires_grad:
            extra.append("requires_grad=False")
        return f"Tensor({body}, {', '.join(extra)})"


def _node(
    data: Any,
    op: ops.Op | None,
    a: Tensor | None,
    b: Tensor | None,
    params: Mapping[str, Any],
    requires_grad: bool,
) -> Tensor:
    """A new node, without `Tensor.__init__`'s checks: the engine's own fast constructor."""
    node = object.__new__(Tensor)
    # numpy gives a scalar, not an array, for 0-d results: keep .data an ndarray
    node.data = data if type(data) is np.ndarray else np.asarray(data)
    node.grad = None
    node._label = None
    node._op = op
    node._a = a
    node._b = b
    node.params = params
    node.requires_grad = requires_grad
    node._order = next(_creation_order)
    return node


def _constant_node(data: Array) -> Tensor:
    """A leaf that requires no grad, made without `Tensor.__init__`'s checks."""
    return _node(data, None, None, None, _NO_PARAMS, False)


def _constant(value: Any, dtype: np.dtype) -> Tensor:
    """A number as a constant node of ``dtype`` (a float32 graph stays float32).

    Equal numbers share one node per dtype, as they are one value: ``x * 2 + y * 2`` has a
    single constant 2, and a loop of ``y = y * 1.0001`` makes one constant, not one per turn
    (a node costs time to build and keeps Python's cycle collector busy). Its data and label
    are read-only, and `Tensor.nodes` lists it just before its first user in each graph,
    whatever was built before. Zeros are not shared (``-0.0 == 0.0``, yet they differ).
    """
    key = (value, dtype)
    node = _constants.get(key)
    if node is None:
        data = np.asarray(value, dtype)
        data.flags.writeable = False
        node = _constant_node(data)
        if value != 0:
            node._order = _SHARED
            if len(_constants) >= _MAX_CONSTANTS:
                _constants.clear()
            _constants[key] = node
    return node


_constants: dict[tuple[Any, np.dtype], Tensor] = {}
_MAX_CONSTANTS = 1024
_SHARED = -1  # the creation number of every shared constant (made before any graph)


def _binary_method(op: ops.Op, reflected: bool) -> Callable[[Tensor, Any], Tensor]:
    forward = op.forward

    def method(self: Tensor, other: Any) -> Tensor:
        if not isinstance(other, Tensor):
            # what self._lift(other) does, with the common case (a number) one call sooner
            other = (_constant(other, self.data.dtype) if isinstance(other, _NUMBER)
                     else self._lift(other))
        a, b = (other, self) if reflected else (self, other)
        return _node(forward(a.data, b.data), op, a, b, _NO_PARAMS,
                            a.requires_grad or b.requires_grad)

    return method


def _unary_method(op: ops.Op) -> Callable[..., Tensor]:
    forward = op.forward
    if op.params is None:

        def method(self: Tensor) -> Tensor:
            return _node(forward(self.data), op, self, None, _NO_PARAMS, self.requires_grad)

        return method

    make_params = op.params

    def method_with_params(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        params = make_params(self, *args, **kwargs)
        return _node(forward(self.data, **params), op, self, None, params,
                            self.requires_grad)

    return method_with_params


def _install_ops() -> None:
    """Give `Tensor` a method for each op in `ops.ALL` (``__add__``, ``sqrt``, ``sum``…)."""
    for op in ops.ALL:
        for name in op.methods:
            method = _binary_method(op, False) if op.arity == 2 else _unary_method(op)
            method.__name__ = name
            method.__doc__ = f"The {op.name} op: see autograd_bn.engine.ops.{op.name}."
            setattr(Tensor, name, method)
        for name in op.reflected:
            method = _binary_method(op, True)
            method.__name__ = name
            method.__doc__ = f"The {op.name} op with operands swapped."
            setattr(Tensor, name, method)


_install_ops()
