"""Running your layer in a child process, so that nothing it does can change a verdict.

`run_in_child` writes the inputs to a private folder, starts ``python -m
autograd_bn.check.sandbox FOLDER`` in a new session (its own process group), and waits at most
``timeout`` seconds. The child loads your functions, runs them (`autograd_bn.check.usercall`),
times your backward there, and writes back only arrays (``.npz``, no pickles) and a small JSON
file; all checking and grading happen in the tool's process. The child's stdout and stderr (fd
1 and 2, what it prints and what it writes to them directly) go to a file that is copied to the
tool's stderr afterwards, so a table or JSON on stdout stays clean.

What can go wrong becomes one `UserImplError` line: your code raised (as before); the child
ended without an answer (``os._exit``, ``sys.exit`` from an atexit hook, a crash in native code,
a signal); or it ran out of time. On time-out, and after every run, the child's whole process
group gets SIGKILL, which no signal handler can catch or ignore.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from autograd_bn.check.usercall import Call, RawResult
from autograd_bn.check.userimpl import UserImplError, UserSpec

Array = np.ndarray
OUTPUT_LIMIT = 65536
"""At most this many bytes of what the child printed are copied to stderr."""
_STAGES = {"load": "while loading your functions", "forward": "in your forward",
           "backward": "in your backward", "timing": "while your backward was timed",
           "done": "after your layer returned"}


def run_in_child(spec: UserSpec, call: Call, arrays: dict[str, Array],
                 repeats: int | None) -> RawResult:
    """Run ``spec``'s layer on ``arrays`` in a child process within ``spec.timeout`` seconds."""
    with tempfile.TemporaryDirectory(prefix="autograd-bn-") as tmp:
        folder = Path(tmp)
        np.savez(folder / "inputs.npz", **arrays)  # type: ignore[arg-type]
        request = {"forward": spec.forward, "backward": spec.backward, "call": call.to_dict(),
                   "repeats": repeats}
        (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        with open(folder / "output.txt", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "autograd_bn.check.sandbox", str(folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=spec.timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill(proc)
        _relay(folder / "output.txt")
        stage = _read(folder / "stage") or "load"
        where = _STAGES.get(stage, "")
        if timed_out:
            raise UserImplError(f"your layer did not finish within {spec.timeout:g} s "
                                f"(--timeout); stopped {where}")
        meta_text = _read(folder / "result.json")
        if proc.returncode != 0 or meta_text is None:
            raise UserImplError(f"your layer ended the process {where} without an answer "
                                f"({_status(proc.returncode)}): os._exit, a crash or a signal")
        meta = json.loads(meta_text)
        if "error" in meta:
            raise UserImplError(str(meta["error"]))
        with np.load(folder / "result.npz", allow_pickle=False) as data:
            got = {key: np.array(data[key]) for key in data.files}
    grads = tuple(got[k] for k in ("dx", "dgamma", "dbeta")) if "dx" in got else None
    running = (got["running_mean"], got["running_var"]) if "running_mean" in got else None
    return RawResult(got["out"], grads, running, float(meta["seconds"]), int(meta["calls"]),
                     (str(meta["names"][0]), str(meta["names"][1])))


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL the child's process group (it cannot be caught) and reap the child."""
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL),
                 lambda: os.kill(proc.pid, signal.SIGKILL)):
        try:
            kill()
        except (ProcessLookupError, PermissionError):
            pass
    proc.wait()


def _status(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _relay(path: Path) -> None:
    """Copy what the child wrote to fd 1 and 2 to our stderr (at most `OUTPUT_LIMIT` bytes)."""
    try:
        with open(path, "rb") as f:
            data = f.read(OUTPUT_LIMIT + 1)
    except OSError:
        return
    if data:
        text = data[:OUTPUT_LIMIT].decode("utf-8", "replace")
        sys.stderr.write(text if text.endswith("\n") else text + "\n")
        if len(data) > OUTPUT_LIMIT:
            sys.stderr.write(f"(your layer's output cut at {OUTPUT_LIMIT} bytes)\n")
        sys.stderr.flush()


# ---- the child ------------------------------------------------------------------------------


def _child(folder: Path) -> None:
    """Load and run the layer the request names; write result.npz and result.json last."""
    from autograd_bn.check.timing import median_time
    from autograd_bn.check.usercall import run_layer
    from autograd_bn.check.userimpl import UserImpl, load_callable

    save, dump, replace = np.savez, json.dumps, os.replace  # before user code can patch them

    def stage(name: str) -> None:
        (folder / "stage").write_text(name, encoding="utf-8")

    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    with np.load(folder / "inputs.npz", allow_pickle=False) as data:
        arrays = {key: np.array(data[key]) for key in data.files}
    repeats = request["repeats"]
    meta: dict[str, Any]
    try:
        stage("load")
        modules: dict[str, Any] = {}
        impl = UserImpl(load_callable(request["forward"], "--forward", modules),
                        load_callable(request["backward"], "--backward", modules))
        stage("forward")

        def timer(call: Any, setup: Any) -> tuple[float, int]:
            stage("timing")
            return median_time(call, repeats, setup)

        raw = run_layer(impl, Call(**request["call"]), arrays, timer, stage)
        stage("done")
        result = {"out": raw.out}
        if raw.grads is not None:
            result.update(zip(("dx", "dgamma", "dbeta"), raw.grads, strict=True))
        if raw.running is not None:
            result.update(running_mean=raw.running[0], running_var=raw.running[1])
        save(folder / "result.npz", **result)  # type: ignore[arg-type]
        meta = {"seconds": raw.seconds, "calls": raw.calls, "names": list(raw.names)}
    except UserImplError as exc:
        meta = {"error": str(exc)}
    except KeyboardInterrupt:
        meta = {"error": "your layer raised KeyboardInterrupt"}
    (folder / "result.tmp").write_text(dump(meta), encoding="utf-8")
    replace(folder / "result.tmp", folder / "result.json")


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # no atexit hooks of the user's: the answer is written
