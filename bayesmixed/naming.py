"""Names of the posterior variables, their dimensions and the prior keys: the one place that spells them.

==================  ===========================================  =============================================
variable            dims                                         what
==================  ===========================================  =============================================
``beta``            ``coef``                                     fixed effects (``Intercept``, ``Days``, ...)
``sd_<t>``          ``<t>_coef``                                 SDs of term ``<t>``'s coefficients
``corr_<t>``        ``<t>_coef``, ``<t>_coef2``                  their correlation matrix (correlated terms)
``r_<t>``           ``<t>``, ``<t>_coef``                        random effects, one row per level
``sd_<s>``          scalar                                       the one SD of a smooth's penalised part (``s(x)``)
``sdgp_<g>``        scalar                                       a GP's marginal SD (``gp(x)``)
``lscale_<g>``      scalar                                       a GP's length-scale
``ar``              ``ar_lag``                                   AR(1) residual correlation (``ar[1]``)
``cosy``            scalar                                       compound-symmetry residual correlation
``sigma``, ...      scalar                                       the family's auxiliary parameters
``y``               ``obs``                                      log-likelihood, posterior predictive
``Intercept``       ``threshold``                                ordinal thresholds ``Intercept[1]``, ...
``beta_<d>``        ``coef_<d>``                                 fixed effects of the predicted parameter d
==================  ===========================================  =============================================

Priors and single scalars are addressed as ``beta[Days]``, ``sd_Subject[Days]``; the auxiliary parameters'
names are declared by the families (:func:`aux_names`). Internal variables of a model start with ``_``.

Distributional parameters (``bf(..., sigma="~ x + (1 | g)")``) are named as brms names them: a model's
predicted parameters ("dpars") other than the mean ``mu`` get their own fixed effects ``beta_<d>`` (dim
``coef_<d>``, reported by ``fixef()`` as ``<d>_Intercept``, ``<d>_x``: :func:`dpar_coef`) and their random-effect
terms are labelled ``<factor>__<d>`` (``sd_g__sigma``, ``r_g__sigma``: brms's Stan names). The intercept of a
predicted parameter has the prior key ``<d>_Intercept`` and its slopes ``beta_<d>[x]``.
"""

from __future__ import annotations

__all__ = [
    "BETA",
    "COEF",
    "MU",
    "THRESHOLDS",
    "THRESHOLD_DIM",
    "beta_var",
    "coef_dim_of",
    "dpar_coef",
    "dpar_label",
    "intercept_key",
    "beta_key",
    "threshold_coef",
    "INTERCEPT",
    "OBS",
    "RESPONSE",
    "SIGMA",
    "TRIALS",
    "aux_names",
    "beta_coef",
    "coef2_dim",
    "coef_dim",
    "corr",
    "is_internal",
    "r",
    "sd",
    "sd_coef",
    "sdgp",
    "lscale",
    "AR",
    "AR_LAG",
    "COSY",
]

BETA = "beta"
COEF = "coef"
INTERCEPT = "Intercept"
SIGMA = "sigma"
RESPONSE = "y"
TRIALS = "trials"
OBS = "obs"
MU = "mu"
THRESHOLDS = "Intercept"
THRESHOLD_DIM = "threshold"
DPAR_SEP = "__"
SD_PREFIX = "sd_"
CORR_PREFIX = "corr_"
R_PREFIX = "r_"
AR = "ar"
AR_LAG = "ar_lag"
COSY = "cosy"


def sd(label: str) -> str:
    """``sd_<label>``: the SDs of a term's coefficients."""
    return f"{SD_PREFIX}{label}"


def corr(label: str) -> str:
    """``corr_<label>``: the correlation matrix of a term's coefficients."""
    return f"{CORR_PREFIX}{label}"


def r(label: str) -> str:
    """``r_<label>``: a term's random effects."""
    return f"{R_PREFIX}{label}"


def coef_dim(label: str) -> str:
    """``<label>_coef``: the dimension of a term's coefficients."""
    return f"{label}_coef"


def coef2_dim(label: str) -> str:
    """``<label>_coef2``: the second dimension of a term's correlation matrix."""
    return f"{label}_coef2"


def sdgp(label: str) -> str:
    """``sdgp_<label>``: the marginal SD of an approximate GP (brms's name)."""
    return f"sdgp_{label}"


def lscale(label: str) -> str:
    """``lscale_<label>``: the length-scale of an approximate GP (brms's name)."""
    return f"lscale_{label}"


def beta_coef(coef: str) -> str:
    """``beta[<coef>]``: one fixed effect (prior key, convergence row)."""
    return f"{BETA}[{coef}]"


def sd_coef(label: str, coef: str) -> str:
    """``sd_<label>[<coef>]``: one SD of a term (prior key, convergence row)."""
    return f"{sd(label)}[{coef}]"


def is_internal(name: str) -> bool:
    """Whether a model variable is internal (dropped from the returned posterior)."""
    return name.startswith("_")


def aux_names() -> tuple[str, ...]:
    """The auxiliary-parameter names of every registered family (``sigma``, ``nu``, ``alpha``, ...)."""
    from .families import aux_names as names

    return names()


def beta_var(dpar: str = MU) -> str:
    """The fixed effects of the predictor of ``dpar``: ``beta`` for the mean, ``beta_<dpar>`` otherwise."""
    return BETA if dpar == MU else f"{BETA}_{dpar}"


def coef_dim_of(dpar: str = MU) -> str:
    """The dimension of :func:`beta_var`: ``coef`` for the mean, ``coef_<dpar>`` otherwise."""
    return COEF if dpar == MU else f"{COEF}_{dpar}"


def dpar_coef(dpar: str, name: str) -> str:
    """A fixed effect as ``fixef()`` names it (brms): ``x`` for the mean, ``<dpar>_x`` otherwise."""
    return name if dpar == MU else f"{dpar}_{name}"


def dpar_label(label: str, dpar: str) -> str:
    """A random-effect term's label in the predictor of ``dpar``: ``g`` for the mean, ``g__<dpar>`` otherwise
    (brms's ``sd_g__sigma_Intercept``, ``r_g__sigma``)."""
    return label if dpar == MU else f"{label}{DPAR_SEP}{dpar}"


def intercept_key(dpar: str = MU) -> str:
    """The prior key of a predictor's intercept: ``Intercept``, ``<dpar>_Intercept``."""
    return dpar_coef(dpar, INTERCEPT)


def beta_key(dpar: str, coef: str) -> str:
    """The prior key of one slope of a predictor: ``beta[x]``, ``beta_<dpar>[x]``."""
    return f"{beta_var(dpar)}[{coef}]"


def threshold_coef(k: int) -> str:
    """``Intercept[k]``: the k-th ordinal threshold (1-based), as ``fixef()`` and brms name it."""
    return f"{THRESHOLDS}[{k}]"
