"""Static trajectories for fully marginal models (``fit(trajectory=...)``, ``sampling.choose_trajectory``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.errors import BayesMixedError
from bayesmixed.sampling import STATIC_MAX_DIM, STATIC_MIN_DEPTH, _static_depth, choose_trajectory

from conftest import FAST, assert_posteriors_agree


def test_auto_takes_static_trajectories_only_for_small_fully_marginal_nutpie_models():
    assert choose_trajectory("auto", "nutpie", marginal=True, n_dim=4) == "static"
    assert choose_trajectory("auto", "nutpie", marginal=True, n_dim=STATIC_MAX_DIM + 1) == "nuts"
    assert choose_trajectory("auto", "nutpie", marginal=False, n_dim=4) == "nuts"
    assert choose_trajectory("auto", "pymc", marginal=True, n_dim=4) == "nuts"
    assert choose_trajectory("nuts", "nutpie", marginal=True, n_dim=4) == "nuts"
    assert choose_trajectory("static", "nutpie", marginal=False, n_dim=500) == "static"
    with pytest.raises(BayesMixedError, match="trajectory must be 'auto', 'nuts' or 'static', got 'short'"):
        choose_trajectory("short", "nutpie")
    with pytest.raises(BayesMixedError, match="needs the nutpie sampler"):
        choose_trajectory("static", "pymc")


def test_bad_trajectory_is_refused_before_compiling(monkeypatch):
    import bayesmixed.backends.pymc as backend

    def no_build(*a, **k):
        raise AssertionError("the model was built")

    monkeypatch.setattr(backend, "build_model", no_build)
    model = bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"))
    with pytest.raises(BayesMixedError, match="got 'long'"):
        model.fit(draws=10, tune=10, chains=1, trajectory="long")
    with pytest.raises(BayesMixedError, match="needs the nutpie sampler"):
        model.fit(draws=10, tune=10, chains=1, trajectory="static", sampler="pymc")


@pytest.mark.slow
def test_static_trajectories_sample_a_known_distribution():
    """nutpie with ``check_turning=False`` (what ``"static"`` runs): quantiles of a skewed, a heavy-tailed and a
    normal coordinate match the exact ones within 4.5 Monte Carlo standard errors."""
    import arviz as az
    import nutpie
    import pymc as pm
    from scipy import stats

    with pm.Model() as model:
        pm.Gamma("g", alpha=3.0, beta=2.0)
        pm.StudentT("t", nu=5.0, mu=1.0, sigma=2.0)
        pm.Normal("n", mu=-1.0, sigma=0.5, shape=2)
    exact = {"g": stats.gamma(3.0, scale=0.5), "t": stats.t(5.0, loc=1.0, scale=2.0), "n": stats.norm(-1.0, 0.5)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idata = nutpie.sample(nutpie.compile_pymc_model(model), draws=3000, tune=1000, chains=4, seed=3,
                              progress_bar=False, check_turning=False, maxdepth=3)
    ss = idata.sample_stats
    assert (ss["n_steps"].values == 2**3 - 1).all() and int(ss["diverging"].sum()) == 0
    for name, dist in exact.items():
        draws = idata.posterior[name].values.reshape(4, 3000, -1)
        for j in range(draws.shape[-1]):
            x = draws[..., j]
            for prob in (0.05, 0.25, 0.5, 0.75, 0.95):
                err = float(az.mcse(x, method="quantile", prob=prob))
                assert abs(np.quantile(x, prob) - dist.ppf(prob)) < 4.5 * err, (name, j, prob)


@pytest.mark.slow
def test_pilot_sets_the_static_length_from_nuts_trajectories():
    """Independent normals: NUTS's trajectories are short, the static length is the minimum (7 steps); a
    correlation of 0.995 under a diagonal metric makes them long, and the static ones follow; one of
    0.999999 needs more than 63 steps, and NUTS stays."""
    import nutpie
    import pymc as pm

    def depth(rho):
        with pm.Model() as model:
            pm.MvNormal("x", mu=np.zeros(2), cov=np.array([[1.0, rho], [rho, 1.0]]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _static_depth(nutpie.compile_pymc_model(model), seed=1, cores=2, target_accept=0.9)

    d0, q0 = depth(0.0)
    d1, q1 = depth(0.995)
    d2, q2 = depth(0.999999)
    assert d0 == STATIC_MIN_DEPTH and q0 <= 7
    assert d1 is not None and d1 > STATIC_MIN_DEPTH and q1 <= 2**d1 - 1
    assert d2 is None and q2 > 63


@pytest.mark.slow
def test_marginal_fits_run_static_and_say_so(sleep_fit, cbpp_fit):
    assert sleep_fit.sampler_info["trajectory"] == "static"
    # cbpp's herd term is integrated out by quadrature by default: only the four β remain, so static too
    assert dict(cbpp_fit.spec.parameterization) == {"herd": "quadrature"}
    assert cbpp_fit.sampler_info["trajectory"] == "static"
    ss = sleep_fit.idata.sample_stats
    steps = sleep_fit.sampler_info["static_steps"]
    assert steps >= 2**STATIC_MIN_DEPTH - 1 and sleep_fit.sampler_info["pilot_nuts_steps_q90"] <= steps
    assert (ss["n_steps"].values == steps).all()
    assert bool(ss["maxdepth_reached"].values.all())  # the statistics stay as nutpie wrote them
    d = sleep_fit.diagnose()
    assert d.static_trajectories and d.by_kind("tree_depth") == []
    assert "tree depth       fixed" in str(d)


@pytest.mark.slow
def test_static_and_nuts_posteriors_agree_on_radon_slopes():
    """radon ``(floor | county)``, marginal: the same posterior (means within 4.5 combined MCSE, the 85 counties'
    effects included) whether the trajectories are static or NUTS's."""
    model = bm.Model("log_radon ~ floor + (floor | county)", bm.datasets.load("radon"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        static = model.fit(**FAST, trajectory="auto")
        nuts = model.fit(**FAST, trajectory="nuts")
    assert static.sampler_info["trajectory"] == "static" and nuts.sampler_info["trajectory"] == "nuts"
    assert static.divergences == nuts.divergences == 0
    assert_posteriors_agree(static, nuts, ["beta", "sd_county", "corr_county", "sigma", "r_county"])


@pytest.mark.slow
def test_summary_names_the_trajectories(sleep_fit, cbpp_fit):
    assert "sampled with nutpie HMC, static trajectories of" in str(sleep_fit.summary())
    assert "sampled with nutpie HMC, static trajectories of" in str(cbpp_fit.summary())
    assert "quadrature" in str(cbpp_fit.summary())
