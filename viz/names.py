"""What the drawing calls each node, and the local derivative on each backward edge.

A node is named by the first word of its label, as `Tensor.local_derivative` names them
(``"(3) x − mean"`` is ``(3)``). Unlabelled nodes are numbered in `Tensor.nodes` order
(``#4``), so a derivative such as ``·#4`` points at a node you can find in the picture: the
engine's own ``a``/``b`` placeholders would not.
"""

from __future__ import annotations

from autograd_bn.tensor import Tensor


def short_names(nodes: list[Tensor]) -> dict[Tensor, str]:
    """Each node's short name: its label's first word, else ``#<its index in nodes>``."""
    names = {}
    for index, node in enumerate(nodes):
        words = node.label.split() if node.label else []
        names[node] = words[0] if words else f"#{index}"
    return names


def spreads(node: Tensor, i: int) -> bool:
    """Whether the gradient of ``node`` is spread back out (broadcast) to reach parents[i].

    That is the backward pass of a reduction: the gradient of ``x.mean(axis=0)``, of shape
    (D,), reaches every row of an (N, D) ``x``, as the seed's ``np.ones((N,D))``.
    """
    shape, target = node.shape, node.parents[i].shape
    if len(shape) < len(target):
        return True
    axes = set(node.reduced_axes(i))
    lead = len(shape) - len(target)
    summed = tuple(1 if j in axes else n for j, n in enumerate(shape))[lead:]
    return summed != target


def backward_label(node: Tensor, i: int, names: dict[Tensor, str]) -> list[str]:
    """The lines on the red edge from ``node`` up to parents[i], as in the seed's table.

    ``·2·(3)`` (multiply by the local derivative), then ``.sum(axis=0)`` where the forward
    pass broadcast the input, or ``·ones((4, 5))`` where a reduction's gradient spreads out.
    """
    derivative = node.local_derivative(i, names)
    factor = f"·({derivative})" if derivative.startswith(("−", "-")) else f"·{derivative}"
    lines = [factor]
    axes = node.reduced_axes(i)
    if axes:
        shown = axes[0] if len(axes) == 1 else axes
        lines.append(f".sum(axis={shown})")
    if spreads(node, i):
        lines.append(f"·ones({node.parents[i].shape})")
    return lines


def op_text(node: Tensor) -> str:
    """The op that made ``node`` with its settings (``mean(axis=0)``), or what kind of leaf."""
    if node.op_text is None:
        return "input" if node.requires_grad else "constant"
    return node.op_text
