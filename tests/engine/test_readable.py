"""The engine stays tiny to read: the op table (24 ops) and `Tensor` with its backward loop fit
in under 300 lines of code (docstrings, comments and blank lines aside), and the op table
comes first in its file."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "autograd_bn" / "engine"


def code_lines(source: str) -> int:
    """Lines holding code: not blank, not only a comment, not a docstring."""
    tree = ast.parse(source)
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and \
                ast.get_docstring(node) is not None:
            first = node.body[0]
            docstrings.update(range(first.lineno, (first.end_lineno or first.lineno) + 1))
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in skip:
            lines.update(range(token.start[0], token.end[0] + 1))
    return len(lines - docstrings)


def test_code_lines_counts_code_only() -> None:
    source = ('"""doc\nstring"""\n\n# comment\nx = 1  # trailing\n\n'
              'def f():\n    """d."""\n    return (1,\n            2)\n')
    assert code_lines(source) == 4


def test_the_engine_reads_in_one_sitting() -> None:
    total = sum(code_lines((ENGINE / name).read_text("utf-8"))
                for name in ("ops.py", "tensor.py"))
    assert total < 300, f"the op table, Tensor and its backward loop are {total} lines of code"


def test_the_op_table_is_the_first_thing_in_its_file() -> None:
    tree = ast.parse((ENGINE / "ops.py").read_text("utf-8"))
    first = next(node for node in tree.body
                 if not isinstance(node, (ast.Expr, ast.Import, ast.ImportFrom)))
    assert isinstance(first, ast.Assign) and first.targets[0].id == "add"  # type: ignore[attr-defined]
    assert not any(isinstance(node, ast.FunctionDef) for node in tree.body)
