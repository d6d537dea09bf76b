"""The kernels: each fast path gives its plain meaning's numbers (to rounding), and takes the
fast path exactly where it says it does. And the plain mode: the same engine on plain numpy."""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_bn import Tensor
from autograd_bn.engine import kernels, shapes
from tests.strategies import broadcastable_shapes, programs, run_program


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n_inputs=st.integers(1, 3), big=st.booleans())
def test_plain_and_fast_kernels_give_the_same_gradients(data: st.DataObject, n_inputs: int,
                                                        big: bool) -> None:
    """Random graphs over every op, with broadcasting: the fast kernels never diverge from
    their plain meaning. ``big`` adds a batch of rows large enough for every fast path (BLAS
    sums, one-pass products, views for spread gradients, one-row powers)."""
    if big:  # (these broadcast together: a batch of rows and what broadcasts against it)
        big_shapes = st.sampled_from([(2048, 64), (64,), (1, 64), (2048, 1), ()])
        shapes_ = [data.draw(big_shapes) for _ in range(n_inputs)]
    else:
        shapes_ = data.draw(broadcastable_shapes(n_inputs))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-1, 1, s) for s in shapes_]
    steps = data.draw(programs(n_inputs))

    def gradients() -> list[np.ndarray]:
        inputs = [Tensor(a) for a in arrays]
        with np.errstate(all="ignore"):
            out = run_program(steps, inputs)
            out.backward()
        return [np.zeros(()) if t.grad is None else t.grad for t in inputs]  # (unused: None)

    with kernels.plain_kernels(False):
        fast = gradients()
    with kernels.plain_kernels(True):
        plain = gradients()
    for f, p in zip(fast, plain, strict=True):
        assume(np.isfinite(p).all() and np.abs(p).max() < 1e6)
        scale = max(1.0, float(np.abs(p).max()))
        np.testing.assert_allclose(f, p, rtol=1e-9, atol=1e-9 * scale)


def test_the_property_test_would_catch_a_diverging_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fast kernel that is off by one rounding-sized factor is caught by comparing modes."""
    x = np.random.default_rng(0).uniform(-1, 1, (2048, 64))
    with kernels.plain_kernels(True):
        t = Tensor(x)
        (t * t).mean(axis=0).sum().backward()
        plain = t.grad
    monkeypatch.setattr(kernels, "fast_spread",
                        lambda g, shape: np.broadcast_to(g * (1 + 1e-6), shape))
    with kernels.plain_kernels(False):
        t = Tensor(x)
        (t * t).mean(axis=0).sum().backward()
    assert not np.allclose(t.grad, plain, rtol=1e-9, atol=0)


def test_plain_mode_is_read_from_the_environment_at_import() -> None:
    code = ("from autograd_bn.engine import kernels; "
            "print(kernels.PLAIN, kernels.is_plain(), kernels.sum_axes.__name__)")
    for value, expected in (("1", "True True plain_sum_axes"), ("", "False False fast_sum_axes"),
                            ("0", "False False fast_sum_axes")):
        env = {**os.environ, "AUTOGRAD_BN_PLAIN": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True).stdout.strip()
        assert out == expected, value


def test_switching_modes_switches_every_kernel() -> None:
    with kernels.plain_kernels(True):
        assert all(getattr(kernels, n) is getattr(kernels, f"plain_{n}") for n in kernels.KERNELS)
    with kernels.plain_kernels(False):
        assert all(getattr(kernels, n) is getattr(kernels, f"fast_{n}") for n in kernels.KERNELS)


@pytest.mark.parametrize("name", kernels.KERNELS)
def test_each_kernels_fast_path_matches_its_plain_meaning(name: str) -> None:
    rng = np.random.default_rng(4)
    a, g = rng.uniform(0.5, 2, (2048, 64)), rng.standard_normal((2048, 64))
    row = rng.standard_normal(64)
    spread = np.broadcast_to(row, (2048, 64))
    cases = {
        "sum_axes": [(a, (0,), False), (a, (0,), True), (a, (1,), False), (a, (0, 1), False)],
        "spread": [(row, (2048, 64)), (row[:5], (3, 5))],
        "multiply": [(g, a, (64,)), (g, a, (2048, 64)), (g, a, (2048, 1))],
        "power": [(a, 2.0), (a, 3.0), (a, -0.5)],
        "power_grad": [(g, a, 2.0), (spread, a, 2.0), (spread, a, 3.0), (g, a, 0.0)],
        "scatter": [  # repeated rows of an embedding; rows and columns picked; a slice; a mask
            (g[:1000].reshape(500, 2, 64), rng.integers(0, 37, (500, 2)), (37, 64)),
            (g[:, 0], (np.arange(2048), rng.integers(0, 64, 2048)), (2048, 64)),
            (g[1:], slice(1, None), (2048, 64)),
            (g[:, 3][:np.count_nonzero(a[:, 0] > 1)], a[:, 0] > 1, (2048,)),
            (g.astype(np.float32)[:600], rng.integers(0, 9, 600), (9, 64)),
            (g[:3], np.array([0, 0, 1]), (4, 64))],  # small: numpy's way
    }[name]
    for args in cases:
        fast, plain = getattr(kernels, f"fast_{name}"), getattr(kernels, f"plain_{name}")
        into = args[2] if name == "multiply" else None
        got, expected = fast(*args), plain(*args)
        if into is not None:
            got, expected = shapes.unbroadcast(got, into), shapes.unbroadcast(expected, into)
        assert got.shape == expected.shape and got.dtype == expected.dtype
        tol = 1e-12 if got.dtype == np.float64 else 1e-5  # (float32: rounding to float32)
        np.testing.assert_allclose(got, expected, rtol=tol, atol=tol)


@pytest.mark.parametrize(("a_shape", "b_shape", "one_pass"), [
    ((1024, 1024), (1024,), True), ((1024, 1024), (1, 1024), True),
    ((16, 64, 1024), (1024,), True), ((16, 64, 1024), (64, 1024), True),
    ((1024, 1024), (1024, 1), False), ((2, 512, 1024), (512, 1), False),
    ((2, 512, 1024), (2, 1, 1024), False), ((1 << 20,), (), False), ((1024, 1024), (1, 1), False),
])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_large_broadcast_product_is_summed_in_one_pass_as_numpy_sums_it(
        a_shape: tuple[int, ...], b_shape: tuple[int, ...], one_pass: bool, dtype: type) -> None:
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal(a_shape).astype(dtype))
    b = Tensor(rng.standard_normal(b_shape).astype(dtype))
    g = rng.standard_normal(np.broadcast_shapes(a_shape, b_shape)).astype(dtype)
    assert g.size >= kernels.FUSE_FROM  # large enough for the one-pass path, where it applies
    (a * b).backward(g)
    product = g * a.data
    if one_pass:  # over the leading axes, in numpy's order of the rows: the same bits
        leading = tuple(range(len(a_shape) - len(b_shape) + (b_shape[0] == 1)))
        expected = np.add.reduce(product, axis=leading).reshape(b_shape)
    else:  # multiply, then fit
        expected = shapes.unbroadcast(product, b_shape)
    assert b.grad.shape == b_shape and b.grad.dtype == dtype
    np.testing.assert_array_equal(b.grad, expected)
    np.testing.assert_array_equal(a.grad, g * b.data)


def test_only_a_large_sum_over_leading_axes_of_row_major_arrays_takes_one_pass(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    einsum = np.einsum
    monkeypatch.setattr(np, "einsum", lambda *args: calls.append(args[0]) or einsum(*args))
    g = np.ones((128, 256))  # 2**15 elements in 256 columns: the smallest that qualify
    kernels.fast_multiply(g, g, (256,))
    kernels.fast_multiply(g, g, (1, 256))
    assert calls == ["ab,ab->b", "ab,ab->b"]
    for shape in [(128, 1), (1, 1), (128, 256)]:  # the last axis is summed pairwise by numpy
        kernels.fast_multiply(g, g, shape)
    kernels.fast_multiply(np.asfortranarray(g), g, (256,))  # not row-major
    small = np.ones((127, 256))  # the temporary is cheaper
    kernels.fast_multiply(small, small, (256,))
    narrow = np.ones((1 << 10, 63))  # einsum's loop is no faster over fewer than 64 columns
    kernels.fast_multiply(narrow, narrow, (63,))
    assert len(calls) == 2


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_add_up_sums_as_numpy_does_in_shape_dtype_and_value(data: st.DataObject) -> None:
    shape = data.draw(st.lists(st.integers(0, 12), min_size=0, max_size=4).map(tuple))
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, max(len(shape) - 1, 0)),
                                          max_size=len(shape)))))
    keepdims = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    a = rng.standard_normal(shape).astype(dtype)
    if data.draw(st.booleans()) and a.ndim >= 2:
        a = a.swapaxes(0, -1)  # not row-major: numpy's own reduction
    expected = np.add.reduce(a, axis=axes, keepdims=keepdims)
    got = np.asarray(kernels.fast_sum_axes(a, axes, keepdims))
    assert got.shape == np.shape(expected) and got.dtype == dtype
    tolerance = 1e-12 if dtype == np.float64 else 1e-5
    scale = np.add.reduce(abs(a), axis=axes, keepdims=keepdims)  # what rounding is relative to
    assert np.all(abs(got - expected) <= tolerance * scale)


@pytest.mark.parametrize(("shape", "axes"), [
    ((1024, 2), (0,)), ((64, 100), (0,)), ((8, 16, 100), (0,)), ((8, 16, 100), (0, 1)),
    ((3000, 1, 2), (0,)), ((2, 2, 256), (0, 1)),
])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_sum_over_leading_axes_goes_to_blas_and_equals_numpys(
        shape: tuple[int, ...], axes: tuple[int, ...], keepdims: bool, dtype: type,
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    ones = kernels._ones
    monkeypatch.setattr(kernels, "_ones", lambda n, d: calls.append(n) or ones(n, d))
    a = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    got = kernels.fast_sum_axes(a, axes, keepdims)
    assert calls == [math.prod(shape[:len(axes)])]  # the BLAS path, with one ones per row
    expected = np.add.reduce(a, axis=axes, keepdims=keepdims)
    assert got.shape == expected.shape and got.dtype == dtype
    assert got.flags.writeable and not np.shares_memory(got, a)  # an array of its own
    scale = np.add.reduce(abs(a), axis=axes, keepdims=keepdims)
    assert np.all(abs(got - expected) <= (1e-13 if dtype == np.float64 else 1e-6) * scale)


def test_a_masked_array_is_summed_by_numpy_with_its_mask() -> None:
    data = np.arange(2048.0).reshape(1024, 2)
    masked = np.ma.array(data, mask=np.zeros(data.shape, bool))
    masked.mask[0, 0] = True
    np.testing.assert_array_equal(kernels.fast_sum_axes(masked, (0,)), masked.sum(axis=0))


def test_a_very_tall_sum_keeps_no_vector_of_ones() -> None:
    kernels._kept_ones.cache_clear()
    kernels.fast_sum_axes(np.ones((kernels._KEEP_ONES_UP_TO + 1, 2)), (0,))
    assert kernels._kept_ones.cache_info().currsize == 0
    kernels.fast_sum_axes(np.ones((kernels._KEEP_ONES_UP_TO, 2)), (0,))
    assert kernels._kept_ones.cache_info().currsize == 1
    assert not kernels._ones(64, np.dtype(np.float64)).flags.writeable


def test_only_a_sum_over_leading_axes_is_a_product_with_ones() -> None:
    assert kernels._rows_plan((64, 100), (0,), False) == (64, 100, None)
    assert kernels._rows_plan((64, 100), (0,), True) == (64, 100, (1, 100))
    assert kernels._rows_plan((8, 16, 100), (0, 1), False) == (128, 100, None)
    assert kernels._rows_plan((8, 16, 100), (0,), False) == (8, 1600, (16, 100))
    for shape, axes in [((64, 100), (1,)), ((8, 16, 100), (0, 2)), ((64, 100), ()),
                        ((64, 100), (0, 1)), ((64, 1), (0,)), ((2048,), (0,)), ((4, 5), (0,))]:
        assert kernels._rows_plan(shape, axes, False) is None, (shape, axes)  # numpy's reduce


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_sum_over_rows_is_no_less_accurate_than_numpys(dtype: type) -> None:
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((4096, 64)) * 5 + 12).astype(dtype)
    exact = np.array([math.fsum(column) for column in a.astype(np.float64).T])
    ours = np.abs(kernels.fast_sum_axes(a, (0,)) - exact).max()
    numpys = np.abs(np.add.reduce(a, axis=0) - exact).max()
    assert ours <= numpys


def test_one_copy_is_the_row_a_large_spread_out_gradient_repeats() -> None:
    row, column = np.arange(256.0).reshape(1, 256), np.arange(64.0).reshape(64, 1)
    for small in (row, column, row[0]):
        spread = kernels.fast_spread(small, (64, 256))  # 16,384 elements: a view
        one = kernels._one_row(spread)
        assert one.shape == small.reshape((1,) * (2 - small.ndim) + small.shape).shape
        assert np.shares_memory(one, small)
        np.testing.assert_array_equal(np.broadcast_to(one, spread.shape), spread)
    full = np.ones((64, 256))
    tiny = np.broadcast_to(row[:, :8], (64, 8))  # a small view is left as it is (not worth it)
    assert kernels._one_row(full) is full and kernels._one_row(tiny) is tiny


@pytest.mark.parametrize("p", [2.0, 3.0, 0.5, -1.0, 0.0])
def test_pow_scales_a_spread_out_gradient_once_and_gets_the_same_numbers(p: float) -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, (64, 256))
    spread = kernels.fast_spread(rng.standard_normal((1, 256)), a.shape)
    assert kernels._one_row(spread) is not spread  # the one-row path is taken
    got = kernels.fast_power_grad(spread, a, p)
    expected = kernels.plain_power_grad(np.array(spread), a, p)
    assert got.shape == a.shape
    if p in (2.0, 0.0):  # 2·g·a either way: doubling is exact
        np.testing.assert_array_equal(got, expected)
    else:  # (p·g)·a^(p−1) against g·(p·a^(p−1)): one rounding apart
        np.testing.assert_allclose(got, expected, rtol=4e-16 * 4, atol=0)


