"""One self-contained HTML page about a BN problem: the graph, the comparison, the trace and
the dL_mu2 question.

Everything is inline: the graph as SVG (drawn by `viz`), the numbers as tables
(`autograd_bn.text.report_tables`), the page itself, its styles and its script
(``report_assets/report.html``, ``report.css`` and ``report.js``), and every node's value and
gradient as a JSON blob the script reads when a node is hovered or clicked. The page loads
nothing, so it can be opened offline, mailed or archived.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from string import Template
from typing import Any

import numpy as np

import viz
from autograd_bn.bn.layers import LayerProblem
from autograd_bn.bn.layers import build_graph as build_layer_graph
from autograd_bn.bn.primitives import SEED_LABELS, batchnorm
from autograd_bn.bn.problem import Problem
from autograd_bn.check.compare import Comparison, compare
from autograd_bn.check.explain import explain_report
from autograd_bn.check.family import compare_layer
from autograd_bn.check.trace import Trace, trace_batchnorm, trace_graph, trace_layer
from autograd_bn.engine.tensor import Tensor
from autograd_bn.text.explain import format_explain
from autograd_bn.text.numbers import format_number, problem_text
from autograd_bn.text.report_steps import step_data
from autograd_bn.text.report_tables import comparison_html, json_for_script, node_data, trace_html
from autograd_bn.text.table import format_table
from viz.files import atomic_write, check_writable
from viz.output import image

SCRIPTS = ("report.js", "report_zoom.js", "report_steps.js")
"""The page's scripts, in the order they run: nodes and panel, pan and zoom, step-through."""


def _version() -> str:
    # (from the installed package: `autograd_bn.__version__` is the same number, and the text
    # stage does not import the package's top, which imports it: autograd_bn.report)
    try:
        return version("autograd-bn")
    except PackageNotFoundError:  # pragma: no cover (run from a source tree)
        return "unknown"


VERSION = _version()


def asset(name: str) -> str:
    """The text of ``autograd_bn/text/report_assets/<name>``."""
    return (resources.files("autograd_bn.text.report_assets") / name).read_text("utf-8")


@dataclass(frozen=True)
class Report:
    """A built report: the page, and the trace and comparison it shows (no comparison for a
    graph that is not BN's)."""

    html: str
    trace: Trace
    comparison: Comparison | None = None

    @property
    def ok(self) -> bool:
        """Every seed intermediate matches and every method agrees with autograd."""
        return self.trace.all_match and (self.comparison is None or self.comparison.agree)


def build_report(problem: Problem, *, collapse: bool | Sequence[str] = False,
                 **compare_options: Any) -> Report:
    """The report for ``problem``; ``compare_options`` go to `autograd_bn.check.compare.compare`
    (``user``, ``with_torch``, ``numerical``, ``repeats``). ``collapse=True`` draws BN as one
    block."""
    out = batchnorm(problem.x, problem.gamma, problem.beta, problem.eps)
    trace = trace_batchnorm(problem)
    comparison = compare(problem, **compare_options)
    explanation = format_explain(explain_report(comparison))
    n, d = problem.shape
    title = f"BN backward, {problem_text(n, d, problem.seed, problem.x.dtype)}"
    summary = [
        (trace.all_match, f"trace: every seed intermediate matches (max Δ "
                          f"{format_number(trace.max_diff)})" if trace.all_match
         else "trace: a seed intermediate does not match"),
        (comparison.agree, comparison.summary),  # the sentence of the table's RESULT line
    ]
    if problem.seed is None:
        described = (f"{escape(title)}, eps {problem.eps:g}: <code>x</code> ({n}, {d}), γ, β "
                     "and\nthe upstream gradient <code>dout</code> as given.\n")
    else:
        described = (f"{escape(title)}, eps {problem.eps:g}: <code>x</code> ({n}, {d}) = "
                     "5·randn + 12, γ, β and\nthe upstream gradient <code>dout</code> = randn, "
                     f"from <code>np.random.seed({problem.seed})</code>.\n")
    sections = [
        compare_section(comparison),
        ("trace", "The backward pass, step by step",
         "The backward pass, node by node, beside the seed's staged backward",
         trace_html(trace)),
        ("explain", "Why dL_mu2?", "Why does keeping dL_mu2 change dx?",
         "<p>The seed's chain-rule pass keeps a term <code>dL_mu2</code> and lands about 1e-10 "
         "away from\nthe graph version, against 5e-13 without it. The numbers below are "
         f'measured for this report.</p>\n<pre class="explain">{escape(explanation)}</pre>'),
    ]
    html = page(
        out, trace, collapse=collapse, title=title,
        heading="Batch Normalisation's gradient, made visible", described=described,
        summary=summary, sections=sections, start="dout",
        graph_text="BN built from primitive ops, numbered as in the seed's table:")
    return Report(html, trace, comparison)


def build_layer_report(layer: LayerProblem, *, user: Any = None, numerical: bool | None = None,
                       repeats: int | None = None, collapse: bool | Sequence[str] = False,
                       **ignored: Any) -> Report:
    """The report for a layer of BN's family (`autograd_bn.bn.layers`): its graph, every
    backward pass against autograd and the numerical gradient (`compare_layer`), and the
    backward pass step by step, beside the seed-style staged pass where the layer has one
    (training mode without Bessel's correction)."""
    out, _ = build_layer_graph(layer)
    dout = layer.view(layer.dout)
    staged = layer.mode == "train" and not layer.bessel
    trace = trace_layer(layer) if staged else trace_graph(out, dout)
    comparison = compare_layer(layer, user=user, numerical_grad=numerical, repeats=repeats)
    title = f"Backward pass: {layer.describe()}"
    summary = [(comparison.agree, comparison.summary)]
    if staged:
        summary.insert(0, (trace.all_match, "trace: every seed-style intermediate matches"
                           if trace.all_match else "trace: an intermediate does not match"))
    sections = [
        compare_section(comparison),
        ("trace", "The backward pass, step by step",
         "The backward pass, node by node" + (", beside the staged pass" if staged else ""),
         trace_html(trace) if staged else "<p>Step through it above, node by node.</p>"),
    ]
    html = page(out, trace, collapse=collapse, title=title,
                heading="A normalisation layer's gradient, made visible",
                described=f"{escape(layer.describe())}.\n", summary=summary,
                sections=sections, start=None,
                graph_text="The layer built from primitive ops:")
    return Report(html, trace, comparison)


def compare_section(comparison: Comparison) -> tuple[str, str, str, str]:
    """The report's section with every backward pass against autograd and the numerical
    gradient: the table as HTML, and as `autograd-bn compare` prints it."""
    return ("compare", "Every backward pass",
            "Every backward pass against autograd and a numerical gradient",
            comparison_html(comparison.to_dict()) + '\n<details class="screen-only"><summary>'
            "As printed by <code>autograd-bn compare</code></summary>\n<pre>"
            f"{escape(format_table(comparison))}</pre></details>")


def write_report(problem: Problem, path: str | os.PathLike[str], **compare_options: Any
                 ) -> Path:
    """Build the report and write it to ``path`` all at once (nothing is left on failure)."""
    check_writable(path)
    return atomic_write(path, build_report(problem, **compare_options).html)


def build_graph_report(tensor: Tensor, grad: Any = None, *,
                       collapse: bool | Sequence[str] = False, title: str | None = None
                       ) -> Report:
    """The same page for any Tensor graph: the graph (stepping through its backward pass,
    gradient sizes, paths to an input) and the trace. ``grad`` is dL/d(tensor) (default: 1 for
    one element, else the gradient of your last ``tensor.backward``); the page's pass leaves
    the graph's gradients as they were. ``collapse`` is `viz.draw`'s. When ``tensor`` is BN
    as `batchnorm` builds it, the page is `build_report`'s, with the comparison and dL_mu2."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"report() needs a Tensor, got {type(tensor).__name__}")
    problem = bn_problem(tensor, grad)
    if problem is not None:
        return build_report(problem, collapse=collapse, with_torch=False)
    trace = trace_graph(tensor, grad)
    nodes = tensor.nodes()
    title = title or f"Backward pass of a graph of {len(nodes)} nodes"
    inputs = sum(1 for s in trace.steps if s.op == "input")
    described = (f"{len(nodes)} nodes, {len(trace.steps)} of them on the backward pass "
                 f"({inputs} input{'s' if inputs != 1 else ''} get a gradient); output "
                 f"<code>{escape(trace.steps[0].label if trace.steps else '')}</code> of shape "
                 f"{tensor.shape}.")
    sections = [("trace", "The backward pass, step by step",
                 "The backward pass, node by node", trace_html(trace))]
    html = page(tensor, trace, collapse=collapse, title=title, heading=escape(title),
                described=described, summary=[], sections=sections, start=None,
                graph_text="The graph as the engine recorded it:")
    return Report(html, trace, None)


def write_graph_report(tensor: Tensor, path: str | os.PathLike[str], grad: Any = None, *,
                       collapse: bool | Sequence[str] = False, title: str | None = None
                       ) -> Path:
    """`build_graph_report`, written to ``path`` all at once (nothing is left on failure)."""
    check_writable(path)
    report = build_graph_report(tensor, grad, collapse=collapse, title=title)
    return atomic_write(path, report.html)


def bn_problem(out: Tensor, grad: Any = None) -> Problem | None:
    """The BN problem ``out`` computes, if it is `batchnorm`'s graph (its nodes, labels and
    ops); None for any other graph. ``grad`` (or ``out``'s gradient) is its ``dout``."""
    nodes = out.nodes()
    leaves = {node.label: node for node in nodes if node.is_leaf}
    try:
        x, gamma, beta, eps = (leaves[SEED_LABELS[1]], leaves[SEED_LABELS[9]],
                               leaves[SEED_LABELS[11]], leaves["ε"])
    except KeyError:
        return None
    if grad is None:
        grad = out.grad
    if grad is None or eps.size != 1:
        return None
    rebuilt = batchnorm(x.data, gamma.data, beta.data, float(eps.data))
    same = [(n.label, n.op, n.shape) for n in nodes] == \
        [(n.label, n.op, n.shape) for n in rebuilt.nodes()]
    if not same or not np.array_equal(rebuilt.data, out.data):
        return None
    return Problem(x.data, gamma.data, beta.data, np.asarray(grad, dtype=x.dtype),
                   float(eps.data), None)  # type: ignore[arg-type]  # (no seed: given arrays)


def page(out: Tensor, trace: Trace, *, collapse: bool | Sequence[str], title: str,
         heading: str, described: str, summary: list[tuple[bool, str]],
         sections: list[tuple[str, str, str, str]], start: str | None, graph_text: str) -> str:
    """The HTML document: ``report_assets/report.html`` with every piece filled in. A section
    is (id, link text, heading, HTML); the graph is section 1."""
    badges = "".join(f'<li class="{"ok" if ok else "bad"}">{escape(text)}</li>'
                     for ok, text in summary)
    links = [("graph", "Graph")] + [(sid, link) for sid, link, _, _ in sections]
    nav = "".join(f'<a href="#{sid}">{k}. {escape(link)}</a>'
                  for k, (sid, link) in enumerate(links, start=1))
    body = "\n".join(f'<section id="{sid}">\n<h2>{k}. {escape(head)}</h2>\n{html}\n</section>'
                     for k, (sid, _, head, html) in enumerate(sections, start=2))
    data = {"nodes": node_data(out, trace), **step_data(trace, out, collapse, start)}
    return Template(asset("report.html")).substitute(
        version=VERSION,
        title=escape(title),
        heading=heading,
        css=asset("report.css"),
        problem=described,
        badges=badges,
        nav=nav,
        graph_text=graph_text,
        svg=graph_svg(out, collapse),
        sections=body,
        data=json_for_script(data),
        js="\n".join(asset(name) for name in SCRIPTS),
    )


def graph_svg(out: Tensor, collapse: bool | Sequence[str] = False) -> str:
    """The graph as an inline ``<svg>`` element (no XML prolog, doctype or comments)."""
    text = image(viz.draw(out, collapse=collapse), "svg").decode("utf-8")
    start = text.index("<svg")
    body = text[start:]
    while "<!--" in body:
        a = body.index("<!--")
        body = body[:a] + body[body.index("-->", a) + 3:]
    return body.replace("<svg ", '<svg role="img" aria-label="computational graph" ', 1)
