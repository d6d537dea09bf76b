"""Hostile output paths for `atomic_write` and `render`: links, FIFOs, devices, write-protected
files, a full disk. Nothing of the user's, and nothing of the system's, is ever clobbered.

No test here writes to a real system path: devices are reached through a link to /dev/null
made in tmp_path, and every refusal happens before anything is opened for writing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import viz
from autograd_bn import Tensor
from viz.files import atomic_write, check_writable


def test_a_symlink_is_written_through_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real" / "g.svg"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    assert atomic_write(link, "new") == link
    assert link.is_symlink() and os.readlink(link) == str(target)  # (before: a regular file)
    assert target.read_text() == "new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["g.svg"]  # no temporary left


def test_a_dangling_symlink_creates_its_target(tmp_path: Path) -> None:
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "new.html")
    atomic_write(link, "x")
    assert link.is_symlink() and (tmp_path / "new.html").read_text() == "x"


def test_a_symlink_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="symbolic link that loops"):
        atomic_write(tmp_path / "a", "x")


def test_a_fifo_is_refused_before_opening_it(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.svg"
    os.mkfifo(fifo)  # (opening it for writing would block: the refusal must come first)
    with pytest.raises(OSError, match=r"cannot write .*pipe.svg: it is a FIFO \(named pipe\)"):
        atomic_write(fifo, "x")
    assert fifo.is_fifo()


def test_a_link_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "null.svg"
    link.symlink_to(os.devnull)
    with pytest.raises(OSError, match=r"null.svg: it is a link to /dev/null, a system path"):
        check_writable(link)
    with pytest.raises(OSError, match="a system path"):
        viz.render(Tensor([1.0]) * 2, link)
    assert link.is_symlink() and os.readlink(link) == os.devnull


def test_a_link_into_proc_is_refused(tmp_path: Path) -> None:
    """/dev/stdout is a link to /proc/self/fd/1: such a link is never replaced."""
    link = tmp_path / "out.html"
    link.symlink_to("/proc/self/fd/1")
    with pytest.raises(OSError, match="cannot write"):
        check_writable(link)
    assert link.is_symlink()


def test_a_write_protected_file_needs_force(tmp_path: Path) -> None:
    protected = tmp_path / "g.dot"
    protected.write_text("old")
    protected.chmod(0o444)
    with pytest.raises(PermissionError, match="write-protected; use --force"):
        atomic_write(protected, "new")
    assert protected.read_text() == "old"
    with pytest.raises(PermissionError, match="write-protected"):
        viz.render(Tensor([1.0]) * 2, protected)
    atomic_write(protected, "new", force=True)
    assert protected.read_text() == "new" and protected.stat().st_mode & 0o777 == 0o444
    viz.render(Tensor([1.0]) * 2, protected, force=True)


def test_an_empty_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="the output path is empty"):
        atomic_write("", "x")


def test_a_full_disk_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_fdopen = os.fdopen

    class Full:
        def __init__(self, fd: int, mode: str) -> None:
            self.file = real_fdopen(fd, mode)

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            self.file.close()

        def write(self, data: bytes) -> None:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fdopen", Full)
    target = tmp_path / "report.html"
    with pytest.raises(OSError, match=r"\[Errno 28\] cannot write .*report.html: No space left"):
        atomic_write(target, "x" * 1000)
    assert list(tmp_path.iterdir()) == []


def test_a_name_with_no_stem_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"no stem: '.svg' is a hidden file's whole name"):
        viz.render(Tensor([1.0]) * 2, tmp_path / ".svg")
