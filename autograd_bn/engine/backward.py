"""The backward pass: from an output down to the leaves, each node's gradient once complete.

`Tensor.backward` checks its arguments and calls `backpropagate`. For each op node, newest
first (then each leaf), it takes the gradient summed so far, keeps it as the node's ``.grad``,
and sends one contribution along each input edge (the op's vector-Jacobian product, brought
to the input's shape and dtype by `ops.conform`), adding contributions that meet at the same
node.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from heapq import heappop, heappush
from operator import attrgetter
from typing import TYPE_CHECKING

import numpy as np

from autograd_bn.engine.ops import conform

if TYPE_CHECKING:
    from autograd_bn.engine.ops import Op
    from autograd_bn.engine.tensor import Tensor

Array = np.ndarray


def backpropagate(
    output: Tensor, grad: Array, on_node: Callable[[Tensor, Array], None] | None
) -> None:
    """The backward pass proper, from ``output`` down, newest node first.

    A node is made after its inputs, so taking the newest node found so far (a heap keyed by
    creation order) visits every node after all the nodes that use it: its gradient is
    complete when it is visited. Leaves (nodes with no inputs) send nothing on, so they wait
    outside the heap and are finished last, newest first. The same order as
    ``reversed(output.nodes(...))`` but for the leaves, found while going.
    """
    # Gradient sums still being collected. One is ours to add into in place when this pass
    # made it (a sum, or a new array a VJP returned): exactly when it is not a view (its
    # ``base`` is None). A VJP returns a new array, a view of g or g itself (never an input or
    # ``out``, the rule in ops.py); g itself is kept as a view, so the rule holds for it too.
    pending: dict[Tensor, Array] = {output: grad}
    tiebreak = itertools.count()  # copy.copy(node) shares node's number: never compare nodes
    newest_first = [(-output._order, next(tiebreak), output)] if output._op is not None else []
    leaves = [] if newest_first else [output]

    def send(parent: Tensor, contribution: Array, node_grad: Array) -> None:
        """Add a contribution sent along one edge to ``parent``'s sum; ``node_grad`` is the
        sending node's own gradient (a VJP may pass it on as it is)."""
        contribution = conform(contribution, parent.data)
        before = pending.get(parent)
        if before is None:  # the first contribution: parent is now waiting for its turn
            pending[parent] = (contribution if contribution is not node_grad
                               else node_grad.view())
            if parent._op is None:
                leaves.append(parent)
            else:
                heappush(newest_first, (-parent._order, next(tiebreak), parent))
        elif before.base is None:  # ours: add in place
            before += contribution
        elif contribution.base is None and contribution is not node_grad:  # new: add into it
            contribution += before
            pending[parent] = contribution
        else:
            pending[parent] = np.asarray(before + contribution)

    while newest_first:
        node = heappop(newest_first)[2]
        g = pending.pop(node)
        if on_node is not None:
            on_node(node, g)
        node.grad = g  # may be shared with another node, or a read-only broadcast view
        # each input that requires grad gets the op's vector-Jacobian product
        op: Op = node._op  # type: ignore[assignment]  # (only op nodes enter the heap)
        a: Tensor = node._a  # type: ignore[assignment]
        b, out = node._b, node.data
        if b is None:  # one input, and maybe settings (the axis of a sum, the p of a ** p)
            if a.requires_grad:
                params = node.params  # (no ** for none: unpacking even an empty one costs)
                send(a, op.vjps[0](g, out, a.data, **params) if params else
                     op.vjps[0](g, out, a.data), g)
        else:
            if a.requires_grad:
                send(a, op.vjps[0](g, out, a.data, b.data), g)
            if b.requires_grad:
                send(b, op.vjps[1](g, out, a.data, b.data), g)

    leaves.sort(key=_creation, reverse=True)  # newest first, as the heap would have them
    for leaf in leaves:  # accumulate over calls, in an array nobody else holds
        g = pending.pop(leaf)
        if on_node is not None:
            on_node(leaf, g)
        if leaf.grad is None:
            leaf.grad = g if g.base is None else np.array(g)
        else:  # asarray: a 0-d sum comes back as a numpy scalar
            leaf.grad = np.asarray(leaf.grad + g)


_creation = attrgetter("_order")
