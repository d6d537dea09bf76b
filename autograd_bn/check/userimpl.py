"""Loading and checking your own batch-norm layer, in cs231n's signatures.

``forward(x, gamma, beta, bn_param) -> (out, cache)`` with ``bn_param = {"mode": "train",
"eps": eps}``, and ``backward(dout, cache) -> (dx, dgamma, dbeta)``. A function is named as
``FILE.py:NAME`` (a path relative to the current directory) or ``package.module:NAME``.

Everything that can go wrong on the user's side (file not found, import failed, name missing,
not callable, the call raised or exited, wrong number, shape or values of the results) raises
`UserImplError` with a one-line message naming the problem. What the user's code prints, while
it is imported or called, goes to stderr, so it cannot spoil a table or JSON on stdout.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import numpy as np

Array = np.ndarray


TIMEOUT = 60.0
"""Seconds your code may run in its child process (``--timeout``'s default) before SIGKILL."""


class UserImplError(ValueError):
    """Your forward or backward function could not be loaded, or returned something unusable."""


@dataclass(frozen=True)
class UserImpl:
    """A cs231n-style forward/backward pair, and the name its row gets in the comparison."""

    forward: Callable[..., Any]
    backward: Callable[..., Any]
    name: str = "yours"
    description: str = "your forward and backward"


@dataclass(frozen=True)
class UserSpec:
    """Your layer named by ``FILE.py:NAME`` (or ``package.module:NAME``) specs, to be loaded and
    run in a child process (`autograd_bn.check.sandbox`) with a time limit in seconds: nothing
    it does can reach the tool's process."""

    forward: str
    backward: str
    name: str = "yours"
    description: str = "your forward and backward"
    timeout: float = TIMEOUT


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _prints_to_stderr() -> redirect_stdout[TextIO]:
    """While the user's code runs, what it prints goes to stderr: stdout is the table or the
    JSON, and a debugging ``print`` must not spoil it."""
    return redirect_stdout(sys.stderr)


@contextmanager
def _on_path(folder: str) -> Iterator[None]:
    """``folder`` first on ``sys.path`` for the duration, so sibling modules import."""
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        try:
            sys.path.remove(folder)
        except ValueError:
            pass


def _is_file_spec(target: str) -> bool:
    return target.endswith(".py") or "/" in target or "\\" in target


def _load_file(target: str) -> ModuleType:
    path = Path(target)
    if not path.is_file():
        where = "is a directory" if path.is_dir() else "not found"
        raise UserImplError(f"file {target} {where} (paths are relative to {Path.cwd()})")
    resolved = path.resolve()
    name = f"_autograd_bn_user_{abs(hash(str(resolved))):x}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise UserImplError(f"cannot import {target}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    with _on_path(str(resolved.parent)):
        sys.modules[name] = module
        try:
            with _prints_to_stderr():
                spec.loader.exec_module(module)
        except BaseException as exc:
            sys.modules.pop(name, None)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise UserImplError(f"importing {target} failed: {_one_line(exc)}") from None
    return module


def _load_module(target: str) -> ModuleType:
    if not all(part.isidentifier() for part in target.split(".")):
        raise UserImplError(
            f"{target!r} is neither a .py file nor a module name like package.module"
        )
    with _on_path(str(Path.cwd())):
        try:
            with _prints_to_stderr():
                return importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name == target or target.startswith(f"{exc.name}."):  # not one it imports
                raise UserImplError(
                    f"module {target} not found (looked in the current directory and "
                    "sys.path)"
                ) from None
            raise UserImplError(f"importing {target} failed: {_one_line(exc)}") from None
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise UserImplError(f"importing {target} failed: {_one_line(exc)}") from None


def load_callable(
    spec: str, role: str = "function", modules: dict[str, ModuleType] | None = None
) -> Callable[..., Any]:
    """The function ``spec`` names: ``FILE.py:NAME`` or ``package.module:NAME``.

    ``NAME`` may be dotted (``Layer.backward``). ``role`` ("--forward", "--backward") starts
    every error message. ``modules`` caches loaded modules by target, so a forward and a
    backward from one file share one module.
    """
    target, sep, attr = spec.rpartition(":")
    if not sep or not target or not attr:
        raise UserImplError(
            f"{role} {spec!r}: expected FILE.py:NAME or package.module:NAME, e.g. "
            "layers.py:batchnorm_forward"
        )
    cache = {} if modules is None else modules
    module = cache.get(target)
    if module is None:
        try:
            module = _load_file(target) if _is_file_spec(target) else _load_module(target)
        except UserImplError as exc:
            raise UserImplError(f"{role}: {exc}") from None
        cache[target] = module
    obj: Any = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = sorted(n for n, v in vars(module).items()
                            if callable(v) and not n.startswith("_"))
            hint = f" (it defines: {', '.join(public[:12])})" if public else ""
            raise UserImplError(f"{role}: {target} has no attribute {attr!r}{hint}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise UserImplError(
            f"{role}: {target}:{attr} is not a function (it is of type {type(obj).__name__})"
        )
    return obj


def load_user_impl(forward: str, backward: str, name: str = "yours") -> UserImpl:
    """Load a forward and a backward function (see `load_callable`) as a `UserImpl`."""
    modules: dict[str, ModuleType] = {}
    return UserImpl(
        load_callable(forward, "--forward", modules),
        load_callable(backward, "--backward", modules),
        name,
        f"your layer: {forward} and {backward}",
    )


def describe(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(n for n in shape if n != 1)


def _check_array(value: Any, shape: tuple[int, ...], what: str,
                 notes: list[str] | None = None) -> Array:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged lists and the like
        raise UserImplError(f"{what} is not an array: {_one_line(exc)}") from None
    if arr.dtype.kind not in "biuf":
        raise UserImplError(f"{what} must hold real numbers, got dtype {arr.dtype}")
    if arr.shape != shape and notes is not None and _squeezed(arr.shape) == _squeezed(shape):
        notes.append(f"{what} has shape {arr.shape}: graded as {shape}, the same values once "
                     "size-1 axes are dropped (keepdims=True)")
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise UserImplError(f"{what} has shape {arr.shape}, expected {shape}")
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise UserImplError(f"{what} contains {bad} NaN or infinite value(s)")
    return arr


@contextmanager
def guarded(message: str, quiet: bool = False) -> Iterator[None]:
    """Run the user's code: anything it raises, even `SystemExit` (``sys.exit()``) or another
    `BaseException`, becomes a one-line `UserImplError` "<message> <exception>"; only Ctrl-C
    (`KeyboardInterrupt`) still interrupts. What it prints goes to stderr, or nowhere when
    ``quiet`` (the timed repeats: a print in the layer would otherwise repeat a thousand times)."""
    try:
        with redirect_stdout(io.StringIO()) if quiet else _prints_to_stderr():
            yield
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        raise UserImplError(f"{message} {_one_line(exc)}") from None


def run_forward(
    impl: UserImpl, x: Array, gamma: Array, beta: Array, eps: float
) -> tuple[Array, Any]:
    """Call the user's forward on copies of the inputs; returns ``(out, cache)``, checked."""
    who = f"forward {describe(impl.forward)}"
    bn_param = {"mode": "train", "eps": eps}
    with guarded(f"{who} raised"):
        result = impl.forward(x.copy(), gamma.copy(), beta.copy(), bn_param)
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list))
               else f"a {type(result).__name__}")
        raise UserImplError(f"{who} must return (out, cache), got {got}")
    out = _check_array(result[0], x.shape, f"{who}: out")
    return out, result[1]


def run_backward(impl: UserImpl, dout: Array, cache: Any) -> tuple[Array, Array, Array]:
    """Call the user's backward on a copy of ``dout``; returns ``(dx, dgamma, dbeta)``, checked."""
    who = f"backward {describe(impl.backward)}"
    with guarded(f"{who} raised"):
        result = impl.backward(dout.copy(), cache)
    return check_grads(result, dout.shape, who)


def time_backward(
    impl: UserImpl, dout: Array, cache: Any,
    timer: Callable[[Callable[[], Any], Callable[[], Any]], tuple[float, int]],
) -> tuple[float, int]:
    """``timer(call, setup)`` of the user's backward, each call on a fresh copy of ``dout``.

    What a repeated call raises is a `UserImplError` too ("backward raised on a repeated
    call: ..."), `SystemExit` included.
    """
    fresh: list[Array] = []

    def setup() -> None:
        fresh[:] = [dout.copy()]  # outside the timed region; the last copy only is kept

    with guarded("backward raised on a repeated call:", quiet=True):
        return timer(lambda: impl.backward(fresh[0], cache), setup)


def check_grads(result: Any, shape: tuple[int, ...], who: str) -> tuple[Array, Array, Array]:
    """``result`` as three finite arrays of shapes (N, D), (D,), (D,), or `UserImplError`."""
    if not isinstance(result, (tuple, list)) or len(result) != 3:
        got = (f"{len(result)} values" if isinstance(result, (tuple, list))
               else f"a {type(result).__name__}")
        raise UserImplError(f"{who} must return (dx, dgamma, dbeta), got {got}")
    d = shape[1]
    dx = _check_array(result[0], shape, f"{who}: dx")
    dgamma = _check_array(result[1], (d,), f"{who}: dgamma")
    dbeta = _check_array(result[2], (d,), f"{who}: dbeta")
    return dx, dgamma, dbeta
