"""Naming a part of a graph while building it: ``with block("bn1"): ...``.

Every node made inside the ``with`` records the block's path (``("layer2", "bn1")`` for nested
blocks) as its ``block``; the graph draws a block as a labelled box, or as one node
(``viz.draw(t, collapse=True)``). The current block is a context variable, so threads and
asyncio tasks each have their own, and it is only read while nodes are made: no graph keeps a
reference to another through it.
"""

from __future__ import annotations

import contextvars

CURRENT: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar("block", default=())
"""The path of the block being built in (read it with `current`)."""


def block(name: str) -> Block:
    """Name the nodes made inside the ``with``: ``with block("bn1"): out = ...``.

    Blocks nest: the path of a block inside another is ``("outer", "inner")``; ``with`` gives
    the path. Raises `TypeError` when the name is not a string, `ValueError` when it is empty,
    has a ``/`` (used to write paths) or a character that cannot be shown (control characters).
    """
    if not isinstance(name, str):
        raise TypeError(f"a block's name must be a string, got {type(name).__name__}")
    if not name.strip() or "/" in name or not name.isprintable():
        raise ValueError(f"a block's name must be non-empty and printable, without '/': "
                         f"got {name!r}")
    return Block(name)


class Block:
    """What `block` returns: entering it puts its name at the end of the current path, and
    leaving it (however the ``with`` ends) takes it off again."""

    __slots__ = ("name", "_token")

    def __init__(self, name: str):
        self.name = name
        self._token: contextvars.Token[tuple[str, ...]] | None = None

    def __enter__(self) -> tuple[str, ...]:
        if self._token is not None:
            raise RuntimeError(f"block({self.name!r}) is entered already: write "
                               f"`with block({self.name!r}):` for each use")
        path = (*CURRENT.get(), self.name)
        self._token = CURRENT.set(path)
        return path

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            CURRENT.reset(self._token)
            self._token = None


def current() -> tuple[str, ...]:
    """The path of the block being built in, ``()`` outside any block."""
    return CURRENT.get()
