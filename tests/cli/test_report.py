"""``autograd-bn report``: where the page goes, the flags and errors it shares with compare, and
what is left behind when writing fails (nothing)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from autograd_bn.cli import main

FAST = ["--no-torch", "--repeats", "1"]


def test_cli_report_default_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", *FAST]) == 0
    assert capsys.readouterr().out.strip() == "bn_report.html"
    html = (tmp_path / "bn_report.html").read_text(encoding="utf-8")
    assert "</html>" in html and "N=4, D=5, seed 0, float64" in html
    assert os.listdir(tmp_path) == ["bn_report.html"]


def test_cli_report_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "r.html"
    assert main(["report", "-o", str(target), "-N", "3", "-D", "2", "--seed", "7",
                 "--dtype", "float32", "--no-numerical", *FAST]) == 0
    assert capsys.readouterr().out.strip() == str(target)
    html = target.read_text(encoding="utf-8")
    assert "N=3, D=2, seed 7, float32" in html
    assert "(skipped)" in html  # no numerical gradient


def test_cli_report_with_a_user_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layer = tmp_path / "layer.py"
    layer.write_text(
        "from autograd_bn.bn.manual import batchnorm_forward, backward_compact\n"
        "def forward(x, gamma, beta, bn_param):\n"
        "    return batchnorm_forward(x, gamma, beta, bn_param['eps'])\n"
        "def backward(dout, cache):\n"
        "    return backward_compact(dout, cache)\n", encoding="utf-8")
    target = tmp_path / "r.html"
    assert main(["report", "-o", str(target), "--forward", f"{layer}:forward",
                 "--backward", f"{layer}:backward", "--name", "mine", *FAST]) == 0
    assert "<td><b>mine</b></td>" in target.read_text(encoding="utf-8")


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("autograd-bn: error: "), lines
    return lines[0]


def test_cli_report_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "missing" / "r.html"
    assert main(["report", "-o", str(target)]) == 2
    assert "does not exist" in one_line_error(capsys)
    assert not target.parent.exists() and os.listdir(tmp_path) == []


def test_cli_report_output_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-o", str(tmp_path)]) == 2
    assert "is a directory" in one_line_error(capsys)
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0,
                    reason="root may write into read-only folders")
def test_cli_report_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["report", "-o", str(folder / "r.html")]) == 2
        assert "not writable" in one_line_error(capsys)
        assert os.listdir(folder) == []
    finally:
        folder.chmod(0o700)


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_cli_report_folder_refusing_files(capsys: pytest.CaptureFixture[str]) -> None:
    """/proc exists and, even for root, takes no new files: the write itself fails."""
    assert main(["report", "-o", "/proc/bn_report.html", *FAST]) == 2
    assert "cannot write /proc/bn_report.html" in one_line_error(capsys)
    assert not Path("/proc/bn_report.html").exists()


def test_cli_report_failure_leaves_no_partial_file(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import viz.files

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(viz.files.os, "replace", broken_replace)
    target = tmp_path / "r.html"
    assert main(["report", "-o", str(target), *FAST]) == 2
    assert "No space left on device" in one_line_error(capsys)
    assert os.listdir(tmp_path) == []


def test_cli_report_existing_file_untouched_on_failure(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import autograd_bn.cli.report as cli_report

    target = tmp_path / "r.html"
    target.write_text("old", encoding="utf-8")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("Graphviz failed to render svg: boom")

    monkeypatch.setattr(cli_report, "build_report", broken)
    assert main(["report", "-o", str(target)]) == 2
    assert "Graphviz failed" in one_line_error(capsys)
    assert target.read_text(encoding="utf-8") == "old" and os.listdir(tmp_path) == ["r.html"]


BAD_VALUES = [["-N", "0"], ["-D", "-1"], ["--seed", "-3"], ["--eps", "0"], ["--eps", "nan"],
              ["--repeats", "0"], ["--forward", "x.py:f"], ["--backward", "x.py:g"],
              ["--name", " ", "--forward", "a.py:f", "--backward", "a.py:g"],
              ["--forward", "missing_file.py:f", "--backward", "missing_file.py:g"]]


@pytest.mark.parametrize("argv", BAD_VALUES, ids=lambda a: " ".join(a))
def test_cli_report_errors_are_those_of_compare(argv: list[str], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["compare", *argv]) == 2
    expected = one_line_error(capsys)
    assert main(["report", *argv]) == 2
    assert one_line_error(capsys) == expected
    assert os.listdir(tmp_path) == []


BAD_FLAGS = [["--dtype", "float16"], ["-N", "four"], ["--repeats", "x"], ["--bogus"],
             ["--numerical=yes"]]


@pytest.mark.parametrize("argv", BAD_FLAGS, ids=lambda a: " ".join(a))
def test_cli_report_bad_flags_like_compare(argv: list[str], tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    messages = []
    for command in ("compare", "report"):
        with pytest.raises(SystemExit) as exc:
            main([command, *argv])
        assert exc.value.code == 2
        lines = capsys.readouterr().err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("autograd-bn: error: "), lines
        messages.append(lines[0].replace(f"autograd-bn {command} ", "autograd-bn COMMAND "))
    assert messages[0] == messages[1]
    assert os.listdir(tmp_path) == []
