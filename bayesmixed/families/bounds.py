"""Weighted, censored and truncated likelihoods of any family: brms's response terms ``weights()``, ``cens()`` and
``trunc()``, in NumPy (pointwise log-likelihood, LOO), in PyTensor (the PyMC model) and as random draws.

Semantics (as brms 2.18 writes its Stan code, ``stan_log_lik_cens`` and ``stan_log_lik_trunc``), with ``F`` the
family's CDF ``P(Y ≤ y)`` (:meth:`~bayesmixed.families.Family.logcdf`):

==============  =========  ========================================================================
``cens``        code       log-likelihood of the row
==============  =========  ========================================================================
``"none"``      0          ``log f(y)``
``"right"``     1          ``log P(Y > y) = log(1 − F(y))``: the value is above ``y``
``"left"``      -1         ``log P(Y ≤ y) = log F(y)``: the value is at most ``y``
``"interval"``  2          ``log(F(y2) − F(y))``: the value lies in ``(y, y2]``
==============  =========  ========================================================================

Truncation to ``[lb, ub]`` subtracts ``log(F(ub) − F(lb))`` from every row's log-likelihood (``F(lb − 1)`` for
discrete families, whose lower bound is inclusive: ``P(lb ≤ Y ≤ ub)``). Weights multiply each row's
log-likelihood, the truncation normaliser included (``w · (log f(y) − log Z)``; brms 2.18 does the same without
censoring, and multiplies only the first term when a row is also censored). The pointwise log-likelihood that
LOO and WAIC use is the weighted one, as brms's ``log_lik`` returns it: a row of weight 2 counts as two rows.

Random draws (predictions, posterior predictive checks, simulation) respect truncation and ignore censoring
and weights: a new response is drawn from the truncated family, not censored (brms's ``posterior_predict``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .base import Family, log1mexp

__all__ = ["CENS_CODES", "CENS_NAMES", "logpdf", "logp_pt", "draw", "has_bounds"]

#: brms's censoring codes by name
CENS_CODES: dict[str, int] = {"left": -1, "none": 0, "right": 1, "interval": 2}
#: names by code
CENS_NAMES: dict[int, str] = {v: k for k, v in CENS_CODES.items()}


def has_bounds(lb: np.ndarray | None, ub: np.ndarray | None) -> bool:
    """Whether any row is truncated (a finite bound)."""
    return (lb is not None and bool(np.any(np.isfinite(lb)))) or (ub is not None and bool(np.any(np.isfinite(ub))))


def _cols(v: Any, idx: np.ndarray, n: int) -> Any:
    """Columns ``idx`` of a per-row array (last axis of length ``n``); scalars and per-draw ``(S, 1)`` values
    as they are."""
    if v is None:
        return None
    a = np.asarray(v) if not hasattr(v, "ndim") or isinstance(v, np.ndarray) else v
    if getattr(a, "ndim", 0) and a.shape[-1] == n and n > 1:
        return a[..., idx]
    return v


def _lower(fam: Family, lb: np.ndarray) -> np.ndarray:
    """The value whose CDF is the probability below the truncation bound (``lb − 1`` for counts)."""
    return lb - 1.0 if fam.discrete else lb


def _logdiffexp(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``log(exp(a) − exp(b))`` for ``a ≥ b``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a + log1mexp(b - a)


def log_normaliser(fam: Family, eta, aux, trials, lb, ub) -> np.ndarray:
    """``log(F(ub) − F(lb))`` per element of ``eta`` (NumPy; ``lb``, ``ub`` per row, ±inf where unbounded)."""
    n = np.shape(eta)[-1]
    out = np.zeros(np.shape(eta))
    lo = np.full(n, -np.inf) if lb is None else np.asarray(lb, dtype=float)
    hi = np.full(n, np.inf) if ub is None else np.asarray(ub, dtype=float)
    for has_lo, has_hi in ((True, False), (False, True), (True, True)):
        rows = np.flatnonzero((np.isfinite(lo) == has_lo) & (np.isfinite(hi) == has_hi))
        if not len(rows):
            continue
        e, a, t = eta[..., rows], {k: _cols(v, rows, n) for k, v in aux.items()}, _cols(trials, rows, n)
        lower = _lower(fam, lo[rows])
        if has_lo and not has_hi:
            out[..., rows] = fam.logsf(lower, e, a, t)
        elif has_hi and not has_lo:
            out[..., rows] = fam.logcdf(hi[rows], e, a, t)
        else:
            out[..., rows] = _logdiffexp(fam.logcdf(hi[rows], e, a, t), fam.logcdf(lower, e, a, t))
    return out


def logpdf(
    fam: Family,
    y: np.ndarray,
    eta: np.ndarray,
    aux: dict[str, np.ndarray],
    trials: np.ndarray | None = None,
    *,
    weights: np.ndarray | None = None,
    cens: np.ndarray | None = None,
    y2: np.ndarray | None = None,
    lb: np.ndarray | None = None,
    ub: np.ndarray | None = None,
) -> np.ndarray:
    """Pointwise log-likelihood with response terms (NumPy), shaped like ``eta`` (``(S, n)`` or ``(n,)``).

    Parameters
    ----------
    fam
        The family.
    y, eta, aux, trials
        As :meth:`~bayesmixed.families.Family.logpdf`.
    weights
        Per-row likelihood weights, or None.
    cens
        Per-row censoring codes (-1, 0, 1, 2; see the module docstring), or None.
    y2
        Upper ends of interval-censored rows (ignored elsewhere).
    lb, ub
        Per-row truncation bounds (±inf where unbounded), or None.
    """
    y = np.asarray(y, dtype=float)
    n = y.shape[-1]
    if cens is None or not np.any(cens != 0):
        out = fam.logpdf(y, eta, aux, trials)
    else:
        out = np.empty(np.broadcast_shapes(np.shape(eta), y.shape))
        for code in (0, 1, -1, 2):
            rows = np.flatnonzero(cens == code)
            if not len(rows):
                continue
            yy, e = y[rows], eta[..., rows]
            a, t = {k: _cols(v, rows, n) for k, v in aux.items()}, _cols(trials, rows, n)
            if code == 0:
                out[..., rows] = fam.logpdf(yy, e, a, t)
            elif code == 1:
                out[..., rows] = fam.logsf(yy, e, a, t)
            elif code == -1:
                out[..., rows] = fam.logcdf(yy, e, a, t)
            else:
                out[..., rows] = _logdiffexp(fam.logcdf(np.asarray(y2, dtype=float)[rows], e, a, t), fam.logcdf(yy, e, a, t))
    if has_bounds(lb, ub):
        out = out - log_normaliser(fam, eta, aux, trials, lb, ub)
    if weights is not None:
        out = out * np.asarray(weights, dtype=float)
    return out


# ------------------------------------------------------------------------------------------------ PyTensor
def _take_pt(v: Any, idx: np.ndarray, n: int) -> Any:
    """Rows ``idx`` of a per-row PyTensor vector or array (length ``n``); scalars as they are."""
    if v is None:
        return None
    return v[idx] if getattr(v, "ndim", 0) >= 1 else v


def _logdiffexp_pt(a, b):
    import pytensor.tensor as pt

    return a + pt.log1mexp(b - a)


def logp_pt(
    fam: Family,
    y,
    eta,
    aux: dict,
    trials=None,
    *,
    n: int,
    data=None,
    weights: np.ndarray | None = None,
    cens: np.ndarray | None = None,
    y2: np.ndarray | None = None,
    lb: np.ndarray | None = None,
    ub: np.ndarray | None = None,
):
    """The total log-likelihood with response terms as a PyTensor scalar (a ``pm.Potential`` of the model).

    ``y``, ``eta``, ``trials`` and per-row auxiliaries are PyTensor vectors of length ``n``; ``weights``,
    ``cens``, ``y2``, ``lb``, ``ub`` NumPy arrays. Each kind of row (uncensored, right-, left-,
    interval-censored; bounded below, above, on both sides) gets its own PyMC distribution over its rows only,
    so that no branch is evaluated where it is infinite (a log survival of a row far in the right tail would be
    ``-inf``, and its gradient ``nan`` even where unused). ``data(name, value)`` makes the data containers of
    the model (the rows of each kind, their weights, ``y2`` and bounds; by default constants), so that a
    compiled model can be reused on other data of the same shapes.
    """
    import pymc as pm
    import pytensor.tensor as pt

    data = data or (lambda name, value: pt.as_tensor(value))

    def dist(rows):
        return fam.pymc_dist(_take_pt(eta, rows, n), {k: _take_pt(v, rows, n) for k, v in aux.items()},
                             _take_pt(trials, rows, n))

    w = None if weights is None else np.asarray(weights, dtype=float)

    def total(rows, value, key):
        return pt.sum(value * data(f"_rt_w_{key}", w[rows])) if w is not None else pt.sum(value)

    codes = np.zeros(n, dtype=np.int64) if cens is None else np.asarray(cens)
    parts = []
    for code, key in ((0, "obs"), (1, "right"), (-1, "left"), (2, "interval")):
        idx = np.flatnonzero(codes == code)
        if not len(idx):
            continue
        if code == 0 and len(idx) == n:  # every row observed: the family's own log density (ordinal ones too)
            parts.append(total(idx, fam.logp_eta(y, eta, aux, trials), key))
            continue
        rows = data(f"_rt_rows_{key}", idx)
        d, yy = dist(rows), _take_pt(y, rows, n)
        if code == 0:
            value = pm.logp(d, yy)
        elif code == 1:
            value = pt.log1mexp(pm.logcdf(d, yy))
        elif code == -1:
            value = pm.logcdf(d, yy)
        else:
            value = _logdiffexp_pt(pm.logcdf(d, data("_rt_y2", np.asarray(y2, dtype=float)[idx])), pm.logcdf(d, yy))
        parts.append(total(idx, value, key))
    if has_bounds(lb, ub):
        lo = np.full(n, -np.inf) if lb is None else np.asarray(lb, dtype=float)
        hi = np.full(n, np.inf) if ub is None else np.asarray(ub, dtype=float)
        for has_lo, has_hi, key in ((True, False, "lb"), (False, True, "ub"), (True, True, "lbub")):
            idx = np.flatnonzero((np.isfinite(lo) == has_lo) & (np.isfinite(hi) == has_hi))
            if not len(idx):
                continue
            d = dist(data(f"_rt_rows_{key}", idx))
            if has_lo:
                lower = data(f"_rt_lower_{key}", _lower(fam, lo[idx]))
            if has_hi:
                upper = data(f"_rt_upper_{key}", hi[idx])
            if has_lo and not has_hi:
                z = pt.log1mexp(pm.logcdf(d, lower))
            elif has_hi and not has_lo:
                z = pm.logcdf(d, upper)
            else:
                z = _logdiffexp_pt(pm.logcdf(d, upper), pm.logcdf(d, lower))
            parts.append(-total(idx, z, key))
    return pt.sum(pt.stack(parts)) if len(parts) > 1 else parts[0]


# ------------------------------------------------------------------------------------------------ draws
#: rounds of rejection sampling before the remaining draws are taken by inverting the CDF
REJECTION_ROUNDS = 25


def draw(
    fam: Family,
    eta: np.ndarray,
    aux: dict[str, np.ndarray] | None,
    rng: np.random.Generator,
    trials: np.ndarray | None = None,
    lb: np.ndarray | None = None,
    ub: np.ndarray | None = None,
) -> np.ndarray:
    """Random responses (as :meth:`~bayesmixed.families.Family.draw`) from the family truncated to
    ``[lb, ub]`` per row: rejection sampling, then, for draws still outside after
    ``REJECTION_ROUNDS`` rounds (bounds far in a tail), the inverse of the CDF by bisection."""
    aux = aux or {}
    y = fam.draw(eta, aux, rng, trials)
    if not has_bounds(lb, ub):
        return y
    n = np.shape(y)[-1]
    lo = np.broadcast_to(-np.inf if lb is None else np.asarray(lb, dtype=float), (n,))
    hi = np.broadcast_to(np.inf if ub is None else np.asarray(ub, dtype=float), (n,))
    shape = y.shape
    full = {k: np.broadcast_to(v, shape) for k, v in aux.items()}
    e_full = np.broadcast_to(eta, shape)
    t_full = None if trials is None else np.broadcast_to(np.asarray(trials, dtype=float), shape)
    lo_full, hi_full = np.broadcast_to(lo, shape), np.broadcast_to(hi, shape)
    out = np.array(y, dtype=float)
    bad = (out < lo_full) | (out > hi_full)
    for _ in range(REJECTION_ROUNDS):
        if not bad.any():
            return out
        where = np.nonzero(bad)
        new = fam.draw(e_full[where], {k: v[where] for k, v in full.items()}, rng,
                       None if t_full is None else t_full[where])
        out[where] = new
        bad[where] = (new < lo_full[where]) | (new > hi_full[where])
    if bad.any():
        where = np.nonzero(bad)
        out[where] = _inverse_cdf(fam, e_full[where], {k: v[where] for k, v in full.items()},
                                  None if t_full is None else t_full[where], lo_full[where], hi_full[where], rng)
    return out


def _inverse_cdf(fam: Family, eta, aux, trials, lo, hi, rng) -> np.ndarray:
    """Draws of the truncated family by inverting its CDF: ``u ~ U(F(lo⁻), F(hi))``, ``y = F⁻¹(u)`` by
    bisection (on whole numbers for discrete families)."""
    m = len(eta)

    def cdf(v):
        return np.exp(fam.logcdf(v, eta, aux, trials))

    f_lo = np.where(np.isfinite(lo), cdf(np.where(np.isfinite(lo), _lower(fam, lo), 0.0)), 0.0)
    f_hi = np.where(np.isfinite(hi), cdf(np.where(np.isfinite(hi), hi, 0.0)), 1.0)
    u = f_lo + rng.random(m) * (f_hi - f_lo)
    # a bracket [a, b] with F(a) < u ≤ F(b)
    mean = np.asarray(fam.mean(eta, aux, trials), dtype=float)
    step = np.maximum(np.abs(mean), 1.0)
    a = np.where(np.isfinite(lo), _lower(fam, lo), mean - step)
    b = np.where(np.isfinite(hi), hi, mean + step)
    if fam.discrete:
        a, b, step = np.floor(a), np.ceil(b), np.ceil(step)
    for _ in range(200):
        low = ~np.isfinite(lo) & (cdf(a) >= u)
        high = ~np.isfinite(hi) & (cdf(b) < u)
        if not (low.any() or high.any()):
            break
        a = np.where(low, a - step, a)
        b = np.where(high, b + step, b)
        step = np.where(low | high, 2 * step, step)
    for _ in range(200):
        if fam.discrete and np.all(b - a <= 1):
            break
        mid = np.floor((a + b) / 2) if fam.discrete else (a + b) / 2
        below = cdf(mid) < u
        a, b = np.where(below, mid, a), np.where(below, b, mid)
        if not fam.discrete and np.all(b - a <= 1e-10 * np.maximum(1.0, np.abs(b))):
            break
    return b
