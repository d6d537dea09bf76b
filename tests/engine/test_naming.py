"""One naming for nodes and backward edges: the trace, the report and the graph agree."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

import viz
from autograd_bn import Tensor
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.trace import trace_batchnorm
from autograd_bn.text.report_tables import node_data, trace_html
from autograd_bn.text.trace import format_trace


def backward_labels(out: Tensor) -> dict[tuple[str, str], str]:
    """The graph's red-edge labels by (node label, input label), as drawn."""
    source = viz.draw(out).source
    nodes = out.nodes()
    labels = {}
    for match in re.finditer(r"n(\d+) -> n(\d+) \[label=<(.*?)> class=backward", source):
        parent, child = nodes[int(match[1])], nodes[int(match[2])]
        labels[(child.label, parent.label)] = match[3]
    return labels


@pytest.mark.parametrize("n", [1, 4])
def test_trace_and_graph_agree_on_what_spreads(n: int) -> None:
    p = make_problem(n, 3, 0)
    trace = trace_batchnorm(p)
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    drawn = backward_labels(out)
    steps = {step.key: step for step in trace.steps}
    for step in trace.steps:
        for edge in step.edges:
            if edge.contribution is None:
                continue
            label = drawn[(step.label, edge.parent_label)]
            assert edge.spread == ("·ones" in label), (step.label, edge.parent_label, label)
            assert edge.spread == (steps[edge.parent].grad.size > step.grad.size)


def test_a_one_element_sum_does_not_spread() -> None:
    x = Tensor(np.array([2.0]), label="x")
    out = x.sum()
    assert backward_labels(out)[(out.label, "x")] == "·1"


def test_leaves_are_named_alike_everywhere() -> None:
    p = make_problem()
    trace = trace_batchnorm(p)
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    out.backward(p.dout)
    ops = {step.label: step.op for step in trace.steps}
    assert ops["(1) x"] == ops["(9) γ"] == ops["(11) β"] == "input"
    data = {entry["label"]: entry["op"] for entry in node_data(out, trace).values()}
    assert data["(1) x"] == "input" and data["ε"] == "constant"
    assert "<B>(1) x</B>" in viz.draw(out).source
    assert "input · (4, 5)" in viz.draw(out).source


def test_trace_text_and_report_write_an_edge_alike() -> None:
    trace = trace_batchnorm(make_problem())
    step = next(s for s in trace.steps if s.key == "(10)")
    edge = next(e for e in step.edges if e.parent == "(9)")
    wide = dataclasses.replace(edge, summed_axes=(0, 1))  # a sum over two axes
    steps = tuple(dataclasses.replace(s, edges=tuple(wide if e is edge else e for e in s.edges))
                  for s in trace.steps)
    trace = dataclasses.replace(trace, steps=steps)
    text = next(line for line in format_trace(trace).splitlines() if "× (8), Σ" in line)
    assert wide.text == "× (8), Σ axis (0, 1)" and f" {wide.text} " in text
    assert f"<td>{wide.text}</td>" in trace_html(trace)
