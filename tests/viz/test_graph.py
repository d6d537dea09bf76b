"""viz: nodes, forward and backward edges and their labels, values (rendering: test_viz_render)."""

from __future__ import annotations

import re
import runpy
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import graphviz
import numpy as np
import pytest

import viz
from autograd_bn import Tensor
from autograd_bn.bn.primitives import SEED_LABELS, batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.engine.naming import edge_label, short_names
from viz import style
from viz.values import array_lines

SVG = "{http://www.w3.org/2000/svg}"


def bn_graph(n: int = 4, d: int = 5, backward: bool = False) -> Tensor:
    p = make_problem(n, d, seed=0)
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    if backward:
        out.backward(p.dout)
    return out


def parse_svg(svg: str | bytes) -> tuple[dict[str, list[str]], dict[str, dict]]:
    """Nodes as {id: [text lines]}, edges as {id: {"title", "stroke", "classes", "text"}}."""
    root = ET.fromstring(svg)
    nodes, edges = {}, {}
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        texts = ["".join(t.itertext()) for t in group.iter(f"{SVG}text")]
        if "node" in classes:
            nodes[group.get("id")] = texts
        elif "edge" in classes:
            path = group.find(f"{SVG}path")
            edges[group.get("id")] = {
                "title": group.find(f"{SVG}title").text,
                "stroke": path.get("stroke"),
                "classes": classes,
                "text": texts,
            }
    return nodes, edges


@pytest.fixture(scope="module")
def bn_svg() -> tuple[dict[str, list[str]], dict[str, dict]]:
    return parse_svg(viz.draw(bn_graph()).pipe(format="svg"))


# ---- the BN graph, as SVG ------------------------------------------------------------------


def test_bn_svg_has_every_seed_node_once(bn_svg) -> None:
    nodes, _ = bn_svg
    titles = [texts[0] for texts in nodes.values()]
    for label in SEED_LABELS.values():
        assert titles.count(label) == 1, label
    assert len(nodes) == 14  # the twelve seed nodes, ε and (5)+ε
    assert "ε" in titles and "(5)+ε" in titles
    node_of = {texts[0]: texts for texts in nodes.values()}
    assert node_of["(3) x − mean"][1] == "sub · (4, 5)"
    assert node_of["(2) mean"][1] == "mean(axis=0) · (5,)"
    assert node_of["(4) (3)²"][1] == "pow(p=2) · (4, 5)"
    assert node_of["(9) γ"][1] == "input · (5,)"
    assert node_of["ε"][1] == "constant · ()"


def test_bn_svg_forward_edges_black_backward_edges_red(bn_svg) -> None:
    _, edges = bn_svg
    forward = {k: e for k, e in edges.items() if "forward" in e["classes"]}
    backward = {k: e for k, e in edges.items() if "backward" in e["classes"]}
    # 15 inputs in all; every one but ε gets a gradient
    assert len(forward) == 15 and len(backward) == 14
    assert {e["stroke"] for e in forward.values()} == {"black"}
    assert {e["stroke"] for e in backward.values()} == {style.BACKWARD}
    assert all(not e["text"] for e in forward.values())
    assert all(e["text"] for e in backward.values())


def test_bn_svg_backward_labels_follow_the_seed(bn_svg) -> None:
    nodes, edges = bn_svg
    number = {texts[0]: node_id for node_id, texts in nodes.items()}

    def label(child: str, parent: str) -> list[str]:
        (edge,) = [e for e in edges.values() if "backward" in e["classes"]
                   and e["title"] == f"{number[parent]}->{number[child]}"]
        return edge["text"]

    assert label("(4) (3)²", "(3) x − mean") == ["·2·(3)"]
    assert label("(10) (8)·(9)", "(9) γ") == ["·(8)", ".sum(axis=0)"]
    assert label("(12) out", "(11) β") == ["·1", ".sum(axis=0)"]
    assert label("(8) x̂", "(7) 1/(6)") == ["·(3)", ".sum(axis=0)"]
    assert label("(8) x̂", "(3) x − mean") == ["·(7)"]
    assert label("(7) 1/(6)", "(6) std") == ["·(−1/(6)²)"]
    assert label("(6) std", "(5)+ε") == ["·0.5/(6)"]
    assert label("(3) x − mean", "(2) mean") == ["·(−1)", ".sum(axis=0)"]
    assert label("(2) mean", "(1) x") == ["·1/4", "·ones((4, 5))"]
    assert label("(5) var", "(4) (3)²") == ["·1/4", "·ones((4, 5))"]


def test_backward_labels_are_the_engines_local_derivatives() -> None:
    out = bn_graph()
    nodes = out.nodes()
    names = short_names(nodes)
    for node in nodes:
        for i in range(len(node.parents)):
            derivative = node.local_derivative(i)
            factor = f"·({derivative})" if derivative.startswith("−") else f"·{derivative}"
            assert edge_label(node, i, names)[0] == factor


def test_bn_node_kinds_look_different() -> None:
    looks = {tuple(sorted(s.items())) for s in style.NODE_STYLES.values()}
    assert len(looks) == len(style.KINDS)
    root = ET.fromstring(viz.draw(bn_graph()).pipe(format="svg"))
    kinds: dict[str, set[str]] = {}
    for group in root.iter(f"{SVG}g"):
        classes = group.get("class", "").split()
        if "node" in classes:
            title = "".join(group.find(f"{SVG}text").itertext())
            kinds.setdefault(classes[1], set()).add(title)
    assert kinds["input"] == {"(1) x", "(9) γ", "(11) β"}
    assert kinds["constant"] == {"ε"}
    assert kinds["output"] == {"(12) out"}
    assert len(kinds["intermediate"]) == 9


def test_no_backward_draws_only_black_edges() -> None:
    _, edges = parse_svg(viz.draw(bn_graph(), backward=False).pipe(format="svg"))
    assert len(edges) == 15
    assert {e["stroke"] for e in edges.values()} == {"black"}


# ---- exact DOT ------------------------------------------------------------------------------


TINY_DOT = """\
digraph autograd {
\tbgcolor=white fontname="Helvetica,Arial,DejaVu Sans,sans-serif" fontsize=11 labelloc=b \
nodesep=0.35 rankdir=TB ranksep=0.35
\tnode [fontname="Helvetica,Arial,DejaVu Sans,sans-serif" fontsize=12 height=0.3 \
margin="0.08,0.04"]
\tedge [arrowsize=0.7 fontname="Helvetica,Arial,DejaVu Sans,sans-serif" fontsize=10]
\tn0 [label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>a</B>\
</TD></TR><TR><TD><FONT POINT-SIZE="10" COLOR="#4b5563">input · ()</FONT></TD></TR></TABLE>> \
class=input color="#1d4ed8" fillcolor="#dbeafe" id=n0 shape=box style="rounded,filled,bold"]
\tn1 [label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>#1</B>\
</TD></TR><TR><TD><FONT POINT-SIZE="10" COLOR="#4b5563">mul_scalar(·3) · ()</FONT></TD></TR>\
</TABLE>> class=intermediate color="#4b5563" fillcolor=white id=n1 shape=box style="rounded,filled"]
\tn2 [label=<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1"><TR><TD><B>y</B>\
</TD></TR><TR><TD><FONT POINT-SIZE="10" COLOR="#4b5563">sqrt · ()</FONT></TD></TR></TABLE>> \
class=output color="#b45309" fillcolor="#fde68a" id=n2 penwidth=2 shape=box \
style="rounded,filled,bold"]
\tn0 -> n1 [class=forward color=black id=fwd_n1_0 penwidth=1.2]
\tn0 -> n1 [label=<·3> class=backward color="#d62728" dir=back fontcolor="#d62728" \
id=bwd_n1_0 penwidth=1.0 style=dashed]
\tn1 -> n2 [class=forward color=black id=fwd_n2_0 penwidth=1.2]
\tn1 -> n2 [label=<·0.5/y> class=backward color="#d62728" dir=back fontcolor="#d62728" \
id=bwd_n2_0 penwidth=1.0 style=dashed]
}
"""


def test_dot_source_of_a_tiny_expression_exactly() -> None:
    a = Tensor(2.0, label="a")
    y = (a * 3).sqrt()
    y.label = "y"
    assert viz.draw(y, legend=False).source == TINY_DOT
    assert viz.draw(y, legend=False).source == TINY_DOT  # deterministic


def test_legend_follows_rankdir_and_backward() -> None:
    y = Tensor([1.0], label="a") * 2
    assert "forward ↓" in viz.draw(y).source and "backward ↑" in viz.draw(y).source
    assert "forward →" in viz.draw(y, rankdir="LR").source
    assert "backward" not in viz.draw(y, backward=False).source.split("label=<<TABLE")[1]


# ---- edges of any expression ---------------------------------------------------------------


def test_same_input_twice_gets_two_edge_pairs() -> None:
    a = Tensor([1.0, 2.0], label="a")
    _, edges = parse_svg(viz.draw(a * a).pipe(format="svg"))
    assert sorted(e["title"] for e in edges.values()) == ["n0->n1"] * 4
    assert sorted(e["text"][0] for e in edges.values() if e["text"]) == ["·a", "·a"]


def test_unlabelled_nodes_are_numbered_in_derivatives() -> None:
    x = Tensor(np.ones((3, 2)))
    w = Tensor(np.ones(2))
    out = (x * w).sum(axis=1)
    source = viz.draw(out).source
    assert "<B>#0</B>" in source and "<B>#1</B>" in source
    assert "label=<·#1>" in source  # d(x·w)/dx = w, which is node #1
    assert "label=<·#0<BR/>.sum(axis=0)>" in source  # w was broadcast over the rows
    assert "label=<·1<BR/>·ones((3, 2))>" in source  # the sum spreads back out


def test_labels_are_escaped() -> None:
    a = Tensor([1.0], label='<b>&"q"\\')
    source = viz.draw(a * 2).source
    assert "&lt;b&gt;&amp;&quot;q&quot;\\" in source
    svg = viz.draw(a * 2).pipe(format="svg")
    nodes, edges = parse_svg(svg)
    assert nodes["n0"][0] == '<b>&"q"\\'
    assert ["·2"] in [e["text"] for e in edges.values()]


def test_a_leaf_alone_and_a_graph_without_grad() -> None:
    nodes, edges = parse_svg(viz.draw(Tensor([1.0], label="x")).pipe(format="svg"))
    assert list(nodes.values()) == [["x", "input · (1,)"]] and edges == {}
    c = Tensor([1.0], label="c", requires_grad=False) * 2
    _, edges = parse_svg(viz.draw(c).pipe(format="svg"))
    assert all("forward" in e["classes"] for e in edges.values()) and len(edges) == 1


# ---- values ---------------------------------------------------------------------------------


def test_values_small_tensors_whole() -> None:
    out = bn_graph(2, 3, backward=True)
    nodes, _ = parse_svg(viz.draw(out, values=True).pipe(format="svg"))
    node_of = {texts[0]: texts for texts in nodes.values()}
    gamma = node_of["(9) γ"]
    assert gamma[2] == "value" and "grad" in gamma
    assert any("0.9501" in line for line in gamma)  # γ[0] of seed 0
    assert node_of["ε"][2:] == ["value", "1e−05"]
    assert "grad" not in node_of["ε"]  # a constant has no gradient


def test_values_big_tensors_as_statistics() -> None:
    out = bn_graph(40, 30, backward=True)
    source = viz.draw(out, values=True).source
    assert "mean " in source and " min " in source and " max " in source
    assert source.count("[[") == 0  # no 40×30 matrix printed


def test_values_before_backward_says_so() -> None:
    source = viz.draw(bn_graph(), values=True).source
    assert "grad: none yet (call backward)" in source


def test_array_lines() -> None:
    assert array_lines(np.array(1e-5)) == ["1e−05"]
    assert array_lines(np.array([[1.5, -2.0], [3.0, 4.25]])) == ["[[ 1.5   −2]", " [   3 4.25]]"]
    assert array_lines(np.arange(30.0)) == ["mean 14.5  min 0  max 29"]
    assert array_lines(np.full(25, np.nan)) == ["all 25 values non-finite"]
    assert array_lines(np.r_[np.full(5, np.inf), np.ones(20)]) == [
        "mean 1  min 1  max 1", "5 non-finite (nan/inf) not counted"]
    assert array_lines(np.zeros((0, 3))) == ["(empty)"]


# ---- notebooks and big graphs ----------------------------------------------------------------


def test_digraph_displays_in_jupyter() -> None:
    graph = viz.draw(bn_graph())
    assert isinstance(graph, graphviz.Digraph)
    bundle = graph._repr_mimebundle_()
    svg = bundle["image/svg+xml"]
    assert isinstance(svg, str)
    nodes, _ = parse_svg(svg.encode("utf-8"))
    assert "(12) out" in [texts[0] for texts in nodes.values()]
    assert graph._repr_mimebundle_(include=["image/png"])["image/png"][:4] == b"\x89PNG"


def chain(n: int) -> Tensor:
    """A graph of exactly ``n`` nodes: a leaf and n − 1 unary ops."""
    t = Tensor(np.array([1.0, 2.0]), label="x")
    for i in range(n - 1):
        t = t**1 if i % 2 else -t
    return t


def test_two_thousand_nodes_to_dot_quickly() -> None:
    out = chain(2000)
    source = viz.draw(out, values=True).source
    assert "n1999 [" in source and "n2000" not in source
    assert source.count("class=backward") == 1999


def test_two_thousand_nodes_render_to_svg(tmp_path: Path) -> None:
    path = viz.render(chain(2000), tmp_path / "big.svg")
    nodes, edges = parse_svg(path.read_bytes())
    assert len(nodes) == 2000 and len(edges) == 2 * 1999


# ---- graphs past BN: no hub node -----------------------------------------------------------


# A network that reuses one weight and one bias in every layer (each a hub): the benchmark's.
mlp_like = runpy.run_path(str(Path(__file__).resolve().parents[2] / "benchmarks" /
                              "render.py"))["shared_weight_network"]


def out_degrees(source: str) -> Counter[str]:
    return Counter(re.findall(r"^\t(\S+) -> ", source, flags=re.M))


def test_no_node_of_a_deep_graph_has_edges_to_every_level() -> None:
    """A node used at every level makes Graphviz's layout explode (a 20-layer network that
    reuses its weight took 84 s to draw): such a node is drawn again beside each user."""
    out = mlp_like(20)
    source = viz.draw(out).source
    assert max(out_degrees(source).values()) <= 2 * style.HUB_USERS  # forward + backward
    assert source.count('class=reference') == 40  # w and b, once beside each of 20 users
    chain = Tensor([1.0], label="x")
    for _ in range(50):  # numbers are op settings: nothing is shared, nothing is a hub
        chain = chain * 1.001 + 0.5
    assert max(out_degrees(viz.draw(chain.sum()).source).values()) <= 2
    assert "class=reference" not in viz.draw(chain.sum()).source


def test_a_hub_keeps_its_edges_and_their_ids() -> None:
    out = mlp_like(5)
    nodes, edges = parse_svg(viz.draw(out).pipe(format="svg"))
    forward = [k for k, e in edges.items() if "forward" in e["classes"]]
    backward = [k for k, e in edges.items() if "backward" in e["classes"]]
    n_inputs = sum(len(node.parents) for node in out.nodes())
    assert len(forward) == n_inputs and len(backward) == n_inputs  # every edge still drawn
    assert sum(texts[0] == "w ↺" for texts in nodes.values()) == 5


@pytest.mark.parametrize("build", ["chain of 50 with numbers", "20 layers reusing w and b"])
def test_graphs_past_bn_render_well_within_a_time_limit(build: str, tmp_path: Path) -> None:
    """Before numbers became op settings and hubs were drawn apart these took 794 s and 84 s;
    a 30 s limit (far above the ~0.3 s they take now) turns a regression into a failure."""
    if build.startswith("chain"):
        out = Tensor([1.0, 2.0], label="x")
        for _ in range(50):
            out = out * 1.001 + 0.5
        out = out.sum()
    else:
        out = mlp_like(20)
    written = viz.render(out, tmp_path / "g.svg", timeout=30)
    assert written.read_bytes().startswith(b"<?xml")
