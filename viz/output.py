"""`render`: a Tensor graph written to an svg, png, pdf or DOT file, all at once or not at all."""

from __future__ import annotations

import math
import numbers
import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import graphviz

from autograd_bn.engine.tensor import Tensor
from viz import process
from viz.files import atomic_write, check_writable
from viz.graph import draw

FORMATS = ("svg", "png", "pdf", "dot")
"""What `render` writes: images need the Graphviz ``dot`` program, DOT source does not."""

PNG_DPI = 144
"""PNGs are drawn at 1.5× Graphviz's default resolution so their small labels stay sharp."""

TIMEOUT = 60.0
"""Seconds ``dot`` may take by default before it is stopped (a realistic graph takes a few)."""

MAX_NODES = 5000
"""The most nodes `render` gives ``dot`` to lay out by default: beyond that it takes minutes."""

EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

INSTALL_HINT = (
    "install Graphviz: 'sudo apt install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS) or 'conda install -c conda-forge graphviz'; or write DOT source instead, which "
    "needs no program (format 'dot' or a .dot path)"
)


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program, needed for svg, png and pdf output, is not installed."""


class RenderTimeoutError(RuntimeError):
    """Graphviz's ``dot`` did not finish within the time limit, so it was stopped."""


def render(
    tensor: Tensor, path: str | os.PathLike[str], *, format: str | None = None,
    timeout: float | None = TIMEOUT, max_nodes: int | None = MAX_NODES, force: bool = False,
    **draw_options: Any,
) -> Path:
    """Draw ``tensor``'s graph (see `viz.draw` for ``draw_options``) and write it to ``path``.

    ``format`` is svg, png, pdf or dot (DOT source); by default it comes from the extension.
    ``dot`` gets ``timeout`` seconds (None: no limit) and, for images, at most ``max_nodes``
    nodes (None: no limit). The file is written through a temporary file and renamed, so a
    failure leaves nothing; however the render ends (an error, a timeout, Ctrl-C, SIGTERM or
    SIGHUP) no ``dot`` is left running. A symbolic link is written through (the file it points
    to is replaced; the link stays); a write-protected file is replaced only with ``force``.
    Returns the path written.

    Raises `TypeError` for a non-Tensor, a bad path, timeout or max_nodes, `ValueError` for
    an unknown format (or one that contradicts the extension), a timeout that is not positive
    or a graph of more than ``max_nodes`` nodes, `GraphvizNotFoundError` when an image is asked
    for and ``dot`` is missing, `OSError` when the folder is missing or not writable or
    ``path`` is a directory, a FIFO, a device or write-protected (all checked before anything
    is drawn); `RenderTimeoutError` when
    ``dot`` runs out of time.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"render() needs a Tensor, got {type(tensor).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = Path(path)
    fmt = output_format(target, format)
    timeout = check_timeout(timeout)
    check_max_nodes(max_nodes)
    if fmt != "dot" and max_nodes is not None:  # DOT source needs no layout, so no limit
        check_node_count(tensor, max_nodes)
    check_writable(target, force=force)  # before the drawing, which can take seconds
    graph = draw(tensor, **draw_options)
    if fmt == "png":
        graph.attr(dpi=str(PNG_DPI))
    with process.terminable():  # SIGTERM while writing: the temporary file is removed too
        data = graph.source.encode("utf-8") if fmt == "dot" else image(graph, fmt, timeout=timeout)
        return atomic_write(target, data, force=force)


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` as a float after checking it is None or a positive, finite number."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real):
        raise TypeError(f"timeout must be a number of seconds or None, got {timeout!r}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
    return float(timeout)


def check_max_nodes(max_nodes: int | None) -> None:
    """Check that ``max_nodes`` is None or a whole number of at least 1."""
    if max_nodes is None:
        return
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, numbers.Integral):
        raise TypeError(f"max_nodes must be a whole number or None, got {max_nodes!r}")
    if max_nodes < 1:
        raise ValueError(f"max_nodes must be at least 1 or None, got {max_nodes!r}")


def check_node_count(tensor: Tensor, max_nodes: int) -> None:
    """Refuse (`ValueError`) a graph of more than ``max_nodes`` nodes before ``dot`` sees it."""
    count = len(tensor.nodes())
    if count > max_nodes:
        raise ValueError(
            f"the graph has {count} nodes, more than max_nodes={max_nodes}: Graphviz would take "
            "minutes or more to lay it out; collapse blocks (collapse=), draw a smaller graph, "
            "write DOT source (format 'dot'), or raise the limit (max_nodes=None for none)"
        )


def output_format(path: Path, format: str | None) -> str:
    """The format to write ``path`` in: ``format`` if given, else from the extension."""
    suffix = path.suffix.lower()
    if format is None:
        if suffix not in EXTENSIONS:
            known = ", ".join(EXTENSIONS)
            shown = f"extension {suffix!r}" if suffix else "no extension"
            if not suffix and path.name.startswith("."):  # Path(".svg").suffix is ""
                shown = (f"no stem: {path.name!r} is a hidden file's whole name, with no "
                         "extension; name it e.g. graph" + (path.name if path.name[1:] else
                                                            ".svg"))
            raise ValueError(
                f"cannot tell the format of {path}: it has {shown}; use one of {known} or "
                f"give the format ({', '.join(FORMATS)})"
            )
        return EXTENSIONS[suffix]
    if not isinstance(format, str) or format.lower().lstrip(".") not in FORMATS:
        raise ValueError(f"unknown format {format!r}: use one of {', '.join(FORMATS)}")
    fmt = format.lower().lstrip(".")
    if suffix in EXTENSIONS and EXTENSIONS[suffix] != fmt:
        raise ValueError(
            f"format {fmt!r} does not match the extension of {path}: rename the file or drop "
            "the format"
        )
    return fmt


def image(graph: graphviz.Digraph, fmt: str, *, timeout: float | None = TIMEOUT) -> bytes:
    """``graph`` laid out and rendered by Graphviz's ``dot`` program, as bytes.

    ``dot`` runs in its own process group, gets ``timeout`` seconds (None: no limit), and is
    killed with its group on any way out; see `viz.process`. Raises `GraphvizNotFoundError`,
    `RenderTimeoutError`, or `RuntimeError` when ``dot`` fails.
    """
    timeout = check_timeout(timeout)
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(
            f"{fmt} output needs the Graphviz 'dot' program, which is not on PATH: {INSTALL_HINT}"
        )
    command = ["dot", f"-K{graph.engine}", f"-T{fmt}"]
    try:
        done = process.run(command, graph.source.encode("utf-8"), timeout)
    except subprocess.TimeoutExpired:
        nodes, edges = graph_size(graph)
        raise RenderTimeoutError(
            f"Graphviz's dot did not finish the {fmt} of a graph of {nodes} nodes and {edges} "
            f"edges within the limit of {timeout:g} s, so it was stopped: allow more time "
            "(timeout=, or --timeout on the command line), collapse blocks (collapse=), or "
            "draw a smaller graph"
        ) from None
    except OSError as exc:
        raise GraphvizNotFoundError(
            f"{fmt} output needs the Graphviz 'dot' program, which could not be run: "
            f"{INSTALL_HINT}"
        ) from exc
    if done.returncode != 0:
        detail = " ".join(done.stderr.decode("utf-8", "replace").split())
        if done.returncode < 0:
            killed = f"dot was killed by {signal.Signals(-done.returncode).name}"
            detail = f"{killed}: {detail}" if detail else killed
        raise RuntimeError(
            f"Graphviz failed to render {fmt}: {detail or f'dot exited with {done.returncode}'}"
        )
    return done.stdout


_STATEMENT = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[\w.:]+)\s*(->|--|=)?')


def graph_size(graph: graphviz.Graph | graphviz.Digraph) -> tuple[int, int]:
    """How many node and edge statements ``graph`` has (the counts a timeout message gives)."""
    nodes = edges = 0
    for line in graph.body:
        statement = _STATEMENT.match(line)
        if statement is None or statement[1] in ("graph", "node", "edge", "subgraph"):
            continue
        if statement[2] in ("->", "--"):
            edges += 1
        elif statement[2] is None:
            nodes += 1
    return nodes, edges
