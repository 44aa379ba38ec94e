"""Result methods of Fit on real fits: columns, names, intervals, reproducibility, samplers."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.summaries import draws_of
from conftest import assert_posteriors_agree


@pytest.mark.slow
def test_tables_follow_lme4_vocabulary(sleep_fit):
    fx = sleep_fit.fixef()
    assert list(fx.columns) == ["mean", "sd", "lower", "upper"] and list(fx.index) == ["Intercept", "Days"]
    assert fx.index.name == "term"
    assert (fx["lower"] < fx["mean"]).all() and (fx["mean"] < fx["upper"]).all()
    vc = sleep_fit.varcorr()
    assert list(vc.columns) == ["group", "term", "kind", "mean", "median", "lower", "upper"]
    assert list(zip(vc.group, vc.term, vc.kind)) == [
        ("Subject", "Intercept", "sd"),
        ("Subject", "Days", "sd"),
        ("Subject", "Intercept,Days", "cor"),
        ("Residual", "", "sd"),
    ]
    re = sleep_fit.ranef("Subject")
    assert re.shape == (36, 4) and re.index.names == ["level", "coef"]
    co = sleep_fit.coef("Subject")
    # coef = fixef + ranef, per level
    np.testing.assert_allclose(
        co.xs("Days", level="coef")["mean"].to_numpy(),
        fx.loc["Days", "mean"] + re.xs("Days", level="coef")["mean"].to_numpy(),
        rtol=1e-9,
    )


@pytest.mark.slow
def test_narrower_prob_gives_narrower_intervals(sleep_fit):
    wide, narrow = sleep_fit.fixef(0.95), sleep_fit.fixef(0.5)
    assert ((narrow.upper - narrow.lower) < (wide.upper - wide.lower)).all()


@pytest.mark.slow
def test_icc_and_r2(sleep_intercept_fit):
    icc = sleep_intercept_fit.icc()
    sd = draws_of(sleep_intercept_fit.idata, "sd_Subject")[:, 0]
    sigma = draws_of(sleep_intercept_fit.idata, "sigma")
    assert icc["mean"].iloc[0] == pytest.approx(np.mean(sd**2 / (sd**2 + sigma**2)))
    r2 = sleep_intercept_fit.r2()
    assert list(r2.index) == ["conditional", "marginal"]
    assert 0 < r2.loc["marginal", "mean"] < r2.loc["conditional", "mean"] < 1


@pytest.mark.slow
def test_summary_prints_like_lme4(sleep_fit):
    text = str(sleep_fit.summary())
    for piece in ("Formula: Reaction ~ Days + (Days | Subject)", "Random effects", "Fixed effects", "Std.Dev.", "Corr", "Residual", "r_hat", "divergences"):
        assert piece in text
    assert "<table" in sleep_fit._repr_html_()


@pytest.mark.slow
def test_idata_groups_and_names(sleep_fit):
    idata = sleep_fit.idata
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data"} <= set(idata.groups())
    post = set(idata.posterior.data_vars)
    assert {"beta", "sd_Subject", "corr_Subject", "r_Subject", "sigma"} <= post
    assert not [v for v in post if v.startswith("_")]
    assert idata.log_likelihood["y"].shape == (2, 500, 180)
    np.testing.assert_array_equal(idata.observed_data["y"].values, sleep_fit.design.y)


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_same_seed_same_draws(sampler):
    d = bm.datasets.load("Dyestuff")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [bm.Model("Yield ~ 1 + (1 | Batch)", d).fit(draws=100, tune=100, chains=2, seed=9, sampler=sampler, progressbar=False) for _ in range(2)]
    np.testing.assert_array_equal(fits[0].idata.posterior["beta"].values, fits[1].idata.posterior["beta"].values)
    np.testing.assert_array_equal(fits[0].idata.posterior["r_Batch"].values, fits[1].idata.posterior["r_Batch"].values)
    assert fits[0].sampler_info["sampler"] == sampler


@pytest.mark.slow
def test_marginal_and_noncentred_agree_on_sleepstudy(sleep_fit):
    """Same posterior from the marginalised model (sleep_fit) and the non-centred one, random effects included."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nc = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"), parameterization="noncentered").fit(
            draws=1000, tune=1000, chains=2, seed=4, progressbar=False
        )
    assert sleep_fit.sampler_info["parameterization"] == {"Subject": "marginal"}
    assert_posteriors_agree(sleep_fit, nc, ("beta", "sigma", "sd_Subject", "r_Subject"))


def test_bad_fit_arguments():
    m = bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"))
    with pytest.raises(bm.BayesMixedError, match="draws must be a positive whole number"):
        m.fit(draws=0)
    with pytest.raises(bm.BayesMixedError, match="unknown sampler 'stan'"):
        m.fit(sampler="stan")
    with pytest.raises(bm.BayesMixedError, match="target_accept"):
        m.fit(target_accept=1.5)
