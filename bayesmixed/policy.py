"""One place that decides how each random-effect term is parameterised, and why.

``auto`` chooses per model and per term, before any sampling, from the design and cheap pilot estimates:

- **Gaussian, identity link.** Every term is integrated out exactly when that is cheap: one term of at most
  two coefficients per level level by level (:mod:`bayesmixed.marginal`, any number of levels), several terms
  through one sparse Cholesky factor of ``ΛᵀMΛ + σ²I`` per gradient (:mod:`bayesmixed.sparse_marginal`) when its
  factorisation needs at most ``SPARSE_MAX_FLOPS`` operations (nested terms never fill in; crossed terms fill
  the block of the smaller one). Otherwise (large crossed designs such as InstEval) the term with the most
  coefficients among those of at most two per level is integrated out given the others, which are sampled.
- **Other terms** are centred or non-centred from the pilot's information ratios (:mod:`bayesmixed.autoparam`).
- **Models with several linear predictors** (distributional regression, ``bf(..., sigma="~ x")``; the categorical
  family) and families without a GLM pilot (ordinal) sample every term: the exact Gaussian marginal likelihood
  needs a constant residual SD, and quadrature integrates one term of one linear predictor of a log-concave
  family. The mean's terms are centred or non-centred from the pilot where the family has one (it ignores the
  predicted parameters); every other term is non-centred (:func:`choose_sampled`).
- **AR(1) residuals** (``ar()``): the residual density is evaluated given the random effects, so every term is
  sampled (centred or non-centred as above). Smooth and GP blocks (one level, k columns) and the random intercept
  of compound symmetry (``cosy()``) are terms like any other here.

:func:`bayesmixed.diagnostics.diagnose` and :func:`bayesmixed.pooling.recommend` read their thresholds from here,
so that their advice and ``auto`` cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._thresholds import THRESHOLDS, Thresholds  # noqa: F401 - re-exported: the policy's limits
from .quadrature import NODE_TOL

__all__ = ["Thresholds", "THRESHOLDS", "SPARSE_MAX_FLOPS", "GaussianChoice", "gaussian_choice", "Decision", "choose", "quadrature_candidate",
           "quadrature_nodes", "quadrature_refusal", "QUADRATURE_CHEAP_ROWS", "sampled_only", "choose_sampled"]


SPARSE_MAX_FLOPS = 300_000.0  # operations of one sparse factorisation (≈ 1 ms a gradient on these machines)
QUADRATURE_CHEAP_ROWS = 500  # a GLMM of at most this many rows integrates a strongly informed term out too


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
    cost = (f"more than {SPARSE_MAX_FLOPS:.3g} operations" if pl is None
            else f"{pl.flops:.3g} operations (more than {SPARSE_MAX_FLOPS:.3g})")
    return GaussianChoice("partial", f"integrating every term out jointly needs a sparse factorisation of {cost} "
                                     f"per gradient; this term's {big.n_levels * big.k} coefficients are integrated "
                                     "out exactly given the other terms, which are sampled", big.label)


# ------------------------------------------------------------------------------------------------- GLMMs


@dataclass(frozen=True)
class Decision:
    """What ``auto`` chose: a parameterisation and a reason per term, and the number of quadrature nodes (0 when
    no term is integrated out by quadrature)."""

    parameterization: dict
    reason: dict
    quadrature_nodes: int = 0


def quadrature_refusal(block, fam, link: str) -> str | None:
    """Why ``block`` cannot be integrated out by adaptive quadrature in this family, or None if it can."""
    from .quadrature import has_kernel

    if block.k != 1:
        return f"term {block.label!r} has {block.k} coefficients per level (quadrature integrates one)"
    if block.n_levels < 2:
        return f"term {block.label!r} has one level"
    if fam.linear_gaussian:
        return "a Gaussian identity-link model integrates its terms out exactly instead"
    if not has_kernel(fam):
        return (f"family {fam.name!r} with link {link!r} has a log density that is not concave in the linear "
                "predictor, which the exact draws of the effects need")
    return None


def _observation_level(design, block) -> bool:
    """Whether a term has one row per level (an observation-level effect)."""
    return block.n_levels == design.n


def quadrature_candidate(design, fam, link: str, sampled_choice: dict[str, str], taken=()):
    """The term ``auto`` integrates out by quadrature in a GLMM, or None. Of the terms that can be (one
    coefficient per level, not in ``taken``): an observation-level effect first (the usual device for
    overdispersion: as many effects as rows, each informed by one response); else the one with the most levels
    among those whose levels are weakly informed (the pilot would sample them non-centred); failing that, the
    one with the most levels if the quadrature is cheap (``QUADRATURE_CHEAP_ROWS`` rows at most).

    Weak terms are what makes a GLMM hard to sample (a funnel in the centred form, a ridge between the SD and
    the standardised effects in the non-centred one), so they are worth integrating out at any size; a term
    whose levels are strongly informed samples well centred, at a fraction of the quadrature's cost per
    gradient when the data are large (a crossed person × item Bernoulli model of 8,000 rows: 97 s with both
    terms centred against 292 s with the persons integrated out, the same ESS)."""
    cands = [b for b in design.blocks if b.label not in taken and quadrature_refusal(b, fam, link) is None]
    obs = [b for b in cands if _observation_level(design, b)]
    if obs:
        return obs[0], "an observation-level effect (one response per level)"
    weak = [b for b in cands if sampled_choice.get(b.label) == "noncentered"]
    if weak:
        return max(weak, key=lambda b: (b.n_levels, b.label)), "its levels are weakly informed by their data"
    if cands and design.n <= QUADRATURE_CHEAP_ROWS:
        return (max(cands, key=lambda b: (b.n_levels, b.label)),
                f"with {design.n} rows integrating it out is cheap")
    return None


def quadrature_nodes(design, fam, link: str, block) -> int:
    """The number of Gauss–Hermite nodes for ``block`` (:func:`bayesmixed.quadrature.choose_nodes`) at pilot
    values: the complete-pooling fit's linear predictor and the pilot SD of the term, and a larger SD."""
    from .autoparam import pilot
    from .quadrature import choose_nodes

    terms = {t.label: t for t in pilot(design, fam.name, link)}
    tau = float(terms[block.label].tau[0])
    total = float(sum(t.tau[0] ** 2 for t in terms.values())) ** 0.5
    eta = _fixed_eta(design, fam.name, link)
    K, _ = choose_nodes(fam.quadrature_kernel, design, block, eta, sorted({max(tau, 0.1), 1.5 * total + 0.25}))
    return int(K)


def _fixed_eta(design, family: str, link: str) -> np.ndarray:
    """The complete-pooling fit's linear predictor (offset included)."""
    from ._glm import _glm, _response
    from .families import get_family

    fam = get_family(family, link)
    y, pw = _response(design, fam)
    return _glm(y, pw, np.asarray(design.X, dtype=float), None, None, 0, fam, None, design.offset).eta


def _nested_chains(design, family: str, link: str, param: dict, why: dict, skip=()) -> tuple[dict, dict, set]:
    """Centre an intercept-only term and the intercept-only term it is nested in when the child's levels are
    strong given both variances (:func:`bayesmixed.autoparam._nested_strength`): the two then form a centring
    chain whose head is integrated out of the child's prior, which has no funnel in the head however weak its
    own levels (grouseticks' broods in locations, 35 of 63 locations holding one brood: both non-centred gave
    R-hat 1.016 and a bulk ESS of 268 for sd(LOCATION) with 4 × 1000 draws; the chain 1.009 and 937)."""
    from .autoparam import pilot

    try:
        terms = pilot(design, family, link)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError):  # pragma: no cover - defensive
        return param, why, set()
    param, why, chained = dict(param), dict(why), set()
    for t in terms:
        if t.parent is None or t.nested_share is None or t.nested_share < 0.5 or t.label in skip or t.parent in skip:
            continue
        if param.get(t.label) == "centered" and param.get(t.parent) == "centered":
            continue
        share = f"{100 * t.nested_share:.0f}% of its levels strong given both terms' variances"
        for lab in (t.label, t.parent):
            param[lab] = "centered"
        why[t.label] = (f"centred in a chain under {t.parent!r} ({share}); {t.parent!r}'s level means are integrated "
                        "out of this term's prior")
        why[t.parent] = f"head of a centring chain over {t.label!r}, integrated out of its prior ({share})"
        chained |= {t.label, t.parent}
    return param, why, chained


def sampled_only(design, fam) -> str | None:
    """Why every term of this model is sampled (none integrated out), or None when some may be integrated out."""
    if design.dpars:
        what = ", ".join(d.dpar for d in design.dpars)
        if fam.linear_gaussian:
            return (f"distributional model ({what} predicted): every term is sampled, because the random effects "
                    "integrate out exactly only with a constant residual SD")
        return f"model with several linear predictors ({', '.join(d.dpar for d in design.predictors)}): every term is sampled"
    if not fam.glm_pilot:
        return f"family {fam.name!r}: every term is sampled (no exact or quadrature integration for it)"
    return None


def choose_sampled(design, fam, link: str) -> Decision:
    """``auto`` for a model whose terms are all sampled (:func:`sampled_only`): the mean's terms centred or
    non-centred from the pilot where the family has a GLM pilot (the pilot ignores the other predictors), every
    other term non-centred, the safe default without a pilot."""
    from .autoparam import choose as pilot_choice

    why_all = sampled_only(design, fam) or ""
    param: dict[str, str] = {}
    why: dict[str, str] = {}
    if fam.glm_pilot and design.blocks:
        p, w = pilot_choice(design, fam.name, link)
        param.update(p)
        why.update({k: f"{why_all}; {v}" for k, v in w.items()})
    for b in design.all_blocks:
        if b.label not in param:
            param[b.label] = "noncentered"
            why[b.label] = f"{why_all}; no pilot for this term: non-centred, the safe default"
    return Decision(param, why)


def choose(design, fam, link: str, priors: dict) -> Decision:
    """The ``auto`` parameterisation of every term (see the module docstring)."""
    from .autoparam import choose as pilot_choice

    if sampled_only(design, fam) is not None:
        return choose_sampled(design, fam, link)

    labels = [b.label for b in design.blocks]
    if design.response_terms is not None:  # weights, censoring, truncation: no term is integrated out
        param, why = pilot_choice(design, fam.name, link)
        param, why, _ = _nested_chains(design, fam.name, link, param, why)
        note = "; the response's weights()/cens()/trunc() leave no term to integrate out"
        return Decision(param, {k: v + note for k, v in why.items()})
    ar = design.autocor is not None and design.autocor.kind == "ar"
    if fam.linear_gaussian and labels and not ar:
        g = gaussian_choice(design, priors)
        if g.kind == "marginal":
            return Decision({lab: "marginal" for lab in labels}, {lab: g.reason for lab in labels})
    else:
        g = None
    if ar:  # Gaussian identity link (checked in make_spec)
        g = GaussianChoice(None, "AR(1) residuals: the likelihood is evaluated given the random effects")
    param, why = pilot_choice(design, fam.name, link)
    # an observation-level effect is integrated out first; nested pairs of the rest may form centring chains;
    # then a weakly informed (or, in small data, any) remaining term is integrated out
    obs = [b.label for b in design.blocks if _observation_level(design, b)]
    param, why, chained = _nested_chains(design, fam.name, link, param, why, skip=tuple(obs) if g is None else ())
    found = quadrature_candidate(design, fam, link, param, taken=chained) if g is None else None
    q, q_why = found if found is not None else (None, "")
    if g is not None and g.kind == "partial":
        # the term with the most coefficients leaves the sampler: it is integrated out given the others (O(n)
        # per gradient), which removes the most dimensions and, with crossed factors, the ridge between its
        # effects and the others'
        param[g.term], why[g.term] = "marginal", g.reason
        return Decision(param, why)
    if q is None:
        return Decision(param, why)
    K = quadrature_nodes(design, fam, link, q)
    param[q.label] = "quadrature"
    why[q.label] = (f"{q_why}: integrated out by adaptive Gauss–Hermite quadrature ({K} nodes, chosen so that "
                    f"the log-likelihood is within {NODE_TOL} of a 31-node rule at pilot values); its "
                    f"{q.n_levels} effects leave the sampler and are drawn afterwards from their exact conditional")
    return Decision(param, why, K)
