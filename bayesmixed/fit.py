"""``Fit``: the result of sampling: spec + design + InferenceData, with no hidden state.

Every method delegates to a pure function of :mod:`bayesmixed.summaries` (or the pooling and diagnostics
modules) over ``fit.idata`` and ``fit.design``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import naming as N
from . import summaries as S
from .design import Design
from .spec import ModelSpec

__all__ = ["Fit", "sample_fit", "load_fit", "Summary"]


def sample_fit(spec: ModelSpec, design: Design, **settings) -> "Fit":
    """Sample the model of ``spec`` on ``design`` and wrap the result in a :class:`Fit`; ``settings`` are those
    of :func:`bayesmixed.runner.sample` (``draws``, ``tune``, ``chains``, ``seed``, ``sampler``, ...)."""
    from .runner import sample

    idata, info = sample(spec, design, **settings)
    return Fit(spec=spec, design=design, idata=idata, sampler_info=info)


def load_fit(path: str | os.PathLike) -> "Fit":
    """Read a :class:`Fit` written by :meth:`Fit.save` (see :func:`bayesmixed.saveload.read_fit`).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    BayesMixedError
        The file is not a bayesmixed fit, or was written by a newer bayesmixed.
    """
    from .saveload import read_fit

    return Fit(**read_fit(path))


@dataclass(frozen=True)
class Fit:
    """A fitted model.

    Attributes
    ----------
    spec
        The :class:`~bayesmixed.spec.ModelSpec` that was fitted.
    design
        The :class:`~bayesmixed.design.Design` (data as the model saw it).
    idata
        ArviZ InferenceData: ``posterior``, ``sample_stats``, ``log_likelihood``, ``observed_data``.
    sampler_info
        Sampler name, versions, settings and timings.

    Notes
    -----
    Saving and loading: ``fit.save("sleep.bmfit")`` writes the fit to one file and ``bayesmixed.load("sleep.bmfit")`` reads it
    back: the whole InferenceData (every group), the formula, family, link, priors, parameterisation,
    ``sampler_info`` and the encoded data with its encoding (factor levels and their order, contrasts'
    column names, the centre and scale of ``scale()``/``center()``). Every method works on the loaded fit, and
    ``predict`` on new data gives the same numbers as before saving. The file is a zip of a JSON manifest
    (with a ``format_version``), a netCDF file and a NumPy ``.npz`` of the design arrays; nothing is pickled.
    It is written atomically (temporary file, then :func:`os.replace`). See :mod:`bayesmixed.saveload`.
    """

    spec: ModelSpec
    design: Design
    idata: Any
    sampler_info: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ saving
    def save(self, path: str | os.PathLike) -> Path:
        """Write this fit to one file (a zip of a JSON manifest, the InferenceData as netCDF and the design
        arrays), atomically; read it back with :func:`bayesmixed.load <bayesmixed.fit.load_fit>`.

        Parameters
        ----------
        path
            File to write (e.g. ``"sleepstudy.bmfit"``); an existing file is replaced only once the new one
            is complete.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        from .saveload import save_fit

        return save_fit(self, path)

    # ------------------------------------------------------------------ tables
    def fixef(self, prob: float = 0.95) -> pd.DataFrame:
        """Fixed effects: index term; columns mean, sd, lower, upper."""
        return S.fixef(self.idata, self.design, prob)

    def ranef(self, group: str | None = None, prob: float = 0.95, wide: bool = False):
        """Random effects per term (dict of frames), or one term's frame with ``group``. Long by default
        (``level``, ``coef``; ``mean``, ``sd``, ``lower``, ``upper``); ``wide=True``: posterior means, levels ×
        coefficients, as lme4's ``ranef`` and ``simulate(..., return_effects=True)``."""
        out = S.ranef(self.idata, self.design, prob, wide)
        return out if group is None else out[self.design.block(group).label]

    def coef(self, group: str | None = None, prob: float = 0.95):
        """Group-level coefficients (fixed + random) per term, as lme4's ``coef``."""
        out = S.coef(self.idata, self.design, prob)
        return out if group is None else out[self.design.block(group).label]

    def varcorr(self, prob: float = 0.95, kind: str = "sd") -> pd.DataFrame:
        """SDs (``kind="sd"``), variances (``"var"``) or both (``"both"``) of the random effects and the
        residual, with the correlations (see :func:`bayesmixed.summaries.varcorr`)."""
        return S.varcorr(self.idata, self.design, prob, kind)

    def VarCorr(self, prob: float = 0.95) -> pd.DataFrame:
        """lme4's ``VarCorr``: variances and SDs of the random effects and the residual, and the
        correlations (``varcorr(kind="both")``)."""
        return self.varcorr(prob, kind="both")

    def confint(self, prob: float = 0.95, parm: list[str] | None = None) -> pd.DataFrame:
        """Posterior intervals of every population-level parameter (lme4's ``confint``): index ``parameter``,
        columns ``lower``, ``upper``; ``parm`` selects some (see :func:`bayesmixed.summaries.confint`)."""
        return S.confint(self.idata, prob, parm)

    def icc(self, prob: float = 0.95, at: dict[str, Any] | None = None) -> pd.DataFrame:
        """Intraclass correlations (latent scale for non-Gaussian families; see ``definition``).

        With random slopes the group variance depends on the covariates: it is computed at the values in
        ``at`` (``{"Days": 5}``, raw predictor values), by default with every slope's covariate at 0; the
        ``at`` column says which."""
        from .interpret import icc_at

        z, label = icc_at(self.design, at)
        return S.icc(self.idata, self.design, self.spec.family, self.spec.link, prob, z, label)

    def r2(self, prob: float = 0.95) -> pd.DataFrame:
        """Bayesian R² (Gelman et al. 2019): conditional and marginal."""
        return S.r2(self.idata, self.design, self.spec.family, self.spec.link, prob)

    def convergence(self) -> pd.DataFrame:
        """R-hat, bulk ESS and tail ESS of every population-level parameter."""
        return S.convergence(self.idata)

    # --- partial pooling (pooling.py, diagnostics.py, plots.py)
    def shrinkage(self, group: str, term: str | None = None, prob: float = 0.95) -> pd.DataFrame:
        """Per level: observations, no-pooling, complete-pooling, population and partial-pooling estimates,
        interval and shrinkage factor (see :func:`bayesmixed.pooling.shrinkage` for every column)."""
        from . import pooling

        return pooling.shrinkage(self.idata, self.design, self.spec.family, self.spec.link, group, term, prob)

    def pooling(self) -> pd.DataFrame:
        """Per term and coefficient: pooling factor λ, level R², effective number of groups, information
        ratio and parameterisation advice (see :func:`bayesmixed.pooling.pooling`)."""
        from . import pooling

        return pooling.pooling(self.idata, self.design, self.spec.family, self.spec.link, dict(self.spec.parameterization))

    def diagnose(self, **thresholds):
        """Divergences (and where they sit), R-hat, ESS, E-BFMI, tree depth, funnels, prior-to-posterior
        contraction, each finding with a next step (see :func:`bayesmixed.diagnostics.diagnose`)."""
        from .diagnostics import diagnose

        return diagnose(self.idata, self.design, self.spec, **thresholds)

    @property
    def plot(self):
        """Figures: ``fit.plot.caterpillar(group)``, ``.shrinkage(group)``, ``.shrinkage2d(group)``,
        ``.effects(group, x=None)``, ``.ppc()``, ``.trace()``, ``.rank()`` (see :mod:`bayesmixed.plots`)."""
        from .plots import PlotAccessor

        return PlotAccessor(self)

    @property
    def divergences(self) -> int:
        return int(self.idata.sample_stats["diverging"].sum())

    def prior_summary(self) -> pd.DataFrame:
        """The priors used (see :meth:`bayesmixed.Model.prior_summary`)."""
        from .priors import default_priors

        defaults = default_priors(self.design, self.spec.family, self.spec.link)
        rows = [dict(parameter=n, prior=str(p), source="default" if defaults.get(n) == p else "user") for n, p in self.spec.priors]
        return pd.DataFrame(rows).set_index("parameter")

    def add_log_likelihood(self) -> "Fit":
        """A new Fit whose InferenceData has the pointwise log-likelihood (if it was not stored)."""
        from .loglik import add_log_likelihood

        from . import _arviz

        idata = _arviz.copy(self.idata)
        add_log_likelihood(idata, self.spec, self.design)
        return Fit(self.spec, self.design, idata, dict(self.sampler_info))

    # --- comparison and prediction (compare.py, predict.py)
    def loo(self, pointwise: bool = False, by: str | None = None):
        """PSIS-LOO (an :class:`~bayesmixed.elpd.ELPD`); ``by="<factor>"``: leave-one-group-out over its levels.
        Pareto k > 0.7 is reported with the rows concerned. See :func:`bayesmixed.compare.loo`."""
        from .compare import loo

        return loo(self, pointwise=pointwise, by=by)

    def waic(self, pointwise: bool = False, by: str | None = None):
        """WAIC (an :class:`~bayesmixed.elpd.ELPD`). See :func:`bayesmixed.compare.waic`."""
        from .compare import waic

        return waic(self, pointwise=pointwise, by=by)

    def kfold(
        self,
        k: int | None = 10,
        by: str | None = None,
        seed: int | None = None,
        client: Any = None,
        n_workers: int | None = None,
        progressbar: bool = True,
        **fit_kwargs,
    ):
        """Exact k-fold cross-validation by refits (on this machine, from any script, notebook or REPL; on Dask
        with ``client=``);
        ``by`` folds a grouping factor's levels, ``k=None`` with ``by`` leaves one level out at a time.
        ``fit_kwargs``: ``draws``, ``tune``, ``chains``, ``sampler``, ``target_accept`` of the refits.
        See :func:`bayesmixed.compare.kfold`."""
        from .compare import kfold

        return kfold(self, k, by, seed, client, n_workers, progressbar, **fit_kwargs)

    def predict(
        self,
        new_data: pd.DataFrame | None = None,
        groups: str = "include",
        kind: str = "mean",
        prob: float = 0.95,
        draws: bool = False,
        seed: int | None = None,
        trials=None,
        re_formula=None,
        re_form=None,
    ):
        """Predictions (``mean``, ``sd``, ``lower``, ``upper`` per row) for ``new_data`` (default: the fitted
        rows); ``groups``: ``"include"``, ``"exclude"`` (population level) or ``"sample_new"``; ``kind``:
        ``"mean"``, ``"response"`` or ``"link"``. ``re_formula`` (brms) or ``re_form`` (lme4): ``NA`` or
        ``"~0"`` for none of the random effects, ``"~ (1 | g)"`` for those terms only (default: as
        ``groups``). See :func:`bayesmixed.predict.predict`."""
        from .errors import BayesMixedError
        from .interpret import resolve_re_formula
        from .predict import predict

        if re_formula is not None and re_form is not None:
            raise BayesMixedError("give re_formula= or re_form= (lme4's name for it), not both")
        chosen = re_formula if re_formula is not None else re_form
        terms = None if chosen is None else resolve_re_formula(self.design, chosen)
        return predict(self, new_data, groups, kind, prob, draws, seed, trials, terms)

    # --- interpretation (interpret.py, hypothesis.py, ppc.py)
    def conditional_effects(self, effects=None, conditions=None, scale: str = "response", prob: float = 0.95, **kw):
        """brms's ``conditional_effects``: predictions along each predictor with the others at typical values,
        random effects left out unless ``re_formula=`` includes them; a table and ``.plot()``. See
        :func:`bayesmixed.interpret.conditional_effects` (``re_formula``/``re_form``, ``resolution``, ...)."""
        from .interpret import conditional_effects

        return conditional_effects(self, effects, conditions, scale=scale, prob=prob, **kw)

    def predictions(self, newdata=None, by=False, scale: str = "response", prob: float = 0.95, **kw):
        """marginaleffects' ``predictions`` on the fitted rows, a grid or new data, per row or averaged
        ``by`` groups, with draws and ``.plot()``; ``re_formula=``/``re_form=`` choose the random effects.
        See :func:`bayesmixed.interpret.predictions`."""
        from .interpret import predictions

        return predictions(self, newdata, by, scale, prob=prob, **kw)

    def comparisons(self, variables, newdata=None, by=True, scale: str = "response", prob: float = 0.95, **kw):
        """marginaleffects' ``comparisons``: contrasts of predictions when a predictor changes (numeric: +1 or
        given steps; factors: each level against the reference, or pairwise), averaged by default. See
        :func:`bayesmixed.interpret.comparisons`."""
        from .interpret import comparisons

        return comparisons(self, variables, newdata, by, scale=scale, prob=prob, **kw)

    def slopes(self, variables, newdata=None, by=True, scale: str = "response", prob: float = 0.95, **kw):
        """marginaleffects' ``slopes``: finite-difference derivatives of the predictions, averaged by default.
        See :func:`bayesmixed.interpret.slopes`."""
        from .interpret import slopes

        return slopes(self, variables, newdata, by, scale=scale, prob=prob, **kw)

    def emmeans(self, specs, by=None, pairwise: bool = False, scale: str = "response", prob: float = 0.95, **kw):
        """Estimated marginal means of factors, averaged as R's ``emmeans``, and pairwise contrasts. See
        :func:`bayesmixed.interpret.emmeans`."""
        from .interpret import emmeans

        return emmeans(self, specs, by, pairwise, scale, prob, **kw)

    def hypothesis(self, hypotheses, prob: float = 0.95, **kw):
        """brms's ``hypothesis()``: ``"Days > 5"``, ``"period2 - period3 = 0"``, ``"sd_Subject[Days] > 5"``;
        estimate, interval, evidence ratio (Savage-Dickey for point hypotheses), posterior probability. See
        :mod:`bayesmixed.hypothesis`."""
        from .hypothesis import hypothesis

        return hypothesis(self, hypotheses, prob, **kw)

    def pp_check(self, kind: str = "dens_overlay", **kw):
        """Posterior predictive check figure, as brms's ``pp_check``: ``kind`` one of ``dens_overlay``,
        ``hist``, ``stat``, ``intervals``, ``rootogram``, ``bars``, ``loo_pit``. See :func:`bayesmixed.ppc.pp_check`."""
        from .ppc import pp_check

        return pp_check(self, kind, **kw)

    def update(self, formula: str | None = None, data: pd.DataFrame | None = None, **kw) -> "Fit":
        """Refit with a new formula and/or data, keeping the rest: family, link, the priors you set (defaults
        are recomputed for the new model), the parameterisation you chose (``"auto"`` chooses again), and the
        sampler settings and seed, unless given in ``kw`` (``family``, ``link``, ``priors``,
        ``parameterization``, and ``fit()``'s arguments). R's ``update``: ``"~ . + x"`` or ``". ~ . - x"``
        edit the formula (``.`` is the old side). Without ``data`` the model frame of this fit is used (the
        rows it was fitted to: a new formula may only use its columns). A model of the same structure is
        not compiled again (the compile cache). See :func:`bayesmixed.interpret.update_model`."""
        from .interpret import update_model

        spec, design, settings = update_model(self, formula, data, **kw)
        return sample_fit(spec, design, **settings)

    def posterior_predictive(self, seed: int | None = None) -> "Fit":
        """A new Fit whose InferenceData has a ``posterior_predictive`` group (``y``, dim ``obs``)."""
        from dataclasses import replace

        from .predict import posterior_predictive

        return replace(self, idata=posterior_predictive(self, seed))

    # ------------------------------------------------------------------ printing
    def summary(self, prob: float = 0.95) -> "Summary":
        """A printable summary laid out like lme4's ``summary(lmer(...))``, with posterior intervals and
        convergence figures."""
        return Summary(self, prob)

    def __repr__(self) -> str:
        return str(self.summary())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()


class Summary:
    """lme4-style summary of a :class:`Fit`: ``str()`` for the terminal, HTML in notebooks."""

    def __init__(self, fit: Fit, prob: float = 0.95):
        self.fit = fit
        self.prob = prob
        self.fixed = fit.fixef(prob)
        self.varcorr = fit.varcorr(prob)
        self.diagnostics = fit.convergence()

    def _effects_line(self) -> str:
        """How each term's effects entered the model (``fit.spec.parameterization``), in words."""
        spec = self.fit.spec
        words = {
            "marginal": "integrated out exactly",
            "centered": "sampled, centred",
            "noncentered": "sampled, non-centred",
        }
        parts = []
        for label, how in spec.parameterization:
            if how == "quadrature":
                k = spec.quadrature_nodes
                parts.append(f"{label} integrated out by adaptive quadrature" + (f" ({k} nodes)" if k else ""))
            else:
                parts.append(f"{label} {words.get(how, how)}")
        return "; ".join(parts)

    def _header(self) -> list[str]:
        f, d, info = self.fit, self.fit.design, self.fit.sampler_info
        kind = "linear" if f.spec.family_obj.linear_gaussian else "generalized linear"
        lines = [
            f"Bayesian {kind} mixed model: family {f.spec.family} ({f.spec.link} link), sampled with "
            f"{info.get('sampler', '?')} "
            + (f"HMC, static trajectories of {info['static_steps']} steps" if info.get("trajectory") == "static"
               else "NUTS"),
            f" Formula: {d.formula.text}",
        ]
        for p in d.predictors:
            if p.dpar != N.MU:
                lines.append(f"{p.dpar:>8}: {p.formula.text.split('~', 1)[1].strip()}")
        groups = "; ".join(f"{b.label}, {b.n_levels}" for b in d.all_blocks)
        lines.append(f"    Data: {d.n} observations" + (f" ({d.n_dropped} dropped: missing values)" if d.n_dropped else ""))
        if groups:
            lines.append(f"  Groups: {groups}")
            lines.append(f" Effects: {self._effects_line()}")
        if d.response_levels is not None and f.spec.family_obj.response_kind == "categories":
            lines.append(f"  Levels: {d.response_label}: {', '.join(map(str, d.response_levels))} "
                         f"({'ordered' if d.response_ordered else 'unordered' if d.response_ordered is False else 'integers'})")
        elif d.response_levels is not None:
            lines.append(f" Success: {d.response_label} == {d.response_levels[1]!r} (reference {d.response_levels[0]!r})")
        diag = self.diagnostics
        n_div = f.divergences
        lines.append(
            f"   Draws: {info.get('chains')} chains x {info.get('draws')} (tune {info.get('tune')}); "
            f"divergences {n_div}; max R-hat {diag['r_hat'].max():.3f}; min bulk ESS {diag['ess_bulk'].min():.0f}; "
            f"min tail ESS {diag['ess_tail'].min():.0f}"
        )
        warn = []
        if n_div:
            warn.append(f"{n_div} divergent transitions: the posterior may be biased (see fit.diagnose())")
        if diag["r_hat"].max() > 1.01:
            warn.append("R-hat above 1.01: chains disagree; sample longer")
        if diag["ess_bulk"].min() < 100 * self.fit.sampler_info.get("chains", 1):
            warn.append("low effective sample size for some parameters; sample longer")
        lines += [f" Warning: {w}" for w in warn]
        return lines

    def __str__(self) -> str:
        pct = f"{100 * self.prob:g}%"
        lines = self._header()
        lines.append("")
        # the columns keep the names of the tables they come from (fit.varcorr(), fit.fixef(),
        # fit.convergence()), so that what the summary shows can be looked up by the same name
        lines.append(f"Random effects (fit.varcorr(): posterior mean, median, {pct} interval lower and upper):")
        vc = self.varcorr
        if len(vc):
            t = vc.copy()
            t["group"] = t["group"].where(t["group"] != t["group"].shift(), "")
            t["kind"] = t["kind"].map({"sd": "Std.Dev.", "cor": "Corr"}).fillna(t["kind"])
            lines.append(t.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        else:
            lines.append(" (none)")
        lines.append("")
        lines.append(f"Fixed effects (fit.fixef(): posterior mean, sd, {pct} interval lower and upper; "
                     "fit.convergence()):")
        lines.append(self._fixed_table().to_string(float_format=lambda v: f"{v:.4g}"))
        return "\n".join(lines)

    def _fixed_table(self) -> pd.DataFrame:
        """``fit.fixef()`` with the R-hat and ESS columns of ``fit.convergence()``, under the same names."""
        fx = self.fixed.copy()
        diag = self.diagnostics
        param = {t: p for t, (p, _) in S.fixef_draws(self.fit.idata, self.fit.design).items()}
        rows = [param.get(t, N.beta_coef(t)) for t in fx.index]
        for col in ("r_hat", "ess_bulk", "ess_tail"):
            values = [diag.loc[r, col] for r in rows]
            fx[col] = values if col == "r_hat" else [int(v) if np.isfinite(v) else v for v in values]
        return fx

    def _repr_html_(self) -> str:
        import html

        pct = f"{100 * self.prob:g}%"
        head = "<br>".join(html.escape(x) for x in self._header())
        vc = self.varcorr.to_html(index=False, float_format=lambda v: f"{v:.4g}")
        fx = self._fixed_table().to_html(float_format=lambda v: f"{v:.4g}")
        return (
            f"<div class='bayesmixed-fit'><p style='font-family:monospace'>{head}</p>"
            f"<b>Random effects</b> ({pct} intervals){vc}<b>Fixed effects</b> ({pct} intervals){fx}</div>"
        )
