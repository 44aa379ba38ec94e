"""Prior and posterior predictive checks: draws from the prior predictive distribution in every
parameterisation, and brms's ``pp_check`` figures.

Prior predictive
----------------
:func:`sample_prior_predictive` draws parameters from the model's priors and responses given them, ancestrally
(PyMC's forward sampler), in the non-centred form of the model's spec: a marginal model integrates the random
effects (and the fixed effects) out and has no observed variable (its likelihood is a potential), so the
integrated terms are drawn non-centred instead; a centred term whose level means are integrated out of a
nested term's prior is drawn non-centred too. The prior predictive distribution does not depend on the
parameterisation, only on the priors, which these forms share.

Checks
------
:func:`pp_check` (``fit.pp_check(kind=...)``) and :func:`prior_check` (``model.pp_check(kind=...)``) compare
the observed response with replicated data sets from the posterior or the prior predictive distribution:

``"dens_overlay"``
    Densities (Gaussian kernel) of the observed response and of replicated data sets.
``"hist"``
    Histograms of the observed response and of a few replicated data sets.
``"stat"``
    A statistic (``"mean"``, ``"sd"``, ``"median"``, ``"min"``, ``"max"``, ``"var"``, ``"iqr"`` or any function
    of a 1-D array) of the replicated data sets against the observed one, with its posterior predictive p-value
    ``P(T(y_rep) >= T(y))``; by the levels of a factor with ``group=``.
``"intervals"``
    Each observation against its predictive 50 % and 90 % intervals, along the row index or a predictor ``x=``.
``"rootogram"``
    Counts: square roots of the expected and observed frequencies of each count (hanging rootogram).
``"bars"``
    Discrete responses (binary, ordinal, categorical, small counts): the frequency of every value against
    its predictive interval.
``"loo_pit"``
    Leave-one-out probability integral transform (posterior only; needs the log-likelihood): the PSIS-weighted
    ``P(y_rep < y_i) + U · P(y_rep = y_i)`` of each observation (randomised for discrete responses), whose ECDF
    should follow the uniform one within the band.

Binomial responses are compared as numbers of successes, as the model sees them.
"""

from __future__ import annotations

import dataclasses
import logging
import warnings
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from .design import Design
from .errors import BayesMixedError, DataError
from .plots import BLACK, BLUE, GREY, LIGHT, ORANGE, SKY, _figure, _styled
from .summaries import interval

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .spec import ModelSpec

__all__ = ["PP_KINDS", "prior_predictive_spec", "sample_prior_predictive", "forward_draws", "pp_check", "prior_check", "STATS"]

PP_KINDS = ("dens_overlay", "hist", "stat", "intervals", "rootogram", "bars", "loo_pit")

STATS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "mean": lambda a: np.mean(a, axis=-1),
    "sd": lambda a: np.std(a, axis=-1, ddof=1),
    "var": lambda a: np.var(a, axis=-1, ddof=1),
    "median": lambda a: np.median(a, axis=-1),
    "min": lambda a: np.min(a, axis=-1),
    "max": lambda a: np.max(a, axis=-1),
    "iqr": lambda a: np.subtract(*np.quantile(a, [0.75, 0.25], axis=-1)),
}


# ------------------------------------------------------------------------------------------------ prior predictive
def prior_predictive_spec(spec: ModelSpec, design: Design) -> ModelSpec:
    """The spec whose PyMC model draws the prior predictive ancestrally: integrated-out (marginal) terms
    non-centred, and every centred term non-centred when the head of the centring chain would be integrated out
    of its child's prior (that form samples the child's means under a flat density and a potential). Priors,
    family and formula are unchanged, so the prior predictive distribution is the same."""
    from .backends.pymc import centring_head

    param = {k: ("noncentered" if v in ("marginal", "quadrature") else v) for k, v in spec.parameterization}
    new = dataclasses.replace(spec, parameterization=tuple(param.items()), parameterization_reason=())
    if centring_head(new, design) is not None:
        new = dataclasses.replace(new, parameterization=tuple((k, "noncentered") for k in param))
    return new


def sample_prior_predictive(spec: ModelSpec, design: Design, draws: int = 500, seed: int | None = None):
    """Draws from the prior and the prior predictive distribution of a model.

    Parameters
    ----------
    spec, design
        The model's :class:`~bayesmixed.spec.ModelSpec` and :class:`~bayesmixed.design.Design`
        (``model.spec``, ``model.design``), in any parameterisation.
    draws
        Number of draws.
    seed
        Random seed; the same seed gives the same draws.

    Returns
    -------
    arviz.InferenceData
        ``prior`` (``beta``, ``sd_<t>``, ``corr_<t>``, ``r_<t>``, ``sigma`` and the family's auxiliary
        parameters, one chain), ``prior_predictive`` (``y``, dim ``obs``; successes for binomial models) and
        ``observed_data`` (``y``, and ``trials`` for binomial models).
    """
    import xarray as xr

    from . import _arviz
    from .backends.pymc import build_model

    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws < 1:
        raise BayesMixedError(f"draws must be a positive whole number, got {draws!r}")
    model = build_model(prior_predictive_spec(spec, design), design, integrate_fixed=False)
    names = [v.name for v in model.free_RVs + model.deterministics if not v.name.startswith("_")]
    drawn = "y" in model.named_vars  # else the likelihood is a potential (weights, cens, trunc): drawn below
    idata = forward_draws(model, int(draws), names + (["y"] if drawn else []), seed)
    obs = {"y": xr.DataArray(np.asarray(design.y), dims=["obs"], coords={"obs": np.arange(design.n)})}
    if design.trials is not None:
        obs["trials"] = xr.DataArray(np.asarray(design.trials), dims=["obs"], coords={"obs": np.arange(design.n)})
    if drawn:
        pp = idata.prior_predictive[["y"]].assign_coords(obs=np.arange(design.n))
    else:
        pp = _numpy_prior_predictive(idata.prior, spec, design, seed)
    return _arviz.inference_data(prior=idata.prior, prior_predictive=pp, observed_data=xr.Dataset(obs))


def _numpy_prior_predictive(prior, spec: ModelSpec, design: Design, seed: int | None):
    """Responses drawn in NumPy from the prior draws (a model whose likelihood is a potential: brms's response
    terms): the family truncated as ``trunc()`` says; weights and censoring do not enter new responses."""
    import xarray as xr

    from . import _arviz
    from .families import bounds
    from .summaries import aux_draws, linear_predictor

    as_post = _arviz.inference_data(posterior=prior)
    S = prior.sizes["chain"] * prior.sizes["draw"]
    fam = spec.family_obj
    eta = linear_predictor(as_post, design, np.arange(S))
    rng = np.random.default_rng(None if seed is None else [int(seed), 17])
    y = bounds.draw(fam, eta, aux_draws(as_post, fam), rng, design.trials, design.lb, design.ub)
    coords = {"chain": prior["chain"].values, "draw": prior["draw"].values, "obs": np.arange(design.n)}
    return xr.Dataset({"y": xr.DataArray(y.reshape(prior.sizes["chain"], prior.sizes["draw"], design.n),
                                         dims=("chain", "draw", "obs"), coords=coords)})


def forward_draws(model, draws: int, var_names: list[str], seed: int | None):
    """``pm.sample_prior_predictive`` of ``var_names`` in ``model``, without PyMC's log lines and warnings."""
    import pymc as pm

    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with model, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pm.sample_prior_predictive(draws=draws, var_names=var_names, random_seed=seed)
    finally:
        logger.setLevel(level)


# ------------------------------------------------------------------------------------------------ checks
def _stat_fn(stat) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    if callable(stat):
        name = getattr(stat, "__name__", "T")

        def apply(a):
            a = np.asarray(a)
            return np.array([stat(row) for row in a]) if a.ndim == 2 else np.asarray(stat(a))

        return apply, name
    if stat not in STATS:
        raise DataError(f"stat must be one of {', '.join(map(repr, STATS))} or a function of a 1-D array, got {stat!r}")
    return STATS[stat], stat


def _group_codes(design: Design, group: str) -> tuple[np.ndarray, list]:
    """Codes of the rows by a column of the model frame or a random-effect term's levels."""
    frame = design.frame
    if frame is not None and group in frame.columns:
        codes, uniques = pd.factorize(frame[group], sort=True)
        return codes, list(uniques)
    try:
        b = design.block(group)
    except KeyError:
        cols = list(map(str, frame.columns)) if frame is not None else [b.label for b in design.blocks]
        raise DataError(f"group={group!r} is not a column of the model ({', '.join(cols)})") from None
    return np.asarray(b.codes), list(b.levels)


def _is_count(y: np.ndarray) -> bool:
    return bool(np.all(y >= 0) and np.all(y == np.round(y)))


@_styled
def check_plot(
    y: np.ndarray,
    yrep: np.ndarray,
    design: Design,
    kind: str = "dens_overlay",
    source: str = "posterior",
    stat: Any = "mean",
    group: str | None = None,
    x: str | None = None,
    prob: float = 0.5,
    outer_prob: float = 0.9,
    seed: int = 0,
    max_lines: int = 50,
) -> Figure:
    """The figure of one check, from the observed ``y`` (n) and replicated data sets ``yrep`` (draws × n)."""
    if kind not in PP_KINDS or kind == "loo_pit":
        raise DataError(f"kind must be one of {', '.join(map(repr, PP_KINDS))}, got {kind!r}")
    label = f"{source} predictive"
    yname = design.response_label
    rng = np.random.default_rng(seed)
    if kind == "dens_overlay":
        from scipy.stats import gaussian_kde

        fig, axes = _figure(5.4, 3.6)
        ax = axes[0, 0]
        reps = yrep[: min(max_lines, len(yrep))]
        lo, hi = np.quantile(np.concatenate([y, reps.ravel()]), [0.005, 0.995])
        pad = 0.05 * (hi - lo or 1.0)
        xs = np.linspace(lo - pad, hi + pad, 256)
        sub = rng.choice(len(y), min(len(y), 4000), replace=False)
        for i, r in enumerate(reps):
            if np.ptp(r[sub]) > 0:
                ax.plot(xs, gaussian_kde(r[sub])(xs), color=SKY, lw=0.6, alpha=0.4, label=f"{label} (y_rep)" if i == 0 else None)
        ax.plot(xs, gaussian_kde(y[sub])(xs), color=BLACK, lw=1.8, label="observed (y)")
        ax.set_xlabel(yname)
        ax.set_ylabel("density")
        ax.set_title(f"Observed density against {len(reps)} replicated data sets")
        ax.legend(loc="best")
        return fig
    if kind == "hist":
        reps = yrep[: min(8, len(yrep))]
        fig, axes = _figure(8.4, 4.2, 3, 3, sharex=True)
        edges = np.histogram_bin_edges(np.concatenate([y, reps.ravel()]), bins=30)
        for i, ax in enumerate(axes.flat):
            data, c, name = (y, BLACK, "observed") if i == 0 else (reps[i - 1], SKY, f"y_rep {i}") if i - 1 < len(reps) else (None, None, None)
            if data is None:
                ax.set_visible(False)
                continue
            ax.hist(data, bins=edges, color=c, alpha=0.8 if i == 0 else 0.7)
            ax.set_title(name, fontsize=8)
            ax.tick_params(labelsize=7)
        fig.supxlabel(yname, fontsize=9)
        fig.suptitle(f"Observed response and {len(reps)} {label} data sets", fontsize=10)
        return fig
    if kind == "stat":
        fn, sname = _stat_fn(stat)
        if group is None:
            t_rep, t_obs = np.asarray(fn(yrep), dtype=float), float(fn(y))
            fig, axes = _figure(5.0, 3.4)
            _stat_panel(axes[0, 0], t_rep, t_obs, f"{sname}({yname})")
            axes[0, 0].set_title(f"{sname}: observed against {label}")
            axes[0, 0].legend(loc="best")
            return fig
        codes, levels = _group_codes(design, group)
        if len(levels) > 36:
            raise DataError(f"stat by {group!r}: {len(levels)} levels are too many panels (at most 36); "
                            "group by a coarser factor")
        ncol = min(6, len(levels))
        nrow = int(np.ceil(len(levels) / ncol))
        fig, axes = _figure(1.9 * ncol + 0.6, 1.7 * nrow + 0.8, nrow, ncol)
        for j, ax in enumerate(axes.flat):
            if j >= len(levels):
                ax.set_visible(False)
                continue
            rows = codes == j
            _stat_panel(ax, np.asarray(fn(yrep[:, rows]), dtype=float), float(fn(y[rows])), "", small=True)
            ax.set_title(f"{group} = {levels[j]}", fontsize=8)
        fig.suptitle(f"{sname}({yname}) by {group}: observed (line) against {label} (histogram)", fontsize=10)
        return fig
    if kind == "intervals":
        fig, axes = _figure(7.0, 3.6)
        ax = axes[0, 0]
        if x is not None:
            frame = design.frame
            if frame is None or x not in frame.columns:
                raise DataError(f"intervals: x={x!r} is not a column of the model frame")
            xv = np.asarray(pd.to_numeric(frame[x], errors="coerce"), dtype=float)
            if np.isnan(xv).any():
                raise DataError(f"intervals: x={x!r} must be numeric")
        else:
            xv = np.arange(len(y), dtype=float)
        lo_o, hi_o = interval(yrep, outer_prob)
        lo_i, hi_i = interval(yrep, prob)
        jit = rng.uniform(-0.15, 0.15, len(y)) * (np.min(np.diff(np.unique(xv))) if len(np.unique(xv)) > 1 else 1.0)
        xx = xv + (jit if x is not None else 0)
        ax.vlines(xx, lo_o, hi_o, color=SKY, lw=0.7, alpha=0.7, label=f"{100 * outer_prob:g}% interval")
        ax.vlines(xx, lo_i, hi_i, color=BLUE, lw=1.8, alpha=0.8, label=f"{100 * prob:g}% interval")
        ax.scatter(xx, y, s=6, color=BLACK, zorder=3, label="observed")
        outside = (y < lo_o) | (y > hi_o)
        ax.set_xlabel(x or "observation")
        ax.set_ylabel(yname)
        ax.set_title(f"{label} intervals: {int(outside.sum())} of {len(y)} observations outside the "
                     f"{100 * outer_prob:g}% interval")
        ax.legend(loc="best")
        return fig
    # discrete kinds
    if not _is_count(y):
        raise DataError(f"kind={kind!r} is for discrete responses (counts, categories); {yname!r} has non-integer "
                        "values: use 'dens_overlay', 'hist', 'stat' or 'intervals'")
    top = int(max(y.max(), np.quantile(yrep, 0.995)))
    if kind == "bars" and top > 60:
        raise DataError(f"kind='bars' shows every value; {yname!r} reaches {top}: use 'rootogram' or 'dens_overlay'")
    vals = np.arange(0, top + 1)
    obs_f = np.bincount(y.astype(np.int64), minlength=top + 1)[: top + 1].astype(float)
    rep_i = np.clip(yrep, 0, top + 1).astype(np.int64)
    rep_f = np.stack([np.bincount(r, minlength=top + 2)[: top + 1] for r in rep_i]).astype(float)  # (S, V)
    fig, axes = _figure(6.0, 3.6)
    ax = axes[0, 0]
    if kind == "bars":
        lo, hi = interval(rep_f, outer_prob)
        med = np.median(rep_f, axis=0)
        ax.bar(vals, obs_f, width=0.8, color=LIGHT, edgecolor=GREY, label="observed")
        ax.errorbar(vals, med, yerr=[med - lo, hi - med], fmt="o", ms=3.5, color=BLUE, lw=1.2,
                    label=f"{label} (median, {100 * outer_prob:g}%)")
        ax.set_ylabel("count")
        ax.set_title(f"Frequencies of {yname}: observed against {label}")
    else:  # hanging rootogram
        expected = rep_f.mean(axis=0)
        lo, hi = interval(rep_f, outer_prob)
        se = np.sqrt(expected)
        ax.bar(vals, np.sqrt(obs_f), bottom=se - np.sqrt(obs_f), width=0.8, color=LIGHT, edgecolor=GREY,
               label="observed (hanging from expected)")
        ax.fill_between(vals, np.sqrt(lo), np.sqrt(hi), step="mid", color=SKY, alpha=0.3, lw=0,
                        label=f"{100 * outer_prob:g}% interval")
        ax.plot(vals, se, color=BLUE, lw=1.6, marker="o", ms=2.5, label=f"expected ({label})")
        ax.axhline(0.0, color=ORANGE, lw=0.9)
        ax.set_ylabel("sqrt(frequency)")
        ax.set_title(f"Hanging rootogram of {yname}")
    ax.set_xlabel(yname)
    ax.legend(loc="best")
    return fig


def _stat_panel(ax, t_rep: np.ndarray, t_obs: float, xlabel: str, small: bool = False) -> None:
    finite = t_rep[np.isfinite(t_rep)]
    ax.hist(finite, bins=20 if small else 40, color=SKY, alpha=0.8, label="T(y_rep)")
    ax.axvline(t_obs, color=BLACK, lw=1.8, label="T(y)")
    p = float(np.mean(t_rep >= t_obs)) if len(t_rep) else float("nan")
    ax.text(0.98, 0.95, f"p = {p:.2f}", transform=ax.transAxes, ha="right", va="top", fontsize=7 if small else 8)
    if xlabel:
        ax.set_xlabel(xlabel)
    ax.tick_params(labelsize=7)
    ax.set_yticks([])


def _replicates(fit, n_draws: int | None, seed: int) -> np.ndarray:
    from .plots import replicates

    S = fit.idata.posterior.sizes["chain"] * fit.idata.posterior.sizes["draw"]
    return replicates(fit, S if n_draws is None else n_draws, seed)


def pp_check(
    fit,
    kind: str = "dens_overlay",
    n_draws: int | None = None,
    stat: Any = "mean",
    group: str | None = None,
    x: str | None = None,
    prob: float = 0.5,
    outer_prob: float = 0.9,
    seed: int = 0,
) -> Figure:
    """Posterior predictive check, as brms's ``pp_check(fit, type=...)``.

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    kind
        One of ``PP_KINDS`` (see the module docstring).
    n_draws
        Replicated data sets used (randomly chosen posterior draws); by default 50 lines for
        ``dens_overlay``, 8 panels for ``hist`` and every draw otherwise.
    stat, group
        ``kind="stat"``: the statistic and a factor (a column of the model or a random-effect term) by whose
        levels it is computed.
    x
        ``kind="intervals"``: a numeric predictor for the x axis (default: the observation index).
    prob, outer_prob
        Inner and outer interval probabilities (``intervals``; ``outer_prob`` for ``bars`` and ``rootogram``).
    seed
        Seed of the draws chosen and of the replicated responses.

    Returns
    -------
    matplotlib.figure.Figure
    """
    if kind not in PP_KINDS:
        raise DataError(f"kind must be one of {', '.join(map(repr, PP_KINDS))}, got {kind!r}")
    d = fit.design
    y = np.asarray(d.y, dtype=float)
    if kind == "loo_pit":
        return _loo_pit(fit, seed)
    n = n_draws if n_draws is not None else {"dens_overlay": 50, "hist": 8}.get(kind)
    yrep = _replicates(fit, n, seed)
    return check_plot(y, yrep, d, kind, "posterior", stat, group, x, prob, outer_prob, seed)


def prior_check(
    model,
    kind: str = "dens_overlay",
    draws: int = 200,
    seed: int | None = None,
    idata=None,
    stat: Any = "mean",
    group: str | None = None,
    x: str | None = None,
    prob: float = 0.5,
    outer_prob: float = 0.9,
) -> Figure:
    """Prior predictive check of a :class:`~bayesmixed.Model` (``model.pp_check(kind=...)``): the observed
    response against data sets drawn from the priors (``idata`` from :func:`sample_prior_predictive`, or
    ``draws`` new ones with ``seed``). Kinds and arguments as :func:`pp_check` (``loo_pit`` needs a posterior)."""
    if kind == "loo_pit":
        raise DataError("kind='loo_pit' needs a posterior (fit.pp_check); prior checks take the other kinds")
    if idata is None:
        idata = sample_prior_predictive(model.spec, model.design, draws, seed)
    a = idata.prior_predictive["y"].values
    yrep = a.reshape(-1, a.shape[-1])
    if kind in ("dens_overlay", "hist"):
        yrep = yrep[: 50 if kind == "dens_overlay" else 8]
    y = np.asarray(model.design.y, dtype=float)
    return check_plot(y, yrep, model.design, kind, "prior", stat, group, x, prob, outer_prob, seed or 0)


@_styled
def _loo_pit(fit, seed: int) -> Figure:
    """LOO-PIT: PSIS weights from the pointwise log-likelihood, randomised for discrete responses."""
    from scipy.stats import beta as beta_dist

    from . import _arviz

    if "log_likelihood" not in _arviz.groups(fit.idata):
        raise DataError("kind='loo_pit' needs the pointwise log-likelihood: use fit.add_log_likelihood().pp_check(...)")
    d = fit.design
    y = np.asarray(d.y, dtype=float)
    ll = fit.idata.log_likelihood["y"].values
    ll = ll.reshape(-1, ll.shape[-1])  # (S, n)
    yrep = _replicates(fit, None, seed)  # every draw, in the log-likelihood's order
    lw, _ = _arviz.psislw(-ll.T)  # (n, S)
    w = np.exp(lw - lw.max(axis=1, keepdims=True))
    w /= w.sum(axis=1, keepdims=True)
    below = (yrep.T < y[:, None]).astype(float)
    equal = (yrep.T == y[:, None]).astype(float)
    u = np.random.default_rng(seed).random(len(y))
    pit = np.sum(w * below, axis=1) + u * np.sum(w * equal, axis=1)
    n = len(pit)
    grid = np.linspace(0, 1, 201)
    ecdf = np.searchsorted(np.sort(pit), grid, side="right") / n
    lo = beta_dist.ppf(0.025, n * grid + 1e-12, n * (1 - grid) + 1) if n else grid
    hi = beta_dist.ppf(0.975, n * grid + 1, n * (1 - grid) + 1e-12) if n else grid
    fig, axes = _figure(5.4, 3.6)
    ax = axes[0, 0]
    ax.fill_between(grid, lo - grid, hi - grid, color=SKY, alpha=0.3, lw=0, label="95% pointwise band (uniform)")
    ax.plot(grid, ecdf - grid, color=BLACK, lw=1.6, label="ECDF(LOO-PIT) - uniform")
    ax.axhline(0.0, color=GREY, lw=0.8, ls="--")
    ax.set_xlabel("LOO-PIT")
    ax.set_ylabel("ECDF difference")
    ax.set_title("LOO probability integral transform" + (" (randomised: discrete response)" if _is_count(y) else ""))
    ax.legend(loc="best")
    return fig
