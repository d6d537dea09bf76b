"""The trace as aligned text: `format_trace`, and the small pieces the report reuses."""

from __future__ import annotations

import functools
import unicodedata
from typing import TYPE_CHECKING

import numpy as np

from autograd_bn.text.numbers import format_number, problem_text

if TYPE_CHECKING:
    from autograd_bn.check.trace import Place, SeedMatch, Trace

PREVIEW_VALUES = 3


def preview(array: np.ndarray | None, count: int = PREVIEW_VALUES) -> str:
    """The first ``count`` values of an array, flattened: ``[ 1.76e+00 -4.00e-01 …]``."""
    if array is None:
        return ""
    flat = np.asarray(array, dtype=np.float64).ravel()
    shown = " ".join(f"{v:9.2e}" if v else f"{0:>9}" for v in flat[:count])
    return f"[{shown}{' …' if flat.size > count else ''}]"


def shape_text(shape: tuple[int, ...]) -> str:
    return "()" if not shape else f"({', '.join(map(str, shape))}{',' if len(shape) == 1 else ''})"


def _place_text(place: Place) -> str:
    return f"grad at {place}" if isinstance(place, str) else f"edge {place[0]}→{place[1]}"


def _seed_cells(match: SeedMatch | None) -> tuple[str, str]:
    if match is None:
        return "", ""
    return match.name, format_number(match.max_abs_diff) + ("" if match.matches else " ✗")


_COLUMNS = (("#", 3, ">"), ("node  → input", 17, "<"), ("op  × local derivative", 18, "<"),
            ("shape", 7, "<"), ("gradient (first values)", 33, "<"), ("seed", 6, "<"),
            ("Δ", 7, "<"))


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: combining marks (the hat of x̂) take none."""
    return sum(0 if unicodedata.combining(ch) else 1 for ch in text)


def _pad(text: str, width: int, align: str = "<") -> str:
    fill = " " * max(0, width - _width(text))
    return fill + text if align == ">" else text + fill


def _row(*cells: str, shape_width: int = 7) -> str:
    """One line of the table; the shape column widens to the widest shape of the trace."""
    widths = [shape_width if title == "shape" else width for title, width, _ in _COLUMNS]
    parts = [_pad(cell, width, align)
             for cell, width, (_, _, align) in zip(cells, widths, _COLUMNS, strict=True)]
    return " ".join(parts).rstrip()


def format_trace(trace: Trace) -> str:
    """The trace of BN (`trace_batchnorm`) or of a layer of its family (`trace_layer`) as
    aligned text, within 100 columns."""
    if trace.problem is None:
        raise ValueError("format_trace needs a trace of BN or of its family (trace_batchnorm, "
                         "trace_layer)")
    describe = getattr(trace.problem, "describe", None)
    if describe is not None:
        what, title = describe(), "Backward pass"
    else:
        n, d = trace.problem.shape
        what, title = problem_text(n, d, trace.problem.seed, trace.dtype), "BN backward pass"
    shapes = [shape_text(s.grad.shape) for s in trace.steps] + [
        shape_text(e.contribution.shape) for s in trace.steps for e in s.edges
        if e.contribution is not None]
    row = functools.partial(_row, shape_width=max(7, *(len(s) for s in shapes)))
    lines = [
        f"{title}, node by node in the order the engine runs it",
        f"{what}, eps {trace.problem.eps:g}; "
        "dout = dL/d(12), a random upstream gradient",
        "Node lines: the gradient dL/d(node) arriving there. → lines: what the node sends to one",
        "input, its gradient × the local derivative (Σ: summed over broadcast axes; spread: copied",
        "to every row). seed: the seed's staged intermediate; Δ: max|engine − seed|.",
        "",
        row(*(title for title, _, _ in _COLUMNS)),
    ]
    for step in trace.steps:
        lines.append(row(str(step.index), step.label, step.op, shape_text(step.grad.shape),
                          preview(step.grad), *_seed_cells(step.seed)))
        if len(step.received_from) > 1:
            names = [_edge_name(trace, child, step.key) for child in step.received_from]
            lines.append(row("", "  = Σ received", "from " + ", ".join(step.received_from),
                              "", " + ".join(names) + " (sum of the edges)",
                              "", format_number(step.sum_diff)))
        for edge in step.edges:
            shape = "" if edge.contribution is None else shape_text(edge.contribution.shape)
            lines.append(row("", f"  → {edge.parent_label}", edge.text, shape,
                              preview(edge.contribution), *_seed_cells(edge.seed)))
    if not trace.seed_places:
        return "\n".join([*lines, "", "(No staged pass to compare with: the seed's exists in "
                           "training mode without Bessel's correction.)"])
    lines += ["", "The seed's staged backward in the engine's graph:", ""]
    lines.append(f"{'seed':<7}{'where the engine has the same values':<60}max Δ")
    for name, entry in trace.seed_summary().items():
        where = "; ".join(_place_text(p) for p in entry["places"]) or "NOT FOUND"
        mark = "" if entry["matches"] else "  ✗"
        lines.append(f"{name:<7}{where:<60}{format_number(entry['max_abs_diff'])}{mark}")
    found = sum(1 for entry in trace.seed_summary().values() if entry["places"])
    verdict = "all match" if trace.all_match else "MISMATCH"
    lines += ["", f"{found} of {len(trace.seed_places)} seed values found; largest Δ "
              f"{format_number(trace.max_diff)} (tolerance {trace.tolerance:.0e} × "
              f"max(1, |value|)): {verdict}."]
    return "\n".join(lines)


def _edge_name(trace: Trace, child: str, parent: str) -> str:
    for step in trace.steps:
        if step.key == child:
            for edge in step.edges:
                if edge.parent == parent:
                    return edge.seed.name if edge.seed else f"{child}→{parent}"
    return f"{child}→{parent}"
