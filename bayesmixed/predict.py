"""Predictions from a fitted model: new data encoded with the fitted :class:`~bayesmixed.design.Encoding`.

New data go through the same stages as the fitted data, in prediction mode: the fixed-effect columns are
rebuilt with ``model_matrix(..., fitting=False)`` from the remembered state (categorical levels, the centre
and scale of ``scale()``/``center()``), each random-effect term's ``Z`` columns the same way, and grouping
levels are mapped to the fitted level codes.

Three treatments of the group effects, as in lme4's ``re.form`` and brms's ``sample_new_levels``:

``groups="include"``
    Known levels use their estimated effects; an unseen level is an error naming the factor and levels.
``groups="exclude"``
    Population-level predictions (lme4's ``re.form = NA``): ``η = Xβ + offset``.
``groups="sample_new"``
    Known levels use their estimated effects; each unseen level gets, for every posterior draw ``s``, a new
    effect drawn from the population distribution ``N(0, G_s)`` with ``G_s = diag(sd_s) C_s diag(sd_s)``
    (``sd_<term>`` and ``corr_<term>`` of that draw). Rows of one unseen level share its draw.

``kind="link"`` gives draws of η, ``kind="mean"`` of the expected response E[y | η] (the family's
:meth:`~bayesmixed.families.Family.mean`: ``g⁻¹(η)`` for most families, a probability for binomial models,
``(1 − zi) μ`` for zero-inflated ones, ``exp(μ + σ²/2)`` for the lognormal: brms's ``posterior_epred``; the
untruncated family's mean for a truncated response), ``kind="response"`` draws new responses from the family
(successes for binomial models; from the truncated family for ``y | trunc(lb, ub)``; censoring and weights do
not enter).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import naming as N
from .design import Design, GroupBlock
from .design.design import _check_finite, _factor_codes
from .design.design import smooth_columns
from .design.evaluate import Categorical, check_columns, data_columns, evaluate, expr_columns
from .design.matrix import model_matrix
from .design.smooth import build_smooth, smooth_terms
from .errors import DataError
from .formula.ast import expr_to_str
from .summaries import block_sd, draws_of, family_inputs, interval, observed_data

__all__ = [
    "NewRows",
    "encode",
    "encode_terms",
    "predict",
    "posterior_predictive",
    "predictive_draws",
    "response_bounds",
    "response_trials",
    "category_labels",
    "GROUPS",
    "KINDS",
]

GROUPS = ("include", "exclude", "sample_new")
KINDS = ("link", "mean", "response")


@dataclass(frozen=True)
class NewRows:
    """Rows to predict, encoded like the fitted data.

    Attributes
    ----------
    index
        Index labels of the rows (the new data's index, or ``design.rows``).
    X
        Fixed-effect matrix ``m × p`` with the fitted column names.
    offset
        Offset, or ``None``.
    codes
        Per random-effect term (in ``design.blocks`` order): level code of each row; codes
        ``>= n_levels`` index the unseen levels of ``new_levels``. Empty when groups are excluded.
    Z
        Per term: ``m × k`` expression columns.
    new_levels
        Per term: labels of levels not in the fitted data, in code order after the fitted ones.
    trials
        Numbers of trials (binomial), when known.
    lb, ub
        Truncation bounds of the response (``y | trunc(lb, ub)``) on these rows, when the model has them:
        responses are drawn from the truncated family.
    labels
        The labels of the terms that ``codes``, ``Z`` and ``new_levels`` describe: every term, or (random effects
        excluded) only the smooth terms' blocks, which are population-level and enter every prediction.
    dpars
        The same rows encoded by the designs of the model's other predicted parameters (``design.dpars``).
    """

    index: pd.Index
    X: np.ndarray
    offset: np.ndarray | None
    codes: tuple[np.ndarray, ...]
    Z: tuple[np.ndarray, ...]
    new_levels: tuple[tuple[str, ...], ...]
    trials: np.ndarray | None = None
    lb: np.ndarray | None = None
    ub: np.ndarray | None = None
    labels: tuple[str, ...] | None = None  # the blocks that codes/Z belong to (None: design.blocks, in order)
    dpars: tuple["NewRows", ...] = ()

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def predictors(self) -> tuple["NewRows", ...]:
        """These rows as each predictor encodes them, in ``design.predictors`` order."""
        return (self,) + tuple(self.dpars)


def _check_choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(f"{name} must be one of {', '.join(map(repr, allowed))}, got {value!r}")


def _from_design(design: Design, groups: str) -> NewRows:
    """The fitted rows as :class:`NewRows`."""
    blocks = [b for b in design.blocks if b.is_smooth] if groups == "exclude" else design.blocks
    return NewRows(
        index=design.rows,
        X=design.X,
        offset=design.offset,
        codes=tuple(b.codes for b in blocks),
        Z=tuple(b.Z for b in blocks),
        new_levels=tuple(() for _ in blocks),
        trials=design.trials,
        lb=design.lb,
        ub=design.ub,
        labels=tuple(b.label for b in blocks),
        dpars=tuple(_from_design(d, groups) for d in design.dpars),
    )


def _required_columns(design: Design, groups: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for d in design.predictors:
        for c, where in _formula_columns(d, groups).items():
            out.setdefault(c, where)
    return out


def _formula_columns(design: Design, groups: str) -> dict[str, str]:
    f = design.formula
    out: dict[str, str] = {}
    for t in f.terms:
        for e in t.factors:
            for c in expr_columns(e):
                out.setdefault(c, f"the term {t.label}")
    for o in f.offsets:
        for c in expr_columns(o):
            out.setdefault(c, f"offset({expr_to_str(o)})")
    for sm in f.smooths:
        for c in smooth_columns(sm):
            out.setdefault(c, f"the smooth term {expr_to_str(sm)}")
    if groups != "exclude":
        for b in design.blocks:
            if b.kind == "cosy":
                for c in b.term.factor:
                    out.setdefault(c, f"the groups of {design.autocor.text} (or pass groups='exclude')")
        for g in f.groups:
            for t in g.terms:
                for e in t.factors:
                    for c in expr_columns(e):
                        out.setdefault(c, f"the random-effect term {g}")
            for c in g.factor:
                out.setdefault(c, f"the grouping factor of {g} (or pass groups='exclude')")
    return out


def _weights_trials(design: Design, data: pd.DataFrame) -> np.ndarray | None:
    """Trials of new rows from the ``weights=`` column of a proportion response, when ``data`` has it."""
    w = design.encoding.weights
    if w is None or w not in data.columns:
        return None
    return data[w].to_numpy(dtype=float, na_value=np.nan)


def response_trials(formula, data: pd.DataFrame) -> np.ndarray | None:
    """Numbers of trials that the formula's binomial response gives on ``data``, without the successes.

    ``s | trials(n)``: ``n``. ``cbind(s, f)``: ``s + f`` when both are in ``data``; when the failures are an
    expression of the successes (``cbind(s, n - s)``), their sum does not depend on ``s`` and is read with
    ``s`` absent. ``None`` when it cannot be read (or the response has no trials).
    """
    r = formula.response
    if r is None or r.kind == "single":
        return None
    if not all(c in data.columns for c in expr_columns(r.second) if c not in expr_columns(r.expr)):
        return None
    if r.kind == "trials":
        w = evaluate(r.second, data, {}, True)
        return None if isinstance(w, Categorical) else w.values
    s_cols = expr_columns(r.expr)
    if all(c in data.columns for c in s_cols):
        s, w = evaluate(r.expr, data, {}, True), evaluate(r.second, data, {}, True)
        if isinstance(s, Categorical) or isinstance(w, Categorical):
            return None
        return s.values + w.values
    if len(s_cols) != 1 or not set(s_cols) & set(expr_columns(r.second)):
        return None
    totals = []
    for v in (0.0, 1.0):  # successes + failures(successes) at two values: equal when f = n - s
        probe = data.assign(**{s_cols[0]: v})
        s, w = evaluate(r.expr, probe, {}, True), evaluate(r.second, probe, {}, True)
        totals.append(s.values + w.values)
    return totals[0] if np.allclose(totals[0], totals[1], equal_nan=True) else None


def response_bounds(formula, data: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Truncation bounds ``(lb, ub)`` of the response (``y | trunc(lb = ..., ub = ...)``) on ``data``: numbers
    as written, columns read from ``data``; ``(None, None)`` without ``trunc()``.

    Raises
    ------
    DataError
        A bound is a column that ``data`` lacks.
    """
    r = formula.response
    if r is None or (r.lb is None and r.ub is None):
        return None, None
    out = []
    for key, e, fill in (("lb", r.lb, -np.inf), ("ub", r.ub, np.inf)):
        if e is None:
            out.append(np.full(len(data), fill))
            continue
        missing = [c for c in expr_columns(e) if c not in data.columns]
        if missing:
            raise DataError(
                f"the response is truncated at trunc({key} = {expr_to_str(e)}), so new responses need the column(s) "
                f"{missing} in new_data"
            )
        v = evaluate(e, data, {}, True)
        out.append(np.broadcast_to(np.asarray(v.values, dtype=float), (len(data),)).copy())
    return out[0], out[1]


def encode(design: Design, new_data: pd.DataFrame, groups: str = "include", trials=None) -> NewRows:
    """Encode ``new_data`` with the fitted encoding of ``design``.

    Parameters
    ----------
    design
        The fitted :class:`~bayesmixed.design.Design`.
    new_data
        Rows to predict; needs the predictor columns (and the grouping columns unless ``groups="exclude"``),
        not the response. It is never modified.
    groups
        ``"include"``, ``"exclude"`` or ``"sample_new"`` (see the module docstring).
    trials
        Numbers of trials for binomial response draws (array or column name); by default taken from the
        formula's response (``cbind(s, f)``: ``s + f``; ``s | trials(n)``: ``n``) when its columns are present.

    Raises
    ------
    DataError
        A column is missing, a used value is missing, a categorical predictor has a level the model has
        not seen, or (``groups="include"``) a grouping factor has unseen levels.
    """
    _check_choice("groups", groups, GROUPS)
    if isinstance(new_data, dict):
        new_data = pd.DataFrame(new_data)
    if not isinstance(new_data, pd.DataFrame):
        raise DataError(f"new_data must be a pandas DataFrame (or a dict of columns), got {type(new_data).__name__}")
    if len(new_data) == 0:
        raise DataError("new_data is empty (0 rows); there is nothing to predict")
    required = _required_columns(design, groups)
    required = {c: w for c, w in required.items() if c in data_columns(list(required), new_data)}
    for col, where in required.items():
        check_columns([col], new_data, where)
    if required:
        na = new_data[list(required)].isna()
        if na.any().any():
            cols = [c for c in required if na[c].any()]
            rows = list(new_data.index[na.any(axis=1)][:5])
            raise DataError(
                f"new_data has missing values in {', '.join(map(repr, cols))} (rows {rows}); predictions need "
                "every predictor (and grouping factor): drop or fill those rows"
            )
    return _encode_rows(design, new_data, groups, trials)


def _encode_rows(design: Design, new_data: pd.DataFrame, groups: str, trials) -> NewRows:
    """:func:`encode` once the columns are checked: this design's rows and (recursively) its other predictors'."""
    f = design.formula
    state = design.encoding.state_dict()
    X, names = model_matrix(f.terms, f.intercept, new_data, state, False, "the fixed effects")
    smooth_Z = {}
    if f.smooths:
        parts = [build_smooth(t, new_data, state, False) for t in smooth_terms(f.smooths)]
        X = np.hstack([X] + [p.fixed for p in parts])
        names = tuple(names) + tuple(nm for p in parts for nm in p.fixed_names)
        smooth_Z = {lab: Z for p in parts for lab, Z, _, _ in p.blocks}
    if design.aliased:  # columns dropped as aliased when fitting
        keep = [j for j, c in enumerate(names) if c not in design.aliased]
        X, names = X[:, keep], tuple(names[j] for j in keep)
    if design.encoding.drop_intercept and "Intercept" in names:  # ordinal: the thresholds replace it
        keep = [j for j, c in enumerate(names) if c != "Intercept"]
        X, names = X[:, keep], tuple(names[j] for j in keep)
    if names != design.x_names:  # pragma: no cover - the encoding fixes the columns
        raise DataError(f"new_data give the fixed-effect columns {names}, the model has {design.x_names}")
    _check_finite(X, names, new_data)
    offset = None
    if f.offsets:
        offset = np.zeros(len(new_data))
        for o in f.offsets:
            offset = offset + evaluate(o, new_data, state, False).values
        _check_finite(offset[:, None], ("offset",), new_data)
    codes, Zs, new_levels, labels = [], [], [], []
    for b in design.blocks:
        if b.is_smooth:
            c, Z, new = np.zeros(len(new_data), dtype=np.int64), smooth_Z[b.label], ()
            _check_finite(Z, tuple(f"{b.label}[{c}]" for c in b.coef_names), new_data)
        elif groups == "exclude":
            continue
        else:
            c, Z, new = _encode_block(b, new_data, state, groups)
        codes.append(c)
        Zs.append(Z)
        new_levels.append(new)
        labels.append(b.label)
    return NewRows(
        index=new_data.index.copy(),
        X=X,
        offset=offset,
        codes=tuple(codes),
        Z=tuple(Zs),
        new_levels=tuple(new_levels),
        trials=(
            _trials_arg(new_data, trials)
            if trials is not None
            else _weights_trials(design, new_data)
            if design.encoding.weights is not None
            else response_trials(f, new_data)
        ),
        **dict(zip(("lb", "ub"), _bounds_or_none(f, new_data))),
        labels=tuple(labels),
        dpars=tuple(_encode_rows(d, new_data, groups, None) for d in design.dpars),
    )


def _bounds_or_none(formula, data: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None]:
    """:func:`response_bounds`, or ``(None, None)`` (with a note for draws) when a bound's column is absent:
    means and the linear predictor do not need them."""
    try:
        return response_bounds(formula, data)
    except DataError:
        return _MISSING_BOUNDS, _MISSING_BOUNDS


#: marks bounds that new data cannot give (an error only when responses are drawn)
_MISSING_BOUNDS = np.full(0, np.nan)


def encode_terms(
    design: Design, new_data: pd.DataFrame, terms: tuple[str, ...] | None, groups: str = "include", trials=None
) -> NewRows:
    """:func:`encode` for predictions with only the random-effect terms labelled in ``terms`` (``None``: all,
    ``()``: none, as ``groups="exclude"``).

    The grouping columns of the left-out terms may be absent from ``new_data`` and their unseen levels are
    allowed (their effects do not enter); unseen levels of the kept terms need ``groups="sample_new"``. Pass
    the same ``terms`` to :func:`predictive_draws`.
    """
    if terms is None:
        return encode(design, new_data, groups, trials)
    if not terms or groups == "exclude":
        return encode(design, new_data, "exclude", trials)
    _check_choice("groups", groups, GROUPS)
    if isinstance(new_data, dict):
        new_data = pd.DataFrame(new_data)
    fill = {}
    for b in design.all_blocks:
        if b.label in terms or b.is_smooth:
            continue
        parts = str(b.levels[0]).split(":") if len(b.term.factor) > 1 else [b.levels[0]]
        for c, part in zip(b.term.factor, parts if len(parts) == len(b.term.factor) else [b.levels[0]] * 9):
            if isinstance(new_data, pd.DataFrame) and c not in new_data.columns:
                fill[c] = part  # a placeholder: this term's effects are left out
    rows = encode(design, new_data.assign(**fill) if fill else new_data, "sample_new", trials)
    pairs = [(b, new) for d, r in zip(design.predictors, rows.predictors) for b, new in zip(d.blocks, r.new_levels)]
    for b, new in pairs:
        if b.label in terms and new and groups != "sample_new":
            shown = ", ".join(repr(v) for v in new[:10]) + (f" and {len(new) - 10} more" if len(new) > 10 else "")
            raise DataError(
                f"the grouping factor {b.factor!r} of {b.term} has level(s) {shown} that were not in the data the "
                "model was fitted to. Use groups='sample_new' (allow_new_levels=True) to draw new effects for them "
                "from the population distribution, or leave the term out of re_formula"
            )
    return rows


def _trials_arg(data: pd.DataFrame, trials) -> np.ndarray:
    t = np.asarray(data[trials] if isinstance(trials, str) else trials, dtype=float).reshape(-1)
    if len(t) != len(data):
        raise DataError(f"trials has {len(t)} values for {len(data)} rows of new_data")
    return t


def _encode_block(b: GroupBlock, data: pd.DataFrame, state, groups: str):
    g = b.term
    terms = tuple(t for t in g.terms if not t.is_intercept)
    Z, znames = model_matrix(terms, g.has_intercept, data, state, False, str(g))
    if znames != b.coef_names:  # pragma: no cover
        raise DataError(f"new_data give the columns {znames} for {g}, the model has {b.coef_names}")
    _check_finite(Z, znames, data)
    own_codes, own_levels = _factor_codes(g, data, None)
    lookup = {lv: i for i, lv in enumerate(b.levels)}
    unseen = [lv for lv in own_levels if lv not in lookup]
    if unseen and groups == "include":
        shown = ", ".join(repr(v) for v in unseen[:10]) + (f" and {len(unseen) - 10} more" if len(unseen) > 10 else "")
        known = ", ".join(b.levels[:8]) + (", ..." if b.n_levels > 8 else "")
        raise DataError(
            f"the grouping factor {g.factor_label!r} of {g} has level(s) {shown} that were not in the data the "
            f"model was fitted to (it knows {b.n_levels} levels: {known}). Use groups='sample_new' to draw new "
            "effects for them from the population distribution, or groups='exclude' for population-level "
            "predictions"
        )
    new_lookup = {lv: b.n_levels + j for j, lv in enumerate(unseen)}
    to_code = np.array([lookup[lv] if lv in lookup else new_lookup[lv] for lv in own_levels], dtype=np.int64)
    return to_code[own_codes], Z, tuple(unseen)


def _new_effects(idata, b: GroupBlock, n_new: int, idx: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draws ``(S, n_new, k)`` of effects of unseen levels from ``N(0, G_s)``, one per posterior draw ``s``."""
    sd = block_sd(idata, b, idx)  # (S, k)
    z = rng.standard_normal((len(idx), n_new, b.k))
    name = N.corr(b.label)
    if name in idata.posterior and b.k > 1:
        C = draws_of(idata, name)[idx]  # (S, k, k)
        Lc = np.linalg.cholesky(C + 1e-10 * np.eye(b.k))
        z = np.einsum("sjk,slk->sjl", z, Lc)  # rows z_j @ Lᵀ: covariance C
    return z * sd[:, None, :]


def predictive_draws(
    fit,
    rows: NewRows,
    groups: str = "include",
    kind: str = "mean",
    seed: int | np.random.Generator | None = None,
    idx: np.ndarray | None = None,
    terms: tuple[str, ...] | None = None,
) -> np.ndarray:
    """Draws ``(S, m)`` of the linear predictor, the mean or a new response on encoded rows; ``(S, m, K)``
    category probabilities for ``kind="mean"`` in ordinal and categorical models (and, for ``categorical``,
    ``kind="link"``: the reference category's 0, then ``η_2 … η_K``). Every predicted parameter
    (``bf(..., sigma=~...)``) is computed on the rows from its own linear predictor.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    rows
        Rows from :func:`encode` (or the fitted rows).
    groups, kind
        See the module docstring.
    seed
        Seed of the draws of new-level effects and responses.
    idx
        Indices of the stacked posterior draws to use (all by default).
    terms
        Labels of the random-effect terms whose effects enter (all by default; lme4's ``re.form`` with some
        of the terms, see :func:`bayesmixed.interpret.resolve_re_formula`).
    """
    _check_choice("groups", groups, GROUPS)
    _check_choice("kind", kind, KINDS)
    idata, design, spec = fit.idata, fit.design, fit.spec
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    S = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    idx = np.arange(S) if idx is None else np.asarray(idx)
    etas = {d.dpar: _eta(idata, d, r, groups, idx, rng, terms) for d, r in zip(design.predictors, rows.predictors)}
    fam = spec.family_obj
    if kind == "link" and not design.dpars and fam.response_kind != "categories":
        return etas[design.dpar]
    eta, aux = family_inputs(idata, fam, etas, idx)
    if kind == "link":
        return fam.link_scale(eta, aux)
    if kind == "mean":
        if fam.needs_trials and rows.trials is None:  # E[y/n] does not depend on n for these families
            return fam.mean(eta, aux, np.ones(rows.n))
        return fam.mean(eta, aux, rows.trials)
    if fam.needs_trials and rows.trials is None:
        raise DataError(
            "kind='response' for a binomial model needs the numbers of trials of the new rows: include the "
            "columns of the formula's response in new_data, or pass trials= (an array or a column name)"
        )
    if rows.lb is _MISSING_BOUNDS:
        response_bounds(design.formula, pd.DataFrame(index=rows.index))  # raises, naming the columns
    from .families import bounds

    return bounds.draw(fam, eta, aux, rng, rows.trials, rows.lb, rows.ub)


def _eta(idata, design: Design, rows: NewRows, groups: str, idx: np.ndarray, rng, terms) -> np.ndarray:
    """Draws ``(S, m)`` of the linear predictor of ``design``'s parameter on ``rows``."""
    eta = np.zeros((len(idx), rows.n))
    var = N.beta_var(design.dpar)
    if var in idata.posterior:
        eta += draws_of(idata, var)[idx] @ rows.X.T
    if rows.offset is not None:
        eta += rows.offset
    from ._kernels import add_term, use_kernels

    big = use_kernels(eta.size)  # one fused pass per term, as summaries.linear_predictor
    by_label = {b.label: b for b in design.blocks}
    labels = rows.labels if rows.labels is not None else tuple(b.label for b in design.blocks)
    # smooth terms enter every prediction; random-effect terms unless excluded
    for lab, codes, Z, new in zip(labels, rows.codes, rows.Z, rows.new_levels):
        b = by_label[lab]
        if not b.is_smooth and (groups == "exclude" or (terms is not None and b.label not in terms)):
            continue
        r = draws_of(idata, f"r_{b.label}")[idx]  # (S, J, k)
        if new:
            if groups != "sample_new":
                raise DataError(f"unseen levels of {b.factor!r} need groups='sample_new'")
            r = np.concatenate([r, _new_effects(idata, b, len(new), idx, rng)], axis=1)
        intercept_only = b.coef_names == ("Intercept",)
        if big:
            add_term(eta, r, codes, Z, intercept_only)
        elif intercept_only:  # a column of ones: a plain gather
            eta += np.take(r[:, :, 0], codes, axis=1)
        else:
            eta += np.einsum("snk,nk->sn", r[:, codes, :], Z)
    return eta


def predict(
    fit,
    new_data: pd.DataFrame | None = None,
    groups: str = "include",
    kind: str = "mean",
    prob: float = 0.95,
    draws: bool = False,
    seed: int | None = None,
    trials=None,
    terms: tuple[str, ...] | None = None,
):
    """Posterior predictions for new (or the fitted) rows.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    new_data
        Rows to predict (``None``: the fitted rows).
    groups
        ``"include"`` (known levels' effects; unseen levels are an error), ``"exclude"`` (population level,
        lme4's ``re.form = NA``) or ``"sample_new"`` (unseen levels get new effects drawn from the population).
    kind
        ``"mean"`` (E[y], ``g⁻¹(η)`` for most families), ``"response"`` (new observations from the family) or
        ``"link"`` (η).
    prob
        Probability of the equal-tailed interval.
    draws
        Also return the draws, as an ``xarray.DataArray`` with dims ``(chain, draw, row)``.
    seed
        Seed of the random parts (new-level effects, response draws).
    trials
        Numbers of trials for binomial response draws (array or column name of ``new_data``).
    terms
        Labels of the random-effect terms to include (``None``: all; ``()``: none, as ``groups="exclude"``);
        see :func:`encode_terms`.

    Returns
    -------
    pandas.DataFrame or (pandas.DataFrame, xarray.DataArray)
        Index: the rows' index labels (for category probabilities, ``kind="mean"`` of ordinal and
        categorical models: (row, ``category``) pairs); columns ``mean``, ``sd``, ``lower``, ``upper``. The
        draws have dims ``(chain, draw, row)`` (and ``category``).
    """
    _check_choice("groups", groups, GROUPS)
    _check_choice("kind", kind, KINDS)
    if new_data is None and trials is not None:
        raise DataError("trials= is for new_data; the fitted rows use the fitted numbers of trials")
    if terms is not None and not terms:
        groups = "exclude"
    rows = (_from_design(fit.design, groups) if new_data is None
            else encode_terms(fit.design, new_data, terms, groups, trials))
    x = predictive_draws(fit, rows, groups, kind, seed, terms=terms)
    lo, hi = interval(x, prob)
    index: pd.Index = rows.index
    categories = None
    if x.ndim == 3:  # category probabilities: one row per (row, category)
        categories = category_labels(fit.design, x.shape[2])
        index = pd.MultiIndex.from_product([list(rows.index), categories],
                                           names=[rows.index.name or "row", "category"])
    flat = lambda a: a.reshape(-1)  # noqa: E731 - rows outer, categories inner
    table = pd.DataFrame(
        {"mean": flat(x.mean(axis=0)), "sd": flat(x.std(axis=0, ddof=1)), "lower": flat(lo), "upper": flat(hi)},
        index=index,
    )
    if not draws:
        return table
    import xarray as xr

    post = fit.idata.posterior
    arr = x.reshape((post.sizes["chain"], post.sizes["draw"]) + x.shape[1:])
    dims = ("chain", "draw", "row") + (("category",) if categories is not None else ())
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, "row": np.asarray(rows.index)}
    if categories is not None:
        coords["category"] = categories
    da = xr.DataArray(arr, dims=dims, coords=coords, name=kind)
    return table, da


def category_labels(design: Design, C: int) -> list:
    """Labels of a trailing category axis of ``C``: the response's categories when there are ``C`` of them,
    else ``0 … C − 1``."""
    levels = design.response_levels
    return list(levels) if levels is not None and len(levels) == C else list(range(C))


def posterior_predictive(fit, seed: int | None = None):
    """A new InferenceData: ``fit.idata``'s groups plus ``posterior_predictive`` (variable ``y``, dim ``obs``).

    One replicated response per posterior draw and fitted row, with the estimated group effects (what
    ``az.plot_ppc`` and ``fit.plot.ppc()`` compare with ``observed_data``). ``observed_data`` is added when
    missing. The input is not modified.
    """
    import xarray as xr

    from . import _arviz

    design = fit.design
    post = fit.idata.posterior
    y_rep = predictive_draws(fit, _from_design(design, "include"), "include", "response", seed)
    coords = {"chain": post["chain"].values, "draw": post["draw"].values, N.OBS: np.arange(design.n)}
    pp = xr.Dataset(
        {N.RESPONSE: xr.DataArray(y_rep.reshape(post.sizes["chain"], post.sizes["draw"], design.n),
                                  dims=("chain", "draw", N.OBS), coords=coords)}
    )
    groups = {g: getattr(fit.idata, g) for g in _arviz.groups(fit.idata) if g != "posterior_predictive"}
    groups["posterior_predictive"] = pp
    if "observed_data" not in groups:
        groups["observed_data"] = observed_data(design)
    return _arviz.inference_data(**groups)
