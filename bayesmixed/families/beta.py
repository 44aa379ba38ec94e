"""Proportions strictly inside (0, 1): ``beta`` with mean μ and precision φ, ``Beta(μφ, (1 − μ)φ)``,
variance ``μ(1 − μ)/(1 + φ)`` (brms's parameterisation)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import DataError
from .base import AuxParam, Family, binary_deviance, rows_text
from .registry import register_family

__all__ = ["Beta"]


@register_family
class Beta(Family):
    """``y ~ Beta(μφ, (1 − μ)φ)``, μ = g⁻¹(η)."""

    name = "beta"
    link_names = ("logit",)
    aux = (AuxParam("phi", lambda s_y: {"dist": "gamma", "alpha": 0.01, "beta": 0.01}, "precision"),)
    mean_support = "unit"
    has_cdf = True

    def check_values(self, y, trials, label, rows):
        bad = (y <= 0) | (y >= 1)
        if bad.any():
            raise DataError(
                f"beta response {label!r} must lie strictly between 0 and 1; rows {rows_text(bad, rows)} do not "
                f"(e.g. {y[bad][0].item()}); squeeze the values, e.g. (y*(n-1)+0.5)/n, or model the counts as binomial"
            )

    def logpdf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.beta.logpdf(y, mu * phi, (1 - mu) * phi)

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        mu, phi = self.link.inverse_pt(eta), aux["phi"]
        a, b = mu * phi, (1.0 - mu) * phi
        return pt.gammaln(phi) - pt.gammaln(a) - pt.gammaln(b) + (a - 1.0) * pt.log(y) + (b - 1.0) * pt.log1p(-y)

    def logcdf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.beta.logcdf(y, mu * phi, (1 - mu) * phi)

    def logsf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.beta.logsf(y, mu * phi, (1 - mu) * phi)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        mu, phi = self.link.inverse_pt(eta), aux["phi"]
        return pm.Beta, {"alpha": mu * phi, "beta": (1.0 - mu) * phi}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.beta(mu * aux["phi"], (1.0 - mu) * aux["phi"])

    def variance(self, mu, aux, trials=None):
        return mu * (1 - mu) / (1 + aux["phi"])

    def variance_function(self, mu, aux):
        return mu * (1 - mu)

    def unit_deviance(self, y, mu, aux):  # quasi-likelihood: the binomial deviance of a proportion
        return binary_deviance(y, mu)

    def dispersion_moment(self, y, pw, mu, p):  # Var = μ(1−μ)/(1+φ)  →  1/(1+φ)
        return float(np.clip(np.sum((y - mu) ** 2 / (mu * (1 - mu))) / max(len(y) - p, 1), 1e-6, 1.0))

    def pilot_variance(self, mu, pw, disp):
        return disp * mu * (1 - mu)
