"""Response families: one object per family that carries everything about it.

``get_family("binomial", "probit")`` returns a :class:`Family` bound to its :class:`Link`. Nothing outside
this package branches on a family's name: the backend asks the family for its PyMC likelihood, the
log-likelihood for its log density, predictions and simulations for random draws, the summaries for its
variance, the pooling and pilot fits for variance functions, deviances and working weights, the priors for its
auxiliary parameters, and the spec for its response checks (:class:`Family` lists them all). Posterior
variable names are owned by :mod:`bayesmixed.naming`; a family declares only its auxiliary parameters' names.

==================  =========================  ============================  =================================
family              links (default first)      auxiliary parameters          distribution, ``μ = g⁻¹(η)``
==================  =========================  ============================  =================================
gaussian            identity, log              sigma                         ``Normal(μ, σ)``
student_t           identity, log              sigma, nu                     ``StudentT(ν, μ, σ)``
bernoulli           logit, probit, cloglog                                   ``Bernoulli(μ)``
binomial            logit, probit, cloglog                                   ``Binomial(trials, μ)``
poisson             log                                                      ``Poisson(μ)``
negative_binomial   log                        alpha                         ``NegativeBinomial(μ, α)``, var ``μ + μ²/α``
gamma               log, inverse               alpha                         ``Gamma(shape α, rate α/μ)``
inverse_gaussian    log                        lam                           ``Wald(μ, λ)``
beta                logit                      phi                           ``Beta(μφ, (1 − μ)φ)``
==================  =========================  ============================  =================================

How to add a family
-------------------
Write one module, ``bayesmixed/families/<name>.py``, with a subclass of :class:`Family` decorated with
:func:`register_family`, and add the module's name to ``_BUILTIN`` below (the order there is the order of
``family_names()`` in messages). A family defined elsewhere (in a user's code or a test) needs only the
decorator. The subclass sets the class attributes (``name``, ``link_names``, ``aux`` with an
:class:`AuxParam` per auxiliary parameter and its default prior, ``needs_trials``, ``discrete``,
``mean_support``, ...) and implements:

* ``check_values`` (support of the response; raise :class:`~bayesmixed.errors.DataError` naming the rows),
* ``logpdf`` (NumPy, for LOO/WAIC), ``logp_eta`` (PyTensor, for quadrature) and ``pymc_likelihood`` (the
  observed variable of the PyMC model), all in terms of the linear predictor η,
* ``sample`` (random responses given μ, for predictions, posterior predictive checks and simulation),
* ``variance`` (Var(y | μ) on the response scale, for R² and information weights),
* for the reference fits of pooling and the pre-sampling pilot: ``variance_function``, ``unit_deviance``,
  ``dispersion_moment`` and ``pilot_variance`` (and ``irls_start``, ``boundary_levels``, ``latent_variance``
  where the defaults do not fit),

and, in ``tests/``, a check of ``logpdf`` and ``logp_eta`` against SciPy and a simulation-recovery test
(``tests/test_families.py`` shows both, and ``test_a_family_registered_in_a_test_builds_a_model`` a family
added from a test). Links are in ``families/links.py`` (``LINKS``); a new link is a subclass of
:class:`Link` with the NumPy and PyTensor forward, inverse and derivative, added to ``LINKS``.
"""

from __future__ import annotations

import importlib

from .base import AuxParam, Family
from .links import LINKS, Link, get_link
from .registry import as_family, aux_names, family_names, get_family, register_family, unregister_family

__all__ = [
    "AuxParam",
    "Family",
    "LINKS",
    "Link",
    "as_family",
    "aux_names",
    "family_names",
    "get_family",
    "get_link",
    "register_family",
    "unregister_family",
]

# the built-in families' modules, in the order their families are listed
_BUILTIN = (
    "gaussian", "binary", "counts", "positive", "beta",
    "lognormal", "exponential", "weibull", "skew_normal", "exgaussian", "beta_binomial",
    "zero_inflated_poisson", "zero_inflated_negative_binomial", "zero_inflated_binomial", "zero_inflated_beta",
    "hurdle_poisson", "hurdle_negative_binomial", "hurdle_gamma", "hurdle_lognormal", "ordinal",
)
for _mod in _BUILTIN:
    importlib.import_module(f"{__name__}.{_mod}")

