"""What every view calls a node, and how it writes a backward edge.

The trace (`autograd_bn.check.trace`), the report and the graph (`viz`) all name things here, so a
node or an edge reads the same in all three:

* a node is named by the first word of its label (``"(3) x − mean"`` is ``(3)``), as
  `Tensor.local_derivative` names them; an unlabelled node by its index in `Tensor.nodes`
  order (``#4``), so a derivative such as ``·#4`` points at a node you can find;
* a node no op made is an ``input`` (it requires grad) or a ``constant``;
* an edge's gradient is *summed* over the axes broadcasting added in the forward pass (the
  seed's ``.sum(axis=0)``) and *spread* (copied out, the seed's ``np.ones((N, D))``) where a
  reduction made the node smaller than its input.
"""

from __future__ import annotations

from collections.abc import Iterable

from autograd_bn.engine.shapes import broadcast_axes
from autograd_bn.engine.tensor import Tensor


def short_name(node: Tensor, index: int) -> str:
    """A node's short name: its label's first word, else ``#<index>``."""
    words = node.label.split() if node.label else []
    return words[0] if words else f"#{index}"


def short_names(nodes: Iterable[Tensor]) -> dict[Tensor, str]:
    """`short_name` of each node, numbered by its position in ``nodes``."""
    return {node: short_name(node, index) for index, node in enumerate(nodes)}


def op_text(node: Tensor) -> str:
    """The op that made ``node`` with its settings (``mean(axis=0)``, ``pow(p=2)``,
    ``mul_scalar(·1.5)``, ``sub``), or, for a node no op made, ``input`` (it requires grad) or
    ``constant``."""
    if node.is_leaf:
        return "input" if node.requires_grad else "constant"
    settings = []
    if node._op.shows:  # type: ignore[union-attr]
        settings.append(node._op.shows.format(**node.params).replace("-", "−"))  # type: ignore[union-attr]
    if node.params.get("axis"):
        axes = node.params["axis"]
        settings.append(f"axis={axes[0] if len(axes) == 1 else axes}")
    if node.params.get("keepdims"):
        settings.append("keepdims")
    return f"{node.op}({', '.join(settings)})" if settings else str(node.op)


def summed_axes(node: Tensor, i: int) -> tuple[int, ...]:
    """The axes summed when ``node``'s gradient flows into ``parents[i]``: where the forward
    pass broadcast that input (a (D,) γ times an (N, D) x̂: ``(0,)``), the seed's
    ``.sum(axis=0)``."""
    return broadcast_axes(node.shape, node.parents[i].shape)


def spreads(node: Tensor, i: int) -> bool:
    """Whether the gradient of ``node`` is copied out to reach ``parents[i]``: the backward pass
    of a sum or mean over more than one element (``x.mean(axis=0)`` of an (N, D) ``x`` with
    N > 1), the seed's ``np.ones((N, D))``. Summing a one-element array copies nothing."""
    return node.op in ("sum", "mean") and node.parents[i].size > node.size


def axis_text(axes: tuple[int, ...]) -> str:
    """``0`` for one axis, ``(0, 1)`` for several, as numpy's ``axis=`` is written."""
    return str(axes[0]) if len(axes) == 1 else str(axes)


def edge_text(derivative: str, axes: tuple[int, ...], spread: bool) -> str:
    """An edge as the trace and the report write it: ``× 2·(3)``, then ``, Σ axis 0`` where the
    gradient is summed and ``, spread`` where it is copied out."""
    text = f"× {derivative}"
    if axes:
        text += f", Σ axis {axis_text(axes)}"
    if spread:
        text += ", spread"
    return text


def edge_label(node: Tensor, i: int, names: dict[Tensor, str]) -> list[str]:
    """An edge as the graph draws it, in the seed's notation, one line each: ``·2·(3)`` (multiply
    by the local derivative), ``.sum(axis=0)``, ``·ones((4, 5))``."""
    derivative = node.local_derivative(i, names)
    if derivative.startswith("↦") or derivative.endswith("·"):  # moved back, or aᵀ· on the left
        lines = [derivative]
    else:
        lines = [f"·({derivative})" if derivative.startswith(("−", "-")) else f"·{derivative}"]
    axes = summed_axes(node, i)
    if axes:
        lines.append(f".sum(axis={axis_text(axes)})")
    if spreads(node, i):
        lines.append(f"·ones({node.parents[i].shape})")
    return lines
