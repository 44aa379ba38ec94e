"""The :class:`Family` base class and :class:`AuxParam` (what a family declares about its parameters).

A family instance is bound to one link (``get_family("binomial", "probit")``), like a statsmodels family. Its
class attributes describe the family (name, links, auxiliary parameters, support); its methods are everything
the rest of the package asks of it, grouped by the stage that asks:

=========================  ===================================================================================
stage                      methods
=========================  ===================================================================================
response checks (spec)     :meth:`Family.check_response`
priors                     :meth:`Family.default_aux_priors`, :meth:`Family.prior_location_scale`,
                           :attr:`Family.identity_scale`
PyMC model (backend)       :meth:`Family.pymc_likelihood` (by default from :meth:`Family.pymc_params`),
                           :meth:`Family.pymc_dist`, :attr:`Family.scale_param`, :attr:`Family.integer_observed`
quadrature                 :meth:`Family.logp_eta`, :attr:`Family.log_concave_in_eta`
log-likelihood (LOO)       :meth:`Family.logpdf`; censoring and truncation: :meth:`Family.logcdf`,
                           :meth:`Family.logsf`, :attr:`Family.has_cdf` (:mod:`bayesmixed.families.bounds`)
draws (predict, simulate)  :meth:`Family.draw`
summaries (R², ICC)        :meth:`Family.mean` (E[y], predictions), :meth:`Family.variance`,
                           :meth:`Family.latent_variance`
pooling, pilot (IRLS)      :meth:`Family.pilot_response`, :meth:`Family.variance_function`, :meth:`Family.unit_deviance`,
                           :meth:`Family.clip_mean`, :meth:`Family.irls_start`, :meth:`Family.working_weight`,
                           :meth:`Family.dispersion_moment`, :meth:`Family.pilot_variance`,
                           :meth:`Family.boundary_levels`, :meth:`Family.degenerate_levels`
=========================  ===================================================================================

``aux`` arguments are dicts from auxiliary-parameter name to an array that broadcasts against ``η`` (typically
``(S, 1)`` draws against ``(S, n)`` rows); ``trials`` is ``(n,)`` or None.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, ClassVar

import numpy as np
from scipy import special

from ..errors import DataError
from .links import Link

__all__ = ["AuxParam", "Family", "binary_deviance", "clip_unit", "full", "log1mexp", "rows_text", "sd_or_one"]


@dataclass(frozen=True)
class AuxParam:
    """An auxiliary parameter of a family (one besides the mean).

    Attributes
    ----------
    name
        Its name in the posterior, in ``priors=`` and in ``simulate(params=...)`` (``sigma``, ``nu``, ...).
    default_prior
        The default prior given ``s_y``, the SD of the response for identity-link location-scale families and
        1 otherwise (see :mod:`bayesmixed.priors`): a :class:`~bayesmixed.priors.Prior` or its dict form
        (``{"dist": "exponential", "lam": 1 / s_y}``; the built-in families use it, so that this package does
        not import :mod:`bayesmixed.priors`, which asks the families for these).
    description
        What it is, in words.
    positive
        Whether its support is (0, ∞) (the priors must then be positive-valued).
    link
        Its link when it is predicted by a formula of its own (distributional regression,
        ``bf(..., sigma="~ x")``), brms's default: ``log`` for a positive parameter, ``logit`` for a probability,
        ``identity`` otherwise (None: chosen from ``unit`` and ``positive``).
    fixed
        A value it keeps when it is not predicted (ordinal families' discrimination ``disc = 1``): it then has
        no prior and is not sampled. None for a parameter that is sampled.
    predicted_prior
        The default prior of its predictor's intercept given ``s_y`` (dict form, as ``default_prior``); None
        for brms's ``student_t(3, 0, 2.5)``.
    intercept
        Whether its predictor has an intercept (False for ``disc``, whose scale the thresholds fix: brms's
        ``cmc = FALSE``; the intercept column is removed after building ``X``).
    unit
        Whether its support is (0, 1) (a probability such as ``zi`` or ``hu``: the priors must then be ``beta``
        or a ``uniform`` inside [0, 1]).
    """

    name: str
    default_prior: Callable[[float], Any] | None
    description: str = ""
    positive: bool = True
    link: str | None = None
    fixed: float | None = None
    predicted_prior: Callable[[float], Any] | None = None
    intercept: bool = True

    @property
    def link_name(self) -> str:
        """The link of its predictor (see ``link``)."""
        if self.link is not None:
            return self.link
        return "logit" if self.unit else ("log" if self.positive else "identity")

    def intercept_prior(self, s_y: float) -> Any:
        """The default prior of its predictor's intercept (dict form)."""
        if self.predicted_prior is not None:
            return self.predicted_prior(s_y)
        return {"dist": "student_t", "nu": 3.0, "mu": 0.0, "sigma": 2.5}
    unit: bool = False


def rows_text(mask: np.ndarray, rows) -> str:
    """The first five row labels where ``mask`` holds, and how many more."""
    idx = np.asarray(rows)[mask][:5].tolist()
    more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
    return f"{idx}{more}"


def clip_unit(p: np.ndarray) -> np.ndarray:
    """Probabilities kept in [1e-12, 1 − 1e-12]."""
    return np.clip(p, 1e-12, 1 - 1e-12)


def full(value: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``value`` broadcast against ``like`` (a read-only view)."""
    return np.broadcast_to(value, np.broadcast_shapes(np.shape(value), np.shape(like)))


def log1mexp(a: np.ndarray) -> np.ndarray:
    """``log(1 − exp(a))`` for ``a ≤ 0``, accurate near 0 and far below it."""
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > -0.6931471805599453, np.log(-np.expm1(a)), np.log1p(-np.exp(a)))


def sd_or_one(x: np.ndarray) -> float:
    """The SD of ``x`` (1 where it is 0 or undefined)."""
    s = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
    return s if s > 0 and np.isfinite(s) else 1.0


def binary_deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Unit deviance of a proportion ``y`` with mean ``mu`` (Bernoulli, binomial; the beta's quasi-deviance)."""
    return 2 * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))


@dataclass(frozen=True)
class Family:
    """A response distribution bound to a link.

    Each family is a subclass that sets the class attributes below (all but ``link``, the instance's own field)
    and implements the methods (see the package docstring for how to add one).

    Attributes
    ----------
    link
        The :class:`Link` this instance uses.
    name
        The family's name as users write it.
    link_names
        Allowed links, the default first.
    aliases
        Other names users may write (``"negbin"``).
    aux
        Auxiliary parameters (:class:`AuxParam`), in the order their priors are listed and their variables
        created.
    needs_trials
        Whether the response is a count of successes out of a number of trials.
    discrete
        Whether responses are whole numbers.
    integer_observed
        Whether PyMC gets the response as int64 (Bernoulli, binomial); counts of other families stay float64
        (PyMC's compiled int64 log-density wraps counts of 2³¹ and more).
    mean_support
        ``"real"``, ``"positive"`` or ``"unit"``: where μ lives (for clamps in IRLS).
    scale_param
        The auxiliary parameter that is the residual SD (``"sigma"``), created first in the PyMC model because
        relative SD priors and the marginal likelihood use it; None if the family has none.
    relative_sd_priors
        Whether random-effect SD priors may be given relative to ``scale_param`` (lme4's θ).
    two_level_category
        Whether a two-level categorical response is accepted (as 0/1).
    constant_variance
        Whether Var(y | μ) does not depend on μ (location-scale families).
    quadrature_kernels
        Link name → the quadrature kernel (``bayesmixed._quad_kernels``) of ``log p(y | η)`` under it.
    log_concave_links
        Links under which log p(y | η) is concave in η for every y and auxiliary value.
    irls_aux
        Auxiliary parameters whose posterior means enter :meth:`variance_function` (reference fits in
        :mod:`bayesmixed.pooling`).
    response_kind
        ``"numeric"``, or ``"categories"`` for a response of K ordered or unordered categories (coded 1..K;
        :meth:`check_categories`).
    thresholds
        ``"ordered"`` or ``"free"`` for ordinal families, whose K − 1 thresholds ``Intercept[1]``, ... replace
        the fixed intercept (``η = threshold − Xβ``); None otherwise.
    glm_pilot
        Whether the family has the IRLS pieces (variance function, deviance) of the reference fits of pooling
        and the pre-sampling pilot.
    has_cdf
        Whether :meth:`logcdf` (NumPy) and the PyMC distribution's log CDF (:meth:`pymc_dist`) exist, which
        censored (``y | cens(c)``) and truncated (``y | trunc(lb, ub)``) responses need.
    """

    link: Link

    name: ClassVar[str] = ""
    link_names: ClassVar[tuple[str, ...]] = ()
    aliases: ClassVar[tuple[str, ...]] = ()
    aux: ClassVar[tuple[AuxParam, ...]] = ()
    needs_trials: ClassVar[bool] = False
    discrete: ClassVar[bool] = False
    integer_observed: ClassVar[bool] = False
    mean_support: ClassVar[str] = "real"
    scale_param: ClassVar[str | None] = None
    relative_sd_priors: ClassVar[bool] = False
    two_level_category: ClassVar[bool] = False
    constant_variance: ClassVar[bool] = False
    log_concave_links: ClassVar[frozenset[str]] = frozenset()
    quadrature_kernels: ClassVar[dict[str, str]] = {}
    irls_aux: ClassVar[tuple[str, ...]] = ()
    response_kind: ClassVar[str] = "numeric"
    thresholds: ClassVar[str | None] = None
    glm_pilot: ClassVar[bool] = True
    has_cdf: ClassVar[bool] = False

    # -------------------------------------------------------------------------------------------- identity
    @property
    def default_link(self) -> str:
        return self.link_names[0]

    @property
    def links(self) -> tuple[str, ...]:
        """Allowed link names (the default first)."""
        return self.link_names

    @property
    def aux_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.aux)

    @property
    def identity_scale(self) -> bool:
        """Whether η is the mean on the response's own scale with a variance free of it (location-scale
        family, identity link): priors are scaled to the response's SD and reference fits are least squares."""
        return self.constant_variance and self.link.name == "identity"

    @property
    def linear_gaussian(self) -> bool:
        """Whether y = η + Normal noise: a linear mixed model, whose random and fixed effects integrate out
        exactly (:mod:`bayesmixed.marginal`)."""
        return False

    @property
    def log_concave_in_eta(self) -> bool:
        """Whether log p(y | η) is concave in η for every y and auxiliary value (adaptive Gauss–Hermite
        quadrature over one random effect then has a unimodal integrand)."""
        return self.link.name in self.log_concave_links

    @property
    def quadrature_kernel(self) -> str | None:
        """The name of the numba kernel of ``log p(y | η)`` and its derivatives that integrates one random-effect
        term out by adaptive quadrature (``bayesmixed._quad_kernels``), or None: only log-concave densities
        have one (their conditional effects are drawn exactly under a log-concave hull)."""
        return self.quadrature_kernels.get(self.link.name)

    # ------------------------------------------------------------------------------------------ predictors
    @property
    def intercept_in_predictor(self) -> bool:
        """Whether the mean's predictor has an intercept column (False when thresholds replace it)."""
        return self.thresholds is None

    def predictor_names(self, n_categories: int | None = None) -> tuple[str, ...]:
        """The parameters that always have a linear predictor (``("mu",)``; ``("mu2", …, "muK")`` for
        categorical)."""
        return ("mu",)

    def predictable(self, n_categories: int | None = None) -> tuple[str, ...]:
        """The parameters a formula of ``bf()`` may predict: the auxiliary parameters (and, for categorical, each
        category's ``mu<k>``)."""
        return self.aux_names

    @property
    def sampled_aux(self) -> tuple[AuxParam, ...]:
        """The auxiliary parameters with a prior of their own when not predicted (not those ``fixed``)."""
        return tuple(p for p in self.aux if p.fixed is None)

    def inputs(self, etas: dict, values: dict, pt: bool = False) -> tuple[Any, dict]:
        """``(η, aux)`` for :meth:`logpdf`, :meth:`draw` and :meth:`pymc_likelihood` from the linear predictors
        ``etas`` of the predicted parameters (by name, link scale) and ``values`` of the sampled scalars (the
        auxiliary parameters that are not predicted, and the thresholds ``Intercept``): a predicted auxiliary
        parameter goes through its link's inverse (PyTensor with ``pt``), a fixed one takes its value."""
        from .links import get_link

        aux: dict[str, Any] = {}
        for p in self.aux:
            if p.name in etas:
                link = get_link(p.link_name)
                aux[p.name] = link.inverse_pt(etas[p.name]) if pt else link.inverse(etas[p.name])
            elif p.name in values:
                aux[p.name] = values[p.name]
            elif p.fixed is not None:
                aux[p.name] = p.fixed
        for k, v in values.items():
            if k not in aux and k not in self.aux_names:
                aux[k] = v
        return etas["mu"], aux

    def link_scale(self, eta: np.ndarray, aux: dict[str, np.ndarray]) -> np.ndarray:
        """The linear predictor as ``predict(kind="link")`` reports it (η itself)."""
        return eta

    # -------------------------------------------------------------------------------------- response checks
    def check_response(
        self, y: np.ndarray, trials: np.ndarray | None, label: str, rows, levels: tuple | None = None,
        ordered: bool | None = None,
    ) -> None:
        """Raise a :class:`~bayesmixed.errors.DataError` when the response does not fit the family.

        The message names the response, what is wrong, the offending rows (index labels of the user's data)
        and the fix. ``levels`` are the categories of a categorical response (``ordered``: whether they came
        from an ordered pandas categorical; None for integers 1..K).
        """
        if self.response_kind == "categories":
            if trials is not None:
                raise DataError(f"{label!r} gives numbers of trials, which family {self.name!r} does not use")
            if levels is None:
                raise DataError(
                    f"family {self.name!r} needs a response of categories (an ordered pandas Categorical or the "
                    f"integers 1..K); {label!r} is not one"
                )
            self.check_categories(tuple(levels), ordered, label)
            return
        if self.needs_trials and trials is None:
            raise DataError(
                f"family {self.name!r} needs the number of trials: write the response as cbind(successes, failures) "
                f"or successes | trials(n), not {label!r} alone (or use family='bernoulli' for 0/1 data)"
            )
        if not self.needs_trials and trials is not None:
            raise DataError(
                f"{label!r} gives numbers of trials, which only the families of successes out of trials use "
                f"(binomial, beta_binomial, zero_inflated_binomial), not {self.name!r}"
            )
        if levels is not None and not self.two_level_category:
            raise DataError(
                f"the response {label!r} is categorical with levels {levels[0]!r} and {levels[1]!r}; family "
                f"{self.name!r} needs numbers: use family='bernoulli' to model the second level as success"
            )
        self.check_values(y, trials, label, rows)

    def check_values(self, y: np.ndarray, trials: np.ndarray | None, label: str, rows) -> None:
        """The family's own checks of the response values (support); none by default."""

    def check_categories(self, levels: tuple, ordered: bool | None, label: str) -> None:
        """Checks of a response of categories (``response_kind == "categories"``): ``levels`` are the K
        categories, ``ordered`` whether they came from an ordered pandas categorical (None for integers
        1..K). None by default."""

    def _check_counts(self, y: np.ndarray, label: str, rows) -> None:
        neg = y < 0
        if neg.any():
            raise DataError(f"{self.name} response {label!r} has negative counts on rows {rows_text(neg, rows)}")
        frac = y != np.round(y)
        if frac.any():
            raise DataError(
                f"{self.name} response {label!r} has non-integer values on rows {rows_text(frac, rows)} "
                f"(e.g. {y[frac][0].item()}); counts must be whole numbers (use family='gaussian' or 'gamma' for measurements)"
            )

    def _check_positive(self, y: np.ndarray, label: str, rows) -> None:
        bad = y <= 0
        if bad.any():
            raise DataError(
                f"{self.name} response {label!r} must be positive; rows {rows_text(bad, rows)} are not (e.g. {y[bad][0].item()})"
                + self._zero_hint(bad, y)
            )

    def _check_non_negative(self, y: np.ndarray, label: str, rows) -> None:
        bad = y < 0
        if bad.any():
            raise DataError(
                f"{self.name} response {label!r} must be zero or positive; rows {rows_text(bad, rows)} are not "
                f"(e.g. {y[bad][0].item()})"
            )

    def _zero_hint(self, bad: np.ndarray, y: np.ndarray) -> str:
        """What to do about zeros in a positive response."""
        if np.any(y[bad] == 0) and np.all(y[bad] == 0):
            return (f"; {self.name} has no zeros: model the zeros separately with a hurdle family (hurdle_gamma, "
                    "hurdle_lognormal), or add an offset to the response if the zeros are measurements below a limit")
        return ""

    # ----------------------------------------------------------------------------------------------- priors
    def default_aux_priors(self, s_y: float) -> dict[str, Any]:
        """Default prior of each sampled auxiliary parameter (``s_y``: see :class:`AuxParam`; a Prior or its dict
        form), in declaration order."""
        return {p.name: p.default_prior(s_y) for p in self.sampled_aux}

    def prior_location_scale(self, y: np.ndarray) -> tuple[float, float]:
        """``(m_y, s_y)``: the location of the default intercept prior and the scale of the default priors
        (:func:`bayesmixed.priors.default_priors`), from the response. Location-scale families with the
        identity link: the mean and SD of ``y``; otherwise ``(0, 1)`` (the link scale of a GLM)."""
        if self.identity_scale:
            return float(np.mean(y)), sd_or_one(y)
        return 0.0, 1.0

    # ------------------------------------------------------------------------------------- densities, draws
    def logpdf(self, y: np.ndarray, eta: np.ndarray, aux: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Pointwise log density of ``y`` given the linear predictor (NumPy/SciPy)."""
        raise NotImplementedError(f"family {self.name!r} has no NumPy log density")

    def logp_eta(self, y, eta, aux: dict, trials=None):
        """Elementwise log density of ``y`` as a PyTensor function of the linear predictor ``η`` (``aux``
        values may be PyTensor variables or arrays); by default PyMC's ``logp`` of :meth:`pymc_dist`."""
        import pymc as pm

        return pm.logp(self.pymc_dist(eta, aux, trials), y)

    def logcdf(self, y: np.ndarray, eta: np.ndarray, aux: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Pointwise ``log P(Y ≤ y)`` given the linear predictor (NumPy/SciPy), for left- and interval-censored
        and truncated responses (families with ``has_cdf``)."""
        raise NotImplementedError(f"family {self.name!r} has no cumulative distribution function")

    def logsf(self, y: np.ndarray, eta: np.ndarray, aux: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Pointwise ``log P(Y > y)`` (right-censored responses); by default ``log(1 − exp(logcdf))``."""
        return log1mexp(self.logcdf(y, eta, aux, trials))

    def pymc_params(self, eta, aux: dict, trials=None) -> tuple[Any, dict[str, Any]]:
        """The PyMC distribution class of the response and its arguments given ``η`` (PyTensor), e.g.
        ``(pm.Poisson, {"mu": exp(η)})``: :meth:`pymc_likelihood` and :meth:`pymc_dist` build from it."""
        raise NotImplementedError(f"family {self.name!r} has no PyMC likelihood")

    def pymc_likelihood(self, name: str, eta, observed, aux: dict, trials=None, dims=None):
        """The observed PyMC random variable of the response (inside a ``pm.Model`` context)."""
        cls, kw = self.pymc_params(eta, aux, trials)
        return cls(name, **kw, observed=observed, dims=dims)

    def pymc_dist(self, eta, aux: dict, trials=None):
        """The response's distribution as an unnamed PyMC variable (``cls.dist``), whose ``pm.logp`` and
        ``pm.logcdf`` give the censored, truncated and weighted likelihoods (:mod:`bayesmixed.families.bounds`)."""
        cls, kw = self.pymc_params(eta, aux, trials)
        return cls.dist(**kw)

    def draw(
        self, eta: np.ndarray, aux: dict[str, np.ndarray] | None, rng: np.random.Generator, trials=None
    ) -> np.ndarray:
        """One random response per element of ``eta`` (broadcast with ``aux`` and ``trials``), as floats."""
        aux = aux or {}
        mu = self.link.inverse(eta)
        shape = np.broadcast_shapes(np.shape(mu), *(np.shape(v) for v in aux.values()))
        mu = np.broadcast_to(mu, shape)
        a = {k: np.broadcast_to(v, shape) for k, v in aux.items()}
        return self.sample(mu, a, rng, shape, trials)

    def sample(self, mu: np.ndarray, aux: dict[str, np.ndarray], rng: np.random.Generator, shape, trials):
        """Random responses with mean ``mu`` (``mu`` and ``aux`` already broadcast to ``shape``)."""
        raise NotImplementedError(f"family {self.name!r} cannot draw responses")

    # ------------------------------------------------------------------------------------ moments, summaries
    def mean(self, eta: np.ndarray, aux: dict[str, np.ndarray] | None = None, trials=None) -> np.ndarray:
        """E[y | η] on the response scale (binomial-type families: of the proportion), what ``predict(kind=
        "mean")`` and the ``"response"`` scale of :mod:`bayesmixed.interpret` report (brms's
        ``posterior_epred``). By default ``g⁻¹(η)``; families whose mean parameter is not the mean of ``y``
        (zero-inflated, hurdle, lognormal) override it; for a response of categories, the category
        probabilities with a trailing axis of K."""
        return self.link.inverse(eta)

    def variance(self, mu: np.ndarray, aux: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Var(y | μ) on the response scale (binomial: of the proportion, ``μ(1 − μ)/n``), shaped like ``mu``."""
        raise NotImplementedError(f"family {self.name!r} has no variance")

    def working_weight(self, eta: np.ndarray, mu: np.ndarray, aux: dict[str, np.ndarray], trials=None) -> np.ndarray:
        """Expected information about η per observation, ``(dμ/dη)² · i(μ)`` with ``i(μ)`` the Fisher
        information about μ: ``1/Var(y | μ)`` for the exponential families (the IRLS weight)."""
        return self.link.dmu_deta(eta) ** 2 / np.maximum(self.variance(mu, aux, trials), 1e-300)

    def latent_variance(
        self, aux: dict[str, np.ndarray], n_draws: int, mean_mu: Callable[[], np.ndarray]
    ) -> tuple[np.ndarray, str]:
        """Residual variance on the latent (link) scale per draw, and the definition used (for the ICC).

        ``aux``: draws ``(S,)`` of the auxiliary parameters; ``mean_mu()``: per draw, the mean over the rows of
        the fitted mean (computed only when asked for).
        """
        v = self.link.latent_variance
        if v is not None:
            return np.full(n_draws, v), f"latent scale, {self.link.name}: residual variance {self.link.latent_variance_text}"
        if self.scale_param is not None and self.scale_param in aux:
            return aux[self.scale_param] ** 2, f"residual variance {self.scale_param}^2 (link scale)"
        raise ValueError(f"no latent residual variance defined for family {self.name!r} with link {self.link.name!r}")

    # -------------------------------------------------------------------------------- IRLS and the pilot fit
    def variance_function(self, mu: np.ndarray, aux: dict[str, float]) -> np.ndarray:
        """The GLM variance function V(μ) per unit prior weight (dispersion left out)."""
        raise NotImplementedError(f"family {self.name!r} has no variance function")

    def unit_deviance(self, y: np.ndarray, mu: np.ndarray, aux: dict[str, float]) -> np.ndarray:
        """(Quasi-)deviance of each observation, the objective IRLS decreases."""
        raise NotImplementedError(f"family {self.name!r} has no deviance")

    def clip_mean(self, mu: np.ndarray) -> np.ndarray:
        """μ kept inside its support (probabilities in [1e-12, 1 − 1e-12], positive means ≥ 1e-12)."""
        if self.mean_support == "unit":
            return clip_unit(mu)
        if self.mean_support == "positive" or self.link.name in ("log", "inverse"):
            return np.maximum(mu, 1e-12)
        return mu

    def pilot_response(self, y: np.ndarray, pw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The response and prior weights the pilot and the reference fits of pooling (IRLS with this family's
        link and variance function) work on: ``(y, pw)`` by default; lognormal: ``log y``; hurdle families:
        the positive responses only."""
        return y, pw

    def irls_start(self, y: np.ndarray, pw: np.ndarray) -> np.ndarray:
        """Starting means of IRLS from the response (proportions for binomial) and prior weights."""
        if self.link.name in ("log", "inverse"):
            return np.where(y > 0, y, max(float(np.mean(y[y > 0])) if np.any(y > 0) else 1.0, 1e-3))
        return y.astype(float)

    def dispersion_moment(self, y: np.ndarray, pw: np.ndarray, mu: np.ndarray, p: int) -> float:
        """Moment estimate of the dispersion from residuals ``y − μ`` with ``p`` parameters fitted (its meaning
        is the family's, as :meth:`pilot_variance` uses it); 1 for families without dispersion."""
        return 1.0

    def pilot_variance(self, mu: np.ndarray, pw: np.ndarray, disp: float) -> np.ndarray:
        """Var(y_i | μ_i) on the scale of the pilot's response (proportions for binomial), with the dispersion
        of :meth:`dispersion_moment`."""
        raise NotImplementedError(f"family {self.name!r} has no pilot variance")

    def boundary_levels(self, y: np.ndarray, trials, codes: np.ndarray, J: int) -> dict[int, str]:
        """Levels whose maximum-likelihood intercept is infinite before any fitting, with the reason."""
        return {}

    def degenerate_levels(self, eta: np.ndarray) -> tuple[np.ndarray, str] | None:
        """After a no-pooling fit: a per-row score whose level maximum above 15 marks a level without a finite
        ML estimate, and the note for it; None where the family has no such boundary."""
        return None

    # -------------------------------------------------------------------------------------------- helpers
    def __repr__(self) -> str:
        return f"<family {self.name} ({self.link.name} link)>"
