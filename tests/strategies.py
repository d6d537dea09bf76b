"""Hypothesis strategies: broadcast-compatible float64 arrays and random expression graphs."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd_bn import Tensor

FINITE = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False, width=64)


@st.composite
def broadcastable_shapes(draw: st.DrawFn, n: int) -> list[tuple[int, ...]]:
    """``n`` shapes that numpy broadcasts together: some 0-d, some (D,), some with 1s."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3,
                                                    max_side=4))
    return list(shapes.input_shapes)


def well_conditioned(shape: tuple[int, ...]) -> st.SearchStrategy[np.ndarray]:
    """Arrays in [−1, 1]: most compositions of the ops stay moderate there. (Not all: chains
    of cubes and squares reach degree 50 and more, and x + x cubed three times reaches 1e16;
    the property tests use a numerical reference that copes with the first and set the
    second aside.)"""
    return hnp.arrays(np.float64, shape, elements=FINITE)


# Unary steps keep values in a range where each op is smooth: sqrt and reciprocal only ever
# see numbers ≥ 0.5, and powers act on such numbers too.
def _positive(t: Tensor) -> Tensor:
    return t * t + 0.5


UNARY: dict[str, Callable[[Tensor], Tensor]] = {
    "neg": lambda t: -t,
    "square": lambda t: t**2,
    "cube": lambda t: t**3,
    "pow1.5": lambda t: _positive(t) ** 1.5,
    "pow-1": lambda t: _positive(t) ** -1,
    "sqrt": lambda t: _positive(t).sqrt(),
    "reciprocal": lambda t: _positive(t).reciprocal(),
    "sum0": lambda t: t.sum(axis=0, keepdims=True) if t.ndim else t.sum(),
    "mean-1": lambda t: t.mean(axis=-1, keepdims=True) if t.ndim else t.mean(),
    "mean-all": lambda t: t.mean(),
    "sum-tuple": lambda t: t.sum(axis=tuple(range(t.ndim))),
    "scale": lambda t: 0.5 * t,
    "rsub": lambda t: 1.0 - t,
    "rdiv": lambda t: 1.0 / _positive(t),
    "exp": lambda t: (t * 0.5).exp(),
    "log": lambda t: _positive(t).log(),
    "tanh": lambda t: t.tanh(),
    "var0": lambda t: t.var(axis=0, keepdims=True) if t.ndim else t * 1.0,
}

BINARY: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / _positive(b),
}


@st.composite
def programs(draw: st.DrawFn, n_inputs: int) -> list[tuple[str, str, int, int]]:
    """A random straight-line program over ``n_inputs`` inputs: a list of steps.

    Each step is ``(kind, name, i, j)``: apply op ``name`` to values ``i`` (and ``j``) computed
    so far. Values are reused freely, so nodes feed several consumers.
    """
    steps = []
    count = n_inputs
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            name = draw(st.sampled_from(sorted(BINARY)))
            steps.append(("binary", name, draw(st.integers(0, count - 1)),
                          draw(st.integers(0, count - 1))))
        else:
            name = draw(st.sampled_from(sorted(UNARY)))
            steps.append(("unary", name, draw(st.integers(0, count - 1)), -1))
        count += 1
    return steps


def run_program(steps: list[tuple[str, str, int, int]], inputs: list[Tensor]) -> Tensor:
    """Evaluate a program from `programs`; the result sums every value, so all are used."""
    values = list(inputs)
    for kind, name, i, j in steps:
        if kind == "binary":
            values.append(BINARY[name](values[i], values[j]))
        else:
            values.append(UNARY[name](values[i]))
    total = values[-1].sum()
    for v in values[len(inputs):-1]:
        total = total + v.mean() * 0.25
    return total
