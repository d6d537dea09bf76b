"""The engine: a `Tensor` that records ops into a graph and backpropagates through it.

Read it in this order: `ops` (the op table: each op's forward, vector-Jacobian product and
local derivative in words), `tensor` (the `Tensor` class, one line per op), `backward` (the
backward loop). Behind them: `shapes` (bringing a gradient back to an input's shape),
`kernels` (the fast numeric paths, each a named function with a plain numpy meaning),
`dtypes` (which arrays are accepted), `gradcheck` (numerical gradients) and `naming` (how the
trace, the report and the graph name nodes and edges).
"""

from autograd_bn.engine.blocks import block
from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
from autograd_bn.engine.tensor import Tensor

__all__ = ["Tensor", "block", "gradcheck", "numerical_gradient", "rel_error"]
