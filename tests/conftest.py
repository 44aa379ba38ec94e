"""Shared fitted models: each real data set is sampled once per test session and reused."""

from __future__ import annotations

import warnings

import matplotlib
import pytest

import bayesmixed as bm

matplotlib.use("Agg")

FAST = dict(draws=500, tune=500, chains=2, seed=11, progressbar=False)


def fit_model(formula: str, data, **kw):
    """Fit with the test defaults (2 chains x 500 draws); keyword arguments override model or fit options."""
    model_kw = {k: kw.pop(k) for k in ("family", "link", "priors", "parameterization", "missing") if k in kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.Model(formula, data, **model_kw).fit(**{**FAST, **kw})


def assert_posteriors_agree(a_fit, b_fit, variables, bound: float = 4.5) -> None:
    """Posterior means of ``variables`` from two fits differ by less than ``bound`` combined Monte Carlo
    standard errors, elementwise (random effects included)."""
    import arviz as az
    import numpy as np

    for var in variables:
        a, b = a_fit.idata.posterior[var], b_fit.idata.posterior[var]
        se = np.sqrt(az.mcse(a_fit.idata, var_names=[var])[var] ** 2 + az.mcse(b_fit.idata, var_names=[var])[var] ** 2)
        z = np.abs(a.mean(("chain", "draw")) - b.mean(("chain", "draw"))) / se
        assert float(z.max()) < bound, (var, z.values)


@pytest.fixture(scope="session")
def sleep_fit():
    return fit_model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"))


@pytest.fixture(scope="session")
def sleep_intercept_fit():
    return fit_model("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))


@pytest.fixture(scope="session")
def radon_fit():
    return fit_model("log_radon ~ floor + (1 | county)", bm.datasets.load("radon"))


@pytest.fixture(scope="session")
def dyestuff_fit():
    return fit_model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"))


@pytest.fixture(scope="session")
def dyestuff2_fit():
    return fit_model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff2"))


@pytest.fixture(scope="session")
def cbpp_fit():
    return fit_model(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)", bm.datasets.load("cbpp"), family="binomial"
    )


def _synthetic_fit(
    formula, data, params, family="gaussian", chains=2, draws=200, seed=0, jitter=0.0, loglik=True, model_kwargs=None
):
    """A Fit whose posterior is made up (no sampling): every draw has the population-level values of
    ``params`` (plus ``jitter`` × standard normal noise on beta); each level's effects are one draw from
    N(0, G), varied across posterior draws with 10% of that spread.

    ``params``: {"beta": {name: v}, "sd": {label: [v, ...]}, "corr": {label: matrix}, "sigma": v, ...};
    ``model_kwargs``: further arguments of ``bm.Model`` (``contrasts=``, ``weights=``).
    """
    import arviz as az
    import numpy as np

    from bayesmixed.fit import Fit

    model = bm.Model(formula, data, family=family, **(model_kwargs or {}))
    design, rng = model.design, np.random.default_rng(seed)
    S = (chains, draws)
    post = {}
    dims = {}
    coords = {"coef": list(design.x_names)}
    beta = np.array([params["beta"][n] for n in design.x_names], dtype=float)
    post["beta"] = beta + jitter * rng.standard_normal(S + beta.shape)
    dims["beta"] = ["coef"]
    for b in design.blocks:
        lab = b.label
        sd = np.asarray(params["sd"][lab], dtype=float)
        C = np.asarray(params.get("corr", {}).get(lab, np.eye(b.k)), dtype=float)
        L = np.linalg.cholesky(C * np.outer(sd, sd))
        post[f"sd_{lab}"] = np.broadcast_to(sd, S + sd.shape).copy()
        base = rng.standard_normal((b.n_levels, b.k)) @ L.T  # each level's effects, ±10% of G across draws
        post[f"r_{lab}"] = base + 0.1 * rng.standard_normal(S + (b.n_levels, b.k)) @ L.T
        dims[f"sd_{lab}"] = [f"{lab}_coef"]
        dims[f"r_{lab}"] = [lab, f"{lab}_coef"]
        coords.update({lab: list(b.levels), f"{lab}_coef": list(b.coef_names), f"{lab}_coef2": list(b.coef_names)})
        if b.correlated:
            post[f"corr_{lab}"] = np.broadcast_to(C, S + C.shape).copy()
            dims[f"corr_{lab}"] = [f"{lab}_coef", f"{lab}_coef2"]
    for aux in ("sigma", "nu", "alpha", "phi", "lam"):
        if aux in params:
            post[aux] = np.full(S, float(params[aux]))
    idata = az.from_dict(posterior=post, dims=dims, coords=coords, sample_stats={"diverging": np.zeros(S, bool)})
    fit = Fit(spec=model.spec, design=design, idata=idata, sampler_info={"chains": chains, "draws": draws})
    return fit.add_log_likelihood() if loglik else fit


@pytest.fixture(scope="session")
def synthetic_fit():
    """Factory of fits with made-up posteriors (fast, exact tests of prediction and comparison code)."""
    return _synthetic_fit
