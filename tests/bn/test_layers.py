"""The family's layers: engine graph, hand-written passes and numerical gradient agree."""

from __future__ import annotations

import numpy as np
import pytest

from autograd_bn.bn import layers
from autograd_bn.engine.gradcheck import numerical_gradient, rel_error

BANDS = {"batchnorm": 1e-8, "layernorm": 1e-8, "spatial_batchnorm": 1e-6,
         "spatial_groupnorm": 1e-7}
"""cs231n's bands for dx against the numerical gradient (they print 1e-12 to these)."""
CASES = [dict(layer="batchnorm"), dict(layer="layernorm"), dict(layer="spatial_batchnorm"),
         dict(layer="spatial_groupnorm"), dict(layer="spatial_groupnorm", groups=3),
         dict(layer="batchnorm", mode="test"), dict(layer="batchnorm", bessel=True)]


def _numerical(p: layers.LayerProblem) -> list[np.ndarray]:
    def f(i: int):
        def out(v):
            args = [p.x, p.gamma, p.beta]
            args[i] = v
            return layers.numpy_out(p, *args)
        return out
    return [numerical_gradient(f(i), a, p.dout) for i, a in enumerate((p.x, p.gamma, p.beta))]


@pytest.mark.parametrize("options", CASES, ids=lambda o: "-".join(map(str, o.values())))
def test_engine_hand_written_and_numerical_agree(options: dict) -> None:
    p = layers.make_layer_problem(seed=231, **options)
    out, grads = layers.engine_grads(p)
    manual_out, cache = layers.manual_forward(p)
    assert rel_error(out, manual_out) < 1e-14
    assert [g.shape for g in grads] == [p.x.shape, p.gamma.shape, p.beta.shape]
    for name in ("staged", "compact"):
        for a, b in zip(grads, layers.manual_backward(name, p, cache), strict=True):
            assert rel_error(a, b) < 1e-12
    numeric = _numerical(p)
    assert 1e-13 < rel_error(grads[0], numeric[0]) < BANDS[p.layer]
    for a, b in zip(grads[1:], numeric[1:], strict=True):
        assert rel_error(a, b) < 1e-8


def test_graph_has_the_seed_numbers() -> None:
    out, _ = layers.build_graph(layers.make_layer_problem("spatial_groupnorm"))
    labels = {n.label for n in out.nodes()}
    assert {"(1) x", "(2) mean", "(5) var", "(8) x̂", "(12) out"} <= labels
    assert out.shape == (2, 2, 3, 4, 5)  # x seen as (N, G, C/G, H, W), made before the leaf
    test, _ = layers.build_graph(layers.make_layer_problem(mode="test"))
    assert "(2) running mean" in {n.label for n in test.nodes()}


def test_running_statistics_follow_cs231n() -> None:
    p = layers.make_layer_problem(mode="test", momentum=0.8)
    mean, var = layers.running_stats(p)
    assert p.running_mean is not None and p.running_var is not None
    np.testing.assert_allclose(mean, 0.8 * p.running_mean + 0.2 * p.x.mean(axis=0))
    np.testing.assert_allclose(var, 0.8 * p.running_var + 0.2 * p.x.var(axis=0))


@pytest.mark.parametrize(("options", "message"), [
    (dict(layer="nope"), "unknown layer"),
    (dict(layer="spatial_groupnorm", groups=4), "must divide"),
    (dict(layer="layernorm", mode="test"), "for --layer batchnorm"),
    (dict(layer="spatial_batchnorm", shape=(2, 3)), "takes x of 4 positive sizes"),
])
def test_bad_problems_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        layers.make_layer_problem(**options)
