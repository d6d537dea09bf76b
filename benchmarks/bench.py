"""Benchmarks, measured side by side in one process: medians and ratios, never single times.

    python benchmarks/bench.py            # full run (a few minutes)
    python benchmarks/bench.py --quick    # well under a minute without the peers
    python benchmarks/bench.py --json results.json

What is measured (float64 unless said otherwise), in this order:
- BN forward+backward at 4×5, 64×100, 1024×256, 4096×1024 (and float32 at the large sizes) for
  the engine, numpy forward + the seed's staged backward, numpy forward + cs231n's compact
  backward, and, when torch is installed, torch eager autograd on the same primitive graph and
  torch's fused batch_norm;
- per-op overhead: a chain of 1,000 elementwise ops ``y = y * c + d`` on a (4, 5) tensor,
  forward+backward, with the same two numbers throughout and with a new number at every op,
  for the engine and torch eager;
- a 100,000-op chain, per op, against the 1,000-op chain;
- a training step (forward+backward, batch 32) of makemore part 4's network, the example
  examples/backprop_ninja.py: the engine, numpy forward + the example's backward by hand, and
  torch eager on the same ops, each checked first to give the engine's parameter gradients
  (again with ``OPENBLAS_NUM_THREADS=1``, in that part's process);
- peak memory (tracemalloc) of forward+backward for the engine and the hand-written passes;
- BN forward+backward at the float64 sizes again, once the allocator is settled
  (`settle_allocator`): the first run pays for fresh pages where the process's allocator
  gives freed memory back to the kernel between calls, as the issue's table did; this one
  does not. Both runs are checked against the same limits;
- the peers a learner would otherwise pick (the ``peers`` extra; each skipped with a note when
  not installed), each first checked to give the engine's dx, dγ, dβ: HIPS autograd, jax
  eager and jax.jit (compile time apart) at 4×5, 64×100 and 1024×256, micrograd's scalar
  ``Value``s at 4×5;
- in processes of their own, for variables read at import: the chain with new numbers in the
  engine's plain mode (``AUTOGRAD_BN_PLAIN=1``), and BN with ``OPENBLAS_NUM_THREADS=1``
  (OpenBLAS's own threads slow the engine's BLAS sums on a busy machine);
- in a process of its own that imports only numpy, the engine and micrograd (this script
  leaves torch out when ``AUTOGRAD_BN_BENCH_NO_TORCH=1``), per op on a 0-d tensor, the engine
  against micrograd (the chain with a new number at every op): first with Python's cycle
  collector on, as a learner's process has it (the checked ratio), then with it off around the
  timed rounds (``gc.disable()``; reported, not checked). micrograd's ``Value`` makes a
  reference cycle per op (``out._backward`` is a closure over ``out``), so much of its time is
  the collector's, and a full collection rescans every object the process holds: in the main
  process, with torch and jax imported, its time swung 0.45–1.45× the engine's from run to
  run. The engine's tensors make no cycles (reference counting frees them), so the collector
  matters much less to it; the second pair shows how much of micrograd's time is the
  collector's;
- last, the engine against torch eager held to one thread, as numpy's elementwise ops run:
  torch is switched to one thread once and never back (switching back slowed torch eager at
  64×100 30–40× for the rest of a run). Reported, not checked.

Methods are timed in interleaved rounds (each round runs every method for about the same
time, in a random order), so a noisy neighbour slows them all alike; each time is the median
over rounds, and each checked ratio is the median over rounds of the ratio of two methods
within one round.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from autograd_bn import Tensor, batchnorm, manual  # noqa: E402

NO_TORCH_ENV = {"AUTOGRAD_BN_BENCH_NO_TORCH": "1"}  # leave torch out of this process

try:
    if os.environ.get("AUTOGRAD_BN_BENCH_NO_TORCH") == "1":
        raise ImportError("left out (AUTOGRAD_BN_BENCH_NO_TORCH=1)")
    import torch
except ImportError:  # torch is an optional extra
    torch = None  # type: ignore[assignment]

EPS = 1e-5
SIZES = [(4, 5), (64, 100), (1024, 256), (4096, 1024)]
FLOAT32_SIZES = [(1024, 256), (4096, 1024)]


# ---- the contestants ------------------------------------------------------------------------


def inputs(n: int, d: int, dtype: str) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)) * 5 + 12
    gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
    dout = rng.standard_normal((n, d))
    return tuple(a.astype(dtype) for a in (x, gamma, beta, dout))


def bn_methods(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
               dout: np.ndarray) -> dict[str, Callable[[], object]]:
    """Each method does one whole forward+backward on the same inputs."""

    def engine() -> object:
        xt, gt, bt = Tensor(x), Tensor(gamma), Tensor(beta)
        batchnorm(xt, gt, bt, EPS).backward(dout)
        return xt.grad

    def staged() -> object:
        _, cache = manual.batchnorm_forward(x, gamma, beta, EPS)
        return manual.backward_staged(dout, cache)

    def compact() -> object:
        _, cache = manual.batchnorm_forward(x, gamma, beta, EPS)
        return manual.backward_compact(dout, cache)

    methods: dict[str, Callable[[], object]] = {
        "engine": engine, "numpy + staged": staged, "numpy + compact": compact}
    if torch is not None:
        tx, tg, tb, td = (torch.from_numpy(a) for a in (x, gamma, beta, dout))

        def torch_eager() -> object:
            xt, gt, bt = (t.detach().requires_grad_() for t in (tx, tg, tb))
            mean = xt.mean(0)
            centred = xt - mean
            var = (centred**2).mean(0)
            inv_std = (var + EPS).sqrt().reciprocal()
            out = centred * inv_std * gt + bt
            out.backward(td)
            return xt.grad

        def torch_fused() -> object:
            xt, gt, bt = (t.detach().requires_grad_() for t in (tx, tg, tb))
            out = torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=EPS)
            out.backward(td)
            return xt.grad

        methods["torch eager"] = torch_eager
        methods["torch fused"] = torch_fused
    return methods


def hold_torch_to_one_thread() -> None:
    """Hold torch to one thread, as numpy's elementwise ops run, for the rest of the process.

    Never switched back: switching torch to one thread and back (as a wrapper around each call
    did) left torch eager at 64×100 30–40× slower for the rest of a run, so the one-thread
    rounds run last, after everything else has been timed (`run`).
    """
    torch.set_num_threads(1)


def chain(n_ops: int, use_torch: bool = False, new_numbers: bool = False,
          shape: tuple[int, ...] = (4, 5)) -> Callable[[], object]:
    """Forward+backward through ``n_ops`` elementwise ops on a ``shape`` tensor, ``y * c``
    and ``y + d`` in turn: ``y = y * 1.0001 + 0.5`` over and over, or with ``new_numbers``
    ``y = y * c_i + d_i`` with a number at every op that no op has used in this call or the
    last four (the engine keeps at most 1,024 numbers shared; each call uses ``n_ops``)."""
    start: Any = (torch.ones(shape, dtype=torch.float64) if use_torch
                  else np.ones(shape))
    ones = start.clone() if use_torch else start.copy()
    numbers = _numbers(n_ops, new_numbers)

    def run() -> object:
        x = start.detach().requires_grad_() if use_torch else Tensor(start)
        y = x
        for i, number in enumerate(next(numbers)):
            y = y * number if i % 2 == 0 else y + number
        y.backward(ones)
        return x.grad

    return run


def _numbers(n_ops: int, new_numbers: bool) -> Iterator[list[float]]:
    """The numbers of each call of a chain: the same two, or new ones (five sets in turn)."""
    if not new_numbers:
        return itertools.repeat([0.5 if i % 2 else 1.0001 for i in range(n_ops)])
    pool = [(0.5 if i % 2 else 1.0001) + i * 1e-9 for i in range(5 * n_ops)]
    return itertools.cycle([pool[k * n_ops:(k + 1) * n_ops] for k in range(5)])


# ---- a whole network: makemore part 4's training step (examples/backprop_ninja.py) ----------

NINJA = Path(__file__).resolve().parent.parent / "examples" / "backprop_ninja.py"


def ninja() -> dict[str, Any]:
    """The example's functions (it is a script, not a module of the package)."""
    import runpy

    return runpy.run_path(str(NINJA), run_name="backprop_ninja")


def network_methods() -> dict[str, Callable[[], object]]:
    """One training step of the example's network (batch 32: forward, then backward), each
    returning the parameters' gradients by name: the engine (the example's own forward), numpy
    forward + the example's backward by hand, and torch eager autograd on the same ops."""
    example = ninja()
    rng = np.random.default_rng(0)
    params: dict[str, np.ndarray] = example["parameters"](rng)
    xb, yb = example["batch"](rng)
    names = example["PARAMETERS"]

    def engine() -> object:
        t = example["forward"](params, xb, yb)
        t["loss"].backward()
        return {name: t[name].grad for name in names}

    def by_hand() -> object:
        grads = example["manual_backward"](_numpy_forward(params, xb, yb, example["EPS"]), xb, yb)
        return {name: grads[name] for name in names}

    methods: dict[str, Callable[[], object]] = {"engine": engine, "numpy + by hand": by_hand}
    if torch is not None:
        tp = {name: torch.from_numpy(value) for name, value in params.items()}
        tx, ty = torch.from_numpy(xb), torch.from_numpy(yb)

        def torch_eager() -> object:
            p = {name: value.detach().requires_grad_() for name, value in tp.items()}
            _torch_forward(p, tx, ty, example["EPS"]).backward()
            return {name: p[name].grad for name in names}

        methods["torch eager"] = torch_eager
    return methods


def _numpy_forward(p: dict[str, np.ndarray], xb: np.ndarray, yb: np.ndarray,
                   eps: float) -> dict[str, np.ndarray]:
    """The example's forward pass in numpy: every value by name, as its backward reads them."""
    n = len(xb)
    v = dict(p)
    v["emb"] = p["C"][xb]
    v["embcat"] = v["emb"].reshape(n, -1)
    v["hprebn"] = v["embcat"] @ p["W1"] + p["b1"]
    v["bnmeani"] = v["hprebn"].mean(0, keepdims=True)
    v["bndiff"] = v["hprebn"] - v["bnmeani"]
    v["bndiff2"] = v["bndiff"] ** 2
    v["bnvar"] = v["bndiff2"].sum(0, keepdims=True) / (n - 1)
    v["bnvar_inv"] = (v["bnvar"] + eps) ** -0.5
    v["bnraw"] = v["bndiff"] * v["bnvar_inv"]
    v["hpreact"] = p["bngain"] * v["bnraw"] + p["bnbias"]
    v["h"] = np.tanh(v["hpreact"])
    v["logits"] = v["h"] @ p["W2"] + p["b2"]
    v["logit_maxes"] = v["logits"].max(1, keepdims=True)
    v["norm_logits"] = v["logits"] - v["logit_maxes"]
    v["counts"] = np.exp(v["norm_logits"])
    v["counts_sum"] = v["counts"].sum(1, keepdims=True)
    v["counts_sum_inv"] = v["counts_sum"] ** -1
    v["probs"] = v["counts"] * v["counts_sum_inv"]
    v["logprobs"] = np.log(v["probs"])
    v["loss"] = -v["logprobs"][np.arange(n), yb].mean()
    return v


def _torch_forward(p: dict[str, Any], xb: Any, yb: Any, eps: float) -> Any:
    """The example's forward pass with torch's ops, op for op; returns the loss."""
    n = len(xb)
    hprebn = p["C"][xb].view(n, -1) @ p["W1"] + p["b1"]
    bndiff = hprebn - hprebn.mean(0, keepdim=True)
    bnvar = (bndiff**2).sum(0, keepdim=True) / (n - 1)
    hpreact = p["bngain"] * (bndiff * (bnvar + eps) ** -0.5) + p["bnbias"]
    logits = torch.tanh(hpreact) @ p["W2"] + p["b2"]
    counts = (logits - logits.max(1, keepdim=True).values).exp()
    probs = counts * counts.sum(1, keepdim=True) ** -1
    return -probs.log()[torch.arange(n), yb].mean()


def assert_same_network_grads(got: dict[str, Any], want: dict[str, Any], name: str) -> None:
    """``got``'s parameter gradients are ``want``'s, to float64 rounding."""
    for key, w in want.items():
        g = got[key].detach().numpy() if hasattr(got[key], "detach") else got[key]
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12,
                                   err_msg=f"{name}: d{key} differs from the engine's")


# ---- the peers a learner would otherwise pick (the optional `peers` extra) -----------------

PEERS = {"autograd": "HIPS autograd", "jax": "jax", "micrograd": "micrograd"}  # module: name
PEER_SIZES = [(4, 5), (64, 100), (1024, 256)]
MICROGRAD_SIZES = [(4, 5)]  # one Python object per element: the small size only


def installed_peers() -> dict[str, str | None]:
    """Each peer's installed version, or None when it is not installed."""
    from importlib import metadata, util

    found: dict[str, str | None] = {}
    for module in PEERS:
        try:
            found[module] = metadata.version(module) if util.find_spec(module) else None
        except metadata.PackageNotFoundError:
            found[module] = None
    return found


def engine_bn_grads(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                    dout: np.ndarray) -> tuple[np.ndarray, ...]:
    """The engine's dx, dγ, dβ: the reference each peer's are checked against."""
    leaves = Tensor(x), Tensor(gamma), Tensor(beta)
    batchnorm(*leaves, EPS).backward(dout)
    return tuple(np.asarray(leaf.grad) for leaf in leaves)


def _bn_loss(xp: Any) -> Callable[..., Any]:
    """``sum(BN(x, γ, β) * dout)`` written with the array module ``xp`` (autograd.numpy or
    jax.numpy), the same primitive graph as the engine's: its gradient with respect to
    (x, γ, β) is BN's backward pass for the upstream gradient ``dout``."""

    def loss(x: Any, gamma: Any, beta: Any, dout: Any) -> Any:
        mean = xp.mean(x, axis=0)
        centred = x - mean
        var = xp.mean(centred * centred, axis=0)
        inv_std = 1.0 / xp.sqrt(var + EPS)
        return xp.sum((centred * inv_std * gamma + beta) * dout)

    return loss


def hips_autograd_bn(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                     dout: np.ndarray) -> Callable[[], tuple[np.ndarray, ...]]:
    """HIPS autograd: `autograd.grad` of the loss with respect to (x, γ, β), per call."""
    import autograd
    import autograd.numpy as anp

    grad = autograd.grad(_bn_loss(anp), (0, 1, 2))
    return lambda: grad(x, gamma, beta, dout)


def jax_bn(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dout: np.ndarray,
           compiles: int = 3) -> tuple[Callable[[], Any], Callable[[], Any], float]:
    """jax in float64: eager `jax.grad` (op by op) and the same under `jax.jit`, compiled
    before timing; returns both and the median compile time over ``compiles`` fresh jits
    (lowering and compiling, kept out of the per-call time)."""
    import jax

    jax.config.update("jax_enable_x64", True)  # jax computes in float32 otherwise
    args = tuple(jax.numpy.asarray(a) for a in (x, gamma, beta, dout))
    grad = jax.grad(_bn_loss(jax.numpy), argnums=(0, 1, 2))
    seconds = []
    for _ in range(compiles):  # a new function each time: no cached executable
        start = time.perf_counter()
        compiled = jax.jit(lambda *a: grad(*a)).lower(*args).compile()
        seconds.append(time.perf_counter() - start)
    return (lambda: jax.block_until_ready(grad(*args)),
            lambda: jax.block_until_ready(compiled(*args)), statistics.median(seconds))


def micrograd_bn(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray,
                 dout: np.ndarray) -> Callable[[], tuple[np.ndarray, ...]]:
    """micrograd: BN with one scalar `Value` per element, column by column, per call."""
    from micrograd.engine import Value

    n, d = x.shape
    rows, gammas, betas, douts = x.tolist(), gamma.tolist(), beta.tolist(), dout.tolist()

    def run() -> tuple[np.ndarray, ...]:
        xs = [[Value(v) for v in row] for row in rows]
        gs, bs = [Value(v) for v in gammas], [Value(v) for v in betas]
        terms = []
        for j in range(d):
            column = [xs[i][j] for i in range(n)]
            mean = sum(column) * (1.0 / n)
            centred = [v - mean for v in column]
            var = sum(c * c for c in centred) * (1.0 / n)
            inv_std = (var + EPS) ** -0.5
            terms += [(c * inv_std * gs[j] + bs[j]) * douts[i][j] for i, c in enumerate(centred)]
        sum(terms).backward()
        return (np.array([[v.grad for v in row] for row in xs]),
                np.array([g.grad for g in gs]), np.array([b.grad for b in bs]))

    return run


def micrograd_chain(n_ops: int) -> Callable[[], object]:
    """`chain` with new numbers on micrograd's scalar `Value`."""
    from micrograd.engine import Value

    numbers = _numbers(n_ops, True)
    # micrograd sorts the graph recursively: one Python frame per op of the chain
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2 * n_ops + 1000))

    def run() -> object:
        x = Value(1.0)
        y = x
        for i, number in enumerate(next(numbers)):
            y = y * number if i % 2 == 0 else y + number
        y.backward()
        return x.grad

    return run


def peer_bn_methods(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, dout: np.ndarray,
                    found: dict[str, str | None]) -> tuple[dict[str, Callable[[], object]],
                                                           dict[str, float]]:
    """The installed peers' BN forward+backward at this size, each checked first to give the
    engine's dx, dγ, dβ; and jax's compile times (seconds) apart."""
    want = engine_bn_grads(x, gamma, beta, dout)
    methods: dict[str, Callable[[], object]] = {}
    compile_seconds: dict[str, float] = {}
    candidates: list[tuple[str, Callable[[], Any]]] = []
    if found.get("autograd"):
        candidates.append(("HIPS autograd", hips_autograd_bn(x, gamma, beta, dout)))
    if found.get("jax"):
        eager, jitted, compile_seconds["jax jit"] = jax_bn(x, gamma, beta, dout)
        candidates += [("jax eager", eager), ("jax jit", jitted)]
    if found.get("micrograd") and x.shape in MICROGRAD_SIZES:
        candidates.append(("micrograd", micrograd_bn(x, gamma, beta, dout)))
    for name, fn in candidates:
        assert_same_grads(name, fn(), want)
        methods[name] = fn
    return methods, compile_seconds


def assert_same_grads(name: str, got: Any, want: tuple[np.ndarray, ...]) -> None:
    """``got`` (dx, dγ, dβ) is the engine's ``want``, to float64 rounding."""
    for label, g, w in zip(("dx", "dgamma", "dbeta"), got, want, strict=True):
        np.testing.assert_allclose(np.asarray(g), w, rtol=1e-7, atol=1e-9 * np.abs(w).max(),
                                   err_msg=f"{name}: {label} differs from the engine's")


# ---- measuring ------------------------------------------------------------------------------


def calibrate(fn: Callable[[], object], target: float) -> int:
    """How many calls make one timed sample of about ``target`` seconds (at least one)."""
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, int(target / once))


def warm_up(methods: dict[str, Callable[[], object]], seconds: float) -> None:
    """Run each method for a while first: torch's first hundreds of calls are slow ones."""
    for fn in methods.values():
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            fn()


def sample_times(methods: dict[str, Callable[[], object]], rounds: int, target: float,
                 before: Callable[[], object] | None = None) -> dict[str, list[float]]:
    """Seconds per call of each method in each of ``rounds`` interleaved rounds (after one
    warm-up round): a round runs every method in turn, about ``target`` seconds each, and
    calls ``before`` (untimed) before each method's turn when given.

    Each round takes the methods in a new random order (the same orders in every run), so
    each method follows each other one about equally often: a method that leaves the machine
    slower for a while (torch's OpenMP workers spin after its ops; its code and data fill the
    caches) slows the others alike, not always the same one. (Rotating one order would not:
    every method would always follow the same one.)
    """
    counts = {name: calibrate(fn, target) for name, fn in methods.items()}
    samples: dict[str, list[float]] = {name: [] for name in methods}
    names = list(methods)
    orders = random.Random(0)
    for r in range(rounds + 1):
        for name in orders.sample(names, len(names)):
            fn, k = methods[name], counts[name]
            if before is not None:
                before()
            start = time.perf_counter()
            for _ in range(k):
                fn()
            if r:  # round 0 warms up caches and allocators
                samples[name].append((time.perf_counter() - start) / k)
    return samples


def paired_ratio(samples: dict[str, list[float]], a: str, b: str) -> float:
    """The median over rounds of ``a``'s time / ``b``'s time in the same round.

    The two ran back to back in each round, so a slow spell of the machine slows both: the
    ratio within a round is steadier than the ratio of two medians taken apart.
    """
    return statistics.median(x / y for x, y in zip(samples[a], samples[b], strict=True))


def peak_memory(fn: Callable[[], object]) -> int:
    """Peak bytes numpy allocates while ``fn`` runs (tracemalloc sees numpy's buffers)."""
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def settle_allocator() -> None:
    """Free one large block, as a process that has worked on large arrays has done once.

    glibc's malloc hands freed memory back to the kernel once more than its trim threshold
    is free at the top of the heap, and raises that threshold to twice the size of a large
    block the process frees (blocks of up to 32 MB count). Until then the arrays of each
    call can go back to the kernel and return on the next call as fresh pages, which must be
    faulted in: that is the allocation cost the issue's table includes. After this call
    freed memory stays with the process and is reused. (An unused `np.empty` touches no
    memory: it costs microseconds.)
    """
    block = np.empty(31 << 20, np.uint8)  # under glibc's 32 MB cap on the raised threshold
    del block


def measure_bn(cases: list[tuple[int, int, str]], rounds: int, target: float
               ) -> list[dict[str, Any]]:
    """BN forward+backward of every method at each (N, D, dtype): medians and paired ratios."""
    rows = []
    for n, d, dtype in cases:
        methods = bn_methods(*inputs(n, d, dtype))
        samples = sample_times(methods, _rounds_at(n * d, rounds), target)
        times = {name: statistics.median(s) for name, s in samples.items()}
        ratios = {f"engine / {other}": paired_ratio(samples, "engine", other)
                  for other in methods if other != "engine"}
        rows.append({"N": n, "D": d, "dtype": dtype, "seconds": times, "ratios": ratios})
        _progress(f"BN {n}×{d} {dtype}", times)
    return rows


def measure_one_thread_last(rows: list[dict[str, Any]], rounds: int, target: float) -> None:
    """The engine against torch eager held to one thread, at each of ``rows``' sizes, in
    rounds of their own, added to the rows (reported, not checked). This holds torch to one
    thread for good: call it after everything else has been timed."""
    hold_torch_to_one_thread()
    for row in rows:
        methods = bn_methods(*inputs(row["N"], row["D"], row["dtype"]))
        pair = {"engine": methods["engine"], "torch eager, 1 thread": methods["torch eager"]}
        samples = sample_times(pair, _rounds_at(row["N"] * row["D"], rounds), target)
        row["seconds"]["torch eager, 1 thread"] = statistics.median(
            samples["torch eager, 1 thread"])
        row["ratios"]["engine / torch eager, 1 thread"] = paired_ratio(
            samples, "engine", "torch eager, 1 thread")


def measure_network(rounds: int, target: float) -> dict[str, Any]:
    """A training step of the example's network (`network_methods`), every method checked
    first to give the engine's parameter gradients: medians and paired ratios to the engine."""
    methods = network_methods()
    want = methods["engine"]()
    for name, fn in methods.items():
        assert_same_network_grads(fn(), want, name)  # type: ignore[arg-type]
    warm_up(methods, 0.05)
    samples = sample_times(methods, rounds, target)
    times = {name: statistics.median(s) for name, s in samples.items()}
    _progress("network step", times)
    return {"batch": 32, "seconds": times,
            "ratios": {f"engine / {other}": paired_ratio(samples, "engine", other)
                       for other in methods if other != "engine"}}


def measure_chains(rounds: int, target: float) -> tuple[dict[str, float], dict[str, float]]:
    """Per-op overhead of the 1,000-op chains (the same two numbers; a new number at every
    op), for the engine and torch: seconds per op, and the engine's paired ratios to torch."""
    methods = {"engine": chain(1000), "engine, new numbers": chain(1000, new_numbers=True)}
    if torch is not None:
        methods["torch"] = chain(1000, use_torch=True)
        methods["torch, new numbers"] = chain(1000, use_torch=True, new_numbers=True)
    samples = sample_times(methods, rounds, target)
    per_op = {name: statistics.median(v) / 1000 for name, v in samples.items()}
    ratios = {}
    if torch is not None:
        ratios["engine / torch"] = paired_ratio(samples, "engine", "torch")
        ratios["engine / torch, new numbers"] = paired_ratio(
            samples, "engine, new numbers", "torch, new numbers")
    _progress("per op", per_op, scale=1e6, unit="µs")
    return per_op, ratios


def measure_peers(rounds: int, target: float) -> dict[str, Any]:
    """BN forward+backward of the engine against each installed peer at `PEER_SIZES`
    (micrograd at `MICROGRAD_SIZES`), each peer checked first to give the engine's gradients.
    (Per op on a 0-d tensor, ``per_op_0d``, is measured in a process of its own: `run`.)"""
    found = installed_peers()
    peers: dict[str, Any] = {"installed": found, "bn": [], "per_op_0d": None}
    if not any(found.values()):
        return peers
    for n, d in PEER_SIZES:
        x, gamma, beta, dout = inputs(n, d, "float64")
        methods, compile_seconds = peer_bn_methods(x, gamma, beta, dout, found)
        if not methods:
            continue
        methods = {"engine": bn_methods(x, gamma, beta, dout)["engine"], **methods}
        warm_up(methods, 0.05)
        samples = sample_times(methods, _rounds_at(n * d, rounds), target)
        times = {name: statistics.median(s) for name, s in samples.items()}
        peers["bn"].append({
            "N": n, "D": d, "dtype": "float64", "seconds": times,
            "ratios": {f"engine / {other}": paired_ratio(samples, "engine", other)
                       for other in methods if other != "engine"},
            "compile_seconds": compile_seconds})
        _progress(f"peers, BN {n}×{d}", times)
    return peers


PER_OP_0D_TARGET = 0.25
"""Seconds of each method's turn in a round of the 0-d pair. micrograd's full collections
come every ten calls or so and cost it several calls' time: in turns of 0.02 s (2–4 calls)
most turns hold none, so the median over rounds left them out in some processes and not in
others (micrograd's turns took 2–41 µs per op in one process; the ratio swung 0.4–1.2 between
processes). Turns of 0.25 s each hold a few, and the ratio held at 0.38–0.42."""


def measure_per_op_0d(rounds: int, target: float) -> dict[str, Any]:
    """Per op on a 0-d tensor, the engine against micrograd (`chain` and `micrograd_chain`, a
    new number at every op), both checked first to give the same dy/dx: with Python's cycle
    collector as the process has it (the checked ratio), then in rounds of their own with the
    collector off (``gc.disable()`` after a ``gc.collect()``; each method's turn starts with a
    ``gc.collect()``, untimed, else micrograd's cycles, 1.4 MB a call, would pile up).

    Meant for a process of its own (`run_part`): a full collection rescans every object the
    process holds, so micrograd's time depends on what else is imported; ``imported`` and
    ``gc_objects`` say what this process held. With the collector on, cycles micrograd leaves
    at the end of its turn may be collected in the engine's: if anything, against the engine.
    Take turns of `PER_OP_0D_TARGET` seconds."""
    pair = {"engine": chain(1000, new_numbers=True, shape=()),
            "micrograd": micrograd_chain(1000)}
    np.testing.assert_allclose(np.asarray(pair["micrograd"]()), np.asarray(pair["engine"]()),
                               rtol=1e-12, err_msg="micrograd: dy/dx differs from the engine's")
    gc.collect()
    held = {"imported": sorted(name for name in {m.split(".")[0] for m in sys.modules}
                               - sys.stdlib_module_names if not name.startswith("_")),
            "gc_objects": len(gc.get_objects()), "gc_threshold": list(gc.get_threshold())}
    samples = {"on": sample_times(pair, rounds, target)}
    gc.collect()
    gc.disable()
    try:
        samples["off"] = sample_times(pair, rounds, target, before=gc.collect)
    finally:
        gc.enable()
    found: dict[str, dict[str, Any]] = {}
    for key, got in samples.items():
        per_op = {name: statistics.median(s) / 1000 for name, s in got.items()}
        found[key] = {"seconds": per_op, "ratio": paired_ratio(got, "engine", "micrograd")}
        _progress(f"per op on a 0-d tensor, gc {key}", per_op, scale=1e6, unit="µs")
    return {**found["on"], "gc_disabled": found["off"], **held}


def _rounds_at(size: int, rounds: int) -> int:
    return rounds if size < 10**6 else max(3, rounds // 3)


def _progress(what: str, seconds: dict[str, float], scale: float = 1e3,
              unit: str = "ms") -> None:
    print(f"  {what}: " + ", ".join(f"{k} {v * scale:.3f} {unit}" for k, v in seconds.items()),
          file=sys.stderr)


# ---- parts run in a process of their own (for variables read at import) ---------------------

PLAIN_ENV = {"AUTOGRAD_BN_PLAIN": "1"}  # the engine's plain numpy kernels (read at import)
ONE_BLAS_THREAD_ENV = {"OPENBLAS_NUM_THREADS": "1"}  # read when numpy loads OpenBLAS


def run_part(part: str, quick: bool) -> dict[str, Any]:
    """One part of the run, in this process: ``per-op`` (the chains with a new number at
    every op, engine and torch), ``bn`` (BN at the float64 sizes as the allocator is found,
    then settled; a quick run leaves out 4096×1024) or ``per-op-0d`` (`measure_per_op_0d`)."""
    rounds, target = _rounds_and_target(quick)
    seen = {"environment": {k: os.environ.get(k)
                            for k in {**PLAIN_ENV, **ONE_BLAS_THREAD_ENV, **NO_TORCH_ENV}}}
    if part == "per-op-0d":
        return {**seen, **measure_per_op_0d(max(3, rounds // 3),
                                            0.1 if quick else PER_OP_0D_TARGET)}
    if part == "per-op":
        per_op, ratios = measure_chains(rounds, target)
        keep = ("engine, new numbers", "torch, new numbers")
        return {**seen, "chains": {k: v for k, v in per_op.items() if k in keep},
                "chain_ratios": {k: v for k, v in ratios.items() if "new numbers" in k}}
    if part == "bn":
        warm_up(bn_methods(*inputs(4, 5, "float64")), 0.1 if quick else 0.5)
        cases = [(n, d, "float64") for n, d in SIZES if not quick or n * d < 10**6]
        found = measure_bn(cases, rounds, target)
        settle_allocator()
        return {**seen, "bn": found, "bn_settled": measure_bn(cases, rounds, target),
                "network": measure_network(rounds, target)}
    raise ValueError(f"no such part: {part}")


def run_in_subprocess(part: str, env: dict[str, str], quick: bool) -> dict[str, Any]:
    """`run_part` in a new Python process with ``env`` added to this one's environment, as
    variables read at import need; its results, with ``env``, or ``{"error": ...}``."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "part.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--part", part,
                   "--json", str(out)] + (["--quick"] if quick else [])
        done = subprocess.run(command, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
        sys.stderr.write("".join(f"  [{_env_text(env)}] {line}\n"
                                 for line in done.stderr.strip().splitlines()))
        if done.returncode != 0 or not out.is_file():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            return {"env": env, "error": f"exit status {done.returncode}: {last}"}
        return {"env": env, **json.loads(out.read_text(encoding="utf-8"))}


def _env_text(env: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in env.items())


# ---- the run --------------------------------------------------------------------------------


def _rounds_and_target(quick: bool) -> tuple[int, float]:
    return (5, 0.004) if quick else (41, 0.02)


def run(quick: bool) -> dict[str, Any]:
    rounds, target = _rounds_and_target(quick)
    results: dict[str, Any] = {
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "torch": None if torch is None else torch.__version__,
                    "torch_threads": None if torch is None else torch.get_num_threads(),
                    "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS"),
                    "processor": platform.machine(), "cpus": _cpus()},
        "quick": quick, "bn": [], "chains": {}, "memory": [],
    }
    cases = [(n, d, "float64") for n, d in SIZES] + [(n, d, "float32") for n, d in FLOAT32_SIZES]
    warm_up(bn_methods(*inputs(4, 5, "float64")), 0.1 if quick else 0.5)
    results["bn"] = measure_bn(cases, rounds, target)  # the allocator as the process left it

    results["chains"], chain_ratios = measure_chains(rounds, target)
    # the long chain against the short one, in rounds of their own (one long call per round)
    long = sample_times({"engine 100k": chain(100_000), "engine": chain(1000)},
                        1 if quick else 5, target)
    results["chains"]["engine 100k"] = statistics.median(long["engine 100k"]) / 100_000
    long_per_op = {"100k": [t / 100_000 for t in long["engine 100k"]],
                   "1k": [t / 1000 for t in long["engine"]]}
    chain_ratios["100k / 1k"] = paired_ratio(long_per_op, "100k", "1k")
    results["chain_ratios"] = chain_ratios
    results["network"] = measure_network(rounds, target)

    for n, d in ([(1024, 256)] if quick else [(1024, 256), (4096, 1024)]):
        methods = bn_methods(*inputs(n, d, "float64"))
        results["memory"].append({"N": n, "D": d, "bytes": {
            name: peak_memory(methods[name])
            for name in ("engine", "numpy + staged", "numpy + compact")}})

    settle_allocator()  # then BN again, with no fresh pages (this cannot be undone)
    results["bn_settled"] = measure_bn([(n, d, "float64") for n, d in SIZES], rounds, target)
    results["peers"] = measure_peers(rounds, target)
    # what is read at import needs a process of its own
    results["plain"] = run_in_subprocess("per-op", PLAIN_ENV, quick)
    results["one_blas_thread"] = run_in_subprocess("bn", ONE_BLAS_THREAD_ENV, quick)
    if results["peers"]["installed"].get("micrograd"):  # away from torch's and jax's objects
        results["peers"]["per_op_0d"] = run_in_subprocess("per-op-0d", NO_TORCH_ENV, quick)
    if torch is not None:  # last: this holds torch to one thread for good
        measure_one_thread_last(results["bn_settled"], rounds, target)
    results["checks"] = checks(results)
    return results


def _cpus() -> int:
    return os.cpu_count() or 0


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The ratios the engine is held to (issue 6 and the peers), each measured in this run:
    times are compared round by round (`paired_ratio`), memory as measured."""
    out: list[dict[str, Any]] = []

    def check(what: str, ratio: float, limit: float) -> None:
        out.append({"check": what, "ratio": ratio, "limit": limit, "ok": ratio <= limit})

    for row, regime in _bn_runs(results):
        if row["dtype"] != "float64":
            continue
        r, size = row["ratios"], f"{row['N']}×{row['D']}{regime}"
        small = row["N"] * row["D"] <= 64 * 100
        if "engine / torch eager" in r:
            check(f"engine / torch eager, {size}", r["engine / torch eager"],
                  0.5 if small else 1.0)
        check(f"engine / numpy + staged, {size}", r["engine / numpy + staged"],
              3.0 if small else 1.0)
        if row["N"] == 4096:
            check(f"engine / numpy + compact, {size}", r["engine / numpy + compact"], 1.5)
    chains = results["chain_ratios"]
    if "engine / torch" in chains:
        check("per-op overhead, engine / torch", chains["engine / torch"], 0.5)
    if "engine / torch, new numbers" in chains:
        check("per-op overhead, a new number at every op, engine / torch",
              chains["engine / torch, new numbers"], 0.5)
    check("per op, 100k chain / 1k chain", chains["100k / 1k"], 2.0)
    for network, where in ((results.get("network"), ""),
                           ((results.get("one_blas_thread") or {}).get("network"),
                            f", {_env_text(ONE_BLAS_THREAD_ENV)}")):
        if network and "engine / torch eager" in network["ratios"]:
            check(f"network step (batch 32){where}, engine / torch eager",
                  network["ratios"]["engine / torch eager"], 0.5)
    for row in results["memory"]:
        b = row["bytes"]
        check(f"peak memory, engine / numpy + staged, {row['N']}×{row['D']}",
              b["engine"] / b["numpy + staged"], 1.5)
    peers = results.get("peers") or {}
    for row in peers.get("bn", []):
        if "engine / HIPS autograd" in row["ratios"]:
            check(f"engine / HIPS autograd, {row['N']}×{row['D']}",
                  row["ratios"]["engine / HIPS autograd"],
                  0.5 if row["N"] * row["D"] <= 64 * 100 else 1.0)
    zero_d = peers.get("per_op_0d") or {}
    if "ratio" in zero_d:  # in a process of its own, the cycle collector on (older runs: here)
        check("per op on a 0-d tensor, engine / micrograd", zero_d["ratio"], 1.0)
    return out


def report(results: dict[str, Any]) -> str:
    """The tables: medians per method and size, then each checked ratio, then the ratios
    reported but not checked."""
    machine = results["machine"]
    lines = [f"autograd-bn benchmarks ({'quick' if results['quick'] else 'full'} run) — "
             f"Python {machine['python']}, numpy {machine['numpy']}, "
             f"torch {machine['torch'] or 'not installed'}, {machine['cpus']} CPUs, "
             f"OPENBLAS_NUM_THREADS {machine.get('OPENBLAS_NUM_THREADS') or 'unset'}", "",
             "BN forward+backward, median ms per call"]
    lines += _bn_table(results["bn"])
    if "bn_settled" in results:
        lines += ["", "The same once the allocator is settled (freed memory is kept and reused, "
                  "no fresh pages)"]
        lines += _bn_table(results["bn_settled"])
    lines += _one_blas_thread_section(results.get("one_blas_thread"))
    lines += _chains_section(results)
    lines += _network_section(results)
    lines += _peers_section(results.get("peers"))
    lines += ["", "Peak memory of forward+backward (tracemalloc), MB"]
    for row in results["memory"]:
        lines.append(f"  {row['N']}×{row['D']}: " + ", ".join(
            f"{k} {v / 2**20:.1f}" for k, v in row["bytes"].items()))
    lines += ["", "Checks (ratio ≤ limit; a time ratio is the median over rounds of the ratio "
              "within a round)"]
    for c in results["checks"]:
        verdict = "ok" if c["ok"] else "MISSED"
        lines.append(f"  {c['check']:<61}{c['ratio']:>7.3f} ≤ {c['limit']:<4} {verdict}")
    passed = sum(c["ok"] for c in results["checks"])
    lines.append(f"  {passed} of {len(results['checks'])} checks passed")
    unchecked = _unchecked(results)
    if unchecked:
        width = max(63, max(len(what) for what, _ in unchecked) + 4)
        lines += ["", "Not checked (reported only)"]
        lines += [f"  {what}".ljust(width) + f"{ratio:>7.3f}" for what, ratio in unchecked]
    return "\n".join(lines)


def _one_blas_thread_section(part: dict[str, Any] | None) -> list[str]:
    if not part:
        return []
    title = (f"BN with {_env_text(part['env'])} (a process of its own: OpenBLAS reads it when "
             "numpy loads), median ms per call")
    if "error" in part:
        return ["", f"{title}: not measured ({part['error']})"]
    return (["", f"{title}, as the allocator is found"] + _bn_table(part["bn"])
            + ["", "  the same once settled"] + _bn_table(part["bn_settled"]))


def _chains_section(results: dict[str, Any]) -> list[str]:
    """Per op: the same two numbers, a new number at every op (and so in plain mode)."""
    per_op, ratios = results["chains"], results["chain_ratios"]
    lines = ["", "Per-op overhead (a 1,000-op chain y = y·c + d on a (4, 5) tensor, "
             "forward+backward), µs per op",
             f"{'':<36}{'engine':>10}{'torch':>10}{'engine / torch':>16}"]
    plain = results.get("plain") or {}
    rows = [("the same two numbers", per_op, "", ratios.get("engine / torch")),
            ("a new number at every op", per_op, ", new numbers",
             ratios.get("engine / torch, new numbers"))]
    if "chains" in plain:
        rows.append((f"the same, {_env_text(plain['env'])}", plain["chains"], ", new numbers",
                     plain["chain_ratios"].get("engine / torch, new numbers")))
    for label, times, suffix, ratio in rows:
        if f"engine{suffix}" not in times:
            continue
        torch_time = times.get(f"torch{suffix}")
        lines.append(f"  {label:<34}{times[f'engine{suffix}'] * 1e6:>10.2f}"
                     + (f"{torch_time * 1e6:>10.2f}" if torch_time else f"{'—':>10}")
                     + (f"{ratio:>16.3f}" if ratio is not None else ""))
    lines.append(f"  {'engine, a 100,000-op chain':<34}{per_op['engine 100k'] * 1e6:>10.2f}")
    if "error" in plain:
        lines.append(f"  {_env_text(plain['env'])}: not measured ({plain['error']})")
    return lines


def _network_section(results: dict[str, Any]) -> list[str]:
    """The example's training step, in this process and with OpenBLAS on one thread."""
    found = [("this process", results.get("network")),
             (_env_text(ONE_BLAS_THREAD_ENV),
              (results.get("one_blas_thread") or {}).get("network"))]
    runs: list[tuple[str, dict[str, Any]]] = [(where, row) for where, row in found if row]
    if not runs:
        return []
    names = list(dict.fromkeys(name for _, row in runs for name in row["seconds"]))
    labels = [*names, *(f"engine / {other}" for other in names[1:])]
    width = max(len(label) for label in labels) + 4
    lines = ["", "A training step of makemore part 4's network (examples/backprop_ninja.py, "
             "batch 32, forward+backward), median ms per call; ratios: median over rounds",
             " " * width + "".join(f"{where:>26}" for where, _ in runs)]
    for label in labels:
        key, scale = ("ratios", 1.0) if label.startswith("engine / ") else ("seconds", 1e3)
        lines.append(f"  {label}".ljust(width) + "".join(
            f"{row[key][label] * scale:>26.3f}" if label in row[key] else f"{'—':>26}"
            for _, row in runs))
    return lines


def _peers_section(peers: dict[str, Any] | None) -> list[str]:
    if not peers:
        return []
    found = peers["installed"]
    versions = ", ".join(f"{PEERS[m]} {v}" for m, v in found.items() if v)
    lines = ["", f"Peers ({versions or 'none installed'}), BN forward+backward once the "
             "allocator is settled, median ms per call"]
    if peers["bn"]:
        lines += _bn_table(peers["bn"])
        lines.append("  jax jit's compile time (median of three compiles, not in its per-call "
                     "time), ms: " + ", ".join(
                         f"{r['N']}×{r['D']} {r['compile_seconds']['jax jit'] * 1e3:.0f}"
                         for r in peers["bn"] if "jax jit" in r["compile_seconds"]))
    lines += _per_op_0d_lines(peers.get("per_op_0d"))
    lines += [f"  {PEERS[m]}: not installed (pip install -e '.[peers]')"
              for m, v in found.items() if not v]
    return lines


def _per_op_0d_lines(part: dict[str, Any] | None) -> list[str]:
    """Per op on a 0-d tensor: one line as older runs measured it (in the main process), or
    the process of its own with the cycle collector on and off."""
    if not part:
        return []
    what = "per op on a 0-d tensor (a 1,000-op chain, a new number at every op)"
    if "error" in part:
        return [f"  {what}: not measured ({part['error']})"]

    def times(row: dict[str, Any]) -> str:
        s = row["seconds"]
        return f"engine {s['engine'] * 1e6:.2f}, micrograd {s['micrograd'] * 1e6:.2f}"

    if "gc_disabled" not in part:
        return [f"  {what}, µs: {times(part)}"]
    return [f"  {what}, µs, in a process of its own that imports only "
            f"{', '.join(part['imported'])} ({part['gc_objects']:,} objects for Python's "
            "cycle collector to scan):",
            f"    the collector on, as a learner's process has it (checked): {times(part)}",
            f"    the collector off (gc.disable(), not checked): {times(part['gc_disabled'])}; "
            "micrograd makes a reference cycle per op, the engine none"]


def _unchecked(results: dict[str, Any]) -> list[tuple[str, float]]:
    """The ratios reported but not held to a limit, with what each is."""
    out = [(f"engine / torch eager, 1 thread (timed last), {row['N']}×{row['D']}{regime}",
            row["ratios"]["engine / torch eager, 1 thread"])
           for row, regime in _bn_runs(results)
           if "engine / torch eager, 1 thread" in row["ratios"]]
    part = results.get("one_blas_thread") or {}
    if "bn" in part:
        env = _env_text(part["env"])
        for rows, regime in ((part["bn"], ""), (part["bn_settled"], ", settled")):
            for row in rows:
                for name in ("engine / torch eager", "engine / numpy + staged"):
                    if name in row["ratios"]:
                        out.append((f"{env}: {name}, {row['N']}×{row['D']}{regime}",
                                    row["ratios"][name]))
    plain = results.get("plain") or {}
    if "engine / torch, new numbers" in plain.get("chain_ratios", {}):
        out.append((f"{_env_text(plain['env'])}: per op, a new number at every op, "
                    "engine / torch", plain["chain_ratios"]["engine / torch, new numbers"]))
    for row in (results.get("peers") or {}).get("bn", []):
        for name, ratio in row["ratios"].items():
            if name != "engine / HIPS autograd":
                out.append((f"{name}, {row['N']}×{row['D']}", ratio))
    off = ((results.get("peers") or {}).get("per_op_0d") or {}).get("gc_disabled")
    if off:
        out.append(("per op on a 0-d tensor, the cycle collector off, engine / micrograd",
                    off["ratio"]))
    return out


def _bn_runs(results: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """Every BN row with the run it belongs to: "" (as found) or ", settled"."""
    return ([(row, "") for row in results["bn"]]
            + [(row, ", settled") for row in results.get("bn_settled", [])])


def _bn_table(rows: list[dict[str, Any]]) -> list[str]:
    """Medians in ms, a method per line and a size per column ("—": not timed there)."""
    names = list(dict.fromkeys(name for r in rows for name in r["seconds"]))
    cols = [f"{r['N']}×{r['D']}" + (" f32" if r["dtype"] == "float32" else "") for r in rows]
    width = max(len(n) for n in names) + 2
    lines = [" " * width + "".join(f"{c:>14}" for c in cols)]
    for name in names:
        cells = "".join(f"{r['seconds'][name] * 1e3:>14.3f}" if name in r["seconds"]
                        else f"{'—':>14}" for r in rows)
        lines.append(f"{name:<{width}}{cells}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (under a minute)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--part", choices=["per-op", "bn", "per-op-0d"],
                        help="measure only this part and write it as JSON (the full run runs "
                        "these in processes of their own, for variables read at import)")
    args = parser.parse_args(argv)
    if args.part:  # measured before viz is imported: the 0-d part's process holds no more
        part = run_part(args.part, args.quick)
        if args.json:
            from viz.files import atomic_write

            atomic_write(args.json, json.dumps(part, indent=2) + "\n")
        return 0
    from viz.files import atomic_write, check_writable

    if args.json:
        check_writable(args.json)  # before minutes of measuring, not after
    results = run(args.quick)
    print(report(results))
    if args.json:
        atomic_write(args.json, json.dumps(results, indent=2) + "\n")
    return 0  # the checks are reported, not enforced: timings on a shared machine are noisy


if __name__ == "__main__":
    raise SystemExit(main())
