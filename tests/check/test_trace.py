"""`autograd_bn.check.trace` and ``autograd-bn trace``: the engine's BN backward, step by step."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from autograd_bn.bn.manual import backward_staged_intermediates, batchnorm_forward
from autograd_bn.bn.primitives import SEED_LABELS, batchnorm
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.trace import SEED_PLACES, Trace, trace_batchnorm
from autograd_bn.cli import main
from autograd_bn.text.trace import format_trace


def staged_names() -> set[str]:
    p = make_problem(2, 2)
    _, cache = batchnorm_forward(p.x, p.gamma, p.beta, p.eps)
    return set(backward_staged_intermediates(p.dout, cache))


@pytest.fixture(scope="module")
def trace() -> Trace:
    return trace_batchnorm(make_problem())


def test_every_node_is_a_step_in_engine_order(trace: Trace) -> None:
    p = make_problem()
    out = batchnorm(p.x, p.gamma, p.beta, p.eps)
    visited = []
    out.backward(p.dout, on_node=lambda node, grad: visited.append(node.label))
    assert [step.label for step in trace.steps] == visited
    numbers = {step.number for step in trace.steps} - {None}
    assert numbers == set(SEED_LABELS)
    assert {step.label for step in trace.steps} == set(SEED_LABELS.values()) | {"(5)+ε"}
    assert [step.index for step in trace.steps] == list(range(1, len(trace.steps) + 1))


def test_every_seed_intermediate_appears_and_matches_float64(trace: Trace) -> None:
    assert staged_names() <= set(SEED_PLACES)
    summary = trace.seed_summary()
    for name, places in SEED_PLACES.items():
        entry = summary[name]
        assert sorted(map(str, entry["places"])) == sorted(map(str, places)), name
        assert entry["max_abs_diff"] <= 1e-12, name
        assert entry["matches"], name
    assert trace.all_match
    assert trace.max_diff <= 1e-12


@pytest.mark.parametrize(("n", "d", "seed"), [(1, 3, 0), (2, 1, 7), (8, 6, 231), (50, 20, 3)])
def test_matches_for_other_shapes(n: int, d: int, seed: int) -> None:
    trace = trace_batchnorm(make_problem(n, d, seed))
    assert trace.all_match
    assert all(entry["places"] for entry in trace.seed_summary().values())
    assert trace.max_diff <= 1e-12 * 50


def test_float32_within_its_tolerance() -> None:
    trace = trace_batchnorm(make_problem(6, 4, 1, dtype="float32"))
    assert trace.dtype == "float32"
    assert all(step.grad.dtype == np.float32 for step in trace.steps)
    assert trace.all_match
    assert 0 < trace.max_diff <= 1e-4


def test_seed_places_are_one_table_naming_each_place_once() -> None:
    places = [place for group in SEED_PLACES.values() for place in group]
    assert len(places) == len(set(places))


def test_mapping_of_the_brief(trace: Trace) -> None:
    """d3_1, the gradient at (3), is the sum of the edges d8_3 and d4 arriving there."""
    step3 = next(s for s in trace.steps if s.key == "(3)")
    assert step3.seed is not None and step3.seed.name == "d3_1"
    assert set(step3.received_from) == {"(8)", "(4)"}
    by_edge = {(s.key, e.parent): e for s in trace.steps for e in s.edges}
    assert by_edge[("(8)", "(3)")].seed.name == "d8_3"
    assert by_edge[("(4)", "(3)")].seed.name == "d4"
    total = by_edge[("(8)", "(3)")].contribution + by_edge[("(4)", "(3)")].contribution
    np.testing.assert_array_equal(total, step3.grad)


def test_edge_contributions_sum_to_each_node_gradient(trace: Trace) -> None:
    incoming: dict[str, list[np.ndarray]] = {}
    for step in trace.steps:
        for edge in step.edges:
            if edge.contribution is not None:
                assert edge.contribution.shape == next(
                    s.grad.shape for s in trace.steps if s.key == edge.parent)
                incoming.setdefault(edge.parent, []).append(edge.contribution)
    for step in trace.steps:
        if step.key == "(12)":
            assert step.received_from == ()
            continue
        assert len(step.received_from) == len(incoming[step.key])
        np.testing.assert_allclose(sum(incoming[step.key]), step.grad, rtol=0, atol=1e-15)
        assert step.sum_diff is not None and step.sum_diff <= 1e-15


def test_local_derivatives_and_reductions(trace: Trace) -> None:
    edges = {(s.key, e.parent): e for s in trace.steps for e in s.edges}
    assert edges[("(4)", "(3)")].local_derivative == "2·(3)"
    assert edges[("(7)", "(6)")].local_derivative == "−1/(6)²"
    assert edges[("(10)", "(9)")].summed_axes == (0,)
    assert edges[("(5)", "(4)")].spread and edges[("(2)", "(1)")].spread
    assert not edges[("(3)", "(1)")].spread
    eps_edge = edges[("(5)+ε", "ε")]
    assert eps_edge.contribution is None and eps_edge.seed is None


def test_json_is_valid_stable_and_has_no_nan(trace: Trace) -> None:
    text = trace.to_json()
    assert "NaN" not in text and "Infinity" not in text
    data = json.loads(text)
    assert list(data) == ["problem", "all_match", "max_abs_diff", "tolerance",
                          "seed_intermediates", "steps"]
    assert data["problem"] == {"N": 4, "D": 5, "seed": 0, "dtype": "float64", "eps": 1e-5}
    assert data["all_match"] is True
    assert list(data["seed_intermediates"]) == list(SEED_PLACES)
    assert len(data["steps"]) == len(trace.steps) == 13
    step = data["steps"][0]
    assert step["node"] == "(12)" and step["number"] == 12
    assert np.array(step["grad"]).shape == (4, 5)
    assert text == trace_batchnorm(make_problem()).to_json()


def test_json_writes_non_finite_numbers_as_null_like_compare(trace: Trace) -> None:
    step = trace.steps[0]
    broken = dataclasses.replace(
        step, grad=np.full_like(step.grad, np.nan), sum_diff=np.inf,
        seed=dataclasses.replace(step.seed, max_abs_diff=np.nan))
    data = json.loads(dataclasses.replace(trace, steps=(broken, *trace.steps[1:])).to_json())
    first = data["steps"][0]
    assert first["seed"]["max_abs_diff"] is None and first["sum_max_abs_diff"] is None
    assert first["grad"] == [[None] * 5] * 4
    assert data["max_abs_diff"] is None  # the largest difference is NaN


def test_text_fits_100_columns_and_names_every_intermediate(trace: Trace) -> None:
    text = format_trace(trace)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    for name in SEED_PLACES:
        assert any(line.split()[:1] == [name] for line in lines), name
    assert "14 of 14 seed values found" in text and "all match" in text
    assert "nan" not in text.lower()


# ---- the command line ---------------------------------------------------------------------


def test_cli_trace_default(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == format_trace(trace_batchnorm(make_problem()))


def test_cli_trace_json_with_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", "--json", "-N", "3", "-D", "2", "--seed", "5",
                 "--dtype", "float32"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["problem"] == {"N": 3, "D": 2, "seed": 5, "dtype": "float32", "eps": 1e-5}
    assert data["all_match"] is True


@pytest.mark.parametrize("argv", [["-N", "0"], ["-D", "0"], ["--seed", "-1"],
                                  ["--eps", "0"], ["--eps", "nan"], ["--eps", "inf"]])
def test_cli_trace_bad_values_one_line_error(argv: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trace", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-bn: error: ")


@pytest.mark.parametrize("argv", [["--dtype", "float16"], ["-N", "x"], ["--bogus"]])
def test_cli_trace_bad_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["trace", *argv])
    assert exc.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert captured.out == "" and len(lines) == 1, lines  # one line, no usage block
    assert lines[0].startswith("autograd-bn: error: ")


def test_columns_stay_aligned_for_wide_shapes() -> None:
    from autograd_bn.bn.problem import make_problem
    from autograd_bn.check.trace import trace_batchnorm

    text = format_trace(trace_batchnorm(make_problem(2, 1000, 0)))
    import unicodedata

    rows = [line for line in text.splitlines() if "[" in line and "…]" in line]
    # the terminal column where the gradient starts (x̂'s hat is a combining mark: no column)
    starts = {sum(not unicodedata.combining(ch) for ch in line[:line.index("[")]) for line in rows}
    assert len(rows) > 10 and len(starts) == 1


# ---- any graph: trace_graph ------------------------------------------------------------------


def test_trace_graph_records_any_graph_in_the_engines_order_and_leaves_grads_alone() -> None:
    from autograd_bn.check.trace import trace_graph, unique_names
    from autograd_bn.engine.tensor import Tensor
    from examples.small_network import network

    loss = network(layers=2)
    nodes = loss.nodes()
    names = unique_names(nodes)
    assert len(set(names.values())) == len(nodes)  # two BN blocks, each with a (3): unique
    assert "layer1/bn1/(3)" in names.values() and "layer2/bn2/(3)" in names.values()
    assert all(n.grad is None for n in nodes)
    trace = trace_graph(loss)
    assert all(n.grad is None for n in nodes)  # the trace's pass left nothing behind

    order: list[Tensor] = []
    loss.backward(on_node=lambda node, g: order.append(node))
    assert [s.node_id for s in trace.steps] == [f"n{nodes.index(n)}" for n in order]
    for step, node in zip(trace.steps, order, strict=True):
        np.testing.assert_array_equal(step.grad, node.grad)
        assert step.key == names[node]
        for edge, parent in zip(step.edges, node.parents, strict=True):
            assert edge.parent_id == f"n{nodes.index(parent)}"
        assert step.sum_diff is None or step.sum_diff <= 1e-12
        assert len(step.received_ids) == len(step.received_from)
    before = {n: n.grad.copy() for n in nodes if n.grad is not None}
    again = trace_graph(loss)
    assert all(np.array_equal(n.grad, g) for n, g in before.items())  # leaves did not add up
    assert again.problem is None and again.all_match and again.to_dict()["problem"] is None


def test_trace_graph_takes_the_gradient_of_the_last_backward() -> None:
    from autograd_bn.check.trace import trace_graph
    from autograd_bn.engine.tensor import Tensor

    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), label="x")
    y = x * x
    with pytest.raises(ValueError, match="needs a gradient"):
        trace_graph(y)
    y.backward(np.array([[1.0, 0.0], [0.0, 2.0]]))
    trace = trace_graph(y)
    np.testing.assert_array_equal(trace.steps[-1].grad, [[2.0, 0.0], [0.0, 16.0]])
    assert [s.key for s in trace.steps] == ["#1", "x"]
    assert trace.steps[-1].received_from == ("#1", "#1")  # x * x: x is used twice
