"""Simulate responses from a formula, a data frame of predictors and chosen population-level parameters.

For teaching and for parameter-recovery tests: the data are encoded exactly as :class:`~bayesmixed.Model`
would encode them, group effects are drawn from ``N(0, G)`` with ``G = diag(sd) C diag(sd)`` per term, and
responses from the family (same parameterisations as the fitted models, see :mod:`bayesmixed.families`).

Parameters are given by the names the posterior uses::

    params = {
        "beta": {"Intercept": 250.0, "Days": 10.0},      # every fixed-effect column (fit.fixef() index)
        "sd": {"Subject": {"Intercept": 25.0, "Days": 6.0}},  # per term label: SD of each coefficient
        "corr": {"Subject": 0.1},                          # scalar (two coefficients) or a k × k matrix
        "sigma": 25.0,                                     # the family's auxiliaries: sigma, nu, alpha, phi, lam
    }

Ordinal families take the thresholds as ``"Intercept": [-1.5, 0.0, 1.2]`` (K − 1 values, the response then
has K categories, written as 1..K); ``categorical`` one ``"beta_mu<k>"`` per category after the first; a
parameter predicted by ``bf()`` its fixed effects as ``"beta_sigma": {"Intercept": ..., "x": ...}`` (link scale)
and its terms' SDs under their labels (``"sd": {"g__sigma": 0.3}``), as the posterior names them.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import naming as N
from .design import Design
from .design.predictors import build_model_design
from .errors import DataError
from .families import Family, as_family, bounds, family_names, get_family
from .formula import Formula, parse_formula
from .formula.bf import BrmsFormula
from .formula.ast import Name, expr_to_str
from .predict import response_bounds, response_trials

__all__ = ["simulate"]

def _as_name(e, what: str) -> str:
    if not isinstance(e, Name):
        raise DataError(
            f"simulate fills response columns, so {what} must be a column name, not {expr_to_str(e)!r}; "
            "simulate the untransformed column and transform it afterwards"
        )
    return e.name


def _trials_and_placeholders(
    f: Formula, fam: Family, data: pd.DataFrame, trials, n_categories: int | None = None
) -> tuple[pd.DataFrame, pd.Series | None]:
    """A copy of ``data`` with valid placeholder responses, and the numbers of trials (binomial)."""
    r = f.response
    d = data.copy()
    if not fam.needs_trials:
        if r.kind != "single":
            raise DataError(
                f"the response {r.label!r} gives numbers of trials, which only the families of successes out of "
                f"trials use ({', '.join(n for n in family_names() if get_family(n).needs_trials)}), not {fam.name!r}"
            )
        if n_categories is not None:  # every category present: 1, 2, ..., K, 1, ...
            if len(d) < n_categories:
                raise DataError(f"simulating {n_categories} categories needs at least as many rows (got {len(d)})")
            d[_as_name(r.expr, "the response")] = np.arange(len(d)) % n_categories + 1
        else:
            d[_as_name(r.expr, "the response")] = 0.0
        return d, None
    if r.kind == "single":
        raise DataError(
            "family='binomial' needs the number of trials: write the response as cbind(successes, failures) or "
            "successes | trials(n)"
        )
    s_name = _as_name(r.expr, "the successes")
    if trials is not None:
        t = np.asarray(data[trials] if isinstance(trials, str) else trials, dtype=float).reshape(-1)
        if len(t) != len(data):
            raise DataError(f"trials has {len(t)} values for {len(data)} rows")
    else:
        t = response_trials(f, data)
        if t is None:
            raise DataError(
                f"cannot read the numbers of trials from {r.label!r} and the data: pass trials= (an array or a "
                "column name); cbind(s, f) with both columns present keeps their sums"
            )
    T = pd.Series(np.asarray(t, dtype=float), index=data.index)
    if r.kind == "cbind" and isinstance(r.second, Name):
        d[r.second.name] = T.to_numpy()
    d[s_name] = 0.0
    ok = T.dropna()
    if (ok < 0).any() or (ok != np.round(ok)).any():
        raise DataError("numbers of trials must be whole and non-negative")
    return d, T


def _beta(design: Design, value, key: str = "beta") -> np.ndarray:
    names = list(design.x_names)
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in names]
        if unknown:
            close = difflib.get_close_matches(unknown[0], names, n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise DataError(f"params[{key!r}] names {unknown[0]!r}, not a fixed-effect column.{hint} Columns: {names}")
        missing = [n for n in names if n not in value]
        if missing:
            raise DataError(f"params[{key!r}] lacks {missing}; give a value for every fixed-effect column {names}")
        return np.array([float(value[n]) for n in names])
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    if arr.shape != (len(names),):
        raise DataError(f"params[{key!r}] needs {len(names)} values, for {names}; got {arr.shape[0]}")
    return arr


def _n_categories(fam: Family, params: Mapping) -> int | None:
    """The number of response categories the parameters imply (ordinal: thresholds + 1; categorical: one
    ``beta_mu<k>`` per category after the first), None for other families."""
    if fam.response_kind != "categories":
        return None
    if fam.thresholds is not None:
        if N.THRESHOLDS not in params:
            raise DataError(f"family {fam.name!r} needs params[{N.THRESHOLDS!r}]: the K - 1 thresholds, e.g. [-1, 0, 1.5]")
        return len(np.atleast_1d(params[N.THRESHOLDS])) + 1
    ks = sorted(int(k[len("beta_mu"):]) for k in params if k.startswith("beta_mu") and k[len("beta_mu"):].isdigit())
    if not ks or ks != list(range(2, len(ks) + 2)):
        raise DataError(
            f"family {fam.name!r} needs the fixed effects of every category after the first: params 'beta_mu2', "
            f"'beta_mu3', ... (got {sorted(k for k in params if k.startswith('beta'))})"
        )
    return len(ks) + 1


def _thresholds(fam: Family, value) -> np.ndarray:
    t = np.atleast_1d(np.asarray(value, dtype=float))
    if t.ndim != 1 or len(t) < 2:
        raise DataError(f"params[{N.THRESHOLDS!r}] must list the K - 1 >= 2 thresholds, got {value!r}")
    if fam.thresholds == "ordered" and np.any(np.diff(t) <= 0):
        raise DataError(f"the thresholds of family {fam.name!r} must increase, got {t.tolist()}")
    return t


def _term_value(params: Mapping, key: str, b) -> Any:
    """``params[key]`` for term ``b``: by term label or grouping factor, or one number for every term."""
    table = params.get(key, {})
    if table is None:
        return None
    if isinstance(table, (int, float, np.integer, np.floating)) and not isinstance(table, bool):
        return table  # one value for every term (an SD of one coefficient, a correlation of two)
    if not isinstance(table, Mapping):
        raise DataError(
            f"params[{key!r}] must be a number (every term) or a dict by term label such as "
            f"{{{b.label!r}: ...}}, got {type(table).__name__}"
        )
    for name in (b.label, b.factor):
        if name in table:
            return table[name]
    return None


def _sd(params: Mapping, b) -> np.ndarray:
    v = _term_value(params, "sd", b)
    if v is None:
        raise DataError(
            f"params['sd'] has no entry for the term {b.label!r}: give {{'{b.label}': "
            f"{{{', '.join(repr(c) + ': ...' for c in b.coef_names)}}}}}"
        )
    if isinstance(v, Mapping):
        unknown = [c for c in v if c not in b.coef_names]
        missing = [c for c in b.coef_names if c not in v]
        if unknown or missing:
            raise DataError(f"params['sd'][{b.label!r}] must give the coefficients {list(b.coef_names)}; got {list(v)}")
        sd = np.array([float(v[c]) for c in b.coef_names])
    else:
        try:
            sd = np.atleast_1d(np.asarray(v, dtype=float))
        except (TypeError, ValueError):
            raise DataError(f"params['sd'][{b.label!r}] must be numbers, got {v!r}") from None
        if sd.shape != (b.k,):
            raise DataError(
                f"params['sd'] for the term {b.label!r} needs {b.k} values, for {list(b.coef_names)}: give "
                f"{{'{b.label}': {{{', '.join(repr(c) + ': ...' for c in b.coef_names)}}}}}"
            )
    if (sd < 0).any():
        raise DataError(f"standard deviations must be non-negative, got {sd} for {b.label!r}")
    return sd


def _corr(params: Mapping, b) -> np.ndarray:
    v = _term_value(params, "corr", b)
    if v is None:
        return np.eye(b.k)
    if not b.correlated:
        raise DataError(f"the term {b.label!r} has no correlation parameters (one coefficient, or written with ||)")
    C = np.asarray(v, dtype=float)
    if C.ndim == 0:
        if b.k != 2:
            raise DataError(
                f"params['corr'][{b.label!r}] must be a {b.k} x {b.k} matrix (a scalar needs 2 coefficients)"
            )
        C = np.array([[1.0, float(C)], [float(C), 1.0]])
    if C.shape != (b.k, b.k) or not np.allclose(C, C.T) or not np.allclose(np.diag(C), 1.0):
        raise DataError(f"params['corr'][{b.label!r}] must be a symmetric {b.k} x {b.k} matrix with unit diagonal")
    if np.linalg.eigvalsh(C).min() < -1e-10:
        raise DataError(f"params['corr'][{b.label!r}] is not a correlation matrix (not positive semi-definite)")
    return C


def draw_from_design(
    design: Design,
    family: str | Family,
    link: str | None,
    beta: np.ndarray | Mapping[str, np.ndarray],
    sd: Mapping[str, np.ndarray],
    corr: Mapping[str, np.ndarray],
    aux: Mapping[str, Any],
    rng: np.random.Generator,
    trials: np.ndarray | None = None,
    truncation: tuple[np.ndarray | None, np.ndarray | None] | None = None,
) -> tuple[np.ndarray, dict[str, pd.DataFrame]]:
    """Responses (one per design row) and group effects drawn from the model with the given parameters.

    The core of :func:`simulate`, on an encoded :class:`~bayesmixed.design.Design` (used by
    :func:`bayesmixed.calibrate`). ``beta`` holds the fixed effects of the first predictor, or a dict of them by
    predicted parameter (``{"mu": ..., "sigma": ...}``: every predictor of ``design.predictors``);
    ``sd[label]`` is the SD vector and ``corr[label]`` the correlation matrix of each term (of every predictor);
    ``aux`` the values of the parameters that are not predicted, and the ordinal thresholds under
    ``"Intercept"``; ``trials`` defaults to ``design.trials``; ``truncation`` (bounds ``(lb, ub)`` per row)
    to the design's ``trunc()`` bounds: responses are drawn from the truncated family.
    """
    lb, ub = (design.lb, design.ub) if truncation is None else truncation
    betas = dict(beta) if isinstance(beta, Mapping) else {design.dpar: beta}
    etas: dict[str, np.ndarray] = {}
    effects = {}
    for d in design.predictors:
        eta = d.X @ np.asarray(betas.get(d.dpar, np.zeros(0)), dtype=float)
        if d.offset is not None:
            eta = eta + d.offset
        for b in d.blocks:
            G = np.asarray(corr[b.label], dtype=float) * np.outer(sd[b.label], sd[b.label])
            # symmetric square root: works for singular G (an SD of 0, a correlation of ±1)
            w, V = np.linalg.eigh(G)
            root = V * np.sqrt(np.clip(w, 0.0, None))
            r = rng.standard_normal((b.n_levels, b.k)) @ root.T
            effects[b.label] = pd.DataFrame(r, index=pd.Index(list(b.levels), name=b.label), columns=list(b.coef_names))
            eta = eta + np.einsum("nk,nk->n", r[b.codes], b.Z)
        etas[d.dpar] = eta
    n_trials = design.trials if trials is None else trials
    fam = as_family(family, link)
    values = {name: (np.asarray(v, dtype=float) if name == N.THRESHOLDS else np.asarray(float(v)))
              for name, v in aux.items()}
    eta, a = fam.inputs(etas, values)
    return bounds.draw(fam, eta, a, rng, n_trials, lb, ub), effects


def simulate(
    formula: str | Formula | BrmsFormula,
    data: pd.DataFrame,
    params: Mapping[str, Any],
    family: str = "gaussian",
    link: str | None = None,
    seed: int | None = None,
    trials=None,
    return_effects: bool = False,
):
    """A copy of ``data`` with the formula's response drawn from the model with parameters ``params``.

    Parameters
    ----------
    formula
        lme4 formula; the response must be a column name (``cbind(s, f)``, ``s | trials(n)`` for binomial).
        The response columns need not exist in ``data``. Or :func:`bayesmixed.bf <bayesmixed.formula.bf>` with formulas for other
        parameters (see the module docstring for their ``params``). brms's ``trunc(lb, ub)`` bounds the draws
        (drawn from the truncated family); ``weights()`` and ``cens()`` are ignored here (their columns need not
        exist).
    data
        Predictors and grouping factors; never modified.
    params
        ``"beta"`` ({column: value}, or values in column order), ``"sd"`` ({term: {coef: value}}, {term:
        scalar} for a term of one coefficient, or one number for every such term: ``{"sd": 0.5}``), ``"corr"``
        ({term: scalar or matrix}, or one number for every two-coefficient term; independence by default), and
        the family's auxiliary parameter (``"sigma"``, ``"nu"``, ``"alpha"``, ``"phi"``, ``"lam"``).
    family, link
        Response family and link, as for :class:`~bayesmixed.Model`.
    seed
        Seed of the random group effects and responses.
    trials
        Binomial only: numbers of trials (array or column name). By default, ``s | trials(n)`` uses ``n``;
        ``cbind(s, n - s)`` uses ``n``; ``cbind(s, f)`` with two columns keeps their sum.
    return_effects
        Also return the drawn group effects, ``{term: DataFrame (levels × coefficients)}``: the layout of
        ``fit.ranef(term, wide=True)`` (index named by the term, one column per coefficient).

    Returns
    -------
    pandas.DataFrame, or (DataFrame, dict)
        The new data: the response column filled (successes and, for ``cbind(s, f)`` with a column ``f``,
        failures). Rows dropped for missing predictors get missing responses.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> sleep = bm.datasets.load("sleepstudy")
    >>> sim = bm.simulate("Reaction ~ Days + (Days | Subject)", sleep, {
    ...     "beta": {"Intercept": 250, "Days": 10}, "sd": {"Subject": {"Intercept": 25, "Days": 6}},
    ...     "corr": {"Subject": 0.1}, "sigma": 25}, seed=1)
    >>> sim.shape
    (180, 3)
    """

    bf = formula if isinstance(formula, BrmsFormula) else None
    if bf is not None:
        formula = bf.formula
    f = parse_formula(formula) if isinstance(formula, str) else formula
    fam = get_family(family, link)
    if f.response is None:
        raise DataError("the formula has no response; write it as y ~ ... (the column to fill)")
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame (or a dict of columns), got {type(data).__name__}")
    if not isinstance(params, Mapping):
        raise DataError("params must be a dict: {'beta': {...}, 'sd': {...}, 'corr': {...}, 'sigma': ...}")
    aux_names = N.aux_names()
    predicted = [k for k, _ in bf.dpars] if bf is not None else []
    K = _n_categories(fam, params)
    betas = [N.beta_var(p) for p in (fam.predictor_names(K) if K else (N.MU,))] + [N.beta_var(p) for p in predicted]
    allowed = {*betas, "sd", "corr", *aux_names} | ({N.THRESHOLDS} if fam.thresholds is not None else set())
    unknown = [k for k in params if k not in allowed]
    if unknown:
        raise DataError(f"unknown parameter(s) {unknown} in params; use {sorted(allowed)}")
    positional = data.reset_index(drop=True)  # rows by position: the user's index may repeat labels
    lb, ub = response_bounds(f, positional)
    if (lb is not None or ub is not None) and not fam.has_cdf:
        raise DataError(
            f"trunc() in the response {f.response.label!r} draws from the truncated family, which needs its "
            f"cumulative distribution function; family {fam.name!r} has none here: drop trunc()"
        )
    if f.response.has_terms:  # weights() and cens() do not enter draws; trunc() bounds them (lb, ub above)
        r = f.response
        f = dataclasses.replace(f, response=dataclasses.replace(r, weights=None, cens=None, y2=None, lb=None, ub=None))
        if bf is not None:  # the same model formula without the response terms
            bf = dataclasses.replace(bf, formula=f"{r.value_label} ~ {bf.formula.split('~', 1)[1].strip()}")
    d, T = _trials_and_placeholders(f, fam, positional, trials, K)
    design = build_model_design(bf if bf is not None else f, d, fam)
    beta = {p.dpar: _beta(p, params.get(N.beta_var(p.dpar), {}), N.beta_var(p.dpar)) for p in design.predictors}
    aux: dict[str, Any] = {}
    for p in fam.sampled_aux:
        if p.name in predicted:
            if p.name in params:
                raise DataError(f"{p.name!r} is predicted by its formula: give {N.beta_var(p.name)!r} (and its terms' "
                                f"SDs), not params[{p.name!r}]")
            continue
        if p.name not in params:
            raise DataError(f"family {fam.name!r} needs params[{p.name!r}]")
        aux[p.name] = np.asarray(float(params[p.name]))
    if fam.thresholds is not None:
        aux[N.THRESHOLDS] = _thresholds(fam, params[N.THRESHOLDS])
    extra = [a for a in aux_names if a in params and a not in fam.aux_names]
    if extra:
        raise DataError(f"family {fam.name!r} has no parameter {extra[0]!r}")
    rng = np.random.default_rng(seed)
    used = np.asarray(design.rows, dtype=np.int64)
    n_trials = None if T is None else T.to_numpy()[used]
    sds = {b.label: _sd(params, b) for b in design.all_blocks}
    corrs = {b.label: _corr(params, b) for b in design.all_blocks}
    cut = (None if lb is None else lb[used], None if ub is None else ub[used])
    y, effects = draw_from_design(design, fam, None, beta, sds, corrs, aux, rng, n_trials, cut)
    out = data.copy()
    r = f.response
    complete = len(design.rows) == len(data)
    counts = fam.discrete

    def column(values: np.ndarray) -> np.ndarray:
        full = np.full(len(data), np.nan)
        full[used] = values
        return full.astype(np.int64) if counts and complete else full

    out[r.expr.name] = column(y)
    if r.kind == "cbind" and isinstance(r.second, Name):
        out[r.second.name] = column(n_trials - y)
    return (out, effects) if return_effects else out


from ._callable import make_callable  # noqa: E402 (after the function it calls)

make_callable(__name__, "simulate")
