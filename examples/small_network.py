"""A small network with batch norm in every layer, drawn expanded and collapsed.

    python examples/small_network.py [FOLDER]    # writes network.png and network_collapsed.png

Each layer is a block (`autograd_bn.block`) holding its weight, a product, batch norm (itself a
block, `batchnorm(..., name=)`) and a smooth ReLU-like activation; `viz.render(...,
collapse=True)` draws each layer as one node. `make images` regenerates the README's pictures
with this script.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import viz
from autograd_bn import Tensor, batchnorm, block


def network(layers: int = 2, n: int = 4, d: int = 3, seed: int = 0) -> Tensor:
    """The loss of ``layers`` layers of ``h = softplus_ish(bn(h · w))`` on random data."""
    rng = np.random.default_rng(seed)
    h = Tensor(rng.standard_normal((n, d)), label="x")
    for i in range(1, layers + 1):
        with block(f"layer{i}"):
            w = Tensor(rng.standard_normal(d), label=f"w{i}")
            z = batchnorm(h * w, np.ones(d), np.zeros(d), name=f"bn{i}")
            h = (z + (z * z + 1.0).sqrt()) * 0.5  # a smooth ReLU
    return h.mean()


def main(folder: str = "docs") -> list[Path]:
    loss = network()
    loss.backward()
    return [viz.render(loss, Path(folder) / "network.png"),
            viz.render(loss, Path(folder) / "network_collapsed.png", collapse=True)]


if __name__ == "__main__":
    for path in main(*sys.argv[1:]):
        print(path)
