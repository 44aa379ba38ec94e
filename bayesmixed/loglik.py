"""Pointwise log-likelihood of every observation given each posterior draw (numpy/scipy, no PyMC).

It is conditional on the random effects (as brms and rstanarm store it), for every parameterisation,
including the marginalised one whose random effects are drawn after sampling. The densities are the
families' (:meth:`bayesmixed.families.Family.logpdf`); with brms's response terms, weighted, censored and
truncated as :mod:`bayesmixed.families.bounds` says (a row's log-likelihood times its weight, as brms's
``log_lik``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _arviz
from . import naming as N
from ._kernels import gaussian_logpdf_inplace, use_kernels
from .design import Design
from .families import Family, as_family
from .summaries import family_inputs, linear_predictor, linear_predictors, residual_sd

if TYPE_CHECKING:
    from .spec import ModelSpec

__all__ = ["pointwise_loglik", "add_log_likelihood"]


def pointwise_loglik(
    idata, design: Design, family: str | Family, link: str | None = None, chunk: int = 256
) -> np.ndarray:
    """Array ``(chain, draw, n)`` of log p(y_i | θ_s), computed in chunks of draws (every predicted parameter
    from its own linear predictor: ``sigma`` per row in ``bf(..., sigma=~...)``; the category's probability for
    ordinal and categorical families)."""
    fam = as_family(family, link)
    post = idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    S = C * D
    y = np.asarray(design.y)
    terms = design.response_terms
    if terms is not None:  # weights(), cens(), trunc(): families.bounds
        from .families import bounds

        arrays = terms.arrays()
        out = np.empty((S, design.n))
        for start in range(0, S, chunk):
            idx = np.arange(start, min(start + chunk, S))
            eta, aux = family_inputs(idata, fam, linear_predictors(idata, design, idx), idx)
            out[idx[0] : idx[-1] + 1] = bounds.logpdf(fam, y, eta, aux, design.trials, **arrays)
        return out.reshape(C, D, design.n)
    if design.autocor is not None and design.autocor.kind == "ar":
        return _ar1_loglik(idata, design, fam, residual_sd(idata), chunk).reshape(C, D, design.n)
    if fam.linear_gaussian and not design.dpars and use_kernels(S * design.n):
        # one fused pass per term and one for the density, in place, over all draws at once
        out = linear_predictor(idata, design, np.arange(S))
        return gaussian_logpdf_inplace(out, y, residual_sd(idata)).reshape(C, D, design.n)
    out = np.empty((S, design.n))
    for start in range(0, S, chunk):
        idx = np.arange(start, min(start + chunk, S))
        eta, aux = family_inputs(idata, fam, linear_predictors(idata, design, idx), idx)
        out[idx[0] : idx[-1] + 1] = fam.logpdf(y, eta, aux, design.trials)
    return out.reshape(C, D, design.n)


def _ar1_loglik(idata, design: Design, fam: Family, sigma: np.ndarray, chunk: int) -> np.ndarray:
    """``(S, n)``: log density of each residual given the previous one of its series (AR(1), Gaussian identity
    link; ``bayesmixed.design.autocor``); the terms add up to the exact joint log density."""
    post = idata.posterior
    S = len(sigma)
    phi = post[N.AR].values.reshape(S)
    ac = design.autocor
    has = ac.prev >= 0
    prev = np.where(has, ac.prev, 0)
    lag = np.maximum(ac.lag, 1.0)
    y = np.asarray(design.y, dtype=float)
    out = np.empty((S, design.n))
    for start in range(0, S, chunk):
        idx = np.arange(start, min(start + chunk, S))
        eta = linear_predictor(idata, design, idx)
        pl = np.where(has, phi[idx, None] ** lag, 0.0)
        mean = eta + pl * (y - eta)[:, prev]
        out[idx] = fam.logpdf(y, mean, {fam.scale_param: sigma[idx, None] * np.sqrt(1.0 - pl**2)}, design.trials)
    return out


def add_log_likelihood(idata, spec: ModelSpec, design: Design) -> None:
    """Add the ``log_likelihood`` group (variable ``y``, dims chain, draw, obs)."""
    import xarray as xr

    ll = pointwise_loglik(idata, design, spec.family_obj)
    post = idata.posterior
    da = xr.DataArray(
        ll,
        dims=("chain", "draw", N.OBS),
        coords={"chain": post["chain"].values, "draw": post["draw"].values, N.OBS: np.arange(design.n)},
    )
    _arviz.set_group(idata, "log_likelihood", xr.Dataset({N.RESPONSE: da}))
