"""The engine: gradients of random graphs against central differences, and every edge case."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd_bn import Tensor, batchnorm, numerical_gradient, rel_error
from autograd_bn.engine import gradcheck, naming, ops, shapes
from autograd_bn.engine.op import Op
from autograd_bn.engine.tensor import make
from tests.strategies import broadcastable_shapes, programs, run_program, well_conditioned

# ---- properties ---------------------------------------------------------------------------


def extrapolated_gradient(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                          h: float = 1e-4) -> np.ndarray:
    """Central differences at h and h/2, combined (Richardson) so that their h² errors cancel:
    the truncation error is of order h⁴, not h². A chain of cubes and squares is a polynomial
    of degree 50 and more, whose third derivative makes plain central differences at 1e-5 miss
    by more than 1e-6 relative; this reference does not (worst 5e-11 over 3,000 such programs)."""
    dout = np.ones(())
    return (4 * numerical_gradient(f, x, dout, h / 2) - numerical_gradient(f, x, dout, h)) / 3


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n_inputs=st.integers(1, 3))
def test_random_graphs_match_numerical_gradient(data: st.DataObject, n_inputs: int) -> None:
    shapes = data.draw(broadcastable_shapes(n_inputs))
    arrays = [data.draw(well_conditioned(s)) for s in shapes]
    steps = data.draw(programs(n_inputs))
    leaves = [Tensor(a) for a in arrays]
    total = run_program(steps, leaves)
    # Differences of values of 1e16 (x + x, cubed three times, squared) lose every digit to
    # rounding: such programs are no test of the engine, only of the reference.
    assume(all(np.abs(node.data).max(initial=0.0) <= 1e3 for node in total.nodes()))
    total.backward()
    for i, leaf in enumerate(leaves):
        def f_i(x: np.ndarray, i: int = i) -> np.ndarray:
            return run_program(steps, [Tensor(x) if j == i else Tensor(a)
                                       for j, a in enumerate(arrays)]).data

        numeric = extrapolated_gradient(f_i, arrays[i])
        analytic = np.zeros_like(arrays[i]) if leaf.grad is None else leaf.grad
        error, abs_error = rel_error(analytic, numeric), np.abs(analytic - numeric).max(initial=0)
        assert error <= 1e-6 or abs_error <= 1e-8, (
            f"{steps}\ninput {i}: rel error {error:.2e}, abs error {abs_error:.2e}")


@settings(max_examples=60, deadline=None)
@given(data=st.data(), name=st.sampled_from(["add", "sub", "mul"]))
def test_broadcast_gradient_has_operand_shape(data: st.DataObject, name: str) -> None:
    a_shape, b_shape = data.draw(broadcastable_shapes(2))
    a = Tensor(data.draw(well_conditioned(a_shape)))
    b = Tensor(data.draw(well_conditioned(b_shape)))
    out = {"add": a + b, "sub": a - b, "mul": a * b}[name]
    dout = np.ones(out.shape)
    out.backward(dout)
    assert a.grad.shape == a.shape and b.grad.shape == b.shape
    # d(sum(a + b))/db counts how many times each element of b was used
    if name == "add":
        expected = np.broadcast_to(np.ones(b.shape), out.shape).sum() / max(b.data.size, 1)
        assert np.allclose(b.grad, expected)


@pytest.mark.parametrize("op", [op for op in ops.ALL], ids=lambda op: op.name)
def test_every_op_has_a_checked_gradient(op: ops.Op) -> None:
    """One direct check per op in the table, so a broken rule fails by name."""
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, (3, 4))
    b = rng.uniform(0.5, 2.0, (4,))
    build = {
        "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
        "neg": lambda x, y: -x * y, "pow": lambda x, y: x**3 * y, "sqrt": lambda x, y: x.sqrt() * y,
        "reciprocal": lambda x, y: x.reciprocal() * y, "sum": lambda x, y: x.sum(axis=0) * y,
        "mean": lambda x, y: x.mean(axis=0) * y,
        "add_scalar": lambda x, y: (x + 1.5) * y, "sub_scalar": lambda x, y: (x - 1.5) * y,
        "rsub_scalar": lambda x, y: (1.5 - x) * y, "mul_scalar": lambda x, y: (x * -1.5) * y,
        "div_scalar": lambda x, y: (x / 1.5) * y,
        "matmul": lambda x, y: x @ y.reshape(4, 1), "maximum": lambda x, y: x.maximum(y * 1.1),
        "exp": lambda x, y: x.exp() * y, "log": lambda x, y: x.log() * y,
        "tanh": lambda x, y: x.tanh() * y, "relu": lambda x, y: (x - 1.2).relu() * y,
        "getitem": lambda x, y: x[[0, 2, 2], 1:] * y[1:], "reshape": lambda x, y: x.reshape(4, 3),
        "transpose": lambda x, y: x.T * y.reshape(4, 1), "max": lambda x, y: x.max(axis=0) * y,
    }[op.name]
    result = gradcheck(build, a, b, tolerance=1e-8)
    assert result.passed, str(result)


# ---- the cases micrograd users trip on ---------------------------------------------------


def test_reused_node_accumulates() -> None:
    a = Tensor(3.0)
    b = a + a
    c = b * b
    c.backward()
    assert c.item() == 36.0
    assert a.grad == 24.0  # dc/da = 2b · 2 = 24
    assert b.grad == 12.0


def test_diamond_graph_accumulates() -> None:
    x = Tensor(np.array([1.0, 2.0]))
    y = x * 2.0
    z = y * y + y  # y is used three times
    z.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, 2 * (2 * y.data + 1))


def test_repeated_backward_doubles_leaf_grads_only() -> None:
    x = Tensor(np.array([1.0, 2.0, 3.0]))
    w = Tensor(np.array([0.5, -1.0, 2.0]))
    h = x * w
    out = (h * h).sum()
    out.backward()
    first_x, first_w, first_h = x.grad.copy(), w.grad.copy(), h.grad.copy()
    out.backward()
    np.testing.assert_array_equal(x.grad, 2 * first_x)
    np.testing.assert_array_equal(w.grad, 2 * first_w)
    np.testing.assert_array_equal(h.grad, first_h)  # intermediate: recomputed, not summed


def test_repeated_backward_with_a_shared_output_gradient() -> None:
    """Leaf grads that alias the output gradient are still independent arrays."""
    x = Tensor(np.ones(3))
    out = x + 0.0
    dout = np.array([1.0, 2.0, 3.0])
    out.backward(dout)
    out.backward(dout)
    np.testing.assert_array_equal(x.grad, 2 * dout)
    np.testing.assert_array_equal(dout, [1.0, 2.0, 3.0])  # the caller's array is untouched
    x.grad[0] = 99.0
    np.testing.assert_array_equal(out.grad, dout)


def test_zero_grad_resets_the_whole_graph() -> None:
    x = Tensor(np.array([1.0, 2.0]))
    y = (x * 3.0).sum()
    y.backward()
    y.zero_grad()
    assert all(node.grad is None for node in y.nodes())
    y.backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_every_node_keeps_its_gradient() -> None:
    x = Tensor(np.array([[1.0, 2.0], [3.0, 5.0]]))
    out = ((x - x.mean(axis=0)) ** 2).mean()
    out.backward()
    for node in out.nodes(requiring_grad=True):
        assert node.grad is not None and node.grad.shape == node.shape


def test_deep_chain_has_no_recursion_limit() -> None:
    x = Tensor(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0
    assert len(y.nodes(requiring_grad=True)) == 200_001


def test_float32_graph_stays_float32() -> None:
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    g = Tensor(np.array([0.5, 2.0], dtype=np.float32))
    out = ((x - x.mean(axis=0)) / (x * x + 1e-5).sqrt() * g + 1).sum()
    assert out.dtype == np.float32
    out.backward()
    for node in out.nodes(requiring_grad=True):
        assert node.dtype == np.float32, node
        assert node.grad.dtype == np.float32, node


def test_constants_get_no_gradient() -> None:
    x = Tensor(np.array([1.0, 2.0]))
    c = np.array([3.0, 4.0])
    out = (x * c + 2).sum()
    out.backward()
    constants = [n for n in out.nodes() if not n.requires_grad]
    assert constants and all(n.grad is None for n in constants)
    np.testing.assert_array_equal(x.grad, c)


def test_a_number_in_an_op_is_a_parameter_of_that_op_not_a_node() -> None:
    x = Tensor([1.0, 2.0], label="x")
    for y, op, c in ((x * 2, "mul_scalar", 2.0), (2 * x, "mul_scalar", 2.0),
                     (x + 0.5, "add_scalar", 0.5), (0.5 + x, "add_scalar", 0.5),
                     (x - 3, "sub_scalar", 3.0), (3 - x, "rsub_scalar", 3.0),
                     (x / 4, "div_scalar", 4.0), (x * np.float32(2), "mul_scalar", 2.0),
                     (x * True, "mul_scalar", 1.0)):
        assert (y.op, y.params, y.parents) == (op, {"c": c}, (x,))
        assert type(y.params["c"]) is float
    assert [n.label for n in (x * 2 + x * 2).nodes()] == ["x", None, None, None]
    assert (3 / x).op == "mul_scalar" and (3 / x).parents[0].op == "reciprocal"


def test_mutating_one_graph_never_changes_another() -> None:
    """No graph state is shared between graphs: not the numbers, not their nodes."""
    x = Tensor([1.0, 2.0])
    first = x * 7
    with pytest.raises(TypeError):  # params is read only, and args a tuple
        first.params["c"] = 100.0  # type: ignore[index]
    assert first.args == (7.0,) and first.params == {"c": 7.0}
    second = x * 7
    assert second.params == {"c": 7.0} and second.args == (7.0,)  # (a tuple: fixed)
    np.testing.assert_array_equal(second.data, [7.0, 14.0])
    second.sum().backward()
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    eps_a = batchnorm(np.ones((2, 3)), np.ones(3), np.zeros(3)).nodes()
    eps_b = batchnorm(np.ones((2, 3)), np.ones(3), np.zeros(3)).nodes()
    assert not set(eps_a) & set(eps_b)  # two BN graphs share no node, ε included
    eps = next(n for n in eps_a if n.label == "ε")
    eps.requires_grad = True  # a gradient for ε in one graph…
    eps_a[-1].backward(np.ones((2, 3)))
    assert eps.grad is not None
    assert all(n.grad is None for n in eps_b)  # …leaks into no other graph


def test_no_module_keeps_graph_state() -> None:
    """The engine's modules hold no caches of nodes: only the creation counter and tables."""
    from autograd_bn.engine import kernels, shapes, tensor
    for module in (tensor, shapes, kernels, ops):
        for name, value in vars(module).items():
            assert not isinstance(value, Tensor), f"{module.__name__}.{name} is a Tensor"
            if isinstance(value, (dict, list, set)):
                assert not any(isinstance(v, Tensor) for v in value), f"{module.__name__}.{name}"


def test_float32_numbers_stay_float32_and_huge_numbers_are_refused() -> None:
    x = Tensor(np.float32([1.0, 2.0]))
    y = x * 1.001 + 0.5
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    with pytest.raises(ValueError, match=r"the number 1000000000\d* is too large for a float"):
        x * 10**400


def test_numbers_and_arrays_on_either_side() -> None:
    x = Tensor(np.array([1.0, 2.0, 4.0]))
    arr = np.array([2.0, 2.0, 2.0])
    for value in (2 + x, x + 2, 2 - x, x - 2, 2 * x, x * 2, 2 / x, x / 2, arr + x, arr * x,
                  arr - x, arr / x, x + arr, -x):
        assert isinstance(value, Tensor)
    np.testing.assert_allclose((arr / x).data, [2.0, 1.0, 0.5])
    np.testing.assert_allclose((2 - x).data, [1.0, 0.0, -2.0])
    out = (arr / x).sum()
    out.backward()
    np.testing.assert_allclose(x.grad, -arr / x.data**2)


def test_division_is_multiply_by_reciprocal() -> None:
    a, b = Tensor(6.0, label="a"), Tensor(3.0, label="b")
    q = a / b
    assert q.op == "mul"
    assert q.parents[0] is a and q.parents[1].op == "reciprocal"
    assert q.item() == 2.0


# ---- the graph's bookkeeping ---------------------------------------------------------------


def test_dtypes_of_input_data() -> None:
    assert Tensor([1, 2]).dtype == np.float64
    assert Tensor(True).dtype == np.float64
    assert Tensor(np.array([1, 2], dtype=np.int8)).dtype == np.float64
    assert Tensor(np.zeros(2, dtype=np.float32)).dtype == np.float32
    assert Tensor(2.5).shape == ()


@pytest.mark.parametrize("data, message", [
    (np.array([1 + 2j]), "got complex data of dtype complex128"),
    (np.array(["a"]), "got string data of dtype <U1"),
    (np.array([object()]), "got object data of dtype object"),
    (np.zeros(2, dtype=np.longdouble), "unsupported float dtype float128: use float32 or float64"),
])
def test_non_real_data_is_refused(data: np.ndarray, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Tensor(data)


def test_float16_becomes_float32() -> None:
    assert Tensor(np.zeros(2, dtype=np.float16)).dtype == np.float32


def test_attributes_and_repr() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3), label="x")
    y = x.sum(axis=-1)
    assert (y.shape, y.ndim, y.op, y.parents, y.label, x.op) == ((2,), 1, "sum", (x,), None, None)
    assert y.params["axis"] == (1,)
    assert x.is_leaf and not y.is_leaf and x.grad is None
    y.label = "row sums"
    assert "label='row sums'" in repr(y) and "op=sum" in repr(y)
    assert "Tensor([[0., 1., 2.]" in repr(x)


def test_nodes_are_hashed_by_identity() -> None:
    a, b = Tensor(1.0), Tensor(1.0)
    assert a != b and len({a, b}) == 2 and a == a


def test_local_derivative_texts() -> None:
    a, b = Tensor(2.0, label="(3) x − mean"), Tensor(3.0, label="γ")
    assert (a**2).local_derivative(0) == "2·(3)"
    assert (a**3).local_derivative(0) == "3·(3)^2"
    assert (a * b).local_derivative(0) == "γ"
    assert (a * b).local_derivative(1) == "(3)"
    assert (a - b).local_derivative(1) == "−1"
    s = a.sqrt()
    s.label = "std"
    assert s.local_derivative(0) == "0.5/std"
    assert a.reciprocal().local_derivative(0) == "−1/(3)²"
    assert Tensor(np.ones((4, 5))).mean(axis=0).local_derivative(0) == "1/4"
    assert (Tensor(1.0) * Tensor(2.0)).local_derivative(0) == "b"


def test_summed_axes() -> None:
    assert naming.summed_axes(Tensor(np.ones((1, 3))).mean(axis=0), 0) == ()
    assert naming.summed_axes(Tensor(np.array([2.0])).sum(), 0) == ()
    x, g = Tensor(np.ones((4, 5))), Tensor(np.ones(5))
    assert naming.summed_axes(x * g, 0) == ()
    assert naming.summed_axes(x * g, 1) == (0,)
    assert naming.summed_axes(x * Tensor(np.ones((4, 1))), 1) == (1,)


def test_unbroadcast_helpers() -> None:
    assert shapes.broadcast_axes((4, 5), (5,)) == (0,)
    assert shapes.broadcast_axes((2, 4, 5), (4, 1)) == (0, 2)
    assert shapes.broadcast_axes((5,), (4, 5)) == ()
    g = np.arange(20.0).reshape(4, 5)
    np.testing.assert_array_equal(shapes.unbroadcast(g, (5,)), g.sum(axis=0))
    np.testing.assert_array_equal(shapes.unbroadcast(g, (4, 1)), g.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(shapes.unbroadcast(g, (1, 5)), g.sum(axis=0, keepdims=True))
    assert shapes.unbroadcast(g, ()) == g.sum()
    assert shapes.unbroadcast(np.ones(5), (4, 5)).shape == (4, 5)
    assert shapes.unbroadcast(g, (4, 5)) is g


# ---- bad input -----------------------------------------------------------------------------


def test_backward_needs_a_gradient_for_non_scalars() -> None:
    y = Tensor(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"shape \(2, 3\) needs a gradient"):
        y.backward()


def test_backward_gradient_shape_must_match() -> None:
    y = Tensor(np.ones((2, 3))) * 2.0
    message = r"grad has shape \(3,\) but the tensor has shape \(2, 3\)"
    with pytest.raises(ValueError, match=message):
        y.backward(np.ones(3))


def test_backward_gradient_must_be_real() -> None:
    y = Tensor(np.ones(2)) * 2.0
    with pytest.raises(TypeError, match="grad must hold real numbers"):
        y.backward(np.array(["a", "b"]))


def test_backward_without_anything_to_differentiate() -> None:
    y = Tensor(np.ones(2), requires_grad=False) * 2.0
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward(np.ones(2))


def test_incompatible_shapes_name_both() -> None:
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        Tensor(np.ones(3)) + Tensor(np.ones(4))


@pytest.mark.parametrize("axis, error, message", [
    (2, ValueError, "axis 2 is out of range for a tensor with 2 dimension"),
    (-3, ValueError, "axis -3 is out of range"),
    ((0, 0), ValueError, "repeats an axis"),
    (1.5, TypeError, "axis must be an int or a tuple of ints"),
])
def test_bad_axes(axis: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Tensor(np.ones((2, 3))).sum(axis=axis)


@pytest.mark.parametrize("p, error, message", [
    ("2", TypeError, "exponent of \\*\\* must be a real number, got str"),
    (Tensor(2.0), TypeError, "got Tensor"),
    (float("nan"), ValueError, "must be finite"),
])
def test_bad_exponents(p: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Tensor(2.0) ** p


def test_bad_operands_and_arguments() -> None:
    with pytest.raises(TypeError, match="cannot combine a Tensor with str"):
        Tensor(1.0) + "a"
    with pytest.raises(TypeError, match="label must be a string"):
        Tensor(1.0, label=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="requires_grad must be True or False"):
        Tensor(1.0, requires_grad=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="item\\(\\) needs a one-element tensor"):
        Tensor(np.ones(2)).item()


# ---- gradcheck helpers ---------------------------------------------------------------------


def test_rel_error_is_the_cs231n_definition() -> None:
    assert rel_error(np.array([1.0]), np.array([1.0])) == 0.0
    assert rel_error(np.array([1.0, 0.0]), np.array([3.0, 0.0])) == 0.5
    assert rel_error(np.array([0.0]), np.array([1e-9])) == pytest.approx(0.1)
    with pytest.raises(ValueError, match=r"one shape, got \(2,\) and \(3,\)"):
        rel_error(np.ones(2), np.ones(3))


def test_numerical_gradient_of_a_known_function() -> None:
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    keep = x.copy()
    dout = np.array([[1.0, -1.0], [0.5, 2.0]])
    grad = numerical_gradient(lambda a: a**3, x, dout)
    np.testing.assert_allclose(grad, 3 * x**2 * dout, rtol=1e-8)
    np.testing.assert_array_equal(x, keep)
    with pytest.raises(ValueError, match="step h must be positive"):
        numerical_gradient(lambda a: a, x, dout, h=0)


def test_gradcheck_reports_a_wrong_gradient() -> None:
    def wrong(x: Tensor) -> Tensor:
        y = x * x
        # a hand-made node whose vjp is off by a factor: build with a broken op
        broken = Op("broken", forward=lambda a: a, vjps=(lambda g, out, a: 2 * g,),
                    texts=("2",))
        return make(broken, (y,))

    result = gradcheck(wrong, np.array([1.0, 2.0]))
    assert not result.passed and not result
    assert result.inputs[0].rel_error > 0.3
    assert "FAILED" in str(result)
    good = gradcheck(lambda x: (x * x).sum(), np.array([1.0, 2.0]))
    assert good.passed and good.inputs[0].shape == (2,)
    with pytest.raises(TypeError, match="f must return a Tensor"):
        gradcheck(lambda x: 1.0, np.ones(2))  # type: ignore[arg-type, return-value]
    with pytest.raises(ValueError, match="at least one input"):
        gradcheck(lambda: Tensor(1.0))


def test_large_reductions_spread_gradients_as_views() -> None:
    """Above a size, a reduction's gradient is spread as a read-only view; leaves still own."""
    rng = np.random.default_rng(3)
    data, dout = rng.standard_normal((200, 64)), rng.standard_normal((200, 64))
    x = Tensor(data)
    centred = x - x.mean(axis=0)
    out = centred * (centred**2).mean(axis=0)
    out.backward(dout)
    # the same function's gradient, derived by hand: y = c·v with c = x − mean, v = mean(c²)
    c = data - data.mean(axis=0)
    v = (c**2).mean(axis=0)
    dc = dout * v + 2 * c / 200 * (dout * c).sum(axis=0)
    expected = dc - dc.mean(axis=0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-10, atol=1e-12)
    assert x.grad.flags.writeable and x.grad.flags.owndata
    first = x.grad.copy()
    out.backward(dout)
    np.testing.assert_allclose(x.grad, 2 * first)


def test_op_text_and_named_derivatives() -> None:
    x = Tensor(np.ones((4, 5)), label="x")
    m = x.mean(axis=0)
    assert [naming.op_text(n) for n in (x, m, x**2, x - m, x * 1.5, 2 - x)] == [
        "input", "mean(axis=0)", "pow(p=2)", "sub", "mul_scalar(·1.5)", "rsub_scalar(2−)"]
    assert naming.op_text(x.sum(axis=(0, 1), keepdims=True)) == "sum(axis=(0, 1), keepdims)"
    y = x * m
    assert y.local_derivative(0, {x: "#0", m: "#1", y: "#2"}) == "#1"


def test_power_zero_and_one_at_zero() -> None:
    x = Tensor(np.array([0.0, 2.0]), label="a")
    ((x**0) + (x**1)).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 1.0])  # d(x⁰)/dx = 0 even at 0, not NaN
    assert ((x**0).local_derivative(0), (x**1).local_derivative(0)) == ("0", "1")
    assert (Tensor(2.0, label="a") ** -1).local_derivative(0) == "−1·a^−2"


@pytest.mark.parametrize(("p", "dtype", "huge"), [(2.0, np.float32, 3e38), (3.0, np.float32, 3e38),
                                                (2.0, np.float64, 1.5e308)])
def test_pow_of_a_huge_spread_out_gradient_does_not_overflow_early(
        p: float, dtype: type, huge: float) -> None:
    """2·g overflows where 2·g·a, with a small a, does not: the result must not depend on
    whether g came spread out (a large array) or not (a small one)."""
    for shape in ((8, 8), (128, 64)):  # the second is large enough to be spread as a view
        x = Tensor(np.full(shape, 0.1, dtype))
        (x**p).sum().backward(dtype(huge))
        expected = dtype(huge) * (dtype(p) * dtype(0.1) ** dtype(p - 1))
        assert np.isfinite(x.grad).all(), shape
        np.testing.assert_allclose(x.grad, expected, rtol=1e-6)


def test_the_gradient_of_a_large_variance_through_its_spread_out_gradient() -> None:
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((128, 128)))
    weights = rng.standard_normal(128)
    ((x - x.mean(axis=0)) ** 2).mean(axis=0).backward(weights)
    centred = x.data - x.data.mean(axis=0)  # the other term, through the mean, is 0
    np.testing.assert_allclose(x.grad, 2 / 128 * centred * weights, rtol=1e-12, atol=1e-15)


def test_numpy_reductions_on_tensors() -> None:
    x = Tensor(np.arange(6.0).reshape(2, 3))
    total = np.sum(x)
    assert isinstance(total, Tensor) and total.item() == 15.0
    assert np.mean(x, axis=0).shape == (3,)
    with pytest.raises(TypeError, match="takes no dtype= or out="):
        x.sum(dtype=np.float32)


def test_the_output_gradient_is_the_callers_array_read_only() -> None:
    x = Tensor(np.ones(3))
    out = x * 2.0
    dout = np.array([1.0, 2.0, 3.0])
    out.backward(dout)
    assert np.shares_memory(out.grad, dout) and not out.grad.flags.writeable
    assert dout.flags.writeable  # the caller's own array is left as it was
    np.testing.assert_array_equal(x.grad, 2 * dout)


def test_every_op_in_the_table_is_built_by_a_tensor_method() -> None:
    """Each row of the op table is used by `Tensor` (written out, one line a method)."""
    import inspect

    source = inspect.getsource(Tensor)
    for op in ops.ALL:
        assert f"ops.{op.name}," in source or f"ops.{op.name})" in source, op.name


def test_axis_checks_do_not_depend_on_what_was_cached() -> None:
    x = Tensor(np.ones((2, 3)))
    x.sum(axis=1)
    x.sum(axis=(1,))
    for bad in (True, 1.0, (True,)):
        with pytest.raises(TypeError, match="axis must be an int or a tuple of ints"):
            x.sum(axis=bad)
    with pytest.raises(TypeError, match="keepdims must be True or False"):
        x.sum(axis=0, keepdims="no")


def test_mean_over_an_empty_axis_is_refused() -> None:
    with pytest.raises(ValueError, match=r"mean over an empty axis of a tensor of shape \(0, 3\)"):
        Tensor(np.ones((0, 3))).mean(axis=0)
    assert Tensor(np.ones((0, 3))).sum(axis=0).data.tolist() == [0.0, 0.0, 0.0]


def test_copies_share_a_creation_number_and_backward_still_works() -> None:
    import copy

    x = Tensor(np.array([1.0, 2.0]))
    twin = copy.copy(x)
    (x * twin).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])
    np.testing.assert_array_equal(twin.grad, [1.0, 2.0])


def test_numpy_scalars_are_numbers_too() -> None:
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32))
    assert (x * np.bool_(True)).dtype == np.float32
    assert (x + np.float64(1.5)).dtype == np.float32  # a scalar takes the tensor's dtype


def test_backward_on_a_constant_leaf_says_so() -> None:
    with pytest.raises(RuntimeError, match="a leaf made with requires_grad=False"):
        Tensor(1.0, requires_grad=False).backward()
    assert naming.op_text(Tensor(2.0).sum()) == "sum"


def test_an_op_takes_one_input_or_two_with_a_text_each() -> None:
    def vjp(g: np.ndarray, out: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
        return g

    with pytest.raises(ValueError, match="op 'fma' has 3 inputs: an op takes one or two"):
        Op("fma", forward=lambda a, b, c: a * b + c, vjps=(vjp, vjp, vjp),
           texts=("{b}", "{a}", "1"))
    with pytest.raises(ValueError, match="op 'twice' needs one derivative text per input: "
                                         "1 VJPs, 2 texts"):
        Op("twice", forward=lambda a: 2 * a, vjps=(vjp,), texts=("2", "2"))


def test_parents_are_the_inputs_in_order() -> None:
    x, y = Tensor([1.0], label="x"), Tensor([2.0], label="y")
    assert x.parents == () and (-x).parents == (x,) and (x * y).parents == (x, y)
    assert (y - x).parents == (y, x) and (x.sum()).parents == (x,)


def test_adding_up_contributions_never_writes_into_another_nodes_gradient() -> None:
    x = Tensor([1.0, 2.0], label="x")
    a = x * 3
    m = a * 2  # made before b, so visited after it
    b = a + a  # a gets b's gradient itself, twice, first
    c = b + m  # b and m get c's gradient itself
    total = c.sum()
    total.backward()
    np.testing.assert_array_equal(total.grad, 1.0)
    for node, expected in ((c, 1.0), (b, 1.0), (m, 1.0), (a, 4.0), (x, 12.0)):
        np.testing.assert_array_equal(node.grad, [expected, expected], err_msg=str(node))
    dout = np.array([1.0, -1.0])
    out = x + x
    out.backward(dout)
    np.testing.assert_array_equal(dout, [1.0, -1.0])  # the caller's array is untouched
    np.testing.assert_array_equal(x.grad, [14.0, 10.0])  # 12 + 2·dout: leaves accumulate


def test_a_float32_sum_along_the_contiguous_axis_keeps_numpys_pairwise_accuracy() -> None:
    a = Tensor(np.ones((2, 1), np.float32))
    b = Tensor(np.full((2, 400_000), 0.1, np.float32))
    (a * b).backward(np.ones((2, 400_000), np.float32))
    exact = 400_000 * float(np.float32(0.1))
    np.testing.assert_allclose(a.grad, exact, rtol=1e-6)


def test_a_leaf_protects_its_data_without_copying_it() -> None:
    array = np.arange(6.0).reshape(2, 3)
    x = Tensor(array)
    assert np.shares_memory(x.data, array) and array.flags.writeable  # a view, no copy
    with pytest.raises(ValueError, match="read-only"):
        x.data[0, 0] = 100.0  # the graph cannot be corrupted through the Tensor
    y = (x * 2).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 2.0))
    x.data = x.data - 0.1 * x.grad  # a parameter update: assign a new array
    np.testing.assert_allclose(x.data[0], [-0.2, 0.8, 1.8])


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_numpy_subclasses_are_plain_arrays_or_refused() -> None:
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    x, y = Tensor(m), Tensor(m)
    assert type(x.data) is np.ndarray
    np.testing.assert_array_equal((x * y).data, [[1.0, 4.0], [9.0, 16.0]])  # elementwise, not @
    np.testing.assert_array_equal((Tensor(np.ones((2, 2))) * m).data, [[1.0, 2.0], [3.0, 4.0]])
    masked = np.ma.array([1.0, 2.0, 3.0], mask=[False, True, False])
    with pytest.raises(TypeError, match=r"data is a masked array: the engine would ignore its "
                                        r"mask; pass data.filled\(value\) or data.compressed\(\)"):
        Tensor(masked)
    with pytest.raises(TypeError, match="masked array"):
        Tensor([1.0, 2.0, 3.0]) + masked
