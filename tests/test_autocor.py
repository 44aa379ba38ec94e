"""Residual correlation of Gaussian models: ``ar(time =, gr =)`` (AR(1), exact conditional density) and
``cosy(gr =)`` (compound symmetry as a random intercept, exactly).

The exactness tests compare the model's log density with the multivariate normal density of the response
under the stated covariance; the slow test compares a fit of nlme's Ovary data with ``nlme::lme(correlation =
corAR1())`` (numbers from ``tests/data/smooth/make_fits.R``, stored in ``fits.json``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.backends.pymc import build_model
from bayesmixed.design import build_design
from bayesmixed.loglik import pointwise_loglik
from bayesmixed.marginal import fixed_design

FITS = json.loads((Path(__file__).parent / "data" / "smooth" / "fits.json").read_text())


def _series() -> pd.DataFrame:
    """Three series with gaps in time, rows shuffled."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"g": np.repeat(["a", "b", "c"], 5), "t": np.tile([1, 2, 4, 5, 9], 3),
                       "x": rng.normal(size=15), "y": rng.normal(size=15)})
    return df.iloc[rng.permutation(15)].reset_index(drop=True)


def _ar_cov(df: pd.DataFrame, phi: float, sigma: float) -> np.ndarray:
    same = df["g"].to_numpy()[:, None] == df["g"].to_numpy()[None, :]
    lag = np.abs(df["t"].to_numpy()[:, None] - df["t"].to_numpy()[None, :])
    return sigma**2 * np.where(same, phi ** lag.astype(float), 0.0)


def test_series_structure():
    df = _series()
    d = build_design("y ~ x + ar(time = t, gr = g)", df)
    ac = d.autocor
    for i in range(len(df)):
        if ac.prev[i] < 0:
            assert df["t"][i] == df[df["g"] == df["g"][i]]["t"].min()
        else:
            j = ac.prev[i]
            assert df["g"][j] == df["g"][i]
            earlier = df[(df["g"] == df["g"][i]) & (df["t"] < df["t"][i])]["t"]
            assert df["t"][j] == earlier.max() and ac.lag[i] == df["t"][i] - df["t"][j]


def test_ar_row_order_when_time_is_omitted():
    df = _series().sort_values(["g", "t"]).reset_index(drop=True)
    a = build_design("y ~ x + ar(gr = g)", df).autocor
    assert np.array_equal(a.lag, np.tile([0.0, 1, 1, 1, 1], 3))


@pytest.mark.parametrize("phi", [-0.6, 0.0, 0.45, 0.9])
def test_ar1_likelihood_is_the_multivariate_normal_density(phi):
    """The model's log density of y (PyMC graph) and the pointwise log-likelihood (NumPy) both add up to the
    multivariate normal density with covariance σ² φ^|t − s| within each series, gaps in time included."""
    df = _series()
    model = bm.Model("y ~ x + ar(time = t, gr = g)", df)
    pm_model = build_model(model.spec, model.design)
    W, means, scales = fixed_design(model.design)
    gamma = np.array([0.3, -0.7])
    sigma = 1.3
    eta = W @ gamma
    point = {"sigma_log__": np.log(sigma), "_Intercept_c": gamma[0], "_b": gamma[1:],
             "_ar_interval__": np.log((phi + 1) / (1 - phi))}
    logp_y = pm_model.compile_fn(pm_model.logp(vars=[pm_model["y"]]))(point)
    mvn = stats.multivariate_normal(eta, _ar_cov(df, phi, sigma)).logpdf(df["y"].to_numpy())
    assert logp_y == pytest.approx(mvn, rel=1e-10)
    beta = np.array([gamma[0] - gamma[1] / scales[0] * means[0], gamma[1] / scales[0]])
    idata = az.from_dict(posterior={"beta": beta[None, None, :], "sigma": np.full((1, 1), sigma),
                                    "ar": np.full((1, 1, 1), phi)})
    ll = pointwise_loglik(idata, model.design, "gaussian", "identity")
    assert ll.sum() == pytest.approx(mvn, rel=1e-10)


@pytest.mark.parametrize("rho", [0.0, 0.35, 0.8])
def test_compound_symmetry_is_exact(rho):
    """With cosy(gr = g) the (marginal) likelihood is the multivariate normal density with covariance
    σ² ((1 − ρ) I + ρ J) within each group."""
    df = _series()
    model = bm.Model("y ~ x + cosy(gr = g)", df)
    assert dict(model.spec.parameterization) == {"cosy(g)": "marginal"}
    pm_model = build_model(model.spec, model.design, integrate_fixed=False)
    W, _, _ = fixed_design(model.design)
    gamma, sigma = np.array([0.2, 0.5]), 0.9
    rho_t = np.log(max(rho, 1e-300) / (1 - rho)) if rho > 0 else -745.0
    point = {"sigma_log__": np.log(sigma), "cosy_interval__": rho_t, "_Intercept_c": gamma[0], "_b": gamma[1:]}
    pot = pm_model.replace_rvs_by_values([pm_model.potentials[0]])[0]
    got = pm_model.compile_fn(pot)(point)
    same = (df["g"].to_numpy()[:, None] == df["g"].to_numpy()[None, :]).astype(float)
    cov = sigma**2 * ((1 - rho) * np.eye(len(df)) + rho * same)
    want = stats.multivariate_normal(W @ gamma, cov).logpdf(df["y"].to_numpy())
    assert got == pytest.approx(want, rel=1e-9)


def test_auto_samples_the_random_effects_with_ar():
    o = bm.datasets.load("Ovary")
    o["Visit"] = o.groupby("Mare").cumcount() + 1
    m = bm.Model("follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare) + ar(time = Visit, gr = Mare)", o)
    assert dict(m.spec.parameterization)["Mare"] in ("centered", "noncentered")
    assert "ar" in m.spec.prior_dict()


def test_user_data_not_modified_and_columns_required():
    df = _series()
    before = df.copy()
    build_design("y ~ x + ar(time = t, gr = g)", df)
    pd.testing.assert_frame_equal(df, before)
    with pytest.raises(bm.DataError, match="column 't'"):
        build_design("y ~ x + ar(time = t, gr = g)", df.drop(columns="t"))


@pytest.mark.slow
def test_ovary_ar1_agrees_with_nlme(tmp_path):
    """follicles ~ sin(2πTime) + cos(2πTime) + (1 | Mare) with AR(1) residuals (nlme's corAR1 over the
    visits of each mare): nlme's φ, σ and fixed effects inside the 90 % posterior intervals."""
    o = bm.datasets.load("Ovary")
    o["Visit"] = o.groupby("Mare").cumcount() + 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare) + ar(time = Visit, gr = Mare)",
                       o).fit(draws=500, tune=500, chains=2, seed=1)
    ref = FITS["ovary"]
    post = fit.idata.posterior
    checks = {"ar": (post["ar"].values.ravel(), ref["phi"]), "sigma": (post["sigma"].values.ravel(), ref["sigma"])}
    beta = post["beta"].values.reshape(-1, 3)
    for j in range(3):
        checks[fit.design.x_names[j]] = (beta[:, j], ref["fixef"][j])
    for name, (x, value) in checks.items():
        assert np.quantile(x, 0.05) < value < np.quantile(x, 0.95), name
    vc = fit.varcorr()
    assert (vc["term"] == "ar[1]").any()
    assert fit.idata.log_likelihood["y"].shape[-1] == len(o)
    fit.save(tmp_path / "ovary.bmfit")
    back = bm.load(tmp_path / "ovary.bmfit")
    assert np.array_equal(back.design.autocor.prev, fit.design.autocor.prev)
