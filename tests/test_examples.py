"""The examples in examples/ run as documented."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_small_network_draws_expanded_and_collapsed(tmp_path: Path) -> None:
    example = runpy.run_path(str(ROOT / "examples" / "small_network.py"))
    written = example["main"](str(tmp_path))
    assert [p.name for p in written] == ["network.png", "network_collapsed.png"]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)
    loss = example["network"]()
    assert len(loss.nodes()) == 42
    assert {n.block for n in loss.nodes()} == {(), ("layer1",), ("layer1", "bn1"), ("layer2",),
                                               ("layer2", "bn2")}


MAKEMORE_NAMES = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits",
                  "logit_maxes", "logits", "h", "hpreact", "bnraw", "bnvar_inv", "bnvar",
                  "bndiff2", "bndiff", "bnmeani", "hprebn", "embcat", "emb", "bnbias", "bngain",
                  "b2", "W2", "b1", "W1", "C"]


def test_backprop_ninja_every_hand_written_gradient_is_exact_or_close() -> None:
    from autograd_bn import compare_grads

    example = runpy.run_path(str(ROOT / "examples" / "backprop_ninja.py"))
    for seed in (0, 1):
        c = compare_grads(*example["step"](seed))
        assert c.ok, c.summary
        assert [r.name for r in c.results] == MAKEMORE_NAMES  # backward order
        assert all(r.shape_ok for r in c.results)
        assert sum(r.exact for r in c.results) >= 10  # the first steps repeat the engine's ops


def test_backprop_ninja_is_makemores_network() -> None:
    import numpy as np

    from autograd_bn import cross_entropy

    example = runpy.run_path(str(ROOT / "examples" / "backprop_ninja.py"))
    t, xb, yb = example["network"](0)
    assert xb.shape == (32, 3) and yb.shape == (32,) and xb.max() < 27
    shapes = {name: t[name].shape for name in ("C", "emb", "embcat", "hprebn", "logits")}
    assert shapes == {"C": (27, 10), "emb": (32, 3, 10), "embcat": (32, 30),
                      "hprebn": (32, 64), "logits": (32, 27)}
    # batch norm's variance has Bessel's correction, the cross-entropy written out is the
    # library's, and every layer is a block
    np.testing.assert_allclose(t["bnvar"].data, t["hprebn"].var(0, keepdims=True, ddof=1).data)
    assert t["loss"].item() == pytest.approx(cross_entropy(t["logits"], yb).item(), rel=1e-14)
    assert {n.block for n in t["loss"].nodes()} == {
        (), ("embedding",), ("linear1",), ("batchnorm",), ("tanh",), ("linear2",),
        ("cross_entropy",)}


def test_backprop_ninja_finds_a_wrong_step() -> None:
    """A learner's slip, Bessel's correction forgotten on the way back: the check points at
    the step that made it, and everything computed from it is wrong too."""
    from autograd_bn import compare_grads

    source = (ROOT / "examples" / "backprop_ninja.py").read_text(encoding="utf-8")
    right = 'np.ones_like(v["bndiff2"]) * d["bnvar"] / (n - 1)'
    assert right in source
    slip: dict[str, Any] = {"__name__": "slip"}
    exec(compile(source.replace(right, right.replace("(n - 1)", "n")), "slip", "exec"), slip)
    c = compare_grads(*slip["step"]())
    assert c.first_wrong == "bndiff2" and c.exit_code == 1
    # (b1's gradient stays ~0: the error sums to zero over the batch, as b1's whole gradient)
    assert [r.name for r in c.wrong] == ["bndiff2", "bndiff", "hprebn", "embcat", "emb", "W1",
                                         "C"]


def test_backprop_ninja_prints_the_table_and_draws_the_collapsed_graph(tmp_path: Path) -> None:
    example = runpy.run_path(str(ROOT / "examples" / "backprop_ninja.py"))
    table, path = example["main"](str(tmp_path))
    assert table.splitlines()[-1].startswith("RESULT: all 26 gradients agree")
    assert path == tmp_path / "ninja.png" and path.read_bytes().startswith(b"\x89PNG")
    _, dot = example["main"](str(tmp_path), "dot")
    source = dot.read_text(encoding="utf-8")
    for layer, nodes in (("embedding", 2), ("linear1", 2), ("batchnorm", 10), ("tanh", 1),
                         ("linear2", 2), ("cross_entropy", 10)):
        assert layer in source and f"block · {nodes} node" in source
    assert "bnvar_inv" not in source  # inside the collapsed batchnorm block


def test_backprop_ninja_via_the_command_line(capsys, monkeypatch) -> None:
    from autograd_bn.cli import main

    monkeypatch.chdir(ROOT)
    assert main(["check", "examples/backprop_ninja.py:step"]) == 0
    assert "RESULT: all 26 gradients agree" in capsys.readouterr().out
    assert main(["check", "examples/backprop_ninja.py:step", "--seed", "7"]) == 0
