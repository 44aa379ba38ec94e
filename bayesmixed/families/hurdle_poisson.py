"""``hurdle_poisson``: brms's ``hurdle_poisson``: ``p(0) = hu``, ``p(y) = (1 − hu) Poisson(y; μ)/(1 − e^{−μ})``
for ``y > 0``, μ = exp(η) (the mean of the untruncated Poisson, glmmTMB's ``truncated_poisson`` with a zero
model); ``hu`` has the default prior ``Beta(1, 1)``. E[y] = ``(1 − hu) μ/(1 − e^{−μ})``. See
:mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .mixtures import HU, Hurdle
from .registry import register_family

__all__ = ["HurdlePoisson"]


@register_family
class HurdlePoisson(Hurdle):
    """Hurdle Poisson."""

    name = "hurdle_poisson"
    base_name = "poisson"
    link_names = ("log",)
    aux = (HU,)
    discrete = True
    mean_support = "positive"
    has_cdf = True
    log_concave_links = frozenset({"log"})  # zeros: a constant; positive values: the truncated base

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.HurdlePoisson, {"psi": self._psi(aux), "mu": self.link.inverse_pt(eta)}
