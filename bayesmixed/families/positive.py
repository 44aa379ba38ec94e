"""Positive continuous responses: ``gamma`` (shape α, mean μ: variance ``μ²/α``) and ``inverse_gaussian``
(``Wald(μ, λ)``: variance ``μ³/λ``)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import AuxParam, Family
from .registry import register_family

__all__ = ["Gamma", "InverseGaussian"]


def _brms_shape_prior(s_y: float) -> dict:
    return {"dist": "gamma", "alpha": 0.01, "beta": 0.01}


class _Positive(Family):
    mean_support = "positive"
    has_cdf = True

    def check_values(self, y, trials, label, rows):
        self._check_positive(y, label, rows)


@register_family
class Gamma(_Positive):
    """``y ~ Gamma(shape = α, rate = α/μ)``."""

    name = "gamma"
    link_names = ("log", "inverse")
    aux = (AuxParam("alpha", _brms_shape_prior, "shape"),)
    log_concave_links = frozenset({"log"})

    def logpdf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.gamma.logpdf(y, alpha, scale=mu / alpha)

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        alpha = aux["alpha"]
        log_mu = eta if self.link.name == "log" else pt.log(self.link.inverse_pt(eta))
        return (alpha * (pt.log(alpha) - log_mu) + (alpha - 1.0) * pt.log(y) - pt.gammaln(alpha)
                - alpha * y * pt.exp(-log_mu))

    def logcdf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.gamma.logcdf(y, alpha, scale=mu / alpha)

    def logsf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.gamma.logsf(y, alpha, scale=mu / alpha)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        mu, alpha = self.link.inverse_pt(eta), aux["alpha"]
        return pm.Gamma, {"alpha": alpha, "beta": alpha / mu}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.gamma(aux["alpha"], mu / aux["alpha"])

    def variance(self, mu, aux, trials=None):
        return mu**2 / aux["alpha"]

    def latent_variance(self, aux, n_draws, mean_mu):
        if self.link.name == "log":
            return np.log1p(1.0 / aux["alpha"]), "latent scale, log link: log(1 + 1/shape)"
        return super().latent_variance(aux, n_draws, mean_mu)

    def variance_function(self, mu, aux):
        return mu**2

    def unit_deviance(self, y, mu, aux):
        return 2 * (-np.log(y / mu) + (y - mu) / mu)

    def dispersion_moment(self, y, pw, mu, p):  # Var = μ²/α  →  1/α
        return float(np.clip(np.sum(((y - mu) / mu) ** 2) / max(len(y) - p, 1), 1e-6, 1e6))

    def pilot_variance(self, mu, pw, disp):
        return disp * mu**2


@register_family
class InverseGaussian(_Positive):
    """``y ~ Wald(μ, λ)``."""

    name = "inverse_gaussian"
    link_names = ("log",)
    aliases = ("inverse.gaussian", "wald")
    aux = (AuxParam("lam", _brms_shape_prior, "shape (λ)"),)

    def logpdf(self, y, eta, aux, trials=None):
        mu, lam = self.link.inverse(eta), aux["lam"]
        return 0.5 * (np.log(lam) - np.log(2 * np.pi) - 3 * np.log(y)) - lam * (y - mu) ** 2 / (2 * mu**2 * y)

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        mu, lam = self.link.inverse_pt(eta), aux["lam"]
        return 0.5 * (pt.log(lam) - np.log(2 * np.pi) - 3 * pt.log(y)) - lam * (y - mu) ** 2 / (2 * mu**2 * y)

    def logcdf(self, y, eta, aux, trials=None):
        mu, lam = self.link.inverse(eta), aux["lam"]
        return stats.invgauss.logcdf(y, mu / lam, scale=lam)

    def logsf(self, y, eta, aux, trials=None):
        mu, lam = self.link.inverse(eta), aux["lam"]
        return stats.invgauss.logsf(y, mu / lam, scale=lam)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.Wald, {"mu": self.link.inverse_pt(eta), "lam": aux["lam"]}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.wald(mu, aux["lam"])

    def variance(self, mu, aux, trials=None):
        return mu**3 / aux["lam"]

    def variance_function(self, mu, aux):
        return mu**3

    def unit_deviance(self, y, mu, aux):
        return (y - mu) ** 2 / (y * mu**2)

    def dispersion_moment(self, y, pw, mu, p):  # Var = μ³/λ  →  1/λ
        return float(np.clip(np.sum((y - mu) ** 2 / mu**3) / max(len(y) - p, 1), 1e-12, 1e6))

    def pilot_variance(self, mu, pw, disp):
        return disp * mu**3
