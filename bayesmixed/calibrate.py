"""Simulation-based calibration (Talts, Betancourt, Simpson, Vehtari and Gelman 2018).

For a model and its priors: draw parameters from the prior, simulate a data set from them (same predictors,
grouping and trials as the model's data, ``bayesmixed.simulate.draw_from_design``), refit, and record the
rank of each true parameter among ``L`` posterior draws. If the sampler and the model code are right, each
rank is uniform on ``0, …, L``. The refits run on this machine (``bayesmixed._refits``: in this process
or in worker processes that never import ``__main__``) or on a user's Dask cluster when given.

Uniformity is tested per parameter with a chi-square test on ``bins`` equal bins of the ranks (``L + 1``
must be a multiple of ``bins``, so that every bin holds the same number of rank values). A parameter passes
when its p-value is at least ``alpha / m``, ``m`` the number of parameters of the model (Bonferroni: a
family-wise 5 % chance, by default, that a correct model shows a failure somewhere).

The priors are those of ``model.spec``, fixed once: defaults scaled to the model's data are *not*
recomputed from each simulated response, which would change the prior between simulations and void the
calibration argument.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import naming as N
from .design import Design
from ._warnings import warn_user
from .errors import BayesMixedError

__all__ = ["calibrate", "Calibration"]

_SETTINGS = ("draws", "tune", "chains", "sampler", "target_accept")


def _population_names(spec, design: Design) -> list[str]:
    """Public population-level variables of the model, in a stable order: the ordinal thresholds, each
    predictor's fixed effects, the terms' SDs and correlations, the sampled auxiliary parameters."""
    fam = spec.family_obj
    names = [N.THRESHOLDS] if fam.thresholds is not None else []
    names += [N.beta_var(d.dpar) for d in design.predictors if d.X.shape[1]]
    for b in design.all_blocks:
        names.append(N.sd(b.label))
        if b.correlated and b.k > 1:
            names.append(N.corr(b.label))
    predicted = {d.dpar for d in design.predictors}
    names.extend(p.name for p in fam.sampled_aux if p.name not in predicted)
    return names


def _flatten(name: str, values: np.ndarray, design: Design) -> dict[str, np.ndarray]:
    """Scalar parameters of one variable: ``values`` has the draws on axis 0."""
    for d in design.predictors:
        if name == N.beta_var(d.dpar):
            return {f"{name}[{c}]": values[:, i] for i, c in enumerate(d.x_names)}
    if name == N.THRESHOLDS:
        return {N.threshold_coef(k + 1): values[:, k] for k in range(values.shape[1])}
    if name.startswith(N.SD_PREFIX) or name.startswith(N.CORR_PREFIX):
        label = name.split("_", 1)[1]
        b = next(bl for bl in design.all_blocks if bl.label == label)
        if name.startswith(N.SD_PREFIX):
            return {f"{name}[{c}]": values[:, i] for i, c in enumerate(b.coef_names)}
        return {
            f"{name}[{b.coef_names[i]},{b.coef_names[j]}]": values[:, i, j]
            for i in range(b.k)
            for j in range(i + 1, b.k)
        }
    return {name: values.reshape(len(values))}


def prior_draws(spec, design: Design, n: int, seed: int | None = None) -> dict[str, np.ndarray]:
    """``n`` draws of the population-level parameters from the prior of ``spec`` (PyMC's forward sampler)."""
    from .backends.pymc import build_model
    from .ppc import forward_draws

    names = _population_names(spec, design)
    model = build_model(spec, design, integrate_fixed=False)  # beta must be a variable to draw it
    prior = forward_draws(model, n, names, seed).prior
    out = {name: prior[name].values[0] for name in names}  # (n, ...)
    if spec.family_obj.thresholds == "ordered":
        # the forward sampler ignores the ordered transform: the model's prior is the iid prior restricted to
        # increasing thresholds, which is the distribution of the sorted iid draws (their order statistics);
        # sorting the reported thresholds sorts the centred ones (they differ by one shift per draw)
        out[N.THRESHOLDS] = np.sort(out[N.THRESHOLDS], axis=-1)
    return out


def _params_of(draws: dict[str, np.ndarray], s: int, spec, design: Design) -> dict[str, Any]:
    """The arguments of :func:`draw_from_design` for simulation ``s``."""
    beta = {d.dpar: (draws[N.beta_var(d.dpar)][s] if N.beta_var(d.dpar) in draws else np.zeros(0))
            for d in design.predictors}
    sd, corr = {}, {}
    for b in design.all_blocks:
        sd[b.label] = np.atleast_1d(draws[N.sd(b.label)][s])
        c = draws.get(N.corr(b.label))
        corr[b.label] = np.eye(b.k) if c is None else c[s]
    fam = spec.family_obj
    predicted = {d.dpar for d in design.predictors}
    aux: dict[str, Any] = {p.name: float(draws[p.name][s]) for p in fam.sampled_aux if p.name not in predicted}
    if fam.thresholds is not None:
        aux[N.THRESHOLDS] = np.asarray(draws[N.THRESHOLDS][s], dtype=float)
    return dict(beta=beta, sd=sd, corr=corr, aux=aux)


def _rank(post: np.ndarray, truth: float, L: int, rng: np.random.Generator) -> int:
    """Rank of ``truth`` among ``L`` draws taken evenly from ``post`` (chains concatenated); ties at random."""
    idx = np.linspace(0, len(post) - 1, L).round().astype(int)
    kept = post[idx]
    below = int(np.sum(kept < truth))
    ties = int(np.sum(kept == truth))
    return below + (int(rng.integers(0, ties + 1)) if ties else 0)


def _refit_sim(
    sim: int,
    y: np.ndarray,
    truth: dict[str, float],
    seed: int,
    settings: dict,
    L: int,
    spec=None,
    design: Design | None = None,
    cores: int = 1,
) -> dict:
    """Run on a worker: fit the simulated data set, return the ranks and the fit's diagnostics."""
    from .runner import quiet_refit

    t0 = time.perf_counter()
    y = np.asarray(y, dtype=np.asarray(design.y).dtype)
    sim_design = dataclasses.replace(design, y=y, dpars=tuple(dataclasses.replace(d, y=y) for d in design.dpars))
    try:
        refit = quiet_refit(spec, sim_design, seed, settings, cores)
    except Exception as exc:  # a refit that cannot start (e.g. absurd simulated data) is recorded, not fatal
        first = (str(exc).strip().splitlines() or [""])[0]
        return {"sim": sim, "ranks": None, "error": f"{type(exc).__name__}: {first}"[:200],
                "divergences": np.nan, "max_rhat": np.nan, "min_ess_bulk": np.nan,
                "seconds": time.perf_counter() - t0}
    rng = np.random.default_rng(seed)
    ranks = {}
    for name in _population_names(spec, design):
        post = refit.idata.posterior[name].values  # (chain, draw, ...)
        flat = post.reshape((-1,) + post.shape[2:])
        for key, values in _flatten(name, flat, design).items():
            ranks[key] = _rank(values, truth[key], L, rng)
    return {
        "sim": sim,
        "ranks": ranks,
        "error": None,
        "divergences": refit.divergences,
        "max_rhat": refit.max_rhat,
        "min_ess_bulk": refit.min_ess_bulk,
        "seconds": time.perf_counter() - t0,
    }


@dataclass
class Calibration:
    """The result of :func:`calibrate`.

    Attributes
    ----------
    ranks
        One row per simulation, one column per scalar population-level parameter: the rank ``0 … L`` of the
        true value among ``L`` posterior draws.
    truths
        The prior draws that generated each simulation (same shape as ``ranks``).
    fits
        Per simulation: divergences, max R-hat, min bulk ESS (over the population-level parameters), seconds,
        and ``error``: ``None``, or the error of a refit that failed (its simulation has no ranks; the
        calibration then does not pass, since dropping simulations can hide miscalibration).
    L, bins, alpha
        Posterior draws per rank, histogram bins of the uniformity test, family-wise level of the test.
    label
        What was calibrated (formula, family, parameterisation).
    """

    ranks: pd.DataFrame
    truths: pd.DataFrame
    fits: pd.DataFrame
    L: int
    bins: int
    alpha: float
    label: str

    def table(self) -> pd.DataFrame:
        """Per parameter: chi-square statistic on ``bins`` bins, its degrees of freedom, p-value, the
        Bonferroni threshold ``alpha / m``, whether it passes, and the largest deviation of the rank ECDF
        from the uniform one."""
        from scipy import stats

        n = len(self.ranks)
        m = self.ranks.shape[1]
        rows = []
        for name in self.ranks.columns:
            r = self.ranks[name].to_numpy()
            counts = np.bincount(r * self.bins // (self.L + 1), minlength=self.bins)
            expected = n / self.bins
            chi2 = float(((counts - expected) ** 2 / expected).sum())
            p = float(stats.chi2.sf(chi2, self.bins - 1))
            u = (np.sort(r) + 0.5) / (self.L + 1)
            ecdf_dev = float(np.max(np.abs(np.arange(1, n + 1) / n - u))) if n else float("nan")
            rows.append(
                dict(parameter=name, chi2=chi2, df=self.bins - 1, p_value=p, threshold=self.alpha / m,
                     passed=p >= self.alpha / m, ecdf_max_dev=ecdf_dev)
            )
        return pd.DataFrame(rows).set_index("parameter")

    @property
    def failed(self) -> pd.Series:
        """The errors of the refits that failed, by simulation (empty when every refit ran)."""
        if "error" not in self.fits:
            return pd.Series(dtype=object)
        return self.fits["error"].dropna()

    @property
    def passed(self) -> bool:
        """Every refit ran and every parameter passes its uniformity test."""
        return len(self.failed) == 0 and len(self.ranks) > 0 and bool(self.table()["passed"].all())

    def plot(self, ncols: int = 4):
        """Rank histograms, one panel per parameter, with the expected count and its 99 % binomial band."""
        import matplotlib.pyplot as plt
        from scipy import stats

        names = list(self.ranks.columns)
        nrows = int(np.ceil(len(names) / ncols))
        fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, 2.4 * nrows), squeeze=False)
        n = len(self.ranks)
        lo, hi = stats.binom.ppf([0.005, 0.995], n, 1.0 / self.bins)
        edges = np.linspace(0, self.L + 1, self.bins + 1)
        table = self.table()
        for ax, name in zip(axes.flat, names):
            ax.axhspan(lo, hi, color="0.88", zorder=0)
            ax.axhline(n / self.bins, color="0.5", lw=1, zorder=1)
            ax.hist(self.ranks[name], bins=edges, color="C0", edgecolor="white", zorder=2)
            ax.set_title(f"{name}\np = {table.loc[name, 'p_value']:.2f}", fontsize=8)
            ax.set_xlim(0, self.L + 1)
            ax.tick_params(labelsize=7)
        for ax in list(axes.flat)[len(names):]:
            ax.set_visible(False)
        fig.suptitle(f"SBC rank histograms: {self.label} ({n} simulations, L = {self.L})", fontsize=9)
        fig.tight_layout()
        return fig

    def __str__(self) -> str:
        t = self.table()
        f = self.fits
        lines = [
            f"Simulation-based calibration: {self.label}",
            f"  {len(self.ranks)} simulations, ranks among L = {self.L} draws, chi-square on {self.bins} bins, "
            f"pass if p >= {self.alpha:g}/{len(t)}",
            f"  refits: divergences in {int((f['divergences'] > 0).sum())} of {len(f)}, "
            f"max R-hat {f['max_rhat'].max():.3f}, min bulk ESS {f['min_ess_bulk'].min():.0f}",
            t.to_string(float_format=lambda v: f"{v:.3g}"),
        ]
        if len(self.failed):
            lines.append(f"  {len(self.failed)} refits FAILED and have no ranks, e.g. simulation "
                         f"{self.failed.index[0]}: {self.failed.iloc[0]}")
        lines += [
            f"  {'all parameters pass' if self.passed else 'SOME PARAMETERS FAIL'}",
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def calibrate(
    model,
    n_sims: int = 100,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    sampler: str = "auto",
    target_accept: float = 0.9,
    L: int = 99,
    bins: int = 10,
    alpha: float = 0.05,
    seed: int | None = None,
    client: Any = None,
    n_workers: int | None = None,
    progressbar: bool = True,
) -> Calibration:
    """Simulation-based calibration of a model: prior draws, simulated data, refits, rank statistics.

    Parameters
    ----------
    model
        A :class:`~bayesmixed.Model`: its formula's predictors and grouping (``model.design``), its family,
        priors and parameterisation (``model.spec``) are kept; only the response is simulated.
    n_sims
        Number of simulations (100 or more for a test with power; a handful for a smoke run).
    draws, tune, chains, sampler, target_accept
        Settings of each refit (one core per refit: chains run one after the other).
    L
        Posterior draws the rank counts against, taken evenly over the ``chains × draws`` draws (thinning,
        which lowers their autocorrelation). ``L + 1`` must be a multiple of ``bins``.
    bins, alpha
        Bins of the chi-square uniformity test, and its family-wise level over the model's parameters.
    seed
        Seed of the prior draws, the simulated responses and the refits.
    client, n_workers
        As in :func:`bayesmixed.compare.kfold`: ``client=None`` refits on this machine (in this process, or in
        worker processes that never import your ``__main__``: no ``if __name__ == "__main__":`` guard needed),
        ``n_workers`` of them at once (``None``: as the cores allow, each refit's chains side by side); a
        ``distributed.Client`` or scheduler address runs them on Dask (``pip install bayesmixed[dask]``).
    progressbar
        Show a progress bar of finished refits.

    Returns
    -------
    Calibration
        ``.table()`` (uniformity test per parameter), ``.plot()`` (rank histograms), ``.ranks``, ``.fits``.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> sim = bm.simulate("y ~ x + (1 | g)", data, params, seed=1)  # doctest: +SKIP
    >>> cal = bm.calibrate(bm.Model("y ~ x + (1 | g)", sim), n_sims=100, seed=2)  # doctest: +SKIP
    >>> print(cal.table())  # doctest: +SKIP
    """
    from .simulate import draw_from_design

    from . import _validate as V

    if not (hasattr(model, "spec") and hasattr(model, "design") and hasattr(model, "formula")):
        raise BayesMixedError(
            f"calibrate needs a bm.Model (its design, priors and parameterisation), got {type(model).__name__}: "
            "bm.calibrate(bm.Model(formula, data), n_sims=...)"
        )
    seed = V.seed(seed)
    spec, design = model.spec, model.design
    for name, v, low in (("n_sims", n_sims, 1), ("L", L, 1), ("bins", bins, 2)):
        if not isinstance(v, (int, np.integer)) or v < low:
            raise BayesMixedError(f"{name} must be a whole number >= {low}, got {v!r}")
    if (L + 1) % bins:
        raise BayesMixedError(f"L + 1 = {L + 1} must be a multiple of bins = {bins} (e.g. L = {10 * bins - 1})")
    if L > draws * chains:
        raise BayesMixedError(f"L = {L} is more than the {draws * chains} posterior draws of a refit; lower L or raise draws")
    if not 0 < alpha < 1:
        raise BayesMixedError(f"alpha must lie in (0, 1), got {alpha}")
    rt = design.response_terms
    if rt is not None and (rt.weights is not None or rt.censored):
        raise BayesMixedError(
            f"calibrate draws responses from the model and refits them, but the response {design.formula.response.label!r} "
            "has weights() or cens(), which are not part of how responses arise (a weight is no draw, a censored "
            "value depends on a censoring process the model does not describe); calibrate the model without them "
            "(trunc() is fine: responses are drawn from the truncated family)"
        )
    ss = np.random.SeedSequence(seed)
    s_prior, s_sim, s_fit = ss.spawn(3)
    prior = prior_draws(spec, design, n_sims, seed=int(s_prior.generate_state(1)[0]))
    rng = np.random.default_rng(s_sim)
    fit_seeds = [int(s.generate_state(1)[0]) for s in s_fit.spawn(n_sims)]
    settings = dict(draws=draws, tune=tune, chains=chains, sampler=sampler, target_accept=target_accept)
    tasks, labels, truths = [], [], []
    for s in range(n_sims):
        p = _params_of(prior, s, spec, design)
        y, _ = draw_from_design(design, spec.family, spec.link, p["beta"], p["sd"], p["corr"], p["aux"], rng)
        truth = {}
        for name in _population_names(spec, design):
            truth.update({k: float(v[0]) for k, v in _flatten(name, prior[name][s : s + 1], design).items()})
        truths.append(truth)
        tasks.append((s, y, truth, fit_seeds[s], settings, L))
        labels.append(f"simulation {s + 1} of {n_sims}")
    from ._refits import run_refits

    results, _ = run_refits(
        _refit_sim, tasks, labels, {"spec": spec, "design": design}, chains=chains, client=client,
        n_workers=n_workers, progressbar=progressbar, description=f"SBC ({n_sims} refits)",
    )
    ok = [r for r in results if r["error"] is None]
    ranks = pd.DataFrame([r["ranks"] for r in ok], index=pd.Index([r["sim"] for r in ok], name="sim"))
    fits = pd.DataFrame(
        [{k: r[k] for k in ("sim", "divergences", "max_rhat", "min_ess_bulk", "seconds", "error")} for r in results]
    ).set_index("sim")
    if len(ok) < n_sims:
        warn_user(
            f"{n_sims - len(ok)} of {n_sims} refits failed (see Calibration.fits['error']); their simulations "
            "have no ranks and the calibration does not pass. Simulated data this extreme usually mean the "
            "priors are too wide for the scale of the link: give tighter priors."
        )
    params = "/".join(sorted({v for _, v in spec.parameterization})) or "-"
    text = "; ".join([model.formula.text] + [f"{k} ~ {v}" for k, v in spec.dpars])  # bf(): every formula
    label = f"{text} [{spec.family}, {params}]"
    return Calibration(
        ranks=ranks,
        truths=pd.DataFrame(truths, index=pd.RangeIndex(n_sims, name="sim")),
        fits=fits,
        L=L,
        bins=bins,
        alpha=alpha,
        label=label,
    )


from ._callable import make_callable  # noqa: E402 (after the function it calls)

make_callable(__name__, "calibrate")
