"""Blocks in a drawing: a labelled box when expanded, one node when collapsed."""

from __future__ import annotations

import re

import numpy as np
import pytest

import viz
from autograd_bn import Tensor, batchnorm, block


def network(layers: int, n: int = 8, d: int = 4) -> Tensor:
    """``layers`` layers of (x·w → BN → sqrt(h² + 1)), each layer and each BN a block."""
    rng = np.random.default_rng(0)
    h = Tensor(rng.standard_normal((n, d)), label="x")
    for i in range(1, layers + 1):
        w = Tensor(rng.standard_normal(d), label=f"w{i}")
        with block(f"layer{i}"):
            h = batchnorm(h * w, np.ones(d), np.zeros(d), name=f"bn{i}")
            h = (h * h + 1.0).sqrt()
    return h.mean()


def drawn_nodes(source: str) -> list[str]:
    return [n for n in re.findall(r"^\t+(\w+) \[", source, flags=re.M) if n not in ("node", "edge")]


def test_blocks_are_labelled_boxes_by_default() -> None:
    source = viz.draw(network(2)).source
    assert "subgraph cluster_layer1 {" in source and 'subgraph "cluster_layer1/bn1" {' in source
    assert "label=bn1" in source and "label=layer2" in source
    assert len(drawn_nodes(source)) == len(network(2).nodes())  # nothing hidden


def test_a_ten_layer_network_collapsed_is_about_three_nodes_a_layer() -> None:
    out = network(10)
    expanded = drawn_nodes(viz.draw(out).source)
    collapsed = viz.draw(out, collapse=True).source
    nodes = drawn_nodes(collapsed)
    assert len(nodes) <= 3 * 10 + 2 < len(expanded)
    assert collapsed.count("class=block") == 10
    assert "∂layer1/∂x" in collapsed and "∂layer2/∂layer1" in collapsed
    assert "∂layer1/∂w1" in collapsed  # one red edge per input of the block


def test_collapsing_named_blocks_only() -> None:
    out = network(3)
    source = viz.draw(out, collapse=["bn2"]).source
    assert source.count("class=block") == 1 and "∂bn2/∂" in source
    assert "subgraph cluster_layer2 {" in source  # the enclosing block is still a box
    both = viz.draw(out, collapse=["layer1/bn1", "bn3"]).source
    assert both.count("class=block") == 2


def test_collapsed_graph_renders_and_keeps_one_backward_edge_per_input() -> None:
    x = Tensor(np.arange(6.0).reshape(3, 2), label="x")
    out = batchnorm(x, np.ones(2), np.zeros(2), name="bn")
    source = viz.draw(out, collapse=True).source
    red = re.findall(r'label=<(∂[^>]*)>', source)
    assert sorted(red) == ["∂bn/∂(11)", "∂bn/∂(9)", "∂bn/∂x"]
    assert viz.draw(out, collapse=True).pipe(format="svg").startswith(b"<?xml")


@pytest.mark.parametrize(("collapse", "error", "message"), [
    ("bn1", TypeError, "collapse must be True, False or a list of block names, got 'bn1'"),
    ([1], TypeError, "collapse must be True, False or a list of block names"),
    (["nope"], ValueError, r"no block named 'nope' in this graph \(blocks: layer1, layer1/bn1\)"),
])
def test_bad_collapse_arguments(collapse: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        viz.draw(network(1), collapse=collapse)  # type: ignore[arg-type]


def test_collapse_without_blocks_draws_the_whole_graph() -> None:
    out = (Tensor([1.0], label="a") * 2).sum()
    assert viz.draw(out, collapse=True).source == viz.draw(out).source


def test_in_jupyter_a_collapsed_drawing_shows_inline_as_svg() -> None:
    """Jupyter shows a cell's value through ``_repr_mimebundle_``: graphviz renders the SVG."""
    bundle = viz.draw(network(2), collapse=True)._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert "layer2" in bundle["image/svg+xml"]
