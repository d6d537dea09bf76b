"""Flags shared by the subcommands that work on a random BN problem (-N, -D, --seed, …)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from autograd_bn.bn.problem import DTYPES, MAX_SEED, Problem, make_problem
from autograd_bn.cli.memory import add_memory_arg


def add_problem_args(parser: argparse.ArgumentParser) -> None:
    """Add ``-N``, ``-D``, ``--seed``, ``--eps`` and ``--dtype``."""
    group = parser.add_argument_group("the BN problem")
    group.add_argument("-N", type=int, default=4, help="batch size (rows of x); default 4")
    group.add_argument("-D", type=int, default=5, help="features (columns of x); default 5")
    group.add_argument("--seed", type=int, default=0, help="random seed; default 0")
    group.add_argument("--eps", type=float, default=1e-5, help="BN's epsilon; default 1e-5")
    group.add_argument("--dtype", choices=DTYPES, default="float64",
                       help="floating-point type; default float64")
    add_memory_arg(group)  # type: ignore[arg-type]  # (a group takes arguments alike)


def problem_from_args(args: argparse.Namespace, *, with_dout: bool = True) -> Problem:
    """The `Problem` the flags describe; bad values raise `ValueError` naming the flag.
    (``with_dout=False``: no dout is drawn, for a forward pass alone.)"""
    if args.N < 1:
        raise ValueError(f"-N must be at least 1 (BN needs a non-empty batch), got {args.N}")
    if args.D < 1:
        raise ValueError(f"-D must be at least 1, got {args.D}")
    if not 0 <= args.seed <= MAX_SEED:
        raise ValueError(f"--seed must be from 0 to 2**32 - 1 = {MAX_SEED}, got {args.seed}")
    if not args.eps > 0 or args.eps == float("inf"):
        raise ValueError(f"--eps must be a finite number > 0, got {args.eps}")
    return make_problem(args.N, args.D, args.seed, args.dtype, args.eps, with_dout=with_dout)


def add_comparison_args(parser: argparse.ArgumentParser) -> None:
    """Flags for what a comparison runs: your layer, repeats, numerical gradient, torch."""
    user = parser.add_argument_group("your implementation")
    user.add_argument("--forward", metavar="FILE_OR_MODULE:NAME",
                      help="your forward(x, gamma, beta, bn_param) -> (out, cache)")
    user.add_argument("--backward", metavar="FILE_OR_MODULE:NAME",
                      help="your backward(dout, cache) -> (dx, dgamma, dbeta)")
    user.add_argument("--name", default="yours", help="your row's name; default 'yours'")
    run = parser.add_argument_group("what to run")
    run.add_argument("--repeats", type=int, default=None,
                     help="timed calls per backward; default: as many as fit in ~20 ms")
    run.add_argument("--numerical", action=argparse.BooleanOptionalAction, default=None,
                     help="compute the numerical gradient; default: when N·D <= 2500")
    run.add_argument("--torch", action=argparse.BooleanOptionalAction, default=None,
                     help="add a torch.autograd row; default: when torch is installed")


def numerical_wanted(args: argparse.Namespace) -> bool:
    """Whether the comparison computes the numerical gradient (its default: N·D <= 2500)."""
    return bool(args.numerical) or (args.numerical is None and args.N * args.D <= 2500)


def comparison_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keyword arguments of `autograd_bn.check.compare.compare` that the flags ask for.

    Checks the flags first (``ValueError`` naming the flag); loads your layer, if given.
    """
    if args.repeats is not None and args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    if (args.forward is None) != (args.backward is None):
        given, missing = ("--forward", "--backward") if args.backward is None else (
            "--backward", "--forward")
        raise ValueError(f"{given} needs {missing} too: the backward reads the forward's cache")
    if not args.name.strip():
        raise ValueError("--name must not be empty")
    if args.forward is None and args.name != "yours":
        raise ValueError("--name names your layer's row: it needs --forward and --backward")
    user = None
    if args.forward is not None:  # loaded and run in a child process, within --timeout
        from autograd_bn.check.userimpl import TIMEOUT, UserSpec

        user = UserSpec(args.forward, args.backward, args.name.strip(),
                        f"your layer: {args.forward} and {args.backward}",
                        getattr(args, "timeout", TIMEOUT))
    return {"user": user, "with_torch": args.torch, "numerical": args.numerical,
            "repeats": args.repeats}


# ---- output files: -o, --force, and '-' for standard output -------------------------------

STDOUT = "-"
"""``-o -``: write to standard output (text formats only: DOT, HTML, JSON)."""


def add_force_arg(parser: argparse.ArgumentParser) -> None:
    """Add ``--force``: replace a write-protected output file."""
    parser.add_argument("--force", action="store_true",
                        help="replace the output file even if it is write-protected")


def output_path(value: str | None, default: str, extensions: tuple[str, ...], *,
                any_extension: bool = False, flag: str = "-o") -> str:
    """The path ``-o`` asks for (``default`` when not given), after checking its name.

    Raises `ValueError` for an empty value (``-o ''`` used to write the default name quietly),
    a name with no stem (``.html``) and, unless ``any_extension`` (another flag sets the
    format), an extension other than ``extensions`` (``report -o x.pdf`` used to write HTML
    into x.pdf). ``-`` (standard output) is returned as it is; so is a folder (refused, as a
    folder, when written).
    """
    if value is None:
        return default
    if value == "":
        raise ValueError(f"{flag} is empty: give a file name (default {default}) or - for "
                         "standard output")
    if value == STDOUT or Path(value).is_dir():
        return value
    name = Path(value).name
    suffix = Path(value).suffix.lower()
    if not suffix and name.startswith(".") and name.lower() in extensions:
        raise ValueError(f"{flag} {value}: {name!r} is a name with no stem, only an extension; "
                         f"name the file, e.g. {Path(default).stem}{name}")
    if suffix not in extensions and not any_extension:
        shown = f"the extension {suffix!r}" if suffix else "no extension"
        raise ValueError(f"{flag} {value} has {shown}, but this command writes "
                         f"{extensions[0][1:].upper()}: name it *{' or *'.join(extensions)}")
    return value


def write_stdout(text: str) -> None:
    """``text`` on standard output, flushed now, so that a failure is seen here (exit 2)."""
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        _drop_stdout()
        raise OSError(exc.errno, f"writing to standard output failed: "
                      f"{exc.strerror or exc}") from exc


def _drop_stdout() -> None:
    """Send what is left in standard output's buffer nowhere: Python would try to flush it
    again at exit, and print a second error."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def print_written(path: str | os.PathLike[str]) -> None:
    """Print the path just written. If standard output fails (``> /dev/full``), the error says
    the file was written and kept: a failure after writing removes nothing of the user's."""
    try:
        print(path)
        sys.stdout.flush()
    except BrokenPipeError:
        raise  # (the reader stopped reading: the command line ends quietly)
    except OSError as exc:
        _drop_stdout()
        raise OSError(exc.errno, f"{path} was written (and is kept), but printing its path "
                      f"failed: standard output: {exc.strerror or exc}") from exc
