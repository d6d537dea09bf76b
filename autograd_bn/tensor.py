"""`Tensor`: a numpy array that remembers how it was made, and can backpropagate through it.

Every operation on a Tensor returns a new Tensor that records its op, its parents and the op's
parameters. Together they form a DAG; `Tensor.backward` walks it from the output back to the
leaves, asking each op (in `autograd_bn.ops`) for the vector-Jacobian product of each input.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from autograd_bn import ops

Array = np.ndarray
_NUMBER = (int, float, np.integer, np.floating)
_REJECTED_KINDS = {"c": "complex", "O": "object", "U": "string", "S": "bytes", "V": "structured"}


def as_float_array(data: Any, what: str = "data") -> Array:
    """``data`` as a float32 or float64 ndarray, following the engine's dtype rules.

    Integers and booleans become float64; float32 and float64 are kept as given. Complex,
    object, string and other non-real data raise `TypeError` naming the dtype.
    """
    array = data if isinstance(data, np.ndarray) else np.asarray(data)
    kind = array.dtype.kind
    if kind in "biu":
        return array.astype(np.float64)
    if array.dtype in (np.float32, np.float64):
        return array
    name = _REJECTED_KINDS.get(kind, "non-real")
    raise TypeError(
        f"{what} must be real numbers (float32, float64, int or bool), "
        f"got {name} data of dtype {array.dtype}"
    )


class Tensor:
    """A node of a computational graph: a numpy array, its gradient, and how it was made.

    ``Tensor(data, label=None, requires_grad=True)`` makes a leaf. ``data`` is anything
    `numpy.asarray` accepts; integers and booleans become float64, float32 stays float32 (and
    so do its gradients). The array is used as given, not copied.

    Attributes: ``data`` (ndarray), ``grad`` (ndarray of ``data``'s shape, or None before a
    backward pass), ``label`` (a name shown by the renderer and the trace, settable), ``op``
    (the name of the op that made it; None for a leaf), ``parents`` (its inputs, in order),
    ``params`` (the op's parameters, e.g. ``{"p": 2.0}`` for ``x ** 2``), ``requires_grad``.

    Tensors are compared and hashed by identity, so they can be dictionary keys and set members.
    Gradients of intermediate nodes may share memory with each other (``a + b`` passes the same
    array to both inputs); copy one before writing into it. Leaf gradients are never shared.
    """

    __slots__ = ("data", "grad", "label", "_op", "parents", "params", "requires_grad")
    __array_ufunc__ = None  # ndarray + Tensor defers to Tensor.__radd__ instead of looping

    def __init__(self, data: Any, *, label: str | None = None, requires_grad: bool = True):
        if isinstance(data, Tensor):
            data = data.data
        if label is not None and not isinstance(label, str):
            raise TypeError(f"label must be a string or None, got {type(label).__name__}")
        if not isinstance(requires_grad, bool):
            raise TypeError(f"requires_grad must be True or False, got {requires_grad!r}")
        self.data: Array = as_float_array(data)
        self.grad: Array | None = None
        self.label = label
        self._op: ops.Op | None = None
        self.parents: tuple[Tensor, ...] = ()
        self.params: dict[str, Any] = {}
        self.requires_grad = requires_grad

    # ---- building the graph -----------------------------------------------------------------

    @classmethod
    def _apply(cls, op: ops.Op, parents: tuple[Tensor, ...], params: dict[str, Any]) -> Tensor:
        """Run ``op`` forward on ``parents`` and record the result as a new node."""
        out = cls.__new__(cls)
        out.data = np.asarray(op.forward(*[p.data for p in parents], **params))
        out.grad = None
        out.label = None
        out._op = op
        out.parents = parents
        out.params = params
        out.requires_grad = any(p.requires_grad for p in parents)
        return out

    def _lift(self, other: Any) -> Tensor:
        """An operand as a Tensor: numbers and arrays become constants (no gradient)."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, _NUMBER):
            # A Python number takes this tensor's dtype, so a float32 graph stays float32.
            return Tensor(np.asarray(other, dtype=self.dtype), label=f"{other:g}",
                          requires_grad=False)
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

    def local_derivative(self, i: int) -> str:
        """The local derivative d(self)/d(parents[i]) in words, e.g. ``"2·(3)"``.

        Nodes are named by the first word of their labels (``"(3) x − mean"`` is ``(3)``),
        or ``a``, ``b`` and ``out`` when unlabelled; the op's parameters fill in the rest.
        """
        if self._op is None:
            raise ValueError("a leaf has no local derivative: it has no inputs")
        names: dict[str, Any] = dict(self.params)
        for key, node in (*zip("ab", self.parents, strict=False), ("out", self)):
            names[key] = node.label.split()[0] if node.label and node.label.split() else key
        return self._op.describe(i, names)

    def reduced_axes(self, i: int) -> tuple[int, ...]:
        """Axes summed over when this node's gradient flows into ``parents[i]``.

        Non-empty where the forward pass broadcast that input (a (D,) γ times an (N, D) x̂:
        ``(0,)``), as in the seed's ``.sum(axis=0)``.
        """
        return ops.broadcast_axes(self.shape, self.parents[i].shape)

    def nodes(self, *, requiring_grad: bool = False) -> list[Tensor]:
        """Every tensor this one depends on, itself included, each once, inputs first.

        The walk is iterative, so graphs of any depth work. With ``requiring_grad=True`` only
        the nodes a backward pass visits (those that require grad) are listed.
        """
        order: list[Tensor] = []
        seen = {self}
        stack: list[tuple[Tensor, Iterator[Tensor]]] = [(self, iter(self.parents))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if parent not in seen and (parent.requires_grad or not requiring_grad):
                    seen.add(parent)
                    stack.append((parent, iter(parent.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
        return order

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
            raise RuntimeError(
                "backward() on a tensor that does not require grad: none of its inputs does"
            )
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
            if grad.shape != self.shape:
                raise ValueError(
                    f"grad has shape {grad.shape} but the tensor has shape {self.shape}: "
                    "they must be equal"
                )
            grad = grad.astype(self.dtype, copy=False)

        pending: dict[Tensor, Array] = {self: grad}  # gradient sums still being collected
        owned: set[Tensor] = set()  # nodes whose pending array is ours to add into in place
        for node in reversed(self.nodes(requiring_grad=True)):
            g = pending.pop(node)
            if not g.flags.writeable:  # a spread-out view from a reduction's backward
                g = g.copy()
                owned.add(node)
            if on_node is not None:
                on_node(node, g)
            if node._op is None:  # a leaf: accumulate over calls, in an array nobody else holds
                if node.grad is not None:
                    node.grad = np.asarray(node.grad + g)
                else:
                    node.grad = g if node in owned else g.copy()
                continue
            node.grad = g
            for i, parent in enumerate(node.parents):
                if not parent.requires_grad:
                    continue
                contribution = node.vjp(i, g)
                before = pending.get(parent)
                if before is None:
                    pending[parent] = contribution
                elif parent in owned:
                    before += contribution
                else:
                    pending[parent] = np.asarray(before + contribution)
                    owned.add(parent)

    def vjp(self, i: int, grad: Array) -> Array:
        """The gradient that ``grad`` (dL/d self) sends to ``parents[i]``: one edge of backward.

        It is the op's vector-Jacobian product, brought to the parent's shape (summed over
        broadcast axes, or spread back out after a reduction) and dtype.
        """
        op = self._op
        if op is None:
            raise ValueError("a leaf has no inputs to send a gradient to")
        parent = self.parents[i]
        # asarray: numpy turns 0-d results into scalars, which cannot be added into in place
        vjp = np.asarray(op.vjps[i](grad, self.data, *[p.data for p in self.parents],
                                    **self.params))
        contribution = ops.fit(vjp, parent.shape)
        if contribution.dtype != parent.dtype:
            contribution = contribution.astype(parent.dtype)
        return contribution

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


def _binary_method(op: ops.Op, reflected: bool) -> Callable[[Tensor, Any], Tensor]:
    def method(self: Tensor, other: Any) -> Tensor:
        other = self._lift(other)
        return Tensor._apply(op, (other, self) if reflected else (self, other), {})

    return method


def _unary_method(op: ops.Op) -> Callable[..., Tensor]:
    if op.params is None:

        def method(self: Tensor) -> Tensor:
            return Tensor._apply(op, (self,), {})

        return method

    make_params = op.params

    def method_with_params(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return Tensor._apply(op, (self,), make_params(self, *args, **kwargs))

    return method_with_params


def _install_ops() -> None:
    """Give `Tensor` a method for each op in `ops.ALL` (``__add__``, ``sqrt``, ``sum``…)."""
    for op in ops.ALL:
        for name in op.methods:
            method = _binary_method(op, False) if op.arity == 2 else _unary_method(op)
            method.__name__ = name
            method.__doc__ = f"The {op.name} op: see autograd_bn.ops.{op.name}."
            setattr(Tensor, name, method)
        for name in op.reflected:
            method = _binary_method(op, True)
            method.__name__ = name
            method.__doc__ = f"The {op.name} op with operands swapped."
            setattr(Tensor, name, method)


_install_ops()
