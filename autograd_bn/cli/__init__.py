"""The ``autograd-bn`` command line: one module per subcommand, registered here.

Each subcommand module has ``register(subparsers)``, which adds its parser and sets
``run(args) -> int`` as the parser's default. Every error a user can cause becomes one line on
stderr and exit status 2; set ``AUTOGRAD_BN_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Sequence
from typing import NoReturn

from autograd_bn import __version__

COMMANDS: tuple[str, ...] = ("compare", "check", "graph", "trace", "report", "bench")
"""Subcommand modules of this package, in the order ``--help`` lists them."""


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line like every other error of the command line."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"autograd-bn: error: {message} (see: {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="autograd-bn",
        description="Backpropagation made visible: Batch Normalisation's gradient derived by a "
        "small autodiff engine, drawn, traced and compared with hand-written backward passes.",
    )
    parser.add_argument("--version", action="version", version=f"autograd-bn {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"autograd_bn.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):  # no command: say what there is, as a usage error
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.run(args) or 0)
    except BrokenPipeError as exc:
        if not _stdout_closed():
            return _fail(exc)
        # the reader stopped reading (`autograd-bn trace | head`): not an error worth a line
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("autograd-bn: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, never a traceback
        if os.environ.get("AUTOGRAD_BN_DEBUG"):
            raise
        return _fail(exc)


def _fail(exc: BaseException) -> int:
    message = " ".join(str(exc).split()) or type(exc).__name__
    print(f"autograd-bn: error: {message}", file=sys.stderr)
    return 2


def _stdout_closed() -> bool:
    """Whether standard output's reader has gone (rather than some other pipe breaking)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() here, or no real stdout
        return True
