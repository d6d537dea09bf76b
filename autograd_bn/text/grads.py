"""`format_grads`: a `GradComparison` (``autograd-bn check``, makemore's ``cmp``) as a table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autograd_bn.text.numbers import format_number

if TYPE_CHECKING:
    from autograd_bn.check.grads import GradComparison, GradResult

_MARK = "<- first wrong: look here"


def _shape(shape: tuple[int, ...] | None) -> str:
    if shape is None:
        return "-"
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _cells(r: GradResult) -> list[str]:
    yes_no = {True: "yes", False: "no"}
    if r.status == "missing":
        exact = close = "-"
        shape = _shape(r.shape)
    else:
        exact, close = yes_no[r.exact], yes_no[r.close]
        shape = _shape(r.shape) if r.shape_ok else (f"WRONG: manual {_shape(r.manual_shape)}, "
                                                    f"engine {_shape(r.shape)}")
    return [r.name, exact, close, format_number(r.max_abs_diff), shape]


def format_grads(c: GradComparison, title: str | None = None) -> str:
    """One line per name in backward order (exact, close, max |diff|, shape, a note), the
    first wrong one marked, the rule for close, and a RESULT line to grep for."""
    head = ["name", "exact", "close", "max |diff|", "shape"]
    rows = [_cells(r) for r in c.results]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    number = len(str(len(rows)))

    def line(i: str, cells: list[str], note: str) -> str:
        text = "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True))
        return f"{i:>{number}}  {text}  {note}".rstrip()

    lines = [title or f"Hand-written gradients against the engine's, in backward order "
             f"({len(rows)} names)", "", line("", head, "")]
    for k, (r, cells) in enumerate(zip(c.results, rows, strict=True), start=1):
        notes = [_MARK] if r.name == c.first_wrong else []
        if r.status == "missing":
            notes.append("missing: no manual gradient")
        elif r.note and r.status != "shape":
            notes.append(r.note)
        lines.append(line(str(k), cells, "; ".join(notes)))
    lines += [
        "",
        f"exact: bitwise equal. close: np.allclose(manual, engine, rtol={c.rtol:g}, "
        f"atol={c.atol:g}),",
        "  i.e. |manual - engine| <= atol + rtol*|engine| elementwise; max |diff| is the largest",
        "  |manual - engine|. Order: as the backward pass reaches each Tensor, so the first wrong",
        "  name is the place to look (the names after it are computed from it).",
        f"RESULT: {c.summary}",
    ]
    return "\n".join(lines)
