"""``autograd-bn compare``: every backward pass against autograd and the numerical gradient.

Exit status: 0 when every method (yours included) agrees with autograd within the dtype's
tolerance, 1 when one does not, 2 for a usage error or a broken user implementation.
"""

from __future__ import annotations

import argparse
from typing import Any

from autograd_bn.cli.common import (
    add_comparison_args,
    add_problem_args,
    comparison_options,
    numerical_wanted,
    problem_from_args,
)
from autograd_bn.cli.layers import add_layer_args, chosen_layer, layer_problem, shape_hint
from autograd_bn.cli.memory import check_args
from autograd_bn.text.table import format_table

EPILOG = """\
check your own layer (cs231n signatures):
  forward(x, gamma, beta, bn_param) -> (out, cache), bn_param = {"mode": "train", "eps": eps}
  backward(dout, cache) -> (dx, dgamma, dbeta)
  autograd-bn compare --forward layers.py:batchnorm_forward --backward layers.py:batchnorm_backward
other layers: --layer layernorm|spatial_batchnorm|spatial_groupnorm (-G), --mode test, --bessel;
functions named layernorm_*, spatial_batchnorm_*, spatial_groupnorm_* choose their layer.
Your layer runs in a child process, stopped after --timeout seconds.
FILE.py paths are relative to the current directory; package.module:NAME imports a module.
exit status: 0 all agree with autograd; 1 one disagrees, or autograd disagrees with the
numerical gradient (SUSPECT); 2 usage error or broken implementation.
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
    add_comparison_args(parser)
    add_layer_args(parser)
    parser.set_defaults(run=run_compare)


def run_compare(args: argparse.Namespace) -> int:
    import dataclasses

    from autograd_bn.check.compare import compare, dumps
    from autograd_bn.check.family import compare_layer

    check_args(args, "compare", numerical_wanted(args))
    layer_prob, note = layer_problem(args)
    problem = problem_from_args(args) if layer_prob is None else layer_prob
    options = comparison_options(args)
    hint = shape_hint(chosen_layer(args)[0], problem) if options["user"] is not None else ""
    if layer_prob is None:
        comparison = compare(problem, **options, hint=hint)  # type: ignore[arg-type]
    else:
        if args.explain:
            raise ValueError("--explain answers batch norm's dL_mu2 question: it needs "
                             "--layer batchnorm in training mode without --bessel")
        if args.torch:
            raise ValueError("--torch compares batch norm in training mode only")
        comparison = compare_layer(layer_prob, user=options["user"],
                                   numerical_grad=options["numerical"],
                                   repeats=options["repeats"], hint=hint)
    if note is not None:
        comparison = dataclasses.replace(comparison, notes=(note, *comparison.notes))
    report = None
    if args.explain:
        from autograd_bn.check.explain import explain_report
        from autograd_bn.text.explain import format_explain

        report = explain_report(comparison)
    if args.json:
        data = comparison.to_dict()
        if report is not None:
            data["explain"] = report
        print(dumps(data))
    else:
        print(format_table(comparison))
        if report is not None:
            print()
            print(format_explain(report))
    return comparison.exit_code
