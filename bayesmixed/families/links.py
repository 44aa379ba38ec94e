"""Link functions ``η = g(μ)``: forward, inverse (with safe clamps) and derivative, in NumPy and PyTensor.

PyTensor is imported inside the ``*_pt`` methods only, so that ``import bayesmixed`` does not import it. The
PyTensor inverses are the exact expressions the fitted models have always used (same graph, so the same draws
for a seed); the NumPy ones clamp the exponent at 700 where ``exp`` would overflow (identical values below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy import special

from ..errors import DataError

__all__ = ["Link", "LINKS", "get_link"]

_EXP_MAX = 700.0  # exp(700) ≈ 1e304: finite; exp(710) overflows


def _exp(e):
    return np.exp(np.minimum(e, _EXP_MAX))


@dataclass(frozen=True)
class Link:
    """A link function.

    Subclasses set ``name`` and implement the six methods. ``latent_variance`` is the residual variance of the
    latent-scale (threshold) model of a binary response under this link (logit π²/3, probit 1, cloglog π²/6;
    Nakagawa, Johnson & Schielzeth 2017), ``None`` where there is none.
    """

    name: ClassVar[str] = ""
    latent_variance: ClassVar[float | None] = None
    latent_variance_text: ClassVar[str] = ""

    # NumPy -------------------------------------------------------------------------------------------------
    def forward(self, mu: np.ndarray) -> np.ndarray:
        """``η = g(μ)``."""
        raise NotImplementedError

    def inverse(self, eta: np.ndarray) -> np.ndarray:
        """``μ = g⁻¹(η)`` (exponents clamped at 700)."""
        raise NotImplementedError

    def dmu_deta(self, eta: np.ndarray) -> np.ndarray:
        """``dμ/dη`` at ``η``."""
        raise NotImplementedError

    # PyTensor ----------------------------------------------------------------------------------------------
    def forward_pt(self, mu):
        """``g(μ)`` as a PyTensor expression."""
        raise NotImplementedError

    def inverse_pt(self, eta):
        """``g⁻¹(η)`` as a PyTensor expression (the form the PyMC models use)."""
        raise NotImplementedError

    def dmu_deta_pt(self, eta):
        """``dμ/dη`` as a PyTensor expression."""
        raise NotImplementedError


class Identity(Link):
    name = "identity"

    def forward(self, mu):
        return mu

    def inverse(self, eta):
        return eta

    def dmu_deta(self, eta):
        return np.ones_like(eta)

    def forward_pt(self, mu):
        return mu

    def inverse_pt(self, eta):
        return eta

    def dmu_deta_pt(self, eta):
        import pytensor.tensor as pt

        return pt.ones_like(eta)


class Log(Link):
    name = "log"

    def forward(self, mu):
        return np.log(mu)

    def inverse(self, eta):
        return _exp(eta)

    def dmu_deta(self, eta):
        return _exp(eta)

    def forward_pt(self, mu):
        import pytensor.tensor as pt

        return pt.log(mu)

    def inverse_pt(self, eta):
        import pytensor.tensor as pt

        return pt.exp(eta)

    def dmu_deta_pt(self, eta):
        import pytensor.tensor as pt

        return pt.exp(eta)


class Logit(Link):
    name = "logit"
    latent_variance = float(np.pi**2 / 3)
    latent_variance_text = "pi^2/3"

    def forward(self, mu):
        return special.logit(mu)

    def inverse(self, eta):
        return special.expit(eta)

    def dmu_deta(self, eta):
        return special.expit(eta) * special.expit(-eta)

    def forward_pt(self, mu):
        import pytensor.tensor as pt

        return pt.log(mu) - pt.log1p(-mu)

    def inverse_pt(self, eta):
        import pytensor.tensor as pt

        return pt.sigmoid(eta)  # pm.math.invlogit

    def dmu_deta_pt(self, eta):
        import pytensor.tensor as pt

        return pt.sigmoid(eta) * pt.sigmoid(-eta)


class Probit(Link):
    name = "probit"
    latent_variance = 1.0
    latent_variance_text = "1"

    def forward(self, mu):
        return special.ndtri(mu)

    def inverse(self, eta):
        return special.ndtr(eta)

    def dmu_deta(self, eta):
        return np.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)

    def forward_pt(self, mu):
        import pytensor.tensor as pt

        return np.sqrt(2.0) * pt.erfinv(2.0 * mu - 1.0)

    def inverse_pt(self, eta):
        import pytensor.tensor as pt

        return 0.5 + 0.5 * pt.erf(eta / np.sqrt(2.0))

    def dmu_deta_pt(self, eta):
        import pytensor.tensor as pt

        return pt.exp(-0.5 * eta**2) / np.sqrt(2 * np.pi)


class Cloglog(Link):
    name = "cloglog"
    latent_variance = float(np.pi**2 / 6)
    latent_variance_text = "pi^2/6"

    def forward(self, mu):
        return np.log(-np.log1p(-mu))

    def inverse(self, eta):
        return -np.expm1(-_exp(eta))

    def dmu_deta(self, eta):
        e = np.minimum(eta, _EXP_MAX)
        return np.exp(e - np.exp(e))

    def forward_pt(self, mu):
        import pytensor.tensor as pt

        return pt.log(-pt.log1p(-mu))

    def inverse_pt(self, eta):
        import pytensor.tensor as pt

        return 1.0 - pt.exp(-pt.exp(eta))

    def dmu_deta_pt(self, eta):
        import pytensor.tensor as pt

        return pt.exp(eta - pt.exp(eta))


class Inverse(Link):
    name = "inverse"

    def forward(self, mu):
        return 1.0 / mu

    def inverse(self, eta):
        return 1.0 / eta

    def dmu_deta(self, eta):
        return -1.0 / eta**2

    def forward_pt(self, mu):
        return 1.0 / mu

    def inverse_pt(self, eta):
        return 1.0 / eta

    def dmu_deta_pt(self, eta):
        return -1.0 / eta**2


#: Every link by name.
LINKS: dict[str, Link] = {c.name: c() for c in (Identity, Log, Logit, Probit, Cloglog, Inverse)}


def get_link(name: str | Link) -> Link:
    """The :class:`Link` called ``name`` (a :class:`Link` is returned as it is)."""
    if isinstance(name, Link):
        return name
    try:
        return LINKS[str(name)]
    except KeyError:
        raise DataError(f"unknown link {name!r}; available: {', '.join(LINKS)}") from None
