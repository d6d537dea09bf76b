"""A few functions a network needs, each one line composed of the op table's ops, so their
graphs show the pieces (and their gradients come from those pieces' VJPs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd_bn.engine.tensor import Tensor


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``log(softmax(x))`` along ``axis``, shifted by the maximum first (no overflow)."""
    shifted = x - x.max(axis, keepdims=True)
    return shifted - shifted.exp().sum(axis, keepdims=True).log()


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis``, shifted by the maximum first (no overflow)."""
    return log_softmax(x, axis).exp()


def cross_entropy(logits: Tensor, targets: Any) -> Tensor:
    """The mean negative log-likelihood of integer class ``targets`` (N,) under the rows of
    ``logits`` (N, C): ``−log_softmax(logits)[range(N), targets].mean()``."""
    targets = np.asarray(targets)
    if logits.ndim != 2 or targets.shape != (logits.shape[0],) or targets.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy needs logits (N, C) and N integer targets, got shapes "
                         f"{logits.shape} and {targets.shape} ({targets.dtype})")
    return -log_softmax(logits)[np.arange(len(targets)), targets].mean()
