"""Every backward pass on the same inputs, checked against the engine and a numerical gradient.

`compare` runs the engine's autograd (the reference), the four hand-written passes of
`autograd_bn.bn.manual`, torch.autograd when torch is importable, and optionally your own
cs231n-style layer (`autograd_bn.check.userimpl`). For dx, dgamma and dbeta of each it measures,
against the autograd result and against the numerical gradient: the largest absolute
difference, cs231n's relative error, exact equality and `numpy.allclose`; and the median time
of one backward call over repeated calls.

What agreement means, and how the tolerance follows the dtype and the size of the summed
terms, is in `autograd_bn.check.metrics`; how each method is run and timed, in
`autograd_bn.check.runners`;
the result (`Comparison`, `Row`), in `autograd_bn.check.results`; the table, in
`autograd_bn.text.table`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from autograd_bn.bn import manual
from autograd_bn.bn.problem import Problem
from autograd_bn.check import runners
from autograd_bn.check.diagnose import diagnose_grad, diagnose_out
from autograd_bn.check.jsondata import dumps
from autograd_bn.check.metrics import (
    GRADS,
    NUMERICAL_TOLERANCE,
    Metrics,
    measure,
    numerical_resolution,
    reference_error,
    scales,
    tolerance,
)
from autograd_bn.check.overflow import refuse_bn_overflow
from autograd_bn.check.results import Comparison, Row
from autograd_bn.check.runners import DESCRIPTIONS, median_time, torch_available
from autograd_bn.check.userimpl import UserImpl, UserSpec
from autograd_bn.engine.dtypes import as_float_array, check_finite
from autograd_bn.engine.tensor import Tensor

__all__ = ["GRADS", "Comparison", "Metrics", "Row", "compare", "dumps",
           "measure", "median_time", "tolerance", "torch_available"]

Array = np.ndarray
NUMERICAL_AUTO_LIMIT = 2500
"""With ``numerical=None``, the numerical gradient is computed up to this many elements of x."""
MAX_NAME = 20
"""The longest name your row may have: the table stays within 100 columns."""


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
    check_finite(dout_arr, "dout")
    return Problem(x, gamma, beta, dout_arr, eps, seed), seed  # type: ignore[arg-type]


def _method_names(methods: str | Iterable[str] | None) -> list[str]:
    """The hand-written passes to run: all by default; one name, or several."""
    if methods is None:
        return list(manual.BACKWARDS)
    names = [methods] if isinstance(methods, str) else None
    if names is None:
        try:
            names = list(methods)
        except TypeError:
            names = [None]  # type: ignore[list-item]
    if not all(isinstance(m, str) for m in names):
        raise TypeError(f"methods must be a method name or a list of names, got {methods!r}")
    unknown = [m for m in names if m not in manual.BACKWARDS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(manual.BACKWARDS)}")
    return names


def _user_impl(user: Any) -> UserImpl | None:
    """``user`` as a `UserImpl` with a name that fits the table, or None."""
    if user is None:
        return None
    if not isinstance(user, (UserImpl, UserSpec)):
        pair = tuple(user) if isinstance(user, (tuple, list)) else ()
        if len(pair) != 2 or not all(callable(f) for f in pair):
            what = (f"a {type(user).__name__} of {len(pair)}" if pair
                    else f"a {type(user).__name__}")
            raise TypeError("user must be a UserImpl or a (forward, backward) pair of "
                            f"functions, got {what}")
        user = UserImpl(*pair)
    name = user.name
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ValueError(f"your row's name {name!r} must be a word or two on one line")
    if len(name) > MAX_NAME:
        raise ValueError(f"your row's name {name!r} is {len(name)} characters long; at most "
                         f"{MAX_NAME} fit the table")
    if name in ("autograd", "torch", *manual.BACKWARDS):
        raise ValueError(f"your row's name {name!r} is taken by a built-in method")
    return user


def compare(
    problem: Problem | None = None,
    *,
    x: Any = None,
    gamma: Any = None,
    beta: Any = None,
    dout: Any = None,
    eps: float = 1e-5,
    methods: str | Iterable[str] | None = None,
    user: UserImpl | UserSpec | Sequence[Callable[..., Any]] | None = None,
    with_torch: bool | None = None,
    numerical: bool | None = None,
    repeats: int | None = None,
    hint: str = "",
) -> Comparison:
    """Run every method on one BN problem and measure each against autograd and numerics.

    Give a `Problem` (`autograd_bn.bn.problem.make_problem`) or the arrays ``x`` (N, D),
    ``gamma``, ``beta`` (D,), ``dout`` (N, D) and ``eps``; bad inputs raise `ValueError` or
    `TypeError` naming the problem (`autograd_bn.bn.manual.check_inputs`). ``methods`` picks
    hand-written passes from `autograd_bn.bn.manual.BACKWARDS`: one name or a list (default:
    all). ``user`` adds your layer: a `UserImpl` (its ``name``, at most 20 characters, names
    its row) or a ``(forward, backward)`` pair in cs231n's signatures; anything wrong with
    what it returns raises `UserImplError`, and what it prints goes to stderr. ``with_torch``:
    None adds torch.autograd when torch is importable, True requires it, False skips it.
    ``numerical=False`` skips the numerical gradient (it costs two forward passes per input
    element); None (the default) computes it when N·D ≤ 2500 and adds a note otherwise.
    ``repeats`` fixes the number of timed calls per method; by default each is timed for about
    20 ms. ``user`` may be a `UserSpec` (``FILE.py:NAME`` specs): then it runs in a child
    process with a time limit (`autograd_bn.check.sandbox`); ``hint`` ends the message of a
    failing forward or a wrong shape (which layer was assumed).

    A step of BN that is not finite in the run's dtype (an overflow) raises `ValueError` naming
    it: no tolerance is widened to hide it.
    """
    p, seed = _problem_from(problem, x, gamma, beta, dout, eps)
    names = _method_names(methods)
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int)
                                or repeats < 1):
        raise ValueError(f"repeats must be a positive integer, got {repeats!r}")
    user = _user_impl(user)
    if with_torch and not runners.torch_available():
        raise ModuleNotFoundError("torch is not installed: pip install torch")

    dtype = str(p.x.dtype)
    sizes = scales(p)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is refused just below
        ref_out, ref_grads, seconds, calls = runners.autograd(p, repeats)
        _, cache = manual.batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
        refuse_bn_overflow(cache[1], cache[2], cache[3], cache[5], ref_out, ref_grads, p.x)
        ref_error = reference_error(p, ref_out, ref_grads, sizes)
    if not np.isfinite(ref_error):
        raise ValueError(f"autograd in {dtype} is not finite where float64 is: the tolerance "
                         "would have to be widened to hide it; use --dtype float64")
    tol = max(tolerance(dtype), 10 * ref_error)
    num_tol = max(tol, NUMERICAL_TOLERANCE)
    notes: list[str] = []
    if numerical is None:
        numerical = p.x.size <= NUMERICAL_AUTO_LIMIT
        if not numerical:
            notes.append(f"numerical gradient skipped: N·D = {p.x.size} > "
                         f"{NUMERICAL_AUTO_LIMIT} would take {2 * (p.x.size + 2 * p.shape[1])} "
                         "forward passes (--numerical, or numerical=True, forces it)")
    numeric = runners.numerical(p) if numerical else None
    resolution = None if numeric is None else numerical_resolution(
        manual.batchnorm_forward(p.x.astype(np.float64), p.gamma.astype(np.float64),
                                 p.beta.astype(np.float64), p.eps)[0], p.dout,
        runners.NUMERICAL_STEP)

    def row(name: str, kind: str, description: str, out: Array, grads: Sequence[Array],
            seconds: float, calls: int) -> Row:
        fwd = measure(out, ref_out, tol, sizes["out"])
        vs_ag = {g: measure(a, r, tol, sizes[g])
                 for g, a, r in zip(GRADS, grads, ref_grads, strict=True)}
        vs_num = None if numeric is None else {
            g: measure(a, r, num_tol, sizes[g], resolution=resolution)
            for g, a, r in zip(GRADS, grads, numeric, strict=True)}
        return Row(name, kind, description, fwd, vs_ag, vs_num, seconds, calls, tuple(grads))

    rows = [row("autograd", "engine", DESCRIPTIONS["autograd"], ref_out, ref_grads, seconds,
                calls)]
    if names:
        out = cache[5] * p.gamma + p.beta
        for name in names:
            grads, seconds, calls = runners.manual_run(name, p, repeats, cache)
            rows.append(row(name, "manual", DESCRIPTIONS[name], out, grads, seconds, calls))
    if with_torch is not False and runners.torch_available():
        if p.shape[0] == 1:
            notes.append("torch skipped: its batch_norm refuses a batch of one in training mode")
        else:
            rows.append(row("torch", "torch", DESCRIPTIONS["torch"],
                            *runners.torch_run(p, repeats)))
    if user is not None:
        result, user_notes = runners.user_run(user, p, repeats, hint)
        notes += user_notes
        mine = row(user.name, "user", user.description, *result)
        if mine.disagreements:
            mine = _with_hints(mine, result[0], p, cache, ref_grads)
        rows.append(mine)
    if tol > tolerance(dtype):
        notes.append(f"tolerance raised from {tolerance(dtype):.1e} to {tol:.1e}, 10x autograd's "
                     f"own {dtype} error against float64 (a badly conditioned batch)")
    notes += explain_rows(rows, dtype, tol, numeric is not None, resolution)
    return Comparison(p, dtype, tol, num_tol, scales=sizes, reference_error=ref_error,
                      rows=tuple(rows), notes=tuple(notes), seed=seed, numerical_grads=numeric,
                      resolution=resolution)


def _with_hints(mine: Row, out: Array, p: Problem, cache: manual.Cache,
                ref_grads: Sequence[Array]) -> Row:
    import dataclasses

    tol = 1e-6 if p.x.dtype == np.float64 else 1e-3
    hints: list[str] = []
    if "out" in mine.disagreements:
        hints += diagnose_out(out, x=p.x,
                              gamma=p.gamma, beta=p.beta, eps=p.eps, axes=(0,), bessel=False,
                              tol=tol)
    for g, a, r in zip(GRADS, mine.grads, ref_grads, strict=True):
        if g in mine.disagreements and len(hints) < 2:
            hints += diagnose_grad(g, a, r, x_hat=cache[5], gamma=p.gamma, axes=(0,),
                                   count=p.x.shape[0], tol=tol)
    return dataclasses.replace(mine, hints=tuple(hints[:2]))


def explain_rows(rows: Sequence[Row], dtype: str, tol: float, numeric: bool,
                 resolution: float | None) -> list[str]:
    """Notes on the numbers: a gradient the numerical check cannot resolve; in float32, why a
    correct layer's elementwise relative error can be large when its norm-wise error is not."""
    notes: list[str] = []
    engine = rows[0]
    if numeric and resolution is not None and engine.vs_numerical:
        for g, m in engine.vs_numerical.items():
            if not m.resolvable:
                notes.append(f"{g} is not resolvable by the numerical gradient: all its "
                             f"entries are below the numerical gradient's resolution "
                             f"{resolution:.1e}, so it is not judged against it (n/r)")
    if dtype != "float64":
        worst = max((m.rel_error for r in rows if r.agrees for m in r.vs_autograd.values()),
                    default=0.0)
        norm = max((m.norm_error for r in rows if r.agrees for m in r.vs_autograd.values()),
                   default=0.0)
        if worst > 1e-6:  # far above the 1e-8 cs231n tells float64 users to expect
            notes.append(f"{dtype}: elementwise relative errors up to {worst:.1e} for layers that "
                         f"agree (norm-wise at most {norm:.1e}): cs231n's error divides each "
                         "difference by |a| + |b|, and entries near zero (dx's sum to zero over "
                         "the batch) carry rounding error of the size of the terms they are "
                         f"sums of, not of their own; read the norm-wise column in {dtype}")
    return notes
