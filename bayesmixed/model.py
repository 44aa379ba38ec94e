"""``Model``: formula + data + family + priors, validated up front; ``fit()`` samples and returns a ``Fit``."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from .design import Design
from .design.predictors import build_model_design
from .errors import DataError, FormulaError
from .families import as_family
from .formula import Formula, parse_formula
from .formula.bf import BrmsFormula
from .priors import Prior
from .spec import ModelSpec, make_spec

__all__ = ["Model"]


class Model:
    """A Bayesian mixed-effects model written as an lme4 formula.

    Construction runs the data-side stages (parse → design → spec), so every error about the formula, the
    data, the family or the priors is raised here, before any compilation. The stages' results are frozen:
    ``model.formula``, ``model.design``, ``model.spec``.

    Parameters
    ----------
    formula
        lme4/brms syntax, e.g. ``"Reaction ~ Days + (Days | Subject)"``, or :func:`bayesmixed.bf <bayesmixed.formula.bf>` with formulas
        for the family's other parameters (distributional regression: ``bf("y ~ x + (1 | g)",
        sigma="~ x + (1 | g)")``).
    data
        A pandas DataFrame; it is never modified.
    family, link
        Response family (``"gaussian"``, ``"student_t"``, ``"bernoulli"``, ``"binomial"``, ``"poisson"``,
        ``"negative_binomial"``, ``"gamma"``, ``"inverse_gaussian"``, ``"beta"``; ordinal ``"cumulative"``,
        ``"sratio"``, ``"cratio"``, ``"acat"``; ``"categorical"``; see :func:`bayesmixed.families.family_names`)
        and optional link.
    priors
        Overrides of the default priors by parameter name (see :mod:`bayesmixed.priors`), e.g.
        ``{"sd_Subject": Prior("half_normal", sigma=20), "corr_Subject": Prior("lkj", eta=2)}``.
    parameterization
        ``"auto"`` (default: ``"marginal"`` for Gaussian identity-link models of moderate size or with one
        term of at most two coefficients, where the random effects, and the fixed effects where their priors
        are normal, are integrated out exactly and drawn afterwards; for larger Gaussian models with several
        terms, one term integrated out given the others; otherwise ``"centered"`` or
        ``"noncentered"`` per term from a pilot estimate of the levels' data strength, see
        :mod:`bayesmixed.autoparam` and ``spec.parameterization_reason``),
        ``"marginal"``, ``"noncentered"`` or ``"centered"``, or a dict by term label choosing
        ``"centered"``/``"noncentered"`` per term (``{"Subject": "centered"}``), and ``"marginal"`` for at
        most one term of at most two coefficients (integrated out given the others; Gaussian, identity link).
    missing
        ``"drop"`` (rows with missing values in used columns are dropped with a warning) or ``"raise"``.
    contrasts
        Coding of categorical variables, by variable (as lme4's ``contrasts=``): ``{"recipe": "sum",
        "temperature": "helmert"}``. Each is ``"treatment"``, ``"sum"``, ``"helmert"``, ``"poly"``, ``"SAS"``
        (or R's ``"contr.sum"`` etc.) or a levels × (levels - 1) matrix (a DataFrame indexed by level names its
        columns). By default an ordered pandas categorical gets polynomial contrasts (``.L``, ``.Q``, ``.C``,
        ``^4``, ...) and any other categorical treatment contrasts, as in R.
    weights
        For ``family="binomial"`` with a proportion response (``incidence / size ~ period + (1 | herd)``):
        the number of trials of each row, a column name or one number per row, as glmer's ``weights=``.
        The successes are proportion × weights and must be whole numbers.
    rank_deficient
        ``"drop"`` (default, as lme4): fixed-effect columns that are linear combinations of others are dropped
        with a warning naming them (R's pivoted QR picks which, as lme4 does, e.g. ``temperature.L`` in
        ``angle ~ recipe + temp + temperature``); ``"raise"``: a :class:`~bayesmixed.errors.DataError` instead.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> m = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"))
    >>> fit = m.fit(draws=500, chains=2, seed=1)  # doctest: +SKIP
    """

    def __init__(
        self,
        formula: str | Formula,
        data: pd.DataFrame,
        family: str = "gaussian",
        link: str | None = None,
        priors: dict[str, Prior | dict[str, Any]] | None = None,
        parameterization: str | dict[str, str] = "auto",
        missing: str = "drop",
        contrasts: dict[str, Any] | None = None,
        weights: str | Any | None = None,
        rank_deficient: str = "drop",
    ):
        if not isinstance(formula, (str, Formula, BrmsFormula)):
            raise FormulaError(
                f"a formula must be a string such as 'y ~ x + (1 | g)' or bf(...), got {type(formula).__name__}"
            )
        self.bf: BrmsFormula | None = formula if isinstance(formula, BrmsFormula) and formula.dpars else None
        if isinstance(formula, BrmsFormula):
            formula = formula.formula
        self.formula: Formula = parse_formula(formula) if isinstance(formula, str) else formula
        family_name = getattr(family, "name", family)
        if weights is not None and family_name != "binomial":
            raise DataError(
                f"weights= gives the numbers of trials of a proportion response for family='binomial' "
                f"(got family={family_name!r}); bayesmixed has no prior or precision weights: drop weights="
            )
        fam = as_family(family, link)
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            self.design: Design = build_model_design(
                self.bf if self.bf is not None else self.formula, data, fam, missing=missing, weights=weights,
                contrasts=contrasts, rank_deficient=rank_deficient,
            )
        self.spec: ModelSpec = make_spec(self.design, family, link, priors, parameterization,
                                         self.bf.dpars if self.bf is not None else None)

    def __repr__(self) -> str:
        groups = ", ".join(f"{b.label} ({b.n_levels} levels)" for b in self.design.all_blocks) or "none"
        params = sorted({v for _, v in self.spec.parameterization}) or ["-"]
        return (
            f"<bayesmixed.Model {self.formula.text!r}, family={self.spec.family} ({self.spec.link}), "
            f"{self.design.n} rows, groups: {groups}, parameterization: {'/'.join(params)}>"
        )

    def prior_summary(self) -> pd.DataFrame:
        """Every prior the model uses, as rstanarm's ``prior_summary``: parameter, prior, and whether it is
        the default (scaled to the data) or the user's."""
        from .priors import default_priors

        defaults = default_priors(self.design, self.spec.family, self.spec.link)
        rows = []
        for name, p in self.spec.priors:
            rows.append(dict(parameter=name, prior=str(p), source="default" if defaults.get(name) == p else "user"))
        return pd.DataFrame(rows).set_index("parameter")

    def sample_prior_predictive(self, draws: int = 500, seed: int | None = None):
        """Draws from the priors and the prior predictive distribution (``prior``, ``prior_predictive`` and
        ``observed_data`` groups of an ArviZ InferenceData), in every parameterisation: a marginal model is
        drawn in its non-centred form, which has the same priors. See
        :func:`bayesmixed.ppc.sample_prior_predictive`."""
        from .ppc import sample_prior_predictive

        return sample_prior_predictive(self.spec, self.design, draws, seed)

    def pp_check(self, kind: str = "dens_overlay", draws: int = 200, seed: int | None = None, **kw):
        """Prior predictive check: the observed response against data sets drawn from the priors (brms's
        ``pp_check`` of a prior-only fit); kinds as ``Fit.pp_check``. See :func:`bayesmixed.ppc.prior_check`."""
        from .ppc import prior_check

        return prior_check(self, kind, draws, seed, **kw)

    def build(self):
        """The PyMC model (``pm.Model``) of this specification."""
        from .backends.pymc import build_model

        return build_model(self.spec, self.design)

    def fit(
        self,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        seed: int | None = None,
        sampler: str = "auto",
        target_accept: float = 0.9,
        progressbar: bool = True,
        cores: int | None = None,
        log_likelihood: bool | str = "auto",
        trajectory: str = "auto",
    ):
        """Sample the posterior with NUTS.

        Parameters
        ----------
        draws, tune, chains
            Kept draws per chain, tuning steps per chain, number of chains.
        seed
            Random seed; the same seed gives the same draws.
        sampler
            ``"auto"`` (nutpie if installed, else PyMC), ``"nutpie"``, ``"pymc"``, ``"numpyro"``, ``"blackjax"``.
        target_accept
            NUTS target acceptance rate (0.9 by default: hierarchical posteriors have curvature).
        log_likelihood
            Store the pointwise log-likelihood (needed by LOO/WAIC). ``"auto"`` stores it unless it would
            exceed 2·10⁸ numbers (then ``fit.add_log_likelihood()`` adds it later).
        trajectory
            ``"auto"`` (default): a fully marginal model (every random effect integrated out, at most 10 sampled
            parameters) sampled by nutpie takes trajectories of a fixed length (set by a short NUTS pilot, at
            least 7 leapfrog steps), where NUTS's U-turn criterion stops too early in so few dimensions (worst
            bulk ESS per draw 0.65 → 0.94 on radon); every other model NUTS. ``"nuts"`` or ``"static"``
            (nutpie only) force one. ``fit.sampler_info["trajectory"]`` says which ran, and
            ``fit.sampler_info["static_steps"]`` how many steps.

        Returns
        -------
        Fit
        """
        from .fit import sample_fit

        return sample_fit(
            self.spec,
            self.design,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            sampler=sampler,
            target_accept=target_accept,
            progressbar=progressbar,
            cores=cores,
            log_likelihood=log_likelihood,
            trajectory=trajectory,
        )
