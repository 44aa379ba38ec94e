"""One place that decides how each random-effect term is parameterised, and why.

``auto`` chooses per model and per term, before any sampling, from the design and cheap pilot estimates:

- **Gaussian, identity link.** Every term is integrated out exactly when that is cheap: one term of at most
  two coefficients per level level by level (:mod:`bayesmixed.marginal`, any number of levels), several terms
  through one sparse Cholesky factor of ``ΛᵀMΛ + σ²I`` per gradient (:mod:`bayesmixed.sparse_marginal`) when its
  factorisation needs at most ``SPARSE_MAX_FLOPS`` operations (nested terms never fill in; crossed terms fill
  the block of the smaller one). Otherwise (large crossed designs such as InstEval) the term with the most
  coefficients among those of at most two per level is integrated out given the others, which are sampled.
- **Other terms** are centred or non-centred from the pilot's information ratios (:mod:`bayesmixed.autoparam`).

:func:`bayesmixed.diagnostics.diagnose` and :func:`bayesmixed.pooling.recommend` read their thresholds from here,
so that their advice and ``auto`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SPARSE_MAX_FLOPS", "GaussianChoice", "gaussian_choice"]

SPARSE_MAX_FLOPS = 300_000.0  # operations of one sparse factorisation (≈ 1 ms a gradient on these machines)


@dataclass(frozen=True)
class GaussianChoice:
    """How a Gaussian identity-link model integrates its random effects: ``"marginal"`` (every term),
    ``"partial"`` (one term given the others) or ``None`` (no term can be integrated out), with the reason."""

    kind: str | None
    reason: str
    term: str | None = None  # the integrated term of a partial choice


def gaussian_choice(design, priors: dict) -> GaussianChoice:
    """Integrate every term out when that is cheap (see the module docstring), else one term given the others."""
    from .marginal import closed_form_term, gaussian_fixed_prior
    from .sparse_marginal import plan

    blocks = design.blocks
    if not blocks:
        return GaussianChoice(None, "no random-effect terms")
    if len(blocks) == 1 and closed_form_term(blocks[0]):
        return GaussianChoice("marginal", "Gaussian identity-link model, random effects integrated out exactly "
                                          "(level by level)")
    fixed = gaussian_fixed_prior(priors, design)
    p = 0 if fixed is None else len(fixed[0])
    # Σ_j c_j² ≥ nnz² / Q for column counts c_j: a factor of more nonzeros cannot be cheap enough
    q = p + sum(b.n_levels * b.k for b in blocks)
    pl = plan(design, p, max_nnz=int((SPARSE_MAX_FLOPS * q) ** 0.5) + q)
    if pl is not None and pl.flops <= SPARSE_MAX_FLOPS:
        return GaussianChoice("marginal", f"Gaussian identity-link model, random effects integrated out exactly "
                                          f"(one sparse Cholesky factor per gradient: {pl.nnz} nonzeros, "
                                          f"{pl.flops:.3g} operations)")
    closed = [b for b in blocks if closed_form_term(b)]
    if not closed:
        return GaussianChoice(None, "no term of at most two coefficients per level to integrate out, and the "
                                    "joint factorisation is too costly")
    big = max(closed, key=lambda b: b.n_levels * b.k)
    cost = "too costly" if pl is None else f"{pl.flops:.3g} operations"
    return GaussianChoice("partial", f"integrating every term out jointly needs a sparse factorisation of {cost} "
                                     f"per gradient; this term's {big.n_levels * big.k} coefficients are integrated "
                                     "out exactly given the other terms, which are sampled", big.label)
