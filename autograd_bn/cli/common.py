"""Flags shared by the subcommands that work on a random BN problem (-N, -D, --seed, …)."""

from __future__ import annotations

import argparse

from autograd_bn.problem import DTYPES, Problem, make_problem


def add_problem_args(parser: argparse.ArgumentParser, *, dtype: bool = True) -> None:
    """Add ``-N``, ``-D``, ``--seed``, ``--eps`` and (unless told not to) ``--dtype``."""
    group = parser.add_argument_group("the BN problem")
    group.add_argument("-N", type=int, default=4, help="batch size (rows of x); default 4")
    group.add_argument("-D", type=int, default=5, help="features (columns of x); default 5")
    group.add_argument("--seed", type=int, default=0, help="random seed; default 0")
    group.add_argument("--eps", type=float, default=1e-5, help="BN's epsilon; default 1e-5")
    if dtype:
        group.add_argument("--dtype", choices=DTYPES, default="float64",
                           help="floating-point type; default float64")


def problem_from_args(args: argparse.Namespace) -> Problem:
    """The `Problem` the flags describe; bad values raise `ValueError` naming the flag."""
    if args.N < 1:
        raise ValueError(f"-N must be at least 1 (BN needs a non-empty batch), got {args.N}")
    if args.D < 1:
        raise ValueError(f"-D must be at least 1, got {args.D}")
    if args.seed < 0:
        raise ValueError(f"--seed must be >= 0, got {args.seed}")
    if not args.eps > 0 or args.eps == float("inf"):
        raise ValueError(f"--eps must be a finite number > 0, got {args.eps}")
    return make_problem(args.N, args.D, args.seed, getattr(args, "dtype", "float64"), args.eps)
