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
