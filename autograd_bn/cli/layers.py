"""Flags that choose the layer (``--layer``, ``-G``, ``--shape``, ``--mode``, ``--bessel``) and
your layer's time limit (``--timeout``), shared by compare, graph, trace and report; check takes
the same ``--timeout`` for your function."""

from __future__ import annotations

import argparse
import math
from typing import Any

from autograd_bn.bn.layers import LAYERS, LayerProblem, make_layer_problem
from autograd_bn.check.userimpl import TIMEOUT

PREFIXES = ("spatial_groupnorm", "spatial_batchnorm", "layernorm", "batchnorm")
"""Function-name prefixes that name a layer (longest first: spatial_batchnorm_ holds
batchnorm_)."""


def add_layer_args(parser: argparse.ArgumentParser, *, user: bool = True) -> None:
    group = parser.add_argument_group("the layer")
    group.add_argument("--layer", choices=list(LAYERS), default=None,
                       help="which layer: batchnorm (default; or from your functions' names), "
                       "layernorm (N, D), spatial_batchnorm (N, C, H, W; default 2x3x4x5), "
                       "spatial_groupnorm (default 2x6x4x5)")
    group.add_argument("-G", type=int, default=None,
                       help="groups of spatial_groupnorm; default 2")
    group.add_argument("--shape", default=None, metavar="NxCxHxW",
                       help="x's shape for the spatial layers, e.g. 2x6x4x5 (the (N, D) "
                       "layers take -N and -D)")
    group.add_argument("--mode", choices=("train", "test"), default="train",
                       help="batch norm's mode; test: running statistics (momentum 0.9)")
    group.add_argument("--bessel", action="store_true",
                       help="batch norm's variance divided by N-1 (makemore's backprop "
                       "ninja) instead of N (cs231n)")
    if user:
        add_timeout_arg(group, "your layer")


def add_timeout_arg(group: Any, what: str) -> None:
    """``--timeout SECONDS``: how long ``what`` (your layer, your function) may run in its child
    process; checked by `checked_timeout`."""
    group.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                       help=f"stop {what} after this long (it runs in a child process); "
                       f"default {TIMEOUT:g}")


def checked_timeout(args: argparse.Namespace) -> float:
    """``--timeout``'s value, or `ValueError` unless it is a finite number of seconds > 0."""
    timeout = float(getattr(args, "timeout", TIMEOUT))
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"--timeout must be a number of seconds > 0, got {timeout:g}")
    return timeout


def chosen_layer(args: argparse.Namespace) -> tuple[str, str | None]:
    """The layer and, when it was read off your function's name, a note saying so."""
    if args.layer is not None:
        return args.layer, None
    spec = getattr(args, "forward", None)
    if spec:
        name = spec.rpartition(":")[2].rpartition(".")[2]
        for prefix in PREFIXES:
            if name.startswith(prefix + "_") and prefix != "batchnorm":
                return prefix, (f"layer {prefix}, chosen from your function's name {name} "
                                "(--layer chooses another)")
    return "batchnorm", None


def layer_problem(args: argparse.Namespace) -> tuple[LayerProblem | None, str | None]:
    """A `LayerProblem` when the flags ask for anything but plain training-mode batch norm
    (None then: the BN problem of `autograd_bn.cli.common`), and the note of `chosen_layer`."""
    checked_timeout(args)
    layer, note = chosen_layer(args)
    if layer == "batchnorm" and args.mode == "train" and not args.bessel:
        if args.G is not None or args.shape is not None:
            raise ValueError("-G and --shape are for --layer spatial_batchnorm or "
                             "spatial_groupnorm")
        return None, note
    if args.G is not None and layer != "spatial_groupnorm":
        raise ValueError("-G is for --layer spatial_groupnorm")
    shape: tuple[int, ...] | None = None
    if layer.startswith("spatial"):
        if args.shape is not None:
            try:
                shape = tuple(int(n) for n in args.shape.lower().split("x"))
            except ValueError:
                raise ValueError(f"--shape must look like 2x6x4x5, got {args.shape!r}") from None
    else:
        if args.shape is not None:
            raise ValueError("--shape is for the spatial layers; use -N and -D")
        shape = (args.N, args.D)
    return make_layer_problem(layer, shape, args.seed, args.dtype, args.eps, groups=args.G,
                              mode=args.mode, bessel=args.bessel), note


def shape_hint(layer: str, problem: Any) -> str:
    """What ends a shape error: which layer was assumed, and how to choose another."""
    shape = tuple(problem.x.shape)
    others = "|".join(name for name in LAYERS if name != layer)
    return (f" [graded as {LAYERS[layer].title} with x of shape {shape}; if your layer is "
            f"another, choose it with --layer {others}]")
