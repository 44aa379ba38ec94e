"""Residual correlation structures of Gaussian models, brms's syntax: ``ar(time = t, gr = g, p = 1)`` and
``cosy(gr = g)`` (NumPy only; the likelihood is in :mod:`bayesmixed.backends.pymc`).

AR(1)
    Within each level of ``gr``, the residuals ``e = y − η`` ordered by ``time`` follow a stationary AR(1)
    process with marginal SD ``sigma`` and lag-one correlation ``φ`` (``ar[1]``), as ``nlme::corAR1`` (whose
    ``sigma`` is also the marginal residual SD): ``corr(e_s, e_t) = φ^|t − s|``. The density is evaluated
    exactly, in O(n), as a product of conditionals: the first residual of a series ``N(0, σ²)``, each later one
    ``N(φ^Δ e_prev, σ² (1 − φ^{2Δ}))`` with ``Δ`` the (whole) time step from the previous observation of its
    series, so gaps in time are allowed. brms's default ``ar()`` (``cov = FALSE``) writes the same process with
    ``sigma`` the SD of the innovations, ``σ_ε = σ √(1 − φ²)``.
compound symmetry
    ``corr(e_s, e_t) = ρ`` (``cosy``) for two residuals of one level of ``gr``, marginal SD ``sigma``. For
    ``ρ ≥ 0`` this is exactly a random intercept per level with SD ``√ρ σ`` and residual SD ``√(1 − ρ) σ``, which
    is how the model is built (so every parameterisation, the exact marginal one included, applies); ``cosy`` is
    restricted to ``[0, 1)`` (a negative within-group correlation, possible down to ``−1/(n_g − 1)``, has no
    such representation and is not supported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import Call, Expr, Name, Num, expr_to_str
from .evaluate import bind_args, not_whole

__all__ = ["Autocor", "autocor_spec", "build_autocor", "autocor_columns"]


@dataclass(frozen=True)
class AutocorSpec:
    """A parsed ``ar()`` / ``cosy()`` call."""

    call: Call
    kind: str  # "ar" | "cosy"
    time: str | None
    gr: str | None
    p: int = 1


@dataclass(frozen=True)
class Autocor:
    """A residual correlation structure on the fitted rows.

    Attributes
    ----------
    kind
        ``"ar"`` or ``"cosy"``.
    text
        The call as written (``ar(time = Visit, gr = Mare)``).
    time, gr
        The time and grouping columns (``None``: row order / one series).
    prev
        ``(n,)`` row index of the previous observation of the same series in time order, ``-1`` for the first.
    lag
        ``(n,)`` time step from that observation (whole numbers ≥ 1; 0 for the first of a series).
    """

    kind: str
    text: str
    time: str | None
    gr: str | None
    prev: np.ndarray
    lag: np.ndarray


def _name(v: Expr, arg: str, where: str) -> str | None:
    if isinstance(v, Name) and v.name in ("NA", "NULL"):  # brms: not given
        return None
    if not isinstance(v, Name):
        raise DataError(f"{where}: {arg} = must name a column of the data, got {expr_to_str(v)}")
    return v.name


def autocor_spec(calls: tuple[Call, ...]) -> AutocorSpec | None:
    """Parse the formula's residual correlation term (at most one)."""
    if not calls:
        return None
    if len(calls) > 1:
        raise DataError(
            f"the formula has {len(calls)} residual correlation terms ({', '.join(expr_to_str(c) for c in calls)}); "
            "give at most one"
        )
    call = calls[0]
    where = expr_to_str(call)
    params = ("time", "gr", "p", "cov") if call.func == "ar" else ("time", "gr")
    bound = bind_args(call, call.func, params, where)
    time = _name(bound["time"], "time", where) if "time" in bound else None
    gr = _name(bound["gr"], "gr", where) if "gr" in bound else None
    p = 1
    if "p" in bound:
        v = bound["p"]
        if not isinstance(v, Num) or v.value != 1:
            raise DataError(f"{where}: only first-order autoregression (p = 1) is supported, got p = {expr_to_str(v)}")
    if "cov" in bound and not (isinstance(bound["cov"], Name) and bound["cov"].name in ("FALSE", "F", "TRUE", "T")):
        raise DataError(f"{where}: cov = must be TRUE or FALSE")
    return AutocorSpec(call, call.func, time, gr, p)


def autocor_columns(spec: AutocorSpec | None) -> list[str]:
    """The data columns a residual correlation term reads."""
    if spec is None:
        return []
    return [c for c in (spec.time, spec.gr) if c is not None]


def build_autocor(spec: AutocorSpec, data: pd.DataFrame) -> Autocor:
    """The series structure of ``spec`` on the (complete) rows of ``data``, with a :class:`~bayesmixed.errors.DataError` for a
    time column that is not whole numbers or a time that repeats within a series."""
    where = expr_to_str(spec.call)
    n = len(data)
    if spec.gr is not None:
        g = data[spec.gr]
        codes = pd.factorize(g.astype(str) if not isinstance(g.dtype, pd.CategoricalDtype) else g, sort=True)[0]
    else:
        codes = np.zeros(n, dtype=np.int64)
    if spec.time is not None:
        s = data[spec.time]
        if not pd.api.types.is_numeric_dtype(s.dtype) or pd.api.types.is_bool_dtype(s.dtype):
            raise DataError(
                f"{where}: the time variable {spec.time!r} must be whole numbers (time points 1, 2, 3 ... in each "
                f"series), got dtype {s.dtype}; number the observations, e.g. data.groupby(g).cumcount() + 1"
            )
        t = s.to_numpy(dtype=float)
        frac = not_whole(t)
        if frac.any():
            i = int(np.argmax(frac))
            raise DataError(
                f"{where}: the time variable {spec.time!r} must be whole numbers (time points 1, 2, 3 ... in each "
                f"series), but row {data.index[i]!r} has {t[i]:g}; number the observations in time order instead, "
                "e.g. data.groupby(g).cumcount() + 1"
            )
        t = np.round(t)
    else:
        t = np.zeros(n)
        for c in np.unique(codes):  # row order within each series
            idx = np.flatnonzero(codes == c)
            t[idx] = np.arange(len(idx))
    order = np.lexsort((t, codes))
    sc, st = codes[order], t[order]
    same = np.concatenate([[False], sc[1:] == sc[:-1]])
    dup = same & (np.concatenate([[np.nan], st[:-1]]) == st)
    if dup.any():
        i = order[int(np.argmax(dup))]
        grp = f" in the series {data[spec.gr].iloc[i]!r} of {spec.gr!r}" if spec.gr else ""
        raise DataError(
            f"{where}: the time {t[i]:g} appears more than once{grp} (e.g. row {data.index[i]!r}); each series "
            "needs distinct time points: check gr = (one series per level) or the time column"
        )
    prev = np.full(n, -1, dtype=np.int64)
    lag = np.zeros(n)
    prev[order[same]] = order[np.flatnonzero(same) - 1]
    lag[order[same]] = st[same] - np.concatenate([[0.0], st[:-1]])[same]
    prev.flags.writeable = False
    lag.flags.writeable = False
    return Autocor(spec.kind, expr_to_str(spec.call), spec.time, spec.gr, prev, lag)
