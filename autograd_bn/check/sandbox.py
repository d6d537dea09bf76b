"""Running your code in a child process, so that nothing it does can change a verdict.

`run_child` writes a request (JSON) and the inputs (``.npz``) to a private folder, starts
``python -m MODULE FOLDER`` in a new session (its own process group), and waits at most
``timeout`` seconds; the module's main is `serve`, which calls its answer function and writes
back only arrays (``.npz``, no pickles) and a small JSON file. Two modules answer:

- this one (`run_in_child`, ``autograd-bn compare --forward/--backward``): the child loads your
  layer, runs it (`autograd_bn.check.usercall`) and times your backward; all checking and
  grading happen in the tool's process;
- `autograd_bn.check.userstep` (``autograd-bn check FILE:FUNCTION``): the child calls your
  function, which builds a graph and calls ``backward()``, and compares its gradients there
  (`compare_grads` needs the Tensors); only the comparison's rows come back.

The child's stdout and stderr (fd 1 and 2, what it prints and what it writes to them directly)
go to a file that is copied to the tool's stderr afterwards, so a table or JSON on stdout stays
clean.

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
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from autograd_bn.check.usercall import Call, RawResult
from autograd_bn.check.userimpl import UserImplError, UserSpec, _one_line

Array = np.ndarray
OUTPUT_LIMIT = 65536
"""At most this many bytes of what the child printed are copied to stderr."""
_STAGES = {"load": "while loading your functions", "forward": "in your forward",
           "backward": "in your backward", "timing": "while your backward was timed",
           "done": "after your layer returned"}


def run_in_child(spec: UserSpec, call: Call, arrays: dict[str, Array],
                 repeats: int | None) -> RawResult:
    """Run ``spec``'s layer on ``arrays`` in a child process within ``spec.timeout`` seconds."""
    request = {"forward": spec.forward, "backward": spec.backward, "call": call.to_dict(),
               "repeats": repeats}
    meta, got = run_child("autograd_bn.check.sandbox", request, arrays, spec.timeout,
                          "your layer", _STAGES)
    grads = tuple(got[k] for k in ("dx", "dgamma", "dbeta")) if "dx" in got else None
    running = (got["running_mean"], got["running_var"]) if "running_mean" in got else None
    return RawResult(got["out"], grads, running, float(meta["seconds"]), int(meta["calls"]),
                     (str(meta["names"][0]), str(meta["names"][1])))


def run_child(module: str, request: dict[str, Any], arrays: dict[str, Array], timeout: float,
              who: str, stages: dict[str, str]) -> tuple[dict[str, Any], dict[str, Array]]:
    """Run ``python -m module FOLDER`` (a module whose main is `serve`) on ``request`` (JSON)
    and ``arrays`` within ``timeout`` seconds; its answer: the JSON it wrote, and its arrays.

    ``who`` starts the errors ("your layer did not finish …"); ``stages`` says where the child
    was stopped, by the stage it last wrote. Raises `UserImplError` for a time-out, a child
    that ended without an answer, or the error it answered.
    """
    with tempfile.TemporaryDirectory(prefix="autograd-bn-") as tmp:
        folder = Path(tmp)
        np.savez(folder / "inputs.npz", **arrays)  # type: ignore[arg-type]
        (folder / "request.json").write_text(json.dumps({**request, "who": who}),
                                             encoding="utf-8")
        env = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        with open(folder / "output.txt", "wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", module, str(folder)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                start_new_session=True)
            timed_out = False
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                _kill(proc)
        _relay(folder / "output.txt")
        stage = _read(folder / "stage") or "load"
        where = stages.get(stage, "")
        if timed_out:
            raise UserImplError(f"{who} did not finish within {timeout:g} s (--timeout); "
                                f"stopped {where}")
        meta_text = _read(folder / "result.json")
        if proc.returncode != 0 or meta_text is None:
            raise UserImplError(f"{who} ended the process {where} without an answer "
                                f"({_status(proc.returncode)}): os._exit, a crash or a signal")
        meta = json.loads(meta_text)
        if "error" in meta:
            raise UserImplError(str(meta["error"]))
        with np.load(folder / "result.npz", allow_pickle=False) as data:
            got = {key: np.array(data[key]) for key in data.files}
    return meta, got


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
            sys.stderr.write(f"(what your code wrote is cut at {OUTPUT_LIMIT} bytes)\n")
        sys.stderr.flush()


# ---- the child ------------------------------------------------------------------------------

Stage = Callable[[str], None]
Answer = Callable[[dict[str, Any], dict[str, Array], Stage],
                  tuple[dict[str, Any], dict[str, Array]]]


def serve(answer: Answer) -> NoReturn:
    """The child's main (``python -m module FOLDER``): read the request and the arrays, call
    ``answer(request, arrays, stage)`` and write what it returns (JSON, arrays) last; a
    `UserImplError` it raises is written as the error. Ends with ``os._exit(0)``: no atexit
    hook of the user's runs, and nothing after the answer can change it."""
    folder = Path(sys.argv[1])
    save, dump, replace = np.savez, json.dumps, os.replace  # before user code can patch them

    def stage(name: str) -> None:
        (folder / "stage").write_text(name, encoding="utf-8")

    request = json.loads((folder / "request.json").read_text(encoding="utf-8"))
    with np.load(folder / "inputs.npz", allow_pickle=False) as data:
        arrays = {key: np.array(data[key]) for key in data.files}
    meta: dict[str, Any]
    try:
        meta, result = answer(request, arrays, stage)
        save(folder / "result.npz", **result)  # type: ignore[arg-type]
    except UserImplError as exc:
        meta = {"error": str(exc)}
    except KeyboardInterrupt:
        meta = {"error": f"{request['who']} raised KeyboardInterrupt"}
    except BaseException as exc:  # (what escaped the answer's own checks: still one line)
        meta = {"error": f"{request['who']} failed: {_one_line(exc)}"}
    (folder / "result.tmp").write_text(dump(meta), encoding="utf-8")
    replace(folder / "result.tmp", folder / "result.json")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _layer(request: dict[str, Any], arrays: dict[str, Array],
           stage: Stage) -> tuple[dict[str, Any], dict[str, Array]]:
    """Load and run the layer the request names: its arrays, its time and its names."""
    from autograd_bn.check.timing import median_time
    from autograd_bn.check.usercall import run_layer
    from autograd_bn.check.userimpl import UserImpl, load_callable

    repeats = request["repeats"]
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
    return {"seconds": raw.seconds, "calls": raw.calls, "names": list(raw.names)}, result


if __name__ == "__main__":
    serve(_layer)
