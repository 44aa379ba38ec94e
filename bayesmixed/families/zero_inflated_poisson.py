"""``zero_inflated_poisson``: brms's ``zero_inflated_poisson``, ``p(0) = zi + (1 − zi) e^{−μ}``,
``p(y) = (1 − zi) Poisson(y; μ)``, μ = exp(η); ``zi`` (probability of a structural zero) has the default prior
``Beta(1, 1)``. E[y] = ``(1 − zi) μ``; Var(y) = ``(1 − zi) μ (1 + zi μ)``. See :mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .mixtures import ZI, ZeroInflated
from .registry import register_family

__all__ = ["ZeroInflatedPoisson"]


@register_family
class ZeroInflatedPoisson(ZeroInflated):
    """Zero-inflated Poisson."""

    name = "zero_inflated_poisson"
    aliases = ("zip", "zeroinflated_poisson")
    base_name = "poisson"
    link_names = ("log",)
    aux = (ZI,)
    discrete = True
    mean_support = "positive"
    has_cdf = True

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.ZeroInflatedPoisson, {"psi": self._psi(aux), "mu": self.link.inverse_pt(eta)}
