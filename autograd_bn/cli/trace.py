"""``autograd-bn trace``: BN's backward pass node by node, beside the seed's staged backward."""

from __future__ import annotations

import argparse

from autograd_bn.check.trace import trace_batchnorm
from autograd_bn.cli.common import add_problem_args, problem_from_args
from autograd_bn.cli.layers import add_layer_args, layer_problem
from autograd_bn.cli.memory import check_args
from autograd_bn.text.trace import format_trace


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "trace",
        help="walk BN's backward pass node by node, beside the seed's staged backward",
        description="Walk Batch Normalisation's backward pass in the order the engine runs "
        "it. For every node: the gradient arriving there, and for each input the local "
        "derivative and the contribution sent along that edge; where the seed's staged "
        "backward (d10, d8_3, … dx) has the same quantity, its name and max|engine − seed|.",
        epilog="exit status: 0 every seed intermediate matches, 1 one does not, 2 usage error.",
    )
    parser.add_argument("--json", action="store_true",
                        help="print the trace as JSON: each value and gradient as its first "
                        "values and statistics (shape, mean, min, max)")
    parser.add_argument("--full", action="store_true",
                        help="with --json: every value and gradient in full (about 4 kB per "
                        "element of x)")
    add_problem_args(parser)
    add_layer_args(parser, user=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from autograd_bn.check.trace import trace_layer

    if args.full and not args.json:
        raise ValueError("--full is for --json: the table shows the first values anyway")
    check_args(args, "trace --json --full" if args.full else "trace")
    layer, _ = layer_problem(args)
    trace = trace_batchnorm(problem_from_args(args)) if layer is None else trace_layer(layer)
    print(trace.to_json(full=args.full) if args.json else format_trace(trace))
    return 0 if trace.all_match else 1
