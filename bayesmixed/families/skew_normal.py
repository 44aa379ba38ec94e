"""``skew_normal``: brms's parameterisation by the mean μ = η, the SD ``sigma`` and the skewness ``alpha``.

With ``δ = α/√(1 + α²)``, the location-scale form is ``ω = σ/√(1 − 2δ²/π)`` (scale) and
``ξ = μ − ωδ√(2/π)`` (location): ``y ~ SkewNormal(ξ, ω, α)`` has mean μ and SD σ whatever α. Default priors
(brms): ``sigma`` half-Student-t(3, 0, max(2.5, SD of y)), ``alpha`` ``Normal(0, 4)``. Var(y) = σ²; the
residual variance of the ICC is σ² (observation scale). PyMC's skew normal has no CDF, so censoring and
truncation are refused.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .base import AuxParam, full
from .gaussian import _LocationScale
from ._priors import SIGMA_T
from .registry import register_family

__all__ = ["SkewNormal"]

_SQRT_2_PI = float(np.sqrt(2.0 / np.pi))


def _location_scale(mu, sigma, alpha, sqrt=np.sqrt):
    """``(ξ, ω)`` of the skew normal with mean ``mu``, SD ``sigma`` and skewness ``alpha``."""
    delta = alpha / sqrt(1.0 + alpha**2)
    omega = sigma / sqrt(1.0 - 2.0 * delta**2 / np.pi)
    return mu - omega * delta * _SQRT_2_PI, omega


@register_family
class SkewNormal(_LocationScale):
    """``y ~ SkewNormal`` with mean μ, SD σ and skewness α (brms)."""

    name = "skew_normal"
    aliases = ("skewnormal",)
    link_names = ("identity", "log")
    aux = (SIGMA_T, AuxParam("alpha", lambda s_y: {"dist": "normal", "mu": 0.0, "sigma": 4.0}, "skewness",
                             positive=False))
    scale_param = "sigma"
    constant_variance = True
    has_cdf = False  # no log CDF here (PyMC's SkewNormal has none): no cens() or trunc()
    log_concave_links = frozenset({"identity"})

    def logpdf(self, y, eta, aux, trials=None):
        loc, omega = _location_scale(self.link.inverse(eta), aux["sigma"], aux["alpha"])
        return stats.skewnorm.logpdf(y, aux["alpha"], loc, omega)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm
        import pytensor.tensor as pt

        loc, omega = _location_scale(self.link.inverse_pt(eta), aux["sigma"], aux["alpha"], pt.sqrt)
        return pm.SkewNormal, {"mu": loc, "sigma": omega, "alpha": aux["alpha"]}

    def sample(self, mu, aux, rng, shape, trials):
        alpha = aux["alpha"]
        loc, omega = _location_scale(mu, aux["sigma"], alpha)
        delta = alpha / np.sqrt(1.0 + alpha**2)
        u0, v = rng.standard_normal(shape), rng.standard_normal(shape)
        z = delta * np.abs(u0) + np.sqrt(1.0 - delta**2) * v  # Azzalini's representation
        return loc + omega * z

    def variance(self, mu, aux, trials=None):
        return full(aux["sigma"] ** 2, mu)

