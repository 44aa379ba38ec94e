"""Unbounded counts: ``poisson`` and ``negative_binomial`` (NB2: variance ``μ + μ²/α``), log link."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from .base import AuxParam, Family
from .registry import register_family

__all__ = ["Poisson", "NegativeBinomial"]


class _Count(Family):
    """What the count families share."""

    link_names = ("log",)
    discrete = True
    mean_support = "positive"
    log_concave_links = frozenset({"log"})
    has_cdf = True

    def check_values(self, y, trials, label, rows):
        self._check_counts(y, label, rows)

    def _log_mu(self, eta):
        """log μ as a PyTensor expression (η itself under the log link)."""
        import pytensor.tensor as pt

        return eta if self.link.name == "log" else pt.log(self.link.inverse_pt(eta))

    def irls_start(self, y, pw):
        return y + 0.1

    def boundary_levels(self, y, trials, codes, J):
        s = np.bincount(codes, y, minlength=J)
        return {int(j): "all counts zero: ML estimate is -inf" for j in np.flatnonzero(s == 0)}

    def degenerate_levels(self, eta):
        return -eta, "fitted means of 0: no finite ML estimate"

    def _lognormal_latent(self, mean_mu, extra=0.0):
        v = 1.0 / mean_mu() + extra
        return np.log1p(v), "latent scale, log link: lognormal approximation log(1 + 1/lambda [+ 1/alpha])"


@register_family
class Poisson(_Count):
    quadrature_kernels = {"log": "poisson_log"}

    """``y ~ Poisson(exp(η))``."""

    name = "poisson"

    def logpdf(self, y, eta, aux, trials=None):
        mu = self.link.inverse(eta)
        return y * np.log(mu) - mu - special.gammaln(y + 1)

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        return y * self._log_mu(eta) - self.link.inverse_pt(eta) - pt.gammaln(y + 1.0)

    def logcdf(self, y, eta, aux, trials=None):
        return stats.poisson.logcdf(y, self.link.inverse(eta))

    def logsf(self, y, eta, aux, trials=None):
        return stats.poisson.logsf(y, self.link.inverse(eta))

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.Poisson, {"mu": self.link.inverse_pt(eta)}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.poisson(mu).astype(float)

    def variance(self, mu, aux, trials=None):
        return mu

    def latent_variance(self, aux, n_draws, mean_mu):
        return self._lognormal_latent(mean_mu)

    def variance_function(self, mu, aux):
        return mu

    def unit_deviance(self, y, mu, aux):
        return 2 * (special.xlogy(y, y / mu) - (y - mu))

    def pilot_variance(self, mu, pw, disp):
        return mu


@register_family
class NegativeBinomial(_Count):
    """``y ~ NegativeBinomial(μ = exp(η), α)``: variance ``μ + μ²/α`` (α: reciprocal dispersion, rstanarm's
    ``reciprocal_dispersion``, brms's ``shape``)."""

    name = "negative_binomial"
    aliases = ("negbinomial", "negbin", "neg_binomial_2")
    aux = (AuxParam("alpha", lambda s_y: {"dist": "exponential", "lam": 1.0}, "reciprocal dispersion"),)
    irls_aux = ("alpha",)

    def logpdf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.nbinom.logpmf(y, alpha, alpha / (alpha + mu))

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        alpha = aux["alpha"]
        log_mu = self._log_mu(eta)
        log_sum = pt.logaddexp(pt.log(alpha), log_mu)  # log(α + μ)
        return (pt.gammaln(y + alpha) - pt.gammaln(alpha) - pt.gammaln(y + 1.0)
                + alpha * (pt.log(alpha) - log_sum) + y * (log_mu - log_sum))

    def logcdf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.nbinom.logcdf(y, alpha, alpha / (alpha + mu))

    def logsf(self, y, eta, aux, trials=None):
        mu, alpha = self.link.inverse(eta), aux["alpha"]
        return stats.nbinom.logsf(y, alpha, alpha / (alpha + mu))

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.NegativeBinomial, {"mu": self.link.inverse_pt(eta), "alpha": aux["alpha"]}

    def sample(self, mu, aux, rng, shape, trials):
        return rng.poisson(rng.gamma(aux["alpha"], mu / aux["alpha"])).astype(float)

    def variance(self, mu, aux, trials=None):
        return mu + mu**2 / aux["alpha"]

    def latent_variance(self, aux, n_draws, mean_mu):
        return self._lognormal_latent(mean_mu, 1.0 / aux["alpha"])

    def variance_function(self, mu, aux):
        alpha = aux.get("alpha")
        return mu + mu**2 / (alpha if alpha else np.inf)

    def unit_deviance(self, y, mu, aux):
        a = aux.get("alpha") or 1e12
        return 2 * (special.xlogy(y, y / mu) - (y + a) * np.log((y + a) / (mu + a)))

    def dispersion_moment(self, y, pw, mu, p):  # Var = μ + μ²/α  →  1/α
        inv_alpha = np.sum((y - mu) ** 2 - mu) / max(np.sum(mu**2), 1e-300)
        return float(np.clip(inv_alpha, 1e-6, 1e6))

    def pilot_variance(self, mu, pw, disp):
        return mu + disp * mu**2
