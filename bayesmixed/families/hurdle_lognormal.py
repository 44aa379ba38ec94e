"""``hurdle_lognormal``: brms's ``hurdle_lognormal``: ``p(0) = hu``, and for ``y > 0`` ``log y ~ Normal(μ, σ)``,
μ = η. Default priors (brms): ``sigma`` half-Student-t(3, 0, max(2.5, SD of log y)), ``hu`` ``Beta(1, 1)``.
E[y] = ``(1 − hu) exp(μ + σ²/2)``. See :mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from ._priors import SIGMA_T
from .mixtures import HU, Hurdle
from .registry import register_family

__all__ = ["HurdleLognormal"]


@register_family
class HurdleLognormal(Hurdle):
    """Hurdle lognormal."""

    name = "hurdle_lognormal"
    aliases = ("hurdle_log_normal",)
    base_name = "lognormal"
    link_names = ("identity",)
    aux = (SIGMA_T, HU)
    scale_param = "sigma"
    mean_support = "real"
    has_cdf = True
    log_concave_links = frozenset({"identity"})  # zeros: a constant; positive values: the truncated base

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.HurdleLogNormal, {"psi": self._psi(aux), "mu": self.link.inverse_pt(eta), "sigma": aux["sigma"]}

    def prior_location_scale(self, y):
        return self.base.prior_location_scale(y)
