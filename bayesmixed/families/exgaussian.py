"""``exgaussian``: brms's exponentially modified Gaussian, ``y = N(μ − β, σ) + Exponential(mean β)``, with the
mean μ = η (brms's ``mu``), ``sigma`` and ``exp_scale`` (brms's ``beta``: the exponential component's mean
and SD, renamed because ``beta`` names the fixed effects here).

Var(y) = σ² + β². Default priors (brms): ``sigma`` half-Student-t(3, 0, max(2.5, SD of y)), ``exp_scale``
``Gamma(1, 0.1)``. The residual variance of the ICC is σ² + β² (observation scale).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import AuxParam, full
from .gaussian import _LocationScale
from ._priors import SIGMA_T
from .registry import register_family

__all__ = ["ExGaussian"]


@register_family
class ExGaussian(_LocationScale):
    """``y ~ ExGaussian(μ − β, σ, β)`` (mean μ)."""

    name = "exgaussian"
    aliases = ("exponentially_modified_gaussian", "ex_gaussian")
    link_names = ("identity", "log")
    aux = (SIGMA_T, AuxParam("exp_scale", lambda s_y: {"dist": "gamma", "alpha": 1.0, "beta": 0.1},
                             "mean of the exponential component (brms: beta)"))
    scale_param = "sigma"
    constant_variance = True
    log_concave_links = frozenset({"identity"})
    has_cdf = True

    def _scipy(self, eta, aux):
        beta, sigma = aux["exp_scale"], aux["sigma"]
        return stats.exponnorm(beta / sigma, loc=self.link.inverse(eta) - beta, scale=sigma)

    def logpdf(self, y, eta, aux, trials=None):
        return self._scipy(eta, aux).logpdf(y)

    def logcdf(self, y, eta, aux, trials=None):
        return self._scipy(eta, aux).logcdf(y)

    def logsf(self, y, eta, aux, trials=None):
        return self._scipy(eta, aux).logsf(y)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        beta = aux["exp_scale"]
        return pm.ExGaussian, {"mu": self.link.inverse_pt(eta) - beta, "sigma": aux["sigma"], "nu": beta}

    def sample(self, mu, aux, rng, shape, trials):
        beta = aux["exp_scale"]
        return rng.normal(mu - beta, aux["sigma"]) + rng.exponential(beta)

    def variance(self, mu, aux, trials=None):
        return full(aux["sigma"] ** 2 + aux["exp_scale"] ** 2, mu)

    def latent_variance(self, aux, n_draws, mean_mu):
        if self.link.name == "identity":
            return aux["sigma"] ** 2 + aux["exp_scale"] ** 2, "residual variance sigma^2 + exp_scale^2 (observation scale)"
        return super().latent_variance(aux, n_draws, mean_mu)
