"""Prior predictive draws in every parameterisation match the priors (Kolmogorov-Smirnov tests against the
priors' distributions and exact moments), and every predictive-check figure renders (Agg)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.errors import DataError
from bayesmixed.ppc import PP_KINDS, prior_predictive_spec

matplotlib.use("Agg")

SLEEP = "Reaction ~ Days + (Days | Subject)"
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
P_MIN = 1e-3  # each KS test; seeds are fixed, so a pass is reproducible


def render(fig) -> None:
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


def _scipy(p: bm.Prior):
    kw = p.kwargs
    return {
        "normal": lambda: stats.norm(kw["mu"], kw["sigma"]),
        "exponential": lambda: stats.expon(scale=1 / kw["lam"]),
        "half_normal": lambda: stats.halfnorm(scale=kw["sigma"]),
        "half_student_t": lambda: stats.t(kw["nu"], 0, kw["sigma"]),  # of |x|: compared through the folded cdf
    }[p.dist]()


def _ks(x: np.ndarray, p: bm.Prior) -> float:
    d = _scipy(p)
    if p.dist == "half_student_t":
        return stats.kstest(x, lambda v: 2 * d.cdf(v) - 1).pvalue
    return stats.kstest(x, d.cdf).pvalue


def test_prior_predictive_spec_is_non_centred_where_needed():
    sleep = bm.datasets.load("sleepstudy")
    m = bm.Model(SLEEP, sleep)
    assert dict(m.spec.parameterization) == {"Subject": "marginal"}
    assert dict(prior_predictive_spec(m.spec, m.design).parameterization) == {"Subject": "noncentered"}
    c = bm.Model(SLEEP, sleep, parameterization="centered")
    assert prior_predictive_spec(c.spec, c.design).parameterization == c.spec.parameterization
    assert prior_predictive_spec(m.spec, m.design).priors == m.spec.priors


@pytest.mark.slow
@pytest.mark.parametrize("param", ["marginal", "noncentered", "centered"])
def test_prior_draws_match_the_priors_in_every_parameterisation(param):
    sleep = bm.datasets.load("sleepstudy")
    m = bm.Model(SLEEP, sleep, parameterization=param)
    idata = m.sample_prior_predictive(draws=4000, seed=2)
    assert set(idata.groups()) == {"prior", "prior_predictive", "observed_data"}
    pr = idata.prior
    assert not any(v.startswith("_") for v in pr.data_vars)
    beta = pr["beta"].values[0]
    assert _ks(beta[:, 1], m.spec.prior("beta[Days]")) > P_MIN
    # the intercept's prior is on centred predictors: beta[Intercept] = alpha - mean(Days) beta[Days]
    a, b = m.spec.prior("Intercept").kwargs, m.spec.prior("beta[Days]").kwargs
    mean_days = sleep["Days"].mean()
    icpt = bm.Prior("normal", mu=a["mu"] - mean_days * b["mu"], sigma=np.hypot(a["sigma"], mean_days * b["sigma"]))
    assert _ks(beta[:, 0], icpt) > P_MIN
    sd = pr["sd_Subject"].values[0]
    for j, c in enumerate(("Intercept", "Days")):
        assert _ks(sd[:, j], m.spec.prior(f"sd_Subject[{c}]")) > P_MIN
    corr = pr["corr_Subject"].values[0][:, 0, 1]  # LKJ(1) on 2 x 2: uniform on (-1, 1)
    assert stats.kstest(corr, stats.uniform(-1, 2).cdf).pvalue > P_MIN
    sigma = pr["sigma"].values[0]
    assert _ks(sigma, m.spec.prior("sigma")) > P_MIN
    r = pr["r_Subject"].values[0]  # (draws, 18, 2): each coefficient N(0, sd) given sd, level by level
    for j in range(2):
        assert stats.kstest((r[:, :, j] / sd[:, None, j]).ravel()[::7], stats.norm().cdf).pvalue > P_MIN
    rho = np.mean(r[:, :, 0] * r[:, :, 1] / (sd[:, None, 0] * sd[:, None, 1]), axis=1)
    assert np.corrcoef(rho, corr)[0, 1] > 0.9  # the effects carry the drawn correlation
    y = idata.prior_predictive["y"].values[0]  # (draws, 180)
    days = sleep["Days"].to_numpy()
    codes = m.design.block("Subject").codes
    eta = beta[:, [0]] + beta[:, [1]] * days + r[:, codes, 0] + r[:, codes, 1] * days
    z = ((y - eta) / sigma[:, None]).ravel()[::11]
    assert stats.kstest(z, stats.norm().cdf).pvalue > P_MIN
    np.testing.assert_array_equal(idata.observed_data["y"].values, sleep["Reaction"].to_numpy())


@pytest.mark.slow
@pytest.mark.parametrize("param", ["noncentered", "centered"])
def test_binomial_prior_predictive(param):
    cbpp = bm.datasets.load("cbpp")
    m = bm.Model(CBPP, cbpp, family="binomial", parameterization=param)
    idata = m.sample_prior_predictive(draws=2000, seed=3)
    y = idata.prior_predictive["y"].values[0]
    assert np.all((y >= 0) & (y <= cbpp["size"].to_numpy()) & (y == np.round(y)))
    beta = idata.prior["beta"].values[0]
    assert _ks(beta[:, 2], m.spec.prior("beta[period3]")) > P_MIN
    assert _ks(idata.prior["sd_herd"].values[0][:, 0], m.spec.prior("sd_herd[Intercept]")) > P_MIN
    same = m.sample_prior_predictive(draws=2000, seed=3)
    np.testing.assert_array_equal(same.prior_predictive["y"].values, idata.prior_predictive["y"].values)
    render(m.pp_check("bars", idata=idata))
    render(m.pp_check("stat", stat="max", idata=idata, group="period"))


@pytest.mark.slow
def test_every_pp_check_renders(sleep_fit, cbpp_fit):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for kind in PP_KINDS:
        render(cbpp_fit.pp_check(kind))
    for kind in ("dens_overlay", "hist", "stat", "intervals", "loo_pit"):
        render(sleep_fit.pp_check(kind))
    render(sleep_fit.pp_check("stat", stat="sd", group="Subject"))
    render(sleep_fit.pp_check("stat", stat=lambda a: np.quantile(a, 0.9)))
    render(sleep_fit.pp_check("intervals", x="Days"))
    render(bm.Model(SLEEP, bm.datasets.load("sleepstudy")).pp_check("dens_overlay", draws=50, seed=1))
    assert plt.get_fignums() == before
    with pytest.raises(DataError, match="discrete responses"):
        sleep_fit.pp_check("rootogram")
    with pytest.raises(DataError, match="kind must be one of"):
        sleep_fit.pp_check("violin")
    with pytest.raises(DataError, match="not a column"):
        sleep_fit.pp_check("stat", group="Nope")


@pytest.mark.slow
def test_stat_p_value_is_the_share_of_replicates(cbpp_fit):
    """The p-value printed on the stat panel is P(T(y_rep) >= T(y)) over the replicated data sets."""
    from bayesmixed.plots import replicates

    fig = cbpp_fit.pp_check("stat", stat="mean", n_draws=400, seed=2)
    text = [t.get_text() for t in fig.axes[0].texts][0]
    yrep = replicates(cbpp_fit, 400, 2)
    p = np.mean(yrep.mean(axis=1) >= cbpp_fit.design.y.mean())
    assert text == f"p = {p:.2f}"
