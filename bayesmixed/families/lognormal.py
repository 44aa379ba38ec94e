"""``lognormal``: ``log y ~ Normal(μ, σ)``, μ = η (brms's ``lognormal``: ``mu`` and ``sigma`` on the log scale).

E[y] = ``exp(μ + σ²/2)``; Var(y) = ``(exp(σ²) − 1) exp(2μ + σ²)``. Default priors: ``sigma``
half-Student-t(3, 0, max(2.5, SD of log y)); the intercept and coefficients as for a Gaussian model of
``log y`` (:meth:`prior_location_scale`). The latent-scale residual variance (ICC) is σ².
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import Family, sd_or_one
from ._priors import SIGMA_T
from .registry import register_family

__all__ = ["Lognormal"]

_LOG_2PI = float(np.log(2 * np.pi))


def _log(y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(y)


class _LogNormalPart(Family):
    """The log-normal density, CDF and moments (shared with ``hurdle_lognormal``)."""

    def logpdf(self, y, eta, aux, trials=None):
        sigma = aux["sigma"]
        ly = _log(y)
        z = (ly - self.link.inverse(eta)) / sigma
        return -0.5 * z**2 - np.log(sigma) - 0.5 * _LOG_2PI - ly

    def logcdf(self, y, eta, aux, trials=None):
        return stats.norm.logcdf(_log(y), self.link.inverse(eta), aux["sigma"])

    def logsf(self, y, eta, aux, trials=None):
        return stats.norm.logsf(_log(y), self.link.inverse(eta), aux["sigma"])

    def sample(self, mu, aux, rng, shape, trials):
        return rng.lognormal(mu, aux["sigma"])

    def mean(self, eta, aux=None, trials=None):
        return np.exp(np.minimum(self.link.inverse(eta) + 0.5 * aux["sigma"] ** 2, 700.0))

    def variance(self, mu, aux, trials=None):
        s2 = aux["sigma"] ** 2
        return np.expm1(s2) * np.exp(np.minimum(2 * mu + s2, 700.0))

    def variance_function(self, mu, aux):  # the pilot works on log y (pilot_response): least squares
        return np.ones_like(mu)

    def unit_deviance(self, y, mu, aux):
        return (y - mu) ** 2

    def dispersion_moment(self, y, pw, mu, p):
        return float(np.sum(pw * (y - mu) ** 2) / max(len(y) - p, 1))  # σ² of log y

    def pilot_variance(self, mu, pw, disp):
        return np.full_like(mu, disp) / np.maximum(pw, 1e-300)

    def working_weight(self, eta, mu, aux, trials=None):
        """Fisher information about η (the mean of log y): ``1/σ²``."""
        return np.broadcast_to(1.0 / aux["sigma"] ** 2, np.broadcast_shapes(np.shape(eta), np.shape(aux["sigma"])))

    def pilot_response(self, y, pw):
        return _log(np.maximum(y, 1e-300)), pw

    def prior_location_scale(self, y):
        ly = _log(y[y > 0]) if np.any(y > 0) else np.zeros(1)
        return float(np.mean(ly)), sd_or_one(ly)


@register_family
class Lognormal(_LogNormalPart):
    """``y ~ LogNormal(μ, σ)``."""

    name = "lognormal"
    aliases = ("log_normal",)
    link_names = ("identity",)
    aux = (SIGMA_T,)
    scale_param = "sigma"
    mean_support = "real"
    log_concave_links = frozenset({"identity"})
    has_cdf = True

    def check_values(self, y, trials, label, rows):
        self._check_positive(y, label, rows)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.LogNormal, {"mu": self.link.inverse_pt(eta), "sigma": aux["sigma"]}

    def latent_variance(self, aux, n_draws, mean_mu):
        return aux["sigma"] ** 2, "residual variance sigma^2 (log scale)"
