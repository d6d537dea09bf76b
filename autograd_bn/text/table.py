"""`format_table`: a `Comparison` as text for a terminal of 100 columns."""

from __future__ import annotations

import textwrap
import unicodedata
from typing import TYPE_CHECKING

from autograd_bn.check.metrics import GRADS, Metrics
from autograd_bn.text.numbers import format_number, format_seconds, problem_text

if TYPE_CHECKING:
    from autograd_bn.check.results import Comparison


WIDTH = 100
"""Columns of the terminal the table is made for."""


def _fit(text: str) -> list[str]:
    """``text`` in lines of at most `WIDTH` columns, continued with an indent of two."""
    return textwrap.wrap(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False) or [""]


def width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) and full-width characters and most
    emoji take two, combining marks none."""
    return sum(0 if unicodedata.combining(c) else
               2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    """``text`` padded with spaces to ``columns`` terminal columns (``f"{text:<n}"`` counts
    characters, and a name in CJK or with an emoji would push the row out of line)."""
    return text + " " * max(0, columns - width(text))


def _agreement(m: Metrics) -> str:
    return "exact" if m.exact else "close" if m.allclose else "DIFFERS"


def format_table(c: Comparison) -> str:
    """Two aligned tables (errors and times; agreement), a legend and the RESULT line.

    Every line but the RESULT line fits in 100 columns (your row's name has at most 20
    characters; long descriptions are wrapped); the RESULT line stays one line to grep for.
    """
    shape = tuple(c.problem.x.shape)
    n, d = shape[0], shape[-1]
    w = max(12, max(width(r.name) for r in c.rows) + 1)  # names have at most 20 characters

    def line(name: str, first: list[str], second: list[str], *rest: str) -> str:
        cells = "".join(f"{x:<9}" for x in first) + "  " + "".join(f"{x:<9}" for x in second)
        return f"{_pad(name, w)}{cells}  {'  '.join(rest)}".rstrip()

    def header(first: str, second: str, third: str) -> str:
        return f"{'':<{w}}{first:<29}{second:<29}{third}".rstrip()

    describe = getattr(c.problem, "describe", None)
    what = (f"{describe()}, eps={c.problem.eps:g}" if describe is not None
            else f"{problem_text(n, d, c.seed, c.dtype)}, eps={c.problem.eps:g}")
    title = "BN backward passes" if describe is None else "Backward passes"
    lines = [*_fit(f"{title} against the engine's autograd: {what}"), ""]

    def cells(metrics: dict[str, Metrics] | None, key: str) -> list[str]:
        if metrics is None:
            return ["-"] * 3
        return [("n/r" if not metrics[g].resolvable else format_number(getattr(metrics[g], key)))
                if g in metrics else "-" for g in GRADS]

    lines += [header("relative error vs autograd", "relative error vs numerical", "median time"),
              line("method", list(GRADS), list(GRADS), "per call")]
    for r in c.rows:
        lines.append(line(r.name, cells(r.vs_autograd, "rel_error"),
                          cells(r.vs_numerical, "rel_error"),
                          f"{format_seconds(r.median_seconds):>9}"))
    lines += ["", header("norm-wise error vs autograd", "norm-wise error vs numerical", ""),
              line("method", list(GRADS), list(GRADS))]
    for r in c.rows:
        lines.append(line(r.name, cells(r.vs_autograd, "norm_error"),
                          cells(r.vs_numerical, "norm_error")))
    lines += ["", header("max |diff| vs autograd", "agreement with autograd", "out"),
              line("method", list(GRADS), list(GRADS), "max |diff|  verdict")]
    for r in c.rows:
        if r.kind == "engine":  # checked against the numerical gradient
            verdict = "reference" if r.agrees else "SUSPECT"
        else:
            verdict = "agrees" if r.agrees else "DISAGREES"
        lines.append(line(r.name, cells(r.vs_autograd, "max_abs_diff"),
                          [_agreement(r.vs_autograd[g]) if g in r.vs_autograd else "-"
                           for g in GRADS],
                          f"{format_number(r.forward.max_abs_diff):<10}", verdict))
    for r in c.rows:
        for key, m in r.checks.items():
            lines.append(f"{r.name}: {key} max |diff| {format_number(m.max_abs_diff)}, "
                         f"{_agreement(m)}")
        for hint in r.hints:
            lines += _fit(f"{r.name}: why: {hint}")
    lines.append("")
    for r in c.rows:
        text = textwrap.wrap(r.description, WIDTH - 2 - w) or [""]
        lines += [f"  {_pad(r.name, w)}{text[0]}", *(f"  {'':<{w}}{more}" for more in text[1:])]
    lines += [
        "",
        "relative error: cs231n's max |a - b| / max(1e-8, |a| + |b|), elementwise.",
        "norm-wise error: ||a - ref|| / ||ref|| over the whole array (ref: autograd or numerical).",
        f"exact: bitwise equal. close: |a - ref| <= tol*|ref| + tol*scale with tol = "
        f"{c.tolerance:.1e} ({c.dtype})",
        "  and scale = the size of the terms each gradient sums (see autograd_bn.check.metrics).",
        "numerical: central differences, h = 1e-5, always computed in float64"
        + ("." if c.numerical else " (skipped in this run)."),
        *([] if c.resolution is None else [
            f"  its resolution here: {c.resolution:.1e} (eps*sum|out*dout|/h): differences "
            "below it are not judged;", "  n/r: not resolvable (the gradient is below it)."]),
        f"verdict: each method against autograd; autograd against the numerical gradient, "
        f"tol = {c.numerical_tolerance:.1e}.",
        "time: median of repeated calls of the backward pass alone (autograd: backward() on a "
        "built graph).",
    ]
    lines += [f"note: {note}" for note in c.notes]
    lines.append(f"RESULT: {c.summary}")  # one line, however long: for grep and CI logs
    return "\n".join(lines)
