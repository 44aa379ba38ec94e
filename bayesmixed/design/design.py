"""From a parsed formula and a data frame to a frozen :class:`Design`.

A :class:`Design` holds the response, the fixed-effect matrix ``X`` with its column names, an offset, and
one :class:`GroupBlock` per random-effect term. A block is its ``n × k`` expression columns plus integer
level codes: the dense ``n × (levels·k)`` matrix is never built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._warnings import warn_user
from ..errors import DataError
from ..formula.ast import Formula, GroupTerm, Response, expr_to_str
from ..formula.parser import parse_formula
from .evaluate import Categorical, State, check_columns, evaluate, expr_columns, is_categorical_series
from .matrix import model_matrix

__all__ = ["Design", "GroupBlock", "Encoding", "build_design", "check_estimable", "used_columns"]


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


@dataclass(frozen=True)
class GroupBlock:
    """One random-effect term.

    Attributes
    ----------
    label
        Unique name of the term, used in variable names (``sd_<label>``, ``r_<label>``): the grouping
        factor (``Subject``, ``batch:cask``), with ``_2``, ``_3`` appended when one factor has several terms.
    term
        The parsed term.
    coef_names
        Names of the ``k`` varying coefficients (``Intercept``, ``Days``).
    Z
        ``n × k`` expression columns.
    codes
        ``(n,)`` integer level of each row.
    levels
        Level labels (strings; ``a:b`` for interactions), in code order.
    """

    label: str
    term: GroupTerm
    coef_names: tuple[str, ...]
    Z: np.ndarray
    codes: np.ndarray
    levels: tuple[str, ...]

    @property
    def k(self) -> int:
        return len(self.coef_names)

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def correlated(self) -> bool:
        return self.term.correlated and self.k > 1

    @property
    def factor(self) -> str:
        return self.term.factor_label

    def counts(self) -> np.ndarray:
        """Number of rows per level."""
        return np.bincount(self.codes, minlength=self.n_levels)


@dataclass(frozen=True)
class Encoding:
    """Everything needed to encode new data the way the fitted data were encoded."""

    formula: Formula
    state: tuple[tuple[str, Any], ...]  # frozen copy of the transform state
    x_names: tuple[str, ...]
    block_labels: tuple[str, ...]
    block_levels: tuple[tuple[str, ...], ...]

    def state_dict(self) -> State:
        return dict(self.state)


@dataclass(frozen=True)
class Design:
    """Numbers the model is built from (frozen; arrays are read-only).

    Attributes
    ----------
    y
        Response (successes for binomial responses); float.
    trials
        Number of trials for binomial responses, else ``None``.
    X, x_names
        Fixed-effect matrix and its column names.
    offset
        Sum of ``offset()`` terms, or ``None``.
    blocks
        One :class:`GroupBlock` per random-effect term.
    rows
        Index labels of the rows of the user's data that were used (after dropping missing values).
    response_levels
        For a categorical (two-level) response: ``(failure, success)`` levels.
    frame
        The model frame (R's ``model.frame``): the used columns of the used rows of the user's data, as they
        were (a copy; index :attr:`rows`). Interpretation (:mod:`bayesmixed.interpret`: grids, contrasts,
        averages over the data) and ``Fit.update`` read the raw predictors from it; treat it as read-only.
        ``None`` for a Design that was built without one.
    """

    formula: Formula
    y: np.ndarray
    trials: np.ndarray | None
    X: np.ndarray
    x_names: tuple[str, ...]
    offset: np.ndarray | None
    blocks: tuple[GroupBlock, ...]
    rows: pd.Index
    encoding: Encoding
    response_levels: tuple[Any, Any] | None = None
    n_dropped: int = 0
    dropped_columns: tuple[str, ...] = field(default=())
    frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def response_label(self) -> str:
        return self.formula.response.label if self.formula.response else "y"

    def block(self, label: str) -> GroupBlock:
        for b in self.blocks:
            if b.label == label or b.factor == label:
                return b
        raise KeyError(
            f"no random-effect term {label!r}; the model has {', '.join(repr(b.label) for b in self.blocks) or 'none'}"
        )


def used_columns(formula: Formula) -> dict[str, str]:
    """Column name -> where it is used (for messages), in formula order."""
    out: dict[str, str] = {}
    if formula.response is not None:
        r = formula.response
        for c in expr_columns(r.expr) + (expr_columns(r.second) if r.second is not None else []):
            out.setdefault(c, "the response")
    for t in formula.terms:
        for f in t.factors:
            for c in expr_columns(f):
                out.setdefault(c, f"the term {t.label}")
    for o in formula.offsets:
        for c in expr_columns(o):
            out.setdefault(c, f"offset({expr_to_str(o)})")
    for g in formula.groups:
        for t in g.terms:
            for f in t.factors:
                for c in expr_columns(f):
                    out.setdefault(c, f"the random-effect term {g}")
        for c in g.factor:
            out.setdefault(c, f"the grouping factor of {g}")
    return out


def _block_labels(groups: tuple[GroupTerm, ...]) -> list[str]:
    labels: list[str] = []
    seen: dict[str, int] = {}
    for g in groups:
        base = g.factor_label
        seen[base] = seen.get(base, 0) + 1
        labels.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return labels


def _factor_codes(
    g: GroupTerm, data: pd.DataFrame, levels: tuple[str, ...] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    parts = []
    for c in g.factor:
        s = data[c]
        if pd.api.types.is_float_dtype(s.dtype):
            v = s.to_numpy(dtype=float, na_value=np.nan)
            with np.errstate(invalid="ignore"):
                whole = np.all(np.mod(v, 1) == 0) and np.all(np.abs(v) < 2.0**53)
            if whole:  # 3.0 and 3 name the same group
                s = pd.Series(v.astype(np.int64), index=s.index)
        parts.append(s.astype(str).to_numpy(dtype=object))
    keys = parts[0] if len(parts) == 1 else np.array([":".join(t) for t in zip(*parts)], dtype=object)
    if levels is None:
        if all(isinstance(data[c].dtype, pd.CategoricalDtype) for c in g.factor) and len(g.factor) == 1:
            cats = [str(x) for x in data[g.factor[0]].cat.categories]
            present = set(keys.tolist())
            levels = tuple(c for c in cats if c in present)
        else:
            levels = tuple(pd.unique(keys))
            try:
                levels = tuple(sorted(levels, key=lambda v: (0, float(v), v)))
            except ValueError:
                levels = tuple(sorted(levels))
    lookup = {lv: i for i, lv in enumerate(levels)}
    codes = np.array([lookup.get(k, -1) for k in keys.tolist()], dtype=np.int64)
    return codes, levels


def _response(
    r: Response, data: pd.DataFrame, state: State
) -> tuple[np.ndarray, np.ndarray | None, tuple[Any, Any] | None]:
    label = r.label
    levels = None
    v = evaluate(r.expr, data, state, True)
    if isinstance(v, Categorical):
        if len(v.levels) != 2:
            shown = ", ".join(map(repr, v.levels[:6])) + (" ..." if len(v.levels) > 6 else "")
            raise DataError(
                f"the response {label!r} is not numeric: it has {len(v.levels)} distinct values ({shown}). "
                "Use a numeric column, or a column with exactly two levels for family='bernoulli'"
            )
        y = v.codes.astype(float)
        levels = (v.levels[0], v.levels[1])
    else:
        y = v.values
    trials = None
    if r.kind in ("cbind", "trials"):
        w = evaluate(r.second, data, state, True)
        if isinstance(w, Categorical):
            raise DataError(f"{expr_to_str(r.second)} in the response {label!r} must be numeric counts")
        trials = y + w.values if r.kind == "cbind" else w.values
    return y, trials, levels


def build_design(formula: Formula | str, data: pd.DataFrame, missing: str = "drop") -> Design:
    """Validate ``data`` against ``formula`` and build the :class:`Design`.

    Parameters
    ----------
    formula
        Formula text or a parsed :class:`Formula`.
    data
        The user's data frame; never modified.
    missing
        ``"drop"`` (default): rows with a missing value in a used column are dropped with a warning;
        ``"raise"``: such rows raise a :class:`DataError`.
    """
    f = parse_formula(formula) if isinstance(formula, str) else formula
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame (or a dict of columns), got {type(data).__name__}")
    if f.response is None:
        raise DataError("the formula has no response; write it as y ~ ...")
    if len(data) == 0:
        raise DataError("the data frame is empty (0 rows); there is nothing to fit")
    if missing not in ("drop", "raise"):
        raise DataError(f"missing must be 'drop' or 'raise', got {missing!r}")
    used = used_columns(f)
    for col, where in used.items():
        check_columns([col], data, where)
    cols = list(used)
    sub = data[cols]
    na = sub.isna()
    bad_rows = na.any(axis=1)
    n_dropped = int(bad_rows.sum())
    dropped_cols: tuple[str, ...] = ()
    if n_dropped:
        counts = na.sum()
        dropped_cols = tuple(c for c in cols if counts[c] > 0)
        detail = ", ".join(f"{c!r} ({int(counts[c])})" for c in dropped_cols)
        if missing == "raise" or n_dropped == len(data):
            first = data.index[bad_rows][:5].tolist()
            msg = f"{n_dropped} of {len(data)} rows have missing values in used columns: {detail}; first rows: {first}."
            if n_dropped == len(data):
                raise DataError(msg + " No complete rows are left; check those columns")
            raise DataError(msg + " Drop or impute them, or pass missing='drop'")
        warn_user(f"dropped {n_dropped} of {len(data)} rows with missing values in {detail}")
    d = sub.loc[~bad_rows].copy() if n_dropped else sub.copy()
    state: State = {}
    y, trials, levels = _response(f.response, d, state)
    if not np.all(np.isfinite(y)):
        bad = d.index[~np.isfinite(y)][:5].tolist()
        n_bad = int((~np.isfinite(y)).sum())
        raise DataError(
            f"the response {f.response.label!r} is not finite ({y[~np.isfinite(y)][0]}) on {n_bad} row(s), "
            f"first rows {bad}: drop or fix those rows (for a transformed response check e.g. log of zero)"
        )
    X, x_names = model_matrix(f.terms, f.intercept, d, state, True, "the fixed effects")
    _check_finite(X, x_names, d)
    offset = None
    if f.offsets:
        offset = np.zeros(len(d))
        for o in f.offsets:
            v = evaluate(o, d, state, True)
            if isinstance(v, Categorical):
                raise DataError(f"offset({expr_to_str(o)}) must be numeric")
            offset = offset + v.values
        _check_finite(offset[:, None], ("offset",), d)
    blocks = []
    labels = _block_labels(f.groups)
    for g, label in zip(f.groups, labels):
        for c in g.factor:
            _check_grouping_column(d[c], c, g)
        codes, lv = _factor_codes(g, d, None)
        if len(lv) < 2:
            raise DataError(
                f"the grouping factor {g.factor_label!r} of {g} has only {len(lv)} level "
                f"({lv[0] if lv else 'none'}); a random effect needs at least two groups: "
                "drop the term or add the factor as a fixed effect"
            )
        Z, znames = model_matrix(
            tuple(t for t in g.terms if not t.is_intercept), g.has_intercept, d, state, True, str(g)
        )
        _check_finite(Z, znames, d)
        blocks.append(GroupBlock(label, g, znames, _frozen(Z), _frozen(codes), lv))
    enc = Encoding(
        formula=f,
        state=tuple(state.items()),
        x_names=x_names,
        block_labels=tuple(labels),
        block_levels=tuple(b.levels for b in blocks),
    )
    return Design(
        formula=f,
        y=_frozen(y),
        trials=None if trials is None else _frozen(trials),
        X=_frozen(X),
        x_names=x_names,
        offset=None if offset is None else _frozen(offset),
        blocks=tuple(blocks),
        rows=d.index.copy(),
        encoding=enc,
        response_levels=levels,
        n_dropped=n_dropped,
        dropped_columns=dropped_cols,
        frame=d,
    )


def _check_finite(M: np.ndarray, names: tuple[str, ...], d: pd.DataFrame) -> None:
    bad = ~np.isfinite(M)
    if bad.any():
        j = int(np.argmax(bad.any(axis=0)))
        rows = d.index[bad[:, j]][:5].tolist()
        value = M[:, j][bad[:, j]][0]
        raise DataError(
            f"{names[j]!r} is not finite ({value}) on {int(bad[:, j].sum())} row(s), first rows {rows}: "
            "check the data for infinite values and the transform (e.g. log of zero or of a negative number); "
            "drop or fix those rows"
        )


def _check_grouping_column(s: pd.Series, c: str, g: GroupTerm) -> None:
    """A grouping column must name groups: categories, integers, or whole (finite) numbers."""
    if is_categorical_series(s) or pd.api.types.is_integer_dtype(s.dtype):
        return
    if pd.api.types.is_float_dtype(s.dtype):
        vals = s.to_numpy(dtype=float, na_value=np.nan)
        inf = ~np.isfinite(vals)
        if inf.any():
            raise DataError(
                f"the grouping factor {c!r} of {g} holds infinite values on rows {s.index[inf][:5].tolist()}; "
                "a grouping factor should identify groups: fix those values or use an ID column"
            )
        frac = np.mod(vals, 1) != 0
        if frac.any():
            raise DataError(
                f"the grouping factor {c!r} of {g} holds non-integer numbers (e.g. {vals[frac][0]}); "
                "a grouping factor should identify groups: use an ID column"
            )
        return
    if pd.api.types.is_complex_dtype(s.dtype):
        raise DataError(
            f"the grouping factor {c!r} of {g} holds complex numbers; a grouping factor should identify groups: "
            "use an ID column"
        )


def check_estimable(design: Design) -> None:
    """Raise a :class:`DataError` when the fixed effects, or the varying coefficients of a random-effect
    term, cannot be told apart: a column that is 0 everywhere, constant beside the intercept, or a linear
    combination of other columns (rank-deficient ``X`` or ``Z``).

    :func:`build_design` builds such matrices (R's ``model.matrix`` does too); :class:`~bayesmixed.Model`
    calls this check, because the coefficients of such a model are identified by their priors alone.
    """
    _check_rank(design.X, design.x_names, "the fixed effects")
    for b in design.blocks:
        _check_rank(b.Z, b.coef_names, f"the random-effect term {b.term}")


#: relative size below which a column counts as a linear combination of the columns before it
RANK_TOL = 1e-9


def _check_rank(M: np.ndarray, names: tuple[str, ...], where: str) -> None:
    """Raise a :class:`DataError` naming the first column of ``M`` that is zero or (numerically) a linear
    combination of the columns before it: its coefficient could not be told apart from theirs.

    Columns are scaled to unit length first, so the check does not depend on the units of the data; a
    column counts as dependent when what is left of it after projecting out the earlier columns is below
    :data:`RANK_TOL` of its length.
    """
    n, p = M.shape
    if p == 0:
        return
    size = np.max(np.abs(M), axis=0)
    zero = size == 0
    if zero.any():
        j = int(np.argmax(zero))
        raise DataError(
            f"the column {names[j]!r} of {where} is 0 on every row (e.g. a combination of levels that no row has, "
            "or a predictor that is always 0), so its coefficient cannot be estimated; drop the term or the level"
        )
    U = M / size
    U = U / np.linalg.norm(U, axis=0)
    if p > n:
        raise DataError(
            f"{where} have {p} columns ({', '.join(map(repr, names[:6]))}{', ...' if p > 6 else ''}) but only {n} "
            "complete rows, so the coefficients cannot all be estimated; use fewer terms or more data"
        )
    R = np.linalg.qr(U, mode="r")
    resid = np.abs(np.diag(R))
    dependent = resid < RANK_TOL
    if not dependent.any():
        return
    j = int(np.argmax(dependent))
    coef, *_ = np.linalg.lstsq(U[:, :j], U[:, j], rcond=None)
    partners = [names[i] for i in range(j) if abs(coef[i]) > 1e-6] or list(names[:j])
    col = M[:, j]
    if partners == ["Intercept"] or (np.ptp(col) <= RANK_TOL * size[j] and "Intercept" in names[:j]):
        raise DataError(
            f"the column {names[j]!r} of {where} is constant (every row is {_fmt_value(col[0])}), so it cannot be "
            "told apart from the intercept; drop it (or remove the intercept with 0 + ...)"
        )
    raise DataError(
        f"the columns of {where} are collinear (rank deficient): {names[j]!r} is a linear combination of "
        f"{', '.join(map(repr, partners))}, so their coefficients cannot be told apart; drop {names[j]!r} "
        "or one of the others"
    )


def _fmt_value(v: float) -> str:
    """A number for messages, at 6 significant digits."""
    return f"{v:.6g}"
