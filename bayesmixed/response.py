"""Random responses from each family given the linear predictor (NumPy; no PyMC, no compilation).

Used for posterior predictive draws (:mod:`bayesmixed.predict`) and simulated data
(:mod:`bayesmixed.simulate`). The parameterisations are those of the fitted models
(:mod:`bayesmixed.backends.pymc`) and of the pointwise log-likelihood (:mod:`bayesmixed.loglik`):

==================  =====================================================================
family              distribution of one observation, mean ``mu = g⁻¹(eta)``
==================  =====================================================================
gaussian            ``Normal(mu, sigma)``
student_t           ``StudentT(nu, mu, sigma)``
bernoulli           ``Bernoulli(mu)``
binomial            ``Binomial(trials, mu)`` (counts of successes)
poisson             ``Poisson(mu)``
negative_binomial   ``NegativeBinomial(mu, alpha)``: variance ``mu + mu²/alpha``
gamma               ``Gamma(shape=alpha, rate=alpha/mu)``
inverse_gaussian    ``Wald(mu, lam)``
beta                ``Beta(mu·phi, (1-mu)·phi)``
==================  =====================================================================

Arrays broadcast: ``eta`` is typically ``(S, n)`` (draws × rows), auxiliaries ``(S, 1)``, ``trials`` ``(n,)``.
"""

from __future__ import annotations

import numpy as np

from .summaries import _inverse_link, draws_of

__all__ = ["AUX_OF", "aux_draws", "draw_response"]

AUX_OF = {
    "gaussian": ("sigma",),
    "student_t": ("sigma", "nu"),
    "negative_binomial": ("alpha",),
    "gamma": ("alpha",),
    "inverse_gaussian": ("lam",),
    "beta": ("phi",),
}


def aux_draws(idata, family: str, idx: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Posterior draws ``(S, 1)`` of the family's auxiliary parameters (chains stacked; draws ``idx``)."""
    from .summaries import residual_sd

    out = {}
    for name in AUX_OF.get(family, ()):
        a = residual_sd(idata) if name == "sigma" else draws_of(idata, name)
        out[name] = (a if idx is None else a[idx])[:, None]
    return out


def draw_response(
    family: str,
    link: str,
    eta: np.ndarray,
    aux: dict[str, np.ndarray] | None,
    rng: np.random.Generator,
    trials: np.ndarray | None = None,
) -> np.ndarray:
    """One random response per element of ``eta`` (broadcast with ``aux`` and ``trials``), as floats."""
    aux = aux or {}
    mu = _inverse_link(link, eta)
    shape = np.broadcast_shapes(np.shape(mu), *(np.shape(v) for v in aux.values()))
    mu = np.broadcast_to(mu, shape)

    def a(name):
        return np.broadcast_to(aux[name], shape)

    if family == "gaussian":
        return rng.normal(mu, a("sigma"))
    if family == "student_t":
        return mu + a("sigma") * rng.standard_t(a("nu"))
    if family == "bernoulli":
        return (rng.random(shape) < mu).astype(float)
    if family == "binomial":
        n = np.broadcast_to(np.asarray(trials, dtype=np.int64), shape)
        return rng.binomial(n, np.clip(mu, 0.0, 1.0)).astype(float)
    if family == "poisson":
        return rng.poisson(mu).astype(float)
    if family == "negative_binomial":
        return rng.poisson(rng.gamma(a("alpha"), mu / a("alpha"))).astype(float)
    if family == "gamma":
        return rng.gamma(a("alpha"), mu / a("alpha"))
    if family == "inverse_gaussian":
        return rng.wald(mu, a("lam"))
    if family == "beta":
        return rng.beta(mu * a("phi"), (1.0 - mu) * a("phi"))
    raise ValueError(f"unknown family {family!r}")
