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


# ------------------------------------------------------------ response terms with several linear predictors (bf())
# and with responses of categories (ordinal, categorical): what the two designs do together
def _categories(n=60, seed=2):
    df = _frame(n, seed)
    df["r"] = np.random.default_rng(seed).integers(1, 4, n)
    return df


def _point_logp(model, point=None):
    return float(model.compile_logp()(model.initial_point() if point is None else point))


@pytest.mark.parametrize("terms", ["cens(c)", "trunc(ub = 3)"])
def test_a_response_of_categories_is_not_censored_or_truncated(terms):
    """cens()/trunc() have no meaning for ordered categories (brms has no CDF for them either): refused before
    compilation, in the model and in simulate, naming what to do instead."""
    df = _categories()
    for fam in ("cumulative", "categorical"):
        with pytest.raises(bm.BayesMixedError, match="not censored or truncated by value; drop them"):
            bm.Model(f"r | {terms} ~ x + (1 | g)", df, family=fam).spec  # noqa: B018
    if terms.startswith("trunc"):
        with pytest.raises(bm.DataError, match="family 'cumulative' has none here: drop trunc()"):
            bm.simulate(f"r | {terms} ~ x + (1 | g)", df, {"Intercept": [-1.0, 1.0], "beta": {"x": 1.0},
                                                         "sd": {"g": 1.0}}, family="cumulative", seed=1)


@pytest.mark.parametrize("family, formula", [
    ("cumulative", "r | weights(w) ~ x + (1 | g)"),
    ("categorical", "r | weights(w) ~ x + (1 | g)"),
    ("gaussian", lambda: bm.bf("y | weights(w) ~ x + (1 | g)", sigma="~ x")),
])
def test_weights_multiply_the_log_likelihood_of_ordinal_and_distributional_models(family, formula):
    """weights() with an ordinal/categorical family or a bf() model: at one point of the parameters, the model's
    log density is linear in the weights with slope the unweighted log-likelihood (weights 1 give the
    unweighted model's log density exactly)."""
    df = _categories()
    plain_formula = formula() if callable(formula) else formula

    def logp(w):
        d = df.assign(w=w)
        m = bm.Model(plain_formula, d, family=family, parameterization="noncentered")
        model = m.build()
        return _point_logp(model, point), m

    base = bm.Model(plain_formula.replace("| weights(w) ", "") if isinstance(plain_formula, str)
                    else bm.bf("y ~ x + (1 | g)", sigma="~ x"), df, family=family, parameterization="noncentered")
    point = base.build().initial_point()
    rng = np.random.default_rng(5)
    point = {k: v + rng.normal(scale=0.3, size=np.shape(v)) for k, v in point.items()}
    l1, m1 = logp(np.ones(len(df)))
    l2, _ = logp(np.full(len(df), 2.0))
    l3, _ = logp(np.full(len(df), 3.0))
    assert l1 == pytest.approx(_point_logp(base.build(), point), rel=1e-9)
    assert l3 - l2 == pytest.approx(l2 - l1, rel=1e-9)
    assert abs(l2 - l1) > 1.0
    assert m1.design.response_terms is not None


def test_distributional_censored_potential_equals_the_numpy_log_likelihood():
    """bf(sigma = ~ x + (1 | g)) with a weighted, censored lognormal response: the likelihood potential at a
    chosen point (every group effect 0, slopes 0) is the sum of :func:`bounds.logpdf` with each row's sigma
    from its own predictor (here the same for every row: exp(sigma's intercept))."""
    df = _frame()
    m = bm.Model(bm.bf("y | weights(w) + cens(c) ~ x + (1 | g)", sigma="~ x + (1 | g)"), df, family="lognormal",
                 parameterization="noncentered")
    model = m.build()
    point = {k: np.zeros_like(v) for k, v in model.initial_point().items()}
    point["_Intercept_c"] = np.asarray(0.4)
    point["_Intercept_c_sigma"] = np.asarray(-0.3)
    [graph] = model.replace_rvs_by_values([model["_loglik"]])
    pot = model.compile_fn(graph, inputs=model.value_vars, on_unused_input="ignore", point_fn=True)(point)
    rt = m.design.response_terms
    want = bounds.logpdf(get_family("lognormal"), m.design.y, np.full(len(df), 0.4),
                         {"sigma": np.full(len(df), np.exp(-0.3))}, **rt.arrays()).sum()
    assert float(np.sum(pot)) == pytest.approx(want, rel=1e-8)


@pytest.mark.slow
def test_zero_inflation_predicted_by_a_formula_fits_salamanders():
    """brms's ``bf(count ~ spp + mined + (1 | site), zi ~ mined)`` (zero_inflated_poisson): zi gets its own
    logit-linear predictor (``zi_Intercept``, ``zi_minedyes``). One short fit: glmmTMB's ML estimates with
    ``ziformula = ~ mined`` (tests/data/salamanders_zi_mined.R: zi intercept -1.055, minedyes 1.845; mined
    in the count part -1.271) lie inside the 95 % intervals; pointwise log-likelihoods and mean predictions
    (through each row's zi) are finite."""
    sal = bm.datasets.load("Salamanders")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model(bm.bf("count ~ spp + mined + (1 | site)", zi="~ mined"), sal,
                       family="zero_inflated_poisson").fit(chains=2, draws=300, tune=300, seed=1, progressbar=False)
    fe = fit.fixef()
    for name, ref in (("zi_Intercept", -1.054898), ("zi_minedyes", 1.844929), ("minedyes", -1.271413)):
        assert fe.loc[name, "lower"] < ref < fe.loc[name, "upper"], (name, fe.loc[name].to_dict())
    assert np.isfinite(fit.idata.log_likelihood["y"].values).all()
    mean = fit.predict(kind="mean")
    assert len(mean) == len(sal) and np.isfinite(mean.select_dtypes("number").to_numpy()).all()


def test_kfold_rows_subset_every_predictor_and_the_response_terms():
    """k-fold's training designs of a bf() model with censoring: every predictor's design (not only the mean's)
    and the response terms keep the same rows."""
    from bayesmixed.compare import take_rows

    df = _frame()
    m = bm.Model(bm.bf("y | weights(w) + cens(c) ~ x + (1 | g)", sigma="~ x + (1 | g)"), df, family="lognormal")
    idx = np.arange(0, len(df), 3)
    sub = take_rows(m.design, idx)
    assert sub.n == len(idx) and all(d.n == len(idx) and d.X.shape[0] == len(idx) for d in sub.predictors)
    assert all(b.codes.shape[0] == len(idx) for b in sub.all_blocks)
    np.testing.assert_array_equal(sub.response_terms.cens, m.design.response_terms.cens[idx])
    np.testing.assert_array_equal(sub.dpars[0].X, m.design.dpars[0].X[idx])
