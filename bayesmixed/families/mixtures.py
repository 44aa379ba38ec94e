"""What the zero-inflated and hurdle families share: a *base* family (Poisson, negative binomial, binomial, beta,
gamma, lognormal) and a probability of zero, parameterised as brms does.

zero-inflated (``zi``: the probability of a structural zero)
    ``p(0) = zi + (1 − zi) f(0)``, ``p(y) = (1 − zi) f(y)`` for ``y > 0``; ``E[y] = (1 − zi) μ``.
hurdle (``hu``: the probability of a zero)
    ``p(0) = hu``, ``p(y) = (1 − hu) f(y) / (1 − f(0))`` for ``y > 0`` (the base truncated to the positive values;
    ``f(0) = 0`` for the continuous bases); ``E[y] = (1 − hu) E_f[y] / (1 − f(0))``.

``f`` is the base family with mean parameter ``μ = g⁻¹(η)`` (the mean of the count or positive part before
zero-inflation or truncation, as brms's ``mu``). The zero probability has brms's default prior ``Beta(1, 1)``
and is a constant of the model (a linear predictor for it, ``zi ~ x``, is distributional regression).

The pilot and the reference fits of pooling use the base family's quantities (a ZIP model's pilot is a Poisson
IRLS fit; a hurdle model's fits only its positive responses). Log p(y | η) of a zero-inflated family is not
concave in η (at y = 0 it flattens towards log zi); a hurdle family's is (a constant at 0, the truncated base
elsewhere), but neither has a quadrature kernel, so no term of them is integrated out by quadrature. Their latent-scale ICC is not defined (the zero part
and the mean part have no common latent scale): :meth:`Family.latent_variance` refuses with that reason.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..errors import BayesMixedError
from .base import AuxParam, Family, log1mexp
from .registry import get_family

__all__ = ["ZeroInflated", "Hurdle", "ZI", "HU"]


def _beta_prior(s_y: float) -> dict:
    return {"dist": "beta", "alpha": 1.0, "beta": 1.0}


#: brms's zero-inflation probability and its default prior
ZI = AuxParam("zi", _beta_prior, "probability of a structural zero", positive=False, unit=True)
#: brms's hurdle probability and its default prior
HU = AuxParam("hu", _beta_prior, "probability of a zero (hurdle)", positive=False, unit=True)


class _ZeroMixture(Family):
    """A base family mixed with a point mass at zero."""

    base_name: ClassVar[str] = ""
    zero_param: ClassVar[str] = ""

    @property
    def base(self) -> Family:
        """The base family, bound to the same link."""
        return get_family(self.base_name, self.link.name)

    def _base_aux(self, aux: dict | None) -> dict:
        return {k: v for k, v in (aux or {}).items() if k != self.zero_param}

    # pilot and reference fits: the base family's
    def variance_function(self, mu, aux):
        return self.base.variance_function(mu, self._base_aux(aux))

    def unit_deviance(self, y, mu, aux):
        return self.base.unit_deviance(y, mu, self._base_aux(aux))

    def irls_start(self, y, pw):
        return self.base.irls_start(y, pw)

    def dispersion_moment(self, y, pw, mu, p):
        return self.base.dispersion_moment(y, pw, mu, p)

    def pilot_variance(self, mu, pw, disp):
        return self.base.pilot_variance(mu, pw, disp)

    def clip_mean(self, mu):
        return self.base.clip_mean(mu)

    def degenerate_levels(self, eta):
        return self.base.degenerate_levels(eta)

    def latent_variance(self, aux, n_draws, mean_mu):
        raise BayesMixedError(
            f"no latent-scale ICC for family {self.name!r}: its zero part ({self.zero_param}) and its mean part have "
            "no common latent scale (Nakagawa et al. define it for the base families only); compare the SDs of "
            "the random effects (fit.varcorr()) or the variance of predictions instead"
        )


class ZeroInflated(_ZeroMixture):
    """``p(0) = zi + (1 − zi) f(0)``, ``p(y) = (1 − zi) f(y)`` (``f``: the base family)."""

    zero_param = "zi"

    def check_values(self, y, trials, label, rows):
        self.base.check_values(y, trials, label, rows)

    def logpdf(self, y, eta, aux, trials=None):
        zi = aux["zi"]
        lp = self.base.logpdf(y, eta, self._base_aux(aux), trials)
        with np.errstate(divide="ignore"):
            return np.where(y == 0, np.logaddexp(np.log(zi), np.log1p(-zi) + lp), np.log1p(-zi) + lp)

    def logcdf(self, y, eta, aux, trials=None):
        zi = aux["zi"]
        lc = self.base.logcdf(y, eta, self._base_aux(aux), trials)
        with np.errstate(divide="ignore"):
            return np.where(y >= 0, np.logaddexp(np.log(zi), np.log1p(-zi) + lc), -np.inf)

    def logsf(self, y, eta, aux, trials=None):
        zi = aux["zi"]
        ls = self.base.logsf(y, eta, self._base_aux(aux), trials)
        return np.where(y >= 0, np.log1p(-zi) + ls, 0.0)

    def sample(self, mu, aux, rng, shape, trials):
        y = self.base.sample(mu, self._base_aux(aux), rng, shape, trials)
        return np.where(rng.random(shape) < aux["zi"], 0.0, y)

    def mean(self, eta, aux=None, trials=None):
        return (1.0 - aux["zi"]) * self.base.mean(eta, self._base_aux(aux), trials)

    def variance(self, mu, aux, trials=None):
        zi = aux["zi"]
        base = self._base_aux(aux)
        m = self.base.mean(self.link.forward(mu), base, trials)
        second = self.base.variance(mu, base, trials) + m**2
        return (1.0 - zi) * second - ((1.0 - zi) * m) ** 2

    def working_weight(self, eta, mu, aux, trials=None):
        """Quasi-likelihood information about η, ``(dE[y]/dη)² / Var(y)`` with ``E[y] = (1 − zi) μ``."""
        zi = aux["zi"]
        d = (1.0 - zi) * self.link.dmu_deta(eta)
        return d**2 / np.maximum(self.variance(mu, aux, trials), 1e-300)

    def boundary_levels(self, y, trials, codes, J):
        return self.base.boundary_levels(y, trials, codes, J)

    def _psi(self, aux):
        return 1.0 - aux["zi"]


class Hurdle(_ZeroMixture):
    """``p(0) = hu``, ``p(y) = (1 − hu) f(y) / (1 − f(0))`` for ``y > 0``."""

    zero_param = "hu"

    def check_values(self, y, trials, label, rows):
        pos = y > 0
        self._check_non_negative(y, label, rows)
        if pos.any():
            self.base.check_values(y[pos], trials if trials is None else trials[pos], label, np.asarray(rows)[pos])

    def _log_p0(self, eta, aux, trials=None):
        """``log f(0)`` of the base (−inf for the continuous bases)."""
        if not self.base.discrete:
            return np.full(np.shape(eta), -np.inf)
        return self.base.logcdf(np.zeros(np.shape(eta)[-1]), eta, self._base_aux(aux), trials)

    def _log_pos(self, eta, aux, trials=None):
        """``log(1 − f(0))``: the probability of a positive value under the base."""
        if not self.base.discrete:
            return np.zeros(np.shape(eta))
        return self.base.logsf(np.zeros(np.shape(eta)[-1]), eta, self._base_aux(aux), trials)

    def logpdf(self, y, eta, aux, trials=None):
        hu = aux["hu"]
        yp = np.where(y > 0, y, 1.0)  # a valid value where y is 0 (that branch is not used)
        lp = self.base.logpdf(yp, eta, self._base_aux(aux), trials) - self._log_pos(eta, aux, trials)
        with np.errstate(divide="ignore"):
            return np.where(y > 0, np.log1p(-hu) + lp, np.log(hu) + 0.0 * lp)

    def logcdf(self, y, eta, aux, trials=None):
        hu = aux["hu"]
        base = self._base_aux(aux)
        yp = np.where(y > 0, y, 1.0)
        # P(0 < Y ≤ y) under the truncated base: (F(y) − F(0)) / (1 − F(0))
        log_pos = self._log_pos(eta, aux, trials)
        if self.base.discrete:
            lc = log1mexp(self.base.logsf(yp, eta, base, trials) - log_pos)
        else:
            lc = self.base.logcdf(yp, eta, base, trials)
        with np.errstate(divide="ignore"):
            return np.where(y > 0, np.logaddexp(np.log(hu), np.log1p(-hu) + lc),
                            np.where(y >= 0, np.log(hu) + 0.0 * lc, -np.inf))

    def logsf(self, y, eta, aux, trials=None):
        hu = aux["hu"]
        base = self._base_aux(aux)
        yp = np.where(y > 0, y, 1.0)
        ls = self.base.logsf(yp, eta, base, trials) - self._log_pos(eta, aux, trials)
        return np.where(y > 0, np.log1p(-hu) + ls, np.where(y >= 0, np.log1p(-hu) + 0.0 * ls, 0.0))

    def sample(self, mu, aux, rng, shape, trials):
        from .bounds import draw

        base = self._base_aux(aux)
        if self.base.discrete:
            pos = draw(self.base, self.link.forward(mu), base, rng, trials, lb=np.ones(shape[-1]))
        else:
            pos = self.base.sample(mu, base, rng, shape, trials)
        return np.where(rng.random(shape) < aux["hu"], 0.0, pos)

    def mean(self, eta, aux=None, trials=None):
        base = self._base_aux(aux)
        m = self.base.mean(eta, base, trials)
        return (1.0 - aux["hu"]) * m / np.exp(self._log_pos(eta, aux, trials))

    def variance(self, mu, aux, trials=None):
        hu = aux["hu"]
        base = self._base_aux(aux)
        eta = self.link.forward(mu)
        m = self.base.mean(eta, base, trials)
        pos = np.exp(self._log_pos(eta, aux, trials))
        second = (self.base.variance(mu, base, trials) + m**2) / pos  # E[y²] of the truncated base
        mean = (1.0 - hu) * m / pos
        return (1.0 - hu) * second - mean**2

    def working_weight(self, eta, mu, aux, trials=None):
        """The base family's information about η from the positive responses, ``(1 − hu)`` of the rows."""
        return (1.0 - aux["hu"]) * self.base.working_weight(eta, mu, self._base_aux(aux), trials)

    def pilot_response(self, y: np.ndarray, pw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positive responses only (zeros get weight 0 and a placeholder value): the pilot fits the mean
        part, as the hurdle's likelihood does."""
        pos = y > 0
        fill = float(np.mean(y[pos])) if pos.any() else 1.0
        y2, pw2 = self.base.pilot_response(np.where(pos, y, fill), pw)
        return y2, np.where(pos, pw2, 0.0)

    def boundary_levels(self, y, trials, codes, J):
        s = np.bincount(codes, (y > 0).astype(float), minlength=J)
        return {int(j): "no positive responses: the mean part has no data" for j in np.flatnonzero(s == 0)}

    def _psi(self, aux):
        return 1.0 - aux["hu"]
