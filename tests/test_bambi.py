"""Agreement with bambi (our peer) on the same data, model and priors, within Monte Carlo error.

bambi cannot express correlated random effects, so the Gaussian case is the independent-effects model
``(Days || Subject)``. Both tools get the same explicit priors; the intercept prior is wide (bambi puts it on
the raw intercept, bayesmixed on the intercept at the predictor means), so it does not move the posterior.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest

import bayesmixed as bm

bmb = pytest.importorskip("bambi")
DRAWS = dict(draws=1000, tune=1000, chains=2)


def _bambi(formula, data, family, priors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = bmb.Model(formula, data, family=family, priors=priors)
        return m.fit(random_seed=3, progressbar=False, **DRAWS)


def _ours(formula, data, family, priors):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.Model(formula, data, family=family, priors=priors).fit(seed=3, progressbar=False, **DRAWS)


def _agree(pairs):
    """pairs: name -> (our draws, bambi draws). Difference of means within 4 combined MCSEs."""
    bad = []
    for name, (a, b) in pairs.items():
        a2, b2 = np.asarray(a), np.asarray(b)
        mcse = np.hypot(az.mcse(a2[None, :] if a2.ndim == 1 else a2), az.mcse(b2))
        z = abs(a2.mean() - b2.mean()) / mcse
        if z > 4:
            bad.append(f"{name}: bayesmixed {a2.mean():.4g} vs bambi {b2.mean():.4g} (z={z:.1f})")
    assert not bad, "\n".join(bad)


def _stack(idata, var, **sel):
    x = idata.posterior[var]
    if sel:
        x = x.sel(**sel)
    return x.values  # (chain, draw)


@pytest.mark.slow
def test_gaussian_independent_effects_sleepstudy():
    d = bm.datasets.load("sleepstudy")
    ours = _ours(
        "Reaction ~ Days + (Days || Subject)",
        d,
        "gaussian",
        {
            "Intercept": bm.Prior("normal", mu=300, sigma=300),
            "beta[Days]": bm.Prior("normal", mu=0, sigma=50),
            "sd_Subject[Intercept]": bm.Prior("half_normal", sigma=50),
            "sd_Subject[Days]": bm.Prior("half_normal", sigma=20),
            "sigma": bm.Prior("half_normal", sigma=50),
        },
    )
    theirs = _bambi(
        "Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)",
        d,
        "gaussian",
        {
            "Intercept": bmb.Prior("Normal", mu=300, sigma=300),
            "Days": bmb.Prior("Normal", mu=0, sigma=50),
            "1|Subject": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=50)),
            "Days|Subject": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=20)),
            "sigma": bmb.Prior("HalfNormal", sigma=50),
        },
    )
    p = ours.idata
    _agree(
        {
            "Intercept": (_stack(p, "beta", coef="Intercept"), _stack(theirs, "Intercept")),
            "Days": (_stack(p, "beta", coef="Days"), _stack(theirs, "Days")),
            "sd Intercept": (_stack(p, "sd_Subject", Subject_coef="Intercept"), _stack(theirs, "1|Subject_sigma")),
            "sd Days": (_stack(p, "sd_Subject", Subject_coef="Days"), _stack(theirs, "Days|Subject_sigma")),
            "sigma": (_stack(p, "sigma"), _stack(theirs, "sigma")),
        }
    )


@pytest.mark.slow
def test_binomial_cbpp():
    d = bm.datasets.load("cbpp")
    ours = _ours(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)",
        d,
        "binomial",
        {"Intercept": bm.Prior("normal", mu=0, sigma=5), "beta": bm.Prior("normal", mu=0, sigma=5), "sd_herd": bm.Prior("half_normal", sigma=2)},
    )
    theirs = _bambi(
        "p(incidence, size) ~ period + (1 | herd)",
        d,
        "binomial",
        {"Intercept": bmb.Prior("Normal", mu=0, sigma=5), "period": bmb.Prior("Normal", mu=0, sigma=5), "1|herd": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=2))},
    )
    pairs = {"Intercept": (_stack(ours.idata, "beta", coef="Intercept"), _stack(theirs, "Intercept")), "sd herd": (_stack(ours.idata, "sd_herd")[..., 0], _stack(theirs, "1|herd_sigma"))}
    dim = [d for d in theirs.posterior["period"].dims if d not in ("chain", "draw")][0]
    for lv in ("2", "3", "4"):
        pairs[f"period{lv}"] = (_stack(ours.idata, "beta", coef=f"period{lv}"), theirs.posterior["period"].sel({dim: lv}).values)
    _agree(pairs)


@pytest.mark.slow
def test_poisson_grouseticks():
    d = bm.datasets.load("grouseticks")
    ours = _ours(
        "TICKS ~ YEAR + cHEIGHT + (1 | BROOD)",
        d,
        "poisson",
        {"Intercept": bm.Prior("normal", mu=0, sigma=5), "beta": bm.Prior("normal", mu=0, sigma=5), "sd_BROOD": bm.Prior("half_normal", sigma=2)},
    )
    theirs = _bambi(
        "TICKS ~ YEAR + cHEIGHT + (1 | BROOD)",
        d,
        "poisson",
        {"Intercept": bmb.Prior("Normal", mu=0, sigma=5), "YEAR": bmb.Prior("Normal", mu=0, sigma=5), "cHEIGHT": bmb.Prior("Normal", mu=0, sigma=5), "1|BROOD": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("HalfNormal", sigma=2))},
    )
    dim = [x for x in theirs.posterior["YEAR"].dims if x not in ("chain", "draw")][0]
    _agree(
        {
            "Intercept": (_stack(ours.idata, "beta", coef="Intercept"), _stack(theirs, "Intercept")),
            "YEAR96": (_stack(ours.idata, "beta", coef="YEAR96"), theirs.posterior["YEAR"].sel({dim: "96"}).values),
            "YEAR97": (_stack(ours.idata, "beta", coef="YEAR97"), theirs.posterior["YEAR"].sel({dim: "97"}).values),
            "cHEIGHT": (_stack(ours.idata, "beta", coef="cHEIGHT"), _stack(theirs, "cHEIGHT")),
            "sd BROOD": (_stack(ours.idata, "sd_BROOD")[..., 0], _stack(theirs, "1|BROOD_sigma")),
        }
    )
