"""``autograd-bn compare``: every backward pass against autograd and the numerical gradient.

Exit status: 0 when every method (yours included) agrees with autograd within the dtype's
tolerance, 1 when one does not, 2 for a usage error or a broken user implementation.
"""

from __future__ import annotations

import argparse
from typing import Any

from autograd_bn.cli.common import add_problem_args, problem_from_args

EPILOG = """\
check your own layer (cs231n signatures):
  forward(x, gamma, beta, bn_param) -> (out, cache), bn_param = {"mode": "train", "eps": eps}
  backward(dout, cache) -> (dx, dgamma, dbeta)
  autograd-bn compare --forward layers.py:batchnorm_forward --backward layers.py:batchnorm_backward
FILE.py paths are relative to the current directory; package.module:NAME imports a module.
exit status: 0 all agree with autograd, 1 one disagrees, 2 usage error or broken implementation.
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="every backward pass (and yours) against autograd and the numerical gradient",
        description="Run the engine's autograd, the hand-written backward passes, torch (when\n"
        "installed) and optionally your own layer on one BN problem; print relative errors,\n"
        "agreement and the median time per call.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_problem_args(parser)
    out = parser.add_argument_group("output")
    out.add_argument("--json", action="store_true", help="print JSON instead of the table")
    out.add_argument("--explain", action="store_true",
                     help="explain, with this run's numbers, why keeping dL_mu2 changes dx")
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
    parser.set_defaults(run=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    from autograd_bn.compare import compare, dumps
    from autograd_bn.userimpl import load_user_impl

    problem = problem_from_args(args)
    if args.repeats is not None and args.repeats < 1:
        raise ValueError(f"--repeats must be at least 1, got {args.repeats}")
    if (args.forward is None) != (args.backward is None):
        given, missing = ("--forward", "--backward") if args.backward is None else (
            "--backward", "--forward")
        raise ValueError(f"{given} needs {missing} too: the backward reads the forward's cache")
    if not args.name.strip():
        raise ValueError("--name must not be empty")
    user = None
    if args.forward is not None:
        user = load_user_impl(args.forward, args.backward, args.name.strip())
    comparison = compare(problem, user=user, with_torch=args.torch, numerical=args.numerical,
                         repeats=args.repeats)
    report = None
    if args.explain:
        from autograd_bn.explain import explain_report, format_explain

        report = explain_report(comparison)
    if args.json:
        data = comparison.to_dict()
        if report is not None:
            data["explain"] = report
        print(dumps(data))
    else:
        print(comparison.format_table())
        if report is not None:
            print()
            print(format_explain(report))
    return comparison.exit_code
