"""How each kind of node and edge looks. Change the picture's colours here, nowhere else."""

from __future__ import annotations

from autograd_bn.engine.tensor import Tensor

FONT = "Helvetica,Arial,DejaVu Sans,sans-serif"
FORWARD = "black"
BACKWARD = "#d62728"  # red

KINDS = ("input", "constant", "intermediate", "output")
"""Node kinds, each drawn differently: inputs that require grad (x, γ, β), constants (ε,
lifted numbers), intermediate results, and the tensor that was drawn (the output)."""

NODE_STYLES: dict[str, dict[str, str]] = {
    "input": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#dbeafe",
              "color": "#1d4ed8"},
    "constant": {"shape": "ellipse", "style": "dashed,filled", "fillcolor": "#f3f4f6",
                 "color": "#6b7280", "fontcolor": "#374151"},
    "intermediate": {"shape": "box", "style": "rounded,filled", "fillcolor": "white",
                     "color": "#4b5563"},
    "output": {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#fde68a",
               "color": "#b45309", "penwidth": "2"},
}

GRAPH = {"fontname": FONT, "nodesep": "0.35", "ranksep": "0.35", "bgcolor": "white",
         "labelloc": "b", "fontsize": "11"}
NODE = {"fontname": FONT, "fontsize": "12", "margin": "0.08,0.04", "height": "0.3"}
EDGE = {"fontname": FONT, "fontsize": "10", "arrowsize": "0.7"}
FORWARD_EDGE = {"color": FORWARD, "penwidth": "1.2"}
BACKWARD_EDGE = {"color": BACKWARD, "fontcolor": BACKWARD, "dir": "back", "penwidth": "1.0",
                 "style": "dashed"}
HUB_USERS = 4
"""A node used by more than this many nodes is a hub: it is drawn again, small (`REFERENCE`),
beside each of its users, and its edges start there. Edges from one node to every level of a
deep graph make Graphviz's layout time explode (a 20-layer network reusing one weight: 84 s);
drawn this way, it stays near linear in the graph's size (0.1 s)."""
BLOCK = {"shape": "box", "style": "rounded,filled,bold", "fillcolor": "#ede9fe",
         "color": "#6d28d9", "penwidth": "1.5"}
"""A collapsed block: one node standing for all of its nodes."""
BOX = {"style": "rounded,dashed", "color": "#6d28d9", "fontcolor": "#6d28d9", "labeljust": "l",
       "fontsize": "11"}
"""An expanded block: a labelled box around its nodes."""
REFERENCE = {"shape": "box", "style": "rounded,dashed", "color": "#6b7280",
             "fontcolor": "#374151", "fontsize": "10", "height": "0.2"}

BIG_GRAPH = 500
"""From this many nodes on, red edges stop taking part in the ranking (``constraint=false``)
and their labels are placed after the layout (``xlabel``): Graphviz lays out 2,000 nodes in a
few seconds instead of 40 or more, and the ranks, set by the black edges alone, are the same.
Small graphs keep both: their red edges then run neatly beside the black ones, labelled."""


def kind(node: Tensor, root: Tensor) -> str:
    """Which of `KINDS` ``node`` is, in the graph drawn from ``root``."""
    if node is root:
        return "output"
    if not node.requires_grad:
        return "constant"
    return "input" if node.is_leaf else "intermediate"
