"""ModelSpec + Design → ``pm.Model``: the only place (with ``sampling``) that knows PyMC.

Parameterisation of a random-effect term with ``k`` coefficients and ``J`` levels
------------------------------------------------------------------------------------
marginalised (Gaussian identity-link models; what ``"auto"`` picks for them when q is moderate)
    ``b`` is integrated out exactly (Woodbury identity, :mod:`bayesmixed.marginal`); NUTS explores only
    (β, θ, σ) and ``r_<t>`` is drawn afterwards from its exact conditional Gaussian. In a partly marginal
    model one term (k ≤ 2) is integrated out given the others (``_partial_marginal_loglik``), which are
    sampled in one of the forms below.
non-centred
    ``_z_<t> ~ Normal(0, 1)`` of shape ``(J, k)``; ``r_<t> = _z_<t> @ (diag(sd) L)ᵀ`` with ``L`` the
    Cholesky factor of the correlation matrix (LKJ prior), or ``r = _z · sd`` for ``||`` terms and ``k = 1``.
centred
    ``r_<t> ~ MvNormal(0, chol = diag(sd) L)`` (or ``Normal(0, sd)``) directly; of the centred
    terms with an intercept, the one with the most rows per level samples its level means ``m_j = β₀ + r_j``
    instead (hierarchical centring of the intercept), and a centred term nested in it centres its level means
    on that term's (``_centring_chain``).

The linear predictor gathers ``r[codes]`` row-wise: ``η = X β + offset + Σ_t Σ_j Z_t[:, j] r_t[codes_t, j]``;
no dense ``n × (J·k)`` matrix exists. Fixed effects are sampled on centred predictor columns (the intercept is
recovered exactly), which decorrelates the intercept from the slopes as rstanarm and brms do, and scaled to
unit SD (priors are rescaled to match), so that NUTS sees coefficients of similar scale.

Posterior names: ``beta`` (dim ``coef``), ``sd_<t>`` (dim ``<t>_coef``), ``corr_<t>`` (dims ``<t>_coef``,
``<t>_coef2``), ``r_<t>`` (dims ``<t>``, ``<t>_coef``), ``sigma`` and the family's auxiliaries. Internal
variables start with ``_`` and are dropped from the returned InferenceData.
"""

from __future__ import annotations

from contextvars import ContextVar

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from .. import naming as N
from ..design import Design, GroupBlock
from ..marginal import gaussian_fixed_prior, parent_levels
from ..priors import Prior
from ..spec import ModelSpec

__all__ = ["build_model", "centring_head", "coords_of", "prior_dist"]

_ROWS: ContextVar[int | None] = ContextVar("bayesmixed_rows", default=None)  # the data's length, in build_model


def _data(name: str, value):
    """A data container with the value's static shape, except the rows axis of row-aligned arrays (those whose
    first axis has the data's length): PyTensor then needs no run-time checks that levels and coefficients
    broadcast, and the compiled graph, so its numba cache key, is the same in every process (with every axis
    dynamic the order of those checks varied between processes, and each variant was a cache miss) and the same
    for data of any length. Refits of one compiled structure swap values of the same shapes (the shapes are part
    of the structure key, ``sampling._structure_key``)."""
    value = np.asarray(value)
    rows = _ROWS.get()
    shape = tuple(None if (axis == 0 and rows is not None and size == rows) else size
                  for axis, size in enumerate(value.shape))
    return pm.Data(name, value, shape=shape)


def coords_of(design: Design) -> dict[str, list]:
    """The coordinates of a model's dims: fixed-effect columns per predictor, rows, each term's levels and
    coefficients, and the ordinal thresholds (``1 … K − 1``) of a response of categories."""
    coords: dict[str, list] = {"coef": list(design.x_names), "obs": list(range(design.n))}
    for d in design.predictors:
        coords[N.coef_dim_of(d.dpar)] = list(d.x_names)
    for b in design.all_blocks:
        coords[b.label] = list(b.levels)
        coords[f"{b.label}_coef"] = list(b.coef_names)
        coords[f"{b.label}_coef2"] = list(b.coef_names)
    if design.response_levels is not None and design.response_ordered is not False and len(design.response_levels) > 2:
        coords[N.THRESHOLD_DIM] = [str(k) for k in range(1, len(design.response_levels))]
    if design.autocor is not None and design.autocor.kind == "ar":
        coords["ar_lag"] = [1]
    return coords


def _stack(priors: list[Prior]) -> Prior:
    """Combine scalar priors of one family into a vector prior."""
    dists = {p.dist for p in priors}
    if len(dists) != 1:
        raise ValueError(f"priors of one vector must share a distribution, got {sorted(dists)}")
    keys = [k for k, _ in priors[0].params]
    kw = {k: [dict(p.params)[k] for p in priors] for k in keys}
    return Prior(priors[0].dist, relative=priors[0].relative, **kw)


def prior_dist(p: Prior, name: str | None = None, dims=None, shape=None, **extra):
    """A PyMC distribution (``.dist`` when ``name`` is None) for a :class:`~bayesmixed.priors.Prior`; ``extra``
    (``transform=``, ``initval=``) go to the named variable."""
    kw = p.kwargs
    table = {
        "normal": (pm.Normal, {"mu": kw.get("mu"), "sigma": kw.get("sigma")}),
        "student_t": (pm.StudentT, {"nu": kw.get("nu"), "mu": kw.get("mu"), "sigma": kw.get("sigma")}),
        "cauchy": (pm.Cauchy, {"alpha": kw.get("alpha"), "beta": kw.get("beta")}),
        "laplace": (pm.Laplace, {"mu": kw.get("mu"), "b": kw.get("b")}),
        "half_normal": (pm.HalfNormal, {"sigma": kw.get("sigma")}),
        "half_student_t": (pm.HalfStudentT, {"nu": kw.get("nu"), "sigma": kw.get("sigma")}),
        "half_cauchy": (pm.HalfCauchy, {"beta": kw.get("beta")}),
        "exponential": (pm.Exponential, {"lam": kw.get("lam")}),
        "gamma": (pm.Gamma, {"alpha": kw.get("alpha"), "beta": kw.get("beta")}),
        "inverse_gamma": (pm.InverseGamma, {"alpha": kw.get("alpha"), "beta": kw.get("beta")}),
        "beta": (pm.Beta, {"alpha": kw.get("alpha"), "beta": kw.get("beta")}),
        "uniform": (pm.Uniform, {"lower": kw.get("lower"), "upper": kw.get("upper")}),
        "flat": (pm.Flat, {}),
    }
    cls, args = table[p.dist]
    if name is None:
        return cls.dist(**args, shape=shape)
    return cls(name, **args, dims=dims, shape=shape, **extra)


def _scaled_prior(p: Prior, scales: np.ndarray) -> Prior:
    """The prior of ``b · scale`` when ``b`` has prior ``p`` (location-scale families)."""
    kw = {k: np.asarray(v, dtype=float) for k, v in p.params}
    for key in ("mu", "sigma", "alpha", "beta", "b", "lower", "upper"):
        if key in kw and not (p.dist == "student_t" and key == "nu"):
            kw[key] = kw[key] * scales
    return Prior(p.dist, relative=p.relative, **kw)


def _suffix(dpar: str) -> str:
    """Suffix of a predictor's internal variable names (none for the mean's: the same graph as always)."""
    return "" if dpar == N.MU else f"_{dpar}"


def _fixed(spec_priors: dict[str, Prior], design: Design, centre: bool = False):
    """Fixed effects, sampled on centred and scaled columns (``W`` of :func:`bayesmixed.marginal.fixed_design`);
    returns (η_fixed, γ, intercept on centred columns) with γ the coefficients of ``W``. ``beta`` (``beta_<d>``
    for another predicted parameter) holds the coefficients of the user's ``X``.

    ``centre`` (ordinal models): the columns are centred without an intercept; the thresholds take the means
    (:func:`_thresholds`), and the column means and ``b`` are returned instead of the intercept."""
    from ..marginal import fixed_design

    dpar = design.dpar
    sfx = _suffix(dpar)
    names = list(design.x_names)
    has_int = "Intercept" in names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    W, means, scales = fixed_design(design, centre)
    gammas = []
    b = None
    if has_int:
        a_c = prior_dist(spec_priors[N.intercept_key(dpar)], f"_Intercept_c{sfx}")
        gammas.append(pt.atleast_1d(a_c))
    if slope_idx:
        prior = _stack([spec_priors[N.beta_key(dpar, names[j])] for j in slope_idx])
        g = prior_dist(_scaled_prior(prior, scales), f"_b{sfx}", shape=len(slope_idx))
        gammas.append(g)
        b = g / _data(f"_x_scales{sfx}", scales)
    gamma = pt.concatenate(gammas) if gammas else pt.zeros(0)
    eta = pt.dot(_data(f"_W{sfx}", W), gamma) if gammas else 0.0
    parts = []
    for j, n in enumerate(names):
        if n == "Intercept":
            parts.append(pt.atleast_1d(a_c - (pt.dot(_data(f"_x_means{sfx}", means), b) if slope_idx else 0.0)))
        else:
            k = slope_idx.index(j)
            parts.append(b[k : k + 1])
    if parts:
        pm.Deterministic(N.beta_var(dpar), pt.concatenate(parts), dims=N.coef_dim_of(dpar))
    if centre:
        return eta, gamma, (means, b)
    return eta, gamma, (a_c if has_int else None)


def _covariance(b: GroupBlock, priors: dict[str, Prior], sigma, signed: bool = False):
    """SD vector and Cholesky factor (k × k, or None for independent effects) of one term, on the
    observation scale; registers ``sd_<t>`` and ``corr_<t>``.

    ``signed`` (for likelihoods that see the term only through its covariance, i.e. marginal models): a
    correlated pair of coefficients is sampled through signed SDs (:func:`_signed_covariance`)."""
    lab = b.label
    k = b.k
    if b.kind != "group":
        return _special_covariance(b, priors, sigma), None
    decov = priors.get(lab)
    if decov is not None:
        # rstanarm's decov: trace(Σ) = k τ², τ ~ Gamma(shape, 1/scale), variance shares π ~ Dirichlet
        kw = decov.kwargs
        tau = pm.Gamma(f"_tau_{lab}", alpha=kw["shape"], beta=1.0 / kw["scale"])
        relative = decov.relative
        if k > 1:
            pi = pm.Dirichlet(f"_pi_{lab}", a=np.full(k, kw["concentration"]))
            sd = tau * pt.sqrt(k * pi)
        else:
            sd = pt.atleast_1d(tau)
        eta_lkj = kw["regularization"]
    else:
        sd_prior = _stack([priors[f"sd_{lab}[{c}]"] for c in b.coef_names])
        relative = sd_prior.relative
        corr_prior = priors.get(f"corr_{lab}")
        eta_lkj = corr_prior.kwargs["eta"] if corr_prior is not None else 1.0
        sd = None
    scale = sigma if relative else 1.0
    chol = None
    if signed and sd is None and sd_prior.dist in _SYMMETRIC and b.correlated and k == 2:
        return _signed_covariance(b, sd_prior, eta_lkj, scale)
    if b.correlated:
        if sd is None:
            chol, corr, sd = pm.LKJCholeskyCov(
                f"_chol_{lab}", n=k, eta=eta_lkj, sd_dist=prior_dist(sd_prior, shape=k), compute_corr=True,
                store_in_trace=False,
            )
        else:
            # decov: the SDs come from τ and π; LKJCholeskyCov supplies only the correlation factor, with an
            # auxiliary unit scale that does not enter the likelihood
            chol_aux, corr, stds_aux = pm.LKJCholeskyCov(
                f"_chol_{lab}", n=k, eta=eta_lkj, sd_dist=pm.HalfNormal.dist(1.0, shape=k), compute_corr=True,
                store_in_trace=False,
            )
            chol = sd[:, None] * (chol_aux / stds_aux[:, None])
        pm.Deterministic(f"corr_{lab}", corr, dims=(f"{lab}_coef", f"{lab}_coef2"))
        chol = chol * scale
    elif sd is None:
        sd = prior_dist(sd_prior, f"_sd_{lab}", shape=k)
    sd = pm.Deterministic(f"sd_{lab}", sd * scale, dims=f"{lab}_coef")
    return sd, chol


_RESIDUAL: ContextVar[dict | None] = ContextVar("bayesmixed_residual", default=None)  # cosy's pieces, in build_model


def _special_covariance(b: GroupBlock, priors: dict[str, Prior], sigma):
    """The k SDs of a smooth, GP or compound-symmetry block (no correlations), registering its parameters:

    ``"smooth"``: one SD ``sd_<label>`` shared by the k penalised columns (``b = τ u``, ``u ~ N(0, I)``);
    ``"gp"``: ``sdgp_<label>`` (α) and ``lscale_<label>`` (ρ), column j's SD ``sqrt(S(√λ_j; ρ, α))``
    (:func:`bayesmixed.design.smooth.gp_spectral_sd`); ``"cosy"``: the random intercept ``√cosy · sigma``
    that carries a compound-symmetric residual correlation (:mod:`bayesmixed.design.autocor`)."""
    lab = b.label
    if b.kind == "smooth":
        p = priors[f"sd_{lab}"]
        tau = prior_dist(p, f"_sd_{lab}")
        tau = pm.Deterministic(f"sd_{lab}", tau * (sigma if p.relative else 1.0))
        return pt.ones(b.k) * tau
    if b.kind == "gp":
        alpha = prior_dist(priors[f"sdgp_{lab}"], f"sdgp_{lab}")
        rho = prior_dist(priors[f"lscale_{lab}"], f"lscale_{lab}")
        w = np.asarray(b.spectral, dtype=float)
        return alpha * pt.sqrt(np.sqrt(2.0 * np.pi) * rho) * pt.exp(-0.25 * (rho * w) ** 2)
    res = _RESIDUAL.get()
    model = pm.modelcontext(None)
    if f"sd_{lab}" in model.named_vars:
        return pt.atleast_1d(model[f"sd_{lab}"])
    return pt.atleast_1d(pm.Deterministic(f"sd_{lab}", pt.atleast_1d(res["tau"]), dims=f"{lab}_coef")[0])


# SD priors and the symmetric distributions on ℝ whose density is half theirs at ±τ (p(τ) = p_sd(|τ|) / 2)
_SYMMETRIC = {
    "half_normal": lambda kw: Prior("normal", mu=0.0, sigma=kw["sigma"]),
    "half_student_t": lambda kw: Prior("student_t", nu=kw["nu"], mu=0.0, sigma=kw["sigma"]),
    "half_cauchy": lambda kw: Prior("cauchy", alpha=0.0, beta=kw["beta"]),
    "exponential": lambda kw: Prior("laplace", mu=0.0, b=1.0 / np.asarray(kw["lam"], dtype=float)),
}


def _signed_covariance(b: GroupBlock, sd_prior: Prior, eta_lkj: float, scale):
    """The covariance of a term through signed SDs: ``τ ~`` the symmetric counterpart of the SD prior on ℝ,
    ``sd = |τ|``; for a correlated pair (k = 2) ``ρ = 2x − 1``, ``x ~ Beta(η, η)`` (the LKJ(η) density of a
    2 × 2 correlation), and the Cholesky factor ``[[τ₀, 0], [τ₁ρ, τ₁√(1 − ρ²)]]``, so the reported correlation
    is ``sign(τ₀τ₁) ρ``. The priors on the SDs and the correlation are the same as with log-SDs.

    A likelihood that depends on the covariance only (a marginal model) is smooth in τ through τ = 0, so an SD
    whose posterior reaches down to zero has no boundary and no log-scale tail to cross: on radon's
    ``(floor | county)`` the bulk ESS of sd(floor) went from 128-683 (seeds 1-4, log-SD Cholesky of
    ``LKJCholeskyCov``) to 1299-1460 of 2000 draws, with fewer gradients per draw.

    Used for correlated pairs only: a lone SD far from zero leaves a deep valley at τ = 0 between its two
    mirror modes, and trajectories that enter it diverge (Penicillin's sd(sample), 6 levels: 1-5 divergences
    per fit with signed SDs, none on the log scale).
    """
    lab, k = b.label, b.k  # k == 2
    tau = prior_dist(_SYMMETRIC[sd_prior.dist](sd_prior.kwargs), f"_tau_{lab}", shape=k)
    rho = 2.0 * pm.Beta(f"_rho01_{lab}", alpha=eta_lkj, beta=eta_lkj) - 1.0
    one, zero = pt.ones(()), pt.zeros(())
    r = rho * pt.sign(tau[0] * tau[1])
    pm.Deterministic(f"corr_{lab}", pt.stack([pt.stack([one, r]), pt.stack([r, one])]), dims=(f"{lab}_coef", f"{lab}_coef2"))
    chol = pt.stack([pt.stack([tau[0], zero]), pt.stack([tau[1] * rho, tau[1] * pt.sqrt(1.0 - rho**2)])]) * scale
    sd = pm.Deterministic(f"sd_{lab}", pt.abs(tau) * scale, dims=f"{lab}_coef")
    return sd, chol


def _absorbing_term(spec: ModelSpec, design: Design) -> GroupBlock | None:
    """The centred term that takes the intercept into its level means (see :func:`_block`), when the model has
    a fixed intercept: of the centred terms with an ``Intercept`` coefficient, the one with the most rows per
    level (the first on ties). Its level means are the best determined by their data, which is what makes
    hierarchical centring work; with crossed centred terms, carrying the intercept in the factor with few,
    large levels (InstEval's 14 departments rather than its 2972 students) removes the ridge between the
    intercept and that factor's effects."""
    if "Intercept" not in design.x_names or spec.marginal:
        return None
    cands = [b for b in design.blocks if spec.param_of(b.label) == "centered" and "Intercept" in b.coef_names]
    if not cands:
        return None
    return max(cands, key=lambda b: design.n / max(b.n_levels, 1))


def _level_constant_columns(design: Design, terms: list[GroupBlock]) -> dict[str, list[tuple[int, np.ndarray]]]:
    """For the terms of a centring chain (outermost first), the fixed-effect columns (indices into ``W``'s
    coefficients γ) that are constant within every level of the term and were not taken by a term above it, with
    their value per level: ``{label: [(column, values (levels,)), …]}``.

    Hierarchical centring on group-level predictors: a school-level predictor enters the schools' level means,
    ``m_j ~ N(β₀ + Σ_c w_jc γ_c, τ²)``, instead of every row's η, which removes the ridge between ``γ_c`` and
    the level effects (on a crossed person × item Bernoulli model with item-level attributes the attributes'
    coefficients mixed slowly while the items' means were centred on β₀ alone)."""
    from ..marginal import fixed_design

    if not terms or "Intercept" not in design.x_names:
        return {}
    W = fixed_design(design)[0]
    taken: set[int] = set()
    out: dict[str, list[tuple[int, np.ndarray]]] = {}
    for b in terms:
        J = b.n_levels
        cols = []
        for c in range(1, W.shape[1]):  # column 0 is the intercept
            if c in taken:
                continue
            w = W[:, c]
            lo = np.full(J, np.inf)
            hi = np.full(J, -np.inf)
            np.minimum.at(lo, b.codes, w)
            np.maximum.at(hi, b.codes, w)
            if np.all(hi - lo <= 1e-12 * (1.0 + np.abs(hi))) and np.ptp(lo) > 0:
                cols.append((c, lo))
                taken.add(c)
        if cols:
            out[b.label] = cols
    return out


def _centring_chain(spec: ModelSpec, design: Design) -> list[tuple[GroupBlock, np.ndarray | None]]:
    """Hierarchical centring along nested centred terms: ``[(A, None), (C₁, parent of each C₁ level), …]``.

    ``A`` (:func:`_absorbing_term`) carries the fixed intercept in its level means ``m_A ~ N(β₀, G_A)``; a
    centred term ``C₁`` nested in it (InstEval's lecturers within departments) then carries A's level means in
    its own, ``m_C ~ N(m_A[parent], G_C)`` on the intercept coefficient, and so on down the nesting (of several
    nested candidates the one with the most rows per level). Only the last term's means enter η. Sampling
    ``r_C`` and ``m_A`` separately leaves the same ridge as between β₀ and ``r_A`` (the data fix ``m_A`` plus
    the mean of its children's effects): on InstEval's departments it kept sd(dept) near bulk ESS 370 and the
    intercept near 520 of 2000 draws.
    """
    head = _absorbing_term(spec, design)
    if head is None:
        return []
    chain: list[tuple[GroupBlock, np.ndarray | None]] = [(head, None)]
    used = {head.label}
    while True:
        last = chain[-1][0]
        kids = []
        for b in design.blocks:
            if b.label in used or spec.param_of(b.label) != "centered" or "Intercept" not in b.coef_names:
                continue
            parent = parent_levels(b, last)
            if parent is not None:
                kids.append((b, parent))
        if not kids:
            return chain
        b, parent = max(kids, key=lambda bp: design.n / max(bp[0].n_levels, 1))
        chain.append((b, parent))
        used.add(b.label)


def centring_head(spec: ModelSpec, design: Design) -> tuple[GroupBlock, GroupBlock, np.ndarray] | None:
    """``(A, C, parent)`` when the head ``A`` of the centring chain is integrated out of its child's prior
    (``_centring_chain``, both terms intercept-only): ``m_C ~ N(β₀ 1, τ_C² I + τ_A² P Pᵀ)``, block by block
    over A's levels (P: which level of A each level of C sits in). ``m_A`` is then not sampled but drawn
    afterwards from its conditional (:func:`bayesmixed.marginal.draw_centring_head`); None otherwise."""
    chain = _centring_chain(spec, design)
    if len(chain) < 2 or chain[0][0].coef_names != ("Intercept",) or chain[1][0].coef_names != ("Intercept",):
        return None
    return chain[0][0], chain[1][0], chain[1][1]


def _head_marginal_means(head: GroupBlock, child: GroupBlock, parent: np.ndarray, spec: ModelSpec,
                         priors: dict[str, Prior], sigma, intercept):
    """The child's level means ``m_C`` with the head's level means integrated out of their prior: each level
    ``j`` of the head holds ``n_j`` child levels whose means are jointly ``N(β₀ 1, τ_C² I + τ_A² 11ᵀ)``, the
    one-term closed form (:func:`_level_terms`) over the child means instead of rows. Removes the centred
    funnel between τ_A and m_A: on InstEval's 14 departments (lecturers nested in them) sd(dept) had bulk
    ESS 719 of 2000 draws with m_A sampled, 1751 with it integrated out (seed 1). Returns ``(m_C, contribution of C to η)``."""
    sd_a, _ = _covariance(head, priors, sigma)
    sd_c, _ = _covariance(child, priors, sigma)
    prior_int = priors.get("Intercept")
    start = float(prior_int.kwargs.get("mu", 0.0)) if prior_int is not None else 0.0  # initial level means
    J_c, J_a = child.n_levels, head.n_levels
    m = pm.Flat(f"_m_{child.label}", dims=(child.label, f"{child.label}_coef"), initval=np.full((J_c, 1), start))
    if getattr(intercept, "ndim", 0):  # the child levels' prior means (group-level predictors included)
        intercept = pm.Deterministic(f"_mloc_{child.label}", intercept)
    e = m[:, 0] - intercept
    model = pm.modelcontext(None)
    name = f"_parent_{child.label}"
    par = model[name] if name in model.named_vars else _data(name, parent)
    z = pt.inc_subtensor(pt.zeros(J_a)[par], e)[:, None]
    counts = np.bincount(parent, minlength=J_a).astype(float)[:, None, None]
    s2 = sd_c[0] ** 2
    logdet, uAu, _, _ = _level_terms(_data(f"_S_{child.label}", counts), z, pt.diag(sd_a), s2, 1)
    rr = pt.sum(e**2)
    pm.Potential(f"_prior_m_{child.label}",
                 -0.5 * (J_c * np.log(2 * np.pi) + (J_c - J_a) * pt.log(s2) + logdet + (rr - uAu) / s2))
    codes = _data(f"_codes_{child.label}", child.codes.astype(_code_dtype(child.codes, child.n_levels)))
    return m, m[:, 0][codes]


def _code_dtype(codes: np.ndarray, n_levels: int) -> str:
    if codes.size and codes.min() < 0:  # never in a fitted design; kept signed rather than wrapped
        return "int64"
    for dt in ("uint8", "uint16", "uint32"):
        if n_levels <= np.iinfo(dt).max:
            return dt
    return "int64"


def _sum_zero(w, J: int):
    """``P w`` for the orthonormal Helmert basis ``P`` (J × (J − 1)) of the vectors that sum to zero, in O(J):
    column ``k`` is ``(1, …, 1, −k, 0, …) / √(k (k + 1))`` (``k`` ones)."""
    k = np.arange(1, J, dtype="float64")
    a = w * (1.0 / np.sqrt(k * (k + 1.0)))
    tail = pt.cumsum(a[::-1])[::-1]  # tail[i] = Σ_{k > i} a_k: the ones of every later column
    return pt.concatenate([tail, pt.zeros(1)]) - pt.concatenate([pt.zeros(1), k * a])


def _split_mean_effects(lab: str, sd):
    """Centred level effects of a one-coefficient term whose mean the likelihood cannot see, as an orthogonal
    split: the ``J − 1`` contrasts ``w ~ Normal(0, τ)`` centred, their mean ``τ ζ / √J`` non-centred.

    In a model with an intercept, a second centred term crossed with the one that carries it (sites × years,
    persons × items) has effects whose mean only the prior ``Normal(0, τ²/J)`` constrains: shifting every
    effect by ``c`` and the intercept by ``−c`` leaves the likelihood unchanged. Centred, that direction is a
    funnel in ``τ`` however much data each level has (a Poisson sites × years model with an observation-level
    effect: 1 and 53 divergences, R-hat 1.014-1.020, min bulk ESS 285-497 in three default fits). The split
    keeps the contrasts, which the data inform, centred, and takes the mean direction out of the funnel; the
    prior is unchanged: ``(τ ζ, w)`` are the coordinates of ``r ~ Normal(0, τ² I)`` in an orthonormal basis.
    """
    J = len(pm.modelcontext(None).coords[lab])
    tau = sd[0]
    zeta = pm.Normal(f"_zbar_{lab}", 0.0, 1.0)
    w = pm.Normal(f"_w_{lab}", 0.0, tau, shape=J - 1)
    return (_sum_zero(w, J) + tau * zeta / np.sqrt(J))[:, None]


def _block(b: GroupBlock, spec: ModelSpec, priors: dict[str, Prior], sigma, intercept=None, split_mean=False):
    """Contribution of one term to the linear predictor (non-centred or centred), and its level means
    (``None`` unless ``intercept`` is given).

    ``split_mean`` (a centred one-coefficient term crossed with the term that carries the intercept): its
    effects through :func:`_split_mean_effects`, around ``intercept`` when that is a vector of level
    locations (group-level predictors).

    ``intercept`` (a centred term only): the fixed intercept, which the term then carries in its level means,
    ``m_j ~ Normal(β₀, G)`` with ``r_j = m_j − β₀``, and the caller leaves it out of ``X β``; or a vector, one
    location per level (the level means of the term this one is nested in, ``_centring_chain``). Hierarchical
    centring (Gelfand, Sahu & Carlin 1995): when the levels' data are strong, the data inform ``β₀ + r_j``,
    and sampling ``r_j`` and ``β₀`` separately leaves a ridge along which ``β₀`` rises as every ``r_j`` falls
    (R-hat above 1.02 for the intercept of simulated binomial and inverse-Gaussian models with 2 × 500 draws);
    sampling the level means removes it.
    """
    lab = b.label
    sd, chol = _covariance(b, priors, sigma)
    dims = (lab, f"{lab}_coef")
    m = None
    if spec.param_of(lab) == "centered" and split_mean and b.k == 1 and b.n_levels > 1:
        dev = _split_mean_effects(lab, sd)
        r = pm.Deterministic(f"r_{lab}", dev, dims=dims)
        if intercept is not None:
            m = intercept[:, None] + dev
            r = m
    elif spec.param_of(lab) == "centered":
        if intercept is not None:
            i0 = b.coef_names.index("Intercept")
            if getattr(intercept, "ndim", 0) == 0:
                mu = pt.set_subtensor(pt.zeros(b.k)[i0], intercept)
            else:
                mu = pt.set_subtensor(pt.zeros((b.n_levels, b.k))[:, i0], intercept)
            if chol is not None:
                m = pm.MvNormal(f"_m_{lab}", mu=mu, chol=chol, dims=dims)
            else:
                m = pm.Normal(f"_m_{lab}", mu=mu, sigma=sd, dims=dims)
            r = pm.Deterministic(f"r_{lab}", m - mu, dims=dims)
        elif chol is not None:
            r = pm.MvNormal(f"r_{lab}", mu=np.zeros(b.k), chol=chol, dims=dims)
        else:
            r = pm.Normal(f"r_{lab}", mu=0.0, sigma=sd, dims=dims)
        if intercept is not None:
            r = m  # the level means carry the intercept into η
    else:
        z = pm.Normal(f"_z_{lab}", 0.0, 1.0, dims=dims)
        r = pm.Deterministic(f"r_{lab}", pt.dot(z, chol.T) if chol is not None else z * sd, dims=dims)
    # level codes in the smallest unsigned type that holds them, and one-column terms gathered from a vector:
    # numba's 1-D gather and scatter-add run about a third faster than the 2-D (codes, 0) form on int32
    codes = _data(f"_codes_{lab}", b.codes.astype(_code_dtype(b.codes, b.n_levels)))
    if b.coef_names == ("Intercept",):
        return r[:, 0][codes], m
    Z = _data(f"_Z_{lab}", b.Z)
    return pt.sum(Z * r[codes], axis=1), m


def _level_terms(S, z, L, s2, k: int):
    """Per-level algebra of one integrated-out term, ``A_j = Lᵀ S_j L + σ² I_k`` and ``u_j = Lᵀ z_j`` for the
    J levels (``S``: ``(J, k, k)`` blocks ``Z_jᵀZ_j``; ``z``: ``(J, k)``, ``Z_jᵀ r``), k ≤ 2 in closed form.
    Returns ``(Σ_j log|A_j|, Σ_j u_jᵀA_j⁻¹u_j, A⁻¹ entries, A⁻¹u)`` (the last two as k-lists of level vectors).

    Everything per level is written out elementwise over the J levels, which PyTensor fuses into one loop;
    batched matmuls of (J, k, k) stacks cost about twice as much per gradient in numba."""
    R = range(k)
    u = [sum(L[a, c] * z[:, a] for a in R if a >= c) for c in R]  # u_j = Lᵀ Z_jᵀ r
    M = [[sum(L[a, c] * S[:, a, e] * L[e, d] for a in R if a >= c for e in R if e >= d) for d in R] for c in R]
    if k == 1:
        a0 = M[0][0] + s2
        logdet_A = pt.sum(pt.log(a0))
        Ainv = [[1.0 / a0]]
    else:
        m00, m01, m11 = M[0][0] + s2, M[0][1], M[1][1] + s2
        det = m00 * m11 - m01**2
        logdet_A = pt.sum(pt.log(det))
        Ainv = [[m11 / det, -m01 / det], [-m01 / det, m00 / det]]
    Aiu = [sum(Ainv[c][d] * u[d] for d in R) for c in R]
    uAu = sum(pt.sum(u[c] * Aiu[c]) for c in R)
    return logdet_A, uAu, Ainv, Aiu


def _partial_marginal_loglik(b: GroupBlock, resid, sigma, priors: dict[str, Prior], n: int):
    """Log-likelihood of a Gaussian model with one term ``b`` integrated out given everything else: with
    ``r = y − η`` (η without ``b``), ``log N(r | 0, σ²I + Z_b G_b Z_bᵀ)`` by the Woodbury identity level by
    level, from ``Z_jᵀ r`` (a scatter-add over the rows) and ``rᵀr``: O(n) per gradient, and the term's
    J·k coefficients leave the sampler. Its effects are drawn afterwards from their exact conditional
    (:func:`bayesmixed.marginal.draw_marginal_term`)."""
    from ..marginal import level_crossprod

    lab, J, k = b.label, b.n_levels, b.k
    codes = _data(f"_codes_{lab}", b.codes.astype(_code_dtype(b.codes, b.n_levels)))
    if b.coef_names == ("Intercept",):
        z = pt.inc_subtensor(pt.zeros(J)[codes], resid)[:, None]
    else:
        z = pt.inc_subtensor(pt.zeros((J, k))[codes], _data(f"_Z_{lab}", b.Z) * resid[:, None])
    sd, chol = _covariance(b, priors, sigma, signed=True)
    L = chol if chol is not None else pt.diag(sd)
    s2 = sigma**2
    logdet_A, uAu, _, _ = _level_terms(_data(f"_S_{lab}", level_crossprod(b)), z, L, s2, k)
    rr = pt.sum(resid**2)
    return -0.5 * (n * np.log(2 * np.pi) + (n - J * k) * pt.log(s2) + logdet_A + (rr - uAu) / s2)


def _marginal_loglik(design: Design, priors: dict[str, Prior], sigma, gamma, fixed_prior=None):
    """Exact marginal log-likelihood of a Gaussian model, random effects integrated out (see
    :mod:`bayesmixed.marginal`): cost per gradient O(q³) from sufficient statistics, independent of n.

    With ``fixed_prior = (μ₀, s₀)`` (normal priors on the coefficients γ of ``W``; ``gamma`` is then None) γ is
    integrated out too, as a Gaussian effect ``γ = μ₀ + s₀ ∘ v`` with ``v ~ N(0, I_p)``: the formula is the same
    with ``W S₀`` as p more columns of ``Z Λ``, ``r₀ = y − W μ₀`` and q + p coefficients. With one grouping
    factor the extra p × p block is eliminated by its Schur complement.
    """
    from ..marginal import residual_stats, sufficient_stats

    st0 = sufficient_stats(design)
    s2 = sigma**2
    data = lambda name, value: _data(name, np.asarray(value, dtype=float))  # noqa: E731
    # data containers (not constants), so that a compiled model can be reused on new data of the same shape
    n = data("_n", float(st0.n))
    if fixed_prior is None:
        p = 0
        Ztr = data("_Zty", st0.Zty) - pt.dot(data("_ZtW", st0.ZtW), gamma)
        Wty, WtW = data("_Wty", st0.Wty), data("_WtW", st0.WtW)
        rr = data("_yty", st0.yty) - 2.0 * pt.dot(gamma, Wty) + pt.dot(gamma, pt.dot(WtW, gamma))
    else:
        mu0, s0_val = fixed_prior
        p = len(mu0)
        Wtr0, Ztr0, rr0 = residual_stats(st0, mu0)
        Ztr, Wtr, rr = data("_Ztr0", Ztr0), data("_Wtr0", Wtr0), data("_rr0", rr0)
        s0 = data("_s0", s0_val)
    if len(design.blocks) == 1 and design.blocks[0].k <= 2:
        # one term: A is block diagonal with J blocks A_j = Lᵀ Z_jᵀZ_j L + σ² I_k; k ≤ 2 in closed form
        b = design.blocks[0]
        J, k = b.n_levels, b.k
        sd, chol = _covariance(b, priors, sigma, signed=True)
        L = chol if chol is not None else pt.diag(sd)
        logdet_A, uAu, Ainv, Aiu = _level_terms(data("_S", st0.level_ZtZ), Ztr.reshape((J, k)), L, s2, k)
        R = range(k)
        if p:
            ZtW = data("_ZtW", st0.ZtW.reshape(J, k, p))
            B = [sum(L[a, c] * ZtW[:, a, :] for a in R if a >= c) * s0 for c in R]  # B_j = Lᵀ Z_jᵀ W S₀, (J, p)
            AiB = [sum(Ainv[c][d][:, None] * B[d] for d in R) for c in R]
            BAB = sum(pt.dot(B[c].T, AiB[c]) for c in R)
            Sc = data("_WtW", st0.WtW) * pt.outer(s0, s0) + s2 * pt.eye(p) - BAB
            cvec = s0 * Wtr - sum(pt.dot(B[c].T, Aiu[c]) for c in R)
            if p == 1:  # p ≤ 2 in closed form: a LAPACK Cholesky and its gradient cost more than the rest
                logdet_A = logdet_A + pt.log(Sc[0, 0])
                uAu = uAu + cvec[0] ** 2 / Sc[0, 0]
            elif p == 2:
                dsc = Sc[0, 0] * Sc[1, 1] - Sc[0, 1] ** 2
                logdet_A = logdet_A + pt.log(dsc)
                uAu = uAu + (Sc[1, 1] * cvec[0] ** 2 - 2 * Sc[0, 1] * cvec[0] * cvec[1] + Sc[0, 0] * cvec[1] ** 2) / dsc
            else:
                Csc = pt.linalg.cholesky(Sc)
                w = pt.linalg.solve_triangular(Csc, cvec, lower=True)
                logdet_A = logdet_A + 2.0 * pt.sum(pt.log(pt.diag(Csc)))
                uAu = uAu + pt.dot(w, w)
        logdet = (n - (J * k + p)) * pt.log(s2) + logdet_A
        return -0.5 * (n * np.log(2 * np.pi) + logdet + (rr - uAu) / s2)
    # several terms: one sparse Cholesky factor of A = ΛᵀMΛ + σ²I per gradient (bayesmixed.sparse_marginal),
    # the fixed effects (when integrated) the first p coefficients with the factor S₀
    from ..sparse_marginal import PLAN_FIELDS, plan
    from .sparse_op import sparse_marginal

    pl = plan(design, p)
    factors = [pt.diag(s0).ravel()] if p else []
    for b in design.blocks:
        sd, chol = _covariance(b, priors, sigma, signed=True)
        factors.append((chol if chol is not None else pt.diag(sd)).ravel())
    lam = pt.concatenate(factors) if len(factors) > 1 else factors[0]
    c = pt.concatenate([Wtr, Ztr]) if p else Ztr
    plan_vars = [_data(f"_sp_{f}", getattr(pl, f)) for f in PLAN_FIELDS]
    logdet_A, uAu = sparse_marginal(lam, s2, c, plan_vars)
    logdet = (n - pl.Q) * pt.log(s2) + logdet_A
    return -0.5 * (n * np.log(2 * np.pi) + logdet + (rr - uAu) / s2)


def _quadrature_term_loglik(spec: ModelSpec, design: Design, priors: dict[str, Prior], sigma, eta, label: str):
    """The log-likelihood with term ``label`` (one coefficient per level) integrated out by adaptive
    Gauss–Hermite quadrature (:mod:`bayesmixed.backends.quadrature`), its SD registered as ``sd_<label>``."""
    from .. import _quad_kernels as QK
    from ..quadrature import gh_rule, levels_of
    from .quadrature import quadrature_loglik

    b = next(blk for blk in design.blocks if blk.label == label)
    sd, _ = _covariance(b, priors, sigma)
    lv = levels_of(b)
    y = np.asarray(design.y, dtype=float)
    t = np.ones_like(y) if design.trials is None else np.asarray(design.trials, dtype=float)
    x, logw = gh_rule(spec.quadrature_nodes)
    data = [_data("_y", y), _data("_trials", t), _data("_qconst", QK.const(y, design.trials)),
            _data(f"_qz_{label}", lv.z), _data(f"_qptr_{label}", lv.ptr), _data(f"_qrows_{label}", lv.rows),
            _data("_qnodes", x), _data("_qlogw", logw)]
    return quadrature_loglik(spec.family_obj.quadrature_kernel, eta, sd[0], data)


def _ar1_conditional(design: Design, priors: dict[str, Prior], y, mu, sigma):
    """Mean and SD of each residual given the previous one of its series, for a stationary AR(1) process with
    marginal SD ``sigma`` and lag-one correlation ``φ`` (``ar``): the first of a series ``N(0, σ²)``, a later one
    ``N(φ^Δ e_prev, σ²(1 − φ^{2Δ}))``, Δ the time step. The product of these densities is the exact joint density
    of each series (:mod:`bayesmixed.design.autocor`), at O(n) per gradient."""
    ac = design.autocor
    p = priors["ar"]
    if p.dist == "uniform":
        phi = prior_dist(p, "_ar")
    else:
        phi = pm.Truncated("_ar", prior_dist(p), lower=-1.0, upper=1.0)
    pm.Deterministic("ar", pt.atleast_1d(phi), dims="ar_lag")
    has = ac.prev >= 0
    prev = _data("_ar_prev", np.where(has, ac.prev, 0))
    lag = _data("_ar_lag", ac.lag)
    first = _data("_ar_first", (~has).astype(float))
    e = y - mu
    phil = phi ** pt.maximum(lag, 1.0)
    m = (1.0 - first) * phil * e[prev]
    sd = sigma * pt.sqrt(first + (1.0 - first) * (1.0 - phil**2))
    return mu + m, sd


def build_model(spec: ModelSpec, design: Design, integrate_fixed: bool = True) -> pm.Model:
    """Build the PyMC model of ``spec`` on ``design``.

    A marginal model also integrates the fixed effects out when their priors are all normal
    (:func:`bayesmixed.marginal.gaussian_fixed_prior`) and ``integrate_fixed``; ``beta`` is then not a
    variable of the model but drawn after sampling (:func:`bayesmixed.marginal.draw_random_effects`).
    ``integrate_fixed=False`` keeps ``beta`` in the model (prior draws of it, as in calibration)."""
    token = _ROWS.set(design.n)
    res = _RESIDUAL.set(None)
    try:
        return _build_model(spec, design, integrate_fixed)
    finally:
        _ROWS.reset(token)
        _RESIDUAL.reset(res)


def _build_model(spec: ModelSpec, design: Design, integrate_fixed: bool) -> pm.Model:
    priors = spec.prior_dict()
    fam = spec.family_obj
    predicted = {d.dpar for d in design.predictors}
    with pm.Model(coords=coords_of(design)) as model:
        sigma = None
        if fam.scale_param is not None and fam.scale_param not in predicted:  # first: relative SD priors and the
            sigma = prior_dist(priors[fam.scale_param], fam.scale_param)   # marginal likelihood use it
        if any(b.kind == "cosy" for b in design.blocks):  # (no predicted sigma: refused in make_spec)
            # compound symmetry: sigma is the residual SD, split into a random intercept of SD √cosy σ and the
            # residual given it, √(1 − cosy) σ (design.autocor)
            rho = prior_dist(priors[N.COSY], N.COSY)
            _RESIDUAL.set({"tau": pt.sqrt(rho) * sigma})
            sigma = pt.sqrt(1.0 - rho) * sigma
        if spec.marginal:
            fixed_prior = gaussian_fixed_prior(priors, design) if integrate_fixed else None
            gamma = None if fixed_prior is not None else _fixed(priors, design)[1]
            pm.Potential("_marginal_loglik", _marginal_loglik(design, priors, sigma, gamma, fixed_prior))
            return model
        centre = fam.thresholds is not None
        eta, centred = _predictor_eta(spec, design, priors, sigma, model, centre=centre)
        marg = spec.marginal_term
        quad = spec.quadrature_term
        if marg is not None:  # Gaussian, identity link (checked in make_spec)
            y = _data("_y", design.y.astype("float64", copy=False))
            b = next(blk for blk in design.blocks if blk.label == marg)
            pm.Potential("_marginal_loglik", _partial_marginal_loglik(b, y - eta, sigma, priors, design.n))
            return model
        if quad is not None:  # one term integrated out by adaptive quadrature (log-concave family, checked in spec)
            pm.Potential("_quadrature_loglik", _quadrature_term_loglik(spec, design, priors, sigma, eta, quad))
            return model
        etas = {design.dpar: eta}
        for d in design.dpars:  # the other predicted parameters, each with its own linear predictor
            etas[d.dpar] = _predictor_eta(spec, d, priors, sigma, model)[0]
        # Bernoulli/binomial responses as integers; Poisson and negative-binomial counts stay float64: PyMC's
        # compiled log-density of an int64 count wraps values of 2^31 and more to int32 (a count of
        # 16 901 925 657 becomes negative and its log-likelihood -inf, found by simulation-based calibration).
        y = _data("_y", design.y.astype("int64") if fam.integer_observed else design.y.astype("float64", copy=False))
        n_trials = _data("_trials", design.trials.astype("int64")) if fam.needs_trials else None
        if design.autocor is not None and design.autocor.kind == "ar":  # Gaussian identity (checked in spec)
            etas[design.dpar], sigma = _ar1_conditional(design, priors, y, eta, sigma)
        values = {fam.scale_param: sigma} if sigma is not None else {}
        if centre:
            values[N.THRESHOLDS] = _thresholds(design, fam, priors, centred)
        for p in fam.sampled_aux:
            if p.name not in values and p.name not in predicted:
                values[p.name] = prior_dist(priors[p.name], p.name)
        eta, aux = fam.inputs(etas, values, pt=True)
        terms = design.response_terms
        if terms is None:
            fam.pymc_likelihood("y", eta, y, aux, n_trials, dims="obs")
        else:  # brms's weights(), cens(), trunc(): the likelihood as a potential (families.bounds)
            from ..families import bounds

            pm.Potential("_loglik", bounds.logp_pt(fam, y, eta, aux, n_trials, n=design.n, data=_data, **terms.arrays()))
    return model


def _predictor_eta(spec: ModelSpec, design: Design, priors: dict[str, Prior], sigma, model, centre: bool = False):
    """The linear predictor of one predicted parameter (``design.dpar``) on the fitted rows: fixed effects,
    offset and random-effect terms, the mean's with hierarchical centring where its terms are centred
    (:func:`_centring_chain`; another parameter's centred terms are plain centred terms). Returns ``(η, extra)``
    with ``extra`` the column means and slopes of a centred fixed part (ordinal models), else None."""
    eta, gamma, a_c = _fixed(priors, design, centre)
    if centre:
        extra, a_c = a_c, None
    else:
        extra = None
    if design.offset is not None:
        eta = eta + _data(f"_offset{_suffix(design.dpar)}", design.offset)
    main = design.dpar == N.MU
    chain = _centring_chain(spec, design) if main and a_c is not None else []
    if chain:
        eta = eta - a_c  # carried by the level means of the centring chain instead
    in_chain = {b.label for b, _ in chain}
    # other centred terms (crossed with the chain) can carry group-level predictors in their level means too
    others = sorted((b for b in design.blocks if b.label not in in_chain and spec.param_of(b.label) == "centered"
                     and "Intercept" in b.coef_names), key=lambda b: -design.n / max(b.n_levels, 1))
    absorbed = _level_constant_columns(design, [b for b, _ in chain] + others) if main and a_c is not None else {}
    if absorbed:  # group-level predictors: carried by the level means of the term they are constant in
        W = model["_W"]
        for cols in absorbed.values():
            for c, _ in cols:
                eta = eta - W[:, c] * gamma[c]
    skip = (spec.marginal_term, spec.quadrature_term)
    for b in design.blocks:
        if b.label not in skip and b.label not in in_chain:
            cols = absorbed.get(b.label)
            loc = sum(_data(f"_Wlevel_{b.label}_{c}", values) * gamma[c] for c, values in cols) if cols else None
            # a centred term beside the chain that carries the intercept: its mean is the intercept's
            eta = eta + _block(b, spec, priors, sigma, loc, split_mean=bool(chain))[0]
    loc = a_c
    head = centring_head(spec, design) if chain else None
    for i, (b, parent) in enumerate(chain):
        if parent is not None:  # the level means of the term it is nested in, one per level
            loc = loc[_data(f"_parent_{b.label}", parent)] if getattr(loc, "ndim", 0) else loc
        for c, values in absorbed.get(b.label, ()):  # the group-level predictors of this term's levels
            loc = loc + _data(f"_Wlevel_{b.label}_{c}", values) * gamma[c]
        if head is not None and i == 0:
            continue  # integrated out of the next term's prior
        if head is not None and i == 1:
            m, contrib = _head_marginal_means(head[0], b, parent, spec, priors, sigma, loc)
        else:
            contrib, m = _block(b, spec, priors, sigma, loc)
        i0 = b.coef_names.index("Intercept")
        loc = m[:, i0]
        if i == len(chain) - 1:  # each term's means carry those above it
            eta = eta + contrib
        elif b.k > 1:  # the next term carries only the intercept column; the others enter η here
            cols = [c for c in range(b.k) if c != i0]
            Zc = _data(f"_Zrest_{b.label}", b.Z[:, cols])
            eta = eta + pt.sum(Zc * m[:, cols][model[f"_codes_{b.label}"]], axis=1)
    eta = pt.as_tensor_variable(eta)
    if eta.ndim == 0:
        eta = pt.ones(design.n) * eta
    return eta, extra


def threshold_start(design: Design, fam) -> np.ndarray:
    """Starting thresholds on the centred scale: the link of the response's cumulative proportions, kept
    strictly increasing (the ordered transform needs it)."""
    y = np.asarray(design.y, dtype=np.int64)
    K = len(design.response_levels)
    cum = np.cumsum(np.bincount(y - 1, minlength=K))[:-1] / len(y)
    start = fam.link.forward(np.clip(cum, 0.01, 0.99))
    return np.maximum.accumulate(start + 1e-3 * np.arange(K - 1))


def _thresholds(design: Design, fam, priors: dict[str, Prior], centred):
    """The K − 1 ordinal thresholds: sampled on the centred predictors (``_Intercept_c``, ordered for the
    cumulative family, as brms), reported as ``Intercept`` = centred thresholds + column means · β (dim
    ``threshold``). Returns the centred ones, which go with the centred linear predictor."""
    from pymc.distributions.transforms import ordered

    means, b = centred
    K1 = len(design.response_levels) - 1
    extra = {"initval": threshold_start(design, fam)}
    if fam.thresholds == "ordered":
        extra["transform"] = ordered
    tc = prior_dist(priors[N.THRESHOLDS], "_Intercept_c", shape=K1, **extra)
    shift = pt.dot(_data("_x_means", means), b) if b is not None else 0.0
    pm.Deterministic(N.THRESHOLDS, tc + shift, dims=N.THRESHOLD_DIM)
    return tc
