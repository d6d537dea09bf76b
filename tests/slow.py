"""A graph Graphviz takes minutes to lay out, and ways to see which processes are left.

Used by the render and CLI tests of time limits and signals, and by their subprocesses
(``python -c "from tests.slow import slow_graph; ..."`` run from the repository's root).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from autograd_bn import Tensor
from viz import style

ROOT = Path(__file__).resolve().parent.parent
HAS_PROC = Path(f"/proc/{os.getpid()}/task").is_dir()


def slow_graph(levels: int = 50) -> Tensor:
    """``y = y * c + d`` ``levels`` times with the same two constant Tensors every time: two
    hubs with an edge to every level. `viz` draws a hub again beside each of its users, which
    keeps the layout fast; this turns that off (``viz.style.HUB_USERS``, which the test
    session's conftest restores after each test), so that ``dot`` needs minutes for the 103
    nodes and 300 edges of 50 levels (0.3 s at 20 levels, 2.5 s at 30)."""
    style.HUB_USERS = 10**9
    c = Tensor(1.001, requires_grad=False)
    d = Tensor(1.001, requires_grad=False)
    y = Tensor(1.0, label="x")
    for _ in range(levels):
        y = y * c + d
    return y


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s child processes (Linux's /proc)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in tasks.read_text().split()]
        except OSError:  # the task ended meanwhile
            pass
    return found


def command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def wait_for_dot(pid: int, within: float = 15.0) -> int:
    """The pid of a ``dot`` that ``pid`` started, once there is one."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for child in children(pid):
            if command_name(child) == "dot":
                return child
        time.sleep(0.02)
    raise AssertionError(f"process {pid} started no dot within {within} s")


def group_is_gone(pgid: int) -> bool:
    """Whether no process is left in process group ``pgid`` (not even an unreaped one)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def start_python(code: str) -> subprocess.Popen[str]:
    """``python -c code`` from the repository's root, its stderr captured."""
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
