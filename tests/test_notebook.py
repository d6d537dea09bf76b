"""docs/walkthrough.ipynb runs top to bottom in a real Jupyter kernel, and its exercise's check
accepts the right answer and refuses a wrong one.

Skipped (with the reason) only when the kernel cannot start; nbclient, nbformat and ipykernel
are in the ``test`` extra.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "walkthrough.ipynb"


def run(notebook: nbformat.NotebookNode, folder: Path) -> nbformat.NotebookNode:
    client = NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    kernel = client.setup_kernel()
    try:
        kernel.__enter__()
    except Exception as error:  # no kernel, no ZMQ, a sandbox that forbids it…
        pytest.skip(f"the Jupyter kernel could not start: {type(error).__name__}: {error}")
    try:
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    finally:
        kernel.__exit__(None, None, None)
    return notebook


def text_of(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") + "".join(str(v) for v in o.get("data", {}).values())
                   for o in cell.get("outputs", []))


def exercise(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    return next(c for c in notebook.cells if "exercise" in c.metadata.get("tags", []))


def test_the_walkthrough_runs_and_tells_the_seeds_story(tmp_path: Path) -> None:
    notebook = run(nbformat.read(NOTEBOOK, as_version=4), tmp_path)
    outputs = "\n".join(text_of(c) for c in notebook.cells)
    assert "<svg" in outputs  # the graph, drawn inline
    assert "14 of 14 seed values found" in outputs and "all match" in outputs
    assert "d3_1" in outputs and "Not answered yet" in outputs
    assert (tmp_path / "bn_walkthrough.html").stat().st_size > 50_000
    assert not [o for c in notebook.cells for o in c.get("outputs", [])
                if o.get("output_type") == "error"]


def test_the_exercise_checks_the_answer(tmp_path: Path) -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    exercise(notebook).source = "x_hat = cache[5]\nmy_dgamma = (p.dout * x_hat).sum(axis=0)"
    ran = run(notebook, tmp_path)
    assert any("Right: the same dγ" in text_of(c) for c in ran.cells)

    wrong = nbformat.read(NOTEBOOK, as_version=4)
    exercise(wrong).source = "x_hat = cache[5]\nmy_dgamma = (p.dout * x_hat).mean(axis=0)"
    with pytest.raises(CellExecutionError, match="not dγ yet"):
        run(wrong, tmp_path)
