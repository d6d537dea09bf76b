"""Draw any `autograd_bn.Tensor` graph with Graphviz: forward in black, backward in red.

    >>> import viz
    >>> viz.draw(out)                      # a graphviz.Digraph; shows inline in Jupyter
    >>> viz.render(out, "bn_graph.svg")    # or .png, .pdf, .dot (DOT source needs no Graphviz)

One idea per module: `viz.values` (arrays as short text), `viz.style` (looks), `viz.graph`
(`draw`), `viz.output` (`render`), `viz.process` (running ``dot``: bounded in time, never
left behind). Node names and the backward edges' labels come from
`autograd_bn.engine.naming`, which the trace and the report use too.
"""

from viz.graph import draw
from viz.output import FORMATS, GraphvizNotFoundError, RenderTimeoutError, render

__all__ = ["FORMATS", "GraphvizNotFoundError", "RenderTimeoutError", "draw", "render"]
