"""`compare_layer` and the diagnosis hints, on fixture layers loaded in this process (fast)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from autograd_bn.bn import layers
from autograd_bn.bn.problem import make_problem
from autograd_bn.check.compare import compare
from autograd_bn.check.family import compare_layer
from autograd_bn.check.userimpl import UserImplError, load_user_impl

FIXTURES = Path(__file__).parents[1] / "fixtures"


def user(forward: str, backward: str):
    return load_user_impl(f"{FIXTURES}/{forward}", f"{FIXTURES}/{backward}")


@pytest.mark.parametrize(("layer", "prefix", "options"), [
    ("layernorm", "layernorm", {}),
    ("spatial_batchnorm", "spatial_batchnorm", {}),
    ("spatial_groupnorm", "spatial_groupnorm", {}),
    ("spatial_groupnorm", "spatial_groupnorm", {"groups": 3}),
    ("batchnorm", "batchnorm", {"mode": "test"}),
    ("batchnorm", "bessel", {"bessel": True}),
])
def test_a_correct_layer_of_each_family_agrees(layer: str, prefix: str, options: dict) -> None:
    p = layers.make_layer_problem(layer, seed=231, **options)
    c = compare_layer(p, user=user(f"norm_correct.py:{prefix}_forward",
                                   f"norm_correct.py:{prefix}_backward"), repeats=1)
    assert c.agree and c.exit_code == 0, c.summary
    assert [r.name for r in c.rows] == ["autograd", "staged", "compact", "yours"]
    if options.get("mode") == "test":
        assert set(c.row("yours").checks) == {"running_mean", "running_var"}
        assert c.row("yours").vs_autograd == {}


def test_keepdims_gradients_are_graded_with_a_note() -> None:
    c = compare_layer(layers.make_layer_problem("layernorm"),
                      user=user("norm_correct.py:layernorm_forward",
                                "norm_correct.py:layernorm_backward_keepdims"), repeats=1)
    assert c.agree
    notes = [n for n in c.notes if "keepdims" in n]
    assert len(notes) == 2 and "dgamma has shape (1, 5): graded as (5,)" in notes[0]


def test_batchnorm_graded_as_layernorm_says_which_layer_was_assumed() -> None:
    with pytest.raises(UserImplError, match=r"sum over axis 1; .* \[graded as layer norm"):
        compare_layer(layers.make_layer_problem("layernorm"), repeats=1,
                      user=user("norm_broken.py:layernorm_forward",
                                "norm_broken.py:layernorm_backward_wrong_axis"),
                      hint=" [graded as layer norm]")


@pytest.mark.parametrize(("backward", "words"), [
    ("backward_no_mean_term", "same amount down each column"),
    ("backward_no_variance_term", "multiple of x̂"),
    ("backward_n_minus_1", "N/(N−1)"),
    ("backward_half", "times 1/2"),
    ("backward_no_gamma", "γ is missing"),
])
def test_each_hint_names_the_mistake(backward: str, words: str) -> None:
    c = compare(make_problem(4, 5, 231), with_torch=False, repeats=1,
                user=user("norm_correct.py:batchnorm_forward", f"norm_broken.py:{backward}"))
    row = c.row("yours")
    assert not c.agree and row.disagreements == ["dx"]
    assert 1 <= len(row.hints) <= 2 and words in row.hints[0]


def test_spatial_bn_over_n_only_is_diagnosed() -> None:
    c = compare_layer(layers.make_layer_problem("spatial_batchnorm"), repeats=1,
                      user=user("norm_broken.py:spatial_batchnorm_forward_over_n",
                                "norm_broken.py:spatial_batchnorm_backward_over_n"))
    row = c.row("yours")
    assert row.disagreements[0] == "out"
    assert "normalised over axis 0 of x; this layer normalises over axes 0, 2, 3" in row.hints[0]


def test_unfinished_groupnorm_backward_is_diagnosed() -> None:
    c = compare_layer(layers.make_layer_problem("spatial_groupnorm"), repeats=1,
                      user=user("norm_correct.py:spatial_groupnorm_forward",
                                "norm_broken.py:spatial_groupnorm_backward_unfinished"))
    row = c.row("yours")
    assert row.disagreements == ["dx", "dgamma"]
    assert row.hints[0].startswith("dx is exactly zero everywhere: the backward looks unfinished")


def test_a_tiny_gradient_is_not_resolvable_rather_than_wrong() -> None:
    p = make_problem(4, 5, 0)
    c = compare(x=p.x, gamma=np.full(5, 1e-146), beta=p.beta, dout=p.dout, with_torch=False,
                repeats=1)
    engine = c.rows[0]
    assert engine.vs_numerical is not None and not engine.vs_numerical["dx"].resolvable
    assert c.agree and c.exit_code == 0
    assert any("dx is not resolvable by the numerical gradient" in n for n in c.notes)


def test_overflow_is_refused_not_hidden_by_a_wider_tolerance() -> None:
    p = make_problem(4, 5, 0, "float32")
    with pytest.raises(ValueError, match=r"\(4\) \(3\)² overflowed to inf in float32"):
        compare(x=p.x * np.float32(1e20), gamma=p.gamma, beta=p.beta, dout=p.dout,
                with_torch=False, repeats=1)


def test_float32_note_explains_large_elementwise_errors() -> None:
    c = compare(make_problem(64, 10, 0, "float32"), with_torch=False, repeats=1,
                numerical=False)
    assert c.agree
    row = c.row("compact")
    assert row.vs_autograd["dx"].norm_error < 1e-5
    assert row.vs_autograd["dx"].rel_error > 100 * row.vs_autograd["dx"].norm_error
    assert any("read the norm-wise column in float32" in n for n in c.notes)


def test_an_overflowing_output_gradient_is_refused_as_a_value_error() -> None:
    """The engine's backward pass names the edge (GradientOverflowError, a ValueError as
    compare documents), before compare's own look at the gradients."""
    p = make_problem(8, 3, 0, "float32")
    with pytest.raises(ValueError, match=r"from \(12\) out to \(11\) β"):
        compare(x=p.x, gamma=p.gamma, beta=p.beta, dout=np.full((8, 3), 3e38, np.float32),
                numerical=False, with_torch=False, repeats=1)
