"""``beta_binomial``: successes out of trials with an overdispersed probability, brms's ``beta_binomial``: mean
probability μ = g⁻¹(η) and precision ``phi``, ``y ~ BetaBinomial(n, μφ, (1 − μ)φ)``.

Var(y/n) = ``μ(1 − μ)(n + φ) / (n (1 + φ))``. Default prior of ``phi``: ``Gamma(0.01, 0.01)`` (brms). The
response is written as for ``binomial`` (``cbind(s, f)`` or ``s | trials(n)``). PyMC's beta-binomial has no
vectorised CDF, so censoring and truncation are refused; there is no latent-scale ICC (the overdispersion has
no residual variance on the link scale).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import BayesMixedError
from ._priors import PHI
from .base import Family
from .binary import Binomial
from .registry import register_family

__all__ = ["BetaBinomial"]


@register_family
class BetaBinomial(Binomial):
    """``y ~ BetaBinomial(n, μφ, (1 − μ)φ)``."""

    name = "beta_binomial"
    aliases = ("betabinomial",)
    aux = (PHI,)
    integer_observed = True
    log_concave_links = frozenset()
    quadrature_kernels = {}
    has_cdf = False
    irls_aux = ("phi",)
    logp_eta = Family.logp_eta  # PyMC's beta-binomial, not the binomial density

    def logpdf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.betabinom.logpmf(y, trials, mu * phi, (1 - mu) * phi)

    def logcdf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.betabinom.logcdf(y, trials, mu * phi, (1 - mu) * phi)

    def logsf(self, y, eta, aux, trials=None):
        mu, phi = self.link.inverse(eta), aux["phi"]
        return stats.betabinom.logsf(y, trials, mu * phi, (1 - mu) * phi)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm
        import pytensor.tensor as pt

        mu = pt.clip(self.link.inverse_pt(eta), 1e-12, 1 - 1e-12)
        phi = aux["phi"]
        return pm.BetaBinomial, {"n": trials, "alpha": mu * phi, "beta": (1.0 - mu) * phi}

    def sample(self, mu, aux, rng, shape, trials):
        n = np.broadcast_to(np.asarray(trials, dtype=np.int64), shape)
        phi = aux["phi"]
        p = rng.beta(np.maximum(mu * phi, 1e-300), np.maximum((1 - mu) * phi, 1e-300))
        return rng.binomial(n, p).astype(float)

    def variance(self, mu, aux, trials=None):
        n = np.maximum(trials, 1)
        phi = aux["phi"]
        return mu * (1 - mu) * (n + phi) / (n * (1 + phi))

    def dispersion_moment(self, y, pw, mu, p):  # Var(y/n) = μ(1−μ)/n · (1 + (n − 1)ρ), ρ = 1/(1 + φ)
        n = np.maximum(pw, 1.0)
        ratio = np.sum((y - mu) ** 2 * n / np.maximum(mu * (1 - mu), 1e-12)) / max(len(y) - p, 1)
        return float(max(ratio, 1.0))

    def pilot_variance(self, mu, pw, disp):
        return disp * mu * (1 - mu) / np.maximum(pw, 1.0)

    def latent_variance(self, aux, n_draws, mean_mu):
        raise BayesMixedError(
            "no latent-scale ICC for family 'beta_binomial': its overdispersion has no residual variance on the "
            f"{self.link.name} scale; compare the SDs of the random effects (fit.varcorr()) instead"
        )
