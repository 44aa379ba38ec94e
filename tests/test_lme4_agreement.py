"""Every model in models/ against its reference estimates (lme4's; ordinal::clmm, glmmTMB or brms where lme4 has
no such model: each card's [reference] source says which; stored in the TOML files with their source: R is not
needed), fitted with the default ``fit()`` a user would run (4 chains x 1000 draws; only the seed is set).

Checks, per model: each lme4 estimate of a population-level parameter lies inside the 90% posterior
interval; each fixed-effect posterior mean is within 0.3 posterior SD of lme4's estimate; no divergences;
R-hat ≤ 1.01 on every parameter, random effects included; bulk ESS ≥ 400 on every population-level parameter.
Boundary estimates (Dyestuff2's group SD of 0) are checked as "posterior piled near zero".
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from bayesmixed.modelfile import load_model_file, reference_table
from bayesmixed.summaries import draws_of, fixef_names

MODELS = Path(__file__).resolve().parent.parent / "models"
# the large InstEval case is for the benchmark, not the test suite; the further cards of issue 17 (their
# references checked once, see docs/guide/families.md) are fitted only with BAYESMIXED_ALL_CARDS=1, to keep the
# suite within its CI budget
EXTRA_CARDS = {"salamanders_zinb", "salamanders_hurdle", "kidney_lognormal"}
FILES = sorted(p for p in MODELS.glob("*.toml")
               if p.stem != "insteval" and (p.stem not in EXTRA_CARDS or os.environ.get("BAYESMIXED_ALL_CARDS") == "1"))


@pytest.fixture(scope="module", params=FILES, ids=lambda p: p.stem)
def model_fit(request):
    mf = load_model_file(request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        opts = {**mf.fit, "seed": 20261122, "progressbar": False}
        fit = mf.model().fit(**opts)
    return mf, fit


@pytest.mark.slow
def test_reference_estimates_inside_90_percent_intervals(model_fit):
    mf, fit = model_fit
    tab = reference_table(fit, mf.reference, prob=0.90)
    regular = tab[~tab.boundary]
    outside = regular[~regular.inside]
    assert outside.empty, f"{mf.name}: lme4 estimates outside the 90% interval:\n{outside.to_string()}"
    fx = tab[tab.kind == "fixef"]
    far = fx[np.abs(fx.z) > 0.3]
    assert far.empty, f"{mf.name}: fixed-effect means more than 0.3 posterior SD from lme4:\n{far.to_string()}"


@pytest.mark.slow
def test_converged_without_divergences(model_fit):
    mf, fit = model_fit
    assert fit.divergences == 0, f"{mf.name}: {fit.divergences} divergences"
    conv = fit.convergence()
    assert conv.r_hat.max() <= 1.01, f"{mf.name}:\n{conv.sort_values('r_hat').tail(3)}"
    assert conv.ess_bulk.min() >= 400, f"{mf.name}:\n{conv.sort_values('ess_bulk').head(3)}"
    import arviz as az

    for b in fit.design.all_blocks:  # every level's effects too (of every predicted parameter)
        rh = az.rhat(fit.idata, var_names=[f"r_{b.label}"])[f"r_{b.label}"].values
        assert np.nanmax(rh) <= 1.01, f"{mf.name}: r_{b.label} R-hat {np.nanmax(rh):.4f}"


@pytest.mark.slow
def test_boundary_sd_piles_near_zero(model_fit):
    mf, fit = model_fit
    boundary = [v for v in mf.reference.get("varcorr", []) if v.get("boundary")]
    if not boundary:
        pytest.skip("no boundary estimate in this model")  # only Dyestuff2 has one
    for v in boundary:
        b = fit.design.block(v["group"])
        sd = draws_of(fit.idata, f"sd_{b.label}")[:, b.coef_names.index(v["term"])]
        sigma = draws_of(fit.idata, "sigma")
        # the posterior density is highest in the bin next to zero, and half the mass is below a third of sigma
        hist, _ = np.histogram(sd, bins=20, range=(0, np.quantile(sd, 0.99)))
        assert hist.argmax() <= 1, hist
        assert np.median(sd) < np.median(sigma) / 3


def test_model_files_parse_and_build_their_models():
    for p in sorted(MODELS.glob("*.toml")):
        mf = load_model_file(p)
        model = mf.model()
        assert mf.reference.get("source"), p
        names = set(fixef_names(model.design, model.spec.family_obj))
        assert set(mf.reference.get("fixef", {})) <= names, p
        labels = {b.label for b in model.design.all_blocks} | {"Residual"}
        assert {v["group"] for v in mf.reference.get("varcorr", [])} <= labels, p


def test_correlation_only_for_correlated_terms():
    from bayesmixed.modelfile import load_model_file as load

    corr = load(MODELS / "sleepstudy.toml").model().build()
    uncorr = load(MODELS / "sleepstudy_uncorrelated.toml").model().build()
    assert "corr_Subject" in corr.named_vars and "corr_Subject" not in uncorr.named_vars
