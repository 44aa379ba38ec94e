"""``exponential``: ``y ~ Exponential(mean μ)``, μ = exp(η) (brms's ``exponential``).

Var(y) = μ². No auxiliary parameter. The intercept prior is centred on ``log`` of the mean response
(:meth:`~bayesmixed.families.Family.prior_location_scale`). Latent-scale residual variance (ICC): ``log 2``,
the lognormal approximation ``log(1 + 1/shape)`` of the gamma family at shape 1.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import Family
from .registry import register_family

__all__ = ["Exponential", "log_mean_location"]


def log_mean_location(y: np.ndarray) -> tuple[float, float]:
    """``(log mean of the positive responses, 1)``: the prior location and scale of log-link positive families."""
    pos = y[y > 0]
    return (float(np.log(np.mean(pos))) if len(pos) else 0.0), 1.0


@register_family
class Exponential(Family):
    """``y ~ Exponential(rate 1/μ)``."""

    name = "exponential"
    link_names = ("log",)
    mean_support = "positive"
    log_concave_links = frozenset({"log"})
    has_cdf = True

    def check_values(self, y, trials, label, rows):
        self._check_positive(y, label, rows)

    def logpdf(self, y, eta, aux, trials=None):
        mu = self.link.inverse(eta)
        return -np.log(mu) - y / mu

    def logcdf(self, y, eta, aux, trials=None):
        return stats.expon.logcdf(y, scale=self.link.inverse(eta))

    def logsf(self, y, eta, aux, trials=None):
        return stats.expon.logsf(y, scale=self.link.inverse(eta))

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.Exponential, {"lam": 1.0 / self.link.inverse_pt(eta)}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.exponential(mu)

    def variance(self, mu, aux, trials=None):
        return mu**2

    def latent_variance(self, aux, n_draws, mean_mu):
        return np.full(n_draws, np.log(2.0)), "latent scale, log link: log(1 + 1/shape) at shape 1"

    def variance_function(self, mu, aux):
        return mu**2

    def unit_deviance(self, y, mu, aux):
        return 2 * (-np.log(y / mu) + (y - mu) / mu)

    def pilot_variance(self, mu, pw, disp):
        return mu**2 / np.maximum(pw, 1e-300)

    def prior_location_scale(self, y):
        return log_mean_location(y)
