"""`draw`: any Tensor graph as a `graphviz.Digraph`, forward edges down, backward edges up.

Every node is drawn once, named ``n0, n1, …`` in `Tensor.nodes` order so the DOT source is
the same on every run. A forward edge goes from each input down to the node it feeds; with
``backward=True`` a red edge beside it carries the gradient back up, labelled with what the
gradient is multiplied by on the way (the op's local derivative, and ``.sum(axis=…)`` where
broadcasting is undone). The red edges are written in the forward direction with
``dir=back``: they point up, yet agree with the black ones on the top-down ranking.
"""

from __future__ import annotations

from collections import Counter
from html import escape

import graphviz

from autograd_bn.engine.naming import edge_label, op_text, short_names
from autograd_bn.engine.tensor import Tensor
from viz import style
from viz.values import array_lines

RANKDIRS = ("TB", "BT", "LR", "RL")


def draw(
    tensor: Tensor,
    *,
    backward: bool = True,
    values: bool = False,
    rankdir: str = "TB",
    legend: bool = True,
) -> graphviz.Digraph:
    """The graph that computed ``tensor``, as a `graphviz.Digraph` (displays inline in Jupyter).

    Each node shows its label, its op and its shape; ``values=True`` adds its value and its
    gradient (whole for small tensors, mean/min/max for big ones). ``backward=False`` leaves
    out the red backward edges; ``rankdir`` is Graphviz's (``"TB"`` top-down, ``"LR"``…);
    ``legend=False`` drops the key under the graph.

    Raises `TypeError` if ``tensor`` is not a `Tensor`, `ValueError` for an unknown rankdir.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw() needs a Tensor, got {type(tensor).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    nodes = tensor.nodes()
    ids = {node: f"n{index}" for index, node in enumerate(nodes)}
    names = short_names(nodes)
    backward_style = dict(style.BACKWARD_EDGE)
    if len(nodes) >= style.BIG_GRAPH:
        backward_style["constraint"] = "false"

    graph = graphviz.Digraph(name="autograd", strict=False)
    graph.attr(rankdir=rankdir, **style.GRAPH)
    graph.attr("node", **style.NODE)
    graph.attr("edge", **style.EDGE)
    if legend:
        graph.attr(label=_legend(backward, rankdir))

    for node in nodes:
        kind = style.kind(node, tensor)
        graph.node(ids[node], label=_node_label(node, names, values), id=ids[node],
                   **{"class": kind}, **style.NODE_STYLES[kind])
    users = Counter(parent for node in nodes for parent in node.parents)
    for node in nodes:
        for i, parent in enumerate(node.parents):
            edge = f"{ids[node]}_{i}"
            source = ids[parent]
            if users[parent] > style.HUB_USERS:
                # A node with many users (a weight every layer reuses) would pull them all
                # towards it, and Graphviz's layout time explodes: it is drawn again, small,
                # beside each user, and its edges start there.
                source = f"{ids[parent]}_for_{edge}"
                title = parent.label if parent.label else names[parent]
                graph.node(source, label=f"{title} ↺", id=source, tooltip=f"{title}, used by "
                           f"{users[parent]} nodes: drawn again beside each",
                           **{"class": "reference"}, **style.REFERENCE)
            graph.edge(source, ids[node], id=f"fwd_{edge}", **{"class": "forward"},
                       **style.FORWARD_EDGE)
            if backward and parent.requires_grad:
                graph.edge(source, ids[node], id=f"bwd_{edge}", **{"class": "backward"},
                           label=_html_lines(edge_label(node, i, names)),
                           **backward_style)
    return graph


def _node_label(node: Tensor, names: dict[Tensor, str], values: bool) -> str:
    title = node.label if node.label else names[node]
    rows = [f"<B>{escape(title)}</B>",
            f'<FONT POINT-SIZE="10" COLOR="#4b5563">{escape(op_text(node))} · '
            f"{escape(str(node.shape))}</FONT>"]
    if values:
        rows.append(_array_cell("value", node.data))
        if node.requires_grad:
            if node.grad is None:
                rows.append('<FONT POINT-SIZE="9" COLOR="#6b7280">grad: none yet '
                            "(call backward)</FONT>")
            else:
                rows.append(_array_cell("grad", node.grad, color=style.BACKWARD))
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows[:2])
    cells += "".join(f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{row}</TD></TR>' for row in rows[2:])
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _array_cell(name: str, array, color: str = "#111827") -> str:
    lines = array_lines(array)
    body = "".join(f'{escape(line)}<BR ALIGN="LEFT"/>' for line in lines)
    return (f'<FONT FACE="DejaVu Sans Mono,Courier,monospace" POINT-SIZE="9" COLOR="{color}">'
            f'{escape(name)}<BR ALIGN="LEFT"/>{body}</FONT>')


def _html_lines(lines: list[str]) -> str:
    return "<" + "<BR/>".join(escape(line) for line in lines) + ">"


_ARROWS = {"TB": ("↓", "↑"), "BT": ("↑", "↓"), "LR": ("→", "←"), "RL": ("←", "→")}


def _legend(backward: bool, rankdir: str) -> str:
    swatches = "".join(
        f'<TD BGCOLOR="{style.NODE_STYLES[kind]["fillcolor"]}" BORDER="1" '
        f'COLOR="{style.NODE_STYLES[kind]["color"]}">{text}</TD>'
        for kind, text in (("input", "input (requires grad)"), ("constant", "constant"),
                           ("intermediate", "intermediate"), ("output", "output"))
    )
    down, up = _ARROWS[rankdir]
    rows = [f"forward {down} black"]
    if backward:
        rows.append(f'<FONT COLOR="{style.BACKWARD}">backward {up} red: '
                    "d(input) += d(node) · the local derivative, then .sum or ·ones "
                    "where shown</FONT>")
    lines = "".join(f'<TR><TD COLSPAN="4">{row}</TD></TR>' for row in rows)
    return (f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="3"><TR>{swatches}</TR>'
            f"{lines}</TABLE>>")
