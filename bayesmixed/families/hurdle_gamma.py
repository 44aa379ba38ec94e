"""``hurdle_gamma``: brms's ``hurdle_gamma``: ``p(0) = hu``, and for ``y > 0`` the gamma family (mean μ = exp(η),
shape ``alpha``, brms's ``shape``). Default priors (brms): ``alpha`` ``Gamma(0.01, 0.01)``, ``hu``
``Beta(1, 1)``; the intercept prior is centred on ``log`` of the mean positive response. E[y] = ``(1 − hu) μ``.
See :mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .base import AuxParam
from ._priors import brms_shape
from .exponential import log_mean_location
from .mixtures import HU, Hurdle
from .registry import register_family

__all__ = ["HurdleGamma"]


@register_family
class HurdleGamma(Hurdle):
    """Hurdle gamma."""

    name = "hurdle_gamma"
    base_name = "gamma"
    link_names = ("log",)
    aux = (AuxParam("alpha", brms_shape, "shape of the positive part (brms: shape)"), HU)
    mean_support = "positive"
    has_cdf = True
    log_concave_links = frozenset({"log"})  # zeros: a constant; positive values: the truncated base
    irls_aux = ("alpha",)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        mu, alpha = self.link.inverse_pt(eta), aux["alpha"]
        return pm.HurdleGamma, {"psi": self._psi(aux), "alpha": alpha, "beta": alpha / mu}

    def prior_location_scale(self, y):
        return log_mean_location(y)
