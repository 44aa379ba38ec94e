"""``hurdle_negative_binomial``: brms's ``hurdle_negbinomial``: ``p(0) = hu``, and for ``y > 0`` the negative
binomial (mean μ = exp(η), reciprocal dispersion ``alpha``, brms's ``shape``) truncated to the positive counts.
Default priors (brms): ``alpha`` ``Gamma(0.01, 0.01)``, ``hu`` ``Beta(1, 1)``. See
:mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .mixtures import HU, Hurdle
from .registry import register_family
from .zero_inflated_negative_binomial import ALPHA

__all__ = ["HurdleNegativeBinomial"]


@register_family
class HurdleNegativeBinomial(Hurdle):
    """Hurdle negative binomial (NB2)."""

    name = "hurdle_negative_binomial"
    aliases = ("hurdle_negbinomial",)
    base_name = "negative_binomial"
    link_names = ("log",)
    aux = (ALPHA, HU)
    discrete = True
    mean_support = "positive"
    has_cdf = True
    log_concave_links = frozenset({"log"})  # zeros: a constant; positive values: the truncated base
    irls_aux = ("alpha",)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.HurdleNegativeBinomial, {"psi": self._psi(aux), "mu": self.link.inverse_pt(eta),
                                           "alpha": aux["alpha"]}
