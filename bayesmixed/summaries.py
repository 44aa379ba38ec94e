"""Pure summary functions over an InferenceData and a Design (pandas out, lme4/brms vocabulary).

Intervals are equal-tailed posterior quantiles (``prob=0.95`` gives the 2.5% and 97.5% quantiles), as in brms.
"""

from __future__ import annotations


import numpy as np
import pandas as pd

from . import naming as N
from .design import Design
from .errors import BayesMixedError, UnknownTermError
from .families import as_family

__all__ = [
    "population_vars",
    "draws_of",
    "aux_draws",
    "family_inputs",
    "fixef_draws",
    "fixef_names",
    "linear_predictors",
    "interval",
    "fixef",
    "ranef",
    "coef",
    "varcorr",
    "icc",
    "confint",
    "population_draws",
    "r2",
    "linear_predictor",
    "draw_index",
    "convergence",
    "latent_residual_variance",
    "observed_data",
    "residual_sd",
    "block_sd",
]

def population_vars(idata) -> list[str]:
    """Population-level variables present in the posterior: the ordinal thresholds ``Intercept``, ``beta`` and
    the other predictors' ``beta_<d>``, ``sd_*`` (smooth SDs too), ``corr_*``, the GPs' ``sdgp_*`` and
    ``lscale_*``, auxiliaries, and the residual correlations ``ar`` and ``cosy``."""
    names = list(idata.posterior.data_vars)
    aux = N.aux_names()
    out = [n for n in names if n == N.THRESHOLDS]
    out += [n for n in names if n == N.BETA]
    out += [n for n in names if n.startswith(N.BETA + "_")]
    out += [n for n in names if n.startswith(N.SD_PREFIX)]
    out += [n for n in names if n.startswith(N.CORR_PREFIX)]
    out += [n for n in names if n.startswith((N.sdgp(""), N.lscale("")))]
    out += [n for n in names if n in aux]
    out += [n for n in names if n in (N.AR, N.COSY)]
    return out


def draws_of(idata, name: str) -> np.ndarray:
    """Posterior draws of a variable with chains and draws stacked in the first axis."""
    a = idata.posterior[name].values
    return a.reshape((-1,) + a.shape[2:])


def aux_draws(idata, family, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Posterior draws ``(S, 1)`` of the family's sampled auxiliary parameters that are in the posterior (chains
    stacked; draws ``idx``; the residual SD given the random effects, :func:`residual_sd`, for the scale
    parameter), and ``(S, 1, K − 1)`` of the ordinal thresholds ``Intercept``. A parameter predicted by a formula
    of its own is not among them: :func:`family_inputs` gives it per row."""
    out = {}
    post = idata.posterior
    fam = as_family(family)
    for p in fam.sampled_aux:
        if p.name in post:
            a = residual_sd(idata) if p.name == fam.scale_param else draws_of(idata, p.name)
            out[p.name] = (a if idx is None else a[idx])[:, None]
    if fam.thresholds is not None and N.THRESHOLDS in post:
        a = draws_of(idata, N.THRESHOLDS)
        out[N.THRESHOLDS] = (a if idx is None else a[idx])[:, None, :]
    return out


def linear_predictors(idata, design: Design, idx: np.ndarray | None = None, exclude: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Draws ``(S, n)`` of every predictor's linear predictor on the fitted rows, by predicted parameter
    (``{"mu": ...}``; ``{"mu": ..., "sigma": ...}`` for ``bf(..., sigma=~...)``)."""
    idx = draw_index(idata) if idx is None else idx
    return {d.dpar: linear_predictor(idata, d, idx, exclude) for d in design.predictors}


def family_inputs(idata, family, etas: dict[str, np.ndarray], idx: np.ndarray) -> tuple[np.ndarray, dict]:
    """``(η, aux)`` for the family's :meth:`~bayesmixed.families.Family.logpdf`, ``draw`` and ``mean`` from the
    predictors' linear predictors ``etas`` (by parameter, ``(S, m)``) and the sampled scalars of draws ``idx``."""
    fam = as_family(family)
    return fam.inputs(etas, aux_draws(idata, fam, idx))


def residual_sd(idata) -> np.ndarray:
    """Draws ``(S,)`` of the residual SD given the random effects: ``sigma``, or with compound symmetry
    (``cosy``, carried by a random intercept) ``sigma · √(1 − cosy)``."""
    post = getattr(idata, "posterior", idata)
    S = post.sizes["chain"] * post.sizes["draw"]
    sigma = post[N.SIGMA].values.reshape(S)
    if N.COSY in post:
        sigma = sigma * np.sqrt(1.0 - post[N.COSY].values.reshape(S))
    return sigma


def block_sd(idata, b, idx: np.ndarray | None = None) -> np.ndarray:
    """Draws ``(S, k)`` of the SD of each coefficient of a term, for every kind of block: a random-effect term's
    ``sd_<t>``; a smooth's one ``sd_<t>`` repeated over its k columns; a GP's ``sqrt(S(√λ_j))`` from
    ``sdgp_<t>`` and ``lscale_<t>``. ``idata`` may be an InferenceData or its posterior."""
    post = getattr(idata, "posterior", idata)
    S = post.sizes["chain"] * post.sizes["draw"]
    if b.kind == "gp":
        from .design.smooth import gp_spectral_sd

        out = gp_spectral_sd(post[N.sdgp(b.label)].values.reshape(S), post[N.lscale(b.label)].values.reshape(S),
                             np.asarray(b.spectral))
    elif b.kind == "smooth":
        out = np.repeat(post[N.sd(b.label)].values.reshape(S, 1), b.k, axis=1)
    else:
        out = post[N.sd(b.label)].values.reshape(S, b.k)
    return out if idx is None else out[idx]


def interval(x: np.ndarray, prob: float, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed interval of probability ``prob``."""
    if not 0 < prob < 1:
        raise ValueError(f"prob must lie in (0, 1), got {prob}")
    lo, hi = np.quantile(x, [(1 - prob) / 2, (1 + prob) / 2], axis=axis)
    return lo, hi


def _describe(x: np.ndarray, prob: float) -> dict[str, np.ndarray]:
    lo, hi = interval(x, prob)
    return {"mean": x.mean(axis=0), "sd": x.std(axis=0, ddof=1), "lower": lo, "upper": hi}


def fixef_draws(idata, design: Design) -> dict[str, tuple[str, np.ndarray]]:
    """Every population-level coefficient by its ``fixef()`` name (brms's): the ordinal thresholds
    ``Intercept[k]``, the mean's ``x``, another predicted parameter's ``<d>_x``; each with its convergence-table
    name (``Intercept[1]``, ``beta[x]``, ``beta_sigma[x]``) and its draws ``(S,)``."""
    post = idata.posterior
    out: dict[str, tuple[str, np.ndarray]] = {}
    if N.THRESHOLDS in post:
        t = draws_of(idata, N.THRESHOLDS)
        for k, c in enumerate(post[N.THRESHOLDS].coords[N.THRESHOLD_DIM].values):
            out[f"{N.THRESHOLDS}[{c}]"] = (f"{N.THRESHOLDS}[{c}]", t[:, k])
    for d in design.predictors:
        var = N.beta_var(d.dpar)
        if var not in post:
            continue
        b = draws_of(idata, var)
        for j, name in enumerate(d.x_names):
            out[N.dpar_coef(d.dpar, name)] = (f"{var}[{name}]", b[:, j])
    return out


def fixef_names(design: Design, family) -> list[str]:
    """The names ``fixef()`` gives a model's population-level coefficients, before fitting (see
    :func:`fixef_draws`)."""
    fam = as_family(family)
    out = []
    if fam.thresholds is not None and design.response_levels is not None:
        out += [N.threshold_coef(k) for k in range(1, len(design.response_levels))]
    return out + [N.dpar_coef(d.dpar, name) for d in design.predictors for name in d.x_names]


def fixef(idata, design: Design, prob: float = 0.95) -> pd.DataFrame:
    """Fixed effects: index ``term``; columns ``mean``, ``sd``, ``lower``, ``upper``. Ordinal thresholds come
    first as ``Intercept[1]``, ...; the coefficients of another predicted parameter ``d`` are ``d_Intercept``,
    ``d_x``, ... (brms's names)."""
    draws = fixef_draws(idata, design)
    if not draws:
        return pd.DataFrame(columns=["mean", "sd", "lower", "upper"], index=pd.Index([], name="term"))
    d = _describe(np.column_stack([x for _, x in draws.values()]), prob)
    return pd.DataFrame(d, index=pd.Index(list(draws), name="term"))


def ranef(idata, design: Design, prob: float = 0.95, wide: bool = False) -> dict[str, pd.DataFrame]:
    """Random effects (deviations from the fixed effects), one frame per term.

    Long (default): index (``level``, ``coef``) and columns ``mean``, ``sd``, ``lower``, ``upper``. Wide
    (``wide=True``, as lme4's ``ranef``): the posterior means, one row per level (index named by the term
    label) and one column per coefficient: the layout of ``simulate(..., return_effects=True)``.
    """
    out = {}
    for b in design.all_blocks:
        r = draws_of(idata, N.r(b.label))  # (S, J, k)
        if wide:
            out[b.label] = pd.DataFrame(r.mean(axis=0), index=pd.Index(list(b.levels), name=b.label),
                                        columns=list(b.coef_names))
        else:
            out[b.label] = _level_frame(r, b.levels, b.coef_names, prob)
    return out


def _level_frame(r: np.ndarray, levels, coefs, prob: float) -> pd.DataFrame:
    d = _describe(r, prob)
    idx = pd.MultiIndex.from_product([list(levels), list(coefs)], names=["level", "coef"])
    return pd.DataFrame({k: v.reshape(-1) for k, v in d.items()}, index=idx)


def coef(idata, design: Design, prob: float = 0.95) -> dict[str, pd.DataFrame]:
    """Group-level coefficients (fixed effect + random deviation), one frame per term, as lme4's ``coef``.

    Every fixed coefficient appears for every level; those that do not vary by the term equal the fixed
    effect. Index (``level``, ``coef``); columns ``mean``, ``sd``, ``lower``, ``upper``. A term of another
    predicted parameter adds that parameter's fixed effects; in an ordinal model the intercept's level values
    are the deviations themselves (the thresholds are shared by every level).
    """
    out = {}
    for b in design.all_blocks:
        d = design.predictor_of_block(b.label)
        var = N.beta_var(d.dpar)
        beta = draws_of(idata, var) if var in idata.posterior else np.zeros((1, 0))
        names = list(d.x_names)
        r = draws_of(idata, N.r(b.label))
        S, J, _ = r.shape
        coefs = names + [c for c in b.coef_names if c not in names]
        total = np.zeros((S, J, len(coefs)))
        for j, c in enumerate(coefs):
            if c in names:
                total[:, :, j] += beta[:, [names.index(c)]]
            if c in b.coef_names:
                total[:, :, j] += r[:, :, b.coef_names.index(c)]
        out[b.label] = _level_frame(total, b.levels, coefs, prob)
    return out


VARCORR_KINDS = ("sd", "var", "both")


def varcorr(idata, design: Design, prob: float = 0.95, kind: str = "sd") -> pd.DataFrame:
    """Variance components: one row per SD and correlation, plus the residual SD (Gaussian/Student-t).

    Columns ``group``, ``term``, ``kind`` (``"sd"``, ``"var"`` or ``"cor"``), ``mean``, ``median``, ``lower``,
    ``upper``. A correlation's ``term`` is ``"a,b"``. A smooth term has one SD row (``group`` its label, e.g.
    ``s(x)``), a GP its ``sdgp`` and ``lscale`` (kind ``"lscale"``), compound symmetry its correlation
    (``cosy``), AR(1) residuals their lag-one correlation (group ``Residual``, term ``ar[1]``). ``kind="var"`` gives variances instead of SDs (the
    summaries of the variance draws: the posterior mean of a variance is not the square of the SD's), and
    ``kind="both"`` both, each SD row followed by its variance row, as lme4's ``VarCorr`` prints them.
    """
    if kind not in VARCORR_KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, VARCORR_KINDS))}, got {kind!r}")
    rows = []

    def one(group, term, what, x):
        lo, hi = interval(x, prob)
        rows.append(dict(group=group, term=term, kind=what, mean=float(x.mean()), median=float(np.median(x)),
                         lower=float(lo), upper=float(hi)))

    def add(group, term, what, x):
        if what == "cor":
            one(group, term, what, x)
            return
        if kind in ("sd", "both"):
            one(group, term, "sd", x)
        if kind in ("var", "both"):
            one(group, term, "var", x**2)

    for b in design.all_blocks:
        if b.kind == "smooth":  # one SD for the term's penalised columns
            add(b.label, "", "sd", draws_of(idata, N.sd(b.label)))
            continue
        if b.kind == "gp":
            add(b.label, "sdgp", "sd", draws_of(idata, N.sdgp(b.label)))
            one(b.label, "lscale", "lscale", draws_of(idata, N.lscale(b.label)))
            continue
        if b.kind == "cosy":
            one(b.label, "cosy", "cor", draws_of(idata, N.COSY))
            continue
        sd = draws_of(idata, N.sd(b.label))
        for j, c in enumerate(b.coef_names):
            add(b.label, c, "sd", sd[:, j])
        name = N.corr(b.label)
        if name in idata.posterior:
            c = draws_of(idata, name)
            for i in range(b.k):
                for j in range(i + 1, b.k):
                    add(b.label, f"{b.coef_names[i]},{b.coef_names[j]}", "cor", c[:, i, j])
    if N.SIGMA in idata.posterior:
        add("Residual", "", "sd", draws_of(idata, N.SIGMA))
    if N.AR in idata.posterior:
        one("Residual", "ar[1]", "cor", draws_of(idata, N.AR)[:, 0])
    return pd.DataFrame(rows, columns=["group", "term", "kind", "mean", "median", "lower", "upper"])


def observed_data(design: Design):
    """The ``observed_data`` group of a fit: the response ``y`` (and ``trials``), dim ``obs``."""
    import xarray as xr

    at = {N.OBS: np.arange(design.n)}
    obs = {N.RESPONSE: xr.DataArray(np.asarray(design.y), dims=[N.OBS], coords=at)}
    if design.trials is not None:
        obs[N.TRIALS] = xr.DataArray(np.asarray(design.trials), dims=[N.OBS], coords=at)
    return xr.Dataset(obs)


def draw_index(idata, max_draws: int | None = None, seed: int = 0) -> np.ndarray:
    """Indices of (at most ``max_draws``, randomly thinned) stacked posterior draws."""
    S = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    if max_draws is None or S <= max_draws:
        return np.arange(S)
    return np.sort(np.random.default_rng(seed).choice(S, max_draws, replace=False))


def linear_predictor(idata, design: Design, idx: np.ndarray | None = None, exclude: tuple[str, ...] = ()) -> np.ndarray:
    """Draws of the linear predictor η of ``design``'s parameter (the mean's for a model's design; pass
    ``design.dpars[i]`` for another's) on the fitted rows, shape ``(S, n)`` (draws ``idx`` only, if given),
    leaving out the random-effect terms labelled in ``exclude``."""
    from ._kernels import add_term, use_kernels

    idx = draw_index(idata) if idx is None else idx
    var = N.beta_var(design.dpar)
    if var in idata.posterior:
        eta = np.ascontiguousarray(draws_of(idata, var)[idx] @ design.X.T, dtype=float)
    else:
        eta = np.zeros((len(idx), design.n))
    if design.offset is not None:
        eta += design.offset
    big = use_kernels(eta.size)  # one fused pass per term instead of full-size temporaries
    for b in design.blocks:
        if b.label in exclude:
            continue
        r = draws_of(idata, N.r(b.label))[idx]  # (S, J, k)
        intercept_only = b.coef_names == ("Intercept",)
        if big:
            add_term(eta, r, b.codes, b.Z, intercept_only)
        elif intercept_only:  # a column of ones: a plain gather (several times faster)
            eta += np.take(r[:, :, 0], b.codes, axis=1)
        else:
            eta += np.einsum("snk,nk->sn", r[:, b.codes, :], b.Z)
    return eta


def r2(idata, design: Design, family: str, link: str, prob: float = 0.95, max_draws: int = 1000) -> pd.DataFrame:
    """Bayesian R² of Gelman, Goodrich, Gabry & Vehtari (2019), conditional on the random effects.

    Per draw: ``var(μ̂) / (var(μ̂) + mean residual variance)``, with μ̂ the fitted means (response scale;
    proportions for binomial) and the residual variance the family's variance at μ̂ (σ² for Gaussian). Also
    the marginal version from the fixed effects alone. Columns ``mean``, ``sd``, ``lower``, ``upper``.
    """
    fam = as_family(family, link)
    idx = draw_index(idata, max_draws)
    eta, aux = family_inputs(idata, fam, linear_predictors(idata, design, idx), idx)
    mu = fam.mean(eta, aux)
    if mu.ndim != eta.ndim or fam.response_kind == "categories":
        raise BayesMixedError(
            f"Bayesian R² is not defined for family {fam.name!r}: its response is a category, whose variance "
            "is not a function of a mean (compare models with loo() instead)"
        )
    res = fam.variance(mu, aux, design.trials).mean(axis=1)
    out = {}
    fit_var = mu.var(axis=1, ddof=1)
    out["conditional"] = fit_var / (fit_var + res)
    eta_fixed = (draws_of(idata, N.BETA)[idx] @ design.X.T if N.BETA in idata.posterior else np.zeros_like(eta))
    if design.offset is not None:
        eta_fixed = eta_fixed + design.offset
    mu_f = fam.link.inverse(eta_fixed)
    var_f = mu_f.var(axis=1, ddof=1)
    # marginal: fixed-effect variance over the total (fitted variance + residual)
    out["marginal"] = var_f / (fit_var + res)
    rows = {k: {kk: float(vv) for kk, vv in _describe(v, prob).items()} for k, v in out.items()}
    return pd.DataFrame(rows).T[["mean", "sd", "lower", "upper"]]


def latent_residual_variance(family: str, link: str, idata, design: Design) -> tuple[np.ndarray, str]:
    """Residual variance on the latent (link) scale per draw, and the definition used.

    Gaussian: σ². Logit: π²/3; probit: 1; cloglog: π²/6 (distribution-specific variances of Nakagawa,
    Johnson & Schielzeth 2017). Log links (Poisson, negative binomial): the lognormal approximation
    ``log(1 + 1/λ)`` (Poisson) and ``log(1 + 1/λ + 1/α)`` (negative binomial), λ = exp(intercept + ½ Σ
    variances) evaluated at the mean of the linear predictor.
    """
    fam = as_family(family, link)
    S = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]

    def mean_mu() -> np.ndarray:  # per draw, the mean fitted mean over the rows
        if S * design.n <= 5e7:
            return fam.link.inverse(linear_predictor(idata, design)).mean(axis=1)
        return np.full(S, float(np.mean(design.y)))

    aux = {name: draws_of(idata, name) for name in fam.aux_names if name in idata.posterior}
    predicted = [d.dpar for d in design.dpars if d.dpar in fam.aux_names]
    if not predicted:
        return fam.latent_variance(aux, S, mean_mu)
    # a predicted auxiliary parameter (sigma ~ x): its mean square over the rows, per draw
    idx = np.arange(S)
    values = fam.inputs(linear_predictors(idata, design, idx), aux_draws(idata, fam, idx))[1]
    for name in predicted:
        if fam.thresholds is not None:
            raise BayesMixedError(f"an ICC on the latent scale needs a constant {name} ({name} is predicted here)")
        aux[name] = np.sqrt(np.mean(np.asarray(values[name]) ** 2, axis=1))
    v, definition = fam.latent_variance(aux, S, mean_mu)
    return v, f"{definition}, with {', '.join(predicted)} predicted: its mean square over the rows"


def icc(
    idata, design: Design, family: str, link: str, prob: float = 0.95, at: dict[str, np.ndarray] | None = None,
    at_label: str = "",
) -> pd.DataFrame:
    """Intraclass correlation per grouping term, plus the total.

    ICC_g = v_g / (Σ_h v_h + residual variance), with the residual variance of :func:`latent_residual_variance`
    and ``v_g = z_gᵀ G_g z_g`` the variance of term g's contribution to the linear predictor at the
    covariate values whose columns are ``z_g`` (``at[label]``: one value per coefficient of the term). By
    default ``z_g`` is the intercept indicator, i.e. every slope's covariate at 0: the intercept variance
    share, and terms without an intercept contribute nothing. Columns ``group``, ``mean``, ``lower``,
    ``upper``, ``at`` (the covariate values, ``at_label``; empty for intercept-only models), ``definition``.
    """
    resid, definition = latent_residual_variance(family, link, idata, design)
    variances = {}
    for b in design.blocks:
        if at is not None and b.label in at:
            z = np.asarray(at[b.label], dtype=float)
        elif "Intercept" in b.coef_names:
            z = (np.asarray(b.coef_names) == "Intercept").astype(float)
        else:
            continue
        sd = draws_of(idata, f"sd_{b.label}") * z  # (S, k): sd_a z_a
        name = f"corr_{b.label}"
        if name in idata.posterior and b.k > 1:
            C = draws_of(idata, name)
            variances[b.label] = np.einsum("sa,sab,sb->s", sd, C, sd)
        else:
            variances[b.label] = np.sum(sd**2, axis=1)
    total = sum(variances.values()) + resid if variances else resid
    rows = []
    for g, v in variances.items():
        x = v / total
        lo, hi = interval(x, prob)
        rows.append(dict(group=g, mean=float(x.mean()), lower=float(lo), upper=float(hi), at=at_label,
                         definition=definition))
    if len(variances) > 1:
        x = sum(variances.values()) / total
        lo, hi = interval(x, prob)
        rows.append(dict(group="(all)", mean=float(x.mean()), lower=float(lo), upper=float(hi), at=at_label,
                         definition=definition))
    return pd.DataFrame(rows, columns=["group", "mean", "lower", "upper", "at", "definition"])


def population_draws(idata) -> dict[str, np.ndarray]:
    """Draws ``(S,)`` of every population-level scalar, named as in :func:`convergence` (``beta[Days]``,
    ``sd_Subject[Days]``, ``corr_Subject[Intercept,Days]``, ``sigma``)."""
    out: dict[str, np.ndarray] = {}
    post = idata.posterior
    for n in population_vars(idata):
        a = draws_of(idata, n)
        if a.ndim == 1:
            out[n] = a
        elif n.startswith("corr_"):
            coords = post[n].coords[post[n].dims[-1]].values
            for i in range(a.shape[1]):
                for j in range(i + 1, a.shape[2]):
                    out[f"{n}[{coords[i]},{coords[j]}]"] = a[:, i, j]
        else:
            coords = post[n].coords[post[n].dims[-1]].values
            for i, c in enumerate(coords):
                out[f"{n}[{c}]"] = a[:, i]
    return out


def confint(idata, prob: float = 0.95, parm: list[str] | None = None) -> pd.DataFrame:
    """Equal-tailed posterior intervals of every population-level parameter (lme4's ``confint``, brms's
    ``posterior_interval``): index ``parameter`` (``beta[Days]``, ``sd_Subject[Intercept]``,
    ``corr_Subject[Intercept,Days]``, ``sigma``), columns ``lower``, ``upper``; ``parm`` selects some."""
    draws = population_draws(idata)
    if parm is not None:
        missing = [p for p in parm if p not in draws]
        if missing:
            raise UnknownTermError(f"no parameter(s) {', '.join(map(repr, missing))}; available: {', '.join(draws)}")
        draws = {p: draws[p] for p in parm}
    rows = {}
    for name, x in draws.items():
        lo, hi = interval(x, prob)
        rows[name] = dict(lower=float(lo), upper=float(hi))
    return pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"]).rename_axis("parameter")


def convergence(idata) -> pd.DataFrame:
    """R-hat, bulk and tail ESS of every population-level scalar (correlation matrices: upper triangle)."""
    from . import _arviz

    names = population_vars(idata)
    rhat, bulk, tail = _arviz.convergence_stats(idata, names)  # correlation diagonals: NaN, quietly
    rows = []
    for n in names:
        r, b_, t = rhat[n].values, bulk[n].values, tail[n].values
        if n.startswith(N.CORR_PREFIX):
            iu = np.triu_indices(r.shape[0], 1)
            labels = [f"{n}[{i},{j}]" for i, j in zip(*iu)]
            vals = zip(labels, r[iu], b_[iu], t[iu])
        elif r.ndim == 0:
            vals = [(n, r, b_, t)]
        else:
            coords = idata.posterior[n].coords[idata.posterior[n].dims[-1]].values
            vals = [(f"{n}[{c}]", r[i], b_[i], t[i]) for i, c in enumerate(coords)]
        for lab, rr, bb, tt in vals:
            rows.append(dict(parameter=lab, r_hat=float(rr), ess_bulk=float(bb), ess_tail=float(tt)))
    return pd.DataFrame(rows).set_index("parameter")
