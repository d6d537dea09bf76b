"""``autograd-bn report``: one self-contained HTML page with the graph, comparison and trace.

It takes the flags of ``autograd-bn compare`` (and gives the same errors), plus ``-o``.
Exit status: 0 written and everything agrees, 1 written but a method disagrees with autograd or
a seed intermediate does not match, 2 usage error (nothing written).
"""

from __future__ import annotations

import argparse
import sys

from autograd_bn.cli.common import (
    STDOUT,
    add_comparison_args,
    add_force_arg,
    add_problem_args,
    comparison_options,
    numerical_wanted,
    output_path,
    print_written,
    problem_from_args,
    write_stdout,
)
from autograd_bn.cli.layers import add_layer_args, layer_problem
from autograd_bn.cli.memory import check_args
from autograd_bn.text.report import build_layer_report, build_report
from viz.files import atomic_write, check_writable

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
    parser.add_argument("-o", "--output", metavar="PATH",
                        help=f"file to write (.html or .htm); default {DEFAULT_PATH}; - for "
                        "standard output. A symbolic link is written through")
    add_force_arg(parser)
    add_problem_args(parser)
    add_comparison_args(parser)
    add_layer_args(parser)
    parser.set_defaults(run=run_report)


def run_report(args: argparse.Namespace) -> int:
    layer, note = layer_problem(args)
    path = output_path(args.output, DEFAULT_PATH, (".html", ".htm"))
    check_args(args, "report", numerical_wanted(args))
    options = comparison_options(args)
    if path != STDOUT:
        check_writable(path, force=args.force)  # before the work, not after it
    if layer is None:
        report = build_report(problem_from_args(args), **options)
    else:
        if args.torch:
            raise ValueError("--torch compares batch norm in training mode only")
        if note is not None:
            print(note, file=sys.stderr)
        report = build_layer_report(layer, **options)
    if path == STDOUT:
        write_stdout(report.html)
    else:
        print_written(atomic_write(path, report.html, force=args.force))
    return 0 if report.ok else 1
