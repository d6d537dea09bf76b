"""``autograd-bn bench``: run the benchmark script from the source tree (benchmarks/bench.py)."""

from __future__ import annotations

import argparse
import runpy
from pathlib import Path

from autograd_bn.cli.memory import BENCH, add_memory_arg, check_memory

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench.py"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="measure the engine against the hand-written passes and torch (medians, ratios)",
        description="Run benchmarks/bench.py from the source tree (it is not installed with "
        "the package): BN forward+backward at four sizes in float64 and the two large ones in "
        "float32 (again with OPENBLAS_NUM_THREADS=1, in a process of its own), per-op "
        "overhead with repeated and with new numbers (and on the plain kernels), a 100,000-op "
        "chain, a training step of makemore's network, peak memory and, with the peers extra "
        "(pip install -e '.[peers]'), HIPS autograd, jax and micrograd: each measured side by "
        "side, with the ratios the engine is held to. Drawing times: benchmarks/render.py.",
        epilog="exit status: 0 when it ran (the checks are reported, not enforced: timings on "
        "a shared machine are noisy), 2 when it could not run.",
    )
    parser.add_argument("--quick", action="store_true",
                        help="fewer rounds: about a minute without the peers")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    add_memory_arg(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_memory(BENCH, args.max_memory, "autograd-bn bench")
    if args.json is not None:  # before a minute of measuring, not after it
        from autograd_bn.cli.common import STDOUT, output_path
        from viz.files import check_writable

        if output_path(args.json, "results.json", (".json",), flag="--json") == STDOUT:
            raise ValueError("--json needs a file: bench prints its table on standard output")
        check_writable(args.json)
    if not SCRIPT.is_file():
        raise FileNotFoundError(
            f"the benchmark script is not here ({SCRIPT}): it ships with the source tree; "
            "clone the repository and install it with `pip install -e .`"
        )
    main = runpy.run_path(str(SCRIPT), run_name="autograd_bn_bench")["main"]
    argv = ["--quick"] if args.quick else []
    if args.json:
        argv += ["--json", args.json]
    return int(main(argv))
