"""Output files are written all at once, with the permissions a plain write would give."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from viz.files import atomic_write, check_writable


def test_writes_text_and_bytes(tmp_path: Path) -> None:
    assert atomic_write(tmp_path / "a.txt", "héllo").read_text(encoding="utf-8") == "héllo"
    assert atomic_write(tmp_path / "b.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_permissions_follow_the_umask_or_the_old_file(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        assert (atomic_write(tmp_path / "new.txt", "x").stat().st_mode & 0o777) == 0o644
    finally:
        os.umask(old)
    private = tmp_path / "private.txt"
    private.write_text("old")
    private.chmod(0o600)
    atomic_write(private, "new")
    assert private.stat().st_mode & 0o777 == 0o600 and private.read_text() == "new"


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing" / "f.svg", "folder .*missing does not exist"),
    (lambda d: d, "it is a directory"),
])
def test_bad_targets(tmp_path: Path, make: object, message: str) -> None:
    target = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(OSError, match=message):
        check_writable(target)
    with pytest.raises(OSError, match=message):
        atomic_write(target, "x")


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        atomic_write(tmp_path / "out.html", "x" * 1000)
    assert list(tmp_path.iterdir()) == []
