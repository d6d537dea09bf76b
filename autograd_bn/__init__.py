"""autograd-bn: a small, exact reverse-mode autodiff engine on numpy that makes backprop visible.

The package reads as the pipeline, one stage per folder:

* `autograd_bn.engine`: the `Tensor`, its op table and its backward pass;
* `autograd_bn.bn`: Batch Normalisation built from the engine's ops, and the hand-written
  backward passes (`manual`);
* `autograd_bn.check`: comparing and tracing gradients, with results as plain data;
* `autograd_bn.text`: those results as tables, text and an HTML report;
* `autograd_bn.cli`: the command line. (Drawing graphs is the `viz` package.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from autograd_bn.bn import manual, problem
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.check import compare
from autograd_bn.engine.blocks import block
from autograd_bn.engine.functions import cross_entropy, log_softmax, softmax
from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
from autograd_bn.engine.tensor import Tensor

__version__ = "0.1.0"


def report(tensor: Tensor, path: str | os.PathLike[str], grad: Any = None, *,
           collapse: bool | list[str] = False, title: str | None = None) -> Path:
    """Write one self-contained HTML page about ``tensor``'s graph to ``path``: the graph
    (pan and zoom, hover a node for its value and gradient), a step-through of its backward
    pass with each node's chain rule and numbers, gradient sizes, the paths to an input, and the
    trace. For BN as `batchnorm` builds it, also the comparison and the dL_mu2 answer.

    ``grad`` is dL/d(tensor): by default 1 for a one-element tensor, else the gradient of your
    last ``tensor.backward(grad)``. Your graph's gradients are left as they were.
    ``collapse`` draws blocks as one node each (`viz.draw`'s). Returns the path written.
    """
    from autograd_bn.text.report import write_graph_report  # (the page needs viz and text)

    return write_graph_report(tensor, path, grad, collapse=collapse, title=title)

__all__ = [
    "Tensor",
    "__version__",
    "batchnorm",
    "block",
    "compare",
    "cross_entropy",
    "gradcheck",
    "log_softmax",
    "make_problem",
    "manual",
    "numerical_gradient",
    "problem",
    "rel_error",
    "report",
    "softmax",
]
