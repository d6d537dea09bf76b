"""The README's Python examples run as written, and its two commands exist in the Makefile."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_readme_example_runs(code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})


def test_readme_commands_are_make_targets() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test"):
        assert f"make {target}" in README
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


TRANSCRIPTS = re.findall(r"```text\n\$ (autograd-bn [^\n#]*?)\s*(?:#[^\n]*)?\n(.*?)```", README,
                         flags=re.DOTALL)
TORCH = importlib.util.find_spec("torch") is not None
_TIME = re.compile(r"\s+\d+(\.\d+)?\s?(µs|ms|s)$")  # timings differ from run to run
# differences at the level of rounding (below 1e-12) differ from CPU to CPU: numpy and OpenBLAS
# add in another order with AVX-512 than with AVX2
_ROUNDING = re.compile(r"\b\d(\.\d+)?e-(1[3-9]|[2-9]\d|\d{3})\b")


def _comparable(line: str) -> str:
    return _ROUNDING.sub("(rounding)", _TIME.sub("", line.rstrip()))


@pytest.mark.parametrize("command, shown", TRANSCRIPTS, ids=[c for c, _ in TRANSCRIPTS])
def test_readme_transcripts_match_the_program(command: str, shown: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Every line the README shows of a command's output is a line of its real output."""
    from autograd_bn.cli import main
    from autograd_bn.engine import kernels

    if kernels.is_plain() and command.startswith("autograd-bn check"):
        pytest.skip("the README shows which of makemore's gradients come out bit for bit with "
                    "the fast kernels; on the plain ones (BLAS sums aside) more of them do")

    main(command.split()[1:])
    actual = {_comparable(line) for line in capsys.readouterr().out.splitlines()}
    for line in shown.splitlines():
        if not line.strip() or line.strip() == "...":
            continue
        if not TORCH and (line.startswith("torch ") or "methods agree" in line):
            continue  # the README shows a machine with torch; its row and count differ
        assert _comparable(line) in actual, line


def test_there_are_transcripts() -> None:
    assert {c.split()[1] for c, _ in TRANSCRIPTS} >= {"compare", "trace"}
