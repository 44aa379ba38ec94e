"""brms's response terms ``y | weights(w) + cens(c, y2) + trunc(lb, ub)``: parsing, checks of the data, the
NumPy log-likelihood against SciPy, the PyMC potential against the NumPy one, truncated draws, and (slow) one
short fit through predict, LOO and save/load."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.families import bounds, get_family
from bayesmixed.formula import parse_formula


def _frame(n=60, seed=1):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "y": rng.weibull(1.5, n) * 3.0,
        "x": rng.normal(size=n),
        "g": np.repeat(np.arange(6), n // 6),
        "c": rng.choice(["none", "right", "left"], n),
        "w": rng.uniform(0.5, 2.0, n),
    })


def test_parser_reads_brms_response_terms_and_keeps_trials():
    r = parse_formula("y | weights(w) + cens(c, y2) + trunc(lb = 0, ub = 10) ~ x + (1 | g)").response
    assert r.has_terms and r.weights is not None and r.cens is not None and r.y2 is not None
    assert r.lb is not None and r.ub is not None
    r2 = parse_formula("s | trials(n) + weights(w) ~ x").response
    assert r2.weights is not None and r2.cens is None
    assert not parse_formula("y ~ x").response.has_terms


@pytest.mark.parametrize("formula, data, pattern", [
    ("y | weights(w) ~ x", {"w": -1.0}, r"weights\(w\) must be positive"),
    ("y | cens(c) ~ x", {"c": "sideways"}, r"no censoring codes"),
    ("y | cens(c) ~ x", {"c": "interval"}, r"interval-censored but cens\(c\) has no upper ends"),
    ("y | trunc(ub = 1) ~ x", {}, r"outside the truncation bounds"),
    ("y | trunc(lb = 5, ub = 1) ~ x", {}, r"lower bound is not below the upper bound"),
])
def test_bad_response_terms_raise_clear_errors(formula, data, pattern):
    df = _frame()
    for k, v in data.items():
        df.loc[3, k] = v
    with pytest.raises(bm.BayesMixedError, match=pattern):
        build_design(parse_formula(formula), df)


def test_censoring_needs_a_cdf_and_autocorrelation_is_refused():
    df = _frame()
    with pytest.raises(bm.BayesMixedError, match="cumulative distribution"):
        bm.Model("y | cens(c) ~ x + (1 | g)", df, family="skew_normal").spec  # noqa: B018
    df["t"] = np.tile(np.arange(10), 6)
    with pytest.raises(bm.BayesMixedError, match="do not combine"):
        bm.Model("y | weights(w) ~ x + ar(time = t, gr = g)", df, family="gaussian").spec  # noqa: B018


def test_numpy_log_likelihood_is_scipys_censored_truncated_and_weighted():
    """Right/left/interval censoring as log survival / log CDF / CDF difference (Weibull, brms's scale
    μ/Γ(1 + 1/k)); discrete truncation with an inclusive lower bound (Poisson, lb = 1); weights multiply."""
    y = np.array([0.5, 1.5, 2.0, 3.0])
    eta = np.log(np.array([1.0, 2.0, 3.0, 1.5]))
    k = 1.7
    fam = get_family("weibull")
    d = stats.weibull_min(k, scale=np.exp(eta) / special.gamma(1 + 1 / k))
    cens = np.array([0, 1, -1, 2], dtype=np.int8)
    y2 = np.array([0.0, 0.0, 0.0, 4.5])
    w = np.array([1.0, 2.0, 0.5, 3.0])
    got = bounds.logpdf(fam, y, eta, {"shape": np.asarray(k)}, cens=cens, y2=y2, weights=w)
    want = np.array([d.logpdf(y)[0], d.logsf(y)[1], d.logcdf(y)[2], np.log(d.cdf(y2)[3] - d.cdf(y)[3])]) * w
    np.testing.assert_allclose(got, want, rtol=1e-10)

    pois = get_family("poisson")
    yc = np.array([1.0, 2.0, 7.0])
    ec = np.log(np.array([0.7, 2.0, 5.0]))
    lb, ub = np.array([1.0, 1.0, 1.0]), np.array([np.inf, 5.0, 9.0])
    got = bounds.logpdf(pois, yc, ec, {}, lb=lb, ub=ub)
    mu = np.exp(ec)
    want = stats.poisson.logpmf(yc, mu) - np.log(stats.poisson.cdf(ub, mu) - stats.poisson.cdf(lb - 1, mu))
    np.testing.assert_allclose(got, want, rtol=1e-10)


def test_pymc_potential_equals_the_numpy_log_likelihood():
    """The model's likelihood potential at a chosen point (group effects 0, slope 0, so η is the intercept)
    is the sum of :func:`bounds.logpdf` there (non-centred, so that a zero group effect is a zero value), for a censored and weighted Weibull model."""
    df = _frame()
    m = bm.Model("y | weights(w) + cens(c) ~ x + (1 | g)", df, family="weibull", parameterization="noncentered")
    model = m.build()
    point = model.initial_point()
    point["shape_log__"] = np.asarray(np.log(1.4))
    [name] = [k for k in point if k.startswith("_Intercept")]
    point[name] = np.asarray(0.8)
    [graph] = model.replace_rvs_by_values([model["_loglik"]])
    pot = model.compile_fn(graph, inputs=model.value_vars, on_unused_input="ignore", point_fn=True)(point)
    rt = m.design.response_terms
    eta = np.full(len(df), 0.8)
    want = bounds.logpdf(get_family("weibull"), m.design.y, eta, {"shape": np.asarray(1.4)}, **rt.arrays()).sum()
    assert float(np.sum(pot)) == pytest.approx(want, rel=1e-8)


@pytest.mark.parametrize("family, lb, ub", [("poisson", 1.0, np.inf), ("gaussian", -0.5, 0.7), ("weibull", 0.0, 0.3)])
def test_truncated_draws_stay_inside_and_have_the_truncated_mean(family, lb, ub):
    fam = get_family(family)
    aux = {"sigma": np.asarray(1.0)} if family == "gaussian" else {"shape": np.asarray(2.0)} if family == "weibull" else {}
    eta = np.full(40_000, 0.2 if family != "weibull" else np.log(2.0))
    y = bounds.draw(fam, eta, aux, np.random.default_rng(3), None, np.full(len(eta), lb), np.full(len(eta), ub))
    assert y.min() >= lb and y.max() <= ub
    if family == "gaussian":
        want = stats.truncnorm(lb - 0.2, ub - 0.2, loc=0.2).mean()
    elif family == "poisson":
        mu = np.exp(0.2)
        want = mu / (1 - np.exp(-mu))
    else:
        d = stats.weibull_min(2.0, scale=2.0 / special.gamma(1.5))
        want = d.expect(lambda v: v, lb=lb, ub=ub) / (d.cdf(ub) - d.cdf(lb))
    assert y.mean() == pytest.approx(want, abs=4 * y.std() / np.sqrt(len(y)))


@pytest.mark.slow
def test_censored_truncated_fit_predicts_loos_and_round_trips(tmp_path):
    """One short fit of a weighted, right-censored, upper-truncated Weibull model: pointwise log-likelihood
    matches the family's censored/truncated density, predictions respect the bound, save/load keeps the
    response terms."""
    df = _frame(n=90, seed=4)
    df["y"] = np.minimum(df["y"], 6.0)
    df["c"] = np.where(df["y"] > 4.0, "right", "none")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("y | weights(w) + cens(c) + trunc(ub = 6) ~ x + (1 | g)", df, family="weibull").fit(
            draws=200, tune=300, chains=2, seed=3, progressbar=False)
    ll = fit.idata.log_likelihood["y"].values
    assert ll.shape == (2, 200, len(df)) and np.isfinite(ll).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # influential censored rows (Pareto k): not what is checked here
        assert np.isfinite(fit.loo().elpd)
    _, pred = fit.predict(df.drop(columns="y"), kind="response", draws=True, seed=1)
    pred = pred.values
    assert pred.shape[-1] == len(df) and np.max(pred) <= 6.0 and np.min(pred) > 0
    path = tmp_path / "fit"
    fit.save(path)
    back = bm.load(path)
    np.testing.assert_array_equal(back.design.response_terms.cens, fit.design.response_terms.cens)
    np.testing.assert_array_equal(back.design.response_terms.ub, fit.design.response_terms.ub)
