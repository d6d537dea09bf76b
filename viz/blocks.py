"""Blocks in a drawing: which nodes a collapsed block stands for, and which box each node is in.

A node made inside ``with autograd_bn.block("bn1"):`` has ``node.block == ("bn1",)``. Drawn
expanded, a block is a labelled box (a Graphviz cluster) around its nodes; collapsed, it is one
node standing for all of them, with an edge from each input and to each user outside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from autograd_bn.engine.tensor import Tensor

Path = tuple[str, ...]


@dataclass(frozen=True)
class Collapsed:
    """A collapsed block: its path and the nodes it stands for (inputs first)."""

    path: Path
    members: tuple[Tensor, ...]

    @property
    def name(self) -> str:
        return "/".join(self.path)


def block_paths(nodes: Iterable[Tensor]) -> list[Path]:
    """Every block (and enclosing block) the nodes were made in, outer blocks first."""
    paths: dict[Path, None] = {}
    for node in nodes:
        for depth in range(1, len(node.block) + 1):
            paths.setdefault(node.block[:depth])
    return list(paths)


def chosen(collapse: bool | Sequence[str], paths: list[Path]) -> set[Path]:
    """The blocks to collapse: every outermost one for ``True``, none for ``False``, else those
    named (a name is a block's own name, or its path written ``outer/inner``).

    Raises `TypeError` for anything else than a bool or a list of names, and `ValueError`
    naming the blocks there are when a name matches none.
    """
    if collapse is True:
        return {path for path in paths if len(path) == 1}
    if collapse is False:
        return set()
    if isinstance(collapse, str) or not isinstance(collapse, Sequence) or \
            not all(isinstance(name, str) for name in collapse):
        raise TypeError("collapse must be True, False or a list of block names, got "
                        f"{collapse!r}")
    picked = set()
    for name in collapse:
        matches = {p for p in paths if name in (p[-1], "/".join(p))}
        if not matches:
            there = ", ".join(sorted("/".join(p) for p in paths)) or "none"
            raise ValueError(f"no block named {name!r} in this graph (blocks: {there})")
        picked |= matches
    return picked


def collapsed_groups(nodes: Sequence[Tensor], collapse: set[Path]) -> dict[Tensor, Collapsed]:
    """For each node inside a collapsed block, that block (the outermost one collapsed)."""
    members: dict[Path, list[Tensor]] = {}
    for node in nodes:
        for depth in range(1, len(node.block) + 1):
            if node.block[:depth] in collapse:
                members.setdefault(node.block[:depth], []).append(node)
                break
    groups = {path: Collapsed(path, tuple(group)) for path, group in members.items()}
    return {node: group for group in groups.values() for node in group.members}
