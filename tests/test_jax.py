"""The JAX path: numpyro's NUTS (through PyMC) samples the same posteriors as nutpie, marginal models included.

numpyro and JAX are in the test extras, so these run in CI; where they are not installed they skip."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.errors import BayesMixedError
from bayesmixed.sampling import jax_chain_method

from conftest import assert_posteriors_agree, fit_model

pytest.importorskip("numpyro")


def _check_jax_fit(fit):
    info = fit.sampler_info
    assert info["sampler"] == "numpyro"
    assert "numpyro" in info["versions"]
    assert info["chain_method"] == "parallel"  # the CPU: one device, chains one after another
    ss = fit.idata.sample_stats
    assert int(ss["diverging"].sum()) == 0
    assert float(ss["n_steps"].mean()) >= 1  # the benchmark's gradients per draw come from this
    assert fit.idata.log_likelihood["y"].shape[:2] == (2, 500)  # LOO/WAIC work on it as on any other fit


@pytest.mark.slow
def test_numpyro_agrees_with_nutpie_on_quadrature_binomial(cbpp_fit):
    """cbpp's herds are integrated out by adaptive quadrature (a host callback into the numba kernel in JAX)."""
    fit = fit_model(
        "cbind(incidence, size - incidence) ~ period + (1 | herd)", bm.datasets.load("cbpp"), family="binomial",
        sampler="numpyro",
    )
    _check_jax_fit(fit)
    assert fit.sampler_info["parameterization"] == cbpp_fit.sampler_info["parameterization"] == {"herd": "quadrature"}
    assert_posteriors_agree(fit, cbpp_fit, ["beta", "sd_herd", "r_herd"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # cbpp has a few influential rows (Pareto k > 0.7) whichever sampler
        assert np.isfinite(fit.loo().elpd_loo)


@pytest.mark.slow
def test_numpyro_agrees_with_nutpie_on_marginal_gaussian(sleep_fit):
    """sleepstudy's ``(Days | Subject)`` is integrated out (signed SDs, β integrated too): the JAX graph of the
    marginal likelihood, then β and the subjects' effects drawn afterwards, as with nutpie."""
    fit = fit_model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"), sampler="numpyro")
    _check_jax_fit(fit)
    assert fit.sampler_info["parameterization"] == {"Subject": "marginal"}
    assert_posteriors_agree(fit, sleep_fit, ["beta", "sd_Subject", "corr_Subject", "sigma", "r_Subject"])


@pytest.mark.slow
def test_numpyro_agrees_with_nutpie_on_sparse_marginal_gaussian():
    """Pastes' nested terms are integrated out through the sparse Cholesky Op (a host callback in JAX)."""
    pastes = bm.datasets.load("Pastes")
    fits = [fit_model("strength ~ 1 + (1 | batch/cask)", pastes, sampler=s) for s in ("numpyro", "nutpie")]
    _check_jax_fit(fits[0])
    assert fits[0].sampler_info["parameterization"] == {"batch": "marginal", "batch:cask": "marginal"}
    assert_posteriors_agree(fits[0], fits[1], ["beta", "sd_batch", "sd_batch:cask", "sigma", "r_batch:cask"])


def test_chain_method_override(monkeypatch):
    monkeypatch.setenv("BAYESMIXED_JAX_CHAIN_METHOD", "vectorized")
    assert jax_chain_method(4) == "vectorized"
    monkeypatch.setenv("BAYESMIXED_JAX_CHAIN_METHOD", "sideways")
    with pytest.raises(BayesMixedError, match="BAYESMIXED_JAX_CHAIN_METHOD='sideways'"):
        jax_chain_method(4)
    monkeypatch.delenv("BAYESMIXED_JAX_CHAIN_METHOD")
    assert jax_chain_method(4) == "parallel"  # CPU
