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
from scipy import linalg, sparse

from .design import Design

__all__ = ["SufficientStats", "sufficient_stats", "random_effects_dim", "draw_random_effects", "MAX_Q"]

MAX_Q = 1500  # above this many random-effect coefficients the dense q × q algebra costs more than it saves


def random_effects_dim(design: Design) -> int:
    """q: the total number of random-effect coefficients (Σ levels × k over terms)."""
    return int(sum(b.n_levels * b.k for b in design.blocks))


def sparse_z(design: Design) -> sparse.csr_matrix:
    """The n × q random-effect matrix as a sparse matrix (one term after another, level-major)."""
    mats = []
    n = design.n
    for b in design.blocks:
        rows = np.repeat(np.arange(n), b.k)
        cols = (b.codes[:, None] * b.k + np.arange(b.k)[None, :]).ravel()
        mats.append(sparse.csr_matrix((b.Z.ravel(), (rows, cols)), shape=(n, b.n_levels * b.k)))
    return sparse.hstack(mats, format="csr")


@dataclass(frozen=True)
class SufficientStats:
    """Cross-products of the fixed design ``W`` (centred columns, intercept first), ``Z`` and ``y``."""

    WtW: np.ndarray
    Wty: np.ndarray
    ZtZ: np.ndarray
    ZtW: np.ndarray
    Zty: np.ndarray
    yty: float
    n: int
    q: int
    x_means: np.ndarray  # means of the non-intercept X columns (centring)
    x_scales: np.ndarray  # their SDs (scaling)


def fixed_design(design: Design) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W``: the intercept column (if any), then the other columns of ``X`` centred (when there is an
    intercept) and divided by their SD (1 for constant columns); with those means and scales.

    The coefficients γ of ``W`` relate to β of ``X`` by ``γ_slopes = β_slopes · scales`` and
    ``γ_intercept = β_intercept + means · β_slopes``.
    """
    names = list(design.x_names)
    has_int = "Intercept" in names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    Xs = design.X[:, slope_idx]
    means = Xs.mean(axis=0) if has_int and slope_idx else np.zeros(len(slope_idx))
    scales = Xs.std(axis=0, ddof=1) if design.n > 1 and slope_idx else np.ones(len(slope_idx))
    scales = np.where(scales > 0, scales, 1.0)
    cols = ([np.ones((design.n, 1))] if has_int else []) + [(Xs - means) / scales]
    return np.hstack(cols), means, scales


def sufficient_stats(design: Design) -> SufficientStats:
    W, means, scales = fixed_design(design)
    y = design.y - (design.offset if design.offset is not None else 0.0)
    Z = sparse_z(design)
    return SufficientStats(
        WtW=W.T @ W,
        Wty=W.T @ y,
        ZtZ=np.asarray((Z.T @ Z).todense()),
        ZtW=np.asarray(Z.T @ W),
        Zty=np.asarray(Z.T @ y).ravel(),
        yty=float(y @ y),
        n=design.n,
        q=Z.shape[1],
        x_means=means,
        x_scales=scales,
    )


def _lambda(design: Design, sds: list[np.ndarray], corrs: list[np.ndarray | None]):
    """Λ = blockdiag over terms of I_J ⊗ (diag(sd) L), sparse (it has at most k nonzeros a row)."""
    blocks = []
    for b, sd, corr in zip(design.blocks, sds, corrs):
        L = np.diag(sd) @ (np.linalg.cholesky(corr) if corr is not None else np.eye(b.k))
        blocks.append(sparse.kron(sparse.identity(b.n_levels, format="csr"), sparse.csr_matrix(L), format="csr"))
    return sparse.block_diag(blocks, format="csr")


def _draw_one_term(b, stats: SufficientStats, gam, sigma, sd, corr, rng, max_numbers: int = 4_000_000):
    """Conditional draws of one term's effects, level by level: with a single grouping factor the q × q system
    is block diagonal with J blocks ``A_j = Lᵀ Z_jᵀZ_j L + σ² I_k``, solved as a batch of k × k systems (draws in
    chunks of bounded memory). Returns ``(S, J·k)``."""
    J, k = b.n_levels, b.k
    S = len(sigma)
    idx = np.arange(J)[:, None] * k + np.arange(k)[None, :]
    ZtZ = stats.ZtZ[idx[:, :, None], idx[:, None, :]]  # (J, k, k) diagonal blocks
    out = np.empty((S, J * k))
    chunk = max(1, max_numbers // max(J * k * k, 1))
    eye = np.eye(k)
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        L = sd[lo:hi, :, None] * (np.linalg.cholesky(corr[lo:hi]) if corr is not None else eye)  # (s, k, k)
        zr = (stats.Zty[None, :] - gam[lo:hi] @ stats.ZtW.T).reshape(hi - lo, J, k)  # Z_jᵀ(y − Wγ)
        rhs = np.einsum("sab,sja->sjb", L, zr)  # Lᵀ Z_jᵀ r
        A = np.einsum("sab,jac,scd->sjbd", L, ZtZ, L) + (sigma[lo:hi] ** 2)[:, None, None, None] * eye
        Lc = np.linalg.cholesky(A)
        mean = np.linalg.solve(A, rhs[..., None])[..., 0]
        eps = rng.standard_normal(mean.shape)
        u = mean + sigma[lo:hi, None, None] * np.linalg.solve(np.swapaxes(Lc, -1, -2), eps[..., None])[..., 0]
        out[lo:hi] = np.einsum("sab,sjb->sja", L, u).reshape(hi - lo, J * k)
    return out


def draw_random_effects(idata, design: Design, seed: int | None = None) -> dict[str, np.ndarray]:
    """Draw every term's random effects from their exact conditional Gaussian, one draw per posterior draw.

    Returns ``{"r_<label>": array (chain, draw, levels, k)}``.
    """
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    stats = sufficient_stats(design)
    rng = np.random.default_rng(seed)
    beta = post["beta"].values.reshape(C * D, -1)
    names = list(design.x_names)
    has_int = "Intercept" in names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    # γ on the centred, scaled design: intercept_c = intercept + means · slopes, γ_slopes = slopes · scales
    gam = []
    if has_int:
        gam.append(beta[:, names.index("Intercept")] + beta[:, slope_idx] @ stats.x_means)
    gam = np.column_stack(gam + [beta[:, slope_idx] * stats.x_scales]) if (gam or slope_idx) else np.zeros((C * D, 0))
    sigma = post["sigma"].values.reshape(C * D)
    sds = [post[f"sd_{b.label}"].values.reshape(C * D, b.k) for b in design.blocks]
    corrs = [
        post[f"corr_{b.label}"].values.reshape(C * D, b.k, b.k) if f"corr_{b.label}" in post else None
        for b in design.blocks
    ]
    q = stats.q
    if len(design.blocks) == 1:
        out = _draw_one_term(design.blocks[0], stats, gam, sigma, sds[0], corrs[0], rng)
        return {f"r_{design.blocks[0].label}": out.reshape(C, D, design.blocks[0].n_levels, design.blocks[0].k)}
    out = np.empty((C * D, q))
    I = np.eye(q)
    for s in range(C * D):
        Lam = _lambda(design, [sd[s] for sd in sds], [c[s] if c is not None else None for c in corrs])
        A = Lam.T @ stats.ZtZ @ Lam + sigma[s] ** 2 * I
        chol = linalg.cholesky(A, lower=True)
        u_rhs = Lam.T @ (stats.Zty - stats.ZtW @ gam[s])
        mean = linalg.cho_solve((chol, True), u_rhs)
        u = mean + sigma[s] * linalg.solve_triangular(chol.T, rng.standard_normal(q), lower=False)
        out[s] = Lam @ u
    result = {}
    start = 0
    for b in design.blocks:
        size = b.n_levels * b.k
        result[f"r_{b.label}"] = out[:, start : start + size].reshape(C, D, b.n_levels, b.k)
        start += size
    return result
