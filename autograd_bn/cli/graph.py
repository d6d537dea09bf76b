"""``autograd-bn graph``: draw BN's computational graph, forward in black, backward in red."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import viz
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.cli.common import (
    STDOUT,
    add_force_arg,
    add_problem_args,
    output_path,
    print_written,
    problem_from_args,
    write_stdout,
)
from autograd_bn.cli.layers import add_layer_args, layer_problem
from autograd_bn.cli.memory import check_args
from viz.files import check_writable
from viz.graph import RANKDIRS
from viz.output import TIMEOUT

DEFAULT_NAME = "bn_graph"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "graph",
        help="draw BN's computational graph (svg, png, pdf or dot)",
        description="Draw Batch Normalisation's computational graph as the seed's table does: "
        "the forward pass top-down in black, the backward pass bottom-up in red, each red "
        "edge labelled with the local derivative the gradient is multiplied by. Prints the "
        "path written.",
        epilog="exit status: 0 written, 2 usage error, the file could not be written or "
        "Graphviz ran out of time (nothing is left behind, no dot left running).",
    )
    parser.add_argument(
        "-o", "--output", metavar="PATH",
        help=f"file to write; default {DEFAULT_NAME}.svg (or .FORMAT) in the current folder; "
        "- for standard output (with --format dot). A symbolic link is written through",
    )
    add_force_arg(parser)
    parser.add_argument(
        "--format", choices=viz.FORMATS,
        help="svg, png, pdf (these need Graphviz's dot program) or dot (DOT source); "
        "default: from the extension of -o, else svg",
    )
    parser.add_argument("--no-backward", dest="backward", action="store_false",
                        help="leave out the red backward edges")
    parser.add_argument("--values", action="store_true",
                        help="show each node's value and gradient (after backward with a "
                        "random dout)")
    parser.add_argument("--rankdir", choices=RANKDIRS, default="TB",
                        help="layout direction: TB top-down (default), LR left-right, …")
    parser.add_argument("--collapse", action="store_true",
                        help="draw BN as one block node (x, γ, β in; one red edge back to "
                        "each, ∂batchnorm/∂x) instead of its twelve nodes")
    parser.add_argument("--timeout", type=float, default=TIMEOUT, metavar="SECONDS",
                        help=f"stop Graphviz after this long; default {TIMEOUT:g}")
    add_problem_args(parser)
    add_layer_args(parser, user=False)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        raise ValueError(f"--timeout must be a number of seconds > 0, got {args.timeout:g}")
    if args.output is None:
        path = f"{DEFAULT_NAME}.{args.format or 'svg'}"
    else:
        path = output_path(args.output, f"{DEFAULT_NAME}.svg", tuple(viz.output.EXTENSIONS),
                           any_extension=True)  # (render's own check says more)
    if path == STDOUT and args.format != "dot":
        raise ValueError("-o - writes to standard output, which takes text: add --format dot "
                         "(svg, png and pdf go to a file)")
    if path != STDOUT:  # before any work: a bad name, folder or file fails at once
        viz.output.output_format(Path(path), args.format)
        check_writable(path, force=args.force)
    check_args(args, "graph --values" if args.values else "graph")
    layer, _ = layer_problem(args)
    if layer is None:
        # It draws shapes, not values, unless --values: then no dout and no backward pass
        problem = problem_from_args(args, with_dout=args.values)
        as_block = {"name": "batchnorm"} if args.collapse else {}
        out = batchnorm(problem.x, problem.gamma, problem.beta, problem.eps, **as_block)
        dout = problem.dout
    else:
        from autograd_bn.bn.layers import build_graph

        if args.collapse:
            raise ValueError("--collapse draws batch norm as one block: it needs --layer "
                             "batchnorm in training mode")
        out, _ = build_graph(layer)
        dout = layer.view(layer.dout)
    if args.values:
        out.backward(dout)
    drawing = {"backward": args.backward, "values": args.values, "rankdir": args.rankdir,
               "collapse": args.collapse}
    if path == STDOUT:
        write_stdout(viz.draw(out, **drawing).source)
        return 0
    written = viz.render(out, path, format=args.format, timeout=args.timeout, force=args.force,
                         **drawing)
    print_written(written)
    return 0
