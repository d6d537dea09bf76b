"""The examples in examples/ run as documented."""

from __future__ import annotations

import runpy
from pathlib import Path

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
