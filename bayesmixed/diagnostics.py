"""Can the sampler be trusted, and is the data talking? :func:`diagnose` answers with a :class:`Diagnosis`.

Checks (each failed check becomes a :class:`Finding` with a concrete next step, and where possible a ``fix``:
the keyword arguments to change in ``Model(...)`` or ``.fit(...)``):

divergences
    Divergent transitions mean NUTS could not follow the curvature of the posterior; the draws may be biased.
    For every random-effect SD the divergent draws are located in its marginal posterior (median percentile
    of the divergent draws): divergences concentrated at small τ (median percentile below 25 %) are the
    signature of Neal's funnel between a term's SD and its effects.
funnels without divergences
    A centred term whose SD mixes poorly (R-hat or ESS fails) with a low E-BFMI or weakly informed levels
    (:func:`bayesmixed.pooling.pooling`) is stuck above the funnel's neck: samplers with good adaptation
    (nutpie) often report no divergence there at all. The mirror image, a non-centred term with strongly
    informed levels that mixes poorly, is reported too, with the advice to centre it.
R-hat, bulk and tail ESS
    Rank-normalised split R-hat (Vehtari et al. 2021) above 1.01 for a population-level parameter (1.02 for
    the worst level of a random-effect term, a maximum over many levels), or an effective sample size
    below 100 per chain.
E-BFMI
    Energy Bayesian fraction of missing information per chain below 0.3 (Betancourt 2016): the momentum
    resampling explores the energy distribution poorly (heavy tails, funnels).
tree depth
    Share of draws whose trajectory stopped at the maximum tree depth (above 1 %): strong correlations or
    bad scaling make NUTS take the longest trajectories it is allowed.
prior-to-posterior contraction
    For every θ parameter (random-effect SDs and correlations): ``1 − Var(posterior) / Var(prior)``
    (Betancourt 2018). Near 1: the data inform it; near 0 (below 0.1): the prior is talking. The prior
    variance is exact for the standard distributions; where it is infinite (half-Cauchy, half-t with ν ≤ 2)
    the contraction of the squared inter-quartile range (prior IQR from NumPy draws) is used instead (column
    ``measure``). Because heavy-tailed priors hide most of their variance in the tails, the IQR form is
    reported too and a parameter is flagged when either is below the threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from . import _arviz
from .design import Design
from .priors import Prior
from .summaries import convergence as _population_convergence
from .summaries import draws_of

__all__ = ["Finding", "Diagnosis", "diagnose", "contraction", "prior_moments", "sample_prior", "theta_priors"]

SEVERITIES = ("problem", "warning", "note")


@dataclass(frozen=True)
class Finding:
    """One thing :func:`diagnose` found.

    Attributes
    ----------
    kind
        ``"divergences"``, ``"funnel"``, ``"r_hat"``, ``"ess_bulk"``, ``"ess_tail"``, ``"e_bfmi"``,
        ``"tree_depth"`` or ``"prior_dominated"``.
    severity
        ``"problem"`` (results may be wrong), ``"warning"`` (results are imprecise or sampling inefficient)
        or ``"note"`` (worth knowing when reporting).
    message
        What was found, with the numbers.
    next_step
        What to do about it.
    parameters
        Names of the parameters concerned (``sd_Subject[Days]``, ``r_g``).
    fix
        Keyword arguments that carry out the next step where it is mechanical: ``{"parameterization":
        {"g": "noncentered"}}`` for ``Model(...)``, ``{"target_accept": 0.99}`` or ``{"draws": 2000}`` for
        ``.fit(...)``; empty otherwise.
    """

    kind: str
    severity: str
    message: str
    next_step: str
    parameters: tuple[str, ...] = ()
    fix: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def __str__(self) -> str:
        return f"[{self.severity}] {self.message}\n    next step: {self.next_step}"


@dataclass(frozen=True)
class Diagnosis:
    """Result of :func:`diagnose`: the figures, the tables behind them, and the findings.

    ``str(diagnosis)`` is a short report; ``diagnosis.ok`` is true when there is no problem or warning.

    Attributes
    ----------
    chains, draws
        Number of chains and of kept draws per chain.
    divergences, divergence_rate
        Number and share of divergent transitions among the kept draws.
    max_r_hat, min_ess_bulk, min_ess_tail
        Worst R-hat and effective sample sizes over all parameters (random effects included).
    e_bfmi
        E-BFMI per chain (empty when the sampler recorded no energy).
    tree_depth_saturation
        Share of draws at the maximum tree depth (``nan`` when not recorded).
    static_trajectories
        Whether every trajectory had the same fixed length (``fit.sampler_info["trajectory"] == "static"``): then
        every draw is at the maximum depth by design, and that is no finding.
    convergence
        R-hat, bulk and tail ESS per population parameter, plus the worst of each ``r_<term>``.
    divergence_location
        Per random-effect SD: number of divergent draws and their median percentile in the SD's posterior.
    contraction
        Prior-to-posterior contraction of every θ parameter (see :func:`contraction`).
    pooling
        :func:`bayesmixed.pooling.pooling` table used for the parameterisation advice (or ``None``).
    findings
        The :class:`Finding` list, most serious first.
    """

    chains: int
    draws: int
    divergences: int
    divergence_rate: float
    max_r_hat: float
    min_ess_bulk: float
    min_ess_tail: float
    e_bfmi: tuple[float, ...]
    tree_depth_saturation: float
    convergence: pd.DataFrame = field(repr=False)
    divergence_location: pd.DataFrame = field(repr=False)
    contraction: pd.DataFrame = field(repr=False)
    pooling: pd.DataFrame | None = field(repr=False)
    findings: list[Finding] = field(default_factory=list)
    static_trajectories: bool = False

    @property
    def ok(self) -> bool:
        return not any(f.severity in ("problem", "warning") for f in self.findings)

    def by_kind(self, kind: str) -> list[Finding]:
        """The findings of one kind."""
        return [f for f in self.findings if f.kind == kind]

    def _summary_lines(self) -> list[str]:
        lines = [
            f"Sampler diagnostics: {self.chains} chains x {self.draws} draws",
            f"  divergences      {self.divergences} ({100 * self.divergence_rate:.1f}% of draws)",
            f"  R-hat            max {self.max_r_hat:.3f}",
            f"  ESS              min bulk {self.min_ess_bulk:.0f}, min tail {self.min_ess_tail:.0f}",
        ]
        if self.e_bfmi:
            lines.append("  E-BFMI           " + ", ".join(f"{v:.2f}" for v in self.e_bfmi) + " (per chain)")
        if self.static_trajectories:
            lines.append("  tree depth       fixed (static trajectories, not ended by the U-turn criterion)")
        elif np.isfinite(self.tree_depth_saturation):
            lines.append(f"  tree depth       at the maximum in {100 * self.tree_depth_saturation:.1f}% of draws")
        if len(self.contraction):
            c = self.contraction["contraction"]
            worst = c.idxmin()
            lines.append(f"  contraction      min {c.min():.2f} ({worst}), max {c.max():.2f}")
        return lines

    def __str__(self) -> str:
        lines = self._summary_lines()
        if not self.findings:
            lines += ["", "No problems found."]
        else:
            lines += ["", "Findings:"]
            for i, f in enumerate(self.findings, 1):
                lines.append(f" {i}. [{f.severity}] {f.message}")
                lines.append(f"    next step: {f.next_step}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        import html

        return f"<pre class='bayesmixed-diagnosis'>{html.escape(str(self))}</pre>"


# ------------------------------------------------------------------------------------------ priors
def _moments(p: Prior) -> tuple[float, float]:
    """Mean and second moment of a scalar prior (``inf`` where they do not exist)."""
    kw = {k: float(v) for k, v in p.kwargs.items()}
    d = p.dist
    if d == "half_normal":
        s = kw["sigma"]
        return s * np.sqrt(2 / np.pi), s**2
    if d == "half_student_t":
        nu, s = kw["nu"], kw["sigma"]
        m = (
            2 * s * np.sqrt(nu / np.pi) * np.exp(special.gammaln((nu + 1) / 2) - special.gammaln(nu / 2)) / (nu - 1)
            if nu > 1
            else np.inf
        )
        return m, (s**2 * nu / (nu - 2) if nu > 2 else np.inf)
    if d == "half_cauchy":
        return np.inf, np.inf
    if d == "exponential":
        return 1 / kw["lam"], 2 / kw["lam"] ** 2
    if d == "gamma":
        a, b = kw["alpha"], kw["beta"]
        return a / b, a * (a + 1) / b**2
    if d == "inverse_gamma":
        a, b = kw["alpha"], kw["beta"]
        return (b / (a - 1) if a > 1 else np.inf), (b**2 / ((a - 1) * (a - 2)) if a > 2 else np.inf)
    if d == "uniform":
        lo, hi = kw["lower"], kw["upper"]
        return (lo + hi) / 2, (lo**2 + lo * hi + hi**2) / 3
    if d == "normal":
        return kw["mu"], kw["mu"] ** 2 + kw["sigma"] ** 2
    raise ValueError(f"no moments for prior {p}")


def sample_prior(p: Prior, size: int, rng: np.random.Generator, k: int = 1, coef: int = 0) -> np.ndarray:
    """Draws of a scalar prior in NumPy.

    ``lkj`` gives the marginal of one correlation of a ``k × k`` matrix (``2·Beta(a, a) − 1``,
    ``a = η − 1 + k/2``); ``decov`` gives the SD of coefficient ``coef`` of a ``k``-coefficient term
    (``τ √(k π_c)``, ``τ ~ Gamma(shape, scale)``, ``π ~ Dirichlet``). ``relative`` is not applied here.
    """
    kw = {k_: float(v) if np.ndim(v) == 0 else v for k_, v in p.kwargs.items()}
    d = p.dist
    if d == "half_normal":
        return np.abs(rng.normal(0.0, kw["sigma"], size))
    if d == "half_student_t":
        return np.abs(kw["sigma"] * rng.standard_t(kw["nu"], size))
    if d == "half_cauchy":
        return np.abs(kw["beta"] * rng.standard_cauchy(size))
    if d == "exponential":
        return rng.exponential(1 / kw["lam"], size)
    if d == "gamma":
        return rng.gamma(kw["alpha"], 1 / kw["beta"], size)
    if d == "inverse_gamma":
        return kw["beta"] / rng.gamma(kw["alpha"], 1.0, size)
    if d == "uniform":
        return rng.uniform(kw["lower"], kw["upper"], size)
    if d == "normal":
        return rng.normal(kw["mu"], kw["sigma"], size)
    if d == "lkj":
        a = kw["eta"] - 1 + k / 2
        return 2 * rng.beta(a, a, size) - 1
    if d == "decov":
        tau = rng.gamma(kw["shape"], kw["scale"], size)
        if k == 1:
            return tau
        c = kw["concentration"]
        return tau * np.sqrt(k * rng.beta(c, (k - 1) * c, size))
    raise ValueError(f"cannot sample prior {p}")


def prior_moments(p: Prior, k: int = 1, sigma_prior: Prior | None = None) -> tuple[float, float]:
    """Exact mean and variance of a θ prior (``inf`` variance where it does not exist).

    ``lkj``: one correlation of a ``k × k`` matrix (mean 0, variance ``1/(2a + 1)``, ``a = η − 1 + k/2``).
    ``decov``: one SD of a ``k``-coefficient term. ``relative`` priors are multiplied by an independent
    draw of ``sigma_prior``.
    """
    if p.dist == "lkj":
        a = float(p.kwargs["eta"]) - 1 + k / 2
        return 0.0, 1.0 / (2 * a + 1)
    if p.dist == "decov":
        kw = {k_: float(v) for k_, v in p.kwargs.items()}
        sh, sc, c = kw["shape"], kw["scale"], kw["concentration"]
        e_tau, e_tau2 = sh * sc, sh * (sh + 1) * sc**2
        e_sqrt_pi = 1.0 if k == 1 else np.exp(special.betaln(c + 0.5, (k - 1) * c) - special.betaln(c, (k - 1) * c))
        m1, m2 = e_tau * np.sqrt(k) * e_sqrt_pi, e_tau2  # E[τ² k π_c] = E[τ²]
    else:
        m1, m2 = _moments(p)
    if p.relative and sigma_prior is not None:
        s1, s2 = _moments(sigma_prior)
        m1, m2 = m1 * s1, m2 * s2
    var = m2 - m1**2 if np.isfinite(m2) else np.inf
    return float(m1), float(var)


def theta_priors(design: Design, priors: dict[str, Prior]) -> list[tuple[str, Prior, int, int, tuple]]:
    """The θ parameters: ``(name, prior, k, coef index, posterior address)`` per SD and correlation.

    The address is ``("sd", label, a)`` or ``("corr", label, i, j)``.
    """
    out = []
    for b in design.blocks:
        decov = priors.get(b.label)
        for a, c in enumerate(b.coef_names):
            p = decov if decov is not None else priors[f"sd_{b.label}[{c}]"]
            out.append((f"sd_{b.label}[{c}]", p, b.k, a, ("sd", b.label, a)))
        if b.correlated:
            p = priors.get(f"corr_{b.label}")
            if p is None:
                p = Prior("lkj", eta=float(decov.kwargs["regularization"])) if decov is not None else Prior("lkj")
            for i in range(b.k):
                for j in range(i + 1, b.k):
                    name = f"corr_{b.label}[{b.coef_names[i]},{b.coef_names[j]}]"
                    out.append((name, p, b.k, 0, ("corr", b.label, i, j)))
    return out


def contraction(idata, design: Design, priors: dict[str, Prior], seed: int = 0, n_prior: int = 200_000) -> pd.DataFrame:
    """Prior-to-posterior contraction ``1 − Var(posterior)/Var(prior)`` of every θ parameter.

    Index ``parameter`` (``sd_Subject[Days]``, ``corr_Subject[Intercept,Days]``); columns ``prior``,
    ``prior_sd``, ``posterior_sd``, ``contraction`` and ``measure`` (``"variance"``, or ``"IQR²"`` where the
    prior variance is infinite: then ``1 − (IQR_post/IQR_prior)²`` with the prior's IQR from NumPy draws),
    and ``contraction_iqr``, always the IQR form. The variance of a heavy-tailed prior (the default
    half-Student-t with ν = 3) sits in tails that a thousand posterior draws rarely visit, so a posterior equal
    to its prior can still show a large variance contraction; the IQR form does not have this blind spot, and
    :func:`diagnose` flags a parameter when either form is small.
    """
    rng = np.random.default_rng(seed)
    sigma_prior = priors.get("sigma")
    rows = []
    for name, p, k, a, addr in theta_priors(design, priors):
        if addr[0] == "sd":
            post = draws_of(idata, f"sd_{addr[1]}")[:, addr[2]]
        else:
            post = draws_of(idata, f"corr_{addr[1]}")[:, addr[2], addr[3]]
        _, var = prior_moments(p, k, sigma_prior)
        draws = sample_prior(p, n_prior, rng, k, a)
        if p.relative and sigma_prior is not None:
            draws = draws * sample_prior(sigma_prior, n_prior, rng)
        iqr_prior = float(np.subtract(*np.quantile(draws, [0.75, 0.25])))
        iqr_post = float(np.subtract(*np.quantile(post, [0.75, 0.25])))
        c_iqr = 1.0 - (iqr_post / iqr_prior) ** 2
        if np.isfinite(var):
            measure = "variance"
            prior_sd = float(np.sqrt(var))
            c = 1.0 - float(np.var(post, ddof=1)) / var
        else:
            measure = "IQR²"
            prior_sd = np.inf
            c = c_iqr
        rows.append(
            dict(parameter=name, prior=str(p), prior_sd=prior_sd, posterior_sd=float(np.std(post, ddof=1)),
                 contraction=c, measure=measure, contraction_iqr=c_iqr)
        )
    cols = ["parameter", "prior", "prior_sd", "posterior_sd", "contraction", "measure", "contraction_iqr"]
    return pd.DataFrame(rows, columns=cols).set_index("parameter")


# ---------------------------------------------------------------------------------------- sampler
def _stat(idata, *names: str):
    ss = idata.sample_stats if "sample_stats" in _arviz.groups(idata) else None
    if ss is None:
        return None
    for n in names:
        if n in ss:
            return np.asarray(ss[n].values)
    return None


def _convergence_table(idata, design: Design) -> pd.DataFrame:
    pop = _population_convergence(idata)
    rows = []
    names = [f"r_{b.label}" for b in design.blocks if f"r_{b.label}" in idata.posterior]
    if names:
        rhat, bulk, tail = _arviz.convergence_stats(idata, names)
        for n in names:
            rows.append(dict(parameter=f"{n} (worst level)", r_hat=float(np.nanmax(rhat[n].values)),
                             ess_bulk=float(np.nanmin(bulk[n].values)), ess_tail=float(np.nanmin(tail[n].values))))
    if rows:
        pop = pd.concat([pop, pd.DataFrame(rows).set_index("parameter")])
    return pop


def _divergence_location(idata, design: Design, div: np.ndarray) -> pd.DataFrame:
    rows = []
    for b in design.blocks:
        sd = draws_of(idata, f"sd_{b.label}")
        for a, c in enumerate(b.coef_names):
            x = sd[:, a]
            if div.any():
                ranks = np.searchsorted(np.sort(x), x[div], side="right") / len(x)
                med_pct = float(np.median(ranks))
                med_div = float(np.median(x[div]))
            else:
                med_pct = med_div = np.nan
            rows.append(dict(parameter=f"sd_{b.label}[{c}]", group=b.label, coef=c, n_divergent=int(div.sum()),
                             median_percentile=med_pct, divergent_median=med_div, posterior_median=float(np.median(x))))
    cols = ["parameter", "group", "coef", "n_divergent", "median_percentile", "divergent_median", "posterior_median"]
    return pd.DataFrame(rows, columns=cols).set_index("parameter")


def _fmt_dict(d: dict) -> str:
    return "{" + ", ".join(f"{k!r}: {v!r}" for k, v in d.items()) + "}"


def _param_fix(param: dict[str, str], label: str, value: str) -> dict[str, str]:
    """A per-term parameterization dict with ``label`` set to ``value``. The one marginal term of a partly
    marginal model stays marginal; the terms of a wholly marginal model become the default (non-centred)."""
    marg = [k for k, v in param.items() if v == "marginal"]
    keep = set(marg) if len(marg) == 1 and len(param) > 1 else set()
    out = {k: (v if v in ("centered", "noncentered") or k in keep else "noncentered") for k, v in param.items()}
    out[label] = value
    return out


def diagnose(
    idata,
    design: Design,
    spec,
    *,
    r_hat_max: float = 1.01,
    r_hat_max_effects: float = 1.02,
    ess_per_chain: float = 100.0,
    e_bfmi_min: float = 0.3,
    tree_depth_max: float = 0.01,
    contraction_min: float = 0.1,
    funnel_percentile: float = 0.25,
) -> Diagnosis:
    """Sampler and identification diagnostics of a fitted model (see the module docstring).

    A funnel is reported for a centred term (kind ``"funnel"``, ``fix`` = the parameterisation to switch to)
    when there are divergences and either they sit at small values of its SD (median percentile below
    ``funnel_percentile``, at least 3 divergences) or :func:`bayesmixed.pooling.pooling` finds its levels
    weakly informed (at most half with information ratio above 1); or, without divergences, when its SD mixes
    poorly (R-hat or bulk ESS fails) with a low E-BFMI or weakly informed levels. Where the sampler stores a
    divergent iteration's draw rather than where it diverged (nutpie), the location is blurred, hence the
    pooling evidence. For a non-centred term: divergences at small SDs (advice: ``target_accept``, priors),
    or poor mixing although its levels are strongly informed (advice: centre it).

    Parameters
    ----------
    idata, design
        Posterior (with ``sample_stats``) and design of the fit.
    spec
        The :class:`~bayesmixed.spec.ModelSpec` (family, priors, parameterisation per term).
    r_hat_max
        Largest acceptable R-hat of population-level parameters (Vehtari et al. 2021: 1.01).
    r_hat_max_effects
        Largest acceptable R-hat of the worst level of a random-effect term: the maximum over many levels
        exceeds 1.01 by chance in short runs, so the default is 1.02.
    ess_per_chain, e_bfmi_min, tree_depth_max, contraction_min, funnel_percentile
        Thresholds of the other checks.

    Returns
    -------
    Diagnosis
    """
    from .pooling import pooling as _pooling

    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    S = chains * draws
    findings: list[Finding] = []
    param = dict(spec.parameterization)
    need = ess_per_chain * chains

    try:  # pooling table, for the parameterisation advice; never let it hide the sampler diagnostics
        pool = _pooling(idata, design, spec.family, spec.link, param) if design.blocks else None
    except Exception:  # noqa: BLE001
        pool = None

    def pooled(label: str, col: str):
        if pool is None or label not in pool.index.get_level_values(0):
            return None
        return pool.loc[label, col]

    conv = _convergence_table(idata, design)
    ebfmi: tuple[float, ...] = ()
    if _stat(idata, "energy") is not None:
        ebfmi = tuple(float(v) for v in _arviz.bfmi(idata))
    low_ebfmi = any(v < e_bfmi_min for v in ebfmi)

    # ------------------------------------------------------------------ divergences and funnels
    dv = _stat(idata, "diverging")
    div = np.zeros(S, dtype=bool) if dv is None else dv.reshape(-1).astype(bool)
    n_div = int(div.sum())
    loc = _divergence_location(idata, design, div)
    funnel_labels: set[str] = set()
    for blk in design.blocks:
        label = blk.label
        current = param.get(label, "noncentered")
        sds = [f"sd_{label}[{c}]" for c in blk.coef_names]
        frac = pooled(label, "frac_strong")
        frac = None if frac is None else float(frac.min())
        ratio = pooled(label, "info_ratio")
        rec = pooled(label, "recommendation")
        rec = None if rec is None else str(rec.iloc[0])
        weak = frac is not None and frac <= 0.5
        pct = float(loc.loc[sds, "median_percentile"].min()) if n_div else np.nan
        at_small = n_div >= 3 and pct < funnel_percentile
        rows = [r_ for r_ in sds if r_ in conv.index]
        rh = float(conv.loc[rows, "r_hat"].max()) if rows else np.nan
        ess = float(conv.loc[rows, "ess_bulk"].min()) if rows else np.nan
        poor = bool(rows) and (rh > r_hat_max or ess < need)
        evidence = []
        if n_div:
            where = f", the divergent draws at the {100 * pct:.0f}th percentile of sd_{label} (median)" if n_div >= 3 else ""
            evidence.append(f"{n_div} divergent transitions{where}")
        if poor:
            evidence.append(f"sd_{label} mixes poorly (R-hat {rh:.3f}, bulk ESS {ess:.0f})")
        if low_ebfmi:
            evidence.append("E-BFMI " + ", ".join(f"{v:.2f}" for v in ebfmi))
        strength = ""
        if frac is not None:
            strength = (f"{100 * frac:.0f}% of its levels have more information than the prior "
                        f"(median n_j τ²/σ² or analogue {float(ratio.min()):.2g})")
        if current == "centered" and ((n_div and (at_small or weak)) or (poor and (low_ebfmi or weak))):
            fix = {"parameterization": _param_fix(param, label, "noncentered")}
            findings.append(Finding(
                "funnel", "problem",
                f"centred term {label!r}: " + "; ".join(evidence + ([strength] if strength else []))
                + ": a funnel between the SD and the effects" + ("" if n_div else " (the sampler is stuck above its neck)"),
                f"go non-centred for this term: Model(..., parameterization={_fmt_dict(fix['parameterization'])}); "
                "non-centring samples standardised effects, which removes the funnel",
                tuple(sds) + (f"r_{label}",), fix,
            ))
            funnel_labels.add(label)
        elif current == "noncentered" and (at_small or (bool(rows) and ess < need and frac is not None and frac >= 0.8)):
            if rec == "centered" or (frac is not None and frac >= 0.8):
                fix = {"parameterization": _param_fix(param, label, "centered")}
                step = (f"the data are strong for this term: centre it, "
                        f"Model(..., parameterization={_fmt_dict(fix['parameterization'])})")
                what = "strong data make the non-centred form an inverted funnel"
            else:
                fix = {"target_accept": 0.99}
                step = ("the term is already non-centred: raise target_accept to 0.99 (fit(..., target_accept=0.99)); "
                        f"if divergences remain, give sd_{label} a tighter prior (e.g. Prior('half_normal', sigma=...) "
                        "on a plausible scale) or simplify the term (drop a slope, or use || to drop correlations)")
                what = "a funnel the non-centred form did not remove"
            findings.append(Finding(
                "funnel", "problem" if (n_div or rh > r_hat_max) else "warning",
                f"non-centred term {label!r}: " + "; ".join(evidence + ([strength] if strength else [])) + f": {what}",
                step, tuple(sds) + (f"r_{label}",), fix,
            ))
            funnel_labels.add(label)
    if n_div and not funnel_labels:
        where = ""
        if len(loc) and n_div >= 3:
            worst = loc["median_percentile"].idxmin()
            where = (f"; they are not concentrated at small SDs (lowest: {worst}, median percentile "
                     f"{100 * loc.loc[worst, 'median_percentile']:.0f}%)")
        findings.append(Finding(
            "divergences", "problem",
            f"{n_div} divergent transitions ({100 * n_div / S:.1f}% of draws): the draws may be biased{where}",
            "raise target_accept to 0.99 (fit(..., target_accept=0.99)); if they persist, look at fit.plot.trace() "
            "and at pairs of the parameters named here, and reconsider weakly identified terms (fit.pooling(), "
            "the contraction table)",
            tuple(loc.index), {"target_accept": 0.99},
        ))

    # ------------------------------------------------------------------ R-hat and ESS
    is_effect = conv.index.str.startswith("r_")
    max_rhat = float(np.nanmax(conv["r_hat"].values)) if len(conv) else np.nan
    min_bulk = float(np.nanmin(conv["ess_bulk"].values)) if len(conv) else np.nan
    min_tail = float(np.nanmin(conv["ess_tail"].values)) if len(conv) else np.nan
    limit = np.where(is_effect, r_hat_max_effects, r_hat_max)
    bad = conv.index[conv["r_hat"].to_numpy() > limit].tolist()
    if bad:
        worst = float(conv.loc[bad, "r_hat"].max())
        findings.append(Finding(
            "r_hat", "problem",
            f"R-hat above {r_hat_max} for {len(bad)} parameter(s) (max {worst:.3f}: {', '.join(bad[:4])}"
            f"{' ...' if len(bad) > 4 else ''}): the chains disagree",
            f"run longer (fit(..., tune={max(2 * draws, 1000)}, draws={max(2 * draws, 1000)})) with at least 4 chains; "
            "check fit.plot.trace() for a chain stuck in another mode" + ("; see the funnel finding" if funnel_labels else ""),
            tuple(bad), {"draws": max(2 * draws, 1000), "tune": max(2 * draws, 1000), "chains": max(chains, 4)},
        ))
    for col, what in (("ess_bulk", "bulk (means, medians)"), ("ess_tail", "tail (intervals)")):
        low = conv.index[conv[col] < need].tolist()
        if low:
            worst = float(conv[col].min())
            more = int(np.ceil(draws * need / max(worst, 1.0) / 100.0) * 100)
            findings.append(Finding(
                col, "warning",
                f"{what} effective sample size below {need:.0f} for {len(low)} parameter(s) (min {worst:.0f}: "
                f"{', '.join(low[:4])}{' ...' if len(low) > 4 else ''})",
                f"draw more: about fit(..., draws={more}) reaches {need:.0f}"
                + ("; but first fix the funnel" if funnel_labels else "; if ESS per draw stays low, reparameterise (fit.pooling())"),
                tuple(low), {"draws": more},
            ))

    # ------------------------------------------------------------------ E-BFMI
    low = [i for i, v in enumerate(ebfmi) if v < e_bfmi_min]
    if low:
        findings.append(Finding(
            "e_bfmi", "warning",
            f"E-BFMI below {e_bfmi_min} in chain(s) {', '.join(map(str, low))} "
            f"({', '.join(f'{ebfmi[i]:.2f}' for i in low)}): the sampler explores the energy poorly",
            "typical of funnels and heavy tails: follow fit.pooling()'s parameterisation advice, and put tighter "
            "(e.g. half-normal) priors on random-effect SDs that the data barely inform",
        ))

    # ------------------------------------------------------------------ tree depth
    sat = np.nan
    flag = _stat(idata, "maxdepth_reached", "reached_max_treedepth")
    static = getattr(idata, "sample_stats", None) is not None and idata.sample_stats.attrs.get("trajectory") == "static"
    if flag is not None:
        sat = float(np.mean(flag))
    else:
        depth = _stat(idata, "depth", "tree_depth")
        if depth is not None:
            sat = float(np.mean(depth >= 10))
    # static trajectories end at their fixed depth by design (sampling.choose_trajectory): not a finding
    if np.isfinite(sat) and sat > tree_depth_max and not static:
        findings.append(Finding(
            "tree_depth", "warning",
            f"{100 * sat:.1f}% of draws stopped at the maximum tree depth: trajectories are cut short, sampling is "
            "slow and may explore poorly",
            "the posterior is strongly correlated or badly scaled: standardise predictors (scale(x) in the formula), "
            "follow fit.pooling()'s parameterisation advice, and check for nearly collinear fixed effects",
        ))

    # ------------------------------------------------------------------ prior-to-posterior contraction
    try:
        contr = contraction(idata, design, spec.prior_dict())
    except (KeyError, ValueError):
        contr = pd.DataFrame(columns=["prior", "prior_sd", "posterior_sd", "contraction", "measure", "contraction_iqr"])
    low_c = np.minimum(contr["contraction"].astype(float), contr["contraction_iqr"].astype(float))
    for name in contr.index[low_c < contraction_min]:
        c = float(low_c[name])
        if name.startswith("corr_"):
            label = name[5:].split("[")[0]
            step = (f"the data say little about this correlation: report it as prior-driven, or drop it with the "
                    f"uncorrelated form (... || {design.block(label).factor})")
        else:
            step = (f"the posterior of {name} is mostly its prior ({contr.loc[name, 'prior']}): check how results change "
                    f"with another prior (priors={{'{name}': Prior('half_normal', sigma=...)}}), or drop the term if it "
                    "is not needed")
        findings.append(Finding(
            "prior_dominated", "note",
            f"{name}: prior-to-posterior contraction {c:.2f} (< {contraction_min}): the prior is talking, not the data",
            step, (name,),
        ))

    order = {s_: i for i, s_ in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order.get(f.severity, 9))
    return Diagnosis(
        chains=chains,
        draws=draws,
        divergences=n_div,
        divergence_rate=n_div / S if S else 0.0,
        max_r_hat=max_rhat,
        min_ess_bulk=min_bulk,
        min_ess_tail=min_tail,
        e_bfmi=ebfmi,
        tree_depth_saturation=sat,
        static_trajectories=static,
        convergence=conv,
        divergence_location=loc,
        contraction=contr,
        pooling=pool,
        findings=findings,
    )
