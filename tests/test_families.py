"""Families: response checks (fast) and recovery of known parameters from simulated data (slow)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special, stats

import bayesmixed as bm
from bayesmixed.summaries import draws_of, interval

# ---------------------------------------------------------------------------- bad responses


def frame(y, **extra):
    n = len(y)
    return pd.DataFrame({"y": y, "x": np.linspace(0, 1, n), "g": np.arange(n) % 3, **extra})


@pytest.mark.parametrize(
    "family, y, pattern",
    [
        ("poisson", [1, 2, -1, 3, 0, 2], r"poisson response 'y' has negative counts on rows \[2\]"),
        ("poisson", [1, 2, 1.5, 3, 0, 2], r"non-integer values on rows \[2\] \(e\.g\. 1\.5\)"),
        ("negative_binomial", [1, 2, 2.5, 3, 0, 2], r"negative_binomial response 'y' has non-integer"),
        ("beta", [0.2, 0.5, 1.0, 0.3, 0.1, 0.4], r"strictly between 0 and 1; rows \[2\]"),
        ("beta", [0.2, 0.0, 0.5, 0.3, 0.1, 0.4], r"strictly between 0 and 1; rows \[1\]"),
        ("gamma", [1.0, 2.0, 0.0, 3.0, 1.0, 2.0], r"gamma response 'y' must be positive; rows \[2\]"),
        ("inverse_gaussian", [1.0, -2.0, 1.0, 3.0, 1.0, 2.0], r"inverse_gaussian response 'y' must be positive; rows \[1\]"),
        ("bernoulli", [0, 1, 2, 1, 0, 1], r"bernoulli response 'y' must be 0/1.*rows \[2\] hold \[2\.0\]"),
        ("binomial", [0, 1, 2, 1, 0, 1], r"needs the number of trials"),
    ],
)
def test_bad_responses_raise_clear_errors(family, y, pattern):
    with pytest.raises(bm.DataError, match=pattern):
        bm.Model("y ~ x + (1 | g)", frame(y), family=family)


def test_successes_above_trials():
    df = frame([1, 2, 7, 1, 0, 1], n=[5, 5, 5, 5, 5, 5])
    with pytest.raises(bm.DataError, match=r"successes exceed trials .* rows \[2\]"):
        bm.Model("y | trials(n) ~ x + (1 | g)", df, family="binomial")
    with pytest.raises(bm.DataError, match=r"negative counts"):
        bm.Model("cbind(y, n - y) ~ x + (1 | g)", df.assign(y=[1, 2, -1, 1, 0, 1]), family="binomial")


def test_bernoulli_with_more_than_two_levels():
    with pytest.raises(bm.DataError, match=r"3 distinct values"):
        bm.Model("y ~ x + (1 | g)", frame(list("abcabc")), family="bernoulli")


def test_bernoulli_two_level_category_names_the_success_level():
    df = frame(["no", "yes", "yes", "no", "yes", "no"])
    m = bm.Model("y ~ x + (1 | g)", df, family="bernoulli")
    assert m.design.response_levels == ("no", "yes")
    np.testing.assert_array_equal(m.design.y, [0, 1, 1, 0, 1, 0])
    b = bm.Model("y ~ x + (1 | g)", frame([True, False, True, True, False, False]), family="bernoulli")
    np.testing.assert_array_equal(b.design.y, [1, 0, 1, 1, 0, 0])


def test_family_aliases_and_aux_priors():
    m = bm.Model("y ~ x + (1 | g)", frame([1, 2, 3, 0, 2, 1]), family="negbinomial")
    assert m.spec.family == "negative_binomial"
    assert m.prior_summary().loc["alpha", "prior"] == "exponential(lam=1)"
    m2 = bm.Model("y ~ x + (1 | g)", frame([1.0, 2, 3, 1, 2, 1]), family="student_t", priors={"nu": bm.Prior("gamma", alpha=2, beta=0.5)})
    assert m2.prior_summary().loc["nu", "source"] == "user"


@pytest.mark.parametrize("family", ["poisson", "negative_binomial"])
def test_counts_of_two_to_the_31_and_more_keep_a_finite_likelihood(family):
    # PyMC's compiled log-density wraps int64 counts >= 2^31 to int32: 16 901 925 657 became negative and its
    # log-likelihood -inf, so the sampler could not start (found by simulation-based calibration).
    from bayesmixed.backends.pymc import build_model

    y = [3, 16901925657, 47719805798, 5, 1, 2]
    m = bm.Model("y ~ x + (1 | g)", frame(y), family=family, parameterization="noncentered")
    pm_model = build_model(m.spec, m.design)
    point = pm_model.initial_point()
    per_obs = pm_model.compile_fn(pm_model.logp(vars=[pm_model["y"]], sum=False)[0], inputs=pm_model.value_vars,
                                  on_unused_input="ignore")(point)
    assert np.isfinite(per_obs).all()
    # the huge counts are far less likely than the small ones (a wrapped count could come out small)
    assert per_obs[[1, 2]].max() < -1e10 < per_obs[[0, 3, 4, 5]].min()
    # the default (the term integrated out by quadrature for the log-concave families) stays finite too
    auto = bm.Model("y ~ x + (1 | g)", frame(y), family=family)
    q = build_model(auto.spec, auto.design)
    assert np.isfinite(q.compile_logp()(q.initial_point()))


# ---------------------------------------------------------------------------- recovery

J, N_PER = 40, 8
TRUE = {"Intercept": 0.5, "x": 0.8, "sd": 0.6}


def simulate(family: str, seed: int = 3, return_effects: bool = False):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), N_PER)
    x = rng.normal(size=J * N_PER)
    b = rng.normal(0, 1.0, J)
    # Standardised so that the realised group effects have exactly mean 0 and SD TRUE["sd"]: the test then
    # checks the model, not how far one draw of 40 effects strayed from its population (seed 3 draws SD 0.675).
    b = (b - b.mean()) / b.std(ddof=1) * TRUE["sd"]
    eta = TRUE["Intercept"] + TRUE["x"] * x + b[g]
    df = pd.DataFrame({"x": x, "g": [f"G{j:02d}" for j in g]})
    if family == "gaussian":
        df["y"] = eta + rng.normal(0, 1.0, len(x))
    elif family == "student_t":
        df["y"] = eta + 1.0 * rng.standard_t(5, len(x))
    elif family == "bernoulli":
        df["y"] = rng.binomial(1, special.expit(eta))
    elif family == "binomial":
        df["n"] = rng.integers(5, 15, len(x))
        df["y"] = rng.binomial(df["n"], special.expit(eta))
    elif family == "poisson":
        df["y"] = rng.poisson(np.exp(eta))
    elif family == "negative_binomial":
        mu = np.exp(eta)
        df["y"] = rng.negative_binomial(5.0, 5.0 / (5.0 + mu))
    elif family == "gamma":
        mu = np.exp(eta)
        df["y"] = rng.gamma(4.0, mu / 4.0)
    elif family == "inverse_gaussian":
        df["y"] = rng.wald(np.exp(eta), 6.0)
    elif family == "beta":
        mu = special.expit(eta)
        df["y"] = rng.beta(mu * 10.0, (1 - mu) * 10.0)
    return (df, b) if return_effects else df


def _oracle_loglik(family: str, df: pd.DataFrame, eta: np.ndarray, aux: np.ndarray) -> float:
    """Log-likelihood of the data given the linear predictor, written with scipy.stats (not bayesmixed)."""
    y = df["y"].to_numpy(float)
    if family == "gaussian":
        return stats.norm.logpdf(y, eta, aux[0]).sum()
    if family == "student_t":
        return stats.t.logpdf(y, aux[1], eta, aux[0]).sum()
    if family == "bernoulli":
        return stats.bernoulli.logpmf(y, special.expit(eta)).sum()
    if family == "binomial":
        return stats.binom.logpmf(y, df["n"].to_numpy(), special.expit(eta)).sum()
    if family == "poisson":
        return stats.poisson.logpmf(y, np.exp(eta)).sum()
    if family == "negative_binomial":
        mu = np.exp(eta)
        return stats.nbinom.logpmf(y, aux[0], aux[0] / (aux[0] + mu)).sum()
    if family == "gamma":
        return stats.gamma.logpdf(y, aux[0], scale=np.exp(eta) / aux[0]).sum()
    if family == "inverse_gaussian":
        return stats.invgauss.logpdf(y, np.exp(eta) / aux[0], scale=aux[0]).sum()
    mu = special.expit(eta)
    return stats.beta.logpdf(y, mu * aux[0], (1 - mu) * aux[0]).sum()


N_AUX = {"gaussian": 1, "student_t": 2, "negative_binomial": 1, "gamma": 1, "inverse_gaussian": 1, "beta": 1}


def representative(family: str, seed: int) -> bool:
    """Whether one simulated data set is typical of its truth, judged without bayesmixed.

    The oracle fit knows the true group effects and maximises the likelihood (scipy) over the intercept, the
    slope and the log of the family's auxiliary parameters. A data set is representative when every oracle
    estimate lies within one standard error of the truth. A Bayesian posterior, which must also learn the
    group effects, is at least as wide as the oracle's, so on such data the 90% interval of a correct model
    covers the truth; on a data set that strays 2 SE (5% of them) it need not, and a recovery test on it
    would test the dice rather than the model.
    """
    df, b = simulate(family, seed, return_effects=True)
    g = np.repeat(np.arange(J), N_PER)
    x = df["x"].to_numpy()
    k = N_AUX.get(family, 0)

    def nll(p):
        return -_oracle_loglik(family, df, p[0] + p[1] * x + b[g], np.exp(p[2:]))

    truth = [TRUE["Intercept"], TRUE["x"]] + [np.log(v) for v in ORACLE_AUX.get(family, ())]
    res = optimize.minimize(nll, np.array(truth[:2] + [0.0] * k), method="BFGS")
    h = np.empty((2 + k, 2 + k))
    eps = 1e-4
    for i in range(2 + k):  # central-difference Hessian
        for j in range(2 + k):
            e_i, e_j = np.eye(2 + k)[i] * eps, np.eye(2 + k)[j] * eps
            h[i, j] = (nll(res.x + e_i + e_j) - nll(res.x + e_i - e_j) - nll(res.x - e_i + e_j)
                       + nll(res.x - e_i - e_j)) / (4 * eps * eps)
    se = np.sqrt(np.diag(np.linalg.inv(h)))
    return bool(np.all(np.abs(res.x - np.array(truth)) < se))


def representative_seed(family: str) -> int:
    return next(s for s in range(3, 103) if representative(family, s))


FAMILIES = ["gaussian", "student_t", "bernoulli", "binomial", "poisson", "negative_binomial", "gamma", "inverse_gaussian", "beta"]
ORACLE_AUX = {"gaussian": (1.0,), "student_t": (1.0, 5.0), "negative_binomial": (5.0,), "gamma": (4.0,), "inverse_gaussian": (6.0,), "beta": (10.0,)}
AUX_TRUE = {"gaussian": ("sigma", 1.0), "student_t": ("sigma", 1.0), "negative_binomial": ("alpha", 5.0), "gamma": ("alpha", 4.0), "inverse_gaussian": ("lam", 6.0), "beta": ("phi", 10.0)}


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_known_parameters_are_recovered(family):
    seed = representative_seed(family)
    df = simulate(family, seed)
    formula = "y | trials(n) ~ x + (1 | g)" if family == "binomial" else "y ~ x + (1 | g)"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model(formula, df, family=family).fit(draws=500, tune=500, chains=2, seed=5, progressbar=False)
    beta = draws_of(fit.idata, "beta")
    checks = {"Intercept": beta[:, 0], "x": beta[:, 1], "sd": draws_of(fit.idata, "sd_g")[:, 0]}
    truth = dict(TRUE)
    if family in AUX_TRUE:
        name, value = AUX_TRUE[family]
        checks[name] = draws_of(fit.idata, name)
        truth[name] = value
    for name, x in checks.items():
        lo, hi = interval(x, 0.90)
        assert lo <= truth[name] <= hi, f"{family}: true {name}={truth[name]} outside 90% interval [{lo:.3f}, {hi:.3f}]"
    assert fit.divergences == 0, f"{family}: {fit.divergences} divergences"
    assert fit.convergence().r_hat.max() < 1.02, f"{family}:\n{fit.convergence().sort_values('r_hat').tail(3)}"
    # log-likelihood stored for LOO
    assert fit.idata.log_likelihood["y"].shape[-1] == len(df)


@pytest.mark.slow
def test_observation_level_effect_absorbs_overdispersion():
    """Poisson with (1 | obs) on overdispersed counts recovers the extra SD."""
    rng = np.random.default_rng(7)
    n = 300
    g = rng.integers(0, 30, n)
    eta = 1.0 + rng.normal(0, 0.5, 30)[g] + rng.normal(0, 0.7, n)
    df = pd.DataFrame({"y": rng.poisson(np.exp(eta)), "g": g, "obs": np.arange(n)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("y ~ 1 + (1 | g) + (1 | obs)", df, family="poisson").fit(draws=500, tune=500, chains=2, seed=2, progressbar=False)
    assert fit.design.block("obs").n_levels == n
    lo, hi = interval(draws_of(fit.idata, "sd_obs")[:, 0], 0.90)
    assert lo <= 0.7 <= hi
    assert fit.divergences == 0
    icc = fit.icc()
    assert "latent" in icc.definition.iloc[0]
