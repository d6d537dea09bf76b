"""autograd-bn: a small, exact reverse-mode autodiff engine on numpy that makes backprop visible.

The pipeline, one module each: `ops` (every op's forward, vector-Jacobian product and local
derivative) → `tensor` (the `Tensor` graph and its backward pass) → `gradcheck` (numerical
gradients) → `bn` (Batch Normalisation built from the ops) and `manual` (the hand-written
backward passes, numpy only).
"""

from autograd_bn.bn import batchnorm
from autograd_bn.gradcheck import gradcheck, numerical_gradient, rel_error
from autograd_bn.tensor import Tensor

__version__ = "0.1.0"

__all__ = ["Tensor", "batchnorm", "gradcheck", "numerical_gradient", "rel_error", "__version__"]
