"""The report's tables and data: the comparison and the trace as HTML, and every node's value
and gradient as the JSON the page's script reads."""

from __future__ import annotations

from html import escape
from typing import Any

import numpy as np

from autograd_bn.check.jsondata import dumps, finite, jsonable
from autograd_bn.check.metrics import GRADS
from autograd_bn.check.trace import Trace, unique_names
from autograd_bn.engine.naming import op_text
from autograd_bn.engine.tensor import Tensor
from autograd_bn.text.numbers import format_number, format_seconds
from autograd_bn.text.trace import preview, shape_text

SHOWN = 8
"""Values per axis the inline data keeps for a node (a bigger array is cut, with statistics)."""


def node_data(out: Tensor, trace: Trace) -> dict[str, dict[str, Any]]:
    """Per SVG node id (``n<index in out.nodes()>``, as `viz.draw` names them): what the page
    shows when it is hovered. Gradients are the trace's (this backward pass's)."""
    nodes = out.nodes()
    names = unique_names(nodes)
    steps = {step.node_id: step for step in trace.steps}
    seeds = {(step.node_id, edge.parent_id): edge.seed.name
             for step in trace.steps for edge in step.edges if edge.seed}
    data = {}
    for index, node in enumerate(nodes):
        node_id = f"n{index}"
        step = steps.get(node_id)
        key = step.key if step else names[node]
        entry: dict[str, Any] = {
            "key": key,
            "label": node.label or key,
            "op": op_text(node),
            "shape": list(node.shape),
            "value": array_data(node.data),
            "grad": None if step is None else array_data(step.grad),
            "step": step.index if step else None,
            "seed": step.seed.to_dict() if step and step.seed else None,
            "received_from": [
                f"{child} ({seeds[(cid, node_id)]})" if seeds.get((cid, node_id)) else child
                for child, cid in zip(step.received_from if step else (),
                                      step.received_ids if step else (), strict=True)
            ],
            "sends": [
                {"to": e.parent_label, "derivative": e.local_derivative,
                 "seed": e.seed.name if e.seed else None}
                for e in (step.edges if step else ()) if e.contribution is not None
            ],
        }
        data[node_id] = entry
    return data


def array_data(array: np.ndarray) -> dict[str, Any]:
    """An array for the page: at most `SHOWN` values per axis, with statistics when cut."""
    a = np.asarray(array, dtype=np.float64)
    shown = a[tuple(slice(0, SHOWN) for _ in range(a.ndim))]
    result: dict[str, Any] = {
        "shape": list(a.shape),
        "shown": list(shown.shape),
        "truncated": shown.size < a.size,
        "values": jsonable(shown),
    }
    if result["truncated"]:
        result["stats"] = {"min": finite(a.min()), "mean": finite(a.mean()),
                           "max": finite(a.max())}
    return result


def json_for_script(data: Any) -> str:
    """JSON safe inside ``<script>``: no ``</`` can end the element early (non-finite numbers
    are null, as in every JSON the package writes)."""
    return dumps(data, indent=None).replace("</", "<\\/")


def comparison_html(c: dict[str, Any]) -> str:
    """The comparison of `autograd_bn.check.compare` as an HTML table."""
    numerical = c["numerical_gradient"]["computed"]
    head = "".join(f"<th>{g}</th>" for g in GRADS)
    rows = []
    for m in c["methods"]:
        cells = [f"<td><b>{escape(m['name'])}</b></td>",
                 f'<td class="wrap">{escape(m["description"])}</td>']
        for against in ("vs_autograd", "vs_numerical"):
            for g in GRADS:
                metrics = (m[against] or {}).get(g)
                if metrics is None:
                    cells.append('<td class="num">–</td>')
                    continue
                text = "exact" if metrics["exact"] else format_number(metrics["rel_error"])
                cls = "num ok" if metrics["allclose"] else "num bad"
                cells.append(f'<td class="{cls}" title="max|diff| '
                             f'{format_number(metrics["max_abs_diff"])}">{text}</td>')
        cells.append(f'<td class="num">{format_seconds(m["median_seconds"])}</td>')
        cells.append(f'<td class="{"ok" if m["agrees"] else "bad"}">'
                     f'{"yes" if m["agrees"] else "NO: " + ", ".join(m["disagreements"])}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    tol = c["tolerance"]
    notes = "".join(f"<p>{escape(note)}</p>" for note in c.get("notes", []))
    return f"""<p>cs231n's relative error of each method's gradients, against the engine's autograd
and against a central-difference numerical gradient{"" if numerical else " (skipped)"}; "exact"
means bit-for-bit equal. Green: within tolerance ({escape(tol["rule"])}, tol =
{format_number(tol["autograd"])} against autograd, {format_number(tol["numerical"])} against
the numerical gradient). <span class="hint">Hover a cell for the largest absolute
difference.</span></p>
<div class="table-wrap"><table class="data" id="compare-table">
<thead><tr><th rowspan="2">method</th><th rowspan="2">what it is</th>
<th colspan="3">rel. error vs autograd</th><th colspan="3">rel. error vs numerical</th>
<th rowspan="2">median time</th><th rowspan="2">agrees</th></tr>
<tr>{head}{head}</tr></thead>
<tbody>{"".join(rows)}</tbody>
</table></div>{notes}"""


def trace_html(trace: Trace) -> str:
    """The trace of `autograd_bn.check.trace` as an HTML table: node rows, then their edges."""
    rows = []
    for step in trace.steps:
        seed, diff, cls = _seed_cells(step.seed)
        rows.append(
            f'<tr class="node" data-key="{escape(step.key)}" data-step="{step.index}">'
            f'<td class="num">{step.index}</td>'
            f"<td>{escape(step.label)}</td><td>{escape(step.op)}</td>"
            f'<td class="mono">{shape_text(step.grad.shape)}</td>'
            f'<td class="mono">{escape(preview(step.grad))}</td>'
            f"<td>{seed}</td><td class=\"{cls}\">{diff}</td></tr>")
        if len(step.received_from) > 1:
            rows.append(
                f'<tr class="sum"><td></td><td colspan="4">= the sum of what '
                f'{escape(" and ".join(step.received_from))} send to it</td><td></td>'
                f'<td class="num">{format_number(step.sum_diff)}</td></tr>')
        for edge in step.edges:
            seed, diff, cls = _seed_cells(edge.seed)
            shape = "" if edge.contribution is None else shape_text(edge.contribution.shape)
            rows.append(
                f'<tr class="edge"><td></td><td class="to">→ {escape(edge.parent_label)}</td>'
                f"<td>{escape(edge.text)}</td><td class=\"mono\">{shape}</td>"
                f'<td class="mono">{escape(preview(edge.contribution))}</td>'
                f"<td>{seed}</td><td class=\"{cls}\">{diff}</td></tr>")
    found = sum(1 for e in trace.seed_summary().values() if e["places"])
    caption = "" if not trace.seed_places else f"""<caption>{found} of {len(trace.seed_places)}
seed values found; largest Δ {format_number(trace.max_diff)} (tolerance {trace.tolerance:.0e} ×
max(1, |value|)): {"all match" if trace.all_match else "MISMATCH"}.</caption>"""
    seed_text = "" if not trace.seed_places else """ <i>seed</i> names the matching
intermediate of the seed's staged backward (d10, d8_3, … dx) and Δ = max|engine − seed|."""
    return f"""<p>The engine's backward pass in the order it runs. Bold rows: the gradient
dL/d(node) arriving at a node. Rows with →: what the node sends to one input, its gradient times
the local derivative (Σ: summed over an axis broadcasting added; spread: copied to every row, as
the seed's <code>np.ones((N,D))</code>).{seed_text} <span class="hint">Click
a row to find the node in the graph.</span></p>
<div class="table-wrap"><table class="data" id="trace-table">
<thead><tr><th>#</th><th>node / → input</th><th>op / × local derivative</th><th>shape</th>
<th>gradient (first values)</th><th>seed</th><th>Δ</th></tr></thead>
<tbody>{"".join(rows)}</tbody>
{caption}
</table></div>"""


def _seed_cells(match: Any) -> tuple[str, str, str]:
    if match is None:
        return "", "", "num"
    return (escape(match.name), format_number(match.max_abs_diff),
            "num ok" if match.matches else "num bad")
