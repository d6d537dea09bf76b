"""``autograd-bn report``: one self-contained HTML page with the graph, comparison and trace.

It takes the flags of ``autograd-bn compare`` (and gives the same errors), plus ``-o``.
Exit status: 0 written and everything agrees, 1 written but a method disagrees with autograd or
a seed intermediate does not match, 2 usage error (nothing written).
"""

from __future__ import annotations

import argparse

from autograd_bn.cli.common import add_problem_args, problem_from_args
from autograd_bn.files import atomic_write
from autograd_bn.report import build_report, check_output_path

DEFAULT_PATH = "bn_report.html"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "report",
        help="write one self-contained HTML page: graph, comparison, trace, dL_mu2",
        description="Write one HTML file that opens offline (nothing is fetched): BN's "
        "forward/backward graph, whose nodes show their value and gradient when hovered or "
        "clicked; the comparison table of `autograd-bn compare`; the trace of `autograd-bn "
        "trace`; and the answer to the seed's dL_mu2 question. Prints the path written; "
        "leaves nothing behind when the file cannot be written.",
        epilog="exit status: 0 written, all agree; 1 written, something disagrees; 2 usage "
        "error (nothing written).",
    )
    parser.add_argument("-o", "--output", metavar="PATH", default=DEFAULT_PATH,
                        help=f"file to write; default {DEFAULT_PATH}")
    add_problem_args(parser)
    user = parser.add_argument_group("your implementation (as for compare)")
    user.add_argument("--forward", metavar="FILE_OR_MODULE:NAME",
                      help="your forward(x, gamma, beta, bn_param) -> (out, cache)")
    user.add_argument("--backward", metavar="FILE_OR_MODULE:NAME",
                      help="your backward(dout, cache) -> (dx, dgamma, dbeta)")
    user.add_argument("--name", default="yours", help="your row's name; default 'yours'")
    run = parser.add_argument_group("what to run (as for compare)")
    run.add_argument("--repeats", type=int, default=None,
                     help="timed calls per backward; default: as many as fit in ~20 ms")
    run.add_argument("--numerical", action=argparse.BooleanOptionalAction, default=None,
                     help="compute the numerical gradient; default: when N·D <= 2500")
    run.add_argument("--torch", action=argparse.BooleanOptionalAction, default=None,
                     help="add a torch.autograd row; default: when torch is installed")
    parser.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    problem = problem_from_args(args)
    # The checks of `autograd-bn compare`, with its messages.
    if args.repeats is not None and args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    if (args.forward is None) != (args.backward is None):
        given, missing = ("--forward", "--backward") if args.backward is None else (
            "--backward", "--forward")
        raise ValueError(f"{given} needs {missing} too: the backward reads the forward's cache")
    if not args.name.strip():
        raise ValueError("--name must not be empty")
    check_output_path(args.output)
    user = None
    if args.forward is not None:
        from autograd_bn.userimpl import load_user_impl

        user = load_user_impl(args.forward, args.backward, args.name.strip())
    report = build_report(problem, user=user, with_torch=args.torch, numerical=args.numerical,
                          repeats=args.repeats)
    print(atomic_write(args.output, report.html))
    return 0 if report.ok else 1
