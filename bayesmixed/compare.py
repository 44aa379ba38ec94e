"""Model comparison: PSIS-LOO, WAIC, leave-one-group-out, and exact k-fold cross-validation by refits.

Every estimate is a :class:`~bayesmixed.elpd.ELPD` (bayesmixed's frozen result type; :func:`to_arviz` gives
ArviZ's ``ELPDData``), and :func:`compare` ranks any of them (ArviZ's comparison table, through
``bayesmixed._arviz``).

PSIS-LOO and WAIC
    :func:`loo` and :func:`waic` run ArviZ on the pointwise log-likelihood stored in ``fit.idata``
    (variable ``y``, dim ``obs``). Observations whose Pareto k exceeds 0.7 are reported, with their row
    labels and group levels, in a warning and in the ``"flagged"`` entry of the result.
Leave-one-group-out (PSIS)
    ``loo(fit, by="Subject")`` sums the pointwise log-likelihood over the rows of each level of a grouping
    factor and runs PSIS-LOO on the summed matrix: each "observation" is a whole level, so the ELPD answers
    "how well does the model predict a new subject's data" (one pointwise value per level). Importance
    sampling fails more often here (a level is influential); the exact alternative is
    ``kfold(fit, k=None, by="Subject")``.
Exact k-fold
    :func:`kfold` splits the rows (or the levels of ``by``) into ``k`` folds, refits the model without each
    fold and scores the held-out rows. Refits run on this machine, in this process or in worker processes
    that never import ``__main__`` (``bayesmixed._refits``), or on a Dask cluster given as ``client=``.

How refits get their data
    A refit needs no copy of the user's data frame: the fitted :class:`~bayesmixed.design.Design` *is* the
    encoded data, and a training fold is its rows taken by position (:func:`take_rows`), with every term's
    level list, the fixed-effect columns and the transform state of the full data unchanged. So the held-out
    rows are encoded exactly as in the full fit, and a level whose rows are all held out keeps its place in
    the model with no data: its effects in the refit's posterior are draws from the population distribution
    ``N(0, G)`` — the ``groups="sample_new"`` semantics of :mod:`bayesmixed.predict`, which is what
    leave-one-group-out must use. Refits use the fitted :class:`~bayesmixed.spec.ModelSpec` unchanged (the
    same priors, including the defaults that were scaled to the full data).
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any, Mapping

import numpy as np
import pandas as pd

from . import _arviz
from . import naming as N
from .design import Design, GroupBlock
from .elpd import ELPD
from ._warnings import warn_user
from .errors import BayesMixedError

__all__ = [
    "PARETO_K_THRESHOLD",
    "ELPD",
    "loo",
    "waic",
    "compare",
    "kfold",
    "kfold_split",
    "kfold_elpd",
    "loglik_by",
    "take_rows",
    "to_arviz",
]

PARETO_K_THRESHOLD = 0.7
_REFIT_SETTINGS = ("draws", "tune", "chains", "sampler", "target_accept")


# --------------------------------------------------------------------------- helpers
def _require_loglik(fit) -> None:
    if "log_likelihood" not in _arviz.groups(fit.idata) or "y" not in fit.idata.log_likelihood:
        raise BayesMixedError(
            "the fit has no pointwise log-likelihood (it was too large to store by default, or "
            "log_likelihood=False was passed): add it with fit = fit.add_log_likelihood()"
        )


def _pop_posterior(fit):
    """The posterior's population-level variables (what ArviZ's relative efficiency reads)."""
    import xarray as xr

    from .summaries import population_vars

    post = fit.idata.posterior
    # ArviZ's relative efficiency averages the ESS of every posterior variable; keep the population-level
    # ones, and drop the constant diagonal of correlation matrices (its ESS is undefined).
    keep = {}
    for name in population_vars(fit.idata):
        v = post[name]
        if name.startswith(N.CORR_PREFIX):
            iu, ju = np.triu_indices(v.shape[-1], 1)
            d1, d2 = v.dims[-2:]
            v = v.isel({d1: xr.DataArray(iu, dims="pair"), d2: xr.DataArray(ju, dims="pair")}).drop_vars([d1, d2])
        keep[name] = v
    return xr.Dataset(keep)


def loglik_by(fit, by: str):
    """Pointwise log-likelihood summed over the rows of each level of the grouping factor ``by``.

    Returns an ``xarray.DataArray`` with dims ``(chain, draw, <label>)`` and the level labels as coordinates.
    """
    import xarray as xr

    _require_loglik(fit)
    b = _block(fit.design, by)
    ll = fit.idata.log_likelihood["y"].transpose("chain", "draw", "obs").values
    summed = _sum_by(ll, b.codes, b.n_levels)
    post = fit.idata.posterior
    return xr.DataArray(
        summed,
        dims=("chain", "draw", b.label),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, b.label: list(b.levels)},
        name="y",
    )


def _sum_by(ll: np.ndarray, codes: np.ndarray, n_units: int) -> np.ndarray:
    """Sum the last axis of ``ll`` over rows with the same code (codes ``0..n_units-1``, every one present)."""
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes, minlength=n_units)
    if (counts == 0).any():
        raise BayesMixedError("some levels have no rows; cannot sum the log-likelihood by level")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return np.add.reduceat(ll[..., order], starts, axis=-1)


def _block(design: Design, by: str) -> GroupBlock:
    try:
        return design.block(by)
    except KeyError as err:
        raise BayesMixedError(str(err.args[0])) from None


def _is_fit(obj) -> bool:
    """A :class:`~bayesmixed.fit.Fit` (spec, design and idata), told apart without importing :mod:`bayesmixed.fit`."""
    return all(hasattr(obj, a) for a in ("spec", "design", "idata", "sampler_info"))


def data_fingerprint(design: Design, by: str | None = None) -> str:
    """A hash of the response a fit was made on (values, trials, row order; with ``by``, the level of every
    row): estimates with different fingerprints are of different data and cannot be compared."""
    from hashlib import sha256

    h = sha256(np.ascontiguousarray(np.asarray(design.y, dtype=float)).tobytes())
    if design.trials is not None:
        h.update(np.ascontiguousarray(np.asarray(design.trials, dtype=float)).tobytes())
    if by is not None:
        b = _block(design, by)
        h.update(np.ascontiguousarray(b.codes, dtype=np.int64).tobytes())
        h.update(repr([str(v) for v in b.levels]).encode())
    return h.hexdigest()[:16]


def _row_table(fit, by: str | None) -> pd.DataFrame:
    """Per pointwise unit: its label and what identifies it (group levels for rows; the level for groups)."""
    d = fit.design
    if by is not None:
        b = _block(d, by)
        return pd.DataFrame({"rows": b.counts()}, index=pd.Index(list(b.levels), name=b.label))
    cols: dict[str, Any] = {}
    for b in d.blocks:
        cols[b.label] = np.asarray(b.levels, dtype=object)[b.codes]
    cols[d.response_label] = np.asarray(d.y)
    return pd.DataFrame(cols, index=pd.Index(d.rows, name="row"))


def _flag(res: ELPD, fit, by: str | None, warn: bool = True) -> pd.DataFrame:
    """Units with Pareto k above the threshold, with a warning that says which and what to do."""
    k = np.asarray(res.pareto_k.values)
    table = _row_table(fit, by)
    table.insert(0, "pareto_k", k)
    table.insert(1, "elpd_loo_i", np.asarray(res.pointwise.values))
    flagged = table[k > PARETO_K_THRESHOLD].sort_values("pareto_k", ascending=False)
    if len(flagged) and warn:
        unit = f"levels of {by!r}" if by is not None else "observations"
        shown = ", ".join(f"{idx!r} (k={v:.2f})" for idx, v in flagged["pareto_k"].head(10).items())
        more = f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""
        if by is not None:
            advice = (
                f"Leaving a whole level out moves the posterior too far for importance sampling; use the exact "
                f"fit.kfold(k=None, by={by!r}) (one refit per level) or fit.kfold(k=10, by={by!r})"
            )
        else:
            advice = (
                "These rows are influential, so PSIS-LOO is unreliable for them: use the exact fit.kfold(k=10), "
                "check them for data errors, or consider a more robust family (e.g. student_t for outliers)"
            )
        warn_user(
            f"{len(flagged)} of {len(table)} {unit} have Pareto k > {PARETO_K_THRESHOLD}: {shown}{more}. {advice}. "
            "They are listed in result['flagged']."
        )
    return flagged


def to_arviz(estimate: ELPD):
    """ArviZ's ``ELPDData`` of an estimate, for ArviZ's own tools (a k-fold estimate under PSIS-LOO's names,
    as ``arviz.compare`` reads it)."""
    return _arviz.to_elpddata(estimate)


# --------------------------------------------------------------------------- PSIS-LOO and WAIC
def loo(fit, pointwise: bool = False, by: str | None = None, *, warn: bool = True) -> ELPD:
    """PSIS-LOO of a fit; with ``by``, leave-one-group-out over the levels of that grouping factor.

    Parameters
    ----------
    fit
        A :class:`~bayesmixed.fit.Fit` with a stored log-likelihood.
    pointwise
        Keep the pointwise values (``loo_i``) and Pareto k (``pareto_k``) in the result.
    by
        A grouping factor (or term label) of the model: sum the log-likelihood by its levels first.
    warn
        Warn about units with Pareto k > 0.7 (naming them, with the exact k-fold call).

    Returns
    -------
    ELPD
        ``kind="loo"``: ``elpd``, ``se``, ``p``, ``flagged`` (a DataFrame of the units with Pareto k > 0.7: row
        labels of the user's data and their group levels, or the levels for ``by``), ``by``; readable by ArviZ's
        names too (``est["elpd_loo"]``, ``est["loo_i"]``, ``est["pareto_k"]``).
    """
    from dataclasses import replace as _replace

    _require_loglik(fit)
    ll = loglik_by(fit, by) if by is not None else fit.idata.log_likelihood["y"]
    label = None if by is None else _block(fit.design, by).label
    res = _arviz.loo(_pop_posterior(fit), ll, by=label)
    flagged = _flag(res, fit, by, warn=warn)
    res = _replace(res, flagged=flagged, data=data_fingerprint(fit.design, by))
    return res if pointwise else _replace(res, pointwise=None, pareto_k=None)


def waic(fit, pointwise: bool = False, by: str | None = None) -> ELPD:
    """WAIC of a fit (an :class:`~bayesmixed.elpd.ELPD`, ``kind="waic"``); ``by`` sums the log-likelihood by the
    levels of a grouping factor first."""
    from dataclasses import replace as _replace

    _require_loglik(fit)
    ll = loglik_by(fit, by) if by is not None else fit.idata.log_likelihood["y"]
    label = None if by is None else _block(fit.design, by).label
    res = _arviz.waic(_pop_posterior(fit), ll, by=label)
    if res.warning:
        warn_user(
            "the posterior variance of the log predictive density exceeds 0.4 for some "
            f"{'levels' if by else 'observations'}: WAIC may be unreliable; prefer loo (and check its Pareto k)"
        )
    res = _replace(res, data=data_fingerprint(fit.design, by))
    return res if pointwise else _replace(res, pointwise=None)


def compare(
    models: Mapping[str, Any],
    ic: str = "loo",
    by: str | None = None,
    method: str = "stacking",
    *,
    k: int | None = 10,
    seed: int | None = None,
    kfold_options: Mapping[str, Any] | None = None,
    **kwargs,
) -> pd.DataFrame:
    """Rank models by expected log predictive density (ArviZ's comparison table).

    Parameters
    ----------
    models
        ``{name: Fit | InferenceData | ELPD}``; estimates from :func:`loo`, :func:`waic` or :func:`kfold`
        are used as they are. Every model must have been fitted to the same data (the same response values,
        in the same order): estimates of different data are refused.
    ic
        ``"loo"`` (PSIS-LOO), ``"waic"``, or ``"kfold"``: exact k-fold cross-validation by refits of every fit,
        on the same folds (``k``, ``seed``; with ``by``, folds of that factor's levels, ``k=None`` one per
        level). When PSIS-LOO is unreliable for some model (Pareto k > 0.7), a warning gives the ``ic="kfold"``
        call. Ignored for precomputed estimates.
    by
        Leave-one-group-out: estimates of fits on the log-likelihood summed by this factor.
    method, kwargs
        Passed to ``arviz.compare`` (model weights: ``"stacking"``, ``"BB-pseudo-BMA"``, ``"pseudo-BMA"``).
    k, seed, kfold_options
        ``ic="kfold"``: folds, the seed of the folds and refits (one for every model, so they see the same
        folds), and other arguments of :func:`kfold` (``draws``, ``chains``, ``n_workers``, ``client``, ...).

    Returns
    -------
    pandas.DataFrame
        ``arviz.compare``'s table (``rank``, ``elpd_<ic>``, ``p_<ic>``, ``elpd_diff``, ``weight``, ``se``,
        ``dse``, ``warning``, ``scale``), best model first. When every model was scored by k-fold, the
        columns are ``elpd_kfold`` and ``p_kfold``.
    """
    if not isinstance(models, Mapping) or len(models) < 2:
        raise BayesMixedError("compare needs a dict of at least two models: {'name': fit, ...}")
    if ic not in ("loo", "waic", "kfold"):
        raise BayesMixedError(f"ic must be 'loo', 'waic' or 'kfold', got {ic!r}")
    if ic == "kfold" and seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0])  # one seed: the same folds for every model
    elpds: dict[str, ELPD] = {}
    unreliable = {}
    for name, m in models.items():
        if isinstance(m, ELPD):
            if m.pointwise is None:
                raise BayesMixedError(
                    f"the estimate of {name!r} has no pointwise values: compute it with pointwise=True"
                )
            elpds[name] = m
        elif _is_fit(m):
            if ic == "kfold":
                elpds[name] = kfold(m, k, by, seed, **dict(kfold_options or {}))
            elif ic == "loo":
                elpds[name] = loo(m, pointwise=True, by=by, warn=False)
                if len(elpds[name].flagged):
                    unreliable[name] = (len(elpds[name].flagged), elpds[name].n_data_points)
            else:
                elpds[name] = waic(m, pointwise=True, by=by)
        elif hasattr(m, "groups") and "log_likelihood" in _arviz.groups(m):
            if by is not None or ic == "kfold":
                raise BayesMixedError(f"by= and ic='kfold' need bayesmixed fits; {name!r} is a {type(m).__name__}")
            elpds[name] = _arviz.loo_idata(m, ic)
        else:
            raise BayesMixedError(
                f"{name!r} is a {type(m).__name__}: compare takes bayesmixed fits, their loo()/waic()/kfold() "
                "estimates (pointwise=True), or ArviZ InferenceData with a log_likelihood group"
            )
    sizes = {name: int(e.n_data_points) for name, e in elpds.items()}
    if len(set(sizes.values())) > 1:
        raise BayesMixedError(
            f"the estimates have different numbers of pointwise values ({sizes}): compare models on the same "
            "rows, and leave-one-group-out estimates only with the same by= factor"
        )
    prints = {name: e.data for name, e in elpds.items() if e.data is not None}
    if len(set(prints.values())) > 1:
        groups: dict[str, list[str]] = {}
        for name, fp in prints.items():
            groups.setdefault(fp, []).append(name)
        sets = "; ".join(", ".join(map(repr, g)) for g in groups.values())
        raise BayesMixedError(
            f"the models were fitted to different data (same number of rows, different response values or row "
            f"order): {sets}. ELPDs of different data are not comparable: fit every model to the same data frame "
            "(the same rows, in the same order)"
        )
    if unreliable:
        detail = "; ".join(f"{name!r}: {n} of {total}" for name, (n, total) in unreliable.items())
        unit = f"levels of {by!r}" if by is not None else "observations"
        call = f"bm.compare(models, ic='kfold'{f', by={by!r}' if by else ''})"
        warn_user(
            f"PSIS-LOO is unreliable for {len(unreliable)} of {len(elpds)} models ({unit} with Pareto k > "
            f"{PARETO_K_THRESHOLD}: {detail}), so this ranking may be wrong (an observation-level or otherwise very "
            f"flexible model is typically favoured). Rank them by exact cross-validation instead: {call} refits "
            f"every model {k if k else 'once per level'} times on the same folds (see each fit's loo()['flagged'] "
            "for the influential units)."
        )
    kinds = {name: e.kind for name, e in elpds.items()}
    if len(set(kinds.values())) > 1:
        if "waic" in kinds.values():
            raise BayesMixedError(
                f"WAIC estimates cannot be ranked together with PSIS-LOO or k-fold ones ({kinds}): use one ic"
            )
        warn_user(
            f"comparing k-fold with PSIS-LOO estimates ({kinds}): both estimate the same ELPD, but their errors "
            "differ; prefer one method for all models"
        )
    table = _arviz.compare(elpds, method=method, **kwargs)
    if set(kinds.values()) == {"kfold"}:
        table = table.rename(columns={"elpd_loo": "elpd_kfold", "p_loo": "p_kfold"})
    return table


# --------------------------------------------------------------------------- k-fold
def take_rows(design: Design, idx: np.ndarray) -> Design:
    """The design restricted to rows ``idx`` (positions), with the full design's levels and encoding."""
    idx = np.asarray(idx)

    def t(a):
        if a is None:
            return None
        out = np.ascontiguousarray(a[idx])
        out.flags.writeable = False
        return out

    blocks = tuple(replace(b, Z=t(b.Z), codes=t(b.codes)) for b in design.blocks)
    return replace(
        design, y=t(design.y), trials=t(design.trials), X=t(design.X), offset=t(design.offset), blocks=blocks,
        rows=design.rows[idx],
        response_terms=None if design.response_terms is None else design.response_terms.take(idx),
        dpars=tuple(take_rows(d, idx) for d in design.dpars),  # the other predicted parameters' designs
    )


def _check_settings(settings: dict) -> None:
    """Refit settings are checked here, before any worker starts."""
    from .sampling import resolve_sampler

    from . import _validate as V

    for name in ("draws", "tune", "chains"):
        settings[name] = V.whole_number(name, settings[name], 0 if name == "tune" else 1)
    settings["target_accept"] = V.probability("target_accept", settings["target_accept"])
    if not isinstance(settings["sampler"], str):
        raise BayesMixedError(f"sampler must be a name such as 'auto' or 'nutpie', got {settings['sampler']!r}")
    settings["sampler"] = resolve_sampler(settings["sampler"])


def kfold_split(design: Design, k: int | None = 10, by: str | None = None, seed: int | None = None) -> np.ndarray:
    """Fold number (``0..K-1``) of every row.

    ``by=None``: rows are shuffled and dealt into ``k`` folds of (nearly) equal size. ``by="<factor>"``: the
    levels of that grouping factor are shuffled and dealt into ``k`` folds, every row following its level;
    ``k=None`` gives one fold per level (leave-one-group-out).
    """
    rng = np.random.default_rng(seed)
    if by is None:
        n = design.n
        if k is None or not isinstance(k, (int, np.integer)) or not 2 <= k <= n:
            raise BayesMixedError(f"k must be a whole number from 2 to the number of rows ({n}), got {k!r}")
        fold = np.empty(n, dtype=np.int64)
        fold[rng.permutation(n)] = np.arange(n) % k
        return fold
    b = _block(design, by)
    J = b.n_levels
    if k is None:
        return b.codes.astype(np.int64).copy()
    if not isinstance(k, (int, np.integer)) or not 2 <= k <= J:
        raise BayesMixedError(
            f"with by={by!r}, k must be a whole number from 2 to its number of levels ({J}), or None for "
            f"leave-one-group-out; got {k!r}"
        )
    level_fold = np.empty(J, dtype=np.int64)
    level_fold[rng.permutation(J)] = np.arange(J) % k
    return level_fold[b.codes]


def _refit_fold(
    fold: int,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    unit_of_test: np.ndarray,
    seed: int,
    settings: dict,
    spec=None,
    design: Design | None = None,
    cores: int = 1,
) -> dict:
    """Run on a worker: refit without the fold, return the held-out log predictive density per unit."""
    from scipy.special import logsumexp

    from .loglik import pointwise_loglik
    from .runner import quiet_refit

    t0 = time.perf_counter()
    train, test = take_rows(design, train_idx), take_rows(design, test_idx)
    refit = quiet_refit(spec, train, seed, settings, cores)
    ll = pointwise_loglik(refit.idata, test, spec.family, spec.link).reshape(-1, test.n)  # (S, n_test)
    units, inverse = np.unique(unit_of_test, return_inverse=True)
    ll_units = _sum_by(ll, inverse, len(units))
    n_draws = ll.shape[0]
    return {
        "fold": fold,
        "units": units,
        "elpd_i": logsumexp(ll_units, axis=0) - np.log(n_draws),
        "n_test": len(test_idx),
        "divergences": refit.divergences,
        "max_rhat": refit.max_rhat,
        "min_ess_bulk": refit.min_ess_bulk,
        "seconds": time.perf_counter() - t0,
    }


def kfold(
    fit,
    k: int | None = 10,
    by: str | None = None,
    seed: int | None = None,
    client: Any = None,
    n_workers: int | None = None,
    progressbar: bool = True,
    **fit_kwargs,
):
    """Exact k-fold cross-validation: the model refitted without each fold, the fold scored.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit` to cross-validate.
    k
        Number of folds; with ``by``, ``None`` means one fold per level (leave-one-group-out by refits).
    by
        ``None``: folds of rows, scored per row (comparable with :func:`loo`). A grouping factor: folds of its
        levels, scored per level by the joint predictive density of the level's rows (comparable with
        ``loo(fit, by=...)``).
    seed
        Seed of the fold assignment and of the refits. Use the same seed (and ``k``, ``by``) for models you
        compare, so they see the same folds.
    client
        ``None`` (default): the refits run on this machine, in this process or in worker processes that never
        import your ``__main__`` (so a script needs no ``if __name__ == "__main__":`` guard, and notebooks and
        the REPL work too; see ``bayesmixed._refits``). A ``distributed.Client`` or a scheduler address:
        run on that Dask cluster (``pip install bayesmixed[dask]``; its workers need bayesmixed installed),
        one core per refit.
    n_workers
        ``None``: as many refits at once as the cores allow with each refit's chains side by side (on 2 cores
        with 2 chains: one at a time, in this process). ``1``: one after the other in this process. More:
        that many worker processes sharing the cores.
    progressbar
        Show a progress bar of finished refits.
    fit_kwargs
        ``draws``, ``tune``, ``chains``, ``sampler``, ``target_accept`` of the refits; by default those of
        the original fit.

    Returns
    -------
    ELPD
        ``kind="kfold"``: ``elpd`` (``elpd_kfold``), ``se``, ``p`` (``p_kfold``: in-sample lppd − elpd_kfold,
        when the fit stores its log-likelihood), ``pointwise`` (``kfold_i``, by row or level), ``fold`` (fold of
        each unit), ``refits`` (per-fold diagnostics), ``k``, ``by``, and ``warning`` (some refit had
        divergences or R-hat > 1.05).
    """
    from scipy.special import logsumexp

    from . import _validate as V

    if not _is_fit(fit):
        raise BayesMixedError(f"kfold needs a fitted model (model.fit(...)), got {type(fit).__name__}")
    seed = V.seed(seed)
    unknown = sorted(set(fit_kwargs) - set(_REFIT_SETTINGS))
    if unknown:
        raise BayesMixedError(
            f"unknown refit setting(s) {', '.join(map(repr, unknown))}; use {', '.join(_REFIT_SETTINGS)}"
        )
    info = fit.sampler_info or {}
    settings = {key: fit_kwargs.get(key, info.get(key)) for key in _REFIT_SETTINGS}
    defaults = {"draws": 1000, "tune": 1000, "chains": 4, "sampler": "auto", "target_accept": 0.9}
    settings = {key: defaults[key] if v is None else v for key, v in settings.items()}
    _check_settings(settings)
    design = fit.design
    fold = kfold_split(design, k, by, seed)
    K = int(fold.max()) + 1
    if by is None:
        unit = np.arange(design.n)
        labels = pd.Index(design.rows, name="row")
    else:
        b = _block(design, by)
        unit = b.codes
        labels = pd.Index(list(b.levels), name=b.label)
    seeds = [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(K)]
    tasks, names = [], []
    for j in range(K):
        test = np.flatnonzero(fold == j)
        train = np.flatnonzero(fold != j)
        tasks.append((j, train, test, unit[test], seeds[j], settings))
        names.append(f"refit {j + 1} of {K} (holding out {len(test)} rows)")
    from ._refits import run_refits

    results, _ = run_refits(
        _refit_fold, tasks, names, {"spec": fit.spec, "design": design}, chains=int(settings["chains"]),
        client=client, n_workers=n_workers, progressbar=progressbar, description=f"k-fold ({K} refits)",
    )
    n_units = len(labels)
    elpd_i = np.full(n_units, np.nan)
    unit_fold = np.full(n_units, -1)
    for r in results:
        elpd_i[r["units"]] = r["elpd_i"]
        unit_fold[r["units"]] = r["fold"]
    refits = pd.DataFrame(
        [{key: r[key] for key in ("fold", "n_test", "divergences", "max_rhat", "min_ess_bulk", "seconds")}
         for r in results]
    ).set_index("fold")
    lppd_i = None
    if "log_likelihood" in _arviz.groups(fit.idata) and "y" in fit.idata.log_likelihood:
        ll = fit.idata.log_likelihood["y"].transpose("chain", "draw", "obs").values.reshape(-1, design.n)
        ll_units = ll if by is None else _sum_by(ll, unit, n_units)
        lppd_i = logsumexp(ll_units, axis=0) - np.log(ll.shape[0])
    return kfold_elpd(
        elpd_i,
        pd.Series(unit_fold, index=labels, name="fold"),
        refits,
        n_samples=int(settings["draws"]) * int(settings["chains"]),
        k="logo" if (by is not None and k is None) else K,
        by=None if by is None else _block(design, by).label,
        lppd_i=lppd_i,
        data=data_fingerprint(design, by),
    )


def kfold_elpd(
    elpd_i: np.ndarray,
    fold: pd.Series,
    refits: pd.DataFrame,
    n_samples: int,
    k: int | str,
    by: str | None = None,
    lppd_i: np.ndarray | None = None,
    data: str | None = None,
) -> ELPD:
    """Assemble the k-fold :class:`~bayesmixed.elpd.ELPD` of pointwise held-out values (one per row, or per
    level of ``by``).

    The pointwise values have the dims of PSIS-LOO's: ``obs`` (positions) for rows, the term label (level
    labels) for levels, so that they line up with ``loo(..., pointwise=True)``. ``fold`` is indexed by the
    user's row labels (or the levels). ``p_kfold`` is ``Σ lppd_i − elpd_kfold`` when ``lppd_i`` is given.
    """
    import xarray as xr

    elpd_i = np.asarray(elpd_i, dtype=float)
    n_units = len(elpd_i)
    elpd = float(elpd_i.sum())
    se = float(np.sqrt(n_units * np.var(elpd_i)))
    p = float(np.sum(lppd_i) - elpd) if lppd_i is not None else float("nan")
    if by is None:
        pointwise = xr.DataArray(elpd_i, dims=["obs"], coords={"obs": np.arange(n_units)}, name="kfold_i")
    else:
        pointwise = xr.DataArray(elpd_i, dims=[by], coords={by: np.asarray(fold.index)}, name="kfold_i")
    warn = bool(len(refits) and ((refits["divergences"] > 0).any() or (refits["max_rhat"] > 1.05).any()))
    return ELPD(kind="kfold", elpd=elpd, se=se, p=p, n_samples=int(n_samples), n_data_points=n_units,
                warning=warn, pointwise=pointwise, by=by, k=k, fold=fold, refits=refits, data=data)


from ._callable import make_callable  # noqa: E402 (after the function it calls)

make_callable(__name__, "compare")
