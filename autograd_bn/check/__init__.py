"""Checking gradients against each other, as plain data: `compare` (every backward pass on one
problem, with `metrics`, `runners`, `userimpl` for your own layer, and `results`), `explain`
(why the seed's dL_mu2 term changes dx) and `trace` (the backward pass node by node, `steps`).
Turning these results into text, JSON tables and HTML is `autograd_bn.text`'s job."""

from autograd_bn.check.grads import GradComparison, GradResult, NamedGradsError, compare_grads

__all__ = ["GradComparison", "GradResult", "NamedGradsError", "compare_grads"]
