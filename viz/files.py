"""Writing output files all at once: a failed write never leaves a half-written file behind."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def check_writable(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path, after checking that a file can be written there (fail before work).

    Raises `OSError` naming the path: a directory, a missing folder, a folder not writable.
    """
    target = Path(path)
    folder = target.parent
    if target.is_dir():
        raise IsADirectoryError(f"cannot write {target}: it is a directory")
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {target}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(f"cannot write {target}: folder {folder} is not writable")
    return target


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it.

    Raises `OSError` naming the path when the folder is missing or not writable; in that case,
    and on any other failure, nothing is left at ``path`` or beside it.
    """
    target = check_writable(path)
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
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


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
