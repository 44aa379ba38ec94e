"""Efficiency and convergence metrics (see shared/docs/BENCHMARKS.md).

All ESS and R-hat values are the rank-normalised versions (arviz here, the
``posterior`` R package for the R tools; both implement Vehtari et al. 2021).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def param_summary(draws: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Mean, SD, bulk/tail ESS and R-hat of each ``(chain, draw)`` array."""
    import arviz as az

    out = {}
    for name, arr in draws.items():
        arr = np.asarray(arr, dtype=float)
        out[name] = {
            "mean": float(arr.mean()),
            "sd": float(arr.std(ddof=1)),
            "ess_bulk": float(az.ess(arr, method="bulk")),
            "ess_tail": float(az.ess(arr, method="tail")),
            "rhat": float(az.rhat(arr)),
        }
    return out


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def efficiency(
    params: dict[str, dict[str, float]],
    *,
    wall_s: float | None,
    n_chains: int,
    n_draws: int,
    n_steps_total: float | None,
    divergences: int | None,
) -> dict[str, Any]:
    """Headline metrics from a per-parameter summary.

    Args:
        params: output of :func:`param_summary` (or the R equivalent).
        wall_s: wall time of the whole fit call (build + compile + sample).
        n_chains, n_draws: chains and post-warmup draws per chain.
        n_steps_total: leapfrog steps (gradient evaluations) summed over all
            post-warmup draws of all chains.
        divergences: post-warmup divergent transitions.

    Returns:
        ``min_ess_bulk`` (+ the parameter attaining it), ``min_ess_tail``,
        ``max_rhat``, ``ess_per_s`` (min bulk ESS / wall), ``ess_per_draw``
        (min bulk ESS / total draws), ``grad_per_draw`` (n_steps / total
        draws), ``divergences``, ``total_draws``.
    """
    total = n_chains * n_draws
    out: dict[str, Any] = {"total_draws": total, "divergences": divergences}
    if params:
        worst = min(params, key=lambda k: params[k]["ess_bulk"] if math.isfinite(params[k]["ess_bulk"]) else -1)
        min_bulk = params[worst]["ess_bulk"]
        out["min_ess_bulk"] = _finite(min_bulk)
        out["min_ess_bulk_param"] = worst
        out["min_ess_tail"] = _finite(min(p["ess_tail"] for p in params.values()))
        rhats = [p["rhat"] for p in params.values()]
        out["max_rhat"] = float("inf") if any(not math.isfinite(r) for r in rhats) else max(rhats)
        out["ess_per_draw"] = _finite(min_bulk / total) if total else None
        out["ess_per_s"] = _finite(min_bulk / wall_s) if wall_s else None
    out["grad_per_draw"] = (n_steps_total / total) if (n_steps_total is not None and total) else None
    return out


def sample_stats_totals(idata) -> tuple[float | None, int | None]:
    """Sum of ``n_steps`` and of ``diverging`` over the post-warmup sample stats."""
    ss = getattr(idata, "sample_stats", None)
    if ss is None:
        return None, None
    steps = float(ss["n_steps"].values.sum()) if "n_steps" in ss else None
    div = int(ss["diverging"].values.sum()) if "diverging" in ss else None
    return steps, div


def is_trustworthy(rec: dict[str, Any], rhat_max: float = 1.01) -> bool:
    """A result counts only without divergences and with every R-hat <= 1.01."""
    return (
        rec.get("status") == "ok"
        and (rec.get("divergences") or 0) == 0
        and rec.get("max_rhat") is not None
        and rec["max_rhat"] <= rhat_max
    )
