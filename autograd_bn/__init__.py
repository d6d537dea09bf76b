"""autograd-bn: a small, exact reverse-mode autodiff engine on numpy that makes backprop visible.

The package reads as the pipeline, one stage per folder:

* `autograd_bn.engine`: the `Tensor`, its op table and its backward pass;
* `autograd_bn.bn`: Batch Normalisation built from the engine's ops, and the hand-written
  backward passes (`manual`);
* `autograd_bn.check`: comparing and tracing gradients, with results as plain data;
* `autograd_bn.text`: those results as tables, text and an HTML report;
* `autograd_bn.cli`: the command line. (Drawing graphs is the `viz` package.)
"""

from autograd_bn.bn import manual, problem
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.check import compare, compare_grads
from autograd_bn.engine.blocks import block
from autograd_bn.engine.functions import cross_entropy, log_softmax, softmax
from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
from autograd_bn.engine.tensor import Tensor

__version__ = "0.1.0"

__all__ = [
    "Tensor",
    "__version__",
    "batchnorm",
    "block",
    "compare",
    "compare_grads",
    "cross_entropy",
    "gradcheck",
    "log_softmax",
    "make_problem",
    "manual",
    "numerical_gradient",
    "problem",
    "rel_error",
    "softmax",
]
