"""The engine: a `Tensor` that records ops into a graph and backpropagates through it.

Read it in this order: `ops` (the op table: each op's forward, vector-Jacobian product and
local derivative in words), then `tensor` (the `Tensor` class, one line per op, and its
backward loop). Behind them: `shapes` (bringing a gradient back to an input's shape),
`kernels` (the fast numeric paths, each a named function with a plain numpy meaning),
`params` (checking each op's settings), `dtypes` (which arrays are accepted), `show` (a
Tensor's repr and the error for a gradient that overflows), `blocks` (naming parts of a
graph), `gradcheck` (numerical gradients) and `naming` (how the trace, the report and the
graph name nodes and edges).
"""

from autograd_bn.engine.blocks import block
from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
from autograd_bn.engine.show import GradientOverflowError
from autograd_bn.engine.tensor import Tensor

__all__ = ["GradientOverflowError", "Tensor", "block", "gradcheck", "numerical_gradient",
           "rel_error"]
