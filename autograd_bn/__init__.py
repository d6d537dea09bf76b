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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # (imported when first used: `autograd-bn` starts without numpy, so that
    # Ctrl-C in its first tenth of a second is one line, not a traceback from inside numpy)
    from autograd_bn.bn import manual, problem
    from autograd_bn.bn.primitives import batchnorm
    from autograd_bn.bn.problem import make_problem
    from autograd_bn.check import compare
    from autograd_bn.engine.blocks import block
    from autograd_bn.engine.gradcheck import gradcheck, numerical_gradient, rel_error
    from autograd_bn.engine.tensor import Tensor

_LAZY = {
    "manual": ("autograd_bn.bn.manual", None), "problem": ("autograd_bn.bn.problem", None),
    "batchnorm": ("autograd_bn.bn.primitives", "batchnorm"),
    "make_problem": ("autograd_bn.bn.problem", "make_problem"),
    "compare": ("autograd_bn.check.compare", None),
    "block": ("autograd_bn.engine.blocks", "block"),
    "gradcheck": ("autograd_bn.engine.gradcheck", "gradcheck"),
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

__all__ = [
    "Tensor",
    "__version__",
    "batchnorm",
    "block",
    "compare",
    "gradcheck",
    "make_problem",
    "manual",
    "numerical_gradient",
    "problem",
    "rel_error",
]
