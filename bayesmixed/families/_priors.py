"""Default priors of the auxiliary parameters that several families share, as brms 2.18 sets them (in the dict
form of :class:`~bayesmixed.priors.Prior`, so that this package does not import :mod:`bayesmixed.priors`)."""

from __future__ import annotations

from .base import AuxParam

__all__ = ["brms_shape", "brms_sigma", "SIGMA_T", "SHAPE", "PHI"]


def brms_shape(s_y: float) -> dict:
    """brms's ``gamma(0.01, 0.01)`` for shapes and precisions."""
    return {"dist": "gamma", "alpha": 0.01, "beta": 0.01}


def brms_sigma(s_y: float) -> dict:
    """brms's ``student_t(3, 0, max(2.5, s))`` on a residual SD, half of it (σ > 0); brms takes ``s`` as the MAD
    of the (link-scale) response, bayesmixed its SD."""
    return {"dist": "half_student_t", "nu": 3.0, "sigma": max(2.5, float(s_y))}


#: a residual SD with brms's default prior
SIGMA_T = AuxParam("sigma", brms_sigma, "residual standard deviation")
#: a shape with brms's default prior
SHAPE = AuxParam("shape", brms_shape, "shape")
#: a precision with brms's default prior
PHI = AuxParam("phi", brms_shape, "precision")
