"""``zero_inflated_negative_binomial``: brms's ``zero_inflated_negbinomial``: a negative binomial with mean
μ = exp(η) and reciprocal dispersion ``alpha`` (variance ``μ + μ²/α``; brms's ``shape``), zero-inflated with
probability ``zi``. Default priors (brms): ``alpha`` ``Gamma(0.01, 0.01)``, ``zi`` ``Beta(1, 1)``.
E[y] = ``(1 − zi) μ``. See :mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .base import AuxParam
from ._priors import brms_shape
from .mixtures import ZI, ZeroInflated
from .registry import register_family

__all__ = ["ZeroInflatedNegativeBinomial"]

#: the negative binomial's reciprocal dispersion with brms's default prior (bayesmixed's name, brms's ``shape``)
ALPHA = AuxParam("alpha", brms_shape, "reciprocal dispersion (brms: shape)")


@register_family
class ZeroInflatedNegativeBinomial(ZeroInflated):
    """Zero-inflated negative binomial (NB2)."""

    name = "zero_inflated_negative_binomial"
    aliases = ("zero_inflated_negbinomial", "zinb")
    base_name = "negative_binomial"
    link_names = ("log",)
    aux = (ALPHA, ZI)
    discrete = True
    mean_support = "positive"
    has_cdf = True
    irls_aux = ("alpha",)

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm

        return pm.ZeroInflatedNegativeBinomial, {"psi": self._psi(aux), "mu": self.link.inverse_pt(eta),
                                                 "alpha": aux["alpha"]}
