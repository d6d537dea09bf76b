"""What the engine says to people about a node: a Tensor's repr, and the error that names a
gradient too large for its dtype. (A node is read through its attributes: this module does not
import `Tensor`, which imports it.)"""

from __future__ import annotations

from typing import Any

import numpy as np


class GradientOverflowError(FloatingPointError, ValueError):
    """A gradient in a backward pass grew past the largest number of its dtype (it would
    have been a silent inf): raised by `Tensor.backward`, naming the edge where it happened.
    (A `ValueError` too, as `BNOverflowError` is: the values are too large for the dtype.)"""


def tensor_repr(data: np.ndarray, label: str | None, op: str | None,
                requires_grad: bool) -> str:
    """``Tensor([[0., 1.]], shape=(1, 2), label='x')``: values, then what is not a default."""
    body = np.array2string(data, precision=4, threshold=20, separator=", ")
    extra = [f"shape={data.shape}"]
    if data.dtype != np.float64:
        extra.append(f"dtype={data.dtype}")
    if label is not None:
        extra.append(f"label={label!r}")
    if op is not None:
        extra.append(f"op={op}")
    if not requires_grad:
        extra.append("requires_grad=False")
    return f"Tensor({body.replace(chr(10), chr(10) + ' ' * 7)}, {', '.join(extra)})"


def gradient_overflow(node: Any, parent: Any | None, g: np.ndarray) -> GradientOverflowError:
    """The error for a gradient that overflowed going back from ``node`` (a Tensor whose
    gradient is ``g``) to ``parent``; ``parent`` None: adding a leaf's gradient to its earlier
    ones (its ``.grad``). Says which step overflowed (this edge's VJP, or adding its result to
    what ``parent`` had received already) and what is large: the gradient, or the local
    derivative."""
    largest = f"{g.dtype}'s largest number {float(np.finfo(g.dtype).max):.1e}"
    if parent is None:
        return GradientOverflowError(
            f"adding this pass's gradient of {name(node)} to its .grad from earlier passes "
            f"passed {largest}: call zero_grad() between passes, or scale the output "
            "gradient down")
    biggest = float(np.max(np.abs(g))) if g.size else 0.0
    i = next(i for i, p in enumerate(node.parents) if p is parent)
    with np.errstate(all="ignore"):  # (once more, to see which step it was)
        part = node.vjp(i, g)
    if np.isfinite(part).all():
        return GradientOverflowError(
            f"the gradients reaching {name(parent)} overflowed when added up (the one from "
            f"{name(node)} is up to {float(np.max(np.abs(part))):.1e}): the sum passed "
            f"{largest}; {_advice(g, 'scale the output gradient down')}")
    if biggest > np.sqrt(np.finfo(g.dtype).max):
        what, fix = "the gradient arriving there", "scale the output gradient down"
    else:
        what = (f"the local derivative of {name(node)} with respect to {name(parent)}, at "
                "these values")
        fix = "keep the inputs away from where that derivative blows up"
    return GradientOverflowError(
        f"the gradient overflowed on its way back from {name(node)} to {name(parent)}: it "
        f"passed {largest}, and what is too large is {what} (the gradient of {name(node)} "
        f"is up to {biggest:.1e}); {_advice(g, fix)}")


def _advice(g: np.ndarray, fix: str) -> str:
    return f"{fix}, or use float64" if g.dtype != np.float64 else fix


def name(node: Any) -> str:
    """A node as an error names it: its label, else its op and shape (``a mul node of shape
    (4, 5)``, ``an add node …``), else ``an input of shape (5,)``."""
    if node.label:
        return str(node.label)
    if node.op:
        return f"{'an' if node.op[0] in 'aeiou' else 'a'} {node.op} node of shape {node.shape}"
    return f"an input of shape {node.shape}"
