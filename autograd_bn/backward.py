"""The backward pass: from an output down to the leaves, each node's gradient once complete.

`Tensor.backward` checks its arguments and calls `backpropagate`. For each node, newest first,
it takes the gradient summed so far, keeps it as the node's ``.grad``, and sends one
contribution along each input edge (`Tensor._vjp`: the op's vector-Jacobian product, brought
to the input's shape), adding contributions that meet at the same node.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from heapq import heappop, heappush
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from autograd_bn.tensor import Tensor

Array = np.ndarray


def backpropagate(
    output: Tensor, grad: Array, on_node: Callable[[Tensor, Array], None] | None
) -> None:
    """The backward pass proper, from ``output`` down, newest node first.

    A node is made after its inputs, so taking the newest node found so far (a heap keyed by
    creation order) visits every node after all the nodes that use it: its gradient is
    complete when it is visited. The same order as ``reversed(output.nodes(...))``, found
    while going.
    """
    pending: dict[Tensor, Array] = {output: grad}  # gradient sums still being collected
    # Nodes whose pending array is ours to add into in place: one this pass made (a sum, or a
    # new array a VJP returned). Safe because a VJP returns g itself, a view of g or a new array,
    # never an input or `out` (the rule in ops.py). Without this set the pass would simply
    # write `pending[parent] = before + contribution` every time: the same result, more copies.
    owned: set[Tensor] = set()
    tiebreak = itertools.count()  # copy.copy(node) shares node's number: never compare nodes
    newest_first = [(-output._order, next(tiebreak), output)]
    while newest_first:
        node = heappop(newest_first)[2]
        g = pending.pop(node)
        if on_node is not None:
            on_node(node, g)
        if node._op is None:  # a leaf: accumulate over calls, in an array nobody else holds
            if node.grad is None:
                node.grad = g if node in owned else np.array(g)
            else:  # asarray: a 0-d sum comes back as a numpy scalar
                node.grad = np.asarray(node.grad + g)
            continue
        node.grad = g  # may be shared with another node, or a read-only broadcast view
        for parent, contribution in node._contributions(g):
            before = pending.get(parent)
            if before is None:
                pending[parent] = contribution
                heappush(newest_first, (-parent._order, next(tiebreak), parent))
                if contribution is not g and contribution.base is None:  # a new array
                    owned.add(parent)
            elif parent in owned:
                before += contribution
            elif contribution is not g and contribution.base is None:  # a new array: add
                contribution += before  # into it rather than make another
                pending[parent] = contribution
                owned.add(parent)
            else:
                pending[parent] = np.asarray(before + contribution)
                owned.add(parent)
