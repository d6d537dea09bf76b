"""Writing output files all at once: a failed write never leaves a half-written file behind."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

_SYSTEM = ("/dev/", "/proc/", "/sys/")
"""Folders of devices and of the system's own links (/dev/stdout → /proc/self/fd/1): a path
in them, or a link that passes through them, is never replaced (/dev/shm, shared memory for
files, excepted)."""


def _system(path: str) -> bool:
    absolute = os.path.abspath(path)
    return absolute.startswith(_SYSTEM) and not absolute.startswith("/dev/shm/")


def _kind(mode: int) -> str | None:
    """What a file of ``mode`` is, if it is not a regular file (nor a folder)."""
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "not a regular file"


def resolve_output(path: str | os.PathLike[str]) -> Path:
    """Where writing ``path`` really goes: ``path`` itself, or, if it is a symbolic link, the
    file the link points to (followed to the end: an atomic write replaces that file and keeps
    the link, as ``open(path, "w")`` would). Raises `ValueError` for an empty path, `OSError`
    for a link that loops or passes through /dev, /proc or /sys."""
    if os.fspath(path) == "":
        raise ValueError("the output path is empty: give a file name")
    target = Path(path)
    if not target.is_symlink():
        return target
    hop = target
    for _ in range(40):  # (the kernel's own limit on links in a row)
        if _system(str(hop)):
            raise OSError(f"cannot write {target}: it is a link to {hop}, a system path, "
                          "which writing the file whole would replace; write to a regular "
                          "file (or '-' for standard output, where the format is text)")
        if not hop.is_symlink():
            return Path(os.path.realpath(hop))
        hop = hop.parent / os.readlink(hop)
    raise OSError(f"cannot write {target}: it is a symbolic link that loops (through {hop})")


def check_writable(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Where ``path`` is written (see `resolve_output`), after checking that a file can be
    written there (fail before work).

    Raises `ValueError` for an empty path; `OSError` naming the path for a directory, a
    missing folder, a folder not writable, a FIFO, device or socket (an atomic write would
    replace it with a regular file), anything in /dev, /proc or /sys, or a write-protected
    file unless ``force``.
    """
    target = resolve_output(path)
    shown = f"{path}" if Path(path) == target else f"{path} (a link to {target})"
    try:
        mode: int | None = target.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):  # (a missing folder: said below)
        mode = None
    if mode is not None and stat.S_ISDIR(mode):
        raise IsADirectoryError(f"cannot write {shown}: it is a directory")
    if mode is not None and _kind(mode) is not None or _system(str(target)):
        kind = _kind(mode) if mode is not None else None
        what = f"it is {kind}" if kind else "it is a system path"
        raise OSError(f"cannot write {shown}: {what}, which writing the file whole would "
                      "replace; write to a regular file (or '-' for standard output, where "
                      "the format is text)")
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {shown}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {shown}: folder {folder} is not writable")
    if mode is not None and not force and (not mode & 0o222 or not os.access(target, os.W_OK)):
        raise PermissionError(f"cannot write {shown}: the file is write-protected; use --force "
                              "(force=True) to replace it")
    return target


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *,
                 force: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    A symbolic link is written through: the file it points to is replaced, in that file's
    folder, and the link stays. Raises what `check_writable` raises (a write-protected file is
    replaced only with ``force``), and `OSError` naming the path when writing fails (a full
    disk); in every case nothing is left at ``path`` or beside it, and an old file there is
    untouched. Returns ``path`` as a Path.
    """
    target = check_writable(path, force=force)
    folder = target.parent
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise PermissionError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.filename is not None or str(target) in str(exc):
            raise
        # "[Errno 28] No space left on device" says nothing of which file: say it
        raise type(exc)(exc.errno, f"cannot write {path}: {exc.strerror or exc}") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(path)


def _mode_for(target: Path) -> int:
    """The permissions a plain ``open(target, "w")`` would leave: the old file's, or the umask's.

    (The temporary file starts as 0600, which is not what the user would expect.)
    """
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
