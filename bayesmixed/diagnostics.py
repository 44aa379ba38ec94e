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
from . import naming as N
from .design import Design
from .priors import Prior
from .summaries import convergence as _population_convergence
from .summaries import draws_of

__all__ = ["Finding", "Diagnosis", "Evidence", "diagnose", "gather_evidence", "check_funnels", "check_divergences",
           "check_r_hat", "check_ess", "check_e_bfmi", "check_tree_depth", "check_contraction", "check_pooling_table",
           "contraction", "prior_moments", "sample_prior", "theta_priors"]

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
    if d == "beta":
        a, b = kw["alpha"], kw["beta"]
        return a / (a + b), a * (a + 1) / ((a + b) * (a + b + 1))
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
    if d == "beta":
        return rng.beta(kw["alpha"], kw["beta"], size)
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

    The address is ``("sd", label, a)``, ``("corr", label, i, j)``, or ``("var", name)`` for the scalar
    parameters of smooth terms (``sd_s(x)``), GPs (``sdgp_gp(x)``, ``lscale_gp(x)``) and compound symmetry
    (``cosy``).
    """
    out = []
    for b in design.all_blocks:
        if b.kind != "group":
            names = {"smooth": [f"sd_{b.label}"], "gp": [f"sdgp_{b.label}", f"lscale_{b.label}"],
                     "cosy": ["cosy"]}[b.kind]
            out += [(n, priors[n], 1, 0, ("var", n)) for n in names]
            continue
        decov = priors.get(b.label)
        for a, c in enumerate(b.coef_names):
            p = decov if decov is not None else priors[N.sd_coef(b.label, c)]
            out.append((N.sd_coef(b.label, c), p, b.k, a, ("sd", b.label, a)))
        if b.correlated:
            p = priors.get(N.corr(b.label))
            if p is None:
                p = Prior("lkj", eta=float(decov.kwargs["regularization"])) if decov is not None else Prior("lkj")
            for i in range(b.k):
                for j in range(i + 1, b.k):
                    name = f"{N.corr(b.label)}[{b.coef_names[i]},{b.coef_names[j]}]"
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
    sigma_prior = priors.get(N.SIGMA)
    rows = []
    for name, p, k, a, addr in theta_priors(design, priors):
        if addr[0] == "var":
            post = draws_of(idata, addr[1])
        elif addr[0] == "sd":
            post = draws_of(idata, N.sd(addr[1]))[:, addr[2]]
        else:
            post = draws_of(idata, N.corr(addr[1]))[:, addr[2], addr[3]]
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
    names = [N.r(b.label) for b in design.all_blocks if N.r(b.label) in idata.posterior]
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
    for b in design.all_blocks:
        if b.kind != "group":  # smooth, GP and compound-symmetry blocks: not a hierarchy of levels
            continue
        sd = draws_of(idata, N.sd(b.label))
        for a, c in enumerate(b.coef_names):
            x = sd[:, a]
            if div.any():
                ranks = np.searchsorted(np.sort(x), x[div], side="right") / len(x)
                med_pct = float(np.median(ranks))
                med_div = float(np.median(x[div]))
            else:
                med_pct = med_div = np.nan
            rows.append(dict(parameter=N.sd_coef(b.label, c), group=b.label, coef=c, n_divergent=int(div.sum()),
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


@dataclass(frozen=True)
class Evidence:
    """Everything the checks of :func:`diagnose` read, computed once from a fit (the checks are pure functions
    of it, each tested on its own)."""

    design: Design
    spec: Any
    limits: Any  # bayesmixed.policy.Thresholds
    chains: int
    draws: int
    conv: pd.DataFrame
    ebfmi: tuple[float, ...]
    divergent: np.ndarray
    div_location: pd.DataFrame
    pool: pd.DataFrame | None
    pool_error: str | None
    depth_saturation: float
    static: bool

    @property
    def n_div(self) -> int:
        return int(self.divergent.sum())

    @property
    def low_ebfmi(self) -> bool:
        return any(v < self.limits.e_bfmi_min for v in self.ebfmi)

    @property
    def ess_needed(self) -> float:
        return self.limits.ess_per_chain * self.chains

    def pooled(self, label: str, col: str):
        if self.pool is None or label not in self.pool.index.get_level_values(0):
            return None
        return self.pool.loc[label, col]


def gather_evidence(idata, design: Design, spec, limits) -> Evidence:
    """The tables and figures the checks read. The pooling table (for the parameterisation advice) is computed
    here; a failure there is kept as text (``pool_error``) and reported as a note, never hidden."""
    from .errors import BayesMixedError
    from .pooling import pooling as _pooling

    post = idata.posterior
    chains, draws = int(post.sizes["chain"]), int(post.sizes["draw"])
    pool, pool_error = None, None
    if design.blocks:
        try:
            pool = _pooling(idata, design, spec.family, spec.link, dict(spec.parameterization))
        except (BayesMixedError, ValueError, np.linalg.LinAlgError, FloatingPointError) as err:
            pool_error = f"{type(err).__name__}: {err}"
    ebfmi: tuple[float, ...] = ()
    if _stat(idata, "energy") is not None:
        ebfmi = tuple(float(v) for v in _arviz.bfmi(idata))
    dv = _stat(idata, "diverging")
    div = np.zeros(chains * draws, dtype=bool) if dv is None else dv.reshape(-1).astype(bool)
    sat = np.nan
    flag = _stat(idata, "maxdepth_reached", "reached_max_treedepth")
    static = getattr(idata, "sample_stats", None) is not None and idata.sample_stats.attrs.get("trajectory") == "static"
    if flag is not None:
        sat = float(np.mean(flag))
    else:
        depth = _stat(idata, "depth", "tree_depth")
        if depth is not None:
            sat = float(np.mean(depth >= 10))
    return Evidence(design, spec, limits, chains, draws, _convergence_table(idata, design), ebfmi, div,
                    _divergence_location(idata, design, div), pool, pool_error, sat, static)


def _term_state(ev: Evidence, blk) -> dict[str, Any]:
    """What the funnel checks know about one term: its parameterisation, strength of its levels (pooling
    table), where the divergences sit in its SDs, and how its SDs mix."""
    lim = ev.limits
    label = blk.label
    sds = [f"sd_{label}[{c}]" for c in blk.coef_names]
    frac = ev.pooled(label, "frac_strong")
    frac = None if frac is None else float(frac.min())
    ratio = ev.pooled(label, "info_ratio")
    rec = ev.pooled(label, "recommendation")
    pct = float(ev.div_location.loc[sds, "median_percentile"].min()) if ev.n_div else np.nan
    rows = [r_ for r_ in sds if r_ in ev.conv.index]
    rh = float(ev.conv.loc[rows, "r_hat"].max()) if rows else np.nan
    ess = float(ev.conv.loc[rows, "ess_bulk"].min()) if rows else np.nan
    evidence = []
    if ev.n_div:
        where = f", the divergent draws at the {100 * pct:.0f}th percentile of sd_{label} (median)" if ev.n_div >= 3 else ""
        evidence.append(f"{ev.n_div} divergent transitions{where}")
    poor = bool(rows) and (rh > lim.r_hat_max or ess < ev.ess_needed)
    if poor:
        evidence.append(f"sd_{label} mixes poorly (R-hat {rh:.3f}, bulk ESS {ess:.0f})")
    if ev.low_ebfmi:
        evidence.append("E-BFMI " + ", ".join(f"{v:.2f}" for v in ev.ebfmi))
    strength = ""
    if frac is not None:
        strength = (f"{100 * frac:.0f}% of its levels have more information than the prior "
                    f"(median n_j τ²/σ² or analogue {float(ratio.min()):.2g})")
    return dict(
        label=label, current=dict(ev.spec.parameterization).get(label, "noncentered"), sds=sds, frac=frac,
        rec=None if rec is None else str(rec.iloc[0]), weak=frac is not None and frac <= lim.centre_share,
        at_small=ev.n_div >= 3 and pct < lim.funnel_percentile, rows=rows, rh=rh, ess=ess, poor=poor,
        evidence=evidence, strength=strength,
    )


def check_funnels(ev: Evidence) -> list[Finding]:
    """A funnel in a sampled term: a centred term with divergences at small SDs or weakly informed levels, or
    stuck (poor mixing with a low E-BFMI or weak levels) → non-centre it; a non-centred term with divergences at
    small SDs, or mixing poorly though its levels are strong (``Thresholds.strong_share``) → centre it, or
    raise ``target_accept``. Terms integrated out (marginal, quadrature) have no funnel and get no advice."""
    lim = ev.limits
    param = dict(ev.spec.parameterization)
    out = []
    for blk in ev.design.blocks:
        if blk.kind != "group":
            continue
        t = _term_state(ev, blk)
        label, sds = t["label"], t["sds"]
        extra = [t["strength"]] if t["strength"] else []
        if t["current"] == "centered" and ((ev.n_div and (t["at_small"] or t["weak"]))
                                          or (t["poor"] and (ev.low_ebfmi or t["weak"]))):
            fix = {"parameterization": _param_fix(param, label, "noncentered")}
            out.append(Finding(
                "funnel", "problem",
                f"centred term {label!r}: " + "; ".join(t["evidence"] + extra)
                + ": a funnel between the SD and the effects" + ("" if ev.n_div else " (the sampler is stuck above its neck)"),
                f"go non-centred for this term: Model(..., parameterization={_fmt_dict(fix['parameterization'])}); "
                "non-centring samples standardised effects, which removes the funnel",
                tuple(sds) + (N.r(label),), fix,
            ))
        elif t["current"] == "noncentered" and (
                t["at_small"] or (bool(t["rows"]) and t["ess"] < ev.ess_needed and t["frac"] is not None
                                  and t["frac"] >= lim.strong_share)):
            if t["rec"] == "centered" or (t["frac"] is not None and t["frac"] >= lim.strong_share):
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
            out.append(Finding(
                "funnel", "problem" if (ev.n_div or t["rh"] > lim.r_hat_max) else "warning",
                f"non-centred term {label!r}: " + "; ".join(t["evidence"] + extra) + f": {what}",
                step, tuple(sds) + (f"r_{label}",), fix,
            ))
    return out


def check_divergences(ev: Evidence, funnels: list[Finding]) -> list[Finding]:
    """Divergences that no funnel finding explains."""
    if not ev.n_div or funnels:
        return []
    S = ev.chains * ev.draws
    loc = ev.div_location
    where = ""
    if len(loc) and ev.n_div >= 3:
        worst = loc["median_percentile"].idxmin()
        where = (f"; they are not concentrated at small SDs (lowest: {worst}, median percentile "
                 f"{100 * loc.loc[worst, 'median_percentile']:.0f}%)")
    return [Finding(
        "divergences", "problem",
        f"{ev.n_div} divergent transitions ({100 * ev.n_div / S:.1f}% of draws): the draws may be biased{where}",
        "raise target_accept to 0.99 (fit(..., target_accept=0.99)); if they persist, look at fit.plot.trace() "
        "and at pairs of the parameters named here, and reconsider weakly identified terms (fit.pooling(), "
        "the contraction table)",
        tuple(loc.index), {"target_accept": 0.99},
    )]


def check_r_hat(ev: Evidence, funnels: list[Finding]) -> list[Finding]:
    """Split R-hat above the limit (population-level parameters; the worst level of each term has its own)."""
    lim, conv = ev.limits, ev.conv
    is_effect = conv.index.str.startswith("r_")
    limit = np.where(is_effect, lim.r_hat_max_effects, lim.r_hat_max)
    bad = conv.index[conv["r_hat"].to_numpy() > limit].tolist()
    if not bad:
        return []
    worst = float(conv.loc[bad, "r_hat"].max())
    draws, chains = ev.draws, ev.chains
    return [Finding(
        "r_hat", "problem",
        f"R-hat above {lim.r_hat_max} for {len(bad)} parameter(s) (max {worst:.3f}: {', '.join(bad[:4])}"
        f"{' ...' if len(bad) > 4 else ''}): the chains disagree",
        f"run longer (fit(..., tune={max(2 * draws, 1000)}, draws={max(2 * draws, 1000)})) with at least 4 chains; "
        "check fit.plot.trace() for a chain stuck in another mode" + ("; see the funnel finding" if funnels else ""),
        tuple(bad), {"draws": max(2 * draws, 1000), "tune": max(2 * draws, 1000), "chains": max(chains, 4)},
    )]


def check_ess(ev: Evidence, funnels: list[Finding]) -> list[Finding]:
    """Bulk and tail effective sample sizes below ``Thresholds.ess_per_chain`` per chain."""
    conv, need, out = ev.conv, ev.ess_needed, []
    for col, what in (("ess_bulk", "bulk (means, medians)"), ("ess_tail", "tail (intervals)")):
        low = conv.index[conv[col] < need].tolist()
        if not low:
            continue
        worst = float(conv[col].min())
        more = int(np.ceil(ev.draws * need / max(worst, 1.0) / 100.0) * 100)
        out.append(Finding(
            col, "warning",
            f"{what} effective sample size below {need:.0f} for {len(low)} parameter(s) (min {worst:.0f}: "
            f"{', '.join(low[:4])}{' ...' if len(low) > 4 else ''})",
            f"draw more: about fit(..., draws={more}) reaches {need:.0f}"
            + ("; but first fix the funnel" if funnels else "; if ESS per draw stays low, reparameterise (fit.pooling())"),
            tuple(low), {"draws": more},
        ))
    return out


def check_e_bfmi(ev: Evidence) -> list[Finding]:
    """Energy Bayesian fraction of missing information below the limit in any chain."""
    lim = ev.limits.e_bfmi_min
    low = [i for i, v in enumerate(ev.ebfmi) if v < lim]
    if not low:
        return []
    return [Finding(
        "e_bfmi", "warning",
        f"E-BFMI below {lim} in chain(s) {', '.join(map(str, low))} "
        f"({', '.join(f'{ev.ebfmi[i]:.2f}' for i in low)}): the sampler explores the energy poorly",
        "typical of funnels and heavy tails: follow fit.pooling()'s parameterisation advice, and put tighter "
        "(e.g. half-normal) priors on random-effect SDs that the data barely inform",
    )]


def check_tree_depth(ev: Evidence) -> list[Finding]:
    """NUTS trajectories cut at the maximum depth (not a finding for static trajectories, which end at their
    fixed depth by design)."""
    sat = ev.depth_saturation
    if not (np.isfinite(sat) and sat > ev.limits.tree_depth_max and not ev.static):
        return []
    return [Finding(
        "tree_depth", "warning",
        f"{100 * sat:.1f}% of draws stopped at the maximum tree depth: trajectories are cut short, sampling is "
        "slow and may explore poorly",
        "the posterior is strongly correlated or badly scaled: standardise predictors (scale(x) in the formula), "
        "follow fit.pooling()'s parameterisation advice, and check for nearly collinear fixed effects",
    )]


def check_contraction(ev: Evidence, contr: pd.DataFrame) -> list[Finding]:
    """θ parameters whose posterior is mostly their prior (contraction below the limit)."""
    low_c = np.minimum(contr["contraction"].astype(float), contr["contraction_iqr"].astype(float))
    out = []
    for name in contr.index[low_c < ev.limits.contraction_min]:
        c = float(low_c[name])
        if name.startswith(N.CORR_PREFIX):
            label = name[5:].split("[")[0]
            step = (f"the data say little about this correlation: report it as prior-driven, or drop it with the "
                    f"uncorrelated form (... || {ev.design.block(label).factor})")
        else:
            step = (f"the posterior of {name} is mostly its prior ({contr.loc[name, 'prior']}): check how results change "
                    f"with another prior (priors={{'{name}': Prior('half_normal', sigma=...)}}), or drop the term if it "
                    "is not needed")
        out.append(Finding(
            "prior_dominated", "note",
            f"{name}: prior-to-posterior contraction {c:.2f} (< {ev.limits.contraction_min}): the prior is talking, "
            "not the data",
            step, (name,),
        ))
    return out


def check_pooling_table(ev: Evidence) -> list[Finding]:
    """The pooling table could not be computed: the parameterisation advice is then unavailable (said, not
    hidden)."""
    if ev.pool_error is None:
        return []
    return [Finding(
        "pooling_unavailable", "note",
        f"the pooling table could not be computed ({ev.pool_error}), so no parameterisation advice is given",
        "fit.pooling() raises the same error with its details",
    )]


def diagnose(
    idata,
    design: Design,
    spec,
    *,
    r_hat_max: float | None = None,
    r_hat_max_effects: float | None = None,
    ess_per_chain: float | None = None,
    e_bfmi_min: float | None = None,
    tree_depth_max: float | None = None,
    contraction_min: float | None = None,
    funnel_percentile: float | None = None,
) -> Diagnosis:
    """Sampler and identification diagnostics of a fitted model (see the module docstring): a list of small
    checks (:func:`check_funnels`, :func:`check_divergences`, :func:`check_r_hat`, :func:`check_ess`,
    :func:`check_e_bfmi`, :func:`check_tree_depth`, :func:`check_contraction`, :func:`check_pooling_table`) over
    one :class:`Evidence`.

    The limits default to ``bayesmixed.policy.THRESHOLDS``, which the ``auto`` parameterisation reads
    too (the share of strong levels that centres a term), so its advice and ``auto`` cannot disagree; terms that
    ``auto`` integrated out (marginal, quadrature) get no parameterisation advice.

    Parameters
    ----------
    idata, design
        Posterior (with ``sample_stats``) and design of the fit.
    spec
        The :class:`~bayesmixed.spec.ModelSpec` (family, priors, parameterisation per term).
    r_hat_max, r_hat_max_effects, ess_per_chain, e_bfmi_min, tree_depth_max, contraction_min, funnel_percentile
        Override one limit of :class:`bayesmixed.policy.Thresholds`.

    Returns
    -------
    Diagnosis
    """
    import dataclasses

    from .policy import THRESHOLDS

    given = dict(r_hat_max=r_hat_max, r_hat_max_effects=r_hat_max_effects, ess_per_chain=ess_per_chain,
                 e_bfmi_min=e_bfmi_min, tree_depth_max=tree_depth_max, contraction_min=contraction_min,
                 funnel_percentile=funnel_percentile)
    limits = dataclasses.replace(THRESHOLDS, **{k: v for k, v in given.items() if v is not None})
    ev = gather_evidence(idata, design, spec, limits)
    try:
        contr = contraction(idata, design, spec.prior_dict())
    except (KeyError, ValueError):
        contr = pd.DataFrame(columns=["prior", "prior_sd", "posterior_sd", "contraction", "measure", "contraction_iqr"])
    funnels = check_funnels(ev)
    findings = (funnels + check_divergences(ev, funnels) + check_r_hat(ev, funnels) + check_ess(ev, funnels)
                + check_e_bfmi(ev) + check_tree_depth(ev) + check_contraction(ev, contr) + check_pooling_table(ev))
    order = {s_: i for i, s_ in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: order.get(f.severity, 9))
    conv = ev.conv
    S = ev.chains * ev.draws
    return Diagnosis(
        chains=ev.chains,
        draws=ev.draws,
        divergences=ev.n_div,
        divergence_rate=ev.n_div / S if S else 0.0,
        max_r_hat=float(np.nanmax(conv["r_hat"].values)) if len(conv) else np.nan,
        min_ess_bulk=float(np.nanmin(conv["ess_bulk"].values)) if len(conv) else np.nan,
        min_ess_tail=float(np.nanmin(conv["ess_tail"].values)) if len(conv) else np.nan,
        e_bfmi=ev.ebfmi,
        tree_depth_saturation=ev.depth_saturation,
        static_trajectories=ev.static,
        convergence=conv,
        divergence_location=ev.div_location,
        contraction=contr,
        pooling=ev.pool,
        findings=findings,
    )
