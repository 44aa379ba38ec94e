"""Predictions: encoding of new data, the three treatments of group effects, kinds, posterior predictive.

Most tests use fits with made-up posteriors (``synthetic_fit``), so the expected numbers are computed
independently from known parameter values; the ``slow`` ones use the session's sampled fits.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.summaries import draws_of

SLEEP = "Reaction ~ Days + (Days | Subject)"
SLEEP_PARAMS = {
    "beta": {"Intercept": 250.0, "Days": 10.0},
    "sd": {"Subject": [25.0, 6.0]},
    "corr": {"Subject": [[1.0, 0.3], [0.3, 1.0]]},
    "sigma": 25.0,
}


@pytest.fixture(scope="module")
def sleep():
    return bm.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def fake(synthetic_fit, sleep):
    return synthetic_fit(SLEEP, sleep, SLEEP_PARAMS, jitter=1.0, draws=400)


def _new(days, subjects):
    return pd.DataFrame({"Days": days, "Subject": subjects})


# ----------------------------------------------------------------------------- groups
def test_exclude_is_x_beta_averaged_over_draws(fake):
    new = _new([0, 3, 9], ["308", "999", "zzz"])
    out = fake.predict(new, groups="exclude")
    X = np.column_stack([np.ones(3), [0, 3, 9]])
    beta = draws_of(fake.idata, "beta")
    np.testing.assert_allclose(out["mean"].to_numpy(), (beta @ X.T).mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(out["sd"].to_numpy(), (beta @ X.T).std(axis=0, ddof=1), rtol=1e-10)
    assert list(out.columns) == ["mean", "sd", "lower", "upper"]
    assert list(out.index) == list(new.index)


def test_include_adds_the_level_effects(fake):
    new = _new([2.0, 7.0], ["310", "308"])
    out = fake.predict(new, groups="include")
    beta, r = draws_of(fake.idata, "beta"), draws_of(fake.idata, "r_Subject")
    levels = list(fake.design.block("Subject").levels)
    expect = []
    for d, s in zip(new.Days, new.Subject):
        j = levels.index(s)
        expect.append((beta[:, 0] + r[:, j, 0] + d * (beta[:, 1] + r[:, j, 1])).mean())
    np.testing.assert_allclose(out["mean"].to_numpy(), expect, rtol=1e-12)


def test_fitted_rows_match_linear_predictor(fake):
    from bayesmixed.summaries import linear_predictor

    out = fake.predict()
    np.testing.assert_allclose(out["mean"].to_numpy(), linear_predictor(fake.idata, fake.design).mean(axis=0))
    assert out.index.equals(fake.design.rows)


def test_unseen_level_with_include_names_column_and_levels(fake):
    with pytest.raises(bm.DataError) as err:
        fake.predict(_new([1, 2, 3], ["308", "999", "abc"]), groups="include")
    msg = str(err.value)
    assert "'Subject'" in msg and "'999'" in msg and "'abc'" in msg and "'308'" not in msg.split("it knows")[0]
    assert "sample_new" in msg and "exclude" in msg


def test_sample_new_draws_effects_from_the_population(fake):
    """Effects of an unseen level have covariance G = diag(sd) C diag(sd), one draw shared by its rows."""
    new = _new([0.0, 1.0, 0.0], ["new1", "new1", "new2"])
    _, d = fake.predict(new, groups="sample_new", kind="link", draws=True, seed=5)
    beta = draws_of(fake.idata, "beta")
    x = d.values.reshape(-1, 3)
    b0 = x[:, 0] - beta[:, 0]  # intercept effect of new1 at Days 0
    b1 = x[:, 1] - x[:, 0] - beta[:, 1]  # slope effect of new1 (shared draw for both rows)
    c0 = x[:, 2] - beta[:, 0]  # new2's intercept effect: an independent draw
    sd, C = np.array([25.0, 6.0]), np.array([[1.0, 0.3], [0.3, 1.0]])
    G = C * np.outer(sd, sd)
    emp = np.cov(np.vstack([b0, b1]))
    np.testing.assert_allclose(np.sqrt(np.diag(emp)), sd, rtol=0.12)
    assert abs(emp[0, 1] / np.sqrt(emp[0, 0] * emp[1, 1]) - 0.3) < 0.12
    assert abs(np.corrcoef(b0, c0)[0, 1]) < 0.12
    assert G.shape == (2, 2)


def test_new_level_interval_wider_than_known_level(fake):
    new = _new([5, 5], ["308", "brand-new"])
    out = fake.predict(new, groups="sample_new", seed=1)
    width = out["upper"] - out["lower"]
    assert width.iloc[1] > 2 * width.iloc[0]


def test_known_levels_keep_their_effects_under_sample_new(fake):
    new = _new([1, 4], ["308", "333"])
    a = fake.predict(new, groups="include")
    b = fake.predict(new, groups="sample_new", seed=3)
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------- kinds
def test_response_kind_adds_residual_noise(fake):
    new = _new([4] * 2, ["308", "308"])
    mean = fake.predict(new, kind="mean")
    resp = fake.predict(new, kind="response", seed=2)
    expect_sd = np.sqrt(mean["sd"].iloc[0] ** 2 + 25.0**2)
    assert abs(resp["mean"].iloc[0] - mean["mean"].iloc[0]) < 4 * expect_sd / np.sqrt(800)
    assert abs(resp["sd"].iloc[0] / expect_sd - 1) < 0.1


def test_draws_are_returned_as_dataarray(fake):
    new = _new([1, 2], ["308", "309"])
    table, d = fake.predict(new, draws=True)
    assert d.dims == ("chain", "draw", "row") and d.shape == (2, 400, 2)
    np.testing.assert_allclose(d.mean(("chain", "draw")).values, table["mean"].to_numpy())


def test_bad_arguments(fake):
    with pytest.raises(bm.DataError, match="groups must be one of"):
        fake.predict(groups="all")
    with pytest.raises(bm.DataError, match="kind must be one of"):
        fake.predict(kind="probability")
    with pytest.raises(bm.DataError, match="'Days'"):
        fake.predict(pd.DataFrame({"Subject": ["308"]}))
    with pytest.raises(bm.DataError, match="missing values"):
        fake.predict(_new([1.0, np.nan], ["308", "308"]))


def test_grouping_column_not_needed_when_excluded(fake):
    out = fake.predict(pd.DataFrame({"Days": [0, 1]}), groups="exclude")
    assert len(out) == 2


def test_stateful_transforms_and_levels_are_reused(synthetic_fit):
    """scale() uses the fitted mean and SD; a categorical predictor keeps the fitted levels and contrasts."""
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"y": rng.normal(size=60), "x": rng.normal(5, 2, 60), "g": np.repeat(list("abcdef"), 10),
                         "c": ["u", "v", "w"] * 20})
    params = {"beta": {"Intercept": 1.0, "scale(x)": 2.0, "cv": 0.5, "cw": -1.0}, "sd": {"g": [1.0]}, "sigma": 1.0}
    fit = synthetic_fit("y ~ scale(x) + c + (1 | g)", data, params)
    new = pd.DataFrame({"x": [5.0, 9.0], "c": ["w", "u"], "g": ["a", "a"]})
    out = fit.predict(new, groups="exclude")
    m, s = data.x.mean(), data.x.std(ddof=1)
    np.testing.assert_allclose(out["mean"].to_numpy(), [1 + 2 * (5 - m) / s - 1.0, 1 + 2 * (9 - m) / s], rtol=1e-12)
    with pytest.raises(bm.DataError, match="'z'"):
        fit.predict(pd.DataFrame({"x": [1.0], "c": ["z"], "g": ["a"]}))


def test_binomial_mean_is_a_probability_and_response_needs_trials(synthetic_fit):
    cbpp = bm.datasets.load("cbpp")
    params = {"beta": {"Intercept": -1.4, "period2": -1.0, "period3": -1.1, "period4": -1.6}, "sd": {"herd": [0.6]}}
    fit = synthetic_fit("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, params, family="binomial")
    new = pd.DataFrame({"period": ["1", "4"], "herd": ["1", "1"], "size": [10, 40]})
    mean = fit.predict(new)
    assert ((mean["mean"] > 0) & (mean["mean"] < 1)).all()
    # trials from the response's expression (incidence + size - incidence = size), without the successes
    resp = fit.predict(new, kind="response", seed=1)
    np.testing.assert_allclose(resp["mean"].to_numpy(), mean["mean"].to_numpy() * [10, 40], rtol=0.15)
    resp2 = fit.predict(new.assign(n=[10, 40]).drop(columns="size"), kind="response", trials="n", seed=1)
    pd.testing.assert_frame_equal(resp, resp2)
    with pytest.raises(bm.DataError, match="trials"):
        fit.predict(new.drop(columns="size"), kind="response")


def test_posterior_predictive_group(fake):
    before = set(fake.idata.groups())
    new = fake.posterior_predictive(seed=1)
    assert isinstance(new, bm.Fit) and set(fake.idata.groups()) == before
    pp = new.idata.posterior_predictive["y"]
    assert pp.dims == ("chain", "draw", "obs") and pp.shape == (2, 400, fake.design.n)
    assert "observed_data" in new.idata.groups()
    np.testing.assert_array_equal(new.idata.observed_data["y"].values, fake.design.y)
    # replicated data scatter around the fitted means with the residual SD
    mu = fake.predict(kind="mean", draws=True)[1].values
    resid = (pp.values - mu).reshape(-1, fake.design.n)
    assert abs(resid.std() / 25.0 - 1) < 0.05


# ----------------------------------------------------------------------------- sampled fits
@pytest.mark.slow
def test_sleepstudy_population_predictions_and_new_subject(sleep_fit):
    new = _new([0, 5, 5], ["308", "308", "a-new-subject"])
    pop = sleep_fit.predict(new, groups="exclude")
    beta = draws_of(sleep_fit.idata, "beta")
    X = np.column_stack([np.ones(3), new.Days])
    np.testing.assert_allclose(pop["mean"].to_numpy(), (beta @ X.T).mean(axis=0), rtol=1e-12)
    out = sleep_fit.predict(new, groups="sample_new", seed=1)
    width = out["upper"] - out["lower"]
    assert width.iloc[2] > width.iloc[1]
    with pytest.raises(bm.DataError, match="a-new-subject"):
        sleep_fit.predict(new)


@pytest.mark.slow
def test_posterior_predictive_of_binomial_fit(cbpp_fit):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        new = cbpp_fit.posterior_predictive(seed=3)
    y_rep = new.idata.posterior_predictive["y"].values
    trials = cbpp_fit.design.trials
    assert (y_rep >= 0).all() and (y_rep <= trials).all() and np.allclose(y_rep, np.round(y_rep))
    # replicated totals cover the observed total
    tot = y_rep.reshape(-1, cbpp_fit.design.n).sum(axis=1)
    lo, hi = np.quantile(tot, [0.005, 0.995])
    assert lo <= cbpp_fit.design.y.sum() <= hi
