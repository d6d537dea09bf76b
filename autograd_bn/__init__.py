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

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported when first used: `autograd-bn` starts without numpy, so that
    # Ctrl-C in its first tenth of a second is one line, not a traceback from inside numpy)
    from autograd_bn.bn import manual, problem
    from autograd_bn.bn.primitives import batchnorm
    from autograd_bn.bn.problem import make_problem
    from autograd_bn.check import compare, compare_grads
    from autograd_bn.engine.blocks import block
    from autograd_bn.engine.functions import cross_entropy, log_softmax, softmax
    from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
    from autograd_bn.engine.tensor import Tensor

_LAZY = {
    "manual": ("autograd_bn.bn.manual", None), "problem": ("autograd_bn.bn.problem", None),
    "batchnorm": ("autograd_bn.bn.primitives", "batchnorm"),
    "make_problem": ("autograd_bn.bn.problem", "make_problem"),
    "compare": ("autograd_bn.check.compare", None),
    "compare_grads": ("autograd_bn.check.grads", "compare_grads"),
    "block": ("autograd_bn.engine.blocks", "block"),
    "cross_entropy": ("autograd_bn.engine.functions", "cross_entropy"),
    "log_softmax": ("autograd_bn.engine.functions", "log_softmax"),
    "softmax": ("autograd_bn.engine.functions", "softmax"),
    "gradcheck": ("autograd_bn.engine.gradcheck", "gradcheck"),
    "GradientOverflowError": ("autograd_bn.engine.show", "GradientOverflowError"),
    "numerical_gradient": ("autograd_bn.engine.gradcheck", "numerical_gradient"),
    "rel_error": ("autograd_bn.engine.gradcheck", "rel_error"),
    "Tensor": ("autograd_bn.engine.tensor", "Tensor"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'autograd_bn' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    value = importlib.import_module(module)
    if attribute is not None:
        value = getattr(value, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


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
    "GradientOverflowError",
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
    "report",
    "softmax",
]
