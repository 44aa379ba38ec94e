"""``weibull``: brms's ``weibull``, mean μ = exp(η) and ``shape`` k: ``y ~ Weibull(k, scale = μ / Γ(1 + 1/k))``.

Var(y) = ``λ² (Γ(1 + 2/k) − Γ(1 + 1/k)²)`` with λ the scale. Default prior of ``shape``: ``Gamma(0.01, 0.01)``
(brms); the intercept prior is centred on ``log`` of the mean response. Latent-scale residual variance (ICC):
``π²/(6k²)``, the variance of ``log y`` around ``log λ`` (a Gumbel variable divided by k).
"""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .base import Family
from ._priors import SHAPE
from .exponential import log_mean_location
from .registry import register_family

__all__ = ["Weibull"]


@register_family
class Weibull(Family):
    """``y ~ Weibull(shape k, scale μ/Γ(1 + 1/k))``."""

    name = "weibull"
    link_names = ("log",)
    aux = (SHAPE,)
    mean_support = "positive"
    log_concave_links = frozenset({"log"})
    has_cdf = True
    irls_aux = ("shape",)

    def _scale(self, eta, k):
        return self.link.inverse(eta) / np.exp(special.gammaln(1.0 + 1.0 / k))

    def check_values(self, y, trials, label, rows):
        self._check_positive(y, label, rows)

    def logpdf(self, y, eta, aux, trials=None):
        k = aux["shape"]
        lam = self._scale(eta, k)
        return np.log(k) - np.log(lam) + (k - 1) * (np.log(y) - np.log(lam)) - (y / lam) ** k

    def logcdf(self, y, eta, aux, trials=None):
        k = aux["shape"]
        return stats.weibull_min.logcdf(y, k, scale=self._scale(eta, k))

    def logsf(self, y, eta, aux, trials=None):
        k = aux["shape"]
        with np.errstate(divide="ignore"):
            return np.where(y > 0, -(np.maximum(y, 0) / self._scale(eta, k)) ** k, 0.0)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm
        import pytensor.tensor as pt

        k = aux["shape"]
        return pm.Weibull, {"alpha": k, "beta": self.link.inverse_pt(eta) / pt.exp(pt.gammaln(1.0 + 1.0 / k))}

    def sample(self, mu, aux, rng, shape, trials):
        k = aux["shape"]
        return mu / np.exp(special.gammaln(1.0 + 1.0 / k)) * rng.weibull(k, shape)

    def variance(self, mu, aux, trials=None):
        k = aux["shape"]
        g1, g2 = special.gammaln(1.0 + 1.0 / k), special.gammaln(1.0 + 2.0 / k)
        return mu**2 * np.expm1(g2 - 2 * g1)

    def latent_variance(self, aux, n_draws, mean_mu):
        return np.pi**2 / (6.0 * aux["shape"] ** 2), "latent scale, log link: pi^2/(6 shape^2), the variance of log y"

    def variance_function(self, mu, aux):
        return mu**2

    def unit_deviance(self, y, mu, aux):  # the gamma deviance: a quasi-likelihood with variance ∝ μ²
        return 2 * (-np.log(y / mu) + (y - mu) / mu)

    def dispersion_moment(self, y, pw, mu, p):  # squared coefficient of variation
        return float(np.clip(np.sum(((y - mu) / mu) ** 2) / max(len(y) - p, 1), 1e-6, 1e6))

    def pilot_variance(self, mu, pw, disp):
        return disp * mu**2 / np.maximum(pw, 1e-300)

    def prior_location_scale(self, y):
        return log_mean_location(y)
