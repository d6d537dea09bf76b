"""Batch Normalisation: built from the engine's primitives (`batchnorm`), by hand (`manual`: the
seed's staged and analytical passes, cs231n's compact one, the paper's), and the inputs they
are checked on (`problem`)."""

from autograd_bn.bn import manual, problem
from autograd_bn.bn.primitives import SEED_LABELS, batchnorm

__all__ = ["SEED_LABELS", "batchnorm", "manual", "problem"]
