"""Where the time goes at 1024×256: the measurements behind the README's answers to "why".

    python benchmarks/why.py            # about 20 seconds
    python benchmarks/why.py --quick    # a few seconds

Side by side in one process, once the allocator is settled (`bench.settle_allocator`), in
interleaved rounds as `bench.py` takes them (medians, and medians of ratios within a round):

1. numpy's price for a broadcast: an (N, D) array times a (D,) row, against times an (N, D)
   array (numpy copies the row into its iteration buffer again for every row: numpy#13307);
2. the price of handing a task to another thread and getting it back (a thread pool's
   ``submit`` and ``result`` of a call that does nothing), which sharing numpy's work out
   from Python would pay on every op;
3. the engine's BN forward+backward against `plain_numpy_bn`, the same passes in numpy with
   no engine around them (dropping each array once used; and keeping, as the engine does,
   every node's value and gradient), and against torch eager on its own threads and then,
   in rounds of their own at the end, held to one thread, when torch is installed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (benchmarks/bench.py: inputs, methods, timing)

N, D = 1024, 256
Methods = dict[str, Callable[[], object]]


def plain_numpy_bn(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dout: np.ndarray,
                   keep_all: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BN forward+backward as the engine computes it, pass for pass, in numpy alone:
    the same sums (BLAS with a vector of ones; one-pass products for γ and 1/std), the same
    broadcasts. Returns dx, dγ, dβ. Each array is dropped once it is used, unless
    ``keep_all``: then every array the engine keeps (each node's value and gradient) is
    kept to the end of the call, as the engine's graph keeps it."""
    kept: list[np.ndarray] = []

    def held(a: np.ndarray) -> np.ndarray:
        if keep_all:
            kept.append(a)
        return a

    n = x.shape[0]
    ones = np.ones(n, x.dtype)
    mean = ones @ x / n
    centred = x - mean
    var = ones @ held(centred * centred) / n
    std = np.sqrt(var + bench.EPS)
    inv_std = 1 / std
    x_hat = centred * inv_std
    held(held(x_hat * gamma) + beta)  # BN's output: made, as the engine makes it, not needed
    dbeta = ones @ dout
    dgamma = np.einsum("ij,ij->j", dout, x_hat)
    dx_hat = held(dout * gamma)
    dinv_std = np.einsum("ij,ij->j", dx_hat, centred)
    dcentred = held(dx_hat * inv_std)
    dvar = dinv_std * -(inv_std * inv_std) * (0.5 / std)
    dcentred += centred * (2 * dvar / n)
    dmean = -(ones @ dcentred)
    return dcentred + dmean / n, dgamma, dbeta


def broadcast_methods() -> Methods:
    rng = np.random.default_rng(0)
    a, b, row = rng.standard_normal((N, D)), rng.standard_normal((N, D)), rng.standard_normal(D)
    return {"(N, D) · (D,) row": lambda: a * row, "(N, D) · (N, D)": lambda: a * b}


def bn_methods() -> Methods:
    x, gamma, beta, dout = bench.inputs(N, D, "float64")
    contestants = bench.bn_methods(x, gamma, beta, dout)
    methods: Methods = {
        "engine": contestants["engine"],
        "plain numpy, same passes": lambda: plain_numpy_bn(x, gamma, beta, dout),
        "the same, keeping all": lambda: plain_numpy_bn(x, gamma, beta, dout, keep_all=True)}
    if "torch eager" in contestants:
        methods["torch eager"] = contestants["torch eager"]
    return methods


def one_thread_methods() -> Methods:
    """The engine and torch eager, to be timed once torch is held to one thread (last)."""
    contestants = bench.bn_methods(*bench.inputs(N, D, "float64"))
    return {"engine": contestants["engine"], "torch eager, 1 thread": contestants["torch eager"]}


def measure(methods: Methods, rounds: int, target: float) -> list[str]:
    samples = bench.sample_times(methods, rounds, target)
    first = next(iter(methods))
    lines = []
    for name, times in samples.items():
        ratio = "" if name == first else \
            f"   {first} / this: {bench.paired_ratio(samples, first, name):.2f}"
        lines.append(f"  {name:<26}{statistics.median(times) * 1e6:>10.1f} µs{ratio}")
    return lines


def run(quick: bool) -> str:
    rounds, target = (3, 0.002) if quick else (21, 0.02)
    bench.settle_allocator()
    lines = [f"At {N}×{D}, float64, median µs per call (numpy {np.__version__})", "",
             "1. numpy's price for a broadcast"]
    lines += measure(broadcast_methods(), rounds, target)
    with ThreadPoolExecutor(max_workers=1) as pool:
        handoff: Methods = {"to a thread and back": lambda: pool.submit(int).result()}
        lines += ["", "2. handing a call that does nothing to another thread"]
        lines += measure(handoff, rounds, target)
    lines += ["", "3. BN forward+backward"]
    lines += measure(bn_methods(), rounds, target)
    if bench.torch is not None:  # last: torch stays on one thread (switching back slows it)
        bench.hold_torch_to_one_thread()
        lines += ["", "   torch eager held to one thread, as numpy's elementwise ops run"]
        lines += measure(one_thread_methods(), rounds, target)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer, shorter rounds")
    args = parser.parse_args(argv)
    print(run(args.quick))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
