"""`block`: naming a part of a graph while building it."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from autograd_bn import Tensor, batchnorm, block


def test_nodes_made_inside_a_block_record_its_path() -> None:
    x = Tensor([1.0, 2.0], label="x")
    with block("layer1") as path:
        assert path == ("layer1",)
        y = x * 2
        with block("bn1"):
            z = y.sqrt()
        w = z + 1
    after = w * 3
    assert (x.block, y.block, z.block, w.block, after.block) == (
        (), ("layer1",), ("layer1", "bn1"), ("layer1",), ())


def test_batchnorm_with_a_name_puts_its_own_nodes_in_a_block() -> None:
    out = batchnorm(np.ones((2, 3)), np.ones(3), np.zeros(3), name="bn1")
    inside = {n.label for n in out.nodes() if n.block == ("bn1",)}
    outside = {n.label for n in out.nodes() if n.block == ()}
    assert outside == {"(1) x", "(9) γ", "(11) β"}
    assert "ε" in inside and "(12) out" in inside and len(inside) == 11
    assert all(n.block == () for n in batchnorm(np.ones((2, 3)), np.ones(3), np.zeros(3)).nodes())


def test_a_block_ends_with_its_with_even_on_an_exception() -> None:
    with pytest.raises(ZeroDivisionError), block("broken"):
        raise ZeroDivisionError
    assert Tensor(1.0).block == ()


def test_each_thread_has_its_own_block() -> None:
    seen = []

    def other() -> None:
        seen.append(Tensor(1.0).block)

    with block("main"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert Tensor(1.0).block == ("main",)
    assert seen == [()]


@pytest.mark.parametrize(("name", "error", "message"), [
    (3, TypeError, "a block's name must be a string, got int"),
    ("", ValueError, "must be non-empty and printable, without '/': got ''"),
    ("a/b", ValueError, "without '/': got 'a/b'"),
    ("bad\x1b[31m", ValueError, "printable"),
])
def test_bad_block_names(name: object, error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace("[", r"\[")):
        with block(name):  # type: ignore[arg-type]
            pass


def test_one_block_object_is_entered_once_at_a_time() -> None:
    reused = block("re")
    with pytest.raises(RuntimeError, match=r"block\('re'\) is entered already: write "
                                           r"`with block\('re'\):` for each use"):
        with reused, reused:
            pass
    assert Tensor(1.0).block == ()  # nothing left behind
    with reused:  # and it can be used again, once the with is over
        assert Tensor(1.0).block == ("re",)
    assert Tensor(1.0).block == ()
