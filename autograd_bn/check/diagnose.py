"""What a wrong gradient looks like, and what usually causes it, read off the numbers.

`diagnose_grad` fits the error ``yours − autograd`` of one gradient to the shapes the usual
mistakes leave (in the working view of x, statistics taken over ``axes``):

* exactly zero everywhere: the backward is unfinished;
* a multiple of the right answer: N vs N − 1 (Bessel's correction), a missing 2 or 1/2;
* dx without γ: γ missing from the gradient reaching x̂;
* the same value down each column (constant over the normalised axes): the mean's term;
* a multiple of x̂ in each column: the variance's term; both together: both terms.

`diagnose_out` does the same for a wrong forward output: normalised over other axes, or with
the other variance. Each returns at most two lines of text (none when nothing fits).
"""

from __future__ import annotations

import itertools

import numpy as np

Array = np.ndarray


def _norm(a: Array) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64).ravel()))


def _fits(residual: Array, size: Array, tol: float) -> bool:
    return _norm(residual) <= tol * max(_norm(size), 1e-300)


def _factor_text(k: float, count: int) -> str | None:
    named = [(count / (count - 1) if count > 1 else None, "N/(N−1)"),
             ((count - 1) / count if count > 1 else None, "(N−1)/N"),
             (2.0, "2"), (0.5, "1/2"), (-1.0, "−1")]
    for value, text in named:
        if value is not None and abs(k - value) <= 1e-6 * abs(value):
            return text
    return None


def _causes(text: str) -> str:
    return {"N/(N−1)": "dividing by N − 1 where the layer divides by N (or the other way round: "
                       "Bessel's correction, makemore's n−1 against cs231n's biased variance)",
            "(N−1)/N": "dividing by N where the layer divides by N − 1 (Bessel's correction)",
            "2": "a factor 2 too many (d(x²)/dx = 2x counted twice?)",
            "1/2": "a missing 2 or an extra 1/2 (d(x²)/dx = 2x, d√v/dv = 1/(2√v))",
            "−1": "a flipped sign"}.get(text, "a wrong constant factor")


def diagnose_grad(name: str, yours: Array, ref: Array, *, x_hat: Array, gamma: Array,
                  axes: tuple[int, ...], count: int, tol: float = 1e-6) -> list[str]:
    """Up to two lines on how ``yours`` differs from ``ref`` (both in the working view)."""
    a = np.asarray(yours, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    if _norm(r) == 0:
        return []
    if not np.any(a):
        return [f"{name} is exactly zero everywhere: the backward looks unfinished (a "
                "placeholder like np.zeros_like still returned?)."]
    k = float(np.sum(a * r) / np.sum(r * r))
    if abs(k - 1) > 1e-6 and _fits(a - k * r, r, tol):
        text = _factor_text(k, count)
        what = f"{text} ({k:.6g})" if text else f"{k:.6g}"
        return [f"{name} is the right answer times {what}: usually "
                f"{_causes(text or '')}."]
    if name != "dx":
        return []
    g = np.asarray(gamma, dtype=np.float64)
    if np.all(g != 0) and _fits(a * g - r, r, tol):
        return ["dx is the right answer divided by γ: γ is missing from the gradient reaching "
                "x̂ (it is dout·γ, not dout)."]
    diff = a - r
    xh = np.asarray(x_hat, dtype=np.float64)
    const = diff.mean(axis=axes, keepdims=True) * np.ones_like(diff)
    denom = np.maximum((xh * xh).sum(axis=axes, keepdims=True), 1e-300)
    slope = (diff * xh).sum(axis=axes, keepdims=True) / denom * xh
    if _fits(diff - const, diff, tol):
        return ["dx is off by the same amount down each column (constant over the normalised "
                "axes): the mean's term is missing or wrong (the path x → mean, "
                "−mean(dout·γ)/σ)."]
    if _fits(diff - slope, diff, tol):
        return ["dx is off by a multiple of x̂ in each column: the variance's term is missing "
                "or wrong (the path x → var, −x̂·mean(dout·γ·x̂)/σ; a count of N vs N − 1 or "
                "a lost factor 2 or 1/2 lands here)."]
    if _fits(diff - const - slope, diff, tol):
        return ["dx is off by a constant plus a multiple of x̂ in each column: both the mean's "
                "and the variance's terms are off."]
    return []


def _normalised(x: Array, gamma: Array, beta: Array, eps: float, axes: tuple[int, ...],
                ddof: int) -> Array | None:
    count = int(np.prod([x.shape[i] for i in axes]))
    if count <= ddof:
        return None
    mean = x.mean(axis=axes, keepdims=True)
    var = ((x - mean) ** 2).sum(axis=axes, keepdims=True) / (count - ddof)
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _axes_text(axes: tuple[int, ...]) -> str:
    return f"axis {axes[0]}" if len(axes) == 1 else f"axes {', '.join(map(str, axes))}"


def diagnose_out(yours: Array, *, x: Array, gamma: Array, beta: Array, eps: float,
                 axes: tuple[int, ...], bessel: bool, tol: float = 1e-6) -> list[str]:
    """A line on how the forward output ``yours`` (working view) was normalised, if it fits
    another normalisation: over other axes, or with the other variance."""
    a = np.asarray(yours, dtype=np.float64)
    x64 = np.asarray(x, dtype=np.float64)
    args = (np.asarray(gamma, np.float64), np.asarray(beta, np.float64), eps)
    ddof = 1 if bessel else 0
    other = _normalised(x64, *args, axes, 1 - ddof)
    if other is not None and _fits(a - other, a, tol):
        have, want = ("N − 1 (Bessel's correction)", "N") if not bessel else ("N", "N − 1")
        return [f"out divides the variance by {have}; this layer divides by {want}"
                + (" (--bessel grades makemore's N − 1)." if not bessel else ".")]
    for k in range(1, x64.ndim + 1):
        for cand in itertools.combinations(range(x64.ndim), k):
            if cand == axes:
                continue
            got = _normalised(x64, *args, cand, ddof)
            if got is not None and _fits(a - got, a, tol):
                return [f"out is normalised over {_axes_text(cand)} of x; this layer "
                        f"normalises over {_axes_text(axes)} (the statistics are taken over "
                        "the wrong axes)."]
    return []
