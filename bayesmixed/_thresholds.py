"""The limits that the ``auto`` parameterisation (:mod:`bayesmixed.policy`, :mod:`bayesmixed.autoparam`) and
:func:`bayesmixed.diagnostics.diagnose` share, in one leaf module that both import."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Thresholds", "THRESHOLDS"]


@dataclass(frozen=True)
class Thresholds:
    """The limits that ``auto`` and :func:`bayesmixed.diagnostics.diagnose` share.

    Attributes
    ----------
    strong_ratio
        A level is *strong* for a coefficient when its information ratio ``I_j τ²`` exceeds this: its data
        dominate the between-level prior (:mod:`bayesmixed.autoparam` before sampling, :mod:`bayesmixed.pooling`
        after).
    centre_share
        ``auto`` centres a sampled term when at least this share of its levels is strong for every coefficient
        (the majority); at most this share makes a centred term's funnel plausible in ``diagnose``.
    strong_share
        ``diagnose`` advises centring a non-centred term that mixes poorly when this share of its levels is strong.
    r_hat_max, r_hat_max_effects, ess_per_chain, e_bfmi_min, tree_depth_max, contraction_min, funnel_percentile
        The sampler checks of :func:`~bayesmixed.diagnostics.diagnose`.
    """

    strong_ratio: float = 1.0
    centre_share: float = 0.5
    strong_share: float = 0.8
    r_hat_max: float = 1.01
    r_hat_max_effects: float = 1.02
    ess_per_chain: float = 100.0
    e_bfmi_min: float = 0.3
    tree_depth_max: float = 0.01
    contraction_min: float = 0.1
    funnel_percentile: float = 0.25


THRESHOLDS = Thresholds()
