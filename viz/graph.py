"""`draw`: any Tensor graph as a `graphviz.Digraph`, forward edges down, backward edges up.

Every node is drawn once, named ``n0, n1, …`` in `Tensor.nodes` order so the DOT source is
the same on every run. A forward edge goes from each input down to the node it feeds; with
``backward=True`` a red edge beside it carries the gradient back up, labelled with what the
gradient is multiplied by on the way (the op's local derivative, and ``.sum(axis=…)`` where
broadcasting is undone). The red edges are written in the forward direction with
``dir=back``: they point up, yet agree with the black ones on the top-down ranking.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Sequence
from html import escape

import graphviz

from autograd_bn.engine.naming import edge_label, op_text, short_names
from autograd_bn.engine.tensor import Tensor
from viz import style
from viz.blocks import Collapsed, block_paths, chosen, collapsed_groups
from viz.values import array_lines

RANKDIRS = ("TB", "BT", "LR", "RL")


def draw(
    tensor: Tensor,
    *,
    backward: bool = True,
    values: bool = False,
    rankdir: str = "TB",
    legend: bool = True,
    collapse: bool | Sequence[str] = False,
) -> graphviz.Digraph:
    """The graph that computed ``tensor``, as a `graphviz.Digraph` (displays inline in Jupyter).

    Each node shows its label, its op and its shape; ``values=True`` adds its value and its
    gradient (whole for small tensors, mean/min/max for big ones). ``backward=False`` leaves
    out the red backward edges; ``rankdir`` is Graphviz's (``"TB"`` top-down, ``"LR"``…);
    ``legend=False`` drops the key under the graph. Blocks (``with autograd_bn.block(...)``,
    ``batchnorm(..., name=...)``) are drawn as labelled boxes; ``collapse=True`` draws every
    outermost block as one node, ``collapse=["bn1", ...]`` the blocks named (a block's name,
    or its path ``"outer/inner"``), with one red edge per input labelled ``∂bn1/∂x``.

    Raises `TypeError` if ``tensor`` is not a `Tensor` or ``collapse`` is not a bool or a list
    of names, `ValueError` for an unknown rankdir or a block name the graph does not have.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw() needs a Tensor, got {type(tensor).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(RANKDIRS)}, got {rankdir!r}")
    nodes = tensor.nodes()
    names = short_names(nodes)
    groups = collapsed_groups(nodes, chosen(collapse, block_paths(nodes)))
    ids: dict[Tensor | Collapsed, str] = {node: f"n{i}" for i, node in enumerate(nodes)}
    for group in dict.fromkeys(groups.values()):
        ids[group] = f"b{len(ids) - len(nodes)}"
    backward_style = dict(style.BACKWARD_EDGE)
    label_attr = "label"
    if len(nodes) >= style.BIG_GRAPH:
        backward_style["constraint"] = "false"
        label_attr = "xlabel"  # placed after the layout: a label node per edge would slow it 15×

    graph = graphviz.Digraph(name="autograd", strict=False)
    graph.attr(rankdir=rankdir, **style.GRAPH)
    graph.attr("node", **style.NODE)
    graph.attr("edge", **style.EDGE)
    if legend:
        graph.attr(label=_legend(backward, rankdir))

    boxes: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]] = {}  # box path → nodes
    for node in nodes:
        if node not in groups:
            kind = style.kind(node, tensor)
            boxes.setdefault(node.block, []).append((ids[node], {
                "label": _node_label(node, names, values), "class": kind,
                **style.NODE_STYLES[kind]}))
    for group in dict.fromkeys(groups.values()):
        inner = "" if len(group.members) == 1 else "s"
        boxes.setdefault(group.path[:-1], []).append((ids[group], {
            "label": f"<<B>{_esc(group.path[-1])}</B><BR/><FONT POINT-SIZE=\"10\" "
                     f"COLOR=\"#4b5563\">block · {len(group.members)} node{inner}</FONT>>",
            "class": "block", **style.BLOCK}))
    _place(graph, (), boxes)

    def shown(node: Tensor) -> Tensor | Collapsed:
        return groups.get(node, node)

    edges: dict[tuple[str, str], tuple[Tensor, int, list[str] | None]] = {}
    for node in nodes:
        for i, parent in enumerate(node.parents):
            source, target = shown(parent), shown(node)
            if source is target:
                continue  # inside a collapsed block
            if isinstance(target, Collapsed):  # into a block: one edge per input, ∂bn1/∂x
                key = (ids[source], ids[target])
                title = source.path[-1] if isinstance(source, Collapsed) else names[parent]
                edges.setdefault(key, (node, i, [f"∂{target.path[-1]}/∂{title}"]))
            else:
                edges[(ids[source], f"{ids[node]}_{i}")] = (node, i, None)
    users = Counter(source for source, _ in edges)
    for (start, edge), (node, i, label) in edges.items():
        end = ids[shown(node)]
        edge_id = edge if label is None else f"{start}_{end}"
        if users[start] > style.HUB_USERS:
            # A node with many users (a weight every layer reuses) would pull them all
            # towards it, and Graphviz's layout time explodes: it is drawn again, small,
            # beside each user, and its edges start there.
            parent = node.parents[i]
            title = parent.label if parent.label else names[parent]
            if isinstance(shown(parent), Collapsed):
                title = groups[parent].path[-1]
            reference = f"{start}_for_{edge_id}"
            title = printable(title)
            graph.node(reference, label=f"{title} ↺", id=reference, tooltip=f"{title}, used "
                       f"by {users[start]} nodes: drawn again beside each",
                       **{"class": "reference"}, **style.REFERENCE)
            start = reference
        graph.edge(start, end, id=f"fwd_{edge_id}", **{"class": "forward"},
                   **style.FORWARD_EDGE)
        if backward and node.parents[i].requires_grad:
            lines = label if label is not None else edge_label(node, i, names)
            graph.edge(start, end, id=f"bwd_{edge_id}", **{"class": "backward"},
                       **{label_attr: _html_lines(lines)}, **backward_style)
    return graph


def _place(graph: graphviz.Digraph, path: tuple[str, ...],
           boxes: dict[tuple[str, ...], list[tuple[str, dict[str, str]]]]) -> None:
    """Draw the nodes of box ``path`` into ``graph``, and each box inside it as a cluster."""
    for node_id, attrs in boxes.get(path, []):
        graph.node(node_id, id=node_id, **attrs)
    inner = sorted({p[:len(path) + 1] for p in boxes if len(p) > len(path) and
                    p[:len(path)] == path})
    for child in inner:
        with graph.subgraph(name=f"cluster_{'/'.join(child)}") as box:
            box.attr(label=printable(child[-1]), id=f"block_{printable('/'.join(child))}",
                     **style.BOX)
            _place(box, child, boxes)


def printable(text: str) -> str:
    """``text`` with control characters (and lone surrogates) written out as ``\\x1b``,
    ``\\x00``…: a label may hold anything, but Graphviz fails on these ("syntax error"), and
    they would not show anyway."""
    if text.isprintable():
        return text
    return "".join(
        (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
        if unicodedata.category(c) in ("Cc", "Cs") else c for c in text)


def _esc(text: str) -> str:
    """``text`` for an HTML-like Graphviz label: control characters shown, markup escaped."""
    return escape(printable(text))


def _node_label(node: Tensor, names: dict[Tensor, str], values: bool) -> str:
    title = node.label if node.label else names[node]
    rows = [f"<B>{_esc(title)}</B>",
            f'<FONT POINT-SIZE="10" COLOR="#4b5563">{_esc(op_text(node))} · '
            f"{_esc(str(node.shape))}</FONT>"]
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
    body = "".join(f'{_esc(line)}<BR ALIGN="LEFT"/>' for line in lines)
    return (f'<FONT FACE="DejaVu Sans Mono,Courier,monospace" POINT-SIZE="9" COLOR="{color}">'
            f'{_esc(name)}<BR ALIGN="LEFT"/>{body}</FONT>')


def _html_lines(lines: list[str]) -> str:
    return "<" + "<BR/>".join(_esc(line) for line in lines) + ">"


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
