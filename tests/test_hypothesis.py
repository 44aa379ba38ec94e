"""hypothesis(): brms's semantics (interval, evidence ratio, posterior probability, star), the parser, and the
Savage-Dickey density ratio against a closed-form conjugate normal model."""

from __future__ import annotations

import math

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.fit import Fit
from bayesmixed.hypothesis import HypothesisError, kde_at, prior_density
from bayesmixed.summaries import draws_of

SLEEP = "Reaction ~ Days + (Days | Subject)"
SLEEP_PARAMS = {"beta": {"Intercept": 250.0, "Days": 10.0}, "sd": {"Subject": [25.0, 6.0]},
                "corr": {"Subject": [[1.0, 0.3], [0.3, 1.0]]}, "sigma": 25.0}


@pytest.fixture(scope="module")
def sleep_syn(synthetic_fit):
    return synthetic_fit(SLEEP, bm.datasets.load("sleepstudy"), SLEEP_PARAMS, jitter=3.0, loglik=False)


def test_one_sided_hypotheses_are_posterior_odds(sleep_syn):
    days = draws_of(sleep_syn.idata, "beta")[:, 1]
    h = sleep_syn.hypothesis(["Days > 9", "Days < 9", "b_Days - 9 > 0", "9 < Days"], prob=0.9)
    t = h.table
    n_gt = int(np.sum(days - 9 > 0))
    assert t["evid_ratio"].iloc[0] == pytest.approx(n_gt / (len(days) - n_gt))
    assert t["post_prob"].iloc[0] == pytest.approx(n_gt / len(days))
    assert t["post_prob"].iloc[1] == pytest.approx(1 - n_gt / len(days))
    lo, hi = np.quantile(days - 9, [0.1, 0.9])  # brms: (alpha, 1 - alpha) for one-sided hypotheses
    assert (t["lower"].iloc[0], t["upper"].iloc[0]) == (pytest.approx(lo), pytest.approx(hi))
    assert t["estimate"].iloc[0] == pytest.approx(np.mean(days) - 9)
    assert t["est_error"].iloc[0] == pytest.approx(np.std(days, ddof=1))
    np.testing.assert_allclose(h.draws[:, 0], h.draws[:, 2])
    np.testing.assert_allclose(h.draws[:, 3], 9 - days)  # "9 < Days" is 9 - Days < 0
    assert t["post_prob"].iloc[3] == pytest.approx(t["post_prob"].iloc[0])
    star = [s == "*" for s in t["star"]]
    assert star == [p > 0.9 for p in t["post_prob"]]
    assert sleep_syn.hypothesis("Days > -20").table["evid_ratio"].iloc[0] == math.inf
    assert sleep_syn.hypothesis("Days > -20").table["post_prob"].iloc[0] == 1.0


def test_names_arithmetic_and_parameters_of_every_kind(sleep_syn):
    post = sleep_syn.idata
    beta, sd = draws_of(post, "beta"), draws_of(post, "sd_Subject")
    h = sleep_syn.hypothesis([
        "exp(Days / 10) - 2 * beta[Intercept] ^ 0.5 > 1",
        "sd_Subject[Days] > 5",
        "sd_Subject__Days = sd_Subject[Intercept] / 4",
        "corr_Subject[Days,Intercept] < 0.5",
        "cor_Subject__Intercept__Days = 0",
        "`sigma` > 20",
        "r_Subject[308,Days] + Days > 0",
    ])
    np.testing.assert_allclose(h.draws[:, 0], np.exp(beta[:, 1] / 10) - 2 * beta[:, 0] ** 0.5 - 1)
    np.testing.assert_allclose(h.draws[:, 1], sd[:, 1] - 5)
    np.testing.assert_allclose(h.draws[:, 2], sd[:, 1] - sd[:, 0] / 4)
    np.testing.assert_allclose(h.draws[:, 3], draws_of(post, "corr_Subject")[:, 0, 1] - 0.5)
    np.testing.assert_allclose(h.draws[:, 6], draws_of(post, "r_Subject")[:, 0, 1] + beta[:, 1])
    assert list(h.details["prior_method"])[4] == "closed form"  # LKJ marginal
    assert isinstance(str(h), str) and "evid_ratio" in str(h)


@pytest.mark.parametrize("bad, match", [
    ("Days", "of the form"),
    ("Days > 1 > 0", "of the form"),
    ("Dayz > 0", "Did you mean 'Days'"),
    ("Days > (1", "'\\)' expected"),
    ("Days > ", "is empty"),
    ("r_Subject[999,Days] > 0", "levels such as"),
    ("Days $ 2 > 0", "cannot read"),
])
def test_unreadable_hypotheses_say_why(sleep_syn, bad, match):
    with pytest.raises(HypothesisError, match=match):
        sleep_syn.hypothesis(bad)


def test_kde_and_prior_density_are_right():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, 40_000)
    assert kde_at(x, 0.5) == pytest.approx(stats.norm(1, 2).pdf(0.5), rel=0.02)
    assert prior_density(bm.Prior("normal", mu=1, sigma=2), 0.5) == pytest.approx(stats.norm(1, 2).pdf(0.5))
    assert prior_density(bm.Prior("half_student_t", nu=3, sigma=2), 1.0) == pytest.approx(2 * stats.t(3, 0, 2).pdf(1.0))
    assert prior_density(bm.Prior("exponential", lam=0.5), 1.0) == pytest.approx(0.5 * math.exp(-0.5))
    # LKJ(eta) on a 3 x 3 matrix: one correlation is 2 Beta(a, a) - 1, a = eta - 1 + k/2
    assert prior_density(bm.Prior("lkj", eta=2.0), 0.2, k=3) == pytest.approx(stats.beta(2.5, 2.5).pdf(0.6) / 2)
    assert prior_density(bm.Prior("half_normal", sigma=1, relative=True), 1.0) is None
    assert math.isnan(prior_density(bm.Prior("flat"), 0.0))


def _conjugate_fit(m0: float, s0: float, mn: float, sn: float, draws: int = 10_000) -> Fit:
    """y ~ 1 + (1 | g) with the prior Normal(m0, s0) on the intercept, and as posterior of the intercept the
    exact conjugate posterior Normal(mn, sn) (a normal mean with known variance)."""
    rng = np.random.default_rng(5)
    data = pd.DataFrame({"y": rng.normal(size=40), "g": np.repeat(np.arange(8), 5)})
    model = bm.Model("y ~ 1 + (1 | g)", data, priors={"Intercept": bm.Prior("normal", mu=m0, sigma=s0)})
    post = {"beta": rng.normal(mn, sn, (2, draws, 1)), "sd_g": np.full((2, draws, 1), 0.5),
            "r_g": rng.normal(0, 0.5, (2, draws, 8, 1)), "sigma": np.ones((2, draws))}
    idata = az.from_dict(posterior=post, dims={"beta": ["coef"], "sd_g": ["g_coef"], "r_g": ["g", "g_coef"]},
                         coords={"coef": ["Intercept"], "g_coef": ["Intercept"], "g": list(range(8))})
    return Fit(model.spec, model.design, idata, {})


def test_savage_dickey_matches_the_conjugate_normal_closed_form():
    # known variance 1, n = 40 observations with mean 0.25, prior N(0.5, 1): the conjugate posterior
    n, ybar, m0, s0 = 40, 0.25, 0.5, 1.0
    sn = 1 / math.sqrt(1 / s0**2 + n)
    mn = sn**2 * (m0 / s0**2 + n * ybar)
    fit = _conjugate_fit(m0, s0, mn, sn)
    exact = stats.norm(mn, sn).pdf(0.0) / stats.norm(m0, s0).pdf(0.0)  # Bayes factor of mu = 0
    h = fit.hypothesis("Intercept = 0")
    assert h.details["prior_method"].iloc[0] == "normal fixed effects"
    assert h.details["prior_density"].iloc[0] == pytest.approx(stats.norm(m0, s0).pdf(0.0))
    assert h.table["evid_ratio"].iloc[0] == pytest.approx(exact, rel=0.05)
    assert h.table["post_prob"].iloc[0] == pytest.approx(exact / (1 + exact), rel=0.05)
    shifted = fit.hypothesis("Intercept = 0.3")  # a point inside the posterior
    ex2 = stats.norm(mn, sn).pdf(0.3) / stats.norm(m0, s0).pdf(0.3)
    assert shifted.table["evid_ratio"].iloc[0] == pytest.approx(ex2, rel=0.03)
    assert shifted.table["star"].iloc[0] == ""
    lo, hi = np.quantile(draws_of(fit.idata, "beta")[:, 0] - 0.3, [0.025, 0.975])
    assert (shifted.table["lower"].iloc[0], shifted.table["upper"].iloc[0]) == (pytest.approx(lo), pytest.approx(hi))


def test_savage_dickey_of_a_combination_of_coefficients(synthetic_fit):
    """Intercept + 5 Days: the prior of beta[Intercept] is the centred intercept's minus the slope times mean(Days)."""
    fit = synthetic_fit(SLEEP, bm.datasets.load("sleepstudy"), SLEEP_PARAMS, jitter=3.0, loglik=False)
    pi, pd_ = fit.spec.prior("Intercept").kwargs, fit.spec.prior("beta[Days]").kwargs
    m = 4.5  # mean of Days
    mean = pi["mu"] - m * pd_["mu"] + 5 * pd_["mu"] - 300
    var = pi["sigma"] ** 2 + (5 - m) ** 2 * pd_["sigma"] ** 2
    h = fit.hypothesis("Intercept + 5 * Days = 300")
    assert h.details["prior_density"].iloc[0] == pytest.approx(stats.norm(mean, math.sqrt(var)).pdf(0.0))


@pytest.mark.slow
def test_prior_draws_agree_with_the_closed_form():
    """A non-affine form of the same hypotheses goes through prior draws (PyMC's forward sampler) and gives
    the closed-form prior density within the kernel estimate's error."""
    n, ybar, m0, s0 = 40, 0.25, 0.5, 1.0
    sn = 1 / math.sqrt(1 / s0**2 + n)
    fit = _conjugate_fit(m0, s0, sn**2 * (m0 / s0**2 + n * ybar), sn)
    closed = fit.hypothesis(["Intercept = 0", "sd_g[Intercept] = 0.5"])
    drawn = fit.hypothesis(["Intercept ^ 1 = 0", "sd_g[Intercept] ^ 1 = 0.5"], prior_draws=40_000)
    assert list(drawn.details["prior_method"]) == ["prior draws", "prior draws"]
    assert list(closed.details["prior_method"]) == ["normal fixed effects", "closed form"]
    np.testing.assert_allclose(drawn.details["prior_density"], closed.details["prior_density"], rtol=0.05)
    assert np.isfinite(drawn.prior_draws[:, 0]).sum() == 40_000


@pytest.mark.slow
def test_sleepstudy_days_is_positive(sleep_fit):
    h = sleep_fit.hypothesis(["Days > 0", "Days = 0", "sd_Subject[Days] > 2", "corr_Subject[Intercept,Days] = 0"])
    t = h.table
    assert t["post_prob"].iloc[0] == 1.0 and t["star"].iloc[0] == "*"
    assert t["evid_ratio"].iloc[1] < 1e-3 and t["star"].iloc[1] == "*"  # the data speak against beta[Days] = 0
    assert t["post_prob"].iloc[2] > 0.95
    assert 0.5 < t["evid_ratio"].iloc[3] < 20 and t["star"].iloc[3] == ""  # a correlation near 0 is plausible
    from matplotlib.figure import Figure

    assert isinstance(h.plot(), Figure)
