"""``autograd-bn check FILE:FUNCTION``: your hand-written backward pass, name by name, against
the engine's (makemore's ``cmp``).

The function runs in a child process (`autograd_bn.check.userstep.check_in_child`), stopped
after ``--timeout`` seconds; the table is made here from the rows it sends back.

Exit status: 0 when every name is exact or close, 1 when one is wrong (or missing), 2 for bad
input (file or function missing, the function raised, exited, was killed or timed out,
returned the wrong type, or names that cannot be compared).
"""

from __future__ import annotations

import argparse
from typing import Any

from autograd_bn.check.grads import ATOL, RTOL
from autograd_bn.cli.layers import add_timeout_arg, checked_timeout

DESCRIPTION = """\
Run FUNCTION from FILE.py and check, name by name, the gradients it computed by hand against
the engine's: exact (bitwise equal), close (np.allclose), max |diff|, shape; in the order the
backward pass reaches each Tensor, with the first wrong one marked (the place to look)."""

EPILOG = """\
the contract:
  FUNCTION() -- or FUNCTION(seed) with --seed -- builds the forward pass with autograd_bn
  Tensors, calls loss.backward(), and returns (named, manual), two dicts:
    named:  name -> Tensor of the graph (its .grad is the engine's gradient)
    manual: the same name -> your gradient, a numpy array of the Tensor's shape
            (None, or no entry: not written yet, reported as missing)
  A name in manual that named lacks, or a Tensor without a gradient, is bad input.
  example: autograd-bn check examples/backprop_ninja.py:step

FILE.py paths are relative to the current directory; package.module:FUNCTION imports a module.
The function runs in a child process, stopped after --timeout seconds; what it prints
goes to stderr. A hang, sys.exit, os._exit or a signal there is bad input.
exit status: 0 every name exact or close; 1 one is wrong or missing; 2 bad input.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="your hand-written backward pass, name by name, against the engine's (cmp)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", metavar="FILE.py:FUNCTION",
                        help="the function that returns (named, manual); see below")
    parser.add_argument("--seed", type=int, default=None,
                        help="call FUNCTION(seed) instead of FUNCTION()")
    parser.add_argument("--rtol", type=float, default=RTOL,
                        help=f"relative tolerance of close; default {RTOL:g} (numpy's)")
    parser.add_argument("--atol", type=float, default=ATOL,
                        help=f"absolute tolerance of close; default {ATOL:g} (numpy's)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the table")
    add_timeout_arg(parser, "your function")
    parser.set_defaults(run=run_check)


def run_check(args: argparse.Namespace) -> int:
    from autograd_bn.check.userstep import check_in_child
    from autograd_bn.text.grads import format_grads

    for flag in ("rtol", "atol"):
        value = getattr(args, flag)
        if not 0 <= value < float("inf"):
            raise ValueError(f"--{flag} must be a finite number >= 0, got {value}")
    timeout = checked_timeout(args)
    comparison = check_in_child(args.function, args.seed, timeout, rtol=args.rtol,
                                atol=args.atol)
    if args.json:
        print(comparison.to_json())
    else:
        print(format_grads(comparison))
    return comparison.exit_code
