"""Simulation-based calibration: rank statistics, the uniformity test, prior draws, and a smoke run on Dask.

The full calibration (100 simulations per model) runs outside the suite: ``python benchmarks/sbc.py``,
results in docs/sbc.md.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.calibrate import Calibration, _rank, _refit_sim, calibrate, prior_draws
from bayesmixed.simulate import draw_from_design


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(8)], 5), "x": rng.normal(size=40)})
    return bm.simulate("y ~ x + (1 | g)", d, {"beta": [1.0, 0.5], "sd": {"g": 0.8}, "sigma": 1.0}, seed=2)


def _cal(ranks: dict[str, np.ndarray], L: int = 99, bins: int = 10) -> Calibration:
    r = pd.DataFrame(ranks)
    fits = pd.DataFrame({"divergences": 0, "max_rhat": 1.0, "min_ess_bulk": 400.0, "seconds": 1.0}, index=r.index)
    return Calibration(ranks=r, truths=r * 0.0, fits=fits, L=L, bins=bins, alpha=0.05, label="test")


def test_rank_counts_draws_below_the_truth():
    post = np.arange(1000, dtype=float)  # evenly thinned to 0, ~10.1, ..., 999
    rng = np.random.default_rng(0)
    assert _rank(post, -1.0, 99, rng) == 0
    assert _rank(post, 1e6, 99, rng) == 99
    assert _rank(post, 500.0, 99, rng) in (49, 50)


def test_uniformity_test_accepts_uniform_and_rejects_skewed_ranks():
    rng = np.random.default_rng(1)
    uniform = rng.integers(0, 100, size=400)
    # an overdispersed posterior puts the truth near the middle too often: a hump of ranks
    humped = np.clip(np.round(rng.normal(50, 12, size=400)), 0, 99).astype(int)
    # a biased posterior puts it at one end
    biased = np.minimum(rng.integers(0, 100, size=400), rng.integers(0, 100, size=400))
    t = _cal({"u": uniform, "hump": humped, "bias": biased}).table()
    assert t.loc["u", "passed"]
    assert not t.loc["hump", "passed"] and not t.loc["bias", "passed"]
    assert t.loc["hump", "p_value"] < 1e-6 and t.loc["bias", "p_value"] < 1e-6
    assert t.loc["u", "df"] == 9
    assert (t["threshold"] == 0.05 / 3).all()


def test_prior_draws_follow_the_priors(small):
    priors = {"sd_g": bm.Prior("half_normal", sigma=2.0), "sigma": bm.Prior("exponential", lam=0.5)}
    m = bm.Model("y ~ x + (1 | g)", small, parameterization="noncentered", priors=priors)
    draws = prior_draws(m.spec, m.design, 4000, seed=1)
    assert set(draws) == {"beta", "sd_g", "sigma"}
    assert draws["beta"].shape == (4000, 2) and draws["sd_g"].shape == (4000, 1)
    expected = 2.0 * np.sqrt(2 / np.pi)  # mean of a half-normal(2)
    assert abs(draws["sd_g"].mean() - expected) < 0.05 * expected
    assert abs(draws["sigma"].mean() - 2.0) < 0.1  # mean of an exponential(0.5)
    assert (draws["sigma"] > 0).all()


def test_draw_from_design_is_the_core_of_simulate(small):
    params = {"beta": [1.0, 0.5], "sd": {"g": 0.8}, "sigma": 1.0}
    sim = bm.simulate("y ~ x + (1 | g)", small, params, seed=7)
    m = bm.Model("y ~ x + (1 | g)", small)
    y, effects = draw_from_design(
        m.design, "gaussian", "identity", np.array([1.0, 0.5]), {"g": np.array([0.8])}, {"g": np.eye(1)},
        {"sigma": 1.0}, np.random.default_rng(7),
    )
    np.testing.assert_allclose(y, sim["y"].to_numpy())
    assert list(effects) == ["g"] and effects["g"].shape == (8, 1)


def test_bad_settings_are_named(small):
    m = bm.Model("y ~ x + (1 | g)", small)
    with pytest.raises(bm.BayesMixedError, match="multiple of bins"):
        calibrate(m, n_sims=2, L=50, bins=10)
    with pytest.raises(bm.BayesMixedError, match="more than the 200 posterior draws"):
        calibrate(m, n_sims=2, L=399, draws=100, chains=2)
    with pytest.raises(bm.BayesMixedError, match="n_sims"):
        calibrate(m, n_sims=0)


def test_a_failed_refit_is_recorded_and_fails_the_calibration(small):
    m = bm.Model("y ~ x + (1 | g)", small)
    settings = dict(draws=10, tune=10, chains=1, sampler="no-such-sampler", target_accept=0.9)
    out = _refit_sim(0, m.design.y, {}, 1, settings, 9, spec=m.spec, design=m.design)
    assert out["ranks"] is None and "no-such-sampler" in out["error"]
    rng = np.random.default_rng(2)
    cal = _cal({"u": rng.integers(0, 100, size=400)})
    assert cal.passed
    cal.fits["error"] = None
    cal.fits.loc[3, "error"] = out["error"]
    assert not cal.passed and list(cal.failed.index) == [3]
    assert "1 refits FAILED" in str(cal)


@pytest.mark.slow
def test_smoke_calibration_on_a_local_cluster(small):
    m = bm.Model("y ~ x + (1 | g)", small, parameterization="marginal")
    before = small.copy(deep=True)
    cal = calibrate(m, n_sims=6, draws=100, tune=200, chains=2, L=19, bins=5, seed=3, n_workers=1,
                    progressbar=False)
    pd.testing.assert_frame_equal(small, before)
    assert list(cal.ranks.columns) == ["beta[Intercept]", "beta[x]", "sd_g[Intercept]", "sigma"]
    assert cal.ranks.shape == (6, 4)
    assert ((cal.ranks >= 0) & (cal.ranks <= 19)).all().all()
    # ranks are not all equal: the truths differ between simulations and the posteriors follow them
    assert cal.ranks.nunique().min() > 1
    assert cal.truths["sd_g[Intercept]"].nunique() == 6
    assert (cal.fits["max_rhat"] < 1.2).all()
    assert cal.fits["error"].isna().all() and cal.failed.empty
    t = cal.table()
    assert set(t.index) == set(cal.ranks.columns) and t["p_value"].between(0, 1).all()
    fig = cal.plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 4
    assert "Simulation-based calibration" in str(cal)
