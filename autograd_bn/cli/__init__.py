"""The ``autograd-bn`` command line: one module per subcommand, registered here.

Each subcommand module has ``register(subparsers)``, which adds its parser and sets
``run(args) -> int`` as the parser's default. Every error a user can cause becomes one line on
stderr and exit status 2; set ``AUTOGRAD_BN_DEBUG=1`` to see the traceback instead.
"""

from __future__ import annotations

import os
import signal
import sys


def _exit_on_interrupt(signum: int, frame: object) -> None:
    """Ctrl-C while starting: one line, exit status 130, no traceback (nothing to clean up)."""
    os.write(2, b"autograd-bn: interrupted\n")
    os._exit(130)


if os.path.basename(sys.argv[0]) in ("autograd-bn", "-m"):  # started as the program: from
    signal.signal(signal.SIGINT, _exit_on_interrupt)  # here on, until main has its imports

import argparse  # noqa: E402
import contextlib  # noqa: E402
import importlib  # noqa: E402
import re  # noqa: E402
import select  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Iterator, Sequence  # noqa: E402
from typing import NoReturn  # noqa: E402

from autograd_bn import __version__  # noqa: E402

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


NUMBER_FLAGS = ("--eps", "--timeout", "-N", "-D", "--seed", "--repeats")
"""Flags whose value may be a negative number: ``--eps -1e-5`` is read as ``--eps=-1e-5``
(argparse would take ``-1e-5`` for a flag), so the error is about the value."""

_NUMBER = re.compile(r"-(\d+\.?\d*|\.\d+)(e[-+]?\d+)?|-inf(inity)?|-nan", re.IGNORECASE)


def join_negative_numbers(argv: Sequence[str]) -> list[str]:
    """``argv`` with each ``FLAG -NUMBER`` of `NUMBER_FLAGS` written ``FLAG=-NUMBER``."""
    joined: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg == "--":
            joined += [arg, *args]
            break
        if arg in NUMBER_FLAGS:
            value = next(args, None)
            if value is not None and _NUMBER.fullmatch(value):
                joined.append(f"{arg}={value}")
                continue
            joined += [arg] if value is None else [arg, value]
            continue
        joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Ctrl-C at any point, even while numpy is still being imported, ends it with one line and
    exit status 130: the package itself imports nothing heavy (`autograd_bn` loads its parts
    when first used), so everything slow happens in here.
    """
    try:
        with _quick_interrupt():  # an import cut short by Ctrl-C fails oddly: stop at once
            parser = build_parser()  # (imports the commands, and with them numpy)
        args = parser.parse_args(join_negative_numbers(sys.argv[1:] if argv is None
                                                       else list(argv)))
        if not hasattr(args, "run"):  # no command: say what there is, as a usage error
            parser.print_help(sys.stderr)
            return 2
        with warnings.catch_warnings():
            _errors_not_warnings()
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


@contextlib.contextmanager
def _quick_interrupt() -> Iterator[None]:
    """While numpy and the commands are imported, Ctrl-C ends the program at once, with one
    line and exit status 130: a KeyboardInterrupt inside numpy's import would come out as an
    unrelated ImportError, and nothing has been started yet that needs cleaning up."""
    try:
        previous = signal.signal(signal.SIGINT, _exit_on_interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler
                      if previous is _exit_on_interrupt else previous)


def _errors_not_warnings() -> None:
    """A hand-written pass that overflowed (`BNOverflowWarning`) is an error here: exit 2."""
    from autograd_bn.bn.overflow import BNOverflowWarning

    warnings.simplefilter("error", BNOverflowWarning)


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
