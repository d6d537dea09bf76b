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
from dataclasses import dataclass
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import viz
from autograd_bn import __version__
from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import Problem
from autograd_bn.check.compare import Comparison, compare
from autograd_bn.check.explain import explain_report
from autograd_bn.check.trace import Trace, trace_batchnorm
from autograd_bn.engine.tensor import Tensor
from autograd_bn.text.explain import format_explain
from autograd_bn.text.numbers import format_number, problem_text
from autograd_bn.text.report_tables import comparison_html, json_for_script, node_data, trace_html
from autograd_bn.text.table import format_table
from viz.files import atomic_write, check_writable
from viz.output import image

SCRIPTS = ("report.js", "report_zoom.js")
"""The page's scripts, in the order they run: nodes and panel, then pan and zoom."""


def asset(name: str) -> str:
    """The text of ``autograd_bn/text/report_assets/<name>``."""
    return (resources.files("autograd_bn.text.report_assets") / name).read_text("utf-8")


@dataclass(frozen=True)
class Report:
    """A built report: the page, and the trace and comparison it shows."""

    html: str
    trace: Trace
    comparison: Comparison

    @property
    def ok(self) -> bool:
        """Every seed intermediate matches and every method agrees with autograd."""
        return self.trace.all_match and self.comparison.agree


def build_report(problem: Problem, **compare_options: Any) -> Report:
    """The report for ``problem``; ``compare_options`` go to `autograd_bn.check.compare.compare`
    (``user``, ``with_torch``, ``numerical``, ``repeats``)."""
    out = batchnorm(problem.x, problem.gamma, problem.beta, problem.eps)
    out.backward(problem.dout)
    svg = graph_svg(out)
    trace = trace_batchnorm(problem)
    comparison = compare(problem, **compare_options)
    explanation = format_explain(explain_report(comparison))
    html = page(problem, svg, trace, comparison, explanation, {"nodes": node_data(out, trace)})
    return Report(html, trace, comparison)


def write_report(problem: Problem, path: str | os.PathLike[str], **compare_options: Any
                 ) -> Path:
    """Build the report and write it to ``path`` all at once (nothing is left on failure)."""
    check_writable(path)
    return atomic_write(path, build_report(problem, **compare_options).html)


def page(problem: Problem, svg: str, trace: Trace, comparison: Comparison, explanation: str,
         data: dict[str, Any]) -> str:
    """The HTML document: ``report_assets/report.html`` with every piece filled in."""
    n, d = problem.shape
    title = f"BN backward, {problem_text(n, d, problem.seed, problem.x.dtype)}"
    summary = [
        (trace.all_match, f"trace: every seed intermediate matches (max Δ "
                          f"{format_number(trace.max_diff)})" if trace.all_match
         else "trace: a seed intermediate does not match"),
        (comparison.agree, comparison.summary),  # the sentence of the table's RESULT line
    ]
    badges = "".join(f'<li class="{"ok" if ok else "bad"}">{escape(text)}</li>'
                     for ok, text in summary)
    if problem.seed is None:
        described = (f"{escape(title)}, eps {problem.eps:g}: <code>x</code> ({n}, {d}), γ, β "
                     "and\nthe upstream gradient <code>dout</code> as given.\n")
    else:
        described = (f"{escape(title)}, eps {problem.eps:g}: <code>x</code> ({n}, {d}) = "
                     "5·randn + 12, γ, β and\nthe upstream gradient <code>dout</code> = randn, "
                     f"from <code>np.random.seed({problem.seed})</code>.\n")
    return Template(asset("report.html")).substitute(
        version=__version__,
        title=escape(title),
        css=asset("report.css"),
        problem=described,
        badges=badges,
        svg=svg,
        comparison=comparison_html(comparison.to_dict()),
        comparison_text=escape(format_table(comparison)),
        trace=trace_html(trace),
        explanation=escape(explanation),
        data=json_for_script(data),
        js="\n".join(asset(name) for name in SCRIPTS),
    )


def graph_svg(out: Tensor) -> str:
    """The graph as an inline ``<svg>`` element (no XML prolog, doctype or comments)."""
    text = image(viz.draw(out), "svg").decode("utf-8")
    start = text.index("<svg")
    body = text[start:]
    while "<!--" in body:
        a = body.index("<!--")
        body = body[:a] + body[body.index("-->", a) + 3:]
    return body.replace("<svg ", '<svg role="img" aria-label="BN computational graph" ', 1)
