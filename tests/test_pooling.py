"""Shrinkage and pooling factors (bayesmixed.pooling).

Fast tests check the reference fits (no pooling, complete pooling) against independent dense computations
(numpy least squares on dummy-coded designs, scipy maximum likelihood) and the pooling-factor formulas on
constructed posteriors. Slow tests check the issue's claims on fitted models: partial pooling lies between
no pooling and the population, shrinkage factors lie in [0, 1] and fall with group size (radon), and λ
approaches 1 (Dyestuff2) and 0 (simulated strong groups).
"""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from scipy import optimize, special, stats

import bayesmixed as bm
from bayesmixed import pooling as P
from bayesmixed._glm import _block_wls
from bayesmixed.design import build_design

from conftest import fit_model


def dummies(codes: np.ndarray, J: int) -> np.ndarray:
    return (codes[:, None] == np.arange(J)[None, :]).astype(float)


# ------------------------------------------------------------------------------ reference fits (fast)
def test_block_wls_matches_dense_least_squares():
    rng = np.random.default_rng(0)
    n, J = 300, 12
    codes = rng.integers(0, J, n)
    x1, z1 = rng.normal(size=n), rng.normal(size=n)
    Xf = np.column_stack([x1])
    Z = np.column_stack([np.ones(n), z1])
    w = rng.uniform(0.5, 2.0, n)
    y = rng.normal(size=n)
    beta, b, rank = _block_wls(Xf, Z, codes, J, w, y)
    D = dummies(codes, J)
    dense = np.column_stack([Xf, D, D * z1[:, None]])
    sw = np.sqrt(w)
    coef = np.linalg.lstsq(dense * sw[:, None], y * sw, rcond=None)[0]
    assert np.allclose(beta, coef[:1])
    assert np.allclose(b[:, 0], coef[1 : J + 1])
    assert np.allclose(b[:, 1], coef[J + 1 :])
    assert np.all(rank == 2)


def test_radon_no_and_complete_pooling_match_ols():
    d = build_design("log_radon ~ floor + (1 | county)", bm.datasets.load("radon"))
    blk = d.blocks[0]
    npool = P.no_pooling(d, "county", "gaussian", "identity")
    # lme4-style no pooling: y ~ floor + county (one intercept per county, shared floor slope)
    dense = np.column_stack([d.X[:, 1], dummies(blk.codes, blk.n_levels)])
    coef = np.linalg.lstsq(dense, d.y, rcond=None)[0]
    assert np.allclose(npool.estimate[:, 0], coef[1:])
    assert np.isclose(npool.shared["floor"], coef[0])
    assert all(n == "" for n in npool.note)
    # complete pooling: y ~ floor
    ols = np.linalg.lstsq(d.X, d.y, rcond=None)[0]
    assert np.allclose(P.complete_pooling(d, "county", "gaussian", "identity")[:, 0], ols[0])
    assert np.allclose(P.complete_fit(d, "county", "gaussian", "identity").to_numpy(), ols)


def test_group_level_predictor_is_part_of_the_level_coefficient():
    d = build_design("log_radon ~ floor + log_uranium + (1 | county)", bm.datasets.load("radon"))
    preds = P.level_predictors(d, d.blocks[0])
    assert [d.x_names[m] for m, _ in preds["Intercept"]] == ["log_uranium"]
    # no pooling absorbs uranium into the county intercepts: the same estimates as without it
    d0 = build_design("log_radon ~ floor + (1 | county)", bm.datasets.load("radon"))
    a = P.no_pooling(d, "county", "gaussian", "identity").estimate
    b = P.no_pooling(d0, "county", "gaussian", "identity").estimate
    assert np.allclose(a, b)
    # complete pooling: the regression line on uranium, evaluated for each county
    ols = np.linalg.lstsq(d.X, d.y, rcond=None)[0]
    u = preds["Intercept"][0][1]
    assert np.allclose(P.complete_pooling(d, "county", "gaussian", "identity")[:, 0], ols[0] + ols[2] * u)


def test_binomial_no_pooling_matches_scipy_maximum_likelihood():
    d = build_design("cbind(incidence, size - incidence) ~ period + (1 | herd)", bm.datasets.load("cbpp"))
    blk = d.blocks[0]
    J = blk.n_levels
    npool = P.no_pooling(d, "herd", "binomial", "logit")
    D = dummies(blk.codes, J)
    dense = np.column_stack([d.X[:, 1:], D])  # period dummies shared, one intercept per herd
    y, t = d.y, d.trials

    def nll(c):
        eta = dense @ c
        return -np.sum(y * eta - t * np.logaddexp(0, eta))

    def grad(c):
        return -dense.T @ (y - t * special.expit(dense @ c))

    ok = np.array([n == "" for n in npool.note])
    res = optimize.minimize(nll, np.zeros(dense.shape[1]), jac=grad, method="BFGS", options={"gtol": 1e-9})
    assert ok.all()  # every herd has both outcomes in cbpp
    assert np.allclose(npool.estimate[:, 0], res.x[3:], atol=1e-4)
    # complete pooling: glm(cbind(...) ~ period, binomial)
    res0 = optimize.minimize(
        lambda c: -np.sum(y * (d.X @ c) - t * np.logaddexp(0, d.X @ c)), np.zeros(4), method="BFGS",
        options={"gtol": 1e-9},
    )
    assert np.allclose(P.complete_fit(d, "herd", "binomial", "logit").to_numpy(), res0.x, atol=1e-4)


def test_no_pooling_marks_levels_without_an_estimate():
    rng = np.random.default_rng(2)
    g = np.repeat(["a", "b", "c", "d", "e"], 6)
    y = rng.integers(0, 2, g.size)
    y[g == "a"] = 0  # all failures
    y[g == "b"] = 1  # all successes
    y[g == "c"] = [0, 1, 0, 1, 1, 0]
    df = pd.DataFrame({"y": y, "g": g, "x": rng.normal(size=g.size)})
    d = build_design("y ~ x + (1 | g)", df)
    fitd = P.no_pooling(d, "g", "bernoulli", "logit")
    est = pd.Series(fitd.estimate[:, 0], index=d.blocks[0].levels)
    notes = pd.Series(fitd.note, index=d.blocks[0].levels)
    assert np.isnan(est["a"]) and "all failures" in notes["a"]
    assert np.isnan(est["b"]) and "all successes" in notes["b"]
    assert np.isfinite(est["c"]) and notes["c"] == ""
    # Poisson: a level with only zero counts
    counts = rng.poisson(3.0, g.size)
    counts[g == "e"] = 0
    d2 = build_design("y ~ 1 + (1 | g)", pd.DataFrame({"y": counts, "g": g}))
    f2 = P.no_pooling(d2, "g", "poisson", "log")
    assert np.isnan(f2.estimate[4, 0]) and "zero" in f2.note[4]
    assert np.allclose(f2.estimate[:4, 0], np.log([counts[g == k].mean() for k in "abcd"]))
    # slopes: one row for two coefficients, and a predictor that does not vary within the level
    df3 = pd.DataFrame({"y": rng.normal(size=9), "x": [0, 1, 2, 0, 1, 2, 5, 3, 3], "g": list("aaabbbcdd")})
    d3 = build_design("y ~ x + (x | g)", df3)
    f3 = P.no_pooling(d3, "g", "gaussian", "identity")
    notes3 = dict(zip(d3.blocks[0].levels, f3.note))
    assert "1 row(s) for 2 coefficients" in notes3["c"]
    assert "does not vary" in notes3["d"]
    assert np.all(np.isfinite(f3.estimate[:2]))


def test_quasi_separation_within_a_level_is_marked():
    # level "b": x separates its outcomes perfectly, so its own slope is infinite
    x = np.tile(np.linspace(-1, 1, 8), 3)
    g = np.repeat(["a", "b", "c"], 8)
    rng = np.random.default_rng(4)
    y = (rng.random(24) < special.expit(0.5 * x)).astype(int)
    y[g == "b"] = (x[g == "b"] > 0).astype(int)
    d = build_design("y ~ 1 + (x | g)", pd.DataFrame({"y": y, "x": x, "g": g}))
    f = P.no_pooling(d, "g", "bernoulli", "logit")
    notes = dict(zip(d.blocks[0].levels, f.note))
    assert "separation" in notes["b"]
    assert np.all(np.isnan(f.estimate[1]))


def _fake_idata(r: np.ndarray, label: str = "g", beta: float = 0.0, sd: float = 1.0, sigma: float = 1.0):
    S, J, k = r.shape
    post = {
        f"r_{label}": r.reshape(1, S, J, k),
        "beta": np.full((1, S, 1), beta),
        f"sd_{label}": np.full((1, S, k), sd),
        "sigma": np.full((1, S), sigma),
    }
    dims = {f"r_{label}": [label, f"{label}_coef"], "beta": ["coef"], f"sd_{label}": [f"{label}_coef"]}
    return az.from_dict(posterior=post, dims=dims)


def test_pooling_factor_formula_on_constructed_posteriors():
    df = pd.DataFrame({"y": np.arange(40.0), "g": np.repeat(list("abcdefghij"), 4)})
    d = build_design("y ~ 1 + (1 | g)", df)
    rng = np.random.default_rng(0)
    # no posterior uncertainty about distinct effects: no pooling, lambda = 0
    fixed = np.broadcast_to(rng.normal(size=(1, 10, 1)), (200, 10, 1)).copy()
    assert P.pooling_factor(_fake_idata(fixed), d, "g").loc["Intercept", "lambda"] == pytest.approx(0.0, abs=1e-12)
    # effects indistinguishable (every level's posterior the same around zero): lambda near 1
    noise = rng.normal(size=(4000, 10, 1))
    assert P.pooling_factor(_fake_idata(noise), d, "g").loc["Intercept", "lambda"] > 0.99
    # in between: lambda = 1 - V(E eps) / E(V eps), checked against a direct computation
    mix = fixed + 0.7 * rng.normal(size=(200, 10, 1))
    lam = P.pooling_factor(_fake_idata(mix), d, "g").loc["Intercept", "lambda"]
    e = mix[:, :, 0]
    assert lam == pytest.approx(1 - np.var(e.mean(0), ddof=1) / np.mean(np.var(e, axis=1, ddof=1)))
    # Gaussian omega = (sigma^2/n)/(sigma^2/n + tau^2): n = 4, sigma = 2, tau = 1 -> 1/2
    omega, ratio = P.level_pooling(_fake_idata(mix, sd=1.0, sigma=2.0), d, "gaussian", "identity", "g")
    assert np.allclose(omega, 0.5) and np.allclose(ratio, 1.0)


def test_recommendation_rule():
    assert P.recommend({"Intercept": 1.0}, "binomial", "logit", "noncentered")[0] == "centered"
    assert P.recommend({"Intercept": 0.0}, "binomial", "logit", "centered")[0] == "noncentered"
    rec, text = P.recommend({"Intercept": 0.0}, "binomial", "logit", "noncentered")
    assert rec == "noncentered" and text.startswith("keep non-centred")
    assert P.recommend({"Intercept": 0.5, "x": 0.5}, "gaussian", "identity", "noncentered")[0] == "marginal"
    assert P.recommend({"Intercept": 1.0}, "gaussian", "identity", "noncentered")[0] == "centered"
    assert P.recommend({"Intercept": 1.0}, "gaussian", "identity", "marginal")[0] == "marginal"


# ------------------------------------------------------------------------------ fitted models (slow)
def _mcse_of_means(fit, label: str) -> np.ndarray:
    """Monte Carlo standard error of the posterior mean of each level's coefficient."""
    theta = P.partial_pooling_draws(fit.idata, fit.design, label)[:, :, 0]
    C = fit.idata.posterior.sizes["chain"]
    ds = xr.Dataset({"t": (("chain", "draw", "level"), theta.reshape(C, -1, theta.shape[1]))})
    return az.mcse(ds, method="mean")["t"].values


def _between(x, a, b, tol) -> np.ndarray:
    return (x >= np.minimum(a, b) - tol) & (x <= np.maximum(a, b) + tol)


@pytest.mark.slow
@pytest.mark.parametrize("name,label", [("dyestuff_fit", "Batch"), ("radon_fit", "county")])
def test_partial_pooling_lies_between_no_pooling_and_the_population(name, label, request):
    """Gaussian random intercepts: given (β, τ, σ) a level's posterior mean is a weighted average of its own
    estimate and the population value, so the posterior mean lies between them and the shrinkage factor in
    [0, 1]. The posterior means are Monte Carlo estimates: a tolerance of 3 MCSE is allowed."""
    fit = request.getfixturevalue(name)
    sh = fit.shrinkage(label)
    assert list(sh.columns) == ["n", "no_pooling", "complete_pooling", "population", "partial_pooling", "lower",
                                "upper", "shrinkage", "omega", "info_ratio", "note"]
    tol = 3 * _mcse_of_means(fit, label)
    assert _between(sh.partial_pooling, sh.no_pooling, sh.population, tol).all()
    s = sh.shrinkage.to_numpy()
    denom = np.abs(sh.no_pooling - sh.population).to_numpy()
    assert np.all((s >= -tol / denom) & (s <= 1 + tol / denom))
    assert np.all((sh.lower <= sh.partial_pooling) & (sh.partial_pooling <= sh.upper))
    assert (sh.n == fit.design.block(label).counts()).all()


@pytest.mark.slow
def test_dyestuff_complete_pooling_is_the_population_and_partial_lies_between(dyestuff_fit):
    """Balanced, no covariates, a prior centred at the grand mean: the population mean's posterior mean is
    the complete-pooling estimate (the grand mean) up to Monte Carlo error, so the issue's claim holds with
    the complete-pooling estimate itself."""
    sh = dyestuff_fit.shrinkage("Batch")
    y = bm.datasets.load("Dyestuff")
    assert np.allclose(sh.complete_pooling, y.Yield.mean())
    assert np.allclose(sh.no_pooling, y.groupby("Batch").Yield.mean().loc[list(sh.index)])
    beta = dyestuff_fit.idata.posterior["beta"].sel(coef="Intercept").values
    mc = float(np.squeeze(az.mcse(beta, method="mean")))
    assert abs(sh.population.iloc[0] - sh.complete_pooling.iloc[0]) < 4 * mc
    tol = 3 * _mcse_of_means(dyestuff_fit, "Batch") + 4 * mc
    assert _between(sh.partial_pooling, sh.no_pooling, sh.complete_pooling, tol).all()
    # a ratio of differences: in [0, 1] up to Monte Carlo error over the distance to the population value (batch
    # B's own mean, 1528, is within half a unit of it, so its factor is a ratio of tiny differences)
    denom = np.abs(sh.no_pooling - sh.population).values
    s = sh.shrinkage.values
    assert np.all((s >= -tol / denom) & (s <= 1 + tol / denom))
    assert sh.shrinkage[denom > 3 * tol].between(0, 1).all() and (denom > 3 * tol).sum() >= 4


@pytest.mark.slow
def test_radon_small_counties_shrink_more(radon_fit):
    sh = radon_fit.shrinkage("county")
    rho = stats.spearmanr(sh.n, sh.shrinkage).statistic
    assert rho < -0.7, rho
    # the observed shrinkage follows the predicted pooling factor (σ²/n)/(σ²/n + τ²)
    assert stats.pearsonr(sh.omega, sh.shrinkage).statistic > 0.8
    assert sh.shrinkage.between(0, 1).mean() > 0.95
    # the complete-pooling column is the pooled regression, not the hierarchical population value
    d = radon_fit.design
    assert np.allclose(sh.complete_pooling, np.linalg.lstsq(d.X, d.y, rcond=None)[0][0])
    assert (sh.population > sh.complete_pooling).all()


@pytest.mark.slow
def test_shrinkage_of_correlated_terms_and_binomial(sleep_fit, cbpp_fit):
    sh = sleep_fit.shrinkage("Subject")
    assert sh.index.names == ["coef", "level"]
    assert set(sh.index.get_level_values("coef")) == {"Intercept", "Days"}
    days = sleep_fit.shrinkage("Subject", term="Days")
    assert days.index.name == "level" and len(days) == 18
    # no pooling = per-subject least squares lines
    data = bm.datasets.load("sleepstudy")
    one = data[data.Subject.astype(str) == "308"]
    assert np.allclose(days.loc["308", "no_pooling"], np.polyfit(one.Days, one.Reaction, 1)[0])
    with pytest.raises(KeyError, match="no varying coefficient"):
        sleep_fit.shrinkage("Subject", term="Nope")
    cb = cbpp_fit.shrinkage("herd")
    assert cb.no_pooling.notna().all() and (cb.note.str.contains("separation") == False).all()  # noqa: E712
    assert stats.spearmanr(cb.omega, cb.shrinkage).statistic > 0.3
    assert cb.shrinkage.median() > 0 and cb.omega.between(0, 1).all()


@pytest.mark.slow
def test_pooling_factor_near_one_for_dyestuff2(dyestuff2_fit, dyestuff_fit):
    p2 = dyestuff2_fit.pooling()
    lam2 = p2.loc[("Batch", "Intercept"), "lambda"]
    assert lam2 > 0.75, lam2
    assert p2.loc[("Batch", "Intercept"), "frac_strong"] == 0.0
    assert p2.loc[("Batch", "Intercept"), "n_eff_groups"] < 3
    lam1 = dyestuff_fit.pooling().loc[("Batch", "Intercept"), "lambda"]
    assert lam1 < lam2


@pytest.fixture(scope="module")
def strong_fit():
    """Ten groups of 200 rows with a large spread (τ = 5, σ = 1): every level is estimated on its own."""
    rng = np.random.default_rng(3)
    g = np.repeat(np.arange(10), 200)
    y = 10 + rng.normal(0, 5, 10)[g] + rng.normal(0, 1, g.size)
    return fit_model("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": [f"g{k}" for k in g]}))


@pytest.mark.slow
def test_pooling_factor_near_zero_for_strong_groups(strong_fit):
    p = strong_fit.pooling()
    row = p.loc[("g", "Intercept")]
    assert row["lambda"] < 0.01, row["lambda"]
    assert row["n_eff_groups"] > 9.9
    assert row["info_ratio"] > 1000 and row["frac_strong"] == 1.0
    sh = strong_fit.shrinkage("g")
    assert (sh.shrinkage < 0.05).all()


@pytest.mark.slow
def test_pooling_table(sleep_fit, radon_fit, cbpp_fit):
    p = sleep_fit.pooling()
    assert list(p.columns) == ["n_levels", "lambda", "r2", "n_eff_groups", "info_ratio", "frac_strong",
                               "parameterization", "recommendation", "advice"]
    assert list(p.index) == [("Subject", "Intercept"), ("Subject", "Days")]
    assert p["lambda"].between(0, 1).all() and (p["r2"] == 0).all()
    assert (p.n_eff_groups <= p.n_levels).all()
    # sleepstudy: ten days per subject, n_j τ²/σ² ≈ 10: strong data
    assert (p.frac_strong == 1.0).all()
    # radon: counties from 1 to 116 houses: mixed, so a Gaussian model is advised to marginalise
    r = radon_fit.pooling().loc[("county", "Intercept")]
    assert 0.2 < r.frac_strong < 0.8 and r.recommendation == "marginal"
    # cbpp (binomial, 56 rows): "auto" integrated the herds out by quadrature; the fitted posterior finds them
    # informative, and the advice keeps the quadrature while saying which sampled form would suit them
    c = cbpp_fit.pooling().loc[("herd", "Intercept")]
    assert c.parameterization == "quadrature" and c.recommendation == "quadrature"
    assert c.advice.startswith("keep quadrature") and "centred suits these data" in c.advice
    assert c.frac_strong >= 0.5


def test_omega_of_a_parent_term_counts_the_variance_of_the_nested_term(synthetic_fit):
    """Pastes-like data (casks within batches, the casks varying more): given the variance parameters, a batch's
    effect is shrunk by (τ_c²/3 + σ²/6) / (τ_b² + τ_c²/3 + σ²/6), not by the (σ²/6) / (σ²/6 + τ_b²) that
    ignores the casks. With the effects at their exact conditional means (Henderson's equations), ω equals the
    observed shrinkage of every batch."""
    import dataclasses

    rows = [(f"B{b:02d}", f"c{c}") for b in range(12) for c in range(3) for _ in range(2)]
    data = pd.DataFrame(rows, columns=["batch", "cask"])
    tb, tc, sig = 1.2, 3.0, 0.9
    params = {"beta": {"Intercept": 60.0}, "sd": {"batch": [tb], "batch:cask": [tc]}, "sigma": sig}
    data = bm.simulate("y ~ 1 + (1 | batch/cask)", data, params, seed=5)
    fit = synthetic_fit("y ~ 1 + (1 | batch/cask)", data, params, loglik=False)
    d = fit.design
    Zs = [np.eye(b.n_levels)[b.codes] for b in d.blocks]
    Z = np.hstack(Zs)
    X, y = np.asarray(d.X), np.asarray(d.y)
    Ginv = np.concatenate([np.full(b.n_levels, 1.0 / (tb if b.label == "batch" else tc) ** 2) for b in d.blocks])
    lhs = np.block([[X.T @ X, X.T @ Z], [Z.T @ X, Z.T @ Z + sig**2 * np.diag(Ginv)]])
    sol = np.linalg.solve(lhs, np.concatenate([X.T @ y, Z.T @ y]))
    beta, u = sol[:1], sol[1:]
    post = fit.idata.posterior
    shape = (post.sizes["chain"], post.sizes["draw"])
    new = {"beta": (post["beta"].dims, np.broadcast_to(beta, shape + (1,)).copy())}
    start = 0
    for b in d.blocks:
        r = u[start:start + b.n_levels, None]
        start += b.n_levels
        new[f"r_{b.label}"] = (post[f"r_{b.label}"].dims, np.broadcast_to(r, shape + r.shape).copy())
    fit = dataclasses.replace(fit, idata=az.InferenceData(posterior=post.assign(new)))
    table = fit.shrinkage("batch")
    expected = (tc**2 / 3 + sig**2 / 6) / (tb**2 + tc**2 / 3 + sig**2 / 6)
    np.testing.assert_allclose(table["omega"], expected, rtol=1e-9)
    np.testing.assert_allclose(table["shrinkage"], table["omega"], atol=1e-8)
    assert expected - (sig**2 / 6) / (sig**2 / 6 + tb**2) > 0.3  # what ω said before counting the casks
    # the casks themselves have nothing nested in them: their ω is the plain (σ²/2) / (σ²/2 + τ_c²)
    np.testing.assert_allclose(fit.shrinkage("batch:cask")["omega"], (sig**2 / 2) / (sig**2 / 2 + tc**2), rtol=1e-9)
