"""Becoming a backprop ninja: a whole network with batch norm, its backward pass written by hand
in numpy, step by step, and checked name by name against the engine's.

    python examples/backprop_ninja.py [FOLDER [FMT]]  # prints the table, draws FOLDER/ninja.png
    autograd-bn check examples/backprop_ninja.py:step

The network is the character-level MLP of Karpathy's makemore, part 4 (its exercise 1), on
random data from a seeded generator (nothing is downloaded): 32 examples of 3 characters from a
vocabulary of 27, each character embedded in 10 numbers, a linear layer of 64 units, batch norm
with Bessel's correction, tanh, a linear layer back to 27 logits, and the cross-entropy written
out op by op. Every intermediate is a named Tensor; `manual_backward` derives each of their
gradients by hand, from the loss back to the embedding table; `step` returns both, as
``autograd-bn check`` expects.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

import viz
from autograd_bn import Tensor, block

Array = np.ndarray

VOCAB, BLOCK, EMBED, HIDDEN, BATCH = 27, 3, 10, 64, 32
EPS = 1e-5  # batch norm's epsilon

PARAMETERS = ("C", "W1", "b1", "W2", "b2", "bngain", "bnbias")


def parameters(rng: np.random.Generator) -> dict[str, Array]:
    """The network's weights, drawn as makemore draws them (small, so tanh is not saturated);
    the biases and the batch norm's gain and shift are random too, so no gradient is trivially
    right."""
    fan_in = BLOCK * EMBED
    return {
        "C": rng.standard_normal((VOCAB, EMBED)),
        "W1": rng.standard_normal((fan_in, HIDDEN)) * (5 / 3) / fan_in**0.5,
        "b1": rng.standard_normal(HIDDEN) * 0.1,  # useless before batch norm: its gradient is ~0
        "W2": rng.standard_normal((HIDDEN, VOCAB)) * 0.1,
        "b2": rng.standard_normal(VOCAB) * 0.1,
        "bngain": rng.standard_normal((1, HIDDEN)) * 0.1 + 1.0,
        "bnbias": rng.standard_normal((1, HIDDEN)) * 0.1,
    }


def batch(rng: np.random.Generator) -> tuple[Array, Array]:
    """``BATCH`` contexts of ``BLOCK`` character indices and the character after each."""
    return rng.integers(0, VOCAB, (BATCH, BLOCK)), rng.integers(0, VOCAB, BATCH)


def forward(params: dict[str, Array], xb: Array, yb: Array) -> dict[str, Tensor]:
    """The forward pass, one named Tensor per step, each layer a block of the graph.
    Returns every Tensor by name (the parameters first, the loss last)."""
    t = {name: Tensor(value, label=name) for name, value in params.items()}
    n = len(xb)
    with block("embedding"):
        t["emb"] = t["C"][xb]                                    # (32, 3, 10)
        t["embcat"] = t["emb"].reshape(n, -1)                    # (32, 30)
    with block("linear1"):
        t["hprebn"] = t["embcat"] @ t["W1"] + t["b1"]            # (32, 64)
    with block("batchnorm"):  # from primitives, variance with Bessel's correction (n − 1)
        t["bnmeani"] = t["hprebn"].mean(0, keepdims=True)
        t["bndiff"] = t["hprebn"] - t["bnmeani"]
        t["bndiff2"] = t["bndiff"] ** 2
        t["bnvar"] = t["bndiff2"].sum(0, keepdims=True) / (n - 1)  # = hprebn.var(0, ddof=1)
        t["bnvar_inv"] = (t["bnvar"] + EPS) ** -0.5
        t["bnraw"] = t["bndiff"] * t["bnvar_inv"]
        t["hpreact"] = t["bngain"] * t["bnraw"] + t["bnbias"]
    with block("tanh"):
        t["h"] = t["hpreact"].tanh()
    with block("linear2"):
        t["logits"] = t["h"] @ t["W2"] + t["b2"]                 # (32, 27)
    with block("cross_entropy"):  # written out: what cross_entropy(logits, yb) computes
        t["logit_maxes"] = t["logits"].max(1, keepdims=True)
        t["norm_logits"] = t["logits"] - t["logit_maxes"]        # no overflow in exp
        t["counts"] = t["norm_logits"].exp()
        t["counts_sum"] = t["counts"].sum(1, keepdims=True)
        t["counts_sum_inv"] = t["counts_sum"] ** -1
        t["probs"] = t["counts"] * t["counts_sum_inv"]
        t["logprobs"] = t["probs"].log()
        t["loss"] = -t["logprobs"][np.arange(n), yb].mean()
    for name, tensor in t.items():
        tensor.label = name
    return t


def manual_backward(v: dict[str, Array], xb: Array, yb: Array) -> dict[str, Array]:
    """Every gradient by hand, in numpy, from the loss back to the embedding table.

    ``v`` holds each forward value by name (numpy arrays). Each step is the chain rule for one
    op: the gradient of its output times the op's local derivative, summed over the axes the
    forward pass broadcast, and added up where a value was used twice.
    """
    n = len(xb)
    rows = np.arange(n)
    d: dict[str, Array] = {}
    # loss = −mean of the picked log-probabilities: each picked one gets −1/n, the rest 0
    d["logprobs"] = np.zeros_like(v["logprobs"])
    d["logprobs"][rows, yb] = -1.0 / n
    d["probs"] = d["logprobs"] / v["probs"]                      # d log(p) = 1/p
    # probs = counts · counts_sum_inv, the second broadcast along each row: sum it back
    d["counts_sum_inv"] = (d["probs"] * v["counts"]).sum(1, keepdims=True)
    d["counts_sum"] = d["counts_sum_inv"] * -(v["counts_sum"] ** -2)
    # counts reaches the loss twice: through probs directly, and through counts_sum
    d["counts"] = d["probs"] * v["counts_sum_inv"] + d["counts_sum"]  # (sum: copied back)
    d["norm_logits"] = d["counts"] * v["counts"]                 # d exp(x) = exp(x)
    d["logit_maxes"] = -d["norm_logits"].sum(1, keepdims=True)   # ≈ 0: the shift cancels
    # logits reach the loss directly and through the row maximum (to the first maximum)
    first_max = np.zeros_like(v["logits"])
    first_max[rows, v["logits"].argmax(1)] = 1.0
    d["logits"] = d["norm_logits"] + first_max * d["logit_maxes"]
    # logits = h @ W2 + b2
    d["h"] = d["logits"] @ v["W2"].T
    d["W2"] = v["h"].T @ d["logits"]
    d["b2"] = d["logits"].sum(0)
    d["hpreact"] = d["h"] * (1.0 - v["h"] ** 2)                  # d tanh = 1 − tanh²
    # hpreact = bngain · bnraw + bnbias, gain and shift broadcast over the batch
    d["bngain"] = (d["hpreact"] * v["bnraw"]).sum(0, keepdims=True)
    d["bnbias"] = d["hpreact"].sum(0, keepdims=True)
    d["bnraw"] = d["hpreact"] * v["bngain"]
    # bnraw = bndiff · bnvar_inv
    d["bnvar_inv"] = (d["bnraw"] * v["bndiff"]).sum(0, keepdims=True)
    d["bnvar"] = d["bnvar_inv"] * -0.5 * (v["bnvar"] + EPS) ** -1.5
    d["bndiff2"] = np.ones_like(v["bndiff2"]) * d["bnvar"] / (n - 1)
    # bndiff reaches the loss through bnraw and through bndiff2
    d["bndiff"] = d["bnraw"] * v["bnvar_inv"] + d["bndiff2"] * 2.0 * v["bndiff"]
    d["bnmeani"] = -d["bndiff"].sum(0, keepdims=True)
    d["hprebn"] = d["bndiff"] + d["bnmeani"] / n                 # directly, and via the mean
    # hprebn = embcat @ W1 + b1
    d["embcat"] = d["hprebn"] @ v["W1"].T
    d["W1"] = v["embcat"].T @ d["hprebn"]
    d["b1"] = d["hprebn"].sum(0)                                 # ≈ 0: batch norm removes it
    d["emb"] = d["embcat"].reshape(v["emb"].shape)
    # emb = C[xb]: each row of C gets the gradient of every place it was looked up
    d["C"] = np.zeros_like(v["C"])
    np.add.at(d["C"], xb, d["emb"])
    return d


def network(seed: int = 0) -> tuple[dict[str, Tensor], Array, Array]:
    """The forward pass on seeded random parameters and data, backward already called."""
    rng = np.random.default_rng(seed)
    params = parameters(rng)
    xb, yb = batch(rng)
    t = forward(params, xb, yb)
    t["loss"].backward()
    return t, xb, yb


def step(seed: int = 0) -> tuple[dict[str, Tensor], dict[str, Any]]:
    """One training step's gradients, both ways: ``(named, manual)`` for `compare_grads` and
    ``autograd-bn check examples/backprop_ninja.py:step``. Every Tensor is named but the
    loss (its gradient is 1 by definition)."""
    t, xb, yb = network(seed)
    return named_and_manual(t, xb, yb)


def named_and_manual(t: dict[str, Tensor], xb: Array, yb: Array
                     ) -> tuple[dict[str, Tensor], dict[str, Any]]:
    values = {name: tensor.data for name, tensor in t.items()}
    named = {name: tensor for name, tensor in t.items() if name != "loss"}
    return named, dict(manual_backward(values, xb, yb))


def main(folder: str = ".", fmt: str = "png") -> tuple[str, Path]:
    """The table of every gradient, and the graph collapsed by layer drawn to
    FOLDER/ninja.FMT (png, svg, pdf or dot); returns both."""
    from autograd_bn import compare_grads
    from autograd_bn.text.grads import format_grads

    t, xb, yb = network()
    table = format_grads(compare_grads(*named_and_manual(t, xb, yb)))
    return table, viz.render(t["loss"], Path(folder) / f"ninja.{fmt}", collapse=True)


if __name__ == "__main__":
    text, path = main(*sys.argv[1:])
    print(text)
    print(f"graph: {path}")
