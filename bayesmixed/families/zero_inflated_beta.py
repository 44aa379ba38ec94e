"""``zero_inflated_beta``: brms's ``zero_inflated_beta``: proportions in [0, 1) with exact zeros, ``p(0) = zi``
and ``(1 − zi) Beta(y; μφ, (1 − μ)φ)`` for ``0 < y < 1``, μ = g⁻¹(η). Default priors (brms): ``phi``
``Gamma(0.01, 0.01)``, ``zi`` ``Beta(1, 1)``. E[y] = ``(1 − zi) μ``. The PyMC likelihood is a ``CustomDist``
with this log density and these draws. No CDF: censoring and truncation are refused.
"""

from __future__ import annotations

import numpy as np

from ..errors import DataError
from .base import rows_text
from ._priors import PHI
from .mixtures import ZI, ZeroInflated
from .registry import register_family

__all__ = ["ZeroInflatedBeta"]


def _logp(value, zi, a, b):
    import pytensor.tensor as pt

    safe = pt.switch(pt.gt(value, 0.0), value, 0.5)
    beta_lp = (pt.gammaln(a + b) - pt.gammaln(a) - pt.gammaln(b) + (a - 1.0) * pt.log(safe)
               + (b - 1.0) * pt.log1p(-safe))
    return pt.switch(pt.eq(value, 0.0), pt.log(zi), pt.log1p(-zi) + beta_lp)


def _random(zi, a, b, rng=None, size=None):
    y = rng.beta(a, b, size=size)
    return np.where(rng.random(size=size) < zi, 0.0, y)


@register_family
class ZeroInflatedBeta(ZeroInflated):
    """Zero-inflated beta."""

    name = "zero_inflated_beta"
    aliases = ("zibeta",)
    base_name = "beta"
    link_names = ("logit",)
    aux = (PHI, ZI)
    mean_support = "unit"
    irls_aux = ()

    def check_values(self, y, trials, label, rows):
        bad = (y < 0) | (y >= 1)
        if bad.any():
            raise DataError(
                f"zero_inflated_beta response {label!r} must lie in [0, 1) (zeros allowed, ones not); rows "
                f"{rows_text(bad, rows)} do not (e.g. {y[bad][0].item()})"
            )

    def logpdf(self, y, eta, aux, trials=None):
        yp = np.where(y > 0, y, 0.5)  # the beta density is not used at the zeros
        lp = self.base.logpdf(yp, eta, self._base_aux(aux), trials)
        zi = aux["zi"]
        with np.errstate(divide="ignore"):
            return np.where(y == 0, np.log(zi) + 0.0 * lp, np.log1p(-zi) + lp)

    def _args(self, eta, aux):
        mu = self.link.inverse_pt(eta)
        phi = aux["phi"]
        return aux["zi"], mu * phi, (1.0 - mu) * phi

    def pymc_likelihood(self, name, eta, observed, aux, trials=None, dims=None):
        import pymc as pm

        return pm.CustomDist(name, *self._args(eta, aux), logp=_logp, random=_random, observed=observed, dims=dims)

    def pymc_dist(self, eta, aux, trials=None):
        import pymc as pm

        return pm.CustomDist.dist(*self._args(eta, aux), logp=_logp, random=_random)

    def pilot_response(self, y, pw):  # the beta part's pilot: zeros moved inside (0, 1)
        pos = y > 0
        return np.where(pos, y, min(float(np.min(y[pos])) / 2 if pos.any() else 0.5, 0.5)), pw
