"""Gaussian models with the random effects integrated out exactly (numpy side, no PyMC).

For ``y = W γ + Z b + ε``, ``b = Λ u``, ``u ~ N(0, I_q)``, ``ε ~ N(0, σ² I_n)``, the marginal likelihood of
``(γ, θ, σ)`` follows from the Woodbury identity and the determinant lemma with ``A = Λᵀ ZᵀZ Λ + σ² I_q``::

    log p(y) = -½ [ n log 2π + (n − q) log σ² + log|A| + (rᵀr − uᵀ A⁻¹ u) / σ² ],
    r = y − W γ,   u = Λᵀ Zᵀ r.

Everything it needs is a set of sufficient statistics (``ZᵀZ``, ``ZᵀW``, ``Zᵀy``, ``WᵀW``, ``Wᵀy``, ``yᵀy``)
computed once here with a sparse ``Z``: the cost of a gradient does not grow with the number of rows.
After sampling, ``b`` is drawn from its exact conditional Gaussian given each posterior draw.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .design import Design
from .design.matrices import _sparse_block, fixed_design, sparse_z  # noqa: F401 - re-exported
from .summaries import block_sd, residual_sd

__all__ = [
    "SufficientStats",
    "sufficient_stats",
    "random_effects_dim",
    "draw_random_effects",
    "draw_marginal_term",
    "draw_centring_head",
    "parent_levels",
    "gaussian_fixed_prior",
    "level_crossprod",
    "closed_form_term",
]

MAX_CLOSED_K = 2  # a term of at most this many coefficients has its per-level k × k algebra in closed form


def closed_form_term(b) -> bool:
    """Whether a term can be integrated out level by level in closed form (k ≤ ``MAX_CLOSED_K``): alone in
    a model, at any number of levels (cost per gradient O(levels), no q × q matrix), or as the one marginalised
    term of a model whose other terms are sampled (:func:`draw_marginal_term`)."""
    return b.k <= MAX_CLOSED_K


def random_effects_dim(design: Design) -> int:
    """q: the total number of random-effect coefficients (Σ levels × k over terms)."""
    return int(sum(b.n_levels * b.k for b in design.blocks))


def level_crossprod(b) -> np.ndarray:
    """``Z_jᵀZ_j`` for every level ``j`` of one term, ``(J, k, k)``, from its n × k columns and codes (no q × q
    matrix: the diagonal blocks of ``ZᵀZ`` for this term)."""
    J, k = b.n_levels, b.k
    Z = np.asarray(b.Z, dtype=float)
    out = np.empty((J, k, k))
    for a in range(k):
        for c in range(a, k):
            out[:, a, c] = out[:, c, a] = np.bincount(b.codes, Z[:, a] * Z[:, c], minlength=J)
    return out


def parent_levels(child, parent) -> np.ndarray | None:
    """For a term nested in another (every level of ``child`` within one level of ``parent``), the parent
    level of each child level; None when they are not nested."""
    if child.n_levels <= parent.n_levels:
        return None
    pairs = np.unique(child.codes.astype(np.int64) * parent.n_levels + parent.codes)
    if len(pairs) != child.n_levels:
        return None
    out = np.empty(child.n_levels, dtype=np.int64)
    out[pairs // parent.n_levels] = pairs % parent.n_levels
    return out


@dataclass(frozen=True)
class SufficientStats:
    """Cross-products of the fixed design ``W`` (centred columns, intercept first), ``Z`` and ``y``."""

    WtW: np.ndarray
    Wty: np.ndarray
    level_ZtZ: np.ndarray | None  # (J, k, k) diagonal blocks of a one-term model's ZᵀZ; None with several terms
    ZtW: np.ndarray
    Zty: np.ndarray
    yty: float
    n: int
    q: int
    x_means: np.ndarray  # means of the non-intercept X columns (centring)
    x_scales: np.ndarray  # their SDs (scaling)


def sufficient_stats(design: Design) -> SufficientStats:
    W, means, scales = fixed_design(design)
    y = design.y - (design.offset if design.offset is not None else 0.0)
    Z = sparse_z(design)
    return SufficientStats(
        WtW=W.T @ W,
        Wty=W.T @ y,
        level_ZtZ=level_crossprod(design.blocks[0]) if len(design.blocks) == 1 else None,
        ZtW=np.asarray(Z.T @ W),
        Zty=np.asarray(Z.T @ y).ravel(),
        yty=float(y @ y),
        n=design.n,
        q=Z.shape[1],
        x_means=means,
        x_scales=scales,
    )


def gaussian_fixed_prior(priors: dict, design: Design) -> tuple[np.ndarray, np.ndarray] | None:
    """``(μ₀, s₀)``: means and SDs of the independent normal priors on the coefficients γ of ``W`` (the centred
    intercept, then the scaled slopes), when every fixed-effect prior is a normal; ``None`` otherwise (and for
    a model without fixed effects).

    With these priors γ is one more Gaussian random effect, ``γ = μ₀ + s₀ ∘ v``, ``v ~ N(0, I_p)``: a marginal
    model integrates it out beside ``b`` (NUTS then explores θ and σ only), and draws it afterwards from its
    exact conditional Gaussian.
    """
    names = list(design.x_names)
    if not names:
        return None
    keys = ["Intercept" if n == "Intercept" else f"beta[{n}]" for n in names]
    ps = [priors.get(k) for k in keys]
    if any(p is None or p.dist != "normal" or p.relative for p in ps):
        return None
    kw = [p.kwargs for p in ps]
    has_int = "Intercept" in names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    _, _, scales = fixed_design(design)
    mu0 = ([float(kw[names.index("Intercept")]["mu"])] if has_int else []) + [
        float(kw[j]["mu"]) * s for j, s in zip(slope_idx, scales)
    ]
    s0 = ([float(kw[names.index("Intercept")]["sigma"])] if has_int else []) + [
        float(kw[j]["sigma"]) * s for j, s in zip(slope_idx, scales)
    ]
    return np.asarray(mu0, dtype=float), np.asarray(s0, dtype=float)


def residual_stats(stats: SufficientStats, mu0: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """``(Wᵀr₀, Zᵀr₀, r₀ᵀr₀)`` for ``r₀ = y − W μ₀``."""
    Wtr = stats.Wty - stats.WtW @ mu0
    Ztr = stats.Zty - stats.ZtW @ mu0
    rr = float(stats.yty - 2.0 * mu0 @ stats.Wty + mu0 @ stats.WtW @ mu0)
    return Wtr, Ztr, rr


def gamma_from_beta(design: Design, stats: SufficientStats, beta: np.ndarray) -> np.ndarray:
    """Coefficients of ``W`` from those of the user's ``X`` (draws in rows), the inverse of
    :func:`beta_from_gamma`: ``γ_intercept = β_intercept + means · β_slopes``, ``γ_slopes = β_slopes · scales``."""
    names = list(design.x_names)
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    slopes = beta[:, slope_idx]
    cols = [beta[:, [names.index("Intercept")]] + (slopes @ stats.x_means)[:, None]] if "Intercept" in names else []
    return np.hstack(cols + [slopes * stats.x_scales])


def beta_from_gamma(design: Design, stats: SufficientStats, gam: np.ndarray) -> np.ndarray:
    """Coefficients of the user's ``X`` from those of ``W`` (draws in rows): ``β_slopes = γ_slopes / scales``,
    ``β_intercept = γ_intercept − means · β_slopes``."""
    names = list(design.x_names)
    has_int = "Intercept" in names
    slopes = gam[:, 1:] if has_int else gam
    b = slopes / stats.x_scales
    out = np.empty((gam.shape[0], len(names)))
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    out[:, slope_idx] = b
    if has_int:
        out[:, names.index("Intercept")] = gam[:, 0] - b @ stats.x_means
    return out


def _term_factors(sd: np.ndarray, corr: np.ndarray | None) -> np.ndarray:
    """``diag(sd) L`` per draw, ``(s, k, k)``, from SD draws ``(s, k)`` and correlation draws ``(s, k, k)`` (or
    None for independent effects)."""
    k = sd.shape[1]
    return sd[:, :, None] * (np.linalg.cholesky(corr) if corr is not None else np.eye(k))


def _small_solve(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``A⁻¹ B`` for stacks of k × k SPD matrices ``A`` (…, k, k) and ``B`` (…, k, m); closed form for k ≤ 2
    (LAPACK's batched solve costs about a microsecond per tiny system: 81 s of the 10⁶-row, 10⁵-level sweep
    point went to the level-by-level draws)."""
    k = A.shape[-1]
    if k == 1:
        return B / A
    if k == 2:
        a, b, c = A[..., 0, 0, None], A[..., 0, 1, None], A[..., 1, 1, None]
        det = a * c - b * b
        return np.stack([(c * B[..., 0, :] - b * B[..., 1, :]) / det, (a * B[..., 1, :] - b * B[..., 0, :]) / det],
                        axis=-2)
    return np.linalg.solve(A, B)


def _small_chol_t_solve(A: np.ndarray, eps: np.ndarray) -> np.ndarray:
    """``x`` with ``Lᵀ x = ε``, ``L`` the Cholesky factor of ``A`` (…, k, k), ``ε`` (…, k): ``x ~ N(0, A⁻¹)``
    for standard normal ``ε``; closed form for k ≤ 2."""
    k = A.shape[-1]
    if k == 1:
        return eps / np.sqrt(A[..., 0])
    if k == 2:
        l00 = np.sqrt(A[..., 0, 0])
        l10 = A[..., 0, 1] / l00
        l11 = np.sqrt(A[..., 1, 1] - l10**2)
        x1 = eps[..., 1] / l11
        return np.stack([(eps[..., 0] - l10 * x1) / l00, x1], axis=-1)
    return np.linalg.solve(np.swapaxes(np.linalg.cholesky(A), -1, -2), eps[..., None])[..., 0]


def _draw_fixed_one_term(b, stats, mu0, s0, sigma, sd, corr, rng, max_numbers: int = 4_000_000):
    """Draws of γ given θ and σ, the term's effects integrated out (one grouping factor): ``v = (γ − μ₀)/s₀``
    has the Gaussian conditional ``N(Sc⁻¹ c, σ² Sc⁻¹)`` with the Schur complement
    ``Sc = S₀WᵀWS₀ + σ²I − Σ_j B_jᵀ A_j⁻¹ B_j``, ``B_j = Lᵀ Z_jᵀW S₀``, ``c = S₀Wᵀr₀ − Σ_j B_jᵀ A_j⁻¹ Lᵀ Z_jᵀr₀``."""
    J, k = b.n_levels, b.k
    S = len(sigma)
    p = len(mu0)
    ZtZ, ZtW = stats.level_ZtZ, stats.ZtW.reshape(J, k, p)
    Wtr, Ztr, _ = residual_stats(stats, mu0)
    Ztr = Ztr.reshape(J, k)
    P0 = stats.WtW * np.outer(s0, s0)
    out = np.empty((S, p))
    chunk = max(1, max_numbers // max(J * k * max(k, p), 1))
    eye = np.eye(k)
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        s2 = sigma[lo:hi] ** 2
        L = _term_factors(sd[lo:hi], None if corr is None else corr[lo:hi])  # (s, k, k)
        A = np.einsum("sab,jac,scd->sjbd", L, ZtZ, L) + s2[:, None, None, None] * eye
        B = np.einsum("sab,jap->sjbp", L, ZtW) * s0  # (s, J, k, p)
        u = np.einsum("sab,ja->sjb", L, Ztr)
        AiB = _small_solve(A, B)
        Aiu = _small_solve(A, u[..., None])[..., 0]
        Sc = P0 + s2[:, None, None] * np.eye(p) - np.einsum("sjkp,sjkq->spq", B, AiB)
        c = s0 * Wtr - np.einsum("sjkp,sjk->sp", B, Aiu)
        Lc = np.linalg.cholesky(Sc)
        mean = np.linalg.solve(Sc, c[..., None])[..., 0]
        eps = rng.standard_normal(mean.shape)
        v = mean + np.sqrt(s2)[:, None] * np.linalg.solve(np.swapaxes(Lc, -1, -2), eps[..., None])[..., 0]
        out[lo:hi] = mu0 + s0 * v
    return out


def _lambda(design: Design, sds: list[np.ndarray], corrs: list[np.ndarray | None]):
    """Λ = blockdiag over terms of I_J ⊗ (diag(sd) L), sparse (it has at most k nonzeros a row)."""
    blocks = []
    for b, sd, corr in zip(design.blocks, sds, corrs):
        L = np.diag(sd) @ (np.linalg.cholesky(corr) if corr is not None else np.eye(b.k))
        blocks.append(sparse.kron(sparse.identity(b.n_levels, format="csr"), sparse.csr_matrix(L), format="csr"))
    return sparse.block_diag(blocks, format="csr")


def _draw_one_term(b, ZtZ: np.ndarray, zr_of, sigma, sd, corr, rng, width: int = 0, max_numbers: int = 4_000_000):
    """Conditional draws of one term's effects, level by level: with the term alone in the likelihood (given
    everything else) the q × q system is block diagonal with J blocks ``A_j = Lᵀ Z_jᵀZ_j L + σ² I_k``, solved
    as a batch of k × k systems. ``ZtZ``: the blocks ``Z_jᵀZ_j`` ``(J, k, k)``; ``zr_of(lo, hi)``: ``Z_jᵀ r``
    for draws ``lo:hi``, ``(hi − lo, J, k)``, r the residual of everything else; draws go in chunks of bounded
    memory (``width``: numbers per draw that ``zr_of`` needs besides). Returns ``(S, J·k)``."""
    J, k = b.n_levels, b.k
    S = len(sigma)
    out = np.empty((S, J * k))
    chunk = max(1, max_numbers // max(J * k * k, width, 1))
    eye = np.eye(k)
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        L = _term_factors(sd[lo:hi], None if corr is None else corr[lo:hi])  # (s, k, k)
        rhs = np.einsum("sab,sja->sjb", L, zr_of(lo, hi))  # Lᵀ Z_jᵀ r
        A = np.einsum("sab,jac,scd->sjbd", L, ZtZ, L) + (sigma[lo:hi] ** 2)[:, None, None, None] * eye
        mean = _small_solve(A, rhs[..., None])[..., 0]
        eps = rng.standard_normal(mean.shape)
        u = mean + sigma[lo:hi, None, None] * _small_chol_t_solve(A, eps)
        out[lo:hi] = np.einsum("sab,sjb->sja", L, u).reshape(hi - lo, J * k)
    return out


def _term_draws(post, b, S: int):

    sd = block_sd(post, b)
    corr = post[f"corr_{b.label}"].values.reshape(S, b.k, b.k) if f"corr_{b.label}" in post else None
    return sd, corr


def draw_marginal_term(idata, design: Design, label: str, seed: int | None = None) -> dict[str, np.ndarray]:
    """Draw the effects of the one marginalised term of a partly marginal model (the other terms and β were
    sampled) from their exact conditional Gaussian, one draw per posterior draw: given β and the other terms'
    effects, ``r = y − Xβ − offset − Σ_other Z r`` and the term alone remain, and its levels are independent
    (``_draw_one_term``). Returns ``{"r_<label>": array (chain, draw, levels, k)}``."""
    from .summaries import linear_predictor

    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    S = C * D
    b = next(blk for blk in design.blocks if blk.label == label)
    Zs_T = _sparse_block(b, design.n).T.tocsr()
    y = np.asarray(design.y, dtype=float)
    sigma = residual_sd(post)
    sd, corr = _term_draws(post, b, S)

    def zr_of(lo: int, hi: int) -> np.ndarray:
        resid = y - linear_predictor(idata, design, np.arange(lo, hi), exclude=(label,))  # offset included
        return np.asarray(Zs_T @ resid.T).T.reshape(hi - lo, b.n_levels, b.k)

    out = _draw_one_term(b, level_crossprod(b), zr_of, sigma, sd, corr, np.random.default_rng(seed),
                         width=3 * design.n)
    return {f"r_{label}": out.reshape(C, D, b.n_levels, b.k)}


def draw_random_effects(
    idata, design: Design, seed: int | None = None, fixed_prior: tuple[np.ndarray, np.ndarray] | None = None
) -> dict[str, np.ndarray]:
    """Draw every term's random effects from their exact conditional Gaussian, one draw per posterior draw.

    With ``fixed_prior`` (``(μ₀, s₀)`` of :func:`gaussian_fixed_prior`) the fixed effects were integrated out
    too: they are drawn first, from their conditional given θ and σ, then the random effects given them.

    Returns ``{"r_<label>": array (chain, draw, levels, k)}``, and ``"beta"`` (chain, draw, coefficients) when
    the fixed effects were drawn.
    """
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    stats = sufficient_stats(design)
    rng = np.random.default_rng(seed)
    sigma = residual_sd(post)
    sds, corrs = map(list, zip(*(_term_draws(post, b, C * D) for b in design.blocks)))
    result: dict[str, np.ndarray] = {}
    if fixed_prior is None:
        gam = gamma_from_beta(design, stats, post["beta"].values.reshape(C * D, -1))
    elif len(design.blocks) == 1:
        b0 = design.blocks[0]
        gam = _draw_fixed_one_term(b0, stats, *fixed_prior, sigma, sds[0], corrs[0], rng)
    if len(design.blocks) == 1:
        b0 = design.blocks[0]

        def zr_of(lo: int, hi: int) -> np.ndarray:  # Z_jᵀ(y − Wγ)
            return (stats.Zty[None, :] - gam[lo:hi] @ stats.ZtW.T).reshape(hi - lo, b0.n_levels, b0.k)

        out = _draw_one_term(b0, stats.level_ZtZ, zr_of, sigma, sds[0], corrs[0], rng)
        result[f"r_{b0.label}"] = out.reshape(C, D, b0.n_levels, b0.k)
    else:
        # several terms: the sparse factorisation of the likelihood (bayesmixed.sparse_marginal), one per draw;
        # the fixed effects, when integrated out, are the first p coefficients (factor S₀)
        from .sparse_marginal import draw as sparse_draw
        from .sparse_marginal import plan

        S = C * D
        p = 0 if fixed_prior is None else len(fixed_prior[0])
        pl = plan(design, p)
        lam = np.empty((S, pl.n_lam))
        if p:
            mu0, s0 = fixed_prior
            lam[:, : p * p] = np.diag(s0).ravel()
        for b, g, sd, corr in zip(design.blocks, range(1 if p else 0, len(pl.group_k)), sds, corrs):
            o = pl.group_off[g]
            lam[:, o : o + b.k * b.k] = _term_factors(sd, corr).reshape(S, -1)
        if p:
            Wtr, Ztr0, _ = residual_stats(stats, mu0)
            c = np.concatenate([Wtr, Ztr0])
        else:
            def c(lo: int, hi: int) -> np.ndarray:  # Zᵀ(y − Wγ) per draw
                return stats.Zty[None, :] - gam[lo:hi] @ stats.ZtW.T
        out = sparse_draw(lam, sigma**2, c, pl, rng)
        if p:
            gam = mu0 + out[:, :p]
        start = p
        for b in design.blocks:
            size = b.n_levels * b.k
            result[f"r_{b.label}"] = out[:, start : start + size].reshape(C, D, b.n_levels, b.k)
            start += size
    if fixed_prior is not None:
        result["beta"] = beta_from_gamma(design, stats, gam).reshape(C, D, -1)
    return result


def draw_centring_head(post, head, child, parent: np.ndarray, seed: int | None = None) -> dict[str, np.ndarray]:
    """Draw the level means of the head of a centring chain that was integrated out of its child's prior
    (:func:`bayesmixed.backends.pymc.centring_head`), given each posterior draw of the centred intercept
    ``β₀`` (``_Intercept_c``), the SDs and the child's level means ``m_C`` (``_m_<child>``): for head level j
    with children ``c ∈ j``, ``m_A[j] − β₀ ~ N(τ_A² Σ_c e_c / (τ_C² + n_j τ_A²), τ_A² τ_C² / (τ_C² + n_j τ_A²))``,
    ``e_c = m_C[c] − β₀``. Returns ``{"r_<head>", "r_<child>"}`` (chain, draw, levels, 1): ``r_A = m_A − β₀``,
    ``r_C = m_C − m_A[parent]``."""
    C, D = post.sizes["chain"], post.sizes["draw"]
    S = C * D
    loc = f"_mloc_{child.label}"  # the child levels' prior means when group-level predictors enter them
    b0 = post[loc].values.reshape(S, child.n_levels) if loc in post else post["_Intercept_c"].values.reshape(S, 1)
    m_c = post[f"_m_{child.label}"].values.reshape(S, child.n_levels)
    t2a = post[f"sd_{head.label}"].values.reshape(S, 1) ** 2
    t2c = post[f"sd_{child.label}"].values.reshape(S, 1) ** 2
    P = sparse.csr_matrix((np.ones(child.n_levels), (np.arange(child.n_levels), parent)),
                          shape=(child.n_levels, head.n_levels))
    n = np.asarray(P.sum(axis=0)).ravel()[None, :]
    z = np.asarray((P.T @ (m_c - b0).T).T)
    denom = t2c + n * t2a
    rng = np.random.default_rng(None if seed is None else [seed, 2])  # a stream apart from the other draws
    r_a = t2a * z / denom + np.sqrt(t2a * t2c / denom) * rng.standard_normal(z.shape)
    r_c = m_c - b0 - r_a[:, parent]
    return {f"r_{head.label}": r_a.reshape(C, D, head.n_levels, 1),
            f"r_{child.label}": r_c.reshape(C, D, child.n_levels, 1)}
