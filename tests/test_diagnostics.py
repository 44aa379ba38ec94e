"""Sampler and identification diagnostics (bayesmixed.diagnostics).

Fast tests: prior moments against NumPy draws, contraction on constructed posteriors, funnel detection on
constructed divergences. Slow tests: well-behaved fits report no problem, and a deliberately centred funnel is
flagged with the advice to go non-centred, which (followed) removes the divergences.
"""

from __future__ import annotations

import dataclasses

import arviz as az
import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed import Prior
from bayesmixed.design import build_design
from bayesmixed.diagnostics import Diagnosis, Finding, contraction, prior_moments, sample_prior
from bayesmixed.spec import make_spec

from conftest import fit_model


@pytest.mark.parametrize(
    "prior,k",
    [
        (Prior("half_normal", sigma=2.0), 1),
        (Prior("half_student_t", nu=5.0, sigma=1.5), 1),
        (Prior("exponential", lam=0.5), 1),
        (Prior("gamma", alpha=2.0, beta=3.0), 1),
        (Prior("inverse_gamma", alpha=6.0, beta=2.0), 1),
        (Prior("lkj", eta=1.0), 2),
        (Prior("lkj", eta=2.0), 3),
        (Prior("decov", shape=2.0, scale=1.5), 1),
        (Prior("decov", shape=2.0, scale=1.5, concentration=2.0), 3),
    ],
)
def test_prior_moments_match_numpy_draws(prior, k):
    rng = np.random.default_rng(1)
    x = sample_prior(prior, 400_000, rng, k=k)
    m, v = prior_moments(prior, k)
    assert np.mean(x) == pytest.approx(m, rel=0.02, abs=0.01)
    assert np.var(x) == pytest.approx(v, rel=0.05)


def test_relative_prior_and_infinite_variance():
    s = Prior("exponential", lam=1.0)
    m, v = prior_moments(Prior("half_normal", sigma=2.0, relative=True), sigma_prior=s)
    rng = np.random.default_rng(2)
    x = sample_prior(Prior("half_normal", sigma=2.0), 400_000, rng) * sample_prior(s, 400_000, rng)
    assert m == pytest.approx(x.mean(), rel=0.02) and v == pytest.approx(x.var(), rel=0.05)
    assert prior_moments(Prior("half_cauchy", beta=1.0))[1] == np.inf
    assert prior_moments(Prior("half_student_t", nu=2.0, sigma=1.0))[1] == np.inf


def _with_posterior(sd_draws: np.ndarray, design, label="Batch"):
    return az.from_dict(posterior={f"sd_{label}": sd_draws.reshape(2, -1, 1)}, dims={f"sd_{label}": [f"{label}_coef"]})


def test_contraction_on_constructed_posteriors():
    d = build_design("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"))
    prior = Prior("half_normal", sigma=10.0)
    spec = make_spec(d, priors={"sd_Batch": prior})
    rng = np.random.default_rng(3)
    same = _with_posterior(sample_prior(prior, 20_000, rng), d)
    c = contraction(same, d, spec.prior_dict())
    assert list(c.index) == ["sd_Batch[Intercept]"]
    assert abs(c.loc["sd_Batch[Intercept]", "contraction"]) < 0.05  # posterior = prior: nothing learned
    assert c.loc["sd_Batch[Intercept]", "measure"] == "variance"
    sharp = _with_posterior(rng.normal(5.0, 0.5, 20_000), d)
    assert contraction(sharp, d, spec.prior_dict()).loc["sd_Batch[Intercept]", "contraction"] > 0.99
    # infinite prior variance: contraction of the squared inter-quartile range
    spec_c = make_spec(d, priors={"sd_Batch": Prior("half_cauchy", beta=2.0)})
    cc = contraction(_with_posterior(sample_prior(Prior("half_cauchy", beta=2.0), 20_000, rng), d), d, spec_c.prior_dict())
    assert cc.loc["sd_Batch[Intercept]", "measure"] == "IQR²"
    assert abs(cc.loc["sd_Batch[Intercept]", "contraction"]) < 0.1


def test_diagnosis_report_format():
    f = Finding("funnel", "problem", "divergences at small sd_g", "go non-centred", ("sd_g[Intercept]",),
                {"parameterization": {"g": "noncentered"}})
    empty = pd.DataFrame(columns=["contraction"])
    d = Diagnosis(2, 500, 12, 0.012, 1.002, 350.0, 300.0, (0.9, 0.8), 0.0, empty, empty, empty, None, [f])
    text = str(d)
    assert "divergences      12 (1.2% of draws)" in text
    assert "[problem] divergences at small sd_g" in text and "next step: go non-centred" in text
    assert not d.ok and d.by_kind("funnel") == [f]
    assert "<pre" in d._repr_html_()


# ------------------------------------------------------------------------------------------ slow
@pytest.mark.slow
@pytest.mark.parametrize("name", ["sleep_fit", "radon_fit", "cbpp_fit", "dyestuff_fit"])
def test_well_behaved_fits_have_no_problem(name, request):
    fit = request.getfixturevalue(name)
    d = fit.diagnose()
    assert d.by_kind("funnel") == [] and d.by_kind("divergences") == [], str(d)
    # 2 chains x 500 draws: the 1.01 R-hat threshold is met only most of the time; no other problem
    assert {f.kind for f in d.findings if f.severity == "problem"} <= {"r_hat"}, str(d)
    assert d.divergences == fit.divergences == 0
    assert d.chains == 2 and d.draws == 500
    assert np.isfinite(d.tree_depth_saturation) and len(d.e_bfmi) == 2
    assert d.max_r_hat < 1.05 and d.min_ess_bulk > 100
    thetas = [f"sd_{b.label}[{c}]" for b in fit.design.blocks for c in b.coef_names]
    assert set(thetas) <= set(d.contraction.index)
    assert (d.contraction.loc[thetas, "contraction"] > 0.5).all()  # the data inform every SD
    assert any(i.startswith("r_") for i in d.convergence.index)
    assert str(d).startswith("Sampler diagnostics: 2 chains x 500 draws")


@pytest.mark.slow
def test_correlation_contraction_and_prior_dominated_finding(sleep_fit, dyestuff2_fit):
    c = sleep_fit.diagnose().contraction
    assert "corr_Subject[Intercept,Days]" in c.index
    # replace the posterior of sd_Batch by prior draws: the prior is talking
    fit = dyestuff2_fit
    prior = fit.spec.prior("sd_Batch[Intercept]")
    post = fit.idata.posterior.copy()
    S = post.sizes["chain"] * post.sizes["draw"]
    many = sample_prior(prior, 200_000, np.random.default_rng(0))
    draws = np.random.default_rng(1).permutation(np.quantile(many, (np.arange(S) + 0.5) / S))  # the prior itself
    post["sd_Batch"] = (post["sd_Batch"].dims, draws.reshape(post["sd_Batch"].shape))
    idata = fit.idata.copy()
    idata.posterior = post
    d = dataclasses.replace(fit, idata=idata).diagnose()
    notes = d.by_kind("prior_dominated")
    assert [n.parameters for n in notes] == [("sd_Batch[Intercept]",)]
    assert abs(d.contraction.loc["sd_Batch[Intercept]", "contraction_iqr"]) < 0.05
    assert notes[0].severity == "note" and "prior" in notes[0].next_step


@pytest.mark.slow
def test_divergences_at_small_sd_of_a_centred_term_are_a_funnel(dyestuff2_fit):
    """Constructed: mark the draws with the smallest SDs as divergent on a centred spec."""
    fit = dyestuff2_fit
    spec = dataclasses.replace(fit.spec, parameterization=(("Batch", "centered"),))
    sd = fit.idata.posterior["sd_Batch"].values[..., 0]
    div = sd <= np.quantile(sd, 0.02)
    idata = fit.idata.copy()
    ss = idata.sample_stats.copy()
    ss["diverging"] = (("chain", "draw"), div)
    idata.sample_stats = ss
    d = dataclasses.replace(fit, spec=spec, idata=idata).diagnose()
    assert d.divergences == int(div.sum())
    assert d.divergence_location.loc["sd_Batch[Intercept]", "median_percentile"] < 0.05
    funnel = d.by_kind("funnel")
    assert len(funnel) == 1 and funnel[0].fix == {"parameterization": {"Batch": "noncentered"}}
    assert "non-centred" in funnel[0].next_step
    assert d.findings[0].kind == "funnel" and not d.ok


def funnel_data() -> pd.DataFrame:
    """Few observations per group and a small between-group SD: the classic funnel when centred."""
    rng = np.random.default_rng(8)
    J = 8
    y = 5 + rng.normal(0, 3, J) + rng.normal(0, 12.5, J)
    return pd.DataFrame({"y": y, "g": [f"g{j}" for j in range(J)]})


FUNNEL_PRIORS = {
    "sigma": Prior("gamma", alpha=40000.0, beta=40000.0 / 12.5),  # the within-group SD is known: 12.5
    "sd_g": Prior("half_normal", sigma=5.0),
}


@pytest.mark.slow
def test_centred_funnel_is_flagged_and_the_advice_removes_it():
    kw = dict(priors=FUNNEL_PRIORS, target_accept=0.8, seed=1)
    centred = fit_model("y ~ 1 + (1 | g)", funnel_data(), parameterization="centered", **kw)
    d = centred.diagnose()
    funnel = d.by_kind("funnel")
    assert len(funnel) == 1, str(d)
    f = funnel[0]
    assert f.severity == "problem" and "non-centred" in f.next_step
    assert f.fix == {"parameterization": {"g": "noncentered"}}
    assert centred.divergences > 0, str(d)
    fixed = fit_model("y ~ 1 + (1 | g)", funnel_data(), **{**kw, **f.fix})
    assert fixed.spec.param_of("g") == "noncentered"
    assert fixed.divergences == 0
    d2 = fixed.diagnose()
    assert d2.by_kind("funnel") == [] and d2.by_kind("divergences") == []
    assert d2.min_ess_bulk > d.min_ess_bulk
