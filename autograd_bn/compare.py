"""Every backward pass on the same inputs, checked against the engine and a numerical gradient.

`compare` runs the engine's autograd (the reference), the four hand-written passes of
`autograd_bn.manual`, torch.autograd when torch is importable, and optionally your own
cs231n-style layer (`autograd_bn.userimpl`). For dx, dgamma and dbeta of each it measures,
against the autograd result and against the numerical gradient: the largest absolute
difference, cs231n's relative error, exact equality and `numpy.allclose`; and the median time
of one backward call over repeated calls.

Agreement ("allclose") means ``|a − ref| ≤ tol·|ref| + tol·scale`` elementwise, with
``tol = √(machine epsilon)`` of the dtype (1.5e-8 for float64, 3.5e-4 for float32) and
``scale`` the size of the terms the gradient is a sum of (``max|γ·dout/σ|`` for dx,
``max Σ|dout·x̂|`` for dgamma, ``max Σ|dout|`` for dbeta, ``max(|γ·x̂| + |β|)`` for the
forward output). Rounding error is proportional to those terms, not to the result: when they
cancel (dx is 0 for N = 1 and nearly 0 for N = 2) only rounding noise is left, and cs231n's
relative error reads it as 1. A wrong formula is off by a fraction of ``scale`` itself.

Below float64 the reference itself is inexact: for badly conditioned batches (``|x| ≫ σ``,
where ``x − μ`` loses digits) float32 autograd can be off by more than √eps. So ``tol`` is raised
to 10× autograd's own error, measured against the engine run in float64 on the same inputs
(relative to ``scale``), whenever that is larger; a note says so. For float64 runs there is
nothing more precise to measure against, and ``tol`` stays √eps.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autograd_bn import manual
from autograd_bn.bn import batchnorm
from autograd_bn.gradcheck import numerical_gradient, rel_error
from autograd_bn.problem import Problem
from autograd_bn.tensor import Tensor, as_float_array
from autograd_bn.userimpl import UserImpl, UserImplError, run_backward, run_forward

Array = np.ndarray
GRADS = ("dx", "dgamma", "dbeta")
NUMERICAL_STEP = 1e-5
"""The central-difference step h of the numerical gradient."""
NUMERICAL_TOLERANCE = 1e-6
"""The smallest ``tol`` used against the numerical gradient, whose own error is ~1e-10…1e-8."""
NUMERICAL_AUTO_LIMIT = 2500
"""With ``numerical=None``, the numerical gradient is computed up to this many elements of x."""
DESCRIPTIONS = {
    "autograd": "the engine: BN from primitive ops, reverse-mode autodiff (the reference)",
    "staged": "the seed's computational-graph pass, one step per node",
    "analytical": "the seed's chain-rule pass, which keeps the dL_mu2 term",
    "compact": "cs231n's one-line batchnorm_backward_alt",
    "paper": "Ioffe & Szegedy (2015), page 4",
    "torch": "torch.autograd through torch.nn.functional.batch_norm (outside reference)",
}
_MIN_CALLS, _MAX_CALLS, _BUDGET = 5, 2000, 0.02


def tolerance(dtype: Any) -> float:
    """``√(machine epsilon)`` of ``dtype``: 1.5e-8 for float64, 3.5e-4 for float32."""
    return float(np.sqrt(np.finfo(np.dtype(dtype)).eps))


@dataclass(frozen=True)
class Metrics:
    """One array against its reference."""

    max_abs_diff: float
    rel_error: float
    exact: bool
    allclose: bool

    def to_dict(self) -> dict[str, Any]:
        return {"max_abs_diff": _finite(self.max_abs_diff), "rel_error": _finite(self.rel_error),
                "exact": self.exact, "allclose": self.allclose}


def measure(a: Array, ref: Array, tol: float, scale: float) -> Metrics:
    """`Metrics` of ``a`` against ``ref``; allclose with ``rtol = tol``, ``atol = tol·scale``."""
    a64 = np.asarray(a, dtype=np.float64)
    r64 = np.asarray(ref, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = float(np.max(np.abs(a64 - r64), initial=0.0))
        err = rel_error(a64, r64)
    return Metrics(diff, err, bool(np.array_equal(a, ref)),
                   bool(np.allclose(a64, r64, rtol=tol, atol=tol * scale)))


@dataclass(frozen=True)
class Row:
    """One method: its forward output and gradients against autograd and numerical, its time."""

    name: str
    kind: str  # "engine", "manual", "torch" or "user"
    description: str
    forward: Metrics
    vs_autograd: dict[str, Metrics]
    vs_numerical: dict[str, Metrics] | None
    median_seconds: float
    calls: int
    grads: tuple[Array, ...] = field(repr=False, compare=False, default=())
    """dx, dgamma, dbeta as the method returned them."""

    @property
    def disagreements(self) -> list[str]:
        """What is not allclose to autograd: some of "out", "dx", "dgamma", "dbeta"."""
        bad = [] if self.forward.allclose else ["out"]
        return bad + [g for g in GRADS if not self.vs_autograd[g].allclose]

    @property
    def agrees(self) -> bool:
        return not self.disagreements

    def to_dict(self) -> dict[str, Any]:
        num = self.vs_numerical
        return {
            "name": self.name,
            "kind": self.kind,
            "description": self.description,
            "agrees": self.agrees,
            "disagreements": self.disagreements,
            "median_seconds": self.median_seconds,
            "calls": self.calls,
            "forward": self.forward.to_dict(),
            "vs_autograd": {g: self.vs_autograd[g].to_dict() for g in GRADS},
            "vs_numerical": None if num is None else {g: num[g].to_dict() for g in GRADS},
        }


@dataclass(frozen=True)
class Comparison:
    """The result of `compare`: one `Row` per method, autograd first."""

    problem: Problem = field(repr=False, compare=False)
    dtype: str
    tolerance: float
    numerical_tolerance: float
    scales: dict[str, float]
    reference_error: float
    rows: tuple[Row, ...]
    notes: tuple[str, ...] = ()
    seed: int | None = None
    numerical_grads: tuple[Array, ...] | None = field(default=None, repr=False, compare=False)
    """The numerical dx, dgamma, dbeta (float64), or None when skipped."""

    @property
    def numerical(self) -> bool:
        return self.rows[0].vs_numerical is not None

    @property
    def disagreeing(self) -> list[Row]:
        return [row for row in self.rows if not row.agrees]

    @property
    def agree(self) -> bool:
        """Every method agrees with autograd within `tolerance`."""
        return not self.disagreeing

    @property
    def exit_code(self) -> int:
        return 0 if self.agree else 1

    def row(self, name: str) -> Row:
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"no method {name!r}; methods: {', '.join(r.name for r in self.rows)}")

    def to_dict(self) -> dict[str, Any]:
        n, d = self.problem.shape
        return {
            "problem": {"N": n, "D": d, "seed": self.seed, "dtype": self.dtype,
                        "eps": self.problem.eps},
            "reference": "autograd",
            "tolerance": {
                "autograd": self.tolerance,
                "numerical": self.numerical_tolerance,
                "rule": "allclose: |a - ref| <= tol*|ref| + tol*scale, elementwise; "
                        "tol = max(sqrt(eps), 10*reference_error)",
                "scale": {k: _finite(v) for k, v in self.scales.items()},
                "reference_error": _finite(self.reference_error),
            },
            "numerical_gradient": {"computed": self.numerical, "h": NUMERICAL_STEP,
                                   "dtype": "float64"},
            "time": "median seconds per backward call over `calls` repeated calls",
            "agree": self.agree,
            "disagreeing": [row.name for row in self.disagreeing],
            "methods": [row.to_dict() for row in self.rows],
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """`to_dict` as JSON: valid (NaN and infinities become null), keys in a fixed order."""
        return dumps(self.to_dict(), indent=indent)

    def format_table(self) -> str:
        """Two aligned tables (errors and times; agreement) and a legend, within 100 columns."""
        return format_table(self)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def jsonable(obj: Any) -> Any:
    """``obj`` with NaN and infinite floats as None and numpy scalars as Python numbers."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _finite(float(obj))
    return obj


def dumps(obj: Any, indent: int | None = 2) -> str:
    """Valid JSON for ``obj`` (see `jsonable`): never a NaN literal."""
    return json.dumps(jsonable(obj), indent=indent, allow_nan=False)


# --------------------------------------------------------------------------------------------
# Running the methods.


def median_time(
    call: Callable[[], Any],
    repeats: int | None = None,
    setup: Callable[[], Any] | None = None,
    budget: float = _BUDGET,
) -> tuple[float, int]:
    """Median seconds per ``call()`` and the number of calls timed.

    With ``repeats`` the call is timed that many times; otherwise until ``budget`` seconds
    have passed and at least 5 calls were made (at most 2000). ``setup()`` runs before each
    call, outside the timed region.
    """
    times: list[float] = []
    start = time.perf_counter()
    while True:
        if setup is not None:
            setup()
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
        if repeats is not None:
            if len(times) >= repeats:
                break
        elif len(times) >= _MAX_CALLS or (
            len(times) >= _MIN_CALLS and time.perf_counter() - start >= budget
        ):
            break
    return float(np.median(times)), len(times)


def _reference_error(p: Problem, out: Array, grads: Sequence[Array],
                     scales: dict[str, float]) -> float:
    """How far autograd in the run's dtype is from autograd in float64, relative to ``scale``.

    0.0 for float64 runs (there is nothing more precise to compare with).
    """
    if p.x.dtype == np.float64:
        return 0.0
    p64 = Problem(*(np.asarray(a, dtype=np.float64) for a in (p.x, p.gamma, p.beta, p.dout)),
                  p.eps, p.seed)
    out64, grads64, _, _ = _autograd(p64, 1)
    worst = 0.0
    for key, a, b in zip(("out", *GRADS), (out, *grads), (out64, *grads64), strict=True):
        diff = float(np.max(np.abs(np.asarray(a, dtype=np.float64) - b), initial=0.0))
        if diff:
            worst = max(worst, diff / scales[key] if scales[key] else math.inf)
    return worst


def _scales(p: Problem) -> dict[str, float]:
    """The size of the terms each result is a sum of, in float64 (see the module docstring)."""
    x, gamma, beta, dout = (np.asarray(a, dtype=np.float64)
                            for a in (p.x, p.gamma, p.beta, p.dout))
    centred = x - x.mean(axis=0)
    std = np.sqrt((centred**2).mean(axis=0) + p.eps)
    x_hat = centred / std
    return {
        "out": float(np.max(np.abs(gamma * x_hat) + np.abs(beta))),
        "dx": float(np.max(np.abs(gamma * dout / std))),
        "dgamma": float(np.max(np.abs(dout * x_hat).sum(axis=0))),
        "dbeta": float(np.max(np.abs(dout).sum(axis=0))),
    }


def _numerical(p: Problem) -> tuple[Array, Array, Array]:
    """Central-difference gradients of ``Σ out·dout``, always in float64."""
    x, gamma, beta, dout = (np.asarray(a, dtype=np.float64)
                            for a in (p.x, p.gamma, p.beta, p.dout))

    def bn(xa: Array, ga: Array, ba: Array) -> Array:
        return manual.batchnorm_forward(xa, ga, ba, p.eps)[0]

    return (
        numerical_gradient(lambda v: bn(v, gamma, beta), x, dout, NUMERICAL_STEP),
        numerical_gradient(lambda v: bn(x, v, beta), gamma, dout, NUMERICAL_STEP),
        numerical_gradient(lambda v: bn(x, gamma, v), beta, dout, NUMERICAL_STEP),
    )


def _autograd(p: Problem, repeats: int | None) -> tuple[Array, tuple[Array, ...], float, int]:
    leaves = [Tensor(p.x, label="(1) x"), Tensor(p.gamma, label="(9) γ"),
              Tensor(p.beta, label="(11) β")]
    out = batchnorm(*leaves, eps=p.eps)
    out.backward(p.dout)
    grads = tuple(leaf.grad.copy() for leaf in leaves)  # type: ignore[union-attr]

    def reset() -> None:
        for leaf in leaves:
            leaf.grad = None

    seconds, calls = median_time(lambda: out.backward(p.dout), repeats, reset)
    return out.data, grads, seconds, calls


def torch_available() -> bool:
    """Whether ``import torch`` works (an installed but broken torch counts as missing)."""
    try:
        import torch  # noqa: F401
    except Exception:
        return False
    return True


def _torch(p: Problem, repeats: int | None) -> tuple[Array, tuple[Array, ...], float, int]:
    import torch

    x, gamma, beta = (torch.from_numpy(np.array(a)).requires_grad_()
                      for a in (p.x, p.gamma, p.beta))
    dout = torch.from_numpy(np.array(p.dout))
    out = torch.nn.functional.batch_norm(x, None, None, gamma, beta, training=True,
                                         momentum=0.0, eps=p.eps)

    def backward() -> tuple[Any, ...]:
        return torch.autograd.grad(out, (x, gamma, beta), dout, retain_graph=True)

    grads = tuple(g.detach().numpy().copy() for g in backward())
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # like numpy here; idle worker threads only add noise
    try:
        seconds, calls = median_time(backward, repeats)
    finally:
        torch.set_num_threads(threads)
    return out.detach().numpy().copy(), grads, seconds, calls


def _user(
    impl: UserImpl, p: Problem, repeats: int | None
) -> tuple[Array, tuple[Array, ...], float, int]:
    out, cache = run_forward(impl, p.x, p.gamma, p.beta, p.eps)
    grads = run_backward(impl, p.dout, cache)
    copies: list[Array] = []
    try:
        seconds, calls = median_time(lambda: impl.backward(copies[-1], cache), repeats,
                                     lambda: copies.append(p.dout.copy()))
    except Exception as exc:
        raise UserImplError(f"backward raised on a repeated call: {type(exc).__name__}: "
                            f"{' '.join(str(exc).split())}") from None
    return out, grads, seconds, calls


def _problem_from(
    problem: Problem | None, x: Any, gamma: Any, beta: Any, dout: Any, eps: float
) -> tuple[Problem, int | None]:
    arrays = (x, gamma, beta, dout)
    if problem is not None:
        if any(a is not None for a in arrays):
            raise TypeError("pass either a Problem or the arrays x, gamma, beta, dout, not both")
        x, gamma, beta, dout, eps = problem.x, problem.gamma, problem.beta, problem.dout, \
            problem.eps
        seed: int | None = problem.seed
    else:
        missing = [n for n, a in zip(("x", "gamma", "beta", "dout"), arrays, strict=True)
                   if a is None]
        if missing:
            raise TypeError(f"compare needs a Problem or all of x, gamma, beta, dout; "
                            f"missing {', '.join(missing)}")
        seed = None
    x, gamma, beta, eps = manual.check_inputs(x, gamma, beta, eps)
    dout_arr = as_float_array(dout.data if isinstance(dout, Tensor) else dout, "dout")
    if dout_arr.shape != x.shape:
        raise ValueError(f"dout must have the shape of x {x.shape}, got shape {dout_arr.shape}")
    dout_arr = dout_arr.astype(x.dtype, copy=False)
    return Problem(x, gamma, beta, dout_arr, eps, -1 if seed is None else seed), seed


def compare(
    problem: Problem | None = None,
    *,
    x: Any = None,
    gamma: Any = None,
    beta: Any = None,
    dout: Any = None,
    eps: float = 1e-5,
    methods: Iterable[str] | None = None,
    user: UserImpl | Sequence[Callable[..., Any]] | None = None,
    with_torch: bool | None = None,
    numerical: bool | None = True,
    repeats: int | None = None,
) -> Comparison:
    """Run every method on one BN problem and measure each against autograd and numerics.

    Give a `Problem` (`autograd_bn.problem.make_problem`) or the arrays ``x`` (N, D),
    ``gamma``, ``beta`` (D,), ``dout`` (N, D) and ``eps``; bad inputs raise `ValueError` or
    `TypeError` naming the problem (`autograd_bn.manual.check_inputs`). ``methods`` picks
    hand-written passes by name from `autograd_bn.manual.BACKWARDS` (default: all).
    ``user`` adds your layer: a `UserImpl` or a ``(forward, backward)`` pair in cs231n's
    signatures; anything wrong with what it returns raises `UserImplError`. ``with_torch``:
    None adds torch.autograd when torch is importable, True requires it, False skips it.
    ``numerical=False`` skips the numerical gradient (it costs two forward passes per input
    element); None computes it when N·D ≤ 2500 and adds a note otherwise. ``repeats`` fixes
    the number of timed calls per method; by default each is timed for about 20 ms.
    """
    p, seed = _problem_from(problem, x, gamma, beta, dout, eps)
    names = list(manual.BACKWARDS) if methods is None else list(methods)
    unknown = [m for m in names if m not in manual.BACKWARDS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(manual.BACKWARDS)}")
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int)
                                or repeats < 1):
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    if user is not None and not isinstance(user, UserImpl):
        forward, backward = user
        user = UserImpl(forward, backward)
    if user is not None and user.name in ("autograd", "torch", *manual.BACKWARDS):
        raise ValueError(f"your row's name {user.name!r} is taken by a built-in method")
    if with_torch and not torch_available():
        raise ModuleNotFoundError("torch is not installed: pip install torch")

    dtype = str(p.x.dtype)
    scales = _scales(p)
    ref_out, ref_grads, seconds, calls = _autograd(p, repeats)
    reference_error = _reference_error(p, ref_out, ref_grads, scales)
    tol = max(tolerance(dtype), 10 * reference_error)
    num_tol = max(tol, NUMERICAL_TOLERANCE)
    notes: list[str] = []
    if numerical is None:
        numerical = p.x.size <= NUMERICAL_AUTO_LIMIT
        if not numerical:
            notes.append(f"numerical gradient skipped: N·D = {p.x.size} > "
                         f"{NUMERICAL_AUTO_LIMIT} would take {2 * (p.x.size + 2 * p.shape[1])} "
                         "forward passes (--numerical forces it)")
    numeric = _numerical(p) if numerical else None

    def row(name: str, kind: str, description: str, out: Array, grads: Sequence[Array],
            seconds: float, calls: int) -> Row:
        fwd = measure(out, ref_out, tol, scales["out"])
        vs_ag = {g: measure(a, r, tol, scales[g])
                 for g, a, r in zip(GRADS, grads, ref_grads, strict=True)}
        vs_num = None if numeric is None else {
            g: measure(a, r, num_tol, scales[g])
            for g, a, r in zip(GRADS, grads, numeric, strict=True)}
        return Row(name, kind, description, fwd, vs_ag, vs_num, seconds, calls, tuple(grads))

    rows = [row("autograd", "engine", DESCRIPTIONS["autograd"], ref_out, ref_grads, seconds,
                calls)]
    if names:
        out, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
        for name in names:
            backward = manual.BACKWARDS[name]
            grads = backward(p.dout, cache)
            seconds, calls = median_time(lambda b=backward: b(p.dout, cache), repeats)
            rows.append(row(name, "manual", DESCRIPTIONS[name], out, grads, seconds, calls))
    if with_torch is not False and torch_available():
        if p.shape[0] == 1:
            notes.append("torch skipped: its batch_norm refuses a batch of one in training mode")
        else:
            rows.append(row("torch", "torch", DESCRIPTIONS["torch"], *_torch(p, repeats)))
    if user is not None:
        rows.append(row(user.name, "user", user.description, *_user(user, p, repeats)))
    if tol > tolerance(dtype):
        notes.append(f"tolerance raised from {tolerance(dtype):.1e} to {tol:.1e}, 10x autograd's "
                     f"own {dtype} error against float64 (a badly conditioned batch)")
    return Comparison(p, dtype, tol, num_tol, scales, reference_error, tuple(rows),
                      tuple(notes), seed, numeric)


# --------------------------------------------------------------------------------------------
# The table.


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    return f"{value:.1e}" if math.isfinite(value) else str(value)


def _seconds(value: float) -> str:
    if value >= 0.01:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.1f} µs"


def _agreement(m: Metrics) -> str:
    return "exact" if m.exact else "close" if m.allclose else "DIFFERS"


def format_table(c: Comparison) -> str:
    """The comparison as text for a terminal of 100 columns (see `Comparison.format_table`)."""
    n, d = c.problem.shape
    seed = "" if c.seed is None else f", seed {c.seed}"
    w = max(12, max(len(r.name) for r in c.rows) + 2)

    def line(name: str, first: list[str], second: list[str], *rest: str) -> str:
        cells = "".join(f"{x:<9}" for x in first) + "  " + "".join(f"{x:<9}" for x in second)
        return f"{name:<{w}}{cells}  {'  '.join(rest)}".rstrip()

    def header(first: str, second: str, third: str) -> str:
        return f"{'':<{w}}{first:<29}{second:<29}{third}"

    lines = [f"BN backward passes against the engine's autograd: N={n}, D={d}{seed}, {c.dtype}, "
             f"eps={c.problem.eps:g}", ""]
    lines += [header("relative error vs autograd", "relative error vs numerical", "median time"),
              line("method", list(GRADS), list(GRADS), "per call")]
    for r in c.rows:
        num = r.vs_numerical
        errs = [format_number(r.vs_autograd[g].rel_error) for g in GRADS]
        nums = ["-"] * 3 if num is None else [format_number(num[g].rel_error) for g in GRADS]
        lines.append(line(r.name, errs, nums, f"{_seconds(r.median_seconds):>9}"))
    lines += ["", header("max |diff| vs autograd", "agreement with autograd", "out"),
              line("method", list(GRADS), list(GRADS), "max |diff|  verdict")]
    for r in c.rows:
        verdict = "reference" if r.kind == "engine" else "agrees" if r.agrees else "DISAGREES"
        lines.append(line(r.name, [format_number(r.vs_autograd[g].max_abs_diff) for g in GRADS],
                          [_agreement(r.vs_autograd[g]) for g in GRADS],
                          f"{format_number(r.forward.max_abs_diff):<10}", verdict))
    lines.append("")
    lines += [f"  {r.name:<{w}}{r.description}" for r in c.rows]
    lines += [
        "",
        "relative error: cs231n's max |a - b| / max(1e-8, |a| + |b|), elementwise.",
        f"exact: bitwise equal. close: |a - ref| <= tol*|ref| + tol*scale with tol = "
        f"{c.tolerance:.1e} ({c.dtype})",
        "  and scale = the size of the terms each gradient sums (see autograd_bn.compare).",
        "numerical: central differences, h = 1e-5, always computed in float64"
        + ("." if c.numerical else " (skipped in this run)."),
        "time: median of repeated calls of the backward pass alone (autograd: backward() on a "
        "built graph).",
    ]
    lines += [f"note: {note}" for note in c.notes]
    bad = c.disagreeing
    if bad:
        what = "; ".join(f"{r.name} ({', '.join(r.disagreements)})" for r in bad)
        lines.append(f"RESULT: {len(bad)} of {len(c.rows) - 1} disagree with autograd: {what}")
    else:
        lines.append(f"RESULT: all {len(c.rows) - 1} methods agree with autograd.")
    return "\n".join(lines)
