"""One random-effect term of a GLMM integrated out by adaptive Gauss–Hermite quadrature.

Given everything else (the fixed effects, the other terms' effects), the levels of one random-effect term touch
disjoint rows, so with one coefficient per level (``b_j ~ N(0, τ²)``, column ``z``) the likelihood factorises
over its levels::

    p(y | rest) = Π_j ∫ exp f_j(b) db,   f_j(b) = Σ_(i∈j) log p(y_i | η_i + z_i b) + log N(b | 0, τ²).

Each one-dimensional integral is computed by adaptive Gauss–Hermite quadrature (Liu & Pierce 1994; ``glmer``'s
``nAGQ``): with the mode ``b̂_j`` of ``f_j`` (Newton's method) and ``σ̂_j = (−f_j''(b̂_j))^(−1/2)``, nodes ``x_k``
and weights ``w_k`` of the K-point rule,

    log ∫ exp f_j ≈ log(√2 σ̂_j) + log Σ_k w_k exp(x_k² + f_j(b̂_j + √2 σ̂_j x_k)),

exact when ``exp f_j`` is Gaussian and converging fast around it. An observation-level effect (one level per row,
the usual device for overdispersed counts) is the typical term; any term of one coefficient qualifies. NUTS then
explores the other parameters only, and the term's effects are drawn afterwards from their exact conditional,
one draw per posterior draw (rejection under a log-concave hull: exact for the families whose log density is
concave in η, the only ones integrated this way).

The log densities are numba kernels (``bayesmixed._quad_kernels``): one definition serves the model's
log-likelihood (``bayesmixed.backends.quadrature``), the number of nodes (:func:`choose_nodes`) and the draws
(:func:`draw_term`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _quad_kernels as QK

__all__ = ["Levels", "levels_of", "gh_rule", "level_loglik", "choose_nodes", "draw_term", "NODE_CHOICES",
           "NODE_TOL", "has_kernel"]

NODE_CHOICES = (5, 7, 9, 11, 15, 21)  # candidate numbers of nodes, fewest first
NODE_TOL = 0.01  # largest error of the total log-likelihood against a 31-point rule that a choice may leave
REF_NODES = 31


def has_kernel(fam) -> bool:
    """Whether a family (bound to its link) has a quadrature kernel (log-concave in η)."""
    return fam.quadrature_kernel in QK.KERNELS


@dataclass(frozen=True)
class Levels:
    """The rows of one term grouped by level: ``rows[ptr[j]:ptr[j + 1]]`` are level ``j``'s; ``z`` its column."""

    ptr: np.ndarray
    rows: np.ndarray
    z: np.ndarray


def levels_of(block) -> Levels:
    codes = np.asarray(block.codes, dtype=np.int64)
    rows = np.argsort(codes, kind="stable").astype(np.int64)
    ptr = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=block.n_levels))]).astype(np.int64)
    z = np.ones(len(codes)) if block.coef_names == ("Intercept",) else np.asarray(block.Z[:, 0], dtype=float)
    return Levels(ptr, rows, np.ascontiguousarray(z, dtype=float))


def gh_rule(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and log weights of the K-point Gauss–Hermite rule (weight ``exp(−x²)``)."""
    x, w = np.polynomial.hermite.hermgauss(int(K))
    return x, np.log(w)


def _response(design) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(design.y, dtype=float)
    t = np.ones_like(y) if design.trials is None else np.asarray(design.trials, dtype=float)
    return y, t


def level_loglik(kernel: str, design, block, eta_rest: np.ndarray, tau: float, K: int) -> float:
    """``Σ_j log ∫ exp f_j`` by K-point adaptive quadrature (the model's integrated log-likelihood)."""
    y, t = _response(design)
    lv = levels_of(block)
    rconst = QK.const(y, None if design.trials is None else t)
    x, logw = gh_rule(K)
    f = QK.loglik_kernel(kernel)
    return float(f(np.ascontiguousarray(eta_rest, dtype=float), float(tau), y, t, rconst, lv.z, lv.ptr, lv.rows,
                   x, logw)[0])


def choose_nodes(kernel: str, design, block, eta_rest: np.ndarray, taus) -> tuple[int, float]:
    """The fewest nodes of ``NODE_CHOICES`` whose total log-likelihood is within ``NODE_TOL`` of a
    31-point rule at every SD in ``taus`` (pilot values), with that error; the most nodes if none is."""
    err_of: dict[int, float] = {}
    for tau in taus:
        ref = level_loglik(kernel, design, block, eta_rest, tau, REF_NODES)
        for K in NODE_CHOICES:
            e = abs(level_loglik(kernel, design, block, eta_rest, tau, K) - ref)
            err_of[K] = max(err_of.get(K, 0.0), float(e) if np.isfinite(e) else np.inf)
    for K in NODE_CHOICES:
        if err_of[K] <= NODE_TOL:
            return K, err_of[K]
    return NODE_CHOICES[-1], err_of[NODE_CHOICES[-1]]


def draw_term(idata, design, kernel: str, label: str, seed: int | None = None,
              max_numbers: int = 20_000_000) -> dict[str, np.ndarray]:
    """Draw the effects of the term integrated out by quadrature, one exact draw per posterior draw given that
    draw's other parameters, in chunks of bounded memory. Returns ``{"r_<label>": array (chain, draw, levels,
    1)}``. Raises ``FloatingPointError`` if a conditional was not log-concave."""
    from .summaries import linear_predictor

    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    S = C * D
    b = next(blk for blk in design.blocks if blk.label == label)
    tau = np.ascontiguousarray(post[f"sd_{label}"].values.reshape(S), dtype=float)
    y, t = _response(design)
    lv = levels_of(b)
    seeds = np.random.SeedSequence(None if seed is None else [seed, 11])  # a stream apart from the other draws
    f = QK.draw_kernel(kernel)
    out = np.empty((S, b.n_levels))
    chunk = max(1, max_numbers // max(design.n, 1))
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        eta = np.ascontiguousarray(linear_predictor(idata, design, np.arange(lo, hi), exclude=(label,)), dtype=float)
        s = int(seeds.spawn(1)[0].generate_state(1)[0])
        out[lo:hi] = f(eta, tau[lo:hi], y, t, lv.z, lv.ptr, lv.rows, s)
    if np.isnan(out).any():
        raise FloatingPointError(f"the conditional of {label!r} was not log-concave in {int(np.isnan(out).sum())} "
                                 "draws (a draw fell above its hull)")
    return {f"r_{label}": out.reshape(C, D, b.n_levels, 1)}
