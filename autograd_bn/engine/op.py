"""What an op is: one row of the op table (`autograd_bn.engine.ops`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Vjp = Callable[..., np.ndarray]
Text = str | Callable[..., str]


@dataclass(frozen=True)
class Op:
    """One differentiable operation.

    * ``forward(a, *args)`` or ``forward(a, b)`` computes the output from the inputs' arrays
      and the op's settings ``args`` (in the order ``params`` names them);
    * ``vjps[i](g, out, a, *args)`` or ``vjps[i](g, out, a, b)`` is the vector-Jacobian
      product for input i: it turns ``g`` = dL/d(out) into dL/d(input i). It may return an
      array of the broadcast shape: the engine then sums it back to the input's shape
      (`shapes.unbroadcast`), in one place;
    * ``texts[i]`` is the local derivative d(out)/d(input i) for people, a `str.format`
      template over the inputs' names ``{a}``, ``{b}``, the output's ``{out}`` and the op's
      settings by name (``{p}``, ``{n}``, ``{c}``); the graph prints it on the backward edges.
      A function of those names is allowed where a template cannot say it (``pow``);
    * ``shows``, for an op with a number in it (``x * 2``, ``x ** 3``), how the node shows it:
      a template over the settings (``"·{c:g}"``).

    An op takes one input or two; ``params`` names its settings (the axis of a sum, the p of
    ``x ** p``, the number c of ``x * c``), which the `Tensor` method that builds it checks.
    An op of two inputs has none.
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Vjp, ...]
    texts: tuple[Text, ...]
    shows: str | None = None
    params: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.vjps) not in (1, 2):
            raise ValueError(f"op {self.name!r} has {len(self.vjps)} inputs: an op takes one "
                             "or two")
        if len(self.texts) != len(self.vjps):
            raise ValueError(f"op {self.name!r} needs one derivative text per input: "
                             f"{len(self.vjps)} VJPs, {len(self.texts)} texts")
        if self.params and len(self.vjps) == 2:
            raise ValueError(f"op {self.name!r} has two inputs and parameters: an op of two "
                             "inputs has none")

    @property
    def arity(self) -> int:
        return len(self.vjps)

    def describe(self, i: int, names: dict[str, Any]) -> str:
        """The local derivative d(out)/d(input i), with names and parameters filled in."""
        text = self.texts[i]
        return text(**names) if callable(text) else text.format(**names)
