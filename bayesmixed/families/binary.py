"""Binary outcomes: ``bernoulli`` (0/1) and ``binomial`` (successes out of trials); links logit, probit,
cloglog. The logit link enters PyMC and the log densities through η itself (``logit_p=η``), never through a
probability that could round to 0 or 1."""

from __future__ import annotations

import numpy as np
from scipy import special, stats

from ..errors import DataError
from .base import Family, binary_deviance, clip_unit, rows_text
from .registry import register_family

__all__ = ["Bernoulli", "Binomial"]


class _Binary(Family):
    """What Bernoulli and binomial share (the mean is a probability)."""

    link_names = ("logit", "probit", "cloglog")
    discrete = True
    integer_observed = True
    mean_support = "unit"
    log_concave_links = frozenset({"logit", "probit", "cloglog"})
    quadrature_kernels = {"logit": "binomial_logit", "probit": "binomial_probit", "cloglog": "binomial_cloglog"}
    has_cdf = True

    def _p_arg(self, eta) -> dict:
        """PyMC's probability argument: ``logit_p = η`` under the logit link (never a rounded probability)."""
        import pytensor.tensor as pt

        if self.link.name == "logit":
            return {"logit_p": eta}
        return {"p": pt.clip(self.link.inverse_pt(eta), 1e-12, 1 - 1e-12)}

    def _log_p_q(self, eta):
        """``(log p, log(1 − p))`` in NumPy."""
        if self.link.name == "logit":
            return -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)
        p = clip_unit(self.link.inverse(eta))
        return np.log(p), np.log1p(-p)

    def _log_p_q_pt(self, eta):
        """``(log p, log(1 − p))`` in PyTensor."""
        import pytensor.tensor as pt

        if self.link.name == "logit":
            return -pt.softplus(-eta), -pt.softplus(eta)
        p = pt.clip(self.link.inverse_pt(eta), 1e-12, 1 - 1e-12)
        return pt.log(p), pt.log1p(-p)

    def variance_function(self, mu, aux):
        return mu * (1 - mu)

    def unit_deviance(self, y, mu, aux):
        return binary_deviance(y, mu)

    def irls_start(self, y, pw):
        return (pw * y + 0.5) / (pw + 1.0)

    def pilot_variance(self, mu, pw, disp):
        return mu * (1 - mu) / np.maximum(pw, 1.0)

    def boundary_levels(self, y, trials, codes, J):
        t = np.ones(len(y)) if trials is None else np.asarray(trials, dtype=float)
        succ = np.bincount(codes, y, minlength=J)
        tot = np.bincount(codes, t, minlength=J)
        out: dict[int, str] = {}
        for j in range(J):
            if tot[j] == 0:
                out[j] = "no trials: no information"
            elif succ[j] == 0:
                out[j] = "all failures: ML estimate is -inf (separation)"
            elif succ[j] == tot[j]:
                out[j] = "all successes: ML estimate is +inf (separation)"
        return out

    def degenerate_levels(self, eta):
        return np.abs(eta), "fitted probabilities of 0 or 1: no finite ML estimate (quasi-separation)"


@register_family
class Bernoulli(_Binary):
    """``y ~ Bernoulli(g⁻¹(η))``, y in {0, 1} (or a two-level category: the second level is a success)."""

    name = "bernoulli"
    aliases = ("logistic",)
    two_level_category = True

    def check_values(self, y, trials, label, rows):
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            vals = np.unique(y[bad])[:5].tolist()
            raise DataError(
                f"bernoulli response {label!r} must be 0/1, boolean or a two-level category; rows "
                f"{rows_text(bad, rows)} hold {list(vals)} (for counts out of n use family='binomial' with cbind())"
            )

    def logpdf(self, y, eta, aux, trials=None):
        if self.link.name == "logit":
            return -np.logaddexp(0.0, np.where(y == 1, -eta, eta))
        p = clip_unit(self.link.inverse(eta))
        return np.where(y == 1, np.log(p), np.log1p(-p))

    def logp_eta(self, y, eta, aux, trials=None):
        log_p, log_q = self._log_p_q_pt(eta)
        return y * log_p + (1 - y) * log_q

    def logcdf(self, y, eta, aux, trials=None):
        return stats.bernoulli.logcdf(y, clip_unit(self.link.inverse(eta)))

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.Bernoulli, self._p_arg(eta)

    def sample(self, mu, aux, rng, shape, trials):
        return (rng.random(shape) < mu).astype(float)

    def variance(self, mu, aux, trials=None):
        return mu * (1 - mu)


@register_family
class Binomial(_Binary):
    """``y ~ Binomial(n, g⁻¹(η))``: ``cbind(s, f) ~ ...`` or ``s | trials(n) ~ ...``."""

    name = "binomial"
    needs_trials = True

    def check_values(self, y, trials, label, rows):
        self._check_counts(y, label, rows)
        bad_t = (trials < 0) | (trials != np.round(trials))
        if bad_t.any():
            raise DataError(f"numbers of trials in {label!r} must be whole and non-negative: rows {rows_text(bad_t, rows)}")
        over = y > trials
        if over.any():
            raise DataError(
                f"successes exceed trials in {label!r} on rows {rows_text(over, rows)}; in cbind(s, f) the second "
                "argument is the number of failures, in s | trials(n) it is the number of trials"
            )

    def logpdf(self, y, eta, aux, trials=None):
        log_p, log_q = self._log_p_q(eta)
        return (special.gammaln(trials + 1) - special.gammaln(y + 1) - special.gammaln(trials - y + 1)
                + y * log_p + (trials - y) * log_q)

    def logp_eta(self, y, eta, aux, trials=None):
        import pytensor.tensor as pt

        log_p, log_q = self._log_p_q_pt(eta)
        return (pt.gammaln(trials + 1.0) - pt.gammaln(y + 1.0) - pt.gammaln(trials - y + 1.0)
                + y * log_p + (trials - y) * log_q)

    def logcdf(self, y, eta, aux, trials=None):
        return stats.binom.logcdf(y, trials, clip_unit(self.link.inverse(eta)))

    def logsf(self, y, eta, aux, trials=None):
        return stats.binom.logsf(y, trials, clip_unit(self.link.inverse(eta)))

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.Binomial, {"n": trials, **self._p_arg(eta)}

    def sample(self, mu, aux, rng, shape, trials):
        n = np.broadcast_to(np.asarray(trials, dtype=np.int64), shape)
        return rng.binomial(n, np.clip(mu, 0.0, 1.0)).astype(float)

    def variance(self, mu, aux, trials=None):
        return mu * (1 - mu) / np.maximum(trials, 1)  # of the proportion
