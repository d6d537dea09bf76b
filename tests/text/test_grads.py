"""`autograd_bn.text.grads.format_grads`: the check's table (makemore's cmp), one line a name."""

from __future__ import annotations

import numpy as np

from autograd_bn import Tensor, compare_grads
from autograd_bn.text.grads import format_grads


def table(**manual: object) -> list[str]:
    x = Tensor(np.ones((2, 3)))
    y = x * 2.0
    z = y.exp()
    z.sum().backward()
    dz = np.ones((2, 3))
    right = {"z": dz, "y": dz * z.data, "x": dz * z.data * 2.0}
    c = compare_grads({"x": x, "y": y, "z": z}, {**right, **manual})
    return format_grads(c).splitlines()


def row(lines: list[str], name: str) -> str:
    return next(line for line in lines if line.split()[1:2] == [name])


def test_one_line_per_name_in_backward_order_with_the_rule_and_result() -> None:
    lines = table()
    assert lines[0] == "Hand-written gradients against the engine's, in backward order (3 names)"
    assert lines[2].split() == ["name", "exact", "close", "max", "|diff|", "shape"]
    assert [line.split()[:2] for line in lines[3:6]] == [["1", "z"], ["2", "y"], ["3", "x"]]
    assert row(lines, "z").split()[2:] == ["yes", "yes", "0", "(2,", "3)"]
    assert any("np.allclose(manual, engine, rtol=1e-05, atol=1e-08)" in line for line in lines)
    assert lines[-1].startswith("RESULT: all 3 gradients agree")


def test_wrong_shape_missing_and_nan_are_shown() -> None:
    nan = np.full((2, 3), np.nan)
    lines = table(z=np.ones((3, 2)), y=None, x=nan)
    assert "WRONG: manual (3, 2), engine (2, 3)" in row(lines, "z")
    assert row(lines, "z").endswith("<- first wrong: look here")
    assert row(lines, "y").split()[2:5] == ["-", "-", "-"]
    assert row(lines, "y").endswith("missing: no manual gradient")
    assert row(lines, "x").split()[2:5] == ["no", "no", "nan"]
    assert row(lines, "x").endswith("manual has 6 NaN: NaN is never close")
    assert lines[-1] == ("RESULT: 2 of 3 wrong; the first in backward order is z: look there; "
                         "1 missing (y).")


def test_a_close_one_shows_its_difference() -> None:
    x_close = np.ones((2, 3)) * np.exp(2.0) * 2.0 * (1 + 1e-12)
    assert row(table(x=x_close), "x").split()[2:4] == ["no", "yes"]
    assert float(row(table(x=x_close), "x").split()[4]) > 0
