"""`render`: a Tensor graph written to an svg, png, pdf or DOT file, all at once or not at all."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import graphviz

from autograd_bn.engine.tensor import Tensor
from viz.files import atomic_write, check_writable
from viz.graph import draw

FORMATS = ("svg", "png", "pdf", "dot")
"""What `render` writes: images need the Graphviz ``dot`` program, DOT source does not."""

PNG_DPI = 144
"""PNGs are drawn at 1.5× Graphviz's default resolution so their small labels stay sharp."""

EXTENSIONS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}

INSTALL_HINT = (
    "install Graphviz: 'sudo apt install graphviz' (Debian/Ubuntu), 'brew install graphviz' "
    "(macOS) or 'conda install -c conda-forge graphviz'; or write DOT source instead, which "
    "needs no program (format 'dot' or a .dot path)"
)


class GraphvizNotFoundError(RuntimeError):
    """The Graphviz ``dot`` program, needed for svg, png and pdf output, is not installed."""


def render(
    tensor: Tensor, path: str | os.PathLike[str], *, format: str | None = None,
    **draw_options: Any,
) -> Path:
    """Draw ``tensor``'s graph (see `viz.draw` for ``draw_options``) and write it to ``path``.

    ``format`` is svg, png, pdf or dot (DOT source); by default it comes from the extension.
    The file is written through a temporary file and renamed, so a failure leaves nothing.
    Returns the path written.

    Raises `TypeError` for a non-Tensor or a bad path, `ValueError` for an unknown format (or
    one that contradicts the extension), `GraphvizNotFoundError` when an image is asked for
    and ``dot`` is missing, `OSError` when the folder is missing or not writable or ``path``
    is a directory (all checked before anything is drawn).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"render() needs a Tensor, got {type(tensor).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or a path, got {type(path).__name__}")
    target = Path(path)
    fmt = output_format(target, format)
    check_writable(target)  # before the drawing, which can take seconds
    graph = draw(tensor, **draw_options)
    if fmt == "png":
        graph.attr(dpi=str(PNG_DPI))
    data = graph.source.encode("utf-8") if fmt == "dot" else image(graph, fmt)
    return atomic_write(target, data)


def output_format(path: Path, format: str | None) -> str:
    """The format to write ``path`` in: ``format`` if given, else from the extension."""
    suffix = path.suffix.lower()
    if format is None:
        if suffix not in EXTENSIONS:
            known = ", ".join(EXTENSIONS)
            shown = f"extension {suffix!r}" if suffix else "no extension"
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


def image(graph: graphviz.Digraph, fmt: str) -> bytes:
    """``graph`` laid out and rendered by Graphviz's ``dot`` program, as bytes."""
    if shutil.which("dot") is None:
        raise GraphvizNotFoundError(
            f"{fmt} output needs the Graphviz 'dot' program, which is not on PATH: {INSTALL_HINT}"
        )
    try:
        return graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFoundError(
            f"{fmt} output needs the Graphviz 'dot' program, which could not be run: "
            f"{INSTALL_HINT}"
        ) from exc
    except graphviz.CalledProcessError as exc:
        detail = " ".join((exc.stderr or b"").decode("utf-8", "replace").split())
        raise RuntimeError(f"Graphviz failed to render {fmt}: {detail or exc}") from exc
