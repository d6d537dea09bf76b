"""`format_explain`: the numbers of `autograd_bn.check.explain.explain_report` as a short text."""

from __future__ import annotations

from typing import Any

from autograd_bn.text.numbers import format_number as fmt
from autograd_bn.text.numbers import problem_text


def _vector(values: list[float], limit: int = 6) -> str:
    shown = " ".join(fmt(v) for v in values[:limit])
    return f"[{shown}{' …' if len(values) > limit else ''}]"


def format_explain(report: dict[str, Any]) -> str:
    """The explanation as text (lines of at most 100 characters)."""
    r, s = report["this_run"], report["seed_setting"]
    n, dt = r["N"], r["dtype"]
    lines = [
        f"Why keeping dL_mu2 changes dx, measured on this run "
        f"({problem_text(n, r['D'], r['seed'], dt)}).",
        "S = sum over the batch (axis 0). Every number below was computed just now.",
        "",
        "1. dv/dmu = -(2/N)·S(x - mu) is exactly 0 in real arithmetic: mu = S(x)/N, so",
        "   S(x - mu) = S(x) - N·mu = 0. As computed in " + dt + ":",
        f"     S(x - mu) per column = {_vector(r['sum_x_minus_mean'])}  "
        f"max {fmt(r['sum_x_minus_mean_max_abs'])}",
        f"     dv/dmu max {fmt(r['dv_dmean_max_abs'])};  S(x_hat) max "
        f"{fmt(r['sum_x_hat_max_abs'])}",
        "   That is rounding residue, of the order N·max|x|·(machine epsilon) = "
        f"{fmt(r['rounding_scale'])}.",
        (f"2. The term itself is not small: max|dL_mu2| = {fmt(r['dL_mu2_max_abs'])}. "
         if r["dL_mu2_max_abs"] > 0 else "2. Here max|dL_mu2| = 0 (x_hat is 0: one row). ")
        + "What reaches dx is its",
        "   batch sum S(dL_mu2) = S(dx_scaled·x_hat)·S(x_hat), added to every row: max "
        f"{fmt(r['sum_dL_mu2_max_abs'])}.",
    ]
    if n > 1:
        lines += [
            f"   (The chain rule's own term is S(dL_mu2)/N, max "
            f"{fmt(r['chain_rule_term_max_abs'])}: the seed's code keeps it N = {n} times",
            "   too large.)",
        ]
    lines += [
        f"3. It moves dx by max|dx_with - dx_without| = "
        f"{fmt(r['dx_with_minus_without_max_abs'])}, where max|dx| = {fmt(r['dx_max_abs'])}",
        "   (not exactly the term's size: adding it to dx is itself rounded).",
        f"   Against autograd: with dL_mu2 rel error {fmt(r['with_vs_autograd_rel_error'])} "
        f"(max |diff| {fmt(r['with_vs_autograd_max_abs'])}), without "
        f"{fmt(r['without_vs_autograd_rel_error'])} "
        f"({fmt(r['without_vs_autograd_max_abs'])}).",
    ]
    if r["autograd_vs_numerical_rel_error"] is None:
        lines.append("4. (The numerical gradient was skipped in this run.)")
    else:
        num = r["autograd_vs_numerical_rel_error"]
        spread = abs(r["with_vs_numerical_rel_error"] - r["without_vs_numerical_rel_error"])
        lines += [
            f"4. Against the numerical gradient (float64, h = 1e-5) dx reads: autograd "
            f"{fmt(num)}, with dL_mu2",
            f"   {fmt(r['with_vs_numerical_rel_error'])}, without "
            f"{fmt(r['without_vs_numerical_rel_error'])} (they differ by {fmt(spread)}).",
        ]
        if spread <= 0.01 * num:
            lines.append("   That shared error is the numerical gradient's own; against it "
                         "the term cannot be seen.")
        else:
            lines.append("   Here the rounding noise (of the term and of the dtype) exceeds "
                         "the numerical gradient's own")
            lines.append("   error, so the difference shows even against it.")
    ratio = s["worst_entry_diff"] / max(1e-8, 2 * abs(s["worst_entry_dx"]))
    lines += [
        "5. The seed's 1e-10 vs 5e-13 do not come from the numerical-gradient check (item 4). They",
        "   match cs231n's other check, batchnorm_backward against batchnorm_backward_alt on",
        "   N=100, D=500, seed 231, float64; recomputed now, each dx against the staged (graph)",
        "   pass, as the seed compared them:",
        f"     seed's chain rule, keeps dL_mu2    rel error {fmt(s['with_vs_staged_rel_error'])}"
        f"   max |diff| {fmt(s['with_vs_staged_max_abs'])}",
        f"     the same, dL_mu2 dropped (cs231n)  rel error "
        f"{fmt(s['without_vs_staged_rel_error'])}   max |diff| "
        f"{fmt(s['without_vs_staged_max_abs'])}",
        f"     the same, S(dL_mu2)/N (chain rule) rel error "
        f"{fmt(s['chain_rule_vs_staged_rel_error'])}   max |diff| "
        f"{fmt(s['chain_rule_vs_staged_max_abs'])}",
        f"     compact (batchnorm_backward_alt)   rel error "
        f"{fmt(s['compact_vs_staged_rel_error'])}   max |diff| "
        f"{fmt(s['compact_vs_staged_max_abs'])}",
        f"   There S(x - mu) is up to {fmt(s['sum_x_minus_mean_max_abs'])} and the term adds "
        f"up to {fmt(s['sum_dL_mu2_max_abs'])} to every row.",
        "   cs231n's relative error divides by |a| + |b|: at the worst entry dx = "
        f"{fmt(s['worst_entry_dx'])} and the",
        f"   difference is {fmt(s['worst_entry_diff'])}, which reads as "
        f"{fmt(s['worst_entry_diff'])} / (2·{fmt(abs(s['worst_entry_dx']))}) = "
        f"{fmt(ratio)}.",
        "So: the derivative along that path is exactly zero. Keeping dL_mu2 adds rounding noise "
        "of size",
        f"|S(dx_scaled·x_hat)·S(x_hat)| (item 2: max {fmt(r['sum_dL_mu2_max_abs'])} here; it "
        f"moved dx by {fmt(r['dx_with_minus_without_max_abs'])}) and nothing",
        "else, which only an elementwise relative error on a near-zero dx makes look large. "
        "Dropping it is",
        "not more correct, only less noisy.",
    ]
    return "\n".join(lines)
