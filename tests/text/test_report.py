"""`autograd_bn.text.report`: one self-contained HTML page.

What the page looks like in a browser is checked in test_browser.py; here, its text. The
command line is in test_cli_report.py.
"""

from __future__ import annotations

import json
import re
from html import escape, unescape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from autograd_bn.bn.primitives import batchnorm
from autograd_bn.bn.problem import Problem, make_problem
from autograd_bn.check.trace import SEED_PLACES
from autograd_bn.text.numbers import format_seconds
from autograd_bn.text.report import Report, asset, build_report
from autograd_bn.text.report_tables import SHOWN, array_data, comparison_html, json_for_script
from autograd_bn.text.table import format_table
from autograd_bn.text.trace import format_trace


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside <style> and <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: dict[str, list[str]] = {"style": [], "script": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag if tag in self.inline else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.inline[self._in].append(data)


@pytest.fixture(scope="module")
def report() -> Report:
    return build_report(make_problem())


@pytest.fixture(scope="module")
def page(report: Report) -> Page:
    parsed = Page()
    parsed.feed(report.html)
    return parsed


def node_blob(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="node-data">(.*?)</script>',
                      html, flags=re.DOTALL)
    assert match
    return json.loads(match.group(1))


def test_page_is_self_contained(report: Report, page: Page) -> None:
    assert report.html.startswith("<!DOCTYPE html>")
    loading = {"link", "img", "iframe", "object", "embed", "audio", "video", "source", "base",
               "image", "use", "track", "frame"}
    assert not [tag for tag, _ in page.tags if tag in loading]
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if name.startswith("xmlns"):
                continue  # a namespace name, never fetched
            assert name not in {"src", "href", "xlink:href", "srcset", "action", "poster",
                                "data", "formaction"} or (value or "").startswith("#"), (tag, name)
            assert "://" not in (value or ""), (tag, name, value)
    styles = "".join(page.inline["style"])
    assert "url(" not in styles and "@import" not in styles and "@font-face" not in styles
    scripts = "".join(page.inline["script"])
    for needle in ("fetch(", "XMLHttpRequest", "import(", "://", "WebSocket"):
        assert needle not in scripts, needle
    assert len(page.inline["script"]) >= 3  # error recorder, data, behaviour: all inline


def test_page_has_graph_tables_trace_and_explanation(report: Report, page: Page) -> None:
    ids = {attrs.get("id") for _, attrs in page.tags}
    assert {"graph", "compare", "trace", "explain", "inspector", "compare-table",
            "trace-table", "node-data"} <= ids
    assert [tag for tag, _ in page.tags].count("svg") == 1
    methods = [m["name"] for m in report.comparison.to_dict()["methods"]]
    assert {"autograd", "staged", "analytical", "compact", "paper"} <= set(methods)
    for name in methods:
        assert f"<td><b>{name}</b></td>" in report.html
    node_rows = [a for t, a in page.tags if t == "tr" and a.get("class") == "node"]
    assert len(node_rows) == len(report.trace.steps)
    for name in SEED_PLACES:
        assert f"<td>{name}</td>" in report.html
    assert "dL_mu2" in report.html and "S(x - mu)" in report.html
    assert "NaN" not in report.html


def badges(html: str) -> list[str]:
    found = re.search(r'<ul class="summary">(.*?)</ul>', html, flags=re.DOTALL)
    assert found
    return [unescape(text) for text in re.findall(r"<li[^>]*>(.*?)</li>", found.group(1))]


def test_the_badge_and_the_table_give_one_verdict(report: Report) -> None:
    summary = report.comparison.summary
    methods = len(report.comparison.rows) - 1  # autograd is the reference, not a method
    assert summary == f"all {methods} methods agree with autograd."
    assert badges(report.html)[1] == summary
    assert format_table(report.comparison).splitlines()[-1] == f"RESULT: {summary}"


def test_a_disagreeing_layer_gets_the_same_sentence_in_badge_and_table() -> None:
    fixtures = Path(__file__).parents[1] / "fixtures"
    from autograd_bn.check.userimpl import load_user_impl

    user = load_user_impl(f"{fixtures}/bn_correct.py:batchnorm_forward",
                          f"{fixtures}/bn_wrong.py:backward_swapped", name="hw")
    built = build_report(make_problem(), user=user, with_torch=False, repeats=1)
    assert not built.ok
    assert badges(built.html)[1] == built.comparison.summary
    assert built.comparison.summary == "1 of 5 disagree with autograd: hw (dgamma, dbeta)."


def test_a_problem_of_given_arrays_claims_no_seed() -> None:
    p = make_problem(3, 2, 5)
    given = Problem(p.x * 2, p.gamma, p.beta, p.dout, 1e-4, None)
    built = build_report(given, with_torch=False, repeats=1)
    assert built.comparison.seed is None
    header = re.search(r"<header>(.*?)</header>", built.html, flags=re.DOTALL).group(1)
    assert "np.random.seed" not in header and "randn" not in header and "None" not in header
    assert "given arrays" in header and "N=3, D=2" in header
    assert "given arrays" in format_trace(built.trace).splitlines()[1]


def test_every_drawn_node_has_its_value_and_gradient(report: Report) -> None:
    problem = make_problem()
    out = batchnorm(problem.x, problem.gamma, problem.beta, problem.eps)
    drawn = re.findall(r'<g id="(n\d+)" class="node[^"]*">\s*<title>(n\d+)</title>', report.html)
    assert drawn and all(a == b for a, b in drawn)
    data = node_blob(report.html)["nodes"]
    assert set(data) == {f"n{i}" for i in range(len(out.nodes()))} == {a for a, _ in drawn}
    for node_id, entry in data.items():
        index = int(node_id[1:])
        tensor = out.nodes()[index]
        assert entry["label"] == tensor.label
        assert entry["value"]["shape"] == list(tensor.shape)
        assert (entry["grad"] is None) == (not tensor.requires_grad)
    by_label = {e["label"]: e for e in data.values()}
    assert by_label["(3) x − mean"]["seed"]["name"] == "d3_1"
    assert sorted(by_label["(3) x − mean"]["received_from"]) == ["(4) (d4)", "(8) (d8_3)"]
    assert len(by_label["(1) x"]["grad"]["values"]) == 4


def test_big_arrays_are_cut_in_the_page() -> None:
    entry = array_data(np.arange(30.0).reshape(3, 10))
    assert entry["truncated"] and entry["shown"] == [3, SHOWN]
    assert entry["stats"] == {"min": 0.0, "mean": 14.5, "max": 29.0}
    assert array_data(np.array([np.nan, 1.0]))["values"] == [None, 1.0]  # JSON null, as compare
    cut = array_data(np.array([np.inf] + [1.0] * 9))
    assert cut["values"] == [None] + [1.0] * 7 and cut["stats"] == {"min": 1.0, "mean": None,
                                                                     "max": None}


def test_times_read_as_in_the_compare_table(report: Report) -> None:
    table = format_table(report.comparison)
    for row in report.comparison.rows:
        shown = format_seconds(row.median_seconds)
        assert f"<td class=\"num\">{shown}</td>" in report.html and shown in table
    data = report.comparison.to_dict()
    data["methods"][0]["median_seconds"] = 0.005
    assert '<td class="num">5000.0 µs</td>' in comparison_html(data)


def test_inline_json_cannot_end_its_script() -> None:
    text = json_for_script({"label": "</script><script>alert(1)</script>"})
    assert "</" not in text and json.loads(text)["label"].startswith("</script>")


def test_every_asset_is_shipped_in_the_wheel() -> None:
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11 and later
    root = Path(__file__).resolve().parents[2]
    setuptools = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]
    assert "autograd_bn.text.report_assets" in setuptools["packages"]
    patterns = setuptools["package-data"]["autograd_bn.text.report_assets"]
    files = {p.name for p in (root / "autograd_bn" / "text" / "report_assets").iterdir()
             if p.is_file() and p.suffix != ".py"}
    missing = {f for f in files if not any(fnmatch.fnmatch(f, pat) for pat in patterns)}
    assert not missing, f"not in the wheel: {sorted(missing)}"


def test_assets_are_inlined(report: Report) -> None:
    assert asset("report.css").strip()[:40] in report.html
    assert "data-nodes-wired" in asset("report.js") and "@media print" in asset("report.css")




# ---- the step-through's data, any graph, and the page's size ----------------------------------


def svg_ids(html: str) -> set[str]:
    svg = html[html.index("<svg"):html.index("</svg>")]
    return set(re.findall(r'<g id="([^"]+)"', svg))


def test_step_data_follows_the_trace_and_names_what_is_drawn(report: Report) -> None:
    blob = node_blob(report.html)
    steps = blob["steps"]
    assert [s["node"] for s in steps] == [s.node_id for s in report.trace.steps]
    drawn = svg_ids(report.html)
    assert {s["drawn"] for s in steps} <= drawn
    assert {e["drawn"] for e in blob["edges"].values()} <= drawn
    assert {e["drawn"] for e in blob["edges"].values()} == {i for i in drawn if
                                                            i.startswith("bwd_")}
    by_name = {s["name"]: s for s in steps}
    assert by_name["(12)"]["start"] == "dout" and by_name["(12)"]["terms"] == []
    three = by_name["(3)"]
    assert [t["text"] for t in three["terms"]] == ["d(8)·(7)", "d(4)·2·(3)"]
    assert [t["seed"] for t in three["terms"]] == ["d8_3", "d4"] and three["seed"] == "d3_1"
    np.testing.assert_allclose(three["terms"][-1]["partial"]["values"],
                               three["grad"]["values"], rtol=1e-12)
    assert [t["text"] for t in by_name["(1)"]["terms"]] == ["d(3)", "d(2)·1/4·ones((4, 5))"]
    assert [t["text"] for t in by_name["(2)"]["terms"]] == ["(d(3)·(−1)).sum(axis=0)"]
    assert {leaf["label"] for leaf in blob["leaves"]} == {"(1) x", "(9) γ", "(11) β"}


def test_the_page_at_4x5_stays_under_one_megabyte(report: Report) -> None:
    assert len(report.html.encode("utf-8")) < 1_000_000


def test_any_graph_gets_the_page_without_the_bn_sections(tmp_path: Path) -> None:
    import autograd_bn
    from examples.small_network import network

    loss = network(layers=2)
    loss.backward()
    grads = {n: n.grad.copy() for n in loss.nodes() if n.grad is not None}
    path = autograd_bn.report(loss, tmp_path / "net.html")
    html = path.read_text(encoding="utf-8")
    assert all(np.array_equal(n.grad, g) for n, g in grads.items())  # left as they were
    ids = {attrs.get("id") for _, attrs in _parse(html).tags}
    assert {"graph", "trace", "trace-table", "step-panel", "node-data"} <= ids
    assert not {"compare", "explain", "compare-table"} & ids
    assert "dL_mu2" not in html and "seed values found" not in html
    blob = node_blob(html)
    assert len(blob["steps"]) == len(loss.nodes(requiring_grad=True))
    assert {s["drawn"] for s in blob["steps"]} <= svg_ids(html)
    assert {e["drawn"] for e in blob["edges"].values()} <= svg_ids(html)

    collapsed = node_blob(autograd_bn.report(loss, tmp_path / "c.html", collapse=True)
                          .read_text(encoding="utf-8"))
    loss_id = f"n{len(loss.nodes()) - 1}"  # x, layer1, layer2 and the loss
    assert {s["drawn"] for s in collapsed["steps"]} == {"n0", "b0", "b1", loss_id}
    drawn = {e["drawn"] for e in collapsed["edges"].values()}
    assert None in drawn and {"bwd_n0_b0", "bwd_b0_b1"} <= drawn


def test_bn_built_by_the_user_gets_the_full_report(tmp_path: Path) -> None:
    import autograd_bn

    p = make_problem(3, 2, 1)
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    with pytest.raises(ValueError, match="needs a gradient"):
        autograd_bn.report(out, tmp_path / "none.html")
    assert not (tmp_path / "none.html").exists()
    out.backward(p.dout)
    html = autograd_bn.report(out, tmp_path / "bn.html").read_text(encoding="utf-8")
    assert 'id="compare-table"' in html and 'id="explain"' in html
    assert "14 of 14" in html and "given arrays" in html
    other = batchnorm(p.x, p.gamma, p.beta, p.eps) * 2.0  # not BN's graph any more
    other.backward(np.ones((3, 2)))
    assert 'id="compare-table"' not in autograd_bn.report(other, tmp_path / "o.html"
                                                         ).read_text(encoding="utf-8")
    with pytest.raises(TypeError, match="needs a Tensor"):
        autograd_bn.report(p.x, tmp_path / "array.html")  # type: ignore[arg-type]


def _parse(html: str) -> Page:
    parsed = Page()
    parsed.feed(html)
    return parsed


def test_the_page_says_the_packages_version(report: Report) -> None:
    import autograd_bn

    assert f'content="autograd-bn {autograd_bn.__version__}"' in report.html


@pytest.mark.parametrize(("layer", "options"), [
    ("layernorm", {}), ("spatial_batchnorm", {}), ("spatial_groupnorm", {"groups": 2}),
    ("batchnorm", {"mode": "test"}), ("batchnorm", {"bessel": True}),
])
def test_a_layer_of_the_family_gets_its_own_report(layer: str, options: dict) -> None:
    from autograd_bn.bn.layers import make_layer_problem
    from autograd_bn.text.report import build_layer_report

    problem = make_layer_problem(layer, seed=0, **options)
    report = build_layer_report(problem, numerical=True, repeats=1)
    assert report.ok and report.comparison is not None and report.comparison.agree
    assert escape(problem.describe()) in report.html
    assert '<section id="compare">' in report.html and '<section id="trace">' in report.html
    assert "dL_mu2" not in report.html  # BN's own question is not asked of other layers
    staged = options.get("mode", "train") == "train" and not options.get("bessel")
    assert ("beside the staged pass" in report.html) == staged


def test_cli_report_takes_a_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from autograd_bn.cli import main

    path = tmp_path / "ln.html"
    assert main(["report", "--layer", "layernorm", "-o", str(path), "--repeats", "1"]) == 0
    assert "layer norm" in path.read_text()
    assert main(["report", "--layer", "layernorm", "--torch", "-o", str(path)]) == 2
    assert "--torch compares batch norm in training mode only" in capsys.readouterr().err
