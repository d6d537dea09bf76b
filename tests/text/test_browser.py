"""The HTML report in real headless Chromium: what is drawn, not what the HTML text says.

Skipped when Chromium is not installed, except under CI (``CI=true``), where it must run.
The screenshot goes to pytest's temporary folder; ``python -m tests.browser`` refreshes the
README's ``docs/report_screenshot.png``.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from autograd_bn.bn.primitives import SEED_LABELS, batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.text.report import build_report
from tests.browser import VIEWPORT, inspect, require_chromium

require_chromium()


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("browser")
    report = build_report(make_problem())
    path = folder / "bn_report.html"
    path.write_text(report.html, encoding="utf-8")
    result = inspect(path, click="(3) x − mean", screenshot=folder / "report.png")
    result["screenshot"] = folder / "report.png"
    result["comparison"] = report.comparison
    result["trace"] = report.trace
    return result


def test_page_raised_no_script_error(seen: dict[str, Any]) -> None:
    assert seen["errors"] == []
    assert seen["page"]["pageErrors"] is None


def test_page_fetched_nothing_but_itself(seen: dict[str, Any]) -> None:
    # (the page is opened three times: to click, at #step=9 for the screenshot, to print)
    report = seen["screenshot"].with_name("bn_report.html").as_uri()
    assert seen["requests"] and set(seen["requests"]) == {report}


def test_graph_is_drawn_with_all_its_nodes(seen: dict[str, Any]) -> None:
    problem = make_problem()
    out = batchnorm(problem.x, problem.gamma, problem.beta, problem.eps)
    page = seen["page"]
    assert page["svg"]["width"] > 300 and page["svg"]["height"] > 300
    nodes = page["nodes"]
    assert len(nodes) == len(out.nodes()) == 14
    assert {n["label"] for n in nodes} == set(SEED_LABELS.values()) | {"(5)+ε", "ε"}
    for node in nodes:
        assert node["width"] > 20 and node["height"] > 10, node
        assert node["wired"], node
    assert page["wired"] == len(nodes)


def test_tables_are_present(seen: dict[str, Any]) -> None:
    tables = {t["id"]: t for t in seen["page"]["tables"]}
    assert set(tables) == {"compare-table", "trace-table"}
    assert all(t["visible"] for t in tables.values())
    assert tables["compare-table"]["rows"] == len(seen["comparison"].rows)
    assert tables["compare-table"]["header"][0] == "method"
    trace = seen["trace"]
    edges = sum(len(step.edges) for step in trace.steps)
    sums = sum(1 for step in trace.steps if len(step.received_from) > 1)
    assert tables["trace-table"]["rows"] == len(trace.steps) + edges + sums
    assert seen["page"]["sections"] == ["graph", "compare", "trace", "explain"]
    assert seen["page"]["explain"] > 500


def test_hover_and_click_show_value_and_gradient(seen: dict[str, Any]) -> None:
    for state in (seen["hovered"], seen["clicked"]):
        assert state["showing"] and state["picked"] == [state["showing"]]
        assert state["matrices"] == 2  # value and gradient
        assert "(3) x − mean" in state["text"] and "gradient" in state["text"]
        assert "d3_1" in state["text"]
    assert "Click the node to keep" not in seen["clicked"]["text"]  # pinned


def test_fits_a_laptop_screen_and_prints(seen: dict[str, Any]) -> None:
    assert seen["page"]["scrollWidth"] <= seen["page"]["viewportWidth"]
    printed = seen["print"]
    assert printed["inspector"] == "none" and printed["nav"] == "none"
    assert printed["graphHeight"] > 300 and printed["tables"] == 2
    assert 2 <= printed["pdf_pages"] <= 8


def test_screenshot_saved(seen: dict[str, Any]) -> None:
    png: Path = seen["screenshot"]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == VIEWPORT
    assert len(data) > 50_000  # a page, not a blank


def test_clicking_a_trace_row_shows_its_node(seen: dict[str, Any]) -> None:
    state = seen["row_clicked"]
    assert "(7) 1/(6)" in state["text"] and "d8_7" in state["text"]
    assert state["matrices"] == 2 and state["picked"] == [state["showing"]]
