"""Running a program as a child that never outlives the call: bounded in time, and on every way
out (a timeout, an exception, Ctrl-C, SIGTERM or SIGHUP) killed with its whole process group and
waited for.

The child runs in its own session, so a terminal's Ctrl-C reaches only Python, which then kills
the child; nothing it starts is left behind either. While `terminable` is active (in the main
thread) SIGTERM and SIGHUP raise an exception instead of ending Python on the spot, so the
cleanups run; afterwards the previous handlers come back and the signal is sent again, to have
its usual effect (by default, ending the program). A signal that was ignored (``nohup``) stays
ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

GRACE = 0.5
"""Seconds a stopped child gets to end after SIGTERM before its process group is sent SIGKILL."""

TERMINATING: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)
"""The signals that `terminable` turns into an exception while a child runs."""

_DEFERRED = {signal.SIGINT, *TERMINATING}  # held back while a child is started or stopped


class _Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived while a child ran. Caught by `terminable`, which sends the
    signal again; should it escape anyway, it still ends the program with status 128 + signal,
    the shell's way of saying "killed by that signal", running the cleanups on its way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated(signum)


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back in this thread (they arrive when this ends).

    The kernel's signal mask is inherited by children: never start a child under this.
    """
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back in Python, then raise them again when this ends.

    Unlike `_signals_deferred`, this leaves the kernel's mask alone, so a child started under
    it can still be signalled: the handlers just note what arrived. Main thread only.
    """
    arrived: list[int] = []
    saved: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        with _signals_deferred():
            for sig in _DEFERRED:
                old = signal.getsignal(sig)
                if old is not None and old != signal.SIG_IGN:
                    saved[sig] = old
                    signal.signal(sig, lambda signum, frame: arrived.append(signum))
    try:
        yield
    finally:
        _restore(saved)
        for signum in dict.fromkeys(arrived):
            signal.raise_signal(signum)  # to its own handler, now that it is back


@contextlib.contextmanager
def terminable() -> Iterator[None]:
    """While active, SIGTERM and SIGHUP raise an exception, so that ``finally`` blocks and
    `run`'s cleanup happen; when it ends the old handlers are back and such a signal is sent
    again. Does nothing outside the main thread (only the main thread can set handlers) or
    for signals that are ignored. Nests: only the outermost one acts."""
    installed: dict[int, Any] = {}
    try:
        try:
            if threading.current_thread() is threading.main_thread():
                _install(installed)
            yield
        finally:
            _restore(installed)
    except _Terminated as stop:
        if stop.signum not in installed:
            raise  # an outer terminable() installed the handler: it sends the signal again
        os.kill(os.getpid(), stop.signum)  # the signal's usual effect, now that all is clean
        name = signal.Signals(stop.signum).name
        raise RuntimeError(f"stopped by {name}") from None  # the old handler let us live on


def _install(installed: dict[int, Any]) -> None:
    with _signals_deferred():
        for sig in TERMINATING:
            old = signal.getsignal(sig)
            if old is _raise_terminated or old is None or old == signal.SIG_IGN:
                continue  # already ours, set outside Python (cannot be restored), or ignored
            installed[sig] = old
            signal.signal(sig, _raise_terminated)


def _restore(installed: dict[int, Any]) -> None:
    with _signals_deferred():  # a signal arriving now goes to the old handler, once it is back
        for sig, old in installed.items():
            signal.signal(sig, old)


def run(args: Sequence[str], input: bytes, timeout: float | None
        ) -> subprocess.CompletedProcess[bytes]:
    """Run ``args`` with ``input`` on stdin, in a new session; its stdout and stderr, as bytes.

    After ``timeout`` seconds (None: no limit) the child's process group is killed and waited
    for, then `subprocess.TimeoutExpired` is raised; the same cleanup happens before any other
    exception leaves, KeyboardInterrupt and SIGTERM/SIGHUP (see `terminable`) included.
    Raises `OSError` when the program cannot be started.
    """
    with terminable():
        proc: subprocess.Popen[bytes] | None = None
        try:
            with _signals_held():  # no exception between starting the child and knowing it
                proc = subprocess.Popen(
                    list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, start_new_session=True,
                )
            stdout, stderr = proc.communicate(input, timeout=timeout)
        except BaseException:
            if proc is not None:
                _stop(proc)
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """End ``proc``'s process group: SIGTERM, up to `GRACE` seconds, SIGKILL; then reap it."""
    with _signals_deferred():  # a second Ctrl-C must not interrupt the cleanup
        _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + GRACE
        while not _exited(proc) and time.monotonic() < deadline:
            time.sleep(0.01)
        _signal_group(proc, signal.SIGKILL)  # anything left in the group
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()


def _exited(proc: subprocess.Popen[bytes]) -> bool:
    """Whether ``proc`` has ended, without reaping it (so its group id stays its own)."""
    if proc.returncode is not None:
        return True
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def _signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    if proc.returncode is not None:
        return  # reaped: the group id may no longer be ours to signal
    try:
        os.killpg(proc.pid, sig)  # a new session: the group id is the child's pid
    except (ProcessLookupError, PermissionError):  # no such group after all: the child alone
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, sig)
