"""Backend-free prior specifications and the default-prior rules.

Names users give priors by
--------------------------
``"Intercept"``
    The intercept (on centred predictors, as rstanarm and brms do, when the model has one).
``"beta"`` / ``"beta[Days]"``
    All other fixed coefficients, or one of them. They share one distribution family.
``"sigma"``, ``"nu"``, ``"alpha"``, ``"phi"``, ``"lam"``
    The family's auxiliary parameter.
``"Intercept"`` (ordinal families)
    The thresholds ``Intercept[1]``, ... (on centred predictors, as brms): one prior for all, or vector-valued
    parameters with one value per threshold. Default brms's ``student_t(3, 0, 2.5)``.
``"<d>_Intercept"``, ``"beta_<d>"`` / ``"beta_<d>[x]"``
    The intercept and slopes of a parameter ``d`` predicted by its own formula (``bf(..., sigma="~ x")``),
    on its link's scale; its terms' SDs are ``sd_<factor>__<d>``. Defaults: brms's ``student_t(3, 0, 2.5)``
    for the intercept (``sigma``: centred on ``log sd(y)`` for identity-link location-scale families),
    ``Normal(0, 2.5 / s_x)`` for the slopes and ``HalfStudentT(3, 2.5 / s_z)`` for the SDs.
``"sd_<term>"`` / ``"sd_<term>[coef]"``
    Standard deviations of a random-effect term (``sd_Subject``, ``sd_Subject[Days]``), or ``"sd"`` for all.
``"corr_<term>"``
    ``Prior("lkj", eta=...)`` on the correlation of a correlated term, or ``"corr"`` for all.
``"sd_s(x)"``, ``"sdgp_gp(x)"``, ``"lscale_gp(x)"``
    The SD of a smooth term's penalised part; a GP's marginal SD and length-scale.
``"ar"``, ``"cosy"``
    The AR(1) coefficient (truncated to (-1, 1)) and the compound-symmetry correlation.
``"<term>"``
    ``Prior("decov", ...)``: rstanarm's prior on the whole covariance matrix of a term.

Default rules (weakly informative, scaled to the data)
------------------------------------------------------
With ``s_y`` = sd of the response for Gaussian/Student-t identity links and 1 otherwise, ``m_y`` = mean of
the response for identity links and 0 otherwise, and ``s_x`` the sd of a predictor column:

* Intercept (centred predictors): ``Normal(m_y, 2.5 s_y)``;
* coefficient of column x: ``Normal(0, 2.5 s_y / s_x)`` (``2.5 s_y`` for a constant column);
* residual sigma: ``Exponential(rate = 1 / s_y)``;
* SD of coefficient c of a term: ``HalfStudentT(nu=3, sigma = 2.5 s_y / s_z)``, ``s_z`` the sd of that
  term's column (1 for the intercept);
* correlations: ``LKJ(eta = 1)`` (uniform over correlation matrices);
* SD of a smooth term, marginal SD of a GP: ``HalfStudentT(nu=3, sigma = 2.5 s_y)`` (brms's scale);
  GP length-scale: brms's inverse gamma with 1 % of its mass below the smallest and 1 % above the largest
  distance between (scaled) data points; ``ar``: ``Uniform(-1, 1)``; ``cosy``: ``Uniform(0, 1)``;
* Student-t ``nu``: ``Gamma(2, 0.1)``; negative binomial ``alpha`` (reciprocal dispersion):
  ``Exponential(1)`` as rstanarm; gamma ``alpha`` (shape), inverse Gaussian ``lam``, beta ``phi``:
  ``Gamma(0.01, 0.01)`` as brms;
* the families added with issue 17 take brms's defaults (each family's module and the families guide list
  them): zero-inflation ``zi`` and hurdle ``hu`` probabilities ``Beta(1, 1)``, shapes and precisions
  ``Gamma(0.01, 0.01)``, ``sigma`` ``HalfStudentT(3, max(2.5, s_y))``, and their ``m_y``, ``s_y`` from
  :meth:`bayesmixed.families.Family.prior_location_scale` (lognormal: mean and SD of ``log y``; log-link
  positive families: ``log`` of the mean of ``y`` and 1).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import naming as N
from .errors import PriorError
from .families.base import sd_or_one

__all__ = ["Prior", "DISTRIBUTIONS", "default_priors", "resolve_priors"]

# distribution -> (required parameters, optional parameters with defaults)
DISTRIBUTIONS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "normal": (("mu", "sigma"), {}),
    "student_t": (("nu", "mu", "sigma"), {}),
    "cauchy": (("alpha", "beta"), {}),
    "laplace": (("mu", "b"), {}),
    "half_normal": (("sigma",), {}),
    "half_student_t": (("nu", "sigma"), {}),
    "half_cauchy": (("beta",), {}),
    "exponential": (("lam",), {}),
    "gamma": (("alpha", "beta"), {}),
    "inverse_gamma": (("alpha", "beta"), {}),
    "beta": (("alpha", "beta"), {}),
    "uniform": (("lower", "upper"), {}),
    "lkj": ((), {"eta": 1.0}),
    "decov": ((), {"regularization": 1.0, "concentration": 1.0, "shape": 1.0, "scale": 1.0}),
    "flat": ((), {}),
}
_POSITIVE = {"half_normal", "half_student_t", "half_cauchy", "exponential", "gamma", "inverse_gamma"}
_POSITIVE_PARAMS = {"sigma", "beta", "lam", "alpha", "nu", "b", "eta", "scale", "shape", "concentration", "regularization"}
_LOCATION_SCALE = {"normal", "student_t", "cauchy", "laplace", "flat", "uniform"}
_UNIT = {"beta", "uniform"}
_ALIASES = {
    "halfnormal": "half_normal",
    "halfstudentt": "half_student_t",
    "half_t": "half_student_t",
    "studentt": "student_t",
    "t": "student_t",
    "halfcauchy": "half_cauchy",
    "exp": "exponential",
    "lkj_corr": "lkj",
    "lkjcorr": "lkj",
}


@dataclass(frozen=True)
class Prior:
    """A prior distribution, e.g. ``Prior("half_normal", sigma=10)``.

    Parameters
    ----------
    dist
        One of ``DISTRIBUTIONS`` (``normal``, ``student_t``, ``half_normal``, ``half_student_t``,
        ``exponential``, ``gamma``, ``lkj``, ``decov``, ...).
    relative
        For random-effect SD priors of Gaussian models only: the prior is on the SD relative to the residual
        sigma (lme4's θ; SD = sigma · θ).
    **params
        Parameters of the distribution (PyMC's names: ``mu``, ``sigma``, ``nu``, ``lam``, ``alpha``, ``beta``;
        ``eta`` for ``lkj``; ``regularization``, ``concentration``, ``shape``, ``scale`` for ``decov``).
    """

    dist: str
    params: tuple[tuple[str, Any], ...] = ()
    relative: bool = False

    def __init__(self, dist: str, relative: bool = False, **params: Any):
        d = str(dist).lower().replace("-", "_")
        d = _ALIASES.get(d, d)
        if d not in DISTRIBUTIONS:
            close = difflib.get_close_matches(d, list(DISTRIBUTIONS), n=1)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise PriorError(f"unknown prior distribution {dist!r}.{hint} Available: {', '.join(DISTRIBUTIONS)}")
        required, optional = DISTRIBUTIONS[d]
        missing = [p for p in required if p not in params]
        if missing:
            raise PriorError(f"Prior({d!r}) needs the parameter(s) {', '.join(missing)}")
        unknown = [p for p in params if p not in required and p not in optional]
        if unknown:
            raise PriorError(
                f"Prior({d!r}) has no parameter(s) {', '.join(unknown)}; it takes {', '.join([*required, *optional])}"
            )
        full = {**optional, **params}
        for k, v in full.items():
            try:
                arr = np.asarray(v, dtype=float)
            except (TypeError, ValueError):
                raise PriorError(f"Prior({d!r}): parameter {k} must be a number (or a list of numbers), got {v!r}") from None
            if arr.ndim > 1 or arr.size == 0:
                raise PriorError(f"Prior({d!r}): parameter {k} must be a number or a flat list of numbers, got {v!r}")
            if not np.all(np.isfinite(arr)):
                raise PriorError(f"Prior({d!r}): parameter {k} must be finite, got {v!r}")
            if k in _POSITIVE_PARAMS and not (d == "cauchy" and k == "alpha") and np.any(arr <= 0):
                raise PriorError(f"Prior({d!r}): parameter {k} must be positive, got {v!r}")
        frozen = tuple(sorted((k, _freeze(v)) for k, v in full.items()))
        object.__setattr__(self, "dist", d)
        object.__setattr__(self, "params", frozen)
        object.__setattr__(self, "relative", bool(relative))

    @property
    def kwargs(self) -> dict[str, Any]:
        return {k: (np.asarray(v) if isinstance(v, tuple) else v) for k, v in self.params}

    @property
    def positive(self) -> bool:
        return self.dist in _POSITIVE

    def __str__(self) -> str:
        args = ", ".join(f"{k}={_fmt(v)}" for k, v in self.params)
        rel = " × sigma" if self.relative else ""
        return f"{self.dist}({args}){rel}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"dist": self.dist, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in self.params}}
        if self.relative:
            out["relative"] = True
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Prior":
        d = dict(d)
        if "dist" not in d:
            raise PriorError(f"a prior needs a 'dist' entry, got {d!r}")
        return cls(d.pop("dist"), relative=d.pop("relative", False), **d)

    def at(self, i: int) -> "Prior":
        """The scalar prior of element ``i`` of a vector-valued prior."""
        kw = {k: (v[i] if isinstance(v, tuple) else v) for k, v in self.params}
        return Prior(self.dist, relative=self.relative, **kw)


def _freeze(v: Any) -> Any:
    arr = np.asarray(v, dtype=float)
    return float(arr) if arr.ndim == 0 else tuple(float(x) for x in arr.ravel())


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ", ".join(f"{x:.4g}" for x in v) + "]"
    return f"{v:.4g}"


def _as_prior(v: Any) -> Prior:
    return v if isinstance(v, Prior) else Prior.from_dict(v)


def default_priors(design, family: str, link: str) -> dict[str, Prior]:
    """The default prior of every parameter of a model (see the module docstring for the rules)."""
    from .families import as_family

    fam = as_family(family, link)
    m_y, s_y = fam.prior_location_scale(np.asarray(design.y, dtype=float))
    out: dict[str, Prior] = {}
    if fam.thresholds is not None:  # brms's default for ordinal thresholds (on centred predictors)
        out[N.THRESHOLDS] = Prior("student_t", nu=3.0, mu=0.0, sigma=2.5)
    aux = {p.name: p for p in fam.aux}
    predicted = {d.dpar for d in design.predictors}
    for d in design.predictors:
        dpar = d.dpar
        scale = s_y if dpar == N.MU else 1.0  # other predictors are on their link's scale
        names = list(d.x_names)
        if "Intercept" in names:
            if dpar == N.MU:
                out[N.INTERCEPT] = Prior("normal", mu=m_y, sigma=2.5 * s_y)
            else:  # brms's student_t(3, 0, 2.5), or the parameter's own (log sigma centred on log sd(y))
                p = aux.get(dpar)
                out[N.intercept_key(dpar)] = (_as_prior(p.intercept_prior(s_y)) if p is not None
                                              else Prior("student_t", nu=3.0, mu=0.0, sigma=2.5))
        for j, name in enumerate(names):
            if name == "Intercept":
                continue
            out[N.beta_key(dpar, name)] = Prior("normal", mu=0.0, sigma=2.5 * scale / sd_or_one(d.X[:, j]))
    out.update({k: _as_prior(v) for k, v in fam.default_aux_priors(s_y).items() if k not in predicted})
    for d in design.predictors:
        scale = s_y if d.dpar == N.MU else 1.0
        for b in d.blocks:
            if b.kind == "smooth":
                out[f"sd_{b.label}"] = Prior("half_student_t", nu=3.0, sigma=2.5 * scale)
                continue
            if b.kind == "gp":
                out[f"sdgp_{b.label}"] = Prior("half_student_t", nu=3.0, sigma=2.5 * scale)
                out[f"lscale_{b.label}"] = lscale_prior(d, b)
                continue
            if b.kind == "cosy":
                out["cosy"] = Prior("uniform", lower=0.0, upper=1.0)
                continue
            for j, c in enumerate(b.coef_names):
                s_z = 1.0 if c == "Intercept" else sd_or_one(b.Z[:, j])
                out[N.sd_coef(b.label, c)] = Prior("half_student_t", nu=3.0, sigma=2.5 * scale / s_z)
            if b.correlated:
                out[N.corr(b.label)] = Prior("lkj", eta=1.0)
    if design.autocor is not None and design.autocor.kind == "ar":
        out[N.AR] = Prior("uniform", lower=-1.0, upper=1.0)
    return out


def lscale_prior(design, b) -> Prior:
    """brms's default prior of a GP's length-scale (``def_lscale_prior``): the inverse gamma with 1 % of its
    mass below the smallest distance between two distinct (scaled) data points, floored at 1 % of the largest,
    and 1 % above the largest (1 after brms's scaling)."""
    import json

    from scipy import optimize, stats

    st = next(json.loads(v[1]) for _, v in design.encoding.state
              if v[0] == "smooth" and json.loads(v[1]).get("slambda") == list(b.spectral))
    hi = float(st["dmax"])
    lo = max(st["dmin"], 0.01 * hi)

    # IG(a, b) is b times IG(a, 1): the shape fixes the ratio of the 99 % and 1 % quantiles, the scale the rest
    def log_ratio(log_a):
        a = np.exp(log_a)
        return np.log(stats.invgamma.isf(0.01, a) / stats.invgamma.ppf(0.01, a)) - np.log(hi / lo)

    a = float(np.exp(optimize.brentq(log_ratio, np.log(1e-2), np.log(1e4))))
    return Prior("inverse_gamma", alpha=a, beta=float(lo / stats.invgamma.ppf(0.01, a)))


def resolve_priors(design, family: str, link: str, user: dict[str, Any] | None) -> dict[str, Prior]:
    """Defaults overridden by the user's priors; unknown names raise a :class:`~bayesmixed.errors.PriorError`.

    Group-wide names (``"beta"``, ``"sd_Subject"``, ``"sd"``, ``"corr"``) apply to every matching parameter;
    specific names (``"beta[Days]"``, ``"sd_Subject[Days]"``) win over them. ``Prior("decov")`` given for a
    term name replaces that term's SD and correlation priors.
    """
    from .families import as_family

    fam = as_family(family, link)
    positive_aux = {p.name for p in fam.aux if p.positive}
    unit_aux = {p.name for p in fam.aux if p.unit}
    priors = default_priors(design, family, link)
    predicted = [d.dpar for d in design.predictors if d.dpar != N.MU]
    broad_betas = [N.BETA] + [N.beta_var(d) for d in predicted]
    if user is not None and not isinstance(user, dict):
        raise PriorError(
            f"priors must be a dict from parameter name to Prior, e.g. {{'sigma': Prior('exponential', lam=1)}}, "
            f"got {type(user).__name__}"
        )
    if not user:
        return priors
    user = {str(k): (v if isinstance(v, Prior) else Prior.from_dict(v) if isinstance(v, dict) else _bad(k, v)) for k, v in user.items()}
    labels = [b.label for b in design.all_blocks if b.kind == "group"]
    smooth_sd = {N.sd(b.label) for b in design.all_blocks if b.kind == "smooth"}
    known = set(priors) | set(broad_betas) | {"sd", "corr"} | {N.sd(b) for b in labels} | {N.corr(b) for b in labels} | set(labels)
    location = {N.intercept_key(d) for d in predicted} | {N.INTERCEPT}

    def check(name: str, p: Prior) -> None:
        if name in location or name.startswith("beta"):
            if p.dist not in _LOCATION_SCALE:
                raise PriorError(f"prior for {name!r} must be one of {', '.join(sorted(_LOCATION_SCALE))}, got {p.dist!r}")
        elif name.startswith("sd") and p.dist not in _POSITIVE:
            raise PriorError(
                f"prior for the standard deviation {name!r} must be positive-valued "
                f"({', '.join(sorted(_POSITIVE))}), got {p.dist!r}"
            )
        elif name.startswith("corr") and p.dist != "lkj":
            raise PriorError(f"prior for the correlation {name!r} must be Prior('lkj', eta=...), got {p.dist!r}")
        elif name in labels and p.dist != "decov":
            raise PriorError(
                f"a prior given for the term {name!r} itself must be Prior('decov', ...); for its SDs use 'sd_{name}'"
            )
        elif (name in positive_aux or name.startswith(("sdgp_", "lscale_"))) and p.dist not in _POSITIVE:
            raise PriorError(f"prior for {name!r} must be positive-valued ({', '.join(sorted(_POSITIVE))}), got {p.dist!r}")
        elif name in unit_aux and (p.dist not in _UNIT or (p.dist == "uniform" and not (
                0 <= np.min(p.kwargs["lower"]) and np.max(p.kwargs["upper"]) <= 1))):
            raise PriorError(
                f"{name!r} is a probability: its prior must be Prior('beta', alpha=..., beta=...) or a uniform inside "
                f"[0, 1], got {p}"
            )
        elif name == "ar" and (p.dist not in _LOCATION_SCALE or p.dist == "flat"):
            raise PriorError(f"prior for the autocorrelation 'ar' must be one of {', '.join(sorted(_LOCATION_SCALE - {'flat'}))}"
                             f" (it is truncated to (-1, 1)), got {p.dist!r}")
        elif name == "cosy" and p.dist != "uniform":
            raise PriorError(f"prior for 'cosy' must be Prior('uniform', lower=..., upper=...) within [0, 1], got {p.dist!r}")
        if p.relative and not (name.startswith("sd") or p.dist == "decov"):
            raise PriorError(f"relative=True only applies to random-effect SD priors, not {name!r}")
        if p.relative and not fam.relative_sd_priors:
            raise PriorError(f"relative=True (SD relative to sigma) needs family='gaussian', not {fam.name!r}")

    for name, p in user.items():
        if name in predicted and name not in known:
            raise PriorError(
                f"{name!r} is predicted by its own formula here, so it has no prior of its own: give priors to its "
                f"coefficients, {N.intercept_key(name)!r}, {N.beta_var(name)!r} (its slopes) and the SDs of its terms"
            )
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=3)
            hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise PriorError(
                f"the model has no parameter {name!r} to put a prior on.{hint} Parameters: {', '.join(sorted(known))}"
            )
        check(name, p)
    thresholds = None
    if fam.thresholds is not None and N.THRESHOLDS in user:  # one prior for every threshold, or one per threshold
        thresholds = user.pop(N.THRESHOLDS)
        n_thres = len(design.response_levels) - 1
        lengths = {len(v) for _, v in thresholds.params if isinstance(v, tuple)}
        if lengths - {n_thres}:
            raise PriorError(
                f"the prior for the thresholds {N.THRESHOLDS!r} has {'/'.join(map(str, sorted(lengths)))} values per "
                f"parameter, but the model has {n_thres} thresholds; give one value, or one per threshold"
            )
    user = _split_vectors(user, priors, broad_betas)
    if thresholds is not None:
        user[N.THRESHOLDS] = thresholds
    # broad names first, then specific ones
    for name, p in user.items():
        if name in broad_betas:
            for k in priors:
                if k.startswith(f"{name}["):
                    priors[k] = p
        elif name == "sd":
            for k in priors:
                if k.startswith("sd_"):
                    priors[k] = p
        elif name == "corr":
            for k in priors:
                if k.startswith("corr_"):
                    priors[k] = p
    for name, p in user.items():
        if name in labels or (name.startswith("sd_") and "[" not in name):
            label = name if name in labels else name[3:]
            for k in list(priors):
                if k.startswith(f"sd_{label}["):
                    priors[k] = p
            if name in labels:
                priors[name] = p
                priors.pop(f"corr_{label}", None)
    for name, p in user.items():
        if name in priors and name not in labels and (name in smooth_sd or not (name.startswith("sd_") and "[" not in name)):
            priors[name] = p
        elif name.startswith("corr_"):
            priors[name] = p
    for lab in labels:
        if lab in priors:  # decov replaces the per-coefficient SD priors
            for k in [k for k in priors if k.startswith(f"sd_{lab}[")]:
                priors.pop(k)
    return priors


def _bad(k: str, v: Any) -> Prior:
    raise PriorError(f"prior for {k!r} must be a bayesmixed.Prior or a dict with a 'dist' key, got {type(v).__name__}")


def _covered(name: str, priors: dict[str, Prior], broad_betas=(N.BETA,)) -> list[str]:
    """The per-coefficient parameters that a prior given under ``name`` applies to."""
    if name in broad_betas:
        return [k for k in priors if k.startswith(f"{name}[")]
    if name == "sd":
        return [k for k in priors if k.startswith("sd_")]
    if name.startswith("sd_") and "[" not in name:
        return [k for k in priors if k.startswith(f"{name}[")]
    return [name]


def _split_vectors(user: dict[str, Prior], priors: dict[str, Prior], broad_betas=(N.BETA,)) -> dict[str, Prior]:
    """Vector-valued priors (``Prior("normal", mu=[0, 1], sigma=1)`` for ``"beta"``) as one scalar prior per
    covered parameter, in model order; a length that does not match raises a :class:`~bayesmixed.errors.PriorError`."""
    out: dict[str, Prior] = {}
    for name, p in user.items():
        lengths = {len(v) for _, v in p.params if isinstance(v, tuple)}
        if not lengths or p.dist == "decov":
            out.setdefault(name, p)
            continue
        covered = _covered(name, priors, broad_betas)
        if lengths != {len(covered)}:
            raise PriorError(
                f"the prior for {name!r} has {'/'.join(map(str, sorted(lengths)))} values per parameter, but {name!r} "
                f"covers {len(covered)} parameter(s) ({', '.join(covered)}); give one value, or one per parameter"
            )
        for i, k in enumerate(covered):
            if k not in user:  # a prior the user gave for the coefficient itself wins
                out[k] = p.at(i)
    return out
