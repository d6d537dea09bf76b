"""Stepping through the backward pass in the report, in real headless Chromium: deep links,
Step/Back/Play/Reset and the arrow keys, the chain-rule panel's numbers against the trace's
JSON, the gradient-size toggle and the paths from the output to an input."""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.trace import trace_graph
from autograd_bn.text.report import Report, build_report, write_graph_report
from tests.browser import Chromium, require_chromium

require_chromium()

STATE = """(() => {
  const panel = document.getElementById('step-panel');
  const ids = sel => [...document.querySelectorAll('#graph svg ' + sel)].map(g => g.id);
  return {
    step: Number(document.documentElement.getAttribute('data-step')),
    hash: location.hash,
    hidden: panel.hidden,
    panelStep: panel.getAttribute('data-step'),
    title: panel.querySelector('h3')?.textContent,
    rules: [...panel.querySelectorAll('.rule')].map(p => p.textContent),
    terms: [...panel.querySelectorAll('tr.term')].map(tr => ({
      op: tr.querySelector('td.op').textContent,
      what: tr.querySelector('.what').textContent,
      user: tr.querySelector('.values.user').textContent,
      sent: tr.querySelector('.values.contribution').textContent})),
    result: panel.querySelector('.values.grad')?.textContent,
    current: ids('g.node.current'), pending: ids('g.node.pending'), lit: ids('g.edge.lit'),
    dimmed: [...document.querySelectorAll('#graph svg g.node.pending')]
      .map(g => Number(getComputedStyle(g).opacity)),
  };
})()"""
WIDTHS = """Object.fromEntries([...document.querySelectorAll('#graph svg g.edge.backward')]
  .map(g => [g.id, parseFloat(getComputedStyle(g.querySelector('path')).strokeWidth)]))"""


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", text.strip("[]…"))]


def close(shown: list[float], exact: list[float]) -> bool:
    return len(shown) == len(exact) and all(
        math.isclose(a, b, rel_tol=1e-3, abs_tol=1e-12) for a, b in zip(shown, exact,
                                                                          strict=True))


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(make_problem(), with_torch=False, repeats=1)


@pytest.fixture(scope="module")
def page(report: Report, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("steps") / "bn_report.html"
    path.write_text(report.html, encoding="utf-8")
    return path


@pytest.fixture
def browser() -> Any:
    with Chromium() as chromium:
        yield chromium
        assert chromium.errors() == []
        assert all(url.startswith(("file://", "about:")) for url in chromium.requests())


def incoming(trace: dict[str, Any], node_id: str) -> list[tuple[dict, dict]]:
    """(user step, edge) of every edge into ``node_id``, in the engine's order."""
    return [(s, e) for s in trace["steps"] for e in s["edges"]
            if e["to_id"] == node_id and e["requires_grad"]]


def first(values: Any, count: int = 6) -> list[float]:
    return list(np.asarray(values, dtype=float).ravel()[:count])


@pytest.mark.parametrize("k", [5, 9, 11])
def test_a_deep_link_opens_at_that_step_with_the_traces_numbers(
        browser: Chromium, page: Path, report: Report, k: int) -> None:
    browser.open(page, f"step={k}")
    state = browser.evaluate(STATE)
    trace = json.loads(report.trace.to_json())
    step = trace["steps"][k - 1]
    assert state["step"] == k and state["panelStep"] == str(k) and not state["hidden"]
    assert state["current"] == [step["id"]] and step["label"] in state["title"]
    later = {s["id"] for s in trace["steps"][k:]}
    assert later <= set(state["pending"]) and step["id"] not in state["pending"]
    assert all(o < 0.5 for o in state["dimmed"])  # not reached yet: dimmed
    edges = incoming(trace, step["id"])
    assert sorted(state["lit"]) == sorted(
        f"bwd_{user['id']}_{user['edges'].index(edge)}" for user, edge in edges)
    assert len(state["terms"]) == len(edges)
    for term, (user, edge) in zip(state["terms"], edges, strict=True):
        assert close(numbers(term["user"]), first(user["grad"]))
        assert close(numbers(term["sent"]), first(edge["contribution"]))
        if edge["seed"]:
            assert edge["seed"]["name"] in term["what"]
    assert close(numbers(state["result"]), first(step["grad"]))
    rule = state["rules"][0]
    if k == 5:
        assert rule == "d(6) = d(7)·(−1/(6)²)"
    if k == 9:  # two users: the gradient adds up, +=, and the seed's names
        assert rule == "d(3) = d(8)·(7) + d(4)·2·(3)"
        assert [t["op"] for t in state["terms"]] == ["=", "+="]
        assert "d3_1 = d8_3 + d4" in state["rules"]
    if k == 11:  # broadcasting undone
        assert rule == "d(11) = d(12).sum(axis=0)" and step["label"] == "(11) β"


def test_step_back_keys_reset_and_the_fragment(browser: Chromium, page: Path,
                                               report: Report) -> None:
    steps = report.trace.steps
    browser.open(page, "step=5")
    browser.evaluate("document.getElementById('step-next').click()")
    state = browser.evaluate(STATE)
    assert state["step"] == 6 and state["hash"] == "#step=6"
    assert state["current"] == [steps[5].node_id]
    browser.key("ArrowRight")
    assert browser.evaluate(STATE)["step"] == 7
    browser.key("ArrowLeft")
    browser.evaluate("document.getElementById('step-back').click()")
    state = browser.evaluate(STATE)
    assert state["step"] == 5 and state["hash"] == "#step=5"
    assert state["current"] == [steps[4].node_id]
    browser.evaluate("location.hash = '#step=2'")  # a link inside the page, or a typed one
    time.sleep(0.1)
    assert browser.evaluate(STATE)["current"] == [steps[1].node_id]
    browser.evaluate("document.getElementById('step-reset').click()")
    state = browser.evaluate(STATE)
    assert state["step"] == 0 and state["hidden"] and state["current"] == []
    assert state["pending"] == [] and state["hash"] == ""


def test_node_links_and_play(browser: Chromium, page: Path, report: Report) -> None:
    x = next(s for s in report.trace.steps if s.label == "(1) x")
    browser.open(page, f"node={x.node_id}")
    assert browser.evaluate(STATE)["step"] == x.index
    browser.open(page, "node=(7)")  # a node's name works too
    assert browser.evaluate(STATE)["current"] == [
        next(s.node_id for s in report.trace.steps if s.key == "(7)")]
    browser.evaluate("document.getElementById('step-reset').click();"
                     "document.getElementById('step-speed').value = '400';"
                     "document.getElementById('step-play').click()")
    time.sleep(1.0)
    playing = browser.evaluate(STATE)["step"]
    assert 2 <= playing < len(report.trace.steps)
    time.sleep(0.5)
    assert browser.evaluate(STATE)["step"] > playing


def test_gradient_size_draws_edges_by_rms(browser: Chromium, page: Path,
                                          report: Report) -> None:
    browser.open(page)
    before = browser.evaluate(WIDTHS)
    assert len(set(before.values())) == 1
    browser.evaluate("document.getElementById('grad-size').click()")
    after = browser.evaluate(WIDTHS)
    legend = browser.evaluate("document.getElementById('grad-legend').hidden")
    assert not legend and len(set(after.values())) > 3
    sizes = {}
    for step in report.trace.steps:
        for i, edge in enumerate(step.edges):
            if edge.contribution is not None:
                sizes[f"bwd_{step.node_id}_{i}"] = float(np.sqrt(np.mean(edge.contribution ** 2)))
    assert set(sizes) == set(after)
    for a in sizes:
        for b in sizes:
            if sizes[a] < sizes[b] * 0.999:
                assert after[a] <= after[b], (a, b)
    browser.evaluate("document.getElementById('grad-size').click()")
    assert browser.evaluate(WIDTHS) == before


def on_paths(out: Any, leaf_label: str) -> set[str]:
    """The red edges on every path from ``out`` to the leaf, from the engine's graph."""
    nodes = out.nodes()
    leaf = next(n for n in nodes if n.label == leaf_label)
    reaches = {leaf}
    for node in nodes:  # inputs first: a node's parents are decided before it
        if any(p in reaches for p in node.parents if p.requires_grad):
            reaches.add(node)
    return {f"bwd_n{nodes.index(n)}_{i}" for n in nodes for i, p in enumerate(n.parents)
            if p in reaches and p.requires_grad}


@pytest.mark.parametrize("leaf", ["(9) γ", "(1) x", "(11) β"])
def test_path_to_an_input_covers_exactly_its_edges(browser: Chromium, page: Path,
                                                   leaf: str) -> None:
    p = make_problem()
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    browser.open(page)
    options = browser.evaluate("Object.fromEntries([...document.querySelectorAll("
                               "'#path-to option')].map(o => [o.textContent, o.value]))")
    assert set(options) == {"(none)", "(1) x", "(9) γ", "(11) β"}
    browser.evaluate(f"const s = document.getElementById('path-to'); s.value = "
                     f"{json.dumps(options[leaf])}; s.dispatchEvent(new Event('change'))")
    lit = browser.evaluate("[...document.querySelectorAll('#graph svg g.edge.on-path')]"
                           ".map(g => g.id)")
    assert set(lit) == on_paths(out, leaf)


def test_any_graph_collapsed_steps_in_the_browser(browser: Chromium, tmp_path: Path) -> None:
    from examples.small_network import network

    loss = network(layers=2)
    path = write_graph_report(loss, tmp_path / "net.html", collapse=["bn2"])
    trace = trace_graph(loss)
    browser.open(path, "step=3")
    state = browser.evaluate(STATE)
    assert state["step"] == 3 and len(state["current"]) == 1 and state["terms"]
    assert state["current"] == [trace.steps[2].node_id]
    inside = next(s for s in trace.steps if "bn2" in s.key)  # drawn as its collapsed block
    browser.evaluate(f"location.hash = '#step={inside.index}'")
    time.sleep(0.1)
    state = browser.evaluate(STATE)
    assert state["step"] == inside.index and state["current"] == ["b0"]
    assert inside.label in state["title"]
