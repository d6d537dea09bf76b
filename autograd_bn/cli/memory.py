"""Bounded memory: each command estimates its peak before it starts, and refuses above a limit.

The estimates are per element of x (N·D), measured: the peak resident memory of each command
at N·D = 2,000,000 in float64 and float32, minus that of a 4×5 run, over N·D (see
`PER_ELEMENT`); they are rounded up. A user's layer (``--forward``) is not counted.
The limit is `FRACTION` of the memory available now (``MemAvailable`` in /proc/meminfo, or
the free pages ``os.sysconf`` reports); ``--max-memory 2G`` sets it, ``--max-memory none``
lifts it.
"""

from __future__ import annotations

import argparse
import math
import os
import re

FRACTION = 0.75
"""The share of the available memory a command may plan to use by default."""

BASE = 64 * 2**20
"""Python, numpy and the package, before any array: ~40-50 MB measured; rounded up."""

PER_ELEMENT: dict[str, tuple[float, float]] = {
    # (arrays of x's dtype, float64 arrays): bytes per element = a·itemsize + b·8
    "graph": (7, 0),          # measured 5 (float64), 6 (float32): x and BN's forward arrays
    "graph --values": (14, 0),  # 12, 11: and every node's gradient
    "trace": (48, 0),         # 42, 45: every node's value, gradient and edge, copied
    "trace --json --full": (48, 560),  # ~4,100 bytes per element: every number as JSON text
    "compare": (4, 16),       # 18, 33 float32-sized: the methods' results, mostly in float64
    "report": (48, 10),       # 54, 63: the trace, the comparison and the page
}
"""What each command holds at its peak, per element of x."""

NUMERICAL = 6 * 8
"""The numerical gradient, when asked for: float64 copies of x and dout, and its results."""

BENCH = 1536 * 2**20
"""``bench``: fixed sizes (up to 4096×1024, with torch): about 1.5 GB at most."""

_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


NO_LIMIT = "none"
"""``--max-memory none``: no limit."""

Limit = int | str | None
"""A ``--max-memory`` value: bytes, `NO_LIMIT`, or None for the default."""


def parse_size(text: str) -> int | str:
    """``2G``, ``512M``, ``1.5GB``, ``800MiB``, ``100000`` (bytes) as bytes; ``none``:
    `NO_LIMIT`."""
    if text.strip().lower() in ("none", "off", "unlimited"):
        return NO_LIMIT
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:e[0-9]+)?)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if match is None:
        raise argparse.ArgumentTypeError(
            f"invalid size {text!r}: use a number of bytes with K, M, G or T (e.g. 2G, 512M), "
            "or none")
    size = float(match[1]) * _UNITS[match[2]]
    if not (math.isfinite(size) and size > 0):
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: it must be more than 0")
    return int(size)


def add_memory_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-memory", type=parse_size, default=None, metavar="SIZE",
        help=f"refuse to start when the estimated peak memory is above SIZE (e.g. 2G, 512M; "
        f"none: no limit); default {FRACTION * 100:.0f}%% of the memory available now")


def available() -> int | None:
    """Bytes of memory available now: /proc/meminfo's MemAvailable, else os.sysconf's free
    pages; None when neither can be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def estimate(command: str, n: int, d: int, dtype: str = "float64",
             numerical: bool = False) -> int:
    """The estimated peak memory, in bytes, of ``command`` (a key of `PER_ELEMENT`) on an
    (n, d) problem in ``dtype``."""
    itemsize = 4 if dtype == "float32" else 8
    arrays, doubles = PER_ELEMENT[command]
    per_element = arrays * itemsize + doubles * 8 + (NUMERICAL if numerical else 0)
    return BASE + int(per_element * n * d)


def limit_from(max_memory: Limit) -> int | None:
    """The limit in bytes ``--max-memory`` gives (None: no limit; by default `FRACTION` of
    what is available)."""
    if max_memory is not None:
        return max_memory if isinstance(max_memory, int) else None
    free = available()
    return None if free is None else int(free * FRACTION)


def size_text(size: float) -> str:
    for unit, scale in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size:.0f} bytes"


def check_memory(needed: int, max_memory: Limit, what: str) -> None:
    """Refuse (`MemoryError`, one line) when ``needed`` bytes are more than the limit."""
    limit = limit_from(max_memory)
    if limit is None or needed <= limit:
        return
    how = ("--max-memory" if max_memory is not None
           else f"{FRACTION:.0%} of the {size_text(limit / FRACTION)} available now")
    raise MemoryError(
        f"{what} would need about {size_text(needed)} of memory (estimated before starting), "
        f"more than the limit of {size_text(limit)} ({how}): make N or D smaller, use "
        "--dtype float32, or raise the limit with --max-memory (e.g. --max-memory "
        f"{math.ceil(needed / 2**30)}G, or none)")


def check_args(args: argparse.Namespace, command: str, numerical: bool = False) -> None:
    """`check_memory` for a command working on the ``-N``/``-D``/``--dtype`` problem."""
    if not (args.N >= 1 and args.D >= 1):
        return  # (refused as usage errors, with their own message)
    needed = estimate(command, args.N, args.D, args.dtype, numerical)
    check_memory(needed, args.max_memory,
                 f"autograd-bn {command} at N={args.N}, D={args.D} ({args.dtype})")
