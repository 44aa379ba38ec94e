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
from ..errors import DataError, UnknownTermError
from ..formula.ast import Formula, GroupTerm, Name, Response, expr_to_str
from ..formula.parser import parse_formula
from . import rmath
from .evaluate import (
    Basis,
    Categorical,
    Numeric,
    State,
    check_columns,
    data_columns,
    evaluate,
    expr_columns,
    is_categorical_series,
    is_logical,
    level_str,
    not_whole,
    prefit_state,
)
from .autocor import Autocor, autocor_columns, autocor_spec, build_autocor
from .matrix import model_matrix
from .smooth import build_smooth, smooth_terms

__all__ = ["Design", "GroupBlock", "Encoding", "ResponseTerms", "build_design", "check_estimable", "used_columns"]


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
        Level labels (strings; ``a:b`` for interactions), in code order: R's order (a categorical's
        categories, numbers numerically, text alphabetically; interactions by their first column, nested
        terms as lme4 orders them, see ``GroupTerm.level_order``).
    kind
        ``"group"`` (a random-effect term ``(… | g)``: an SD per coefficient, correlations), ``"smooth"`` (the
        penalised part of a smooth term: one level, its k columns share ONE SD, ``sd_<label>``), ``"gp"`` (the
        basis of an approximate Gaussian process: one level, column j has SD ``sqrt(S(spectral[j]))`` from
        ``sdgp_<label>`` and ``lscale_<label>``) or ``"cosy"`` (the random intercept that carries a
        compound-symmetric residual correlation, ``bayesmixed.design.autocor``).
    spectral
        For ``"gp"``: ``√λ_j`` of each basis column.
    """

    label: str
    term: GroupTerm
    coef_names: tuple[str, ...]
    Z: np.ndarray
    codes: np.ndarray
    levels: tuple[str, ...]
    kind: str = "group"
    spectral: tuple[float, ...] = ()

    @property
    def is_smooth(self) -> bool:
        """Whether the block is the penalised part of a smooth or GP term (population-level: it enters every
        prediction, and has no grouping column)."""
        return self.kind in ("smooth", "gp")

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
class ResponseTerms:
    """brms's response terms of a model (``y | weights(w) + cens(c, y2) + trunc(lb, ub)``), per row.

    Attributes
    ----------
    weights
        Likelihood weights (positive), or None.
    cens
        Censoring codes (int8): -1 left, 0 none, 1 right, 2 interval (brms's; see
        :mod:`bayesmixed.families.bounds`), or None.
    y2
        Upper ends of the interval-censored rows (0 on the other rows), or None.
    lb, ub
        Truncation bounds (−inf / +inf where a row is unbounded), or None.
    """

    weights: np.ndarray | None = None
    cens: np.ndarray | None = None
    y2: np.ndarray | None = None
    lb: np.ndarray | None = None
    ub: np.ndarray | None = None

    FIELDS = ("weights", "cens", "y2", "lb", "ub")

    def take(self, idx: np.ndarray) -> "ResponseTerms":
        """The terms of rows ``idx`` (positions)."""
        return ResponseTerms(**{k: None if getattr(self, k) is None else _frozen(getattr(self, k)[idx])
                                for k in self.FIELDS})

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays that are given, by field name."""
        return {k: getattr(self, k) for k in self.FIELDS if getattr(self, k) is not None}

    @property
    def censored(self) -> bool:
        """Whether any row is censored."""
        return self.cens is not None and bool(np.any(self.cens != 0))

    @property
    def truncated(self) -> bool:
        """Whether any row has a finite truncation bound."""
        return any(v is not None and bool(np.any(np.isfinite(v))) for v in (self.lb, self.ub))


@dataclass(frozen=True)
class Encoding:
    """Everything needed to encode new data the way the fitted data were encoded.

    Attributes
    ----------
    state
        Frozen copy of the transform state: categorical levels and contrasts, ``scale()`` centre and scale,
        ``poly()`` coefficients, spline knots (see :mod:`bayesmixed.design.evaluate`).
    x_names
        The fixed-effect columns of the model.
    aliased
        Fixed-effect columns that were built but dropped as linear combinations of the others (lme4's
        "rank deficient so dropping N columns"); new data drop them too.
    weights
        The column whose values are the numbers of trials of a proportion response (``weights=``), if any.
    drop_intercept
        Whether the intercept column was removed from ``X`` after it was built (ordinal models, whose thresholds
        replace it, and brms's ``disc`` predictor): new data drop it too.
    """

    formula: Formula
    state: tuple[tuple[str, Any], ...]
    x_names: tuple[str, ...]
    block_labels: tuple[str, ...]
    block_levels: tuple[tuple[str, ...], ...]
    aliased: tuple[str, ...] = ()
    weights: str | None = None
    drop_intercept: bool = False

    def state_dict(self) -> State:
        return dict(self.state)

    def contrasts(self) -> dict[str, Any]:
        """The coding of each contrast-coded categorical variable, in the form ``build_design(contrasts=)``
        takes (a name, or a DataFrame indexed by level), so that a model rebuilt from this one codes them alike."""
        out: dict[str, Any] = {}
        for key, st in self.state:
            if st[0] == "levels" and len(st) > 2:
                spec = st[2]
                if isinstance(spec, str):
                    out[key] = spec
                else:
                    out[key] = pd.DataFrame(spec[1], index=[level_str(lv) for lv in st[1]], columns=list(spec[2]))
        return out


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
        Fixed-effect matrix and its column names (R's names and order), without the aliased columns
        (:attr:`aliased`).
    offset
        Sum of ``offset()`` terms, or ``None``.
    blocks
        One :class:`GroupBlock` per random-effect term.
    rows
        Index labels of the rows of the user's data that were used (after dropping missing values).
    response_levels
        For a categorical (two-level) response: ``(failure, success)`` levels; for a response of categories
        (``response_kind="categories"``): the K categories, in the order of their codes 1..K.
    autocor
        The residual correlation structure (``ar()``, ``cosy()``), or ``None``.
    frame
        The model frame (R's ``model.frame``): the used columns of the used rows of the user's data, as they
        were (a copy; index ``rows``). Interpretation (:mod:`bayesmixed.interpret`: grids, contrasts,
        averages over the data) and ``Fit.update`` read the raw predictors from it; treat it as read-only.
        ``None`` for a Design that was built without one.
    response_terms
        brms's ``weights()``, ``cens()`` and ``trunc()`` of the response (:class:`ResponseTerms`), or None.
    response_ordered
        For a response of categories (ordinal and categorical families, ``y`` coded 1..K and
        ``response_levels`` the K categories): whether it was an ordered pandas categorical (None for the
        integers 1..K).
    dpar
        The parameter this design predicts: ``"mu"`` (the mean), or a distributional parameter (``"sigma"``,
        ``"disc"``; ``"mu2"``, ... for the categorical family), whose random-effect terms are labelled
        ``<factor>__<dpar>`` (:func:`bayesmixed.naming.dpar_label`).
    dpars
        The designs of the model's other predicted parameters (``bf(..., sigma="~ x")``), on the same rows;
        empty for a model with one linear predictor. :attr:`predictors` lists this design and them.
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
    response_levels: tuple[Any, ...] | None = None
    n_dropped: int = 0
    dropped_columns: tuple[str, ...] = field(default=())
    frame: pd.DataFrame | None = field(default=None, compare=False, repr=False)
    response_terms: ResponseTerms | None = None
    autocor: Autocor | None = field(default=None, compare=False, repr=False)
    response_ordered: bool | None = None
    dpar: str = "mu"
    dpars: tuple["Design", ...] = ()

    @property
    def n(self) -> int:
        return len(self.y)

    @property
    def predictors(self) -> tuple["Design", ...]:
        """This design and those of the other predicted parameters (``dpars``), in model order."""
        return (self,) + tuple(self.dpars)

    @property
    def all_blocks(self) -> tuple[GroupBlock, ...]:
        """The random-effect terms of every predictor (labels are unique across them)."""
        return tuple(b for d in self.predictors for b in d.blocks)

    def predictor(self, dpar: str) -> "Design":
        """The design that predicts ``dpar``."""
        for d in self.predictors:
            if d.dpar == dpar:
                return d
        raise KeyError(f"no predictor of {dpar!r}; the model predicts {', '.join(d.dpar for d in self.predictors)}")

    def predictor_of_block(self, label: str) -> "Design":
        """The design whose random-effect terms include the one labelled ``label``."""
        for d in self.predictors:
            if any(b.label == label for b in d.blocks):
                return d
        raise KeyError(label)

    @property
    def weights(self) -> np.ndarray | None:
        """Likelihood weights (``y | weights(w)``), or None."""
        return None if self.response_terms is None else self.response_terms.weights

    @property
    def lb(self) -> np.ndarray | None:
        """Lower truncation bounds (``y | trunc(lb = ...)``), or None."""
        return None if self.response_terms is None else self.response_terms.lb

    @property
    def ub(self) -> np.ndarray | None:
        """Upper truncation bounds (``y | trunc(ub = ...)``), or None."""
        return None if self.response_terms is None else self.response_terms.ub

    @property
    def aliased(self) -> tuple[str, ...]:
        """Fixed-effect columns dropped as linear combinations of the others (rank-deficient ``X``)."""
        return self.encoding.aliased

    @property
    def response_label(self) -> str:
        """The response as written, without brms's ``weights()``, ``cens()`` and ``trunc()`` terms."""
        return self.formula.response.value_label if self.formula.response else "y"

    def block(self, label: str) -> GroupBlock:
        """The random-effect term labelled ``label`` (any predictor's), or the first of the mean's (then the
        others') terms whose grouping factor is ``label``."""
        blocks = self.all_blocks
        for b in blocks:
            if b.label == label:
                return b
        for b in blocks:
            if b.factor == label:
                return b
        raise UnknownTermError(
            f"no random-effect term {label!r}; the model has {', '.join(repr(b.label) for b in blocks) or 'none'}"
        )


def used_columns(formula: Formula, data: pd.DataFrame | None = None, response: bool = True) -> dict[str, str]:
    """Column name -> where it is used (for messages), in formula order; with ``data``, without the R
    constants (``pi``, ``TRUE``) that ``data`` has no column for; ``response=False``: the right-hand side only."""
    out: dict[str, str] = {}
    if formula.response is not None and response:
        r = formula.response
        for c in expr_columns(r.expr) + (expr_columns(r.second) if r.second is not None else []):
            out.setdefault(c, "the response")
        for role, e in r.term_exprs:
            for c in expr_columns(e):
                out.setdefault(c, _TERM_ROLES[role])
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
    for sm in formula.smooths:
        for c in smooth_columns(sm):
            out.setdefault(c, f"the smooth term {expr_to_str(sm)}")
    for a in formula.autocor:
        for c in autocor_columns(autocor_spec((a,))):
            out.setdefault(c, f"the residual correlation {expr_to_str(a)}")
    if data is not None:
        keep = set(data_columns(list(out), data))
        out = {c: w for c, w in out.items() if c in keep}
    return out


#: what each response term is, in messages
_TERM_ROLES = {"weights": "weights() in the response", "cens": "cens() in the response",
               "y2": "the upper ends of cens(c, y2) in the response", "lb": "trunc(lb = ) in the response",
               "ub": "trunc(ub = ) in the response"}


def smooth_columns(call) -> list[str]:
    """The data columns a smooth term reads: its variables and its ``by`` variable."""
    cols = expr_columns(call)
    cols += [c for k, v in call.kwargs if k == "by" for c in expr_columns(v)]
    return cols


def block_terms(formula: Formula, smooth_labels: tuple[str, ...] = (), dpar: str = "mu") -> list[tuple[str, GroupTerm]]:
    """``(label, term)`` of every block of a design built from ``formula`` (predicting ``dpar``), in design order:
    the random-effect terms, then the smooth terms' blocks (labelled ``smooth_labels``), then the
    compound-symmetry block."""
    out = list(zip(_block_labels(formula.groups, dpar), formula.groups))
    out += [(lab, _smooth_group(lab)) for lab in smooth_labels]
    spec = autocor_spec(formula.autocor)
    if spec is not None and spec.kind == "cosy":
        out.append((f"cosy({spec.gr})", _cosy_group(spec)))
    return out


def _smooth_group(label: str) -> GroupTerm:
    """The stand-in grouping term of a smooth block (one level, no grouping column)."""
    return GroupTerm((), (label,), False)


def _cosy_group(spec) -> GroupTerm:
    from ..formula.ast import Term

    if spec.gr is None:
        raise DataError(f"{expr_to_str(spec.call)}: compound symmetry needs the groups: cosy(gr = g)")
    return GroupTerm((Term(()),), (spec.gr,), True)


def formula_variables(f: Formula) -> set[str]:
    """Labels of every variable of a formula (``recipe``, ``factor(k)``, ``poly(x, 2)``)."""
    return {expr_to_str(e) for e in _formula_exprs(f)}


def _formula_exprs(f: Formula) -> list[Any]:
    """Every value expression of a formula: response, fixed terms, offsets, random-effect terms."""
    out = []
    if f.response is not None:
        out += [f.response.expr] + ([f.response.second] if f.response.second is not None else [])
        out += [e for _, e in f.response.term_exprs]
    out += [e for t in f.terms for e in t.factors] + list(f.offsets)
    out += [e for g in f.groups for t in g.terms for e in t.factors]
    return out


def _block_labels(groups: tuple[GroupTerm, ...], dpar: str = "mu") -> list[str]:
    from .. import naming as N

    labels: list[str] = []
    seen: dict[str, int] = {}
    for g in groups:
        base = g.factor_label
        seen[base] = seen.get(base, 0) + 1
        labels.append(N.dpar_label(base if seen[base] == 1 else f"{base}_{seen[base]}", dpar))
    for i, lab in enumerate(labels):
        j = labels.index(lab)
        if j != i:  # (0 + x | g) is labelled g_2, and so is (1 | g_2): their posterior variables would merge
            raise DataError(
                f"the random-effect terms {groups[j]} and {groups[i]} would both be labelled {lab!r} in the posterior "
                f"(sd_{lab}, r_{lab}); rename the grouping column {groups[i].factor_label!r} (e.g. to "
                f"{groups[i].factor_label.replace('_', '') + 'x'!r}) or combine the terms"
            )
    return labels


#: names the posterior already uses for variables and dimensions (``obs``, lme4's usual name of an
#: observation-level factor, is the log-likelihood's dimension in another group, and stays allowed)
RESERVED = {
    "chain": "the sampler's chains", "draw": "the draws", "coef": "the fixed effects",
    "beta": "the fixed effects", "sigma": "the residual SD", "nu": "the Student-t degrees of freedom",
    "alpha": "the negative-binomial or gamma shape", "phi": "the beta precision", "lam": "the inverse-Gaussian shape",
}


def check_names(x_names: tuple[str, ...], blocks) -> None:
    """Refuse coefficient and term names that would collide in the posterior: two fixed-effect coefficients of
    one name (a column called ``Intercept`` beside the intercept), a term label that is a name the posterior
    already uses (``chain``, ``draw``, ``coef``, ``sigma``, ``beta``, ...), or one term's variable or dimension
    named like another's."""
    dup = sorted({n for n in x_names if x_names.count(n) > 1})
    if dup:
        name = dup[0]
        extra = (" (the model's own intercept is named 'Intercept'; write 0 + Intercept to drop it, or rename the "
                 "column)") if name == "Intercept" else ""
        raise DataError(
            f"two fixed-effect coefficients would both be named {name!r}{extra}; rename the column, e.g. "
            f"df.rename(columns={{{name!r}: {name + '_x'!r}}})"
        )
    taken: dict[str, str] = {n: why for n, why in RESERVED.items()}
    for b in blocks:
        dupc = sorted({n for n in b.coef_names if b.coef_names.count(n) > 1})
        if dupc:
            raise DataError(f"the random-effect term {b.term} has two coefficients named {dupc[0]!r}; rename the column")
        for name in (b.label, f"{b.label}_coef", f"{b.label}_coef2", f"sd_{b.label}", f"corr_{b.label}",
                     f"r_{b.label}"):
            if name in taken:
                col = b.term.factor_label
                raise DataError(
                    f"the grouping factor {col!r} of {b.term} would name {name!r} in the posterior, which already "
                    f"stands for {taken[name]}; rename the column, e.g. df.rename(columns={{{col!r}: {col + '_id'!r}}})"
                )
            taken[name] = f"the term {b.term}"


def check_levels_vs_rows(design: Design, family: str, sigma_prior: bool = False) -> None:
    """Gaussian models only: lme4's ``check.nobs.vs.nlev`` (every grouping factor must have fewer levels than
    there are observations: with one row per level, the residual SD and the SD of the group effects cannot be
    told apart, and the posterior is a ridge that NUTS crawls along), unless the user's own prior on ``sigma``
    tells them apart (a known measurement SD, as in the eight-schools model: ``sigma_prior=True``); and a
    response that varies (a constant one sends the residual SD to 0, where the density is unbounded)."""
    if family != "gaussian":
        return
    y = np.asarray(design.y, dtype=float)
    if design.n and np.all(y == y[0]):
        raise DataError(
            f"the response {design.response_label!r} is constant ({y[0]:g} on all {design.n} rows): a Gaussian "
            "model of it has a residual SD of 0 and no posterior; check the column (is it the right one?)"
        )
    for b in design.blocks:
        if b.n_levels >= design.n and not sigma_prior:
            raise DataError(
                f"number of levels of each grouping factor must be < number of observations (problems: "
                f"{b.term.factor_label!r} of {b.term} has {b.n_levels} levels for {design.n} observations): with at "
                "most one row per level, the residual SD and the SD of the group effects cannot be told apart in "
                "a Gaussian model; drop the term (its variation is the residual), give sigma an informative prior "
                "(a known measurement SD, as in the eight-schools model), or fit a family without a residual SD"
            )


def as_pandas(data) -> pd.DataFrame:
    """The user's data as a pandas DataFrame: a DataFrame as it is, a dict of columns, or a data frame of another
    library that converts itself (polars, pyarrow: ``to_pandas()``); anything else is refused."""
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        if isinstance(data.columns, pd.MultiIndex):
            raise DataError(
                f"the data frame has column names of {data.columns.nlevels} levels (a MultiIndex, e.g. "
                f"{data.columns[0]!r}); flatten them first, e.g. df.columns = ['_'.join(map(str, c)) for c in "
                "df.columns]"
            )
        return data
    kind = f"{type(data).__module__.split('.')[0]}.{type(data).__name__}"
    if kind.split(".")[0] in ("polars", "pyarrow", "modin", "cudf") and callable(getattr(data, "to_pandas", None)):
        try:
            out = data.to_pandas()
        except Exception as err:  # noqa: BLE001 - their conversion, named
            raise DataError(f"could not convert the {kind} to pandas ({type(err).__name__}: {err}); pass "
                            "data.to_pandas() yourself") from err
        if isinstance(out, pd.DataFrame):
            return out
    raise DataError(
        f"data must be a pandas DataFrame (or a dict of columns), got {kind}"
        + ("; convert it with .to_pandas()" if callable(getattr(data, "to_pandas", None)) else "")
    )


def _check_response_not_a_predictor(f: Formula) -> None:
    """The response's own column may not appear on the right-hand side (``y ~ y``, ``(y | g)``)."""
    resp = set(expr_columns(f.response.expr))
    used = used_columns(f, response=False)
    both = [c for c in used if c in resp]
    if both:
        raise DataError(
            f"the response column {both[0]!r} is also used on the right-hand side ({used[both[0]]}): a model "
            "cannot predict a variable from itself; remove it from the right-hand side"
        )


#: values beyond this magnitude overflow when squared (scaled default priors, sufficient statistics)
MAX_MAGNITUDE = 1e100


def _check_scale(M: np.ndarray, names: tuple[str, ...], d: pd.DataFrame) -> None:
    if not M.size:
        return
    big = np.abs(M) > MAX_MAGNITUDE
    if big.any():
        j = int(np.argmax(big.any(axis=0)))
        raise DataError(
            f"{names[j]!r} has values as large as {float(np.max(np.abs(M[:, j]))):.3g} (rows "
            f"{d.index[big[:, j]][:5].tolist()}): squares of such numbers overflow; rescale it (other units, "
            "or scale() in the formula)"
        )


def _column_levels(s: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes and level labels of one grouping column, in R's order: a categorical's categories (those
    present), numbers in numeric order (``3.0`` and ``3`` are one level), anything else sorted as text."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = [str(x) for x in s.cat.categories]
        raw = s.cat.codes.to_numpy()
        present, codes = np.unique(raw, return_inverse=True)
        return codes.reshape(-1), [cats[i] for i in present]
    if pd.api.types.is_float_dtype(s.dtype):
        v = s.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            whole = np.all(np.mod(v, 1) == 0) and np.all(np.abs(v) < 2.0**53)
        if whole:
            s = pd.Series(v.astype(np.int64), index=s.index)
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        uniq, codes = np.unique(s.to_numpy(), return_inverse=True)
        return codes.reshape(-1), [str(u) for u in uniq.tolist()]
    if pd.api.types.is_bool_dtype(s.dtype):  # False before True
        uniq, codes = np.unique(s.to_numpy(dtype=bool), return_inverse=True)
    else:
        uniq, codes = np.unique(s.astype(str).to_numpy(dtype=object), return_inverse=True)
    return codes.reshape(-1), [str(u) for u in uniq.tolist()]


def _factor_codes(
    g: GroupTerm, data: pd.DataFrame, levels: tuple[str, ...] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Level codes of each row and the level labels of a grouping factor.

    The levels of an interaction ``a:b`` are the combinations present, labelled ``a-level:b-level`` and
    ordered as R orders them: by the first column's levels, then the second's (for the inner term of
    ``a/b``, by ``b`` first, as lme4's ``b:a``; see ``GroupTerm.level_order``). With ``levels`` given,
    rows are coded against them (``-1`` for a level not among them).
    """
    cols = [_column_levels(data[c]) for c in g.factor]
    if len(cols) == 1:
        codes, labels = cols[0]
        own = tuple(labels)
    else:
        order = list(g.level_order) if g.level_order is not None else list(range(len(cols)))
        dims = [len(cols[i][1]) for i in order]
        key = np.ravel_multi_index([cols[i][0] for i in order], dims) if len(data) else np.zeros(0, dtype=np.int64)
        present, codes = np.unique(key, return_inverse=True)
        parts = np.unravel_index(present, dims)
        by_col = {i: parts[j] for j, i in enumerate(order)}
        own = tuple(":".join(cols[i][1][by_col[i][m]] for i in range(len(cols))) for m in range(len(present)))
        codes = codes.reshape(-1)
    if levels is None:
        return codes.astype(np.int64), own
    lookup = {lv: i for i, lv in enumerate(levels)}
    remap = np.array([lookup.get(lv, -1) for lv in own], dtype=np.int64)
    return remap[codes] if len(codes) else codes.astype(np.int64), levels


def _response(
    r: Response, data: pd.DataFrame, state: State
) -> tuple[np.ndarray, np.ndarray | None, tuple[Any, Any] | None]:
    label = r.label
    levels = None
    v = Numeric(_numeric_of(r.expr, data, state)) if is_logical(r.expr) else evaluate(r.expr, data, state, True)
    if isinstance(v, Categorical):
        if len(v.levels) != 2:
            shown = ", ".join(map(repr, v.levels[:6])) + (" ..." if len(v.levels) > 6 else "")
            raise DataError(
                f"the response {label!r} is not numeric: it has {len(v.levels)} distinct values ({shown}). "
                "Use a numeric column, or a column with exactly two levels for family='bernoulli'"
            )
        y = v.codes.astype(float)
        levels = (v.levels[0], v.levels[1])
    elif isinstance(v, Basis):
        raise DataError(f"the response {label!r} gives several columns; the response must be one variable")
    else:
        y = v.values
    trials = None
    if r.kind in ("cbind", "trials"):
        w = evaluate(r.second, data, state, True)
        if isinstance(w, Categorical):
            raise DataError(f"{expr_to_str(r.second)} in the response {label!r} must be numeric counts")
        trials = y + w.values if r.kind == "cbind" else w.values
        bad = ~np.isfinite(trials)
        if bad.any():
            rows = data.index[bad][:5].tolist()
            raise DataError(
                f"the numbers of trials of the response {label!r} are not finite ({trials[bad][0]}) on "
                f"{int(bad.sum())} row(s), first rows {rows}: a binomial count needs a finite number of trials; "
                "fix or drop those rows"
            )
    return y, trials, levels


def _category_response(r: Response, data: pd.DataFrame, state: State) -> tuple[np.ndarray, tuple, bool | None]:
    """A response of categories (ordinal and categorical families): ``y`` coded 1..K, the K categories, and
    whether they came from an ordered pandas categorical (None for the integers 1..K). A category without rows
    is an error: the parameters around it would be identified by their priors alone."""
    label = r.label
    if r.kind != "single":
        raise DataError(f"the response {label!r} gives numbers of trials; a response of categories is one column")
    if isinstance(r.expr, Name) and r.expr.name in data.columns and isinstance(data[r.expr.name].dtype, pd.CategoricalDtype):
        s = data[r.expr.name]
        cats = tuple(s.cat.categories.tolist())
        codes = s.cat.codes.to_numpy()
        counts = np.bincount(codes[codes >= 0], minlength=len(cats))
        empty = [c for c, k in zip(cats, counts) if k == 0]
        if empty:
            raise DataError(
                f"the response {label!r} has no rows in categor{'y' if len(empty) == 1 else 'ies'} "
                f"{', '.join(map(repr, empty[:5]))}: the thresholds (or category effects) next to an empty category "
                f"are not identified by the data; drop it (data[{label!r}] = data[{label!r}].cat."
                "remove_unused_categories()) or merge it with a neighbouring category"
            )
        return (codes + 1).astype(float), cats, bool(s.cat.ordered)
    v = evaluate(r.expr, data, state, True)
    if isinstance(v, Categorical):
        return (v.codes + 1).astype(float), tuple(v.levels), bool(v.ordered)
    if isinstance(v, Basis):
        raise DataError(f"the response {label!r} gives several columns; the response must be one variable")
    y = v.values
    bad = (y != np.round(y)) | (y < 1)
    if bad.any():
        raise DataError(
            f"the response {label!r} must be an ordered pandas Categorical or the integers 1..K (as brms); rows "
            f"{data.index[bad][:5].tolist()} hold {np.unique(y[bad])[:5].tolist()}"
            + (" (for categories coded from 0, add 1)" if np.nanmin(y) == 0 else "")
        )
    K = int(y.max())
    absent = sorted(set(range(1, K + 1)) - set(np.unique(y).astype(int).tolist()))
    if absent:
        raise DataError(
            f"the response {label!r} takes values up to {K} but never {', '.join(map(str, absent[:10]))}: the "
            "parameters next to an empty category are not identified by the data; recode it to consecutive "
            "integers 1..K"
        )
    return y.astype(float), tuple(range(1, K + 1)), None


def _numeric_of(e: Any, data: pd.DataFrame, state: State) -> np.ndarray:
    """A comparison as a 0/1 response (``Reaction > 250 ~ ...``)."""
    from .evaluate import _numeric

    return _numeric(e, data, state, True, expr_to_str(e))


#: name of the weights column inside the working frame (never a formula variable: it holds parentheses)
_WEIGHTS = "(weights)"

#: lme4's tolerance for aliased fixed-effect columns (``chkRank.drop.cols``: ``qr(X, tol = 1e-7)``)
ALIAS_TOL = 1e-7


def _weights_column(weights: Any, data: pd.DataFrame) -> tuple[pd.Series, str | None]:
    """The weights as a series aligned with ``data``, and the column name they came from (if any)."""
    if isinstance(weights, str):
        check_columns([weights], data, "weights=")
        s = data[weights]
        name: str | None = weights
    else:
        if isinstance(weights, pd.Series):
            s = weights.reindex(data.index) if not weights.index.equals(data.index) else weights
        else:
            arr = np.asarray(weights)
            if arr.ndim != 1 or len(arr) != len(data):
                raise DataError(
                    f"weights= has {arr.size} values for {len(data)} rows; give a column name or one number per row"
                )
            s = pd.Series(arr, index=data.index)
        name = None
    if is_categorical_series(s) or not pd.api.types.is_numeric_dtype(s.dtype):
        raise DataError(f"weights= ({name or 'the array given'}) must be numbers of trials, got dtype {s.dtype}")
    return s.astype(float), name


def _proportion_trials(y: np.ndarray, w: np.ndarray, label: str, rows: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    """Successes and trials of a proportion response with ``weights=`` (glmer's ``y / n ~ ...,
    weights = n``): successes = proportion × weights, which must be whole numbers."""
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataError(
            f"weights= must be non-negative numbers of trials; rows {rows[bad][:5].tolist()} have "
            f"{w[bad][0]}: fix or drop those rows"
        )
    out = (y < 0) | (y > 1)
    if out.any():
        raise DataError(
            f"with weights=, the response {label!r} is a proportion of successes and must lie in [0, 1]; rows "
            f"{rows[out][:5].tolist()} have {y[out][0]:g}. For counts of successes write "
            "cbind(successes, failures) ~ ... or successes | trials(n) ~ ... without weights="
        )
    succ = y * w
    frac = not_whole(succ)
    if frac.any():
        i = int(np.argmax(frac))
        raise DataError(
            f"the response {label!r} times weights= is not a whole number of successes on {int(frac.sum())} "
            f"row(s), first rows {rows[frac][:5].tolist()} ({y[i]:g} × {w[i]:g} = {succ[i]:g}): with weights=, "
            "the response is a proportion and weights= its number of trials; check that they belong together"
        )
    return np.round(succ), w


def _drop_aliased(X: np.ndarray, names: tuple[str, ...]) -> tuple[list[int], str]:
    """Columns of ``X`` that lme4 drops as aliased (R's QR with limited pivoting at ``tol = 1e-7``), and a
    sentence saying what each is a combination of."""
    n, p = X.shape
    norms = np.linalg.norm(X, axis=0)
    if p <= n and np.all(norms > 0):
        # fast path: when every column keeps well over tol of its norm after the ones before it (LAPACK QR, no
        # pivoting), R's pivoted QR moves nothing either
        r = np.abs(np.diag(np.linalg.qr(X, mode="r")))
        if np.all(r > 100 * ALIAS_TOL * norms):
            return [], ""
    q = rmath.qr_lapack_free(X, ALIAS_TOL)
    if q.rank == X.shape[1]:
        return [], ""
    drop = sorted(int(j) for j in q.pivot[q.rank :])
    keep = [j for j in range(X.shape[1]) if j not in drop]
    why = []
    for j in drop[:3]:
        if not np.any(X[:, j]):
            why.append(f"{names[j]!r} is 0 on every row")
            continue
        coef, *_ = np.linalg.lstsq(X[:, keep], X[:, j], rcond=None)
        scale = np.linalg.norm(X[:, keep], axis=0) * np.abs(coef)
        partners = [names[keep[i]] for i in np.flatnonzero(scale > 1e-6 * max(np.linalg.norm(X[:, j]), 1e-300))]
        why.append(f"{names[j]!r} is a linear combination of {', '.join(map(repr, partners[:6]))}"
                   + (", ..." if len(partners) > 6 else ""))
    if len(drop) > 3:
        why.append(f"and {len(drop) - 3} more")
    return drop, "; ".join(why)


def build_design(
    formula: Formula | str,
    data: pd.DataFrame,
    missing: str = "drop",
    *,
    weights: str | Any | None = None,
    contrasts: dict[str, Any] | None = None,
    rank_deficient: str = "drop",
    response_kind: str = "numeric",
    drop_intercept: bool = False,
    dpar: str = "mu",
) -> Design:
    """Validate ``data`` against ``formula`` and build the :class:`Design`.

    Parameters
    ----------
    formula
        Formula text or a parsed :class:`~bayesmixed.formula.Formula`.
    data
        The user's data frame; never modified.
    missing
        ``"drop"`` (default): rows with a missing value in a used column are dropped with a warning;
        ``"raise"``: such rows raise a :class:`~bayesmixed.errors.DataError`.
    weights
        Numbers of trials of a proportion response, as glmer's ``weights=``: with
        ``incidence / size ~ period + (1 | herd)`` and ``weights="size"`` the successes are
        proportion × weights (whole numbers, else a :class:`~bayesmixed.errors.DataError`) and the trials the weights. A column
        name (new data then give the trials of predictions) or one number per row.
    contrasts
        Coding of categorical variables by label (``{"recipe": "sum", "temperature": "helmert"}``):
        ``"treatment"``, ``"sum"``, ``"helmert"``, ``"poly"``, ``"SAS"`` (or R's ``contr.*`` names), or a
        levels × (levels - 1) matrix. By default ordered categoricals get ``"poly"``, others ``"treatment"``.
    rank_deficient
        ``"drop"`` (default, as lme4): fixed-effect columns that are linear combinations of the columns before
        them (R's QR pivoting decides which, as lme4's ``chkRank.drop.cols``) are dropped with a warning
        naming them; ``"raise"``: a :class:`~bayesmixed.errors.DataError` naming the collinear columns.
    response_kind
        ``"numeric"`` (default), or ``"categories"`` for the ordinal and categorical families: the response is
        an (ordered) categorical or the integers 1..K, coded 1..K, with every category present.
    drop_intercept
        Remove the intercept column from ``X`` after building it (ordinal models: the thresholds replace it;
        factors keep their contrasts, as in brms and ``ordinal::clm``).
    dpar
        The parameter this design predicts (``"mu"``; ``"sigma"`` ... for the formulas of ``bf()``): its
        random-effect terms are labelled ``<factor>__<dpar>``.
    """
    f = parse_formula(formula) if isinstance(formula, str) else formula
    data = as_pandas(data)
    if f.response is None:
        raise DataError("the formula has no response; write it as y ~ ...")
    _check_response_not_a_predictor(f)
    if len(data) == 0:
        raise DataError("the data frame is empty (0 rows); there is nothing to fit")
    if missing not in ("drop", "raise"):
        raise DataError(f"missing must be 'drop' or 'raise', got {missing!r}")
    if rank_deficient not in ("drop", "raise"):
        raise DataError(f"rank_deficient must be 'drop' or 'raise', got {rank_deficient!r}")
    if contrasts is not None and not isinstance(contrasts, dict):
        raise DataError(
            f"contrasts must be a dict from categorical variable to coding, e.g. {{'recipe': 'sum'}}, "
            f"got {type(contrasts).__name__}"
        )
    used = used_columns(f, data)
    for col, where in used.items():
        check_columns([col], data, where)
    cols = list(used)
    sub = data[cols]
    weights_name = None
    if weights is not None:
        if f.response.kind != "single":
            raise DataError(
                f"weights= gives the numbers of trials of a proportion response, but {f.response.label!r} already "
                "gives them; drop weights= (or write the response as a proportion, e.g. s / n ~ ..., weights = 'n')"
            )
        if f.response.weights is not None:
            raise DataError(
                f"weights= gives the numbers of trials of a proportion response and {f.response.label!r} gives "
                "likelihood weights with weights(); use one: weights= for glmer's proportions, weights() in the "
                "response for brms's likelihood weights"
            )
        wcol, weights_name = _weights_column(weights, data)
        sub = sub.assign(**{_WEIGHTS: wcol.to_numpy()})
    # the upper ends of cens(c, y2) may be missing on rows that are not interval-censored (as in brms)
    y2_only = _y2_only_columns(f, used)
    na = sub.drop(columns=y2_only).isna()
    bad_rows = na.any(axis=1)
    n_dropped = int(bad_rows.sum())
    dropped_cols: tuple[str, ...] = ()
    if n_dropped:
        counts = na.sum()
        dropped_cols = tuple(c if c != _WEIGHTS else "weights" for c in sub.columns if counts[c] > 0)
        detail = ", ".join(f"{c!r} ({int(counts[c])})".replace(repr(_WEIGHTS), "weights=") for c in sub.columns if counts[c] > 0)
        if missing == "raise" or n_dropped == len(data):
            first = data.index[bad_rows][:5].tolist()
            msg = f"{n_dropped} of {len(data)} rows have missing values in used columns: {detail}; first rows: {first}."
            if n_dropped == len(data):
                raise DataError(msg + " No complete rows are left; check those columns")
            raise DataError(msg + " Drop or impute them, or pass missing='drop'")
        warn_user(f"dropped {n_dropped} of {len(data)} rows with missing values in {detail}")
    d = sub.loc[~bad_rows].copy() if n_dropped else sub.copy()
    state: State = prefit_state(_formula_exprs(f), sub.drop(columns=[_WEIGHTS], errors="ignore"))
    ordered = None
    if response_kind == "categories":
        y, levels, ordered = _category_response(f.response, d, state)
        trials = None
    else:
        y, trials, levels = _response(f.response, d, state)
    if not np.all(np.isfinite(y)):
        bad = d.index[~np.isfinite(y)][:5].tolist()
        n_bad = int((~np.isfinite(y)).sum())
        raise DataError(
            f"the response {f.response.label!r} is not finite ({y[~np.isfinite(y)][0]}) on {n_bad} row(s), "
            f"first rows {bad}: drop or fix those rows (for a transformed response check e.g. log of zero)"
        )
    if weights is not None:
        if levels is not None:
            raise DataError(
                f"weights= makes the response {f.response.label!r} a proportion, but it is categorical; "
                "drop weights= (a two-level response is a bernoulli response)"
            )
        y, trials = _proportion_trials(y, d[_WEIGHTS].to_numpy(dtype=float), f.response.label, d.index)
    terms = _response_terms(f.response, d, y, state) if f.response.has_terms else None
    X, x_names = model_matrix(f.terms, f.intercept, d, state, True, "the fixed effects", contrasts)
    smooth_parts = [build_smooth(t, d, state, True) for t in smooth_terms(f.smooths)]
    if smooth_parts:
        X = np.hstack([X] + [p.fixed for p in smooth_parts])
        x_names = tuple(x_names) + tuple(nm for p in smooth_parts for nm in p.fixed_names)
    ac_spec = autocor_spec(f.autocor)
    _check_finite(X, x_names, d)
    _check_scale(X, x_names, d)
    _check_scale(y[:, None], (f.response.label,), d)
    aliased: tuple[str, ...] = ()
    if rank_deficient == "raise":
        _check_rank(X, x_names, "the fixed effects")
    elif X.shape[1]:
        drop, why = _drop_aliased(X, x_names)
        if drop:
            aliased = tuple(x_names[j] for j in drop)
            k = len(drop)
            warn_user(
                f"fixed-effect model matrix is rank deficient so dropping {k} column{'s' if k > 1 else ''} / "
                f"coefficient{'s' if k > 1 else ''}: {', '.join(map(repr, aliased))} ({why}); their effects "
                "cannot be told apart from the others'. Pass rank_deficient='raise' to refuse such a model"
            )
            keep = [j for j in range(X.shape[1]) if j not in drop]
            X, x_names = X[:, keep], tuple(x_names[j] for j in keep)
    if drop_intercept and "Intercept" in x_names:
        keep = [j for j, c in enumerate(x_names) if c != "Intercept"]
        X, x_names = X[:, keep], tuple(x_names[j] for j in keep)
    offset = None
    if f.offsets:
        offset = np.zeros(len(d))
        for o in f.offsets:
            v = evaluate(o, d, state, True)
            if not isinstance(v, Numeric):
                raise DataError(f"offset({expr_to_str(o)}) must be numeric")
            offset = offset + v.values
        _check_finite(offset[:, None], ("offset",), d)
    blocks = []
    labels = _block_labels(f.groups, dpar)
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
            tuple(t for t in g.terms if not t.is_intercept), g.has_intercept, d, state, True, str(g), contrasts
        )
        _check_finite(Z, znames, d)
        blocks.append(GroupBlock(label, g, znames, _frozen(Z), _frozen(codes), lv))
    for part in smooth_parts:
        for label, Z, kind, spectral in part.blocks:
            names = tuple(str(j + 1) for j in range(Z.shape[1]))
            blocks.append(GroupBlock(label, _smooth_group(label), names, _frozen(Z),
                                     _frozen(np.zeros(len(d), dtype=np.int64)), ("1",), kind, tuple(spectral)))
    autocor = None
    if ac_spec is not None:
        autocor = build_autocor(ac_spec, d)
        if ac_spec.kind == "cosy":
            g = _cosy_group(ac_spec)
            _check_grouping_column(d[ac_spec.gr], ac_spec.gr, g)
            codes, lv = _factor_codes(g, d, None)
            if len(lv) < 2:
                raise DataError(f"{autocor.text}: the groups {ac_spec.gr!r} have only one level, so there is no "
                                "within-group correlation to estimate apart from the residual variance")
            blocks.append(GroupBlock(f"cosy({ac_spec.gr})", g, ("Intercept",), _frozen(np.ones((len(d), 1))), _frozen(codes), lv,
                                     "cosy"))
    if contrasts:
        categorical = [k for k, v in state.items() if v[0] == "levels"]
        unknown = [k for k in contrasts if k not in categorical]
        if unknown:
            raise DataError(
                f"contrasts= names {', '.join(map(repr, unknown))}, which {'is' if len(unknown) == 1 else 'are'} not a "
                f"categorical variable of the formula; the categorical variables are "
                f"{', '.join(map(repr, categorical)) or 'none'}"
            )
    check_names(x_names, blocks)
    enc = Encoding(
        formula=f,
        state=tuple(state.items()),
        x_names=x_names,
        block_labels=tuple(b.label for b in blocks),
        block_levels=tuple(b.levels for b in blocks),
        aliased=aliased,
        weights=weights_name,
        drop_intercept=bool(drop_intercept),
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
        frame=_model_frame(d, weights_name),
        response_terms=terms,
        autocor=autocor,
        response_ordered=ordered,
        dpar=dpar,
    )


def _y2_only_columns(f: Formula, used: dict[str, str]) -> list[str]:
    """Columns used only as the upper ends of ``cens(c, y2)`` (their missing values are checked there)."""
    r = f.response
    if r is None or r.y2 is None:
        return []
    role = _TERM_ROLES["y2"]
    return [c for c in expr_columns(r.y2) if used.get(c) == role]


def _term_values(e: Any, d: pd.DataFrame, state: State, what: str) -> np.ndarray:
    """The numbers of one response term's expression on the rows ``d``."""
    v = evaluate(e, d, state, True)
    if not isinstance(v, Numeric):
        raise DataError(f"{what} must be numeric, but {expr_to_str(e)!r} is categorical")
    return np.asarray(v.values, dtype=float)


#: censoring values brms accepts, besides -1, 0, 1, 2 (and TRUE/FALSE: right/none)
_CENS_WORDS = {"left": -1, "none": 0, "right": 1, "interval": 2}


def _cens_codes(e: Any, d: pd.DataFrame, state: State) -> np.ndarray:
    """Censoring codes from a column of brms's words (abbreviations allowed), -1/0/1/2 or TRUE/FALSE."""
    label = expr_to_str(e)
    if isinstance(e, Name) and e.name in d.columns:
        s = d[e.name]
    else:
        s = pd.Series(_term_values(e, d, state, "cens()"), index=d.index)
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy(dtype=bool).astype(np.int8)
    if pd.api.types.is_numeric_dtype(s.dtype) and not is_categorical_series(s):
        v = s.to_numpy(dtype=float)
        bad = ~np.isin(v, (-1.0, 0.0, 1.0, 2.0))
        codes = np.where(bad, 0, v).astype(np.int8)
    else:
        words = s.astype(str).str.strip().str.lower().to_numpy()
        codes = np.zeros(len(words), dtype=np.int8)
        bad = np.zeros(len(words), dtype=bool)
        for i, w in enumerate(words):
            match = [c for k, c in _CENS_WORDS.items() if w and k.startswith(w)]
            if w in ("true", "false"):
                codes[i] = 1 if w == "true" else 0
            elif w in ("-1", "0", "1", "2"):
                codes[i] = int(w)
            elif len(match) == 1:
                codes[i] = match[0]
            else:
                bad[i] = True
    if bad.any():
        shown = list(pd.unique(s[bad]))[:5]
        raise DataError(
            f"cens({label}) has values {shown} on rows {d.index[bad][:5].tolist()} that are no censoring codes; use "
            "'left', 'none', 'right', 'interval' (or abbreviations), -1, 0, 1, 2, or TRUE/FALSE (right/none), as brms"
        )
    return codes


def _response_terms(r: Response, d: pd.DataFrame, y: np.ndarray, state: State) -> ResponseTerms:
    """brms's ``weights()``, ``cens()`` and ``trunc()`` of the response on the rows ``d``, checked."""
    rows = d.index
    out: dict[str, np.ndarray | None] = {}
    if r.weights is not None:
        w = _term_values(r.weights, d, state, "weights()")
        bad = ~np.isfinite(w) | (w <= 0)
        if bad.any():
            raise DataError(
                f"weights({expr_to_str(r.weights)}) must be positive and finite; rows {rows[bad][:5].tolist()} have "
                f"{w[bad][0]:g}: drop those rows (a weight of 0 leaves a row out) or fix the weights"
            )
        out["weights"] = _frozen(w)
    if r.cens is not None:
        codes = _cens_codes(r.cens, d, state)
        out["cens"] = _frozen(codes)
        interval = codes == 2
        if r.y2 is not None:
            y2 = _term_values(r.y2, d, state, "the upper ends of cens(c, y2)")
            missing = interval & ~np.isfinite(y2)
            if missing.any():
                raise DataError(
                    f"cens({expr_to_str(r.cens)}, {expr_to_str(r.y2)}): the upper end {expr_to_str(r.y2)!r} is missing "
                    f"or infinite on interval-censored rows {rows[missing][:5].tolist()}; give it there (other rows "
                    "may leave it missing)"
                )
            order = interval & ~(y2 > y)
            if order.any():
                raise DataError(
                    f"interval-censored rows {rows[order][:5].tolist()} have an upper end {expr_to_str(r.y2)!r} that is "
                    f"not above the response (e.g. y = {y[order][0]:g}, y2 = {y2[order][0]:g}): the value lies in "
                    "(y, y2], so y2 must be larger"
                )
            out["y2"] = _frozen(np.where(interval, y2, 0.0))
        elif interval.any():
            raise DataError(
                f"rows {rows[interval][:5].tolist()} are interval-censored but cens({expr_to_str(r.cens)}) has no "
                "upper ends: write y | cens(c, y2) with y2 the column of upper ends"
            )
    if r.lb is not None or r.ub is not None:
        n = len(d)
        lb = np.full(n, -np.inf) if r.lb is None else np.broadcast_to(_term_values(r.lb, d, state, "trunc(lb = )"), (n,))
        ub = np.full(n, np.inf) if r.ub is None else np.broadcast_to(_term_values(r.ub, d, state, "trunc(ub = )"), (n,))
        if np.any(np.isnan(lb)) or np.any(np.isnan(ub)):
            raise DataError("trunc(): the bounds must be numbers (-Inf / Inf for none)")
        crossed = lb >= ub
        if crossed.any():
            raise DataError(
                f"trunc(): the lower bound is not below the upper bound on rows {rows[crossed][:5].tolist()} "
                f"(lb = {lb[crossed][0]:g}, ub = {ub[crossed][0]:g})"
            )
        outside = (y < lb) | (y > ub)
        if outside.any():
            raise DataError(
                f"the response lies outside the truncation bounds on rows {rows[outside][:5].tolist()} (e.g. "
                f"{y[outside][0]:g} not in [{lb[outside][0]:g}, {ub[outside][0]:g}]): a truncated response cannot be "
                "there; check the bounds, or use cens() if such values were recorded at a limit"
            )
        out["lb"], out["ub"] = _frozen(np.array(lb, dtype=float)), _frozen(np.array(ub, dtype=float))
    return ResponseTerms(**out)


def _model_frame(d: pd.DataFrame, weights_name: str | None) -> pd.DataFrame:
    """The used columns of the used rows, with the ``weights=`` column under its own name (if it has one)."""
    if _WEIGHTS not in d.columns:
        return d
    frame = d.drop(columns=[_WEIGHTS])
    if weights_name is not None and weights_name not in frame.columns:
        frame[weights_name] = d[_WEIGHTS].to_numpy()
    return frame


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
    if s.dtype == object:  # 1 and "1" would name one group: refused, as for a categorical predictor
        seen: dict[str, Any] = {}
        for v in pd.unique(s.dropna()):
            v = v.item() if isinstance(v, np.generic) else v
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            key = str(v)
            if key in seen and type(seen[key]) is not type(v):
                raise DataError(
                    f"the grouping factor {c!r} of {g} has levels {seen[key]!r} and {v!r} that read the same "
                    f"({key!r}) but are different values (mixed types), so they would be merged into one group; "
                    f"convert the column to one type, e.g. data[{c!r}].astype(str)"
                )
            seen.setdefault(key, v)
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
    """Raise a :class:`~bayesmixed.errors.DataError` when the fixed effects, or the varying coefficients of a random-effect
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
    """Raise a :class:`~bayesmixed.errors.DataError` naming the first column of ``M`` that is zero or (numerically) a linear
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
