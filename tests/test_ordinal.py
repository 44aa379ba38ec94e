"""Ordinal (cumulative, sratio, cratio, acat) and categorical families, and distributional regression (``bf()``):
densities against brms's Stan code written out as loops (fast), response checks, designs, names and priors
(fast), and recovery of known parameters from simulated data with 40 groups (slow)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesmixed as bm
from bayesmixed import families as F
from bayesmixed import naming as N
from bayesmixed.summaries import draws_of, interval

ORDINAL = ["cumulative", "sratio", "cratio", "acat"]
LINKS = ["logit", "probit", "cloglog"]


# ------------------------------------------------------------------------ densities: brms's Stan code as loops
def _cdf(link, x):
    return {"logit": special.expit, "probit": stats.norm.cdf, "cloglog": lambda v: 1 - np.exp(-np.exp(v))}[link](x)


def _brms_probs(family, link, mu, disc, thres):
    """The K probabilities of one observation, as brms 2.18's ``<family>_<link>_lpmf`` computes them
    (transcribed from ``make_stancode``; plain Python loops, 1-based thresholds as in Stan)."""
    F_ = lambda v: _cdf(link, v)  # noqa: E731
    K1 = len(thres)
    if family == "cumulative":
        cum = [F_(disc * (thres[k] - mu)) for k in range(K1)]
        return np.diff(np.concatenate([[0.0], cum, [1.0]]))
    if family in ("sratio", "cratio"):
        p = []
        for y in range(1, K1 + 2):
            if family == "sratio":
                q = [1 - F_(disc * (thres[k] - mu)) for k in range(K1)]  # P(Y > k | Y >= k)
            else:
                q = [F_(disc * (mu - thres[k])) for k in range(K1)]
            prob = np.prod(q[: y - 1])
            if y <= K1:
                prob *= 1 - q[y - 1]
            p.append(prob)
        return np.array(p)
    # acat: q_k = F(disc (mu - thres_k)), p_k ∝ prod_{j<k} q_j prod_{j>=k} (1 - q_j)
    q = [F_(disc * (mu - thres[k])) for k in range(K1)]
    p = np.array([np.prod(q[: k]) * np.prod([1 - v for v in q[k:]]) for k in range(K1 + 1)])
    return p / p.sum()


@pytest.mark.parametrize("family", ORDINAL)
@pytest.mark.parametrize("link", LINKS)
def test_ordinal_probabilities_equal_brms_stan_code(family, link):
    fam = F.get_family(family, link)
    rng = np.random.default_rng(4)
    thres = np.sort(rng.normal(0, 1.5, 4))
    eta = rng.normal(0, 1.5, 50)
    for disc in (1.0, 0.6):
        aux = {N.THRESHOLDS: thres, "disc": disc}
        got = fam.mean(eta, aux)
        want = np.array([_brms_probs(family, link, e, disc, thres) for e in eta])
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)
        y = rng.integers(1, 6, len(eta))
        p_y = want[np.arange(len(y)), y - 1]
        # the naive products lose digits in the tails (1 - F near F = 1) and underflow where the log-space form
        # does not: to 1e-9 where they are accurate, to 1e-4 out to 1e-200
        lp = fam.logpdf(y, eta, aux)
        ok = p_y > 1e-6
        np.testing.assert_allclose(lp[ok], np.log(p_y[ok]), rtol=1e-9)
        far = (p_y > 1e-200) & ~ok
        np.testing.assert_allclose(lp[far], np.log(p_y[far]), rtol=1e-4)


def test_sratio_and_cratio_coincide_for_the_logit_link_only():
    """A known identity (F(-x) = 1 - F(x) for the logistic): stopping and continuation ratios give the same
    model under the logit link, not under cloglog."""
    thres, eta = np.array([-1.0, 0.2, 1.5]), np.linspace(-2, 2, 9)
    aux = {N.THRESHOLDS: thres}
    s, c = F.get_family("sratio", "logit").mean(eta, aux), F.get_family("cratio", "logit").mean(eta, aux)
    np.testing.assert_allclose(s, c, rtol=1e-12)
    s, c = F.get_family("sratio", "cloglog").mean(eta, aux), F.get_family("cratio", "cloglog").mean(eta, aux)
    assert np.abs(s - c).max() > 1e-3


@pytest.mark.parametrize("family", ORDINAL)
@pytest.mark.parametrize("link", LINKS)
def test_log_probabilities_are_finite_far_out_and_pytensor_agrees(family, link):
    """Far in the tails (|η| up to 40) the log probabilities stay finite and sum to one on the probability
    scale, and the PyTensor graph (the PyMC likelihood) gives the NumPy values, gradients included finite."""
    import pytensor
    import pytensor.tensor as pt

    from bayesmixed.families.ordinal import _Ops

    fam = F.get_family(family, link)
    thres = np.array([-2.0, -0.5, 0.0, 3.0])
    eta = np.linspace(-40, 40, 81)
    aux = {N.THRESHOLDS: thres}
    lp = fam.log_probs(eta, aux, _Ops(False))
    assert np.isfinite(lp).all() or link == "cloglog"  # cloglog: exp(-exp(40)) underflows to log 0 = -inf
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, rtol=1e-9)
    e, t = pt.dvector("eta"), pt.dvector("thres")
    graph = fam.log_probs(e, {N.THRESHOLDS: t}, _Ops(True))
    y = np.tile(np.arange(1, 6), 17)[: len(eta)]
    from bayesmixed.families.ordinal import _onehot_logp

    ll = pt.sum(_onehot_logp(graph, pt.as_tensor(y)))
    f = pytensor.function([e, t], [graph, *pytensor.grad(ll, [e, t])])
    lp_pt, g_eta, g_t = f(eta, thres)
    mid = np.abs(eta) <= 12
    # probit: PyMC's normal_lcdf goes through PyTensor's erfcx, good to a few 1e-7 relative (SciPy's log_ndtr ~1e-15)
    rtol = 1e-6 if link == "probit" else 1e-9
    np.testing.assert_allclose(lp_pt[mid], lp[mid], rtol=rtol, atol=1e-12)
    assert np.isfinite(g_eta[mid]).all() and np.isfinite(g_t).all()


def test_categorical_probabilities_are_a_softmax_with_the_first_category_as_reference():
    fam = F.get_family("categorical")
    rng = np.random.default_rng(2)
    eta = rng.normal(size=(7, 3))  # mu2..mu4
    full = np.column_stack([np.zeros(7), eta])
    want = np.exp(full) / np.exp(full).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(fam.mean(eta, {}), want, rtol=1e-12)
    np.testing.assert_allclose(fam.logpdf(np.array([1, 2, 3, 4, 1, 2, 3]), eta, {}), np.log(want[np.arange(7), [0, 1, 2, 3, 0, 1, 2]]))
    np.testing.assert_allclose(fam.link_scale(eta, {}), full)


@pytest.mark.parametrize("family", ORDINAL + ["categorical"])
def test_draws_follow_the_probabilities(family):
    fam = F.get_family(family)
    eta = np.zeros((100_000, 2)) + np.array([0.0, 0.7]) if family == "categorical" else np.full(100_000, 0.3)
    aux = {} if family == "categorical" else {N.THRESHOLDS: np.array([-1.0, 0.5, 2.0])}
    p = fam.mean(eta[:1], aux)[0]
    y = fam.draw(eta, aux, np.random.default_rng(0))
    freq = np.bincount(y.astype(int), minlength=len(p) + 1)[1:] / len(y)
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(p * (1 - p) / len(y)).max())


def test_fisher_information_about_eta_matches_simulation():
    """The information weight of pooling, Σ_k (∂p_k/∂η)²/p_k, equals the variance of the score ∂log p/∂η."""
    fam = F.get_family("cumulative")
    aux = {N.THRESHOLDS: np.array([-1.0, 0.5, 2.0])}
    eta = np.array([0.3])
    w = fam.working_weight(eta, None, aux)[0]
    p = fam.mean(eta, aux)[0]
    h = 1e-5
    score = (np.log(fam.mean(eta + h, aux)[0]) - np.log(fam.mean(eta - h, aux)[0])) / (2 * h)
    assert w == pytest.approx(np.sum(p * score**2), rel=1e-6)


# ------------------------------------------------------------------------------------------- responses
def frame(y, n=None):
    n = len(y) if n is None else n
    return pd.DataFrame({"y": y, "x": np.linspace(-1, 1, n), "g": np.arange(n) % 3})


def test_response_of_categories_is_coded_one_to_k():
    cats = pd.Categorical(list("lmhmlh"), categories=list("lmh"), ordered=True)
    m = bm.Model("y ~ x + (1 | g)", frame(cats), family="cumulative")
    np.testing.assert_array_equal(m.design.y, [1, 2, 3, 2, 1, 3])
    assert m.design.response_levels == ("l", "m", "h") and m.design.response_ordered is True
    assert m.design.x_names == ("x",)  # the thresholds replace the intercept
    i = bm.Model("y ~ x + (1 | g)", frame([1, 3, 2, 3, 1, 2]), family="sratio")
    assert i.design.response_levels == (1, 2, 3) and i.design.response_ordered is None


@pytest.mark.parametrize(
    "family, y, pattern",
    [
        ("cumulative", pd.Categorical(list("abcabc")), r"needs an ordered response.*cat\.as_ordered\(\).*family='categorical'"),
        ("cumulative", pd.Categorical(list("abaabb"), categories=list("abc"), ordered=True), r"no rows in category 'c'.*remove_unused_categories"),
        ("cumulative", [1, 2, 4, 1, 2, 4], r"never 3.*consecutive integers 1\.\.K"),
        ("acat", [0, 1, 2, 0, 1, 2], r"integers 1\.\.K.*add 1"),
        ("sratio", [1.5, 2, 3, 1, 2, 3], r"integers 1\.\.K.*rows \[0\]"),
        ("cumulative", [1, 2, 1, 2, 1, 2], r"2 categories; an ordinal model needs at least 3"),
        ("categorical", pd.Categorical(list("abab")), r"family 'categorical' needs at least 3"),
        ("cumulative", [1.0, 2.0, 3.0, 2.0, 3.0, 1.0], None),
    ],
)
def test_bad_responses_of_categories_raise_clear_errors(family, y, pattern):
    df = frame(y)
    if pattern is None:
        bm.Model("y ~ x + (1 | g)", df, family=family)
        return
    with pytest.raises(bm.DataError, match=pattern):
        bm.Model("y ~ x + (1 | g)", df, family=family)


def test_categorical_family_takes_unordered_categories_and_has_one_predictor_per_category():
    df = frame(pd.Categorical(list("abcacb" * 3)), n=18)
    m = bm.Model("y ~ x + (1 | g)", df, family="categorical")
    assert [d.dpar for d in m.design.predictors] == ["mu2", "mu3"]
    assert [b.label for b in m.design.all_blocks] == ["g__mu2", "g__mu3"]
    prior = m.prior_summary()
    assert {"mu2_Intercept", "beta_mu2[x]", "mu3_Intercept", "sd_g__mu3[Intercept]"} <= set(prior.index)
    model = m.build()
    assert {"beta_mu2", "beta_mu3", "r_g__mu2", "r_g__mu3"} <= set(model.named_vars)


# ------------------------------------------------------------------------------------------- model graph
@pytest.mark.parametrize("family, ordered", [("cumulative", True), ("sratio", False), ("acat", False)])
def test_thresholds_are_ordered_for_cumulative_only_and_have_brms_prior(family, ordered):
    from pymc.distributions.transforms import Ordered

    w = bm.datasets.load("wine")
    m = bm.Model("rating ~ temp + contact + (1 | judge)", w, family=family)
    assert m.prior_summary().loc["Intercept", "prior"] == "student_t(mu=0, nu=3, sigma=2.5)"
    model = m.build()
    rv = model["_Intercept_c"]
    assert isinstance(model.rvs_to_transforms[rv], Ordered) == ordered
    assert list(model.coords["threshold"]) == ["1", "2", "3", "4"]
    assert np.isfinite(model.compile_logp()(model.initial_point()))
    # the reported thresholds are the centred ones plus the column means times the slopes (brms's b_Intercept)
    pt_ = model.initial_point()
    f = model.compile_fn([model["Intercept"], model["_Intercept_c"], model["beta"]], inputs=model.value_vars,
                         on_unused_input="ignore")
    tau, tc, beta = f(pt_)
    means = m.design.X.mean(axis=0)
    np.testing.assert_allclose(tau, tc + means @ beta)


def test_threshold_priors_one_for_all_or_one_per_threshold():
    w = bm.datasets.load("wine")
    p = bm.Model("rating ~ temp + (1 | judge)", w, family="cumulative",
                 priors={"Intercept": bm.Prior("normal", mu=[-2, 0, 2, 4], sigma=1)})
    assert p.spec.prior("Intercept").kwargs["mu"].tolist() == [-2, 0, 2, 4]
    with pytest.raises(bm.PriorError, match=r"has 3 values per parameter, but the model has 4 thresholds"):
        bm.Model("rating ~ temp + (1 | judge)", w, family="cumulative",
                 priors={"Intercept": bm.Prior("normal", mu=[0, 1, 2], sigma=1)})


# ------------------------------------------------------------------------------------------- recovery
J, N_PER = 40, 10


def _ordinal_data(seed: int = 1):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), N_PER)
    x = rng.normal(size=J * N_PER)
    b = rng.normal(size=J)
    b = (b - b.mean()) / b.std(ddof=1) * 0.8  # realised group SD exactly 0.8
    return pd.DataFrame({"x": x, "g": [f"G{j:02d}" for j in g]}), b


def ordinal_recovery(family: str, link: str, seed: int = 11, prob: float = 0.95, **fit_kw) -> list[str]:
    """Fit data simulated by bm.simulate with known thresholds, slope and group SD (40 groups of 10); return the
    problems: a truth outside its ``prob`` interval, divergences, R-hat of 1.02 or more. The truths are those of
    the realised group effects: thresholds shifted by their mean (η = threshold − xβ − r), their SD.
    (benchmarks/ordinal_recovery.py runs it for every family and link.)"""
    df, _ = _ordinal_data()
    params = {"Intercept": [-1.0, 0.3, 1.5], "beta": {"x": 0.9}, "sd": {"g": 0.8}}
    sim, eff = bm.simulate("y ~ x + (1 | g)", df, params, family=family, link=link, seed=seed, return_effects=True)
    r = eff["g"]["Intercept"].to_numpy()
    truth = {f"Intercept[{k + 1}]": t - r.mean() for k, t in enumerate(params["Intercept"])} | {"x": 0.9}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("y ~ x + (1 | g)", sim, family=family, link=link).fit(
            **({"draws": 500, "tune": 500, "chains": 2, "seed": 3} | fit_kw), progressbar=False)
    fx = fit.fixef(prob=prob)
    bad = [f"{name} {value:.3f} outside [{fx.loc[name, 'lower']:.3f}, {fx.loc[name, 'upper']:.3f}]"
           for name, value in truth.items() if not fx.loc[name, "lower"] <= value <= fx.loc[name, "upper"]]
    lo, hi = interval(draws_of(fit.idata, "sd_g")[:, 0], prob)
    if not lo <= r.std(ddof=1) <= hi:
        bad.append(f"sd_g {r.std(ddof=1):.3f} outside [{lo:.3f}, {hi:.3f}]")
    if fit.divergences:
        bad.append(f"{fit.divergences} divergences")
    if fit.convergence().r_hat.max() >= 1.02:
        bad.append(f"R-hat {fit.convergence().r_hat.max():.3f}")
    return bad


@pytest.mark.slow
def test_ordinal_parameters_are_recovered():
    """Cumulative logit in the suite (the other families and links: benchmarks/ordinal_recovery.py, results in
    docs/guide/families.md; each fit compiles its own model, ~20 s on a cold cache)."""
    assert ordinal_recovery("cumulative", "logit") == []


@pytest.mark.slow
def test_categorical_parameters_are_recovered_and_predictions_are_probabilities(tmp_path):
    df, _ = _ordinal_data(2)
    params = {"beta_mu2": {"Intercept": 0.5, "x": 1.0}, "beta_mu3": {"Intercept": -0.3, "x": -0.8},
              "sd": {"g__mu2": 0.7, "g__mu3": 0.5}}
    sim = bm.simulate("y ~ x + (1 | g)", df, params, family="categorical", seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("y ~ x + (1 | g)", sim, family="categorical").fit(draws=500, tune=500, chains=2, seed=1,
                                                                         progressbar=False)
    fx = fit.fixef(prob=0.9)
    for key in ("beta_mu2", "beta_mu3"):
        for c, v in params[key].items():
            name = f"{key[5:]}_{c}"
            assert fx.loc[name, "lower"] <= v <= fx.loc[name, "upper"], (name, fx.loc[name].to_dict())
    vc = fit.varcorr(prob=0.9).set_index("group")
    for lab, v in params["sd"].items():
        assert vc.loc[lab, "lower"] <= v <= vc.loc[lab, "upper"], lab
    assert fit.divergences == 0
    p = fit.predict(sim.head(4))
    assert p.index.names == ["row", "category"] and len(p) == 12
    np.testing.assert_allclose(p["mean"].groupby(level=0).sum(), 1.0)
    with pytest.raises(bm.BayesMixedError, match="R² is not defined"):
        fit.r2()
    with pytest.raises(bm.DataError, match="ICC is not defined for the categorical"):
        fit.icc()
    fit.save(tmp_path / "cat.bmfit")
    back = bm.load(tmp_path / "cat.bmfit")
    pd.testing.assert_frame_equal(back.predict(sim.head(4)), p)


# ------------------------------------------------------------------------------- distributional regression: bf()
def _dist_data(seed: int = 5):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), N_PER)
    return pd.DataFrame({"x": rng.normal(size=J * N_PER), "f": np.where(rng.random(J * N_PER) < 0.5, "a", "b"),
                         "g": [f"G{j:02d}" for j in g]})


def test_bf_gives_each_parameter_its_predictor_with_brms_names():
    df = _dist_data()
    df["y"] = np.random.default_rng(0).normal(size=len(df))
    m = bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ f + (1 | g)"), df)
    assert [d.dpar for d in m.design.predictors] == ["mu", "sigma"]
    assert [b.label for b in m.design.all_blocks] == ["g", "g__sigma"]
    assert m.design.dpars[0].x_names == ("Intercept", "fb")
    prior = m.prior_summary()
    assert {"Intercept", "beta[x]", "sigma_Intercept", "beta_sigma[fb]", "sd_g[Intercept]",
            "sd_g__sigma[Intercept]"} <= set(prior.index)
    assert "sigma" not in prior.index  # predicted: no prior of its own
    # every term sampled: the exact marginal likelihood needs a constant sigma
    assert all(v != "marginal" for _, v in m.spec.parameterization)
    with pytest.raises(bm.BayesMixedError, match="constant sigma"):
        bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ f"), df, parameterization="marginal")
    with pytest.raises(bm.PriorError, match=r"'sigma' is predicted by its own formula.*'sigma_Intercept'"):
        bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ f"), df, priors={"sigma": bm.Prior("exponential", lam=1)})
    # brms's positional form names the same model
    m2 = bm.Model(bm.bf("y ~ x + (1 | g)", "sigma ~ f + (1 | g)"), df)
    assert m2.design.dpars[0].x_names == m.design.dpars[0].x_names


@pytest.mark.parametrize(
    "call, err, pattern",
    [
        (lambda df: bm.Model(bm.bf("k ~ x + (1 | g)", sigma="~ x"), df, family="poisson"), bm.DataError,
         r"bf\(\) gives a formula for 'sigma', but family 'poisson' has no such parameter"),
        (lambda df: bm.bf("y ~ x", sigma=1.0), bm.FormulaError, r"formula of 'sigma' must be a string"),
        (lambda df: bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ s(x)"), df), bm.DataError,
         r"formula of 'sigma' has s\(x\).*not supported together with bf\(\).*ns\(x, 4\)"),
        (lambda df: bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ nothere"), df), bm.DataError, r"nothere"),
        (lambda df: bm.Model("r ~ x + s(x) + (1 | g)", df, family="cumulative"), bm.DataError,
         r"not supported together with family 'cumulative'"),
    ],
)
def test_bf_refuses_what_it_cannot_fit_with_clear_errors(call, err, pattern):
    df = _dist_data()
    rng = np.random.default_rng(1)
    df["y"], df["k"], df["r"] = rng.normal(size=len(df)), rng.poisson(2, len(df)), rng.integers(1, 4, len(df))
    with pytest.raises(err, match=pattern):
        call(df)


def test_simulate_uses_each_rows_own_sigma():
    """bm.simulate with ``beta_sigma``: the residual SD is exp(sigma_Intercept + sigma_x x) row by row
    (checked on 40 000 rows in the two levels of a factor)."""
    n = 40_000
    df = pd.DataFrame({"f": np.repeat(["a", "b"], n // 2), "g": np.tile(np.arange(40), n // 40)})
    params = {"beta": {"Intercept": 1.0}, "beta_sigma": {"Intercept": np.log(0.5), "fb": np.log(3.0)},
              "sd": {"g": 0.0}}
    sim = bm.simulate(bm.bf("y ~ 1 + (1 | g)", sigma="~ f"), df, params, seed=2)
    sd = sim.groupby("f")["y"].std()
    assert sd["a"] == pytest.approx(0.5, rel=0.03) and sd["b"] == pytest.approx(1.5, rel=0.03)
    with pytest.raises(bm.DataError, match=r"'sigma' is predicted by its formula: give 'beta_sigma'"):
        bm.simulate(bm.bf("y ~ 1 + (1 | g)", sigma="~ f"), df, {**params, "sigma": 1.0})


@pytest.mark.slow
def test_distributional_gaussian_is_recovered_and_predicts_with_each_rows_sigma(tmp_path):
    """sigma ~ f + (1 | g) with known coefficients and group SDs (40 groups of 10): each truth inside its 90%
    interval; pointwise log-likelihood is the normal density with each row's own sigma; predictions survive
    save/load."""
    from scipy import stats as st

    df = _dist_data()
    params = {"beta": {"Intercept": 2.0, "x": 0.7}, "beta_sigma": {"Intercept": np.log(0.6), "fb": 0.8},
              "sd": {"g": 0.8, "g__sigma": 0.4}}
    formula = bm.bf("y ~ x + (1 | g)", sigma="~ f + (1 | g)")
    sim, eff = bm.simulate(formula, df, params, seed=8, return_effects=True)
    r_mu, r_sigma = eff["g"]["Intercept"].to_numpy(), eff["g__sigma"]["Intercept"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model(formula, sim).fit(draws=400, tune=400, chains=2, seed=2, progressbar=False)
    fx = fit.fixef(prob=0.95)
    # the truths of the realised group effects: intercepts shifted by their mean, their SDs
    truth = {"Intercept": 2.0 + r_mu.mean(), "x": 0.7, "sigma_Intercept": np.log(0.6) + r_sigma.mean(),
             "sigma_fb": 0.8}
    for name, v in truth.items():
        assert fx.loc[name, "lower"] <= v <= fx.loc[name, "upper"], (name, v, fx.loc[name].to_dict())
    vc = fit.varcorr(prob=0.95).set_index("group")
    for lab, v in {"g": r_mu.std(ddof=1), "g__sigma": r_sigma.std(ddof=1)}.items():
        assert vc.loc[lab, "lower"] <= v <= vc.loc[lab, "upper"], (lab, v, vc.loc[lab].to_dict())
    assert fit.divergences == 0
    assert set(fit.ranef()) == {"g", "g__sigma"}
    # the log-likelihood uses each row's own sigma = exp(eta_sigma)
    from bayesmixed.loglik import pointwise_loglik
    from bayesmixed.summaries import linear_predictors

    ll = pointwise_loglik(fit.idata, fit.design, fit.spec.family_obj)
    S = ll.shape[0] * ll.shape[1]
    etas = linear_predictors(fit.idata, fit.design, np.arange(S))
    want = st.norm.logpdf(fit.design.y, etas["mu"], np.exp(etas["sigma"]))
    np.testing.assert_allclose(ll.reshape(S, -1), want, rtol=1e-8)
    with warnings.catch_warnings():  # Pareto k > 0.7 on a few rows: 800 draws, 80 group effects
        warnings.simplefilter("ignore", UserWarning)
        loo = fit.loo()
    assert np.isfinite(loo.elpd) and loo.elpd < 0
    p = fit.predict(sim.head(5), kind="response", seed=1)
    fit.save(tmp_path / "dist.bmfit")
    back = bm.load(tmp_path / "dist.bmfit")
    pd.testing.assert_frame_equal(back.predict(sim.head(5), kind="response", seed=1), p)
    assert list(back.fixef().index) == list(fit.fixef().index)
