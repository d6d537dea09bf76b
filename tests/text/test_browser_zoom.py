"""Pan and zoom of the report's graph, in real headless Chromium: a wheel turn, a drag, the
buttons and the keys change the SVG's viewBox; reset restores it; a drag is not a click."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autograd_bn.bn.problem import make_problem
from autograd_bn.text.report import build_report
from tests.browser import Chromium, require_chromium

require_chromium()

VIEW = "document.querySelector('#graph svg').getAttribute('viewBox').split(' ').map(Number)"
# Where a viewport point lands in the graph, by the browser's own matrices (not the page's).
IN_GRAPH = """((x, y) => {
  const svg = document.querySelector('#graph svg');
  const p = svg.createSVGPoint(); p.x = x; p.y = y;
  const q = p.matrixTransform(svg.getScreenCTM().inverse());
  return [q.x, q.y];
})"""
CENTER = """((selector) => {
  const el = document.querySelector(selector);
  const r = el.getBoundingClientRect();
  return [r.left + r.width / 2, r.top + r.height / 2];
})"""
NODE = "#graph svg g.node[data-node]"


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("zoom") / "bn_report.html"
    path.write_text(build_report(make_problem(), with_torch=False, repeats=1).html,
                    encoding="utf-8")
    return path


@pytest.fixture
def browser(page: Path) -> Any:
    with Chromium() as chromium:
        chromium.open(page)
        chromium.evaluate("document.querySelector('#graph').scrollIntoView()")
        yield chromium
        assert chromium.errors() == []


def at(browser: Chromium, selector: str) -> tuple[float, float]:
    x, y = browser.evaluate(f"{CENTER}({json.dumps(selector)})")
    return x, y


def test_wheel_zooms_around_the_pointer_and_reset_restores(browser: Chromium) -> None:
    home = browser.evaluate(VIEW)
    x, y = at(browser, NODE)
    before = browser.evaluate(f"{IN_GRAPH}({x}, {y})")
    browser.wheel(x, y, -300)
    zoomed = browser.evaluate(VIEW)
    assert zoomed[2] < home[2] * 0.9 and zoomed[3] < home[3] * 0.9
    assert abs(zoomed[2] / zoomed[3] - home[2] / home[3]) < 1e-3  # the aspect ratio is kept
    after = browser.evaluate(f"{IN_GRAPH}({x}, {y})")
    assert abs(after[0] - before[0]) < 1 and abs(after[1] - before[1]) < 1  # under the pointer
    browser.wheel(x, y, 600)
    assert browser.evaluate(VIEW)[2] > zoomed[2]
    browser.click(*at(browser, "#zoom-reset"))
    assert browser.evaluate(VIEW) == home


def test_buttons_and_keys_zoom(browser: Chromium) -> None:
    home = browser.evaluate(VIEW)
    browser.click(*at(browser, "#zoom-in"))
    once = browser.evaluate(VIEW)
    assert once[2] < home[2]
    browser.click(*at(browser, "#zoom-out"))
    assert abs(browser.evaluate(VIEW)[2] - home[2]) < 0.05
    browser.key("+")
    browser.key("+")
    assert browser.evaluate(VIEW)[2] < once[2]
    browser.key("0")
    assert browser.evaluate(VIEW) == home
    browser.key("-")
    assert browser.evaluate(VIEW)[2] > home[2]


def test_drag_pans_and_is_not_a_click(browser: Chromium) -> None:
    home = browser.evaluate(VIEW)
    browser.wheel(*at(browser, NODE), -400)
    zoomed = browser.evaluate(VIEW)
    x, y = at(browser, NODE)  # a drag that starts on a node pans; it does not pin the node
    browser.drag((x, y), (x + 60, y + 40))
    panned = browser.evaluate(VIEW)
    assert panned[2] == zoomed[2] and panned[0] < zoomed[0] and panned[1] < zoomed[1]
    assert browser.evaluate("document.getElementById('inspector').getAttribute('data-pinned')"
                            ) in (None, "")
    assert browser.evaluate("document.querySelectorAll('#graph g.node.picked').length") <= 1
    x, y = at(browser, NODE)  # …while a click on a zoomed graph still pins it
    browser.click(x, y)
    pinned = browser.evaluate("document.getElementById('inspector').getAttribute('data-pinned')")
    assert pinned and pinned == browser.evaluate(
        f"document.querySelector({json.dumps(NODE)}).getAttribute('data-node')")
    browser.click(*at(browser, "#zoom-reset"))
    assert browser.evaluate(VIEW) == home
