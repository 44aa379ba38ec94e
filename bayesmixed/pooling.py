"""Partial pooling, measured: shrinkage per level and pooling factors per term (pure functions, pandas out).

Every function here reads an ArviZ ``InferenceData`` (the posterior), a :class:`~bayesmixed.design.Design` and
the family/link of the model, and returns numbers or tables. Nothing is plotted or printed, and nothing is
sampled: the no-pooling and complete-pooling reference fits are cheap least-squares / maximum-likelihood
fits done here with NumPy (iteratively reweighted least squares, IRLS).

The three estimates of a varying coefficient
--------------------------------------------
Take a random-effect term ``t`` with grouping factor ``g`` and varying coefficient ``c`` (``Intercept``,
``Days``), e.g. ``y ~ x + (1 | g)``.

no pooling
    Each level gets its own coefficient, estimated from its own rows only: the lme4-style "no pooling" model
    ``y ~ x + g`` (for ``(1 + z | g)``: ``y ~ x + g + g:z``) in which the term's coefficients are one free
    parameter per level and the other fixed coefficients are shared. Gaussian (and Student-t) responses:
    least squares; other families: maximum likelihood by IRLS with the family's variance function (a
    quasi-likelihood for ``beta``; the negative binomial uses the posterior mean of ``alpha``). Other
    random-effect terms are left out. A level's estimate is ``NaN`` (with a ``note``) when it does not
    exist: too few rows for the number of coefficients, a predictor that does not vary within the level,
    all successes / all failures / all-zero counts (separation: the ML estimate is infinite), or fitted
    probabilities of exactly 0 or 1 after the fit (quasi-separation).
complete pooling
    One coefficient for all levels: the same fit without the random term (``y ~ x``; a varying coefficient
    with no fixed counterpart gets a shared column).
partial pooling
    The fitted model's level coefficient, posterior mean and equal-tailed interval of
    ``θ_jc = β_c + Σ_m β_m u_jm + r_jc``.
population
    The fitted model's population value for the level, the posterior mean of ``β_c + Σ_m β_m u_jm`` (θ with
    ``r_j = 0``): the centre the hierarchical model pulls each level toward. It is *not* the complete-pooling
    estimate: the pooled fit weighs rows, the hierarchical model weighs levels (radon: the complete-pooling
    intercept is 1.36, pulled down by a few large low-radon counties; the population intercept is 1.49).

In all of these, a *group-level predictor* (a fixed-effect column ``x_m = z_c · u_j`` that is constant within
every level of ``g``, like county uranium in the radon data) belongs to the level's coefficient: it is part
of ``θ_jc`` (partial), of the complete-pooling prediction ``β̂_c + Σ_m β̂_m u_jm`` for the level, and it is
absorbed into the level's own coefficient in the no-pooling fit.

Shrinkage and pooling factors
-----------------------------
shrinkage factor of a level
    ``(no pooling − partial) / (no pooling − population)``: 0 when the estimate stays at the level's own
    fit, 1 when it moves all the way to the population (complete pooling within the fitted model). Measured
    toward the population value rather than the separate complete-pooling fit because that is where the
    model shrinks to: for a Gaussian random intercept, given (β, τ, σ), the level's posterior mean is the
    weighted average ``(1 − ω_j)·own + ω_j·population``, so the factor lies in [0, 1] (up to Monte Carlo
    error) and estimates ω_j. Measured toward the complete-pooling fit instead, 18 of radon's 85 counties
    would fall outside [0, 1], some by ten Monte Carlo standard errors. Values are not clipped; a ``note``
    says when one falls outside [0, 1] (correlated coefficients shrink jointly and can overshoot in one
    coordinate; GLMs and Monte Carlo error) or when the level's own estimate is too close to the population
    value for the ratio to be stable.
``omega`` (ω_j), the per-level pooling factor
    The population's weight in the level's conditional posterior mean: ``ω_j = diag((I + G I_j)⁻¹)`` with
    ``G`` the covariance of the term's effects and ``I_j = Σ_i∈j W_i z_i z_iᵀ`` the information of the
    level's own data, ``W_i = (dμ/dη)² / Var(y_i)`` at the fitted mean. When another term is nested in this
    one (casks within batches), its effects absorb part of that information: ``I_j`` is then
    ``Z_jᵀ (W⁻¹ + Z_c G_c Z_cᵀ)⁻¹ Z_j``, the information about the level's effect with the nested effects
    integrated out (balanced Gaussian intercepts: ``1 / (τ_c²/m_j + σ²/n_j)`` with ``m_j`` child levels). For one coefficient
    ``ω_j = (1/τ²) / (1/τ² + I_j)``; for a Gaussian intercept ``I_j = n_j/σ²`` and
    ``ω_j = (σ²/n_j) / (σ²/n_j + τ²)``. Computed per posterior draw, reported as the posterior mean.
``info_ratio``
    ``(I_j)_cc τ_c²`` (``n_j τ²/σ²`` for a Gaussian intercept): within-level information about the coefficient
    over the between-level prior precision; for one coefficient ``ω_j = 1 / (1 + info_ratio)``. Posterior
    median. A level is *strong* when it exceeds 1 (:data:`STRONG_RATIO`).
``lambda`` (λ), Gelman & Pardoe's (2006) pooling factor of a term and coefficient
    ``λ = 1 − V_j(E[ε_j]) / E[V_j(ε_j)]`` with ``ε_j = r_jc`` the level's random effect, ``V_j`` the variance
    across levels and ``E`` the posterior mean: near 0 when the levels are estimated separately (little
    pooling), near 1 when they are pooled completely.
``r2``
    Gelman & Pardoe's explained variance at the level, ``1 − E[V_j(ε_j)] / E[V_j(θ_jc)]``: the share of the
    variation of the level coefficients that group-level predictors explain (0 without such predictors).
``n_eff_groups``
    Effective number of groups, ``Σ_j (1 − ω_j)``: how many levels' worth of separate estimates the data
    support (``J`` when each level is estimated on its own, near 0 under complete pooling; about
    ``J (1 − λ)``).

References
----------
Gelman, A. and Pardoe, I. (2006). Bayesian measures of explained variance and pooling in multilevel
(hierarchical) models. Technometrics 48(2), 241-251.
Gelman, A. and Hill, J. (2007). Data Analysis Using Regression and Multilevel/Hierarchical Models, ch. 12.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import naming as N
from ._glm import _glm, _response
from ._thresholds import THRESHOLDS
from .design import Design, GroupBlock
from .errors import DataError
from .errors import UnknownTermError
from .families import Family, as_family
from .summaries import aux_draws, draw_index, draws_of, interval

__all__ = [
    "LevelFits",
    "level_predictors",
    "no_pooling",
    "complete_fit",
    "complete_pooling",
    "partial_pooling_draws",
    "shrinkage",
    "level_information",
    "level_pooling",
    "pooling_factor",
    "pooling",
    "recommend",
    "STRONG_RATIO",
]

#: A level is "strong" (its data dominate the between-level prior) when ``info_ratio`` exceeds this.
STRONG_RATIO = THRESHOLDS.strong_ratio


# ------------------------------------------------------------------------------------ the reference fits
def level_predictors(design: Design, block: GroupBlock) -> dict[str, list[tuple[int, np.ndarray]]]:
    """Group-level predictors of each varying coefficient of ``block``.

    A fixed-effect column ``m`` (other than the coefficients the term varies) is a group-level predictor of
    coefficient ``c`` when ``X[:, m] = Z[:, c] · u_j`` with ``u_j`` constant within every level ``j`` (and not
    the same for all levels). Returns, per coefficient, ``[(m, u)]`` with ``u`` of shape ``(J,)``.
    """
    J = block.n_levels
    out: dict[str, list[tuple[int, np.ndarray]]] = {c: [] for c in block.coef_names}
    for m, name in enumerate(design.x_names):
        if name in block.coef_names:
            continue
        x = design.X[:, m]
        for a, c in enumerate(block.coef_names):
            z = block.Z[:, a]
            nz = z != 0
            if np.any(x[~nz] != 0) or not nz.any():
                continue
            ratio = x[nz] / z[nz]
            cj = block.codes[nz]
            lo = np.full(J, np.inf)
            hi = np.full(J, -np.inf)
            np.minimum.at(lo, cj, ratio)
            np.maximum.at(hi, cj, ratio)
            seen = np.isfinite(lo)
            tol = 1e-9 * (1.0 + float(np.max(np.abs(ratio))))
            if np.all(hi[seen] - lo[seen] <= tol):
                u = np.where(seen, lo, 0.0)
                if np.ptp(u[seen]) > tol:
                    out[c].append((m, u))
                    break
    return out


def _aux_means(idata, fam: Family) -> dict[str, float]:
    """Posterior means of the auxiliaries that enter the family's variance function (reference fits)."""
    if idata is None:
        return {}
    return {n: float(idata.posterior[n].mean()) for n in fam.irls_aux if n in idata.posterior}


def complete_fit(design: Design, label: str, family: str, link: str, idata=None) -> pd.Series:
    """Coefficients of the complete-pooling model of term ``label``: ``y ~ X`` (the model without the random
    term), plus a shared column for each varying coefficient of the term that has no fixed counterpart.

    Least squares (Gaussian, Student-t) or IRLS maximum likelihood. Index: the column names.
    """
    blk = design.block(label)
    names = list(design.x_names)
    extra = [a for a, c in enumerate(blk.coef_names) if c not in names]
    Xc = np.column_stack([design.X] + [blk.Z[:, a] for a in extra]) if extra else np.asarray(design.X)
    cols = names + [blk.coef_names[a] for a in extra]
    fam = as_family(family, link)
    y, pw = _response(design, fam)
    res = _glm(y, pw, Xc, None, None, 0, fam, _aux_means(idata, fam), design.offset)
    return pd.Series(res.beta, index=pd.Index(cols, name="coef"))


def complete_pooling(design: Design, label: str, family: str, link: str, idata=None) -> np.ndarray:
    """Complete-pooling estimate of each varying coefficient of term ``label`` for each level, ``(J, k)``.

    From :func:`complete_fit`: a level's value is ``β̂_c + Σ_m β̂_m u_jm`` (group-level predictors ``u``, see
    :func:`level_predictors`); without group-level predictors it is the same for every level.
    """
    blk = design.block(label)
    beta = complete_fit(design, label, family, link, idata)
    preds = level_predictors(design, blk)
    out = np.zeros((blk.n_levels, blk.k))
    for a, c in enumerate(blk.coef_names):
        out[:, a] = beta[c]
        for m, u in preds[c]:
            out[:, a] += beta.iloc[m] * u
    return out


@dataclass(frozen=True)
class LevelFits:
    """No-pooling fit of one term.

    Attributes
    ----------
    estimate
        ``(J, k)`` per-level coefficients, ``NaN`` where they do not exist.
    note
        Per level: why the estimate does not exist (empty when it does).
    shared
        The no-pooling model's shared coefficients (the fixed columns that are neither the term's
        coefficients nor group-level predictors), by column name.
    converged
        Whether IRLS converged (always true for least squares).
    """

    estimate: np.ndarray
    note: tuple[str, ...]
    shared: pd.Series
    converged: bool


def _boundary_levels(design: Design, blk: GroupBlock, fam: Family) -> dict[int, str]:
    """Levels whose ML estimate is infinite before any fitting (all successes/failures, all-zero counts)."""
    if "Intercept" not in blk.coef_names:
        return {}
    return fam.boundary_levels(design.y, design.trials, blk.codes, blk.n_levels)


def no_pooling(design: Design, label: str, family: str, link: str, idata=None) -> LevelFits:
    """No-pooling estimates of the varying coefficients of term ``label`` (see the module docstring).

    Returns a :class:`LevelFits` with ``estimate`` of shape ``(J, k)``: each level's own coefficient from the
    model with one free coefficient per level for the term's coefficients and shared other fixed
    coefficients (least squares for Gaussian responses, IRLS maximum likelihood otherwise). Group-level
    predictors are absorbed into the level's coefficients. ``NaN`` with a note where the estimate does not
    exist.
    """
    blk = design.block(label)
    J, k = blk.n_levels, blk.k
    preds = level_predictors(design, blk)
    drop = set(blk.coef_names) | {design.x_names[m] for v in preds.values() for m, _ in v}
    keep = [m for m, n in enumerate(design.x_names) if n not in drop]
    Xf = np.asarray(design.X)[:, keep]
    fam = as_family(family, link)
    y, pw = _response(design, fam)
    notes = [""] * J
    boundary = _boundary_levels(design, blk, fam)
    rows = np.ones(design.n, dtype=bool)
    if boundary:
        rows = ~np.isin(blk.codes, list(boundary))
    off = None if design.offset is None else np.asarray(design.offset)[rows]
    res = _glm(y[rows], pw[rows], Xf[rows], np.asarray(blk.Z)[rows], blk.codes[rows], J, fam, _aux_means(idata, fam), off)
    est = res.b.copy()
    counts = np.bincount(blk.codes[rows], minlength=J)
    for j in range(J):
        if j in boundary:
            notes[j] = boundary[j]
            est[j] = np.nan
        elif res.rank[j] < k:
            est[j] = np.nan
            if counts[j] < k:
                notes[j] = f"{counts[j]} row(s) for {k} coefficients: no estimate"
            else:
                notes[j] = "a varying predictor does not vary within the level: no estimate"
    degenerate = fam.degenerate_levels(res.eta)
    if degenerate is not None:
        score, why = degenerate
        eta_lvl = np.full(J, 0.0)
        np.maximum.at(eta_lvl, blk.codes[rows], score)
        for j in range(J):
            if not notes[j] and eta_lvl[j] > 15:
                est[j] = np.nan
                notes[j] = why
    shared = pd.Series(res.beta, index=pd.Index([design.x_names[m] for m in keep], name="coef"))
    return LevelFits(est, tuple(notes), shared, res.converged)


def _mean_block(design: Design, group: str) -> GroupBlock:
    """The term ``group`` of the first predictor (the mean's); a term of another predicted parameter is an
    error: its no-pooling and information measures would need that parameter's own likelihood."""
    blk = design.block(group)
    if blk not in design.blocks:
        d = design.predictor_of_block(blk.label)
        raise DataError(
            f"{blk.label!r} is a term of {d.dpar}'s predictor; shrinkage and pooling measures are computed for the "
            f"terms of the mean's predictor ({', '.join(b.label for b in design.blocks) or 'none'})"
        )
    return blk


def partial_pooling_draws(idata, design: Design, label: str) -> np.ndarray:
    """Posterior draws ``(S, J, k)`` of the level coefficients ``θ_jc = β_c + Σ_m β_m u_jm + r_jc``."""
    blk = _mean_block(design, label)
    r = draws_of(idata, N.r(blk.label))
    theta = r.copy()
    names = list(design.x_names)
    var = N.beta_var(design.dpar)
    beta = draws_of(idata, var) if var in idata.posterior else np.zeros((r.shape[0], 0))
    for a, (c, plist) in enumerate(level_predictors(design, blk).items()):
        if c in names:
            theta[:, :, a] += beta[:, [names.index(c)]]
        for m, u in plist:
            theta[:, :, a] += beta[:, [m]] * u[None, :]
    return theta


# ------------------------------------------------------------------------------------ information, ω
def level_information(
    idata, design: Design, family: str, link: str, label: str, max_draws: int = 400
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-draw information matrix of each level's data about the term's coefficients, and the term's G.

    ``I_j = Σ_i∈j W_i z_i z_iᵀ`` with ``W_i = (dμ/dη)² / Var(y_i | μ_i)`` at the draw's fitted mean (Gaussian
    identity: ``1/σ²``; Student-t: the Fisher information ``(ν+1)/((ν+3)σ²)``; binomial: ``n_i μ_i(1 − μ_i)``
    for the logit link). Returns ``I`` ``(S', J, k, k)``, the SDs ``τ`` ``(S', k)`` and the covariance
    ``G = diag(τ) C diag(τ)`` ``(S', k, k)`` on (at most ``max_draws``) thinned posterior draws.
    """
    from scipy import sparse

    from .summaries import family_inputs, linear_predictors

    blk = _mean_block(design, label)
    S_all = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    cap = max(20, min(max_draws, int(2e7 // max(design.n, 1))))
    idx = draw_index(idata, cap) if S_all > cap else np.arange(S_all)
    tau = draws_of(idata, N.sd(blk.label))[idx]
    corr_name = N.corr(blk.label)
    C = draws_of(idata, corr_name)[idx] if corr_name in idata.posterior else np.broadcast_to(np.eye(blk.k), (len(idx), blk.k, blk.k))
    G = tau[:, :, None] * C * tau[:, None, :]
    fam = as_family(family, link)
    if fam.identity_scale and not design.dpars:  # the weight does not depend on the mean: no linear predictor needed
        one = np.zeros((1, 1))
        W = fam.working_weight(one, one, aux_draws(idata, fam, idx)) * np.ones((1, design.n))
    else:  # every predicted parameter (sigma ~ x) and the ordinal thresholds enter the weight row by row
        eta, aux = family_inputs(idata, fam, linear_predictors(idata, design, idx), idx)
        mu = fam.clip_mean(fam.mean(eta, aux))
        W = fam.working_weight(eta, mu, aux, design.trials)
        if design.trials is not None:
            W = np.where(np.asarray(design.trials) > 0, W, 0.0)
        W = np.where(np.isfinite(W), W, 0.0)
    J, k = blk.n_levels, blk.k
    info = np.empty((len(idx), J, k, k))
    rows = np.arange(design.n)
    Z = np.asarray(blk.Z)
    for a in range(k):
        for b_ in range(a, k):
            M = sparse.csr_matrix((Z[:, a] * Z[:, b_], (rows, blk.codes)), shape=(design.n, J))
            info[:, :, a, b_] = info[:, :, b_, a] = np.asarray((M.T @ W.T).T)
    child = _nested_child(design, blk)
    if child is not None:
        info = info - _absorbed_by_child(idata, idx, W, blk, child)
    return info, tau, G


def _nested_child(design: Design, blk: GroupBlock) -> GroupBlock | None:
    """The term nested in ``blk`` with the fewest levels (casks within batches: every level of it lies in one
    level of ``blk``), or None."""
    found = []
    for other in design.blocks:
        if other is blk or other.n_levels <= blk.n_levels:
            continue
        cells = np.unique(other.codes.astype(np.int64) * blk.n_levels + blk.codes)
        if len(cells) == len(np.unique(other.codes)):  # each of its levels (with rows) in one level of blk
            found.append(other)
    return min(found, key=lambda b: b.n_levels) if found else None


def _absorbed_by_child(idata, idx: np.ndarray, W: np.ndarray, blk: GroupBlock, child: GroupBlock) -> np.ndarray:
    """The part of each level's information that the effects of a term nested in it absorb, ``(S', J, k, k)``.

    Given the child's covariance ``G_c``, a level's data ``y_j`` have covariance ``V_j = W⁻¹ + Z_c G_c Z_cᵀ``
    (block diagonal over the child's levels ``l`` within ``j``), so the level's information is
    ``Z_jᵀ V_j⁻¹ Z_j = Σ_l (Z_lᵀ W Z_l − B_l (G_c⁻¹ + A_l)⁻¹ B_lᵀ)`` with ``A_l = Zc_lᵀ W Zc_l`` and
    ``B_l = Z_lᵀ W Zc_l`` (Woodbury); this returns ``Σ_l B_l G_c (I + A_l G_c)⁻¹ B_lᵀ``, which stays finite as
    ``G_c → 0``. Exact for Gaussian models with one nested term (a working-weight approximation for GLMMs);
    with a deeper nesting only the coarsest nested term is absorbed.
    """
    from scipy import sparse

    n, L, k, kc = len(blk.codes), child.n_levels, blk.k, child.k
    tau = draws_of(idata, f"sd_{child.label}")[idx]
    corr_name = f"corr_{child.label}"
    C = draws_of(idata, corr_name)[idx] if corr_name in idata.posterior else np.broadcast_to(np.eye(kc), (len(idx), kc, kc))
    Gc = tau[:, :, None] * C * tau[:, None, :]  # (S, kc, kc)
    rows = np.arange(n)
    Z, Zc = np.asarray(blk.Z, dtype=float), np.asarray(child.Z, dtype=float)

    def per_level(u: np.ndarray) -> np.ndarray:  # Σ_{i ∈ l} W_i u_i for every child level l: (S, L)
        return np.asarray((sparse.csr_matrix((u, (rows, child.codes)), shape=(n, L)).T @ W.T).T)

    A = np.empty((len(idx), L, kc, kc))
    B = np.empty((len(idx), L, k, kc))
    for a in range(kc):
        for c in range(a, kc):
            A[:, :, a, c] = A[:, :, c, a] = per_level(Zc[:, a] * Zc[:, c])
        for c in range(k):
            B[:, :, c, a] = per_level(Z[:, c] * Zc[:, a])
    inner = np.linalg.inv(np.eye(kc) + A @ Gc[:, None])  # (I + A_l G_c)⁻¹
    absorbed = B @ Gc[:, None] @ inner @ np.swapaxes(B, -1, -2)  # (S, L, k, k)
    parent = np.zeros(L, dtype=np.int64)
    parent[child.codes] = blk.codes
    P = sparse.csr_matrix((np.ones(L), (np.arange(L), parent)), shape=(L, blk.n_levels))
    out = np.empty((len(idx), blk.n_levels, k, k))
    for a in range(k):
        for c in range(k):
            out[:, :, a, c] = np.asarray((P.T @ absorbed[:, :, a, c].T).T)
    return out


def level_pooling(idata, design: Design, family: str, link: str, label: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-level pooling factors ``ω`` and information ratios, both ``(S', J, k)`` (thinned draws).

    ``ω_j = diag((I + G I_j)⁻¹)``: the weight of the population in the level's conditional posterior mean
    (Gaussian, given the other parameters), ``1/(1 + I_j τ²)`` for one coefficient. ``info_ratio_jc =
    (I_j)_cc τ_c²``: the level's information about coefficient ``c`` alone over the prior precision.
    """
    info, tau, G = level_information(idata, design, family, link, label)
    k = tau.shape[1]
    ratio = np.einsum("sjcc->sjc", info) * tau[:, None, :] ** 2
    if k == 1:
        omega = 1.0 / (1.0 + ratio)
    else:
        A = np.eye(k) + np.einsum("sab,sjbc->sjac", G, info)
        omega = np.einsum("sjcc->sjc", np.linalg.inv(A))
    return omega, ratio


# --------------------------------------------------------------------------------------- shrinkage
def shrinkage(
    idata,
    design: Design,
    family: str,
    link: str,
    group: str,
    term: str | None = None,
    prob: float = 0.95,
) -> pd.DataFrame:
    """Shrinkage of each level's coefficient from its own fit toward the population.

    Parameters
    ----------
    idata, design
        The posterior and the design of the fitted model.
    family, link
        The model's family and link (they choose least squares or maximum likelihood for the reference fits).
    group
        The random-effect term (its label or grouping factor, e.g. ``"Subject"``).
    term
        The varying coefficient (``"Intercept"``, ``"Days"``); ``None`` for all of the term's coefficients.
    prob
        Probability of the partial-pooling interval.

    Returns
    -------
    pandas.DataFrame
        Index ``level`` (one coefficient) or (``coef``, ``level``) (several). Columns:

        ``n``
            number of observations (rows) of the level;
        ``no_pooling``
            the level's own estimate (least squares / ML of the no-pooling model, see the module
            docstring); ``NaN`` where it does not exist (reason in ``note``);
        ``complete_pooling``
            the estimate of the model without the random term (``y ~ x``; with group-level predictors, its
            prediction for the level);
        ``population``
            posterior mean of the level's population value ``β_c + Σ_m β_m u_jm`` (its coefficient with
            ``r_j = 0``): the centre the fitted model pulls the level toward. It differs from
            ``complete_pooling`` when the hierarchical model weighs the levels differently from the pooled
            fit (radon: the many-house counties dominate the pooled fit);
        ``partial_pooling``, ``lower``, ``upper``
            posterior mean and equal-tailed ``prob`` interval of the level's coefficient ``θ_jc``;
        ``shrinkage``
            ``(no_pooling − partial_pooling) / (no_pooling − population)``: how far the estimate moved from
            the level's own fit toward the population, 0 = not at all (no pooling), 1 = all the way
            (complete pooling). For one varying coefficient of a Gaussian model it lies in [0, 1] up to
            Monte Carlo error and approximates ``omega``; with correlated coefficients a level can be
            pulled past the population value in one coordinate (the shrinkage is two-dimensional, see
            ``fit.plot.shrinkage2d``). ``NaN`` where no-pooling does not exist or equals the population
            value. Not clipped: ``note`` marks values outside [0, 1], and levels whose own estimate is within
            0.05 posterior SD of the population value (the factor is then a ratio of tiny differences);
        ``omega``
            the level's pooling factor ω_j (posterior mean): the population's weight in the level's
            conditional posterior mean, ``(σ²/n_j)/(σ²/n_j + τ²)`` for a Gaussian intercept, in general
            the diagonal of ``(I + G I_j)⁻¹`` (see :func:`level_pooling`);
        ``info_ratio``
            within-level information over the between-level prior precision, ``n_j τ²/σ²`` for a Gaussian
            intercept, ``(I_j)_cc τ_c²`` in general (posterior median);
        ``note``
            why ``no_pooling`` or ``shrinkage`` is missing or outside [0, 1]; empty otherwise.
    """
    blk = _mean_block(design, group)
    fam = as_family(family, link)
    if not fam.glm_pilot:
        raise DataError(
            f"shrinkage() compares each level with its own no-pooling fit, a GLM fitted by IRLS, which family "
            f"{fam.name!r} has not; fit.pooling() gives its terms' pooling factors (lambda, omega, information "
            "ratios). The thresholds are population-level parameters, shared by every level: they are not pooled"
        )
    coefs = list(blk.coef_names) if term is None else [term]
    for c in coefs:
        if c not in blk.coef_names:
            raise UnknownTermError(f"term {blk.label!r} has no varying coefficient {c!r}; it has {', '.join(blk.coef_names)}")
    npool = no_pooling(design, blk.label, family, link, idata)
    cpool = complete_pooling(design, blk.label, family, link, idata)
    theta = partial_pooling_draws(idata, design, blk.label)
    popu = (theta - draws_of(idata, N.r(blk.label))).mean(axis=0)
    lo, hi = interval(theta, prob)
    omega_d, ratio_d = level_pooling(idata, design, family, link, blk.label)
    omega, ratio = omega_d.mean(axis=0), np.median(ratio_d, axis=0)
    counts = blk.counts()
    frames = []
    for c in coefs:
        a = blk.coef_names.index(c)
        no, pop, pp = npool.estimate[:, a], popu[:, a], theta[:, :, a].mean(axis=0)
        denom = no - pop
        spread = float(np.nanstd(no)) if np.any(np.isfinite(no)) else 0.0
        tiny = np.abs(denom) <= 1e-8 * (spread + np.abs(pop) + 1e-300)
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(tiny | ~np.isfinite(no), np.nan, (no - pp) / np.where(tiny, 1.0, denom))
        close = np.abs(denom) < 0.05 * theta[:, :, a].std(axis=0)
        notes = []
        for j in range(blk.n_levels):
            note = npool.note[j]
            if note:
                pass
            elif tiny[j]:
                note = "no-pooling equals the population value: shrinkage undefined"
            elif close[j]:
                note = ("own estimate within 0.05 posterior SD of the population value: the shrinkage factor is "
                        "a ratio of tiny differences (unstable)")
            elif np.isfinite(s[j]) and not 0 <= s[j] <= 1:
                note = (
                    "shrinkage outside [0, 1]: the estimate moved past the population value "
                    + ("(correlated coefficients shrink jointly)" if blk.k > 1 else "(or Monte Carlo error)")
                )
            notes.append(note)
        frames.append(
            pd.DataFrame(
                {
                    "n": counts,
                    "no_pooling": no,
                    "complete_pooling": cpool[:, a],
                    "population": pop,
                    "partial_pooling": pp,
                    "lower": lo[:, a],
                    "upper": hi[:, a],
                    "shrinkage": s,
                    "omega": omega[:, a],
                    "info_ratio": ratio[:, a],
                    "note": notes,
                },
                index=pd.Index(list(blk.levels), name="level"),
            )
        )
    if len(coefs) == 1:
        return frames[0]
    return pd.concat(frames, keys=coefs, names=["coef", "level"])


# --------------------------------------------------------------------------------- pooling factors
def pooling_factor(idata, design: Design, label: str) -> pd.DataFrame:
    """Gelman & Pardoe's pooling factor ``lambda`` and level ``r2`` per varying coefficient of a term.

    ``λ = 1 − V_j(E[ε_j]) / E[V_j(ε_j)]`` and ``R² = 1 − E[V_j(ε_j)] / E[V_j(θ_j)]`` with ``ε_j = r_jc``,
    ``θ_jc`` the level coefficient (see :func:`partial_pooling_draws`), ``V_j`` the sample variance across
    levels and ``E`` the posterior mean. Index ``coef``; columns ``lambda``, ``r2``.
    """
    blk = design.block(label)
    eps = draws_of(idata, N.r(blk.label))  # (S, J, k)
    theta = partial_pooling_draws(idata, design, blk.label)
    e_v = eps.var(axis=1, ddof=1).mean(axis=0)
    v_e = eps.mean(axis=0).var(axis=0, ddof=1)
    v_theta = theta.var(axis=1, ddof=1).mean(axis=0)
    preds = level_predictors(design, blk)
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = 1.0 - v_e / e_v
        r2 = np.clip(1.0 - e_v / v_theta, 0.0, 1.0)
    r2 = np.array([r if preds[c] else 0.0 for r, c in zip(r2, blk.coef_names)])  # exactly 0 without predictors
    return pd.DataFrame({"lambda": lam, "r2": r2}, index=pd.Index(list(blk.coef_names), name="coef"))


def recommend(frac_strong: dict[str, float], family: str, link: str, current: str) -> tuple[str, str]:
    """Parameterisation advice for one term from the share of strong levels of each coefficient.

    A level is strong for a coefficient when its ``info_ratio`` exceeds :data:`STRONG_RATIO`: its own data
    then dominate the between-level prior, and the centred form samples well (the non-centred one has
    correlated ``z`` and τ); weak levels make a funnel in the centred form, which the non-centred one
    removes. Rule: every coefficient ≥ 80 % strong → ``"centered"``; every coefficient ≤ 20 % strong →
    ``"noncentered"``; mixed → the majority. Gaussian identity-link models can integrate the effects out
    exactly (``"marginal"``), which has no funnel whatever the data strength: it is recommended for them
    when the levels are mixed or it is already in use. Returns ``(recommendation, advice text)``.
    """
    lim = THRESHOLDS
    lo, hi = min(frac_strong.values()), max(frac_strong.values())
    shares = ", ".join(f"{c} {100 * f:.0f}%" for c, f in frac_strong.items())
    gaussian = as_family(family, link).linear_gaussian
    if lo >= lim.strong_share:
        rec, why = "centered", f"the data dominate the prior in most levels ({shares} strong)"
    elif hi <= 1.0 - lim.strong_share:
        rec, why = "noncentered", f"most levels carry little information relative to the population SD ({shares} strong)"
    else:
        rec = "centered" if lo >= lim.centre_share else "noncentered"  # the rule ``auto`` applies
        why = f"levels are mixed ({shares} strong)"
    sampled = rec
    if current == "quadrature":
        return current, (f"keep quadrature: the effects are integrated out (adaptive Gauss–Hermite), so no funnel can "
                         f"form; {why}; if they are sampled instead, {_nice(rec)} suits these data")
    if gaussian and (current == "marginal" or (lo < lim.strong_share and hi > 1.0 - lim.strong_share)):
        rec = "marginal"
    if rec == "marginal":
        alt = f"if the effects are sampled instead, {_nice(sampled)} suits these data"
        if current == "marginal":
            return rec, f"keep marginal: the effects are integrated out exactly, so no funnel can form; {why}; {alt}"
        return rec, f"marginalise (parameterization='marginal'): {why}, so neither centred nor non-centred suits every level"
    verb = "keep" if rec == current else "switch to"
    return rec, f"{verb} {_nice(rec)}: {why}"


def _nice(p: str) -> str:
    return {"centered": "centred", "noncentered": "non-centred"}.get(p, p)


def pooling(
    idata,
    design: Design,
    family: str,
    link: str,
    parameterization: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Pooling summary of every random-effect term and varying coefficient.

    Returns
    -------
    pandas.DataFrame
        Index (``group``, ``coef``). Columns:

        ``n_levels``
            number of levels J;
        ``lambda``
            Gelman & Pardoe's pooling factor (0 = no pooling, 1 = complete pooling);
        ``r2``
            Gelman & Pardoe's R² at the level (share explained by group-level predictors; 0 without them);
        ``n_eff_groups``
            effective number of groups ``Σ_j (1 − ω_j)``;
        ``info_ratio``
            median across levels of the within-level information over the between-level prior precision
            (``n_j τ²/σ²`` for a Gaussian intercept);
        ``frac_strong``
            share of levels with ``info_ratio`` above :data:`STRONG_RATIO`;
        ``parameterization``
            the term's current parameterisation;
        ``recommendation``
            ``"noncentered"``, ``"centered"`` or ``"marginal"`` (the same for all coefficients of a term,
            see :func:`recommend`);
        ``advice``
            the recommendation in words, with the reason.
    """
    param = dict(parameterization or {})
    rows = []
    for blk in design.blocks:
        if blk.kind != "group":  # a smooth's or GP's penalised part, compound symmetry: no levels to pool
            continue
        pf = pooling_factor(idata, design, blk.label)
        omega_d, ratio_d = level_pooling(idata, design, family, link, blk.label)
        omega = omega_d.mean(axis=0)
        med = np.median(ratio_d, axis=0)  # (J, k)
        frac = {c: float(np.mean(med[:, a] > STRONG_RATIO)) for a, c in enumerate(blk.coef_names)}
        current = param.get(blk.label, "noncentered")
        rec, text = recommend(frac, family, link, current)
        for a, c in enumerate(blk.coef_names):
            rows.append(
                {
                    "group": blk.label,
                    "coef": c,
                    "n_levels": blk.n_levels,
                    "lambda": float(pf.loc[c, "lambda"]),
                    "r2": float(pf.loc[c, "r2"]),
                    "n_eff_groups": float(np.sum(1.0 - omega[:, a])),
                    "info_ratio": float(np.median(med[:, a])),
                    "frac_strong": frac[c],
                    "parameterization": current,
                    "recommendation": rec,
                    "advice": text,
                }
            )
    cols = ["group", "coef", "n_levels", "lambda", "r2", "n_eff_groups", "info_ratio", "frac_strong",
            "parameterization", "recommendation", "advice"]
    return pd.DataFrame(rows, columns=cols).set_index(["group", "coef"])
