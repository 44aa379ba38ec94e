"""Choosing centred or non-centred per term before sampling, from a pilot fit (NumPy only, no PyMC).

Which parameterisation of a random-effect term samples well depends on how strongly each level's data pin its
effect down relative to the spread of the effects (Papaspiliopoulos, Roberts & Sköld 2007; Betancourt &
Girolami 2015). With ``I_j`` the information of level ``j``'s data about its coefficient and ``τ`` the SD of
the effects, the *information ratio* ``I_j τ²`` is the same quantity :func:`bayesmixed.pooling.pooling`
reports after a fit: above 1 the level is *strong* and the centred form is the better geometry (the
non-centred one then couples ``z_j`` and ``τ`` and the intercept to the mean of the ``z``: slow mixing);
below 1 the centred form has a funnel and the non-centred one removes it.

:func:`pilot` estimates those ratios before any sampling:

1. a complete-pooling fit of the fixed effects (least squares, or IRLS for the other families), giving the
   fitted means ``μ_i``, working weights and working residuals ``e_i = (y_i − μ_i)/(dμ/dη)`` on the link scale;
2. the dispersion of the family (σ², the gamma shape, the negative-binomial α, …) by moments from the
   residuals left after removing every term's level means, so that the group variation is not counted as
   noise;
3. per term and coefficient ``c``: ``I_j = Σ_i∈j W_i z_ic²`` and the level's weighted mean residual
   ``ē_j``; the method-of-moments estimate ``τ̂² = max(Var_j(ē_j) − mean_j(1/I_j), 0)``; the ratio
   ``I_j τ̂²`` per level. With several terms or coefficients this runs as five sweeps of backfitting, each
   term's residuals net of the other terms' shrunken level effects ``ē_j I_j τ̂²/(1 + I_j τ̂²)``, so that
   crossed factors do not absorb each other's variation. A level's information counts the other terms'
   effects inside it as noise: ``1/I_j^eff = 1/I_j + Σ_t τ̂_t² Σ_l (Σ_i∈j∩l W_i)² / I_j²`` (a location
   holding one brood learns little about its own effect however many chicks it has; an observation-level
   effect blurs every level mean), with ``τ̂_t²`` replaced by what is left of term ``t``'s effects once its
   shrunken estimates are removed, their conditional variance ``τ̂_t² v_l/(τ̂_t² + v_l)``.

A level that holds a single level of a term nested in it (a location with one brood) is never strong: its
effect and the nested one's are told apart only by the prior. A term is centred when, for every coefficient, at least half of its levels are strong (the same majority
rule as :func:`bayesmixed.pooling.recommend`), and it has at least ``MIN_LEVELS`` levels (fewer give no
usable τ̂). Everything else stays non-centred, the safe default: a wrongly non-centred strong term mixes
slowly, a wrongly centred weak one diverges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from .design import Design
from ._glm import _glm, _response
from ._thresholds import THRESHOLDS
from .families import Family, as_family
from .pooling import STRONG_RATIO

__all__ = ["TermPilot", "pilot", "choose", "MIN_LEVELS"]

MIN_LEVELS = 5


@dataclass(frozen=True)
class TermPilot:
    """Pilot estimates for one random-effect term.

    Attributes
    ----------
    label
        Term label (``Subject``, ``cask:batch``).
    tau
        Method-of-moments SD of the effects per coefficient, on the link scale.
    strong_share
        Share of levels whose information ratio ``I_j τ̂²`` exceeds :data:`bayesmixed.pooling.STRONG_RATIO`,
        per coefficient.
    median_ratio
        Median information ratio over levels, per coefficient.
    choice
        ``"centered"`` or ``"noncentered"``.
    reason
        One line saying why.
    """

    label: str
    coef_names: tuple[str, ...]
    tau: tuple[float, ...]
    strong_share: tuple[float, ...]
    median_ratio: tuple[float, ...]
    choice: str
    reason: str
    parent: str | None = None
    nested_share: float | None = None


def _level_means(e: np.ndarray, W: np.ndarray, z: np.ndarray, codes: np.ndarray, J: int):
    """Per-level information ``I_j = Σ W z²`` and weighted mean residual ``ē_j = Σ W z e / I_j``."""
    info = np.bincount(codes, W * z * z, minlength=J)
    num = np.bincount(codes, W * z * e, minlength=J)
    ebar = np.divide(num, info, out=np.zeros(J), where=info > 0)
    return info, ebar


def pilot(design: Design, family: str | Family, link: str | None = None) -> list[TermPilot]:
    """Pilot information ratios of every random-effect term (see the module docstring)."""
    fam = as_family(family, link)
    y, pw = _response(design, fam)
    X = np.asarray(design.X, dtype=float)
    res = _glm(y, pw, X, None, None, 0, fam, None, design.offset)
    ginv = fam.link.inverse
    mu = fam.clip_mean(ginv(res.eta))
    d = fam.link.dmu_deta(res.eta)
    d = np.where(np.abs(d) < 1e-12, np.where(d < 0, -1e-12, 1e-12), d)
    e = (y - mu) / d  # working residuals on the link scale
    if design.trials is not None:
        pw = np.where(np.asarray(design.trials) > 0, pw, 0.0)

    # dispersion from the residuals left after removing the level means of every term with repeated levels
    def weights(disp: float) -> np.ndarray:
        W = d**2 / np.maximum(fam.pilot_variance(mu, pw, disp), 1e-300)
        return np.where(np.isfinite(W) & (pw > 0), W, 0.0)

    W0 = weights(1.0)
    fitted_link = res.eta.copy()
    used = X.shape[1]
    for b in design.blocks:
        if np.median(np.bincount(b.codes, minlength=b.n_levels)) >= 2:
            _, ebar = _level_means(e - (fitted_link - res.eta), W0, np.ones(design.n), b.codes, b.n_levels)
            fitted_link = fitted_link + ebar[b.codes]
            used += b.n_levels
    mu_g = fam.clip_mean(ginv(fitted_link))
    disp = fam.dispersion_moment(y, pw, mu_g, used)
    W = weights(disp)

    # backfitting over (term, coefficient): each one's level means are taken from the residuals left by the
    # others' shrunken level effects, so that crossed, nested and intercept/slope terms are not confounded;
    # coarsest factor first: in nested designs (brood within location) the finer factor would otherwise take
    # the coarser one's variation in the first sweep and keep it
    order = sorted(range(len(design.blocks)), key=lambda bi: design.blocks[bi].n_levels)
    cols = [(bi, a) for bi in order for a in range(design.blocks[bi].k)]
    zcol = {c: np.asarray(design.blocks[c[0]].Z[:, c[1]], dtype=float) for c in cols}
    effect = {c: np.zeros(design.n) for c in cols}
    tau2 = {c: 0.0 for c in cols}
    # cross[c][o][j] = Σ_l (Σ_{i ∈ j∩l} W_i z_ic z_io)²: how much the effects of term o enter the level means
    # of c (a location's mean holds its broods' effects; an observation-level effect is noise in every mean)
    cross: dict = {c: {} for c in cols}
    for c in cols:
        bc = design.blocks[c[0]]
        for o in cols:
            if o[0] == c[0]:
                continue
            bo = design.blocks[o[0]]
            cell, inv = np.unique(bc.codes.astype(np.int64) * bo.n_levels + bo.codes, return_inverse=True)
            w = np.bincount(inv, W * zcol[c] * zcol[o], minlength=len(cell))
            cross[c][o] = sparse.csr_matrix((w**2, (cell // bo.n_levels, cell % bo.n_levels)),
                                            shape=(bc.n_levels, bo.n_levels))
    stats: dict[tuple[int, int], tuple[float, np.ndarray]] = {}
    post_var = {c: np.zeros(design.blocks[c[0]].n_levels) for c in cols}
    for _ in range(5 if len(cols) > 1 else 1):
        for c in cols:
            b = design.blocks[c[0]]
            resid = e - sum(effect[o] for o in cols if o != c)
            info, ebar = _level_means(resid, W, zcol[c], b.codes, b.n_levels)
            ok = info > 0
            noise = np.full(b.n_levels, np.inf)
            noise[ok] = 1.0 / info[ok] + sum((cross[c][o] @ post_var[o])[ok] for o in cross[c]) / info[ok] ** 2
            t2 = max(float(np.var(ebar[ok], ddof=1) - np.mean(noise[ok])), 0.0) if ok.sum() >= 2 else 0.0
            tau2[c] = t2
            shrunk = np.where(ok, t2 / (t2 + noise), 0.0) * ebar
            effect[c] = zcol[c] * shrunk[b.codes]
            stats[c] = (t2, 1.0 / noise[ok])
            # what is left of this term's effects after removing the shrunken estimates: their conditional
            # variance, per level, which is the noise they add to the other terms' level means
            with np.errstate(invalid="ignore"):  # a level without information (a hurdle site of zeros): 0 · inf
                post_var[c] = np.where(ok, t2 * noise / (t2 + noise), t2)
            post_var[c] = np.where(np.isfinite(post_var[c]), post_var[c], t2)

    # a level holding a single level of a term nested in it (a location with one brood) cannot tell its own
    # effect from that one's: the split is left to the prior and the level is not strong, whatever its data
    confounded = {}
    for bi, b in enumerate(design.blocks):
        single = np.zeros(b.n_levels, dtype=bool)
        for bo in design.blocks:
            if bo is b or bo.n_levels <= b.n_levels:
                continue
            cells = np.unique(b.codes.astype(np.int64) * bo.n_levels + bo.codes)
            if len(cells) == bo.n_levels:  # every level of bo sits in one level of b: nested
                single |= np.bincount(cells // bo.n_levels, minlength=b.n_levels) < 2
        confounded[bi] = single

    out = []
    for bi, b in enumerate(design.blocks):
        J = b.n_levels
        taus, shares, meds = [], [], []
        for a in range(b.k):
            tau2, info = stats[(bi, a)]
            ok = _level_means(e, W, np.asarray(b.Z[:, a], dtype=float), b.codes, J)[0] > 0
            ratio = np.where(confounded[bi][ok], 0.0, info * tau2)
            taus.append(float(np.sqrt(tau2)))
            shares.append(float(np.mean(ratio > STRONG_RATIO)) if len(ratio) else 0.0)
            meds.append(float(np.median(ratio)) if len(ratio) else 0.0)
        lo = min(shares) if shares else 0.0
        desc = ", ".join(f"{c}: {100 * s:.0f}% of levels strong, median I_j·τ̂² {m:.2g}"
                         for c, s, m in zip(b.coef_names, shares, meds))
        if J < MIN_LEVELS:
            choice, why = "noncentered", f"{J} levels are too few to judge the data strength"
        elif lo >= THRESHOLDS.centre_share:
            choice, why = "centered", f"the data dominate the between-level prior ({desc})"
        else:
            choice, why = "noncentered", f"levels carry little information relative to the effect SD ({desc})"
        parent, nested_share = _nested_strength(design, bi, stats)
        out.append(TermPilot(b.label, tuple(b.coef_names), tuple(taus), tuple(shares), tuple(meds), choice, why,
                             parent, nested_share))
    return out


def _nested_strength(design: Design, bi: int, stats) -> tuple[str | None, float | None]:
    """For an intercept-only term nested in an intercept-only term (broods in locations): the parent's label and
    the share of the child's levels whose information exceeds the prior variance of their means once the
    parent's effects are integrated out, ``I_j (τ̂_C² + τ̂_A²) > 1``. In a centring chain whose head is integrated
    out of its child's prior (:func:`bayesmixed.backends.pymc.centring_head`) the child's means have that
    variance, and the parent's own strength no longer matters: how the pilot splits the variance between two
    confounded nested terms (a location holding one brood) does not change the sum."""
    from .marginal import parent_levels

    b = design.blocks[bi]
    if b.coef_names != ("Intercept",):
        return None, None
    parents = [(pi, p) for pi, p in enumerate(design.blocks)
               if pi != bi and p.coef_names == ("Intercept",) and parent_levels(b, p) is not None]
    if not parents:
        return None, None
    pi, p = max(parents, key=lambda x: x[1].n_levels)  # the nearest parent
    t2_c, info = stats[(bi, 0)]
    t2_a = stats[(pi, 0)][0]
    return p.label, float(np.mean(info * (t2_c + t2_a) > STRONG_RATIO)) if len(info) else 0.0


def choose(design: Design, family: str | Family, link: str | None = None) -> tuple[dict[str, str], dict[str, str]]:
    """``(parameterization by term, reason by term)`` from :func:`pilot`; non-centred where the pilot fails."""
    try:
        terms = pilot(design, family, link)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError, NotImplementedError) as err:  # pragma: no cover
        return ({b.label: "noncentered" for b in design.blocks},
                {b.label: f"pilot fit failed ({err}); non-centred, the safe default" for b in design.blocks})
    return {t.label: t.choice for t in terms}, {t.label: t.reason for t in terms}
