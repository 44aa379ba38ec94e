"""``zero_inflated_binomial``: brms's ``zero_inflated_binomial``: successes out of trials, ``p(0) = zi + (1 − zi)
(1 − μ)^n``, ``p(y) = (1 − zi) Binomial(y; n, μ)``, μ = g⁻¹(η); ``zi`` has the default prior ``Beta(1, 1)``.
E[y/n] = ``(1 − zi) μ``. The response is written as for ``binomial``. See :mod:`bayesmixed.families.mixtures`.
"""

from __future__ import annotations

from .mixtures import ZI, ZeroInflated
from .registry import register_family

__all__ = ["ZeroInflatedBinomial"]


@register_family
class ZeroInflatedBinomial(ZeroInflated):
    """Zero-inflated binomial."""

    name = "zero_inflated_binomial"
    aliases = ("zib",)
    base_name = "binomial"
    link_names = ("logit", "probit", "cloglog")
    aux = (ZI,)
    needs_trials = True
    discrete = True
    integer_observed = True
    mean_support = "unit"
    has_cdf = True

    def pymc_params(self, eta, aux, trials=None):
        import pymc as pm
        import pytensor.tensor as pt

        p = pt.clip(self.link.inverse_pt(eta), 1e-12, 1 - 1e-12)
        return pm.ZeroInflatedBinomial, {"psi": self._psi(aux), "n": trials, "p": p}
