"""Interpreting a fit as brms and marginaleffects users do: predictions, comparisons, slopes, conditional
effects and estimated marginal means.

Every function returns its posterior summary table together with the posterior draws it summarises (one
column of draws per table row, the same posterior draws in every column), so that identities hold draw by
draw: the average slope of ``Days`` in a Gaussian model without random effects in the predictions *is* the
posterior of ``beta[Days]``; a comparison of two levels *is* the difference of the two predictions. Each
result has a ``plot()`` method that returns a matplotlib figure (never shown).

Vocabulary
----------
``scale``
    ``"response"`` (default): the expected response ``g⁻¹(η)`` (a probability for binomial models; brms's
    ``posterior_epred``, marginaleffects' ``type="response"``); ``"link"``: the linear predictor η;
    ``"prediction"`` (predictions and conditional effects only): new responses drawn from the family
    (``posterior_predict``).
``re_formula`` (alias ``re_form``, lme4's name)
    Which random effects enter: ``None`` all of them; ``NA`` (``float("nan")``, ``pd.NA``, ``"NA"``), ``"~0"``
    or ``False`` none (population level); a formula such as ``"~ (1 | Subject)"`` only the terms of those
    grouping factors. :func:`conditional_effects` leaves them out by default, as brms does.
``newdata``
    ``None``: the rows the model was fitted to (their raw predictors,
    ``Design.frame``); ``"grid"``: one typical row (:func:`datagrid`); a dict: a grid with
    those values (``{"Days": [0, 5, 9]}``); or a data frame.
``by``
    ``False``: one estimate per row of ``newdata``; ``True``: their average; a column name or a list of
    them: averages within the groups of those columns (unweighted, as marginaleffects' ``by``). Averages
    are taken draw by draw. :func:`predictions` gives one estimate per row by default, :func:`comparisons`
    and :func:`slopes` the average (marginaleffects' ``avg_comparisons`` and ``avg_slopes``).

Typical values (the grid of :func:`datagrid` and :func:`conditional_effects`): numeric predictors at their
mean over the fitted rows, categorical ones at their reference (first) level, as brms's
``conditional_effects`` does; grouping factors are left out of a grid unless given, and a term whose
grouping factor is absent then contributes a new level's effect, drawn from the population distribution.

Family hook: the quantities come from :func:`bayesmixed.predict.predictive_draws`. When a family's
``kind="mean"`` draws have a trailing axis (category probabilities of ordinal and categorical families, in
``(S, m, C)``), every table here gains a ``category`` column and the plots draw one line per category; the
labels are the response's categories (``design.response_levels``), else ``0 … C-1``. Smooth terms (``s(x)``) need nothing here: grids are encoded through the formula like new data.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .design import Design
from .design.design import _frozen, smooth_columns
from .design.evaluate import _CATEGORICAL_FUNCS, _levels_of, expr_columns, is_categorical_series, numeric_column
from .errors import BayesMixedError, DataError
from .formula.ast import Call, Name
from .predict import encode_terms, predictive_draws
from .families import get_family, get_link
from .summaries import draw_index, interval

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "SCALES",
    "Variable",
    "Estimates",
    "ConditionalEffects",
    "EMMeans",
    "predictor_variables",
    "datagrid",
    "resolve_re_formula",
    "predictions",
    "comparisons",
    "slopes",
    "conditional_effects",
    "emmeans",
    "plot_estimates",
    "icc_at",
    "update_model",
    "FIT_DEFAULTS",
]

#: scale name -> ``kind`` of :func:`bayesmixed.predict.predictive_draws`
SCALES = {"response": "mean", "link": "link", "prediction": "response"}
_SUMMARY = ["mean", "sd", "lower", "upper"]
_NEW_LEVEL = "__new_level__"  # a grouping value no fitted level has: the term draws a new level's effect
_CHUNK = 5_000_000  # numbers per block of rows (draws x rows): memory of each array of draws, 40 MB


# ------------------------------------------------------------------------------------------------ variables
@dataclass(frozen=True)
class Variable:
    """A raw predictor column as the interpretation functions see it.

    Attributes
    ----------
    name
        Column name.
    kind
        ``"numeric"`` or ``"categorical"`` (strings, booleans, pandas categories, and numbers the formula
        reads through ``factor()``).
    levels
        Levels of a categorical variable in the encoding's order (the first is the reference).
    mean, sd, min, max
        Of a numeric variable over the fitted rows.
    """

    name: str
    kind: str
    levels: tuple = ()
    mean: float = math.nan
    sd: float = math.nan
    min: float = math.nan
    max: float = math.nan

    @property
    def typical(self) -> Any:
        """The mean of a numeric variable, the reference level of a categorical one."""
        return self.mean if self.kind == "numeric" else self.levels[0]


def _frame(design: Design) -> pd.DataFrame:
    if design.frame is None:
        raise BayesMixedError(
            "this fit holds no model frame (the raw predictors of its rows: a fit saved by an older bayesmixed), "
            "so averages over the data and typical values are unknown; pass newdata= (a data frame with the "
            "predictors) or refit the model"
        )
    return design.frame


def _factor_args(design: Design) -> set[str]:
    """Columns the formula reads through ``factor()``/``C()``/``as.factor()`` (categorical whatever their dtype)."""
    out: set[str] = set()

    def walk(e) -> None:
        if isinstance(e, Call):
            if e.func in _CATEGORICAL_FUNCS and len(e.args) == 1 and isinstance(e.args[0], Name):
                out.add(e.args[0].name)
            for a in e.args:
                walk(a)

    for d in design.predictors:
        f = d.formula
        for t in f.terms + tuple(t for g in f.groups for t in g.terms):
            for e in t.factors:
                walk(e)
    return out


def _predictor_names(design: Design) -> list[str]:
    """Columns of the fixed terms, the offsets and the random-effect expressions, in formula order (every
    predictor's formula: ``bf(..., sigma="~ x")`` adds ``x``)."""
    cols: list[str] = []
    for d in design.predictors:
        f = d.formula
        for t in f.terms:
            for e in t.factors:
                cols += expr_columns(e)
        for o in f.offsets:
            cols += expr_columns(o)
        for sm in f.smooths:
            cols += smooth_columns(sm)
        for g in f.groups:
            for t in g.terms:
                for e in t.factors:
                    cols += expr_columns(e)
    return list(dict.fromkeys(cols))


def _grouping_names(design: Design) -> list[str]:
    return list(dict.fromkeys(c for d in design.predictors for g in d.formula.groups for c in g.factor))


def predictor_variables(design: Design) -> dict[str, Variable]:
    """The raw predictors of a model (not its grouping factors), described from the fitted rows."""
    frame = _frame(design)
    factors = _factor_args(design)
    out = {}
    for c in _predictor_names(design):
        s = frame[c]
        if is_categorical_series(s) or c in factors:
            out[c] = Variable(c, "categorical", levels=_levels_of(s))
        else:
            x = numeric_column(s, c)
            out[c] = Variable(c, "numeric", mean=float(np.mean(x)), sd=float(np.std(x, ddof=1)) if len(x) > 1 else 0.0,
                              min=float(np.min(x)), max=float(np.max(x)))
    return out


def _variable(vars_: dict[str, Variable], name: str, what: str) -> Variable:
    if name not in vars_:
        raise DataError(f"{name!r} is not a predictor of the model; {what} takes one of {', '.join(map(repr, vars_))}")
    return vars_[name]


def datagrid(fit, **values) -> pd.DataFrame:
    """A grid of rows: every combination of the given values, the other predictors at typical values.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    **values
        Column -> value or list of values (predictors, grouping factors, or other columns such as the
        number of trials). Predictors not given take their typical value (numeric: mean over the fitted rows;
        categorical: reference level); grouping factors not given are left out.

    Returns
    -------
    pandas.DataFrame
        One row per combination, in the order of the keywords (the first varying slowest).

    Examples
    --------
    >>> grid = datagrid(fit, Days=[0, 5, 9])  # doctest: +SKIP
    """
    vars_ = predictor_variables(fit.design)
    cols: dict[str, list] = {}
    for name, v in values.items():
        cols[name] = list(v) if isinstance(v, (list, tuple, np.ndarray, pd.Series, pd.Index, range)) else [v]
        if not cols[name]:
            raise DataError(f"datagrid: no values given for {name!r}")
    idx = pd.MultiIndex.from_product(list(cols.values()), names=list(cols)) if cols else None
    grid = idx.to_frame(index=False) if idx is not None else pd.DataFrame(index=[0])
    for name, v in vars_.items():
        if name not in grid.columns:
            grid[name] = v.typical
    frame = _frame(fit.design)
    for name in grid.columns:  # keep the fitted dtypes (pandas categories, integers read as factors)
        if name in frame.columns and isinstance(frame[name].dtype, pd.CategoricalDtype):
            grid[name] = pd.Categorical(grid[name], categories=frame[name].cat.categories, ordered=frame[name].cat.ordered)
    return grid.reset_index(drop=True)


# ------------------------------------------------------------------------------------------------ re_formula
def _is_na(x) -> bool:
    if x is pd.NA or x is False:
        return True
    return isinstance(x, float) and math.isnan(x)


def resolve_re_formula(design: Design, re_formula) -> tuple[str, ...] | None:
    """Labels of the random-effect terms that ``re_formula`` keeps: ``None`` for all, ``()`` for none.

    ``None`` keeps all; ``NA``, ``"NA"``, ``"~0"``, ``"0"`` or ``False`` none; a one-sided formula such as
    ``"~ (1 | Subject)"`` the terms of those grouping factors (matched by factor); a list of term labels those.
    """
    if re_formula is None:
        return None
    if _is_na(re_formula):
        return ()
    labels = [b.label for b in design.all_blocks]
    if isinstance(re_formula, str):
        text = re_formula.strip()
        if text.replace(" ", "") in ("NA", "~0", "0", "~-1", "-1"):
            return ()
        from .formula import parse_formula

        f = parse_formula("y__ " + text if text.startswith("~") else "y__ ~ " + text)
        keep = []
        for g in f.groups:
            hit = [b.label for b in design.all_blocks if b.term.factor == g.factor]  # in every predictor (brms)
            if not hit:
                raise DataError(
                    f"re_formula {re_formula!r}: the model has no random-effect term grouped by {g.factor_label!r}; "
                    f"its terms: {', '.join(str(b.term) for b in design.all_blocks) or 'none'}"
                )
            keep += hit
        if f.terms:
            raise DataError(f"re_formula {re_formula!r} lists fixed terms; it selects random-effect terms only, "
                            "e.g. '~ (1 | Subject)', or NA for none")
        return tuple(dict.fromkeys(keep))
    if isinstance(re_formula, (list, tuple)):
        bad = [t for t in re_formula if t not in labels]
        if bad:
            raise DataError(f"re_formula: no random-effect term(s) {bad}; the model has {labels}")
        return tuple(re_formula)
    raise DataError(f"re_formula must be None, NA, '~0' or a formula such as '~ (1 | g)', got {re_formula!r}")


def _re_arg(re_formula, re_form, default):
    if re_formula is not _UNSET and re_form is not None:
        raise DataError("give re_formula= or re_form= (lme4's name for it), not both")
    if re_form is not None:
        return re_form
    return default if re_formula is _UNSET else re_formula


class _Unset:
    def __repr__(self) -> str:
        return "<default>"


_UNSET: Any = _Unset()


# ------------------------------------------------------------------------------------------------ draws
def _check_scale(scale: str, allowed=tuple(SCALES)) -> None:
    if scale not in allowed:
        raise DataError(f"scale must be one of {', '.join(map(repr, allowed))}, got {scale!r}")


@dataclass(frozen=True)
class _Context:
    """What every evaluation of one call shares: the fit, the scale, the terms, the draws and the seed."""

    fit: Any
    scale: str
    terms: tuple[str, ...] | None
    allow_new_levels: bool
    idx: np.ndarray
    seed: int
    trials: Any = None
    grid: bool = False  # rows of a grid: absent grouping factors stand for a new level

    def draws(self, data: pd.DataFrame, trials=None) -> np.ndarray:
        """Draws ``(S, m)`` (or ``(S, m, C)`` for category probabilities) of the quantity on ``data``."""
        design = self.fit.design
        data = data.reset_index(drop=True)
        terms = self.terms
        groups = "sample_new" if self.allow_new_levels else "include"
        if terms != ():
            kept = [b for b in design.all_blocks if not b.is_smooth and (terms is None or b.label in terms)]
            missing = {c for b in kept for c in b.term.factor if c not in data.columns}
            if missing and not (self.grid or self.allow_new_levels):
                raise DataError(
                    f"newdata lacks the grouping column(s) {sorted(missing)} of the random effects it includes: add "
                    "them, leave the random effects out (re_formula=NA), or pass allow_new_levels=True to draw a "
                    "new level's effects from the population"
                )
            if missing:  # a grid without the grouping factor: a new level's effect, drawn from the population
                data = data.assign(**{c: _NEW_LEVEL for c in missing})
                groups = "sample_new"
        else:
            groups = "exclude"
        rows = encode_terms(design, data, terms, groups, self.trials if trials is None else trials)
        return predictive_draws(self.fit, rows, groups, SCALES[self.scale], self.seed, self.idx, terms)


def _context(fit, scale, re_formula, allow_new_levels, ndraws, seed, trials=None) -> _Context:
    _check_scale(scale)
    terms = resolve_re_formula(fit.design, re_formula)
    idx = draw_index(fit.idata, ndraws, seed)
    return _Context(fit, scale, terms, bool(allow_new_levels), idx, int(seed), trials)


def _newdata(fit, newdata, ctx: _Context | None = None) -> tuple[pd.DataFrame, bool, _Context | None]:
    """The rows to evaluate, whether they are the fitted rows, and ``ctx`` marked as evaluating a grid when
    they are one."""
    data, fitted = _rows_of(fit, newdata)
    grid = isinstance(newdata, (str, Mapping))
    return data, fitted, (dataclasses.replace(ctx, grid=grid) if ctx is not None else None)


def _rows_of(fit, newdata) -> tuple[pd.DataFrame, bool]:
    if newdata is None:
        return _frame(fit.design), True
    if isinstance(newdata, str):
        if newdata != "grid":
            raise DataError(f"newdata must be None, 'grid', a dict of values or a data frame, got {newdata!r}")
        return datagrid(fit), False
    if isinstance(newdata, Mapping):
        return datagrid(fit, **newdata), False
    if isinstance(newdata, pd.DataFrame):
        if len(newdata) == 0:
            raise DataError("newdata is empty (0 rows)")
        return newdata, False
    raise DataError(f"newdata must be None, 'grid', a dict of values or a data frame, got {type(newdata).__name__}")


def _groups(data: pd.DataFrame, by) -> tuple[np.ndarray | None, pd.DataFrame]:
    """Group codes of the rows (``None``: one estimate per row) and the groups' key columns."""
    if by is False or by is None:
        return None, pd.DataFrame(index=range(len(data)))
    if by is True:
        return np.zeros(len(data), dtype=np.int64), pd.DataFrame(index=[0])
    cols = [by] if isinstance(by, str) else list(by)
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise DataError(f"by: column(s) {missing} are not in the data; available: {list(map(str, data.columns))}")
    grouped = data.reset_index(drop=True).groupby(cols, sort=True, observed=True, dropna=False)
    codes = grouped.ngroup().to_numpy()
    keys = grouped.size().reset_index()[cols]
    return codes, keys


def _aggregate(n: int, S: int, compute: Callable[[np.ndarray], np.ndarray], codes: np.ndarray | None) -> np.ndarray:
    """Per-row quantities ``compute(rows) -> (S, m[, C])`` over blocks of rows: stacked (``codes=None``) or
    averaged within groups, draw by draw."""
    from scipy import sparse

    step = max(1, _CHUNK // max(S, 1))
    blocks = [np.arange(i, min(i + step, n)) for i in range(0, n, step)]
    if codes is None:
        return np.concatenate([compute(rows) for rows in blocks], axis=1)
    G = int(codes.max()) + 1
    counts = np.bincount(codes, minlength=G).astype(float)
    total = None
    for rows in blocks:
        q = compute(rows)
        m = len(rows)
        member = sparse.csr_matrix((np.ones(m), (codes[rows], np.arange(m))), shape=(G, m))  # group x row
        flat = np.moveaxis(q.reshape(q.shape[0], m, -1), 1, 0).reshape(m, -1)  # rows x (draws, categories)
        part = np.moveaxis(np.asarray(member @ flat).reshape(G, q.shape[0], -1), 0, 1)  # (S, G, C)
        total = part if total is None else total + part
    out = total / counts[:, None]
    return out[:, :, 0] if q.ndim == 2 else out


def _category_labels(fit, C: int) -> list:
    from .predict import category_labels

    return category_labels(fit.design, C)


def _expand_categories(fit, keys: pd.DataFrame, draws: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Flatten a trailing category axis: a ``category`` column, rows repeated per category."""
    if draws.ndim == 2:
        return keys, draws
    S, m, C = draws.shape
    labels = _category_labels(fit, C)
    keys = keys.loc[keys.index.repeat(C)].reset_index(drop=True)
    keys["category"] = labels * m
    return keys, draws.reshape(S, m * C)


def _summarise(keys: pd.DataFrame, draws: np.ndarray, prob: float) -> pd.DataFrame:
    lo, hi = interval(draws, prob)
    t = keys.reset_index(drop=True).copy()
    t["mean"] = draws.mean(axis=0)
    t["sd"] = draws.std(axis=0, ddof=1) if draws.shape[0] > 1 else np.nan
    t["lower"] = lo
    t["upper"] = hi
    return t


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Estimates:
    """Posterior summaries of a quantity with their draws.

    Attributes
    ----------
    table
        Descriptor columns (grid values, ``term``, ``contrast``, ``by`` columns, ``category``) and ``mean``,
        ``sd``, ``lower``, ``upper`` (equal-tailed ``prob`` interval).
    draws
        ``(S, len(table))``: column ``i`` holds the posterior draws summarised in row ``i``; the same
        posterior draws (``draw_idx``) in every column (read-only).
    what
        ``"predictions"``, ``"comparisons"``, ``"slopes"``, ``"conditional_effects"``, ``"emmeans"`` or
        ``"contrasts"``.
    scale
        ``"response"``, ``"link"`` or ``"prediction"``.
    prob
        Probability of the intervals.
    draw_idx
        Indices of the stacked posterior draws used (chains concatenated).
    x, color
        Default plot layout: the column on the x axis and the one drawn as separate lines or colours.
    ylabel
        Label of the quantity.
    layout
        ``"auto"`` (lines along a numeric ``x``) or ``"points"`` (one point and interval per row, e.g. the
        predictions of the fitted rows).
    """

    table: pd.DataFrame = field(compare=False)
    draws: np.ndarray = field(compare=False)
    what: str
    scale: str
    prob: float
    draw_idx: np.ndarray = field(compare=False, repr=False, default_factory=lambda: np.zeros(0, dtype=int))
    x: str | None = None
    color: str | None = None
    ylabel: str = ""
    layout: str = "auto"

    def __len__(self) -> int:
        return len(self.table)

    def __str__(self) -> str:
        pct = f"{100 * self.prob:g}%"
        head = f"{self.what} ({self.scale} scale; mean, sd and {pct} interval of {self.draws.shape[0]} draws)"
        return head + "\n" + self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}", max_rows=40)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        pct = f"{100 * self.prob:g}%"
        return (f"<p><b>{self.what}</b> ({self.scale} scale; {pct} intervals)</p>"
                + self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}", max_rows=40))

    def plot(self, x: str | None = None, color: str | None = None, ax=None) -> Figure:
        """Line and band along a numeric ``x``, points and intervals along a categorical one (by ``color``),
        or one interval per row (comparisons, slopes). See :func:`plot_estimates`."""
        return plot_estimates(self, x=x, color=color, ax=ax)


@dataclass(frozen=True)
class ConditionalEffects:
    """Conditional effects of several predictors (brms's ``conditional_effects``): one :class:`Estimates`
    per effect, a long table, and one figure with a panel per effect."""

    effects: dict = field(compare=False)

    @property
    def table(self) -> pd.DataFrame:
        """All effects in one table, with an ``effect`` column."""
        return pd.concat([e.table.assign(effect=name) for name, e in self.effects.items()], ignore_index=True)

    def __getitem__(self, name: str) -> Estimates:
        try:
            return self.effects[name]
        except KeyError:
            raise KeyError(f"no effect {name!r}; computed: {', '.join(self.effects)}") from None

    def __iter__(self):
        return iter(self.effects)

    def __len__(self) -> int:
        return len(self.effects)

    def __str__(self) -> str:
        return "\n\n".join(f"[{name}]\n{e}" for name, e in self.effects.items())

    def __repr__(self) -> str:
        return str(self)

    def plot(self, ncols: int | None = None) -> Figure:
        """One panel per effect, as brms's ``plot(conditional_effects(fit))``."""
        from .plots import _figure

        n = len(self.effects)
        ncols = ncols or min(n, 3)
        nrows = int(np.ceil(n / ncols))
        fig, axes = _figure(3.6 * ncols + 0.4, 3.0 * nrows + 0.3, nrows, ncols)
        for ax, (name, e) in zip(axes.flat, self.effects.items()):
            plot_estimates(e, ax=ax)
            ax.set_title(name)
        for ax in list(axes.flat)[n:]:
            ax.set_visible(False)
        return fig


@dataclass(frozen=True)
class EMMeans:
    """Estimated marginal means (``emmeans``) and their pairwise contrasts (``contrasts``, or None)."""

    emmeans: Estimates
    contrasts: Estimates | None = None

    def __str__(self) -> str:
        out = str(self.emmeans)
        if self.contrasts is not None:
            out += "\n\n" + str(self.contrasts)
        return out

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        out = self.emmeans._repr_html_()
        return out + (self.contrasts._repr_html_() if self.contrasts is not None else "")

    def plot(self) -> Figure:
        """The means with their intervals, and the contrasts beside them."""
        from .plots import _figure

        two = self.contrasts is not None
        fig, axes = _figure(9.0 if two else 4.6, 3.4, 1, 2 if two else 1)
        plot_estimates(self.emmeans, ax=axes[0, 0])
        axes[0, 0].set_title("estimated marginal means")
        if two:
            plot_estimates(self.contrasts, ax=axes[0, 1])
            axes[0, 1].set_title("pairwise contrasts")
        return fig


# ------------------------------------------------------------------------------------------------ predictions
def predictions(
    fit,
    newdata=None,
    by=False,
    scale: str = "response",
    re_formula=_UNSET,
    re_form=None,
    allow_new_levels: bool = False,
    prob: float = 0.95,
    ndraws: int | None = None,
    seed: int = 0,
    trials=None,
) -> Estimates:
    """Posterior predictions on the fitted rows, a grid or new data (marginaleffects' ``predictions``).

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    newdata
        ``None`` (the fitted rows), ``"grid"``, a dict of grid values, or a data frame (see the module notes).
    by
        ``False`` (default): one prediction per row; ``True``: their average; column name(s): averages by group.
    scale
        ``"response"``, ``"link"`` or ``"prediction"``.
    re_formula, re_form
        Random effects to include (default ``None``: all; ``NA``: none; ``"~ (1 | g)"``: those terms).
    allow_new_levels
        Unseen levels of a grouping factor get a new effect drawn from the population distribution (brms's
        ``allow_new_levels``); otherwise they are an error.
    prob
        Probability of the equal-tailed intervals.
    ndraws
        Use at most this many posterior draws (randomly thinned with ``seed``); all by default.
    seed
        Seed of the thinning and of random parts (new levels' effects, ``"prediction"`` draws).
    trials
        Numbers of trials for ``scale="prediction"`` of binomial models on new data (array or column name).

    Returns
    -------
    Estimates
        Table: the rows' columns (or the ``by`` groups) and ``mean``, ``sd``, ``lower``, ``upper``.
    """
    ctx = _context(fit, scale, _re_arg(re_formula, re_form, None), allow_new_levels, ndraws, seed)
    data, fitted, ctx = _newdata(fit, newdata, ctx)
    if fitted and scale == "prediction" and trials is None and fit.design.trials is not None:
        trials = np.asarray(fit.design.trials)
    codes, keys = _groups(data, by)
    tr = _trials_of(data, trials)
    draws = _aggregate(len(data), len(ctx.idx),
                       lambda rows: ctx.draws(data.iloc[rows], None if tr is None else tr[rows]), codes)
    if codes is None:
        shown = [c for c in list(predictor_variables(fit.design)) + _grouping_names(fit.design) if c in data.columns]
        keys = data[shown].reset_index(drop=True)
    keys, draws = _expand_categories(fit, keys, draws)
    x = None if by is False or by is True else ([by] if isinstance(by, str) else list(by))[0]
    if x is None and codes is None:
        x = next(iter(predictor_variables(fit.design)), None)
    return Estimates(_summarise(keys, draws, prob), _frozen(draws), "predictions", scale, prob, ctx.idx, x=x,
                     color="category" if "category" in keys.columns else None, ylabel=_ylabel(fit, scale),
                     layout="points" if codes is None else "auto")


def _trials_of(data: pd.DataFrame, trials) -> np.ndarray | None:
    if trials is None:
        return None
    t = np.asarray(data[trials] if isinstance(trials, str) else trials, dtype=float).reshape(-1)
    if len(t) != len(data):
        raise DataError(f"trials has {len(t)} values for {len(data)} rows")
    return t


def _ylabel(fit, scale: str) -> str:
    d = fit.design
    if scale == "link":
        return f"linear predictor ({fit.spec.link} link)"
    if scale == "response" and d.trials is not None:
        return f"P({d.response_label})"
    return d.response_label


# ------------------------------------------------------------------------------------------------ comparisons
def _fmt(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}"
    return str(v)


def _contrasts(v: Variable, spec, data: pd.DataFrame) -> list[tuple[str, Callable, Callable]]:
    """``(label, lo(data), hi(data))`` per contrast of one variable."""
    if v.kind == "categorical":
        levels = list(v.levels)
        if spec is None or spec == "reference":
            pairs = [(levels[0], lv) for lv in levels[1:]]
        elif spec == "pairwise":
            pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1:]]
        elif spec == "sequential":
            pairs = list(zip(levels[:-1], levels[1:]))
        elif isinstance(spec, (list, tuple)) and len(spec) == 2 and all(s in levels for s in spec):
            pairs = [tuple(spec)]
        else:
            raise DataError(
                f"comparisons of the categorical {v.name!r}: use 'reference' (each level against {levels[0]!r}), "
                f"'pairwise', 'sequential' or a pair of its levels ({', '.join(map(repr, levels))}), got {spec!r}"
            )
        return [(f"{_fmt(b)} - {_fmt(a)}", lambda d, a=a: d.assign(**{v.name: a}),
                 lambda d, b=b: d.assign(**{v.name: b})) for a, b in pairs]
    specs = [1.0] if spec is None else (list(spec) if isinstance(spec, list) else [spec])
    out = []
    for s in specs:
        if isinstance(s, tuple) and len(s) == 2:
            a, b = (float(s[0]), float(s[1]))
            out.append((f"{_fmt(b)} - {_fmt(a)}", lambda d, a=a: d.assign(**{v.name: a}),
                        lambda d, b=b: d.assign(**{v.name: b})))
            continue
        if s == "sd":
            delta, label = v.sd, f"+sd ({v.sd:.4g})"
        elif s == "iqr":
            x = numeric_column(data[v.name], v.name)
            q1, q3 = np.quantile(x, [0.25, 0.75])
            delta, label = float(q3 - q1), f"+iqr ({q3 - q1:.4g})"
        elif isinstance(s, (int, float, np.integer, np.floating)) and not isinstance(s, bool):
            delta, label = float(s), f"+{_fmt(float(s))}"
        else:
            raise DataError(
                f"comparisons of the numeric {v.name!r}: give a step (1 by default), a list of steps, 'sd', 'iqr' "
                f"or a pair (lo, hi) of values, got {s!r}"
            )
        out.append((label, lambda d: d,
                    lambda d, delta=delta: d.assign(**{v.name: numeric_column(d[v.name], v.name) + delta})))
    return out


def _variables_arg(variables_, what: str) -> dict[str, Any]:
    if isinstance(variables_, str):
        return {variables_: None}
    if isinstance(variables_, Mapping):
        return dict(variables_)
    if isinstance(variables_, (list, tuple)) and variables_ and all(isinstance(v, str) for v in variables_):
        return {v: None for v in variables_}
    raise DataError(f"{what}: variables must be a column name, a list of names or a dict {{name: contrast}}, "
                    f"got {variables_!r}")


def comparisons(
    fit,
    variables: str | Sequence[str] | Mapping[str, Any],
    newdata=None,
    by=True,
    comparison: str = "difference",
    scale: str = "response",
    re_formula=_UNSET,
    re_form=None,
    allow_new_levels: bool = False,
    prob: float = 0.95,
    ndraws: int | None = None,
    seed: int = 0,
) -> Estimates:
    """Contrasts of predictions when a predictor changes (marginaleffects' ``comparisons``).

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    variables
        A predictor, a list of them, or a dict ``{name: contrast}``. Numeric: a step (``1`` by default: the
        prediction at ``x + 1`` against ``x``, row by row), a list of steps, ``"sd"`` or ``"iqr"`` (a step of
        that size), or a pair ``(lo, hi)`` (every row at ``hi`` against every row at ``lo``). Categorical:
        ``"reference"`` (default: each level against the reference level), ``"pairwise"``, ``"sequential"``,
        or a pair of levels ``(a, b)`` (``b - a``).
    newdata, by, scale, re_formula, re_form, allow_new_levels, prob, ndraws, seed
        See :func:`predictions`; ``by=True`` (default) averages over the rows, ``False`` keeps one contrast
        per row; ``scale`` is ``"response"`` or ``"link"``.
    comparison
        ``"difference"`` (``hi - lo``) or ``"ratio"`` (``hi / lo``; of the averages when averaging, as
        marginaleffects' ``"ratioavg"``).

    Returns
    -------
    Estimates
        Table: ``term``, ``contrast``, the ``by`` columns, ``mean``, ``sd``, ``lower``, ``upper``.
    """
    _check_scale(scale, ("response", "link"))
    if comparison not in ("difference", "ratio"):
        raise DataError(f"comparison must be 'difference' or 'ratio', got {comparison!r}")
    ctx = _context(fit, scale, _re_arg(re_formula, re_form, None), allow_new_levels, ndraws, seed)
    data, _, ctx = _newdata(fit, newdata, ctx)
    vars_ = predictor_variables(fit.design)
    codes, keys = _groups(data, by)
    tables, draws_all = [], []
    for name, spec in _variables_arg(variables, "comparisons").items():
        v = _variable(vars_, name, "comparisons")
        for label, lo, hi in _contrasts(v, spec, data):
            if comparison == "difference" or codes is None:
                def compute(rows, lo=lo, hi=hi):
                    d = data.iloc[rows]
                    a, b = ctx.draws(lo(d)), ctx.draws(hi(d))
                    return b - a if comparison == "difference" else b / a
                dr = _aggregate(len(data), len(ctx.idx), compute, codes)
            else:  # ratio of the averages
                a = _aggregate(len(data), len(ctx.idx), lambda rows, lo=lo: ctx.draws(lo(data.iloc[rows])), codes)
                b = _aggregate(len(data), len(ctx.idx), lambda rows, hi=hi: ctx.draws(hi(data.iloc[rows])), codes)
                dr = b / a
            k = keys.copy() if codes is not None else data.reset_index(drop=True)[[c for c in [name] if c in data]]
            k.insert(0, "contrast", label)
            k.insert(0, "term", name)
            k, dr = _expand_categories(fit, k, dr)
            tables.append(k)
            draws_all.append(dr)
    keys_all = pd.concat(tables, ignore_index=True)
    draws = np.concatenate(draws_all, axis=1)
    return Estimates(_summarise(keys_all, draws, prob), _frozen(draws), "comparisons", scale, prob, ctx.idx,
                     ylabel=("ratio" if comparison == "ratio" else "difference") + f" ({scale} scale)")


# ------------------------------------------------------------------------------------------------ slopes
_SLOPES = ("dydx", "eyex", "eydx", "dyex")


def slopes(
    fit,
    variables: str | Sequence[str],
    newdata=None,
    by=True,
    slope: str = "dydx",
    eps: float | None = None,
    scale: str = "response",
    re_formula=_UNSET,
    re_form=None,
    allow_new_levels: bool = False,
    prob: float = 0.95,
    ndraws: int | None = None,
    seed: int = 0,
) -> Estimates:
    """Partial derivatives of the prediction with respect to numeric predictors (marginaleffects' ``slopes``).

    A forward finite difference per row and draw, ``(f(x + h) - f(x)) / h`` with ``h = eps`` or ``10⁻⁴`` times
    the range of ``x`` over the fitted rows (marginaleffects' default step); exact for predictions linear in
    ``x``. ``slope``: ``"dydx"`` (default), ``"eyex"`` (elasticity ``dy/dx · x/y``), ``"eydx"`` (``dy/dx / y``)
    or ``"dyex"`` (``dy/dx · x``), each per row before averaging. Other arguments as :func:`comparisons`.

    Returns
    -------
    Estimates
        Table: ``term``, the ``by`` columns, ``mean``, ``sd``, ``lower``, ``upper``.
    """
    _check_scale(scale, ("response", "link"))
    if slope not in _SLOPES:
        raise DataError(f"slope must be one of {', '.join(map(repr, _SLOPES))}, got {slope!r}")
    ctx = _context(fit, scale, _re_arg(re_formula, re_form, None), allow_new_levels, ndraws, seed)
    data, _, ctx = _newdata(fit, newdata, ctx)
    vars_ = predictor_variables(fit.design)
    codes, keys = _groups(data, by)
    tables, draws_all = [], []
    for name in _variables_arg(variables, "slopes"):
        v = _variable(vars_, name, "slopes")
        if v.kind != "numeric":
            raise DataError(f"slopes of {name!r}: it is categorical; use comparisons({name!r}) for its contrasts")
        h = float(eps) if eps is not None else 1e-4 * ((v.max - v.min) or 1.0)
        if not h > 0:
            raise DataError(f"eps must be positive, got {eps!r}")

        def compute(rows, name=name, h=h):
            d = data.iloc[rows]
            x = numeric_column(d[name], name)
            f0 = ctx.draws(d)
            d1 = ctx.draws(d.assign(**{name: x + h}))
            dydx = (d1 - f0) / h
            xx = x[None, :, None] if f0.ndim == 3 else x[None, :]
            return {"dydx": dydx, "eyex": dydx * xx / f0, "eydx": dydx / f0, "dyex": dydx * xx}[slope]

        dr = _aggregate(len(data), len(ctx.idx), compute, codes)
        k = keys.copy() if codes is not None else data.reset_index(drop=True)[[name]]
        k.insert(0, "term", name)
        k, dr = _expand_categories(fit, k, dr)
        tables.append(k)
        draws_all.append(dr)
    keys_all = pd.concat(tables, ignore_index=True)
    draws = np.concatenate(draws_all, axis=1)
    return Estimates(_summarise(keys_all, draws, prob), _frozen(draws), "slopes", scale, prob, ctx.idx,
                     ylabel=f"{slope} ({scale} scale)")


# ------------------------------------------------------------------------------------------------ conditional effects
def _default_effects(design: Design, vars_: dict[str, Variable]) -> list[str]:
    """Main effects and two-way interactions of the fixed part (brms's default)."""
    out: list[str] = []
    for t in design.formula.terms:
        cols = list(dict.fromkeys(c for e in t.factors for c in expr_columns(e) if c in vars_))
        if len(cols) == 1:
            out.append(cols[0])
        elif len(cols) == 2:
            out.append(":".join(cols))
    for sm in design.formula.smooths:  # a smooth along its variable (with its by factor as the lines)
        cols = [c for c in smooth_columns(sm) if c in vars_]
        out += [cols[0]] if len(cols) == 1 else [":".join(cols[:2])] if cols else []
    return list(dict.fromkeys(out))


def _effect_values(v: Variable, resolution: int, moderator: bool) -> list:
    if v.kind == "categorical":
        return list(v.levels)
    if moderator:  # brms: mean - sd, mean, mean + sd
        return [v.mean - v.sd, v.mean, v.mean + v.sd]
    return list(np.linspace(v.min, v.max, resolution))


def conditional_effects(
    fit,
    effects: str | Sequence[str] | None = None,
    conditions: Mapping[str, Any] | pd.DataFrame | None = None,
    re_formula=_UNSET,
    re_form=None,
    scale: str = "response",
    prob: float = 0.95,
    resolution: int = 100,
    ndraws: int | None = None,
    seed: int = 0,
) -> ConditionalEffects:
    """Conditional effects of predictors, as brms's ``conditional_effects``.

    For each effect, predictions along a grid of the effect's variable (100 points over its range for a numeric
    one, its levels for a categorical one) with every other predictor at its typical value (numeric: mean;
    categorical: reference level) or at the values of ``conditions``. ``"a:b"`` shows ``a`` along the x axis
    with one line per level of ``b`` (for a numeric ``b``: its mean and mean ± 1 SD).

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    effects
        ``"Days"``, ``"a:b"`` or a list; by default every main effect and two-way interaction of the fixed part.
    conditions
        Values of other predictors (a dict of single values), or a data frame whose rows are separate
        conditions (a ``condition`` column then tells them apart). A grouping factor given here with
        ``re_formula=None`` gives that level's conditional effects.
    re_formula, re_form
        Random effects to include: none by default (``NA``, brms's default); ``None`` includes every term
        (a level given in ``conditions``, else a new level drawn from the population).
    scale
        ``"response"`` (default), ``"link"`` or ``"prediction"``.
    prob, resolution, ndraws, seed
        Interval probability, grid points of a numeric effect, posterior draws used, seed.

    Returns
    -------
    ConditionalEffects
        ``.table`` (long, with an ``effect`` column), ``[effect]`` (an :class:`Estimates`), ``.plot()``.
    """
    ctx = dataclasses.replace(_context(fit, scale, _re_arg(re_formula, re_form, float("nan")), False, ndraws, seed),
                              grid=True)
    vars_ = predictor_variables(fit.design)
    if effects is None:
        effects = _default_effects(fit.design, vars_)
        if not effects:
            raise DataError("the model has no predictors in its fixed part; there are no conditional effects to show")
    elif isinstance(effects, str):
        effects = [effects]
    if conditions is None:
        conds = pd.DataFrame(index=[0])
    elif isinstance(conditions, pd.DataFrame):
        conds = conditions.reset_index(drop=True)
    elif isinstance(conditions, Mapping):
        conds = pd.DataFrame({k: [v] for k, v in conditions.items()})
    else:
        raise DataError(f"conditions must be a dict of values or a data frame, got {type(conditions).__name__}")
    multi = len(conds) > 1
    out = {}
    for eff in effects:
        names = [s.strip() for s in str(eff).split(":")]
        if len(names) > 2:
            raise DataError(f"conditional effects of {eff!r}: at most two variables (x:moderator)")
        vs = [_variable(vars_, n, "conditional_effects") for n in names]
        grids = []
        for i, row in conds.iterrows():
            values = {n: _effect_values(v, resolution, j == 1) for j, (n, v) in enumerate(zip(names, vs))}
            fixed = {k: row[k] for k in conds.columns if k not in values}
            g = datagrid(fit, **values, **fixed)
            if multi:
                g["condition"] = i
            grids.append(g)
        grid = pd.concat(grids, ignore_index=True)
        draws = _aggregate(len(grid), len(ctx.idx), lambda rows, grid=grid: ctx.draws(grid.iloc[rows]), None)
        keys = grid[names + (["condition"] if multi else []) + [c for c in grid.columns if c not in names + ["condition"]]]
        keys, draws = _expand_categories(fit, keys, draws)
        color = "category" if "category" in keys.columns else (names[1] if len(names) == 2 else None)
        out[eff] = Estimates(_summarise(keys, draws, prob), _frozen(draws), "conditional_effects", scale, prob,
                             ctx.idx, x=names[0], color=color, ylabel=_ylabel(fit, scale))
    return ConditionalEffects(out)


# ------------------------------------------------------------------------------------------------ emmeans
def emmeans(
    fit,
    specs: str | Sequence[str],
    by: str | Sequence[str] | None = None,
    pairwise: bool = False,
    scale: str = "response",
    prob: float = 0.95,
    ndraws: int | None = None,
    seed: int = 0,
) -> EMMeans:
    """Estimated marginal means of factors, averaged as R's ``emmeans`` averages, and pairwise contrasts.

    The reference grid holds every combination of the levels of the categorical predictors of the fixed
    part, with numeric predictors at their means over the fitted rows; predictions on it are on the link scale
    without random effects (``Xβ + offset``). The mean of a level of ``specs`` (within each level of ``by``)
    is the equally weighted average, over the grid's cells of the other factors, of the link-scale prediction,
    draw by draw; ``scale="response"`` back-transforms it with the inverse link (emmeans' ``type =
    "response"``). Pairwise contrasts (``pairwise=True``, emmeans' ``pairs()``) are differences of those
    means on the chosen scale: of probabilities for a binomial model on the response scale (emmeans'
    ``pairs(regrid(...))``), of log odds on the link scale (``pairs(emmeans(...))``; their exponentials are
    emmeans' odds ratios). Labels follow emmeans: ``"period1 - period2"``.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    specs
        A categorical predictor, or several (their combinations).
    by
        Categorical predictor(s) within whose levels the means and contrasts are taken.
    pairwise
        Also the pairwise contrasts (first level minus second, ...).
    scale
        ``"response"`` or ``"link"``.
    prob, ndraws, seed
        Interval probability, posterior draws used (all by default), seed of the thinning.

    Returns
    -------
    EMMeans
    """
    _check_scale(scale, ("response", "link"))
    vars_ = predictor_variables(fit.design)
    specs = [specs] if isinstance(specs, str) else list(specs)
    by = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for n in specs + by:
        v = _variable(vars_, n, "emmeans")
        if v.kind != "categorical":
            raise DataError(f"emmeans of {n!r}: it is numeric; emmeans averages over the levels of factors "
                            "(use slopes() or conditional_effects() for a numeric predictor)")
    factors = {n: v.levels for n, v in vars_.items() if v.kind == "categorical"}
    grid = datagrid(fit, **factors)
    idx = draw_index(fit.idata, ndraws, seed)
    ctx = _Context(fit, "link", (), False, idx, int(seed))
    eta = ctx.draws(grid)
    if eta.ndim == 3:
        raise BayesMixedError("emmeans of category probabilities is not available; use conditional_effects()")
    codes, keys = _groups(grid, by + specs)
    link = _aggregate(len(grid), len(idx), lambda rows: eta[:, rows], codes)  # equal weights over the other cells
    val = get_link(fit.spec.link).inverse(link) if scale == "response" else link
    keys = keys.reset_index(drop=True)
    emm = Estimates(_summarise(keys, val, prob), _frozen(val), "emmeans", scale, prob, idx,
                    x=specs[0], color=by[0] if by else (specs[1] if len(specs) > 1 else None),
                    ylabel=_ylabel(fit, scale))
    if not pairwise:
        return EMMeans(emm)
    rows, cols = [], []
    # one key a scalar, not a one-element list (pandas 3 deprecates .groups keyed by 1-tuples); only the
    # members are used
    groups = keys.groupby(by[0] if len(by) == 1 else by, sort=False).groups.values() if by else [keys.index]
    for members in groups:
        members = list(members)
        for a_i, a in enumerate(members):
            for b in members[a_i + 1:]:
                la = " ".join(f"{n}{_fmt(keys.loc[a, n])}" for n in specs)
                lb = " ".join(f"{n}{_fmt(keys.loc[b, n])}" for n in specs)
                row = {"contrast": f"{la} - {lb}"}
                row.update({n: keys.loc[a, n] for n in by})
                rows.append(row)
                cols.append(val[:, a] - val[:, b])
    ck = pd.DataFrame(rows, columns=["contrast"] + by)
    cd = np.stack(cols, axis=1) if cols else np.zeros((len(idx), 0))
    con = Estimates(_summarise(ck, cd, prob), _frozen(cd), "contrasts", scale, prob, idx,
                    color=by[0] if by else None, ylabel=f"difference ({scale} scale)")
    return EMMeans(emm, con)


# ------------------------------------------------------------------------------------------------ plots
def plot_estimates(est: Estimates, x: str | None = None, color: str | None = None, ax=None) -> Figure:
    """The figure of an :class:`Estimates`.

    Along a numeric ``x`` with more than six values: the posterior mean as a line and the interval as a band,
    one per value of ``color``. Along a categorical (or sparse) ``x``: points and intervals, dodged by
    ``color``. Without an ``x`` (comparisons, slopes): one horizontal interval per row, labelled by its
    descriptor columns, with a line at zero (at one for ratios).
    """
    import matplotlib as mpl

    from .plots import _STYLE, BLACK, BLUE, GREEN, GREY, ORANGE, SKY, _figure

    palette = [BLUE, ORANGE, GREEN, SKY, BLACK, "#CC79A7", "#E69F00", GREY]
    t = est.table
    x = x if x is not None else est.x
    color = color if color is not None else est.color
    if x is not None and x not in t.columns:
        raise DataError(f"plot: no column {x!r} in the table; columns: {list(t.columns)}")
    if color is not None and color not in t.columns:
        color = None
    with mpl.rc_context(_STYLE):
        if ax is None:
            n_rows = len(t) if x is None else 0
            fig, axes = _figure(5.6, max(3.4, 0.28 * n_rows + 1.2) if x is None else 3.8)
            ax = axes[0, 0]
        else:
            fig = ax.figure
        pct = f"{100 * est.prob:g}%"
        if x is None:
            desc = [c for c in t.columns if c not in _SUMMARY]
            labels = [", ".join(_fmt(r[c]) for c in desc) for _, r in t.iterrows()]
            pos = np.arange(len(t))[::-1]
            ax.hlines(pos, t["lower"], t["upper"], color=BLUE, lw=1.6)
            ax.scatter(t["mean"], pos, color=BLUE, s=18, zorder=3, label=f"mean, {pct} interval")
            ax.axvline(1.0 if est.ylabel.startswith("ratio") else 0.0, color=GREY, lw=0.8, ls="--")
            ax.set_yticks(pos)
            ax.set_yticklabels(labels, fontsize=7)
            ax.set_xlabel(est.ylabel or est.what)
            ax.grid(axis="y", visible=False)
            return fig
        groups = [(None, t)] if color is None else list(t.groupby(color, sort=False))
        numeric = pd.api.types.is_numeric_dtype(t[x]) and not pd.api.types.is_bool_dtype(t[x])
        if numeric and est.layout == "points":
            for i, (g, sub) in enumerate(groups):
                c = palette[i % len(palette)]
                ax.vlines(sub[x], sub["lower"], sub["upper"], color=c, lw=0.8, alpha=0.5)
                ax.scatter(sub[x], sub["mean"], color=c, s=8, zorder=3, label=None if g is None else f"{color} = {_fmt(g)}")
        elif numeric and t[x].nunique() > 6:
            for i, (g, sub) in enumerate(groups):
                sub = sub.sort_values(x)
                c = palette[i % len(palette)]
                ax.fill_between(sub[x], sub["lower"], sub["upper"], color=c, alpha=0.18, lw=0)
                ax.plot(sub[x], sub["mean"], color=c, lw=1.8, label=None if g is None else f"{color} = {_fmt(g)}")
        else:
            cats = list(dict.fromkeys(t[x].tolist()))
            pos = {c: i for i, c in enumerate(cats)}
            width = 0.5 / max(len(groups), 1)
            for i, (g, sub) in enumerate(groups):
                off = (i - (len(groups) - 1) / 2) * width
                xs = np.array([pos[v] for v in sub[x]]) + off
                c = palette[i % len(palette)]
                ax.vlines(xs, sub["lower"], sub["upper"], color=c, lw=1.6)
                ax.scatter(xs, sub["mean"], color=c, s=22, zorder=3, label=None if g is None else f"{color} = {_fmt(g)}")
            ax.set_xticks(range(len(cats)))
            ax.set_xticklabels([_fmt(c) for c in cats], rotation=90 if len(cats) > 10 else 0)
            ax.grid(axis="x", visible=False)
        ax.set_xlabel(x)
        ax.set_ylabel(est.ylabel or est.what)
        if color is not None:
            ax.legend(loc="best", fontsize=7)
        ax.set_title(f"{est.what.replace('_', ' ')} (mean, {pct} interval)", fontsize=9)
    return fig


# ------------------------------------------------------------------------------------------------ lme4 names
def icc_at(design: Design, at: Mapping[str, Any] | None) -> tuple[dict[str, np.ndarray] | None, str]:
    """The covariate columns ``z`` of each random-effect term at raw predictor values ``at`` (for
    :func:`bayesmixed.summaries.icc`), and a label saying where the ICC is computed.

    Without ``at``: ``None`` (the intercept variance, every slope's covariate at 0) and a label naming those
    covariates (empty for intercept-only models). Terms whose columns ``at`` does not mention keep the default.
    """
    from .design.matrix import model_matrix

    slope_cols = list(dict.fromkeys(c for b in design.blocks for t in b.term.terms for e in t.factors
                                    for c in expr_columns(e)))
    if at is None:
        return None, ", ".join(f"{c} = 0" for c in slope_cols)
    if not isinstance(at, Mapping) or not at:
        raise DataError(f"at must be a dict of predictor values such as {{'Days': 5}}, got {at!r}")
    unknown = [k for k in at if k not in slope_cols]
    if unknown:
        raise DataError(f"icc(at=...): {unknown} do not vary by group (no random slope on them); the random-effect "
                        f"terms' covariates are {slope_cols or 'none'}")
    data = pd.DataFrame({k: [v] for k, v in at.items()})
    state = design.encoding.state_dict()
    out: dict[str, np.ndarray] = {}
    for b in design.blocks:
        cols = list(dict.fromkeys(c for t in b.term.terms for e in t.factors for c in expr_columns(e)))
        given = [c for c in cols if c in at]
        if not given:
            continue
        missing = [c for c in cols if c not in at]
        if missing:
            raise DataError(f"icc(at=...): the term {b.term} also needs {missing}")
        Z, _ = model_matrix(tuple(t for t in b.term.terms if not t.is_intercept), b.term.has_intercept, data, state,
                            False, str(b.term))
        out[b.label] = Z[0]
    return out, ", ".join(f"{k} = {_fmt(v)}" for k, v in at.items())


def _update_formula(old: str, new: str) -> str:
    """R's ``update.formula``: ``.`` on a side of ``new`` stands for that side of ``old``."""
    if "~" not in new:
        raise DataError(f"update: a formula has a '~', e.g. '~ . + x' or 'y ~ x + (1 | g)', got {new!r}")
    o_lhs, o_rhs = (p.strip() for p in old.split("~", 1))
    n_lhs, n_rhs = (p.strip() for p in new.split("~", 1))
    dot = r"(?<![A-Za-z0-9_.`])\.(?![A-Za-z0-9_.`])"
    import re

    lhs = o_lhs if n_lhs in ("", ".") else re.sub(dot, o_lhs, n_lhs)
    m = re.match(r"^\.\s*(?=[+-]|$)", n_rhs)
    if m:  # a leading '.' followed by + or -: no parentheses needed
        n_rhs = o_rhs + " " + n_rhs[m.end():].lstrip() if n_rhs[m.end():].strip() else o_rhs
    rhs = re.sub(dot, lambda _: f"({o_rhs})", n_rhs)
    return f"{lhs} ~ {rhs}".strip()


_FIT_SETTINGS = ("draws", "tune", "chains", "seed", "sampler", "target_accept")
#: ``Model.fit``'s defaults (tests/test_interpret.py checks that they agree)
FIT_DEFAULTS = dict(draws=1000, tune=1000, chains=4, seed=None, sampler="auto", target_accept=0.9, progressbar=True,
                    cores=None, log_likelihood="auto", trajectory="auto")


def update_model(fit, formula: str | None = None, data: pd.DataFrame | None = None, **kw):
    """The spec, design and ``fit()`` settings that :meth:`Fit.update <bayesmixed.fit.Fit.update>` samples.

    The new formula (R's ``update.formula``: ``.`` stands for the old side) on the new data or the model frame;
    the family and link (``family=``, ``link=`` change them); the priors the user set that the new model still
    has (defaults are recomputed for the new model; ``priors=`` adds or replaces); the parameterisation the user
    chose (else ``"auto"``; ``parameterization=`` changes it); the sampler settings and seed of ``fit``, each
    overridden by the other keywords (``fit()``'s arguments).

    Returns
    -------
    (ModelSpec, Design, dict)
    """
    import warnings

    from .design.design import formula_variables
    from .design.predictors import build_model_design
    from .formula import parse_formula
    from .formula.bf import BrmsFormula
    from .priors import default_priors
    from .spec import make_spec

    spec, design = fit.spec, fit.design
    text = spec.formula if formula is None else _update_formula(spec.formula, formula)
    if data is None:
        data = _frame(design)
    model_kw = {
        k: kw.pop(k)
        for k in ("family", "link", "priors", "parameterization", "missing", "contrasts", "weights", "rank_deficient")
        if k in kw
    }
    unknown = [k for k in kw if k not in FIT_DEFAULTS]
    if unknown:
        raise DataError(f"update: unknown argument(s) {unknown}; it takes family, link, priors, parameterization, "
                        f"missing, contrasts, weights, rank_deficient and fit()'s {', '.join(FIT_DEFAULTS)}")
    family = model_kw.get("family", spec.family)
    link = model_kw.get("link", spec.link if get_family(family).name == spec.family else None)  # aliases too
    defaults = default_priors(design, spec.family, spec.link)
    mine = {name: p for name, p in spec.priors if defaults.get(name) != p}
    param = model_kw.get("parameterization")
    if param is None:
        chosen = dict(spec.parameterization)
        if spec.parameterization_reason or not chosen:
            param = "auto"
        else:
            values = set(chosen.values())
            param = values.pop() if len(values) == 1 else chosen
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        new_formula = parse_formula(text)
        # the codings and the weights= column of the fitted model carry over (contrasts=, weights= change them)
        variables = formula_variables(new_formula)
        contrasts = {k: v for k, v in design.encoding.contrasts().items() if k in variables}
        weights = design.encoding.weights if design.encoding.weights in data.columns else None
        new_design = build_model_design(
            BrmsFormula(text, spec.dpars) if spec.dpars else new_formula,
            data,
            get_family(family, link),
            missing=model_kw.get("missing", "drop"),
            contrasts={**contrasts, **(model_kw.get("contrasts") or {})} or None,
            weights=model_kw.get("weights", weights),
            rank_deficient=model_kw.get("rank_deficient", "drop"),
        )
    labels = [b.label for b in new_design.all_blocks]
    if isinstance(param, dict):
        param = {k: v for k, v in param.items() if k in labels} or "auto"
    known = set(default_priors(new_design, family, link or _default_link(family))) | set(labels)
    priors = {**{k: v for k, v in mine.items() if k in known}, **(model_kw.get("priors") or {})}
    new_spec = make_spec(new_design, family, link, priors or None, param, spec.dpars or None)
    info = fit.sampler_info or {}
    settings = {k: info[k] for k in _FIT_SETTINGS if k in info and info[k] is not None}
    if settings.get("sampler") not in ("nutpie", "pymc", "numpyro", "blackjax"):
        settings.pop("sampler", None)
    return new_spec, new_design, {**FIT_DEFAULTS, **settings, **kw}


def _default_link(family: str) -> str:
    return get_family(family).link.name
