"""The ops past BN (matmul, maximum, exp, log, tanh, relu, indexing, reshape, transpose, max,
var/std, softmax, cross-entropy): random shapes against central differences in float64, and
against torch where it is installed; repeated indices, ties, kinks, and bad input."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd_bn as ab
from autograd_bn import Tensor, gradcheck
from autograd_bn.engine import naming

try:
    import torch
except ImportError:  # an optional extra
    torch = None  # type: ignore[assignment]

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed (an extra)")
SIDE = st.integers(1, 4)


def arrays(shape: tuple[int, ...], low: float = -1.0, high: float = 1.0) -> st.SearchStrategy:
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high, width=64))


def away_from(values: np.ndarray, kinks: float = 0.0, gap: float = 1e-3) -> bool:
    """No value within ``gap`` of a kink, where a numerical gradient would step across it."""
    return bool(np.all(np.abs(values - kinks) > gap))


def check(f: Callable[..., Tensor], *inputs: np.ndarray) -> None:
    weights = np.random.default_rng(0).standard_normal(np.shape(f(*map(Tensor, inputs)).data))

    def weighted(*ts: Tensor) -> Tensor:  # a random weighting makes every output count
        return (f(*ts) * weights).sum() if weights.ndim else f(*ts) * float(weights)

    result = gradcheck(weighted, *inputs, tolerance=1e-6)
    assert result.passed, str(result)


# ---- against central differences ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(data=st.data(), n=SIDE, k=SIDE, m=SIDE, batch=st.sampled_from([(), (2,), (2, 1)]))
def test_matmul_of_matrices_and_stacks(data: st.DataObject, n: int, k: int, m: int,
                                       batch: tuple[int, ...]) -> None:
    a = data.draw(arrays((*batch, n, k)))
    b = data.draw(arrays((k, m) if data.draw(st.booleans()) else (*batch[:1], k, m)))
    check(lambda x, y: x @ y, a, b)
    check(lambda x: x @ Tensor(b, requires_grad=False), a)  # a constant on the right
    check(lambda y: a @ y, b)  # an ndarray on the left: the Tensor's __rmatmul__


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4))
def test_elementwise_functions(data: st.DataObject, shape: tuple[int, ...]) -> None:
    x = data.draw(arrays(shape))
    check(lambda t: t.exp(), x)
    check(lambda t: t.tanh(), x)
    check(lambda t: (t * t + 0.5).log(), x)
    assume(away_from(x))
    check(lambda t: t.relu(), x)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3,
                                                                max_side=4))
def test_maximum_broadcasts(data: st.DataObject, shapes: hnp.BroadcastableShapes) -> None:
    a, b = (data.draw(arrays(s)) for s in shapes.input_shapes)
    assume(away_from(np.subtract(a, b)) and away_from(a, kinks=0.25))
    check(lambda x, y: x.maximum(y), a, b)
    check(lambda x: x.maximum(0.25), a)  # (a kink at a = 0.25 too)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_max_over_axes(data: st.DataObject, shape: tuple[int, ...]) -> None:
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-1, 1), unique=True))
    flat = np.sort(x.ravel())
    assume(len(flat) < 2 or np.min(np.diff(flat)) > 1e-3)  # no near-ties: a kink
    axis = data.draw(st.sampled_from([None, 0, -1, tuple(range(x.ndim))]))
    keepdims = data.draw(st.booleans())
    check(lambda t: t.max(axis=axis, keepdims=keepdims), x)


@settings(max_examples=40, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, max_side=4))
def test_reshape_transpose_and_indexing(data: st.DataObject, shape: tuple[int, ...]) -> None:
    x = data.draw(arrays(shape))
    check(lambda t: t.reshape(-1), x)
    check(lambda t: t.reshape(*reversed(shape)), x)
    check(lambda t: t.T, x)
    axes = data.draw(st.permutations(range(x.ndim)))
    check(lambda t: t.transpose(*axes), x)
    rows = data.draw(st.lists(st.integers(0, shape[0] - 1), min_size=1, max_size=6))
    check(lambda t: t[np.array(rows)], x)  # repeated rows: their gradients add up
    check(lambda t: t[1:], x) if shape[0] > 1 else None
    check(lambda t: t[x > 0] if (x > 0).any() else t.sum(), x)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), n=st.integers(2, 5), d=SIDE, ddof=st.sampled_from([0, 1]))
def test_var_std_softmax_and_cross_entropy(data: st.DataObject, n: int, d: int,
                                           ddof: int) -> None:
    x = data.draw(arrays((n, d)))
    check(lambda t: t.var(axis=0, ddof=ddof), x)
    assume(np.ptp(x, axis=0).min() > 0.1)  # (a zero std has an infinite gradient)
    check(lambda t: (t * 3 + 0.1).std(axis=0, keepdims=True, ddof=ddof), x)
    check(lambda t: ab.softmax(t), x)
    check(lambda t: ab.softmax(t, axis=0), x)
    targets = data.draw(st.lists(st.integers(0, d - 1), min_size=n, max_size=n))
    check(lambda t: ab.cross_entropy(t, targets), x)


# ---- exact cases ------------------------------------------------------------------------------


def test_repeated_indices_add_up_and_pairs_of_indices_pick_elements() -> None:
    x = Tensor(np.arange(12.0).reshape(3, 4))
    picked = x[np.array([0, 2, 0]), np.array([1, 3, 1])]
    np.testing.assert_array_equal(picked.data, [1.0, 11.0, 1.0])
    picked.backward(np.array([1.0, 2.0, 10.0]))
    expected = np.zeros((3, 4))
    expected[0, 1], expected[2, 3] = 11.0, 2.0  # 1 + 10 at the repeated (0, 1)
    np.testing.assert_array_equal(x.grad, expected)
    assert Tensor(np.ones(3))[Tensor(np.array([0, 0]), requires_grad=False)].shape == (2,)


def test_the_gradient_of_max_goes_to_the_first_maximum() -> None:
    x = Tensor(np.array([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]))
    x.max(axis=1).backward(np.array([1.0, 5.0]))
    np.testing.assert_array_equal(x.grad, [[1.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
    y = Tensor(np.array([[1.0, 4.0], [4.0, 0.0]]))
    y.max().backward()  # over every axis: the first in row-major order
    np.testing.assert_array_equal(y.grad, [[0.0, 1.0], [0.0, 0.0]])
    # a NaN row (no element equals its NaN maximum) beside a tie: still one 1 in each row
    z = Tensor(np.array([[np.nan, 1.0], [2.0, 2.0]]))
    z.max(axis=1).backward(np.ones(2))
    np.testing.assert_array_equal(z.grad, [[1.0, 0.0], [1.0, 0.0]])
    w = Tensor(np.array([[1.0, 7.0, 3.0], [9.0, 2.0, 9.5]]))  # no ties: the quick way
    w.max(axis=1, keepdims=True).backward(np.array([[2.0], [3.0]]))
    np.testing.assert_array_equal(w.grad, [[0.0, 2.0, 0.0], [0.0, 0.0, 3.0]])


def test_kinks_send_the_gradient_one_way() -> None:
    x = Tensor(np.array([-1.0, 0.0, 2.0]))
    x.relu().backward(np.ones(3))
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])  # relu'(0) = 0
    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([1.0, 3.0]))
    a.maximum(b).backward(np.ones(2))
    np.testing.assert_array_equal((a.grad, b.grad), ([1.0, 0.0], [0.0, 1.0]))  # a tie: to a


def test_var_with_bessels_correction_matches_numpy() -> None:
    x = np.random.default_rng(1).standard_normal((5, 3))
    np.testing.assert_allclose(Tensor(x).var(axis=0, ddof=1).data, x.var(axis=0, ddof=1))
    np.testing.assert_allclose(Tensor(x).std().data, x.std())
    ops = [n.op for n in Tensor(x).var(axis=0).nodes()]
    assert {"mean", "sub", "pow", "sum", "div_scalar"} <= set(ops)  # its primitives, drawn


def test_edges_of_the_new_ops_read_as_the_seed_writes_them() -> None:
    a, b = Tensor(np.ones((2, 3)), label="a"), Tensor(np.ones((3, 4)), label="b")
    y = a @ b
    names = {a: "a", b: "b", y: "y"}
    assert naming.edge_label(y, 0, names) == ["·bᵀ"] and naming.edge_label(y, 1, names) == ["aᵀ·"]
    r = a.reshape(3, 2)
    assert naming.edge_label(r, 0, {a: "a", r: "r"}) == ["↦ reshaped back"]
    picked = a[0]
    assert naming.edge_label(picked, 0, {a: "a", picked: "p"}) == ["↦ added back at [index]"]
    assert naming.op_text(a.T) == "transpose(axes=(1, 0))"
    assert naming.op_text(r) == "reshape((3, 2))"


# ---- against torch ------------------------------------------------------------------------------


@needs_torch
@pytest.mark.parametrize("name", ["matmul", "exp", "log", "tanh", "relu", "max", "getitem",
                                  "reshape", "transpose", "var1", "softmax", "cross_entropy"])
def test_gradients_match_torch(name: str) -> None:
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    idx = np.array([3, 0, 3, 1])
    targets = np.array([2, 0, 1, 2])
    ours: dict[str, Callable[[Tensor], Tensor]] = {
        "matmul": lambda t: t @ w, "exp": lambda t: t.exp(), "log": lambda t: (t * t + 1).log(),
        "tanh": lambda t: t.tanh(), "relu": lambda t: t.relu(), "max": lambda t: t.max(axis=0),
        "getitem": lambda t: t[idx], "reshape": lambda t: t.reshape(2, 6),
        "transpose": lambda t: t.T, "var1": lambda t: t.var(axis=0, ddof=1),
        "softmax": lambda t: ab.softmax(t), "cross_entropy": lambda t: ab.cross_entropy(t, targets),
    }
    theirs: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
        "matmul": lambda t: t @ torch.tensor(w), "exp": torch.exp,
        "log": lambda t: torch.log(t * t + 1), "tanh": torch.tanh, "relu": torch.relu,
        "max": lambda t: t.max(dim=0).values, "getitem": lambda t: t[torch.tensor(idx)],
        "reshape": lambda t: t.reshape(2, 6), "transpose": lambda t: t.T,
        "var1": lambda t: t.var(dim=0, unbiased=True), "softmax": lambda t: t.softmax(-1),
        "cross_entropy": lambda t: torch.nn.functional.cross_entropy(t, torch.tensor(targets)),
    }
    t = Tensor(x)
    out = ours[name](t)
    dout = rng.standard_normal(out.shape)
    out.backward(dout)
    tt = torch.tensor(x, requires_grad=True)
    theirs[name](tt).backward(torch.tensor(dout))
    np.testing.assert_allclose(t.grad, tt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out.data, theirs[name](torch.tensor(x)).numpy(), rtol=1e-12)


# ---- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("build", "error", "message"), [
    (lambda t: t @ Tensor(np.ones(3)), ValueError, r"@ needs two tensors of 2 or more dimensions"),
    (lambda t: t @ Tensor(np.ones((2, 2))), ValueError,
     r"@ of shapes \(4, 3\) and \(2, 2\): the last size of the first \(3\) must equal"),
    (lambda t: t[5], IndexError, r"index 5 is out of bounds .* \(indexing a tensor of shape"),
    (lambda t: t[np.array([0.5])], IndexError, "indices must be integers or booleans"),
    (lambda t: t.reshape(5, 5), ValueError, r"cannot reshape a tensor of shape \(4, 3\) to"),
    (lambda t: t.transpose(0, 0), ValueError, r"axis \(0, 0\) repeats an axis"),
    (lambda t: t.transpose(0), ValueError, "transpose needs a permutation of the 2 axes"),
    (lambda t: t.transpose("a", 1), TypeError, "transpose's axes must be ints"),
    (lambda t: t.max(axis=2), ValueError, "axis 2 is out of range"),
    (lambda t: Tensor(np.ones((0, 3))).max(axis=0), ValueError, "max over an empty axis"),
    (lambda t: t.var(ddof=-1), ValueError, "ddof must be an integer ≥ 0"),
    (lambda t: Tensor(np.ones((1, 3))).var(axis=0, ddof=1), ValueError,
     r"var with ddof=1 needs more than 1 element\(s\) per result"),
    (lambda t: np.exp(t), TypeError, r"numpy's exp does not work on a Tensor: use the Tensor's "
                                     r"own methods \(t.exp\(\)"),
    (lambda t: np.dot(t, t), TypeError, "a Tensor is not a numpy array"),
    (lambda t: ab.cross_entropy(t, [0.5, 1, 2, 0]), ValueError, "N integer targets"),
])
def test_bad_input_says_what_is_wrong(build: Callable[[Tensor], Tensor], error: type,
                                      message: str) -> None:
    with pytest.raises(error, match=message):
        build(Tensor(np.ones((4, 3))))


def test_numpy_arithmetic_with_a_tensor_is_the_tensors_op() -> None:
    t = Tensor(np.ones((2, 2)), label="t")
    for made, op in ((np.ones((2, 2)) + t, "add"), (np.ones((2, 2)) - t, "sub"),
                     (np.float64(2.0) * t, "mul_scalar"), (np.ones((2, 2)) / t, "mul"),
                     (np.ones((3, 2)) @ t, "matmul")):
        assert isinstance(made, Tensor) and made.op == op
