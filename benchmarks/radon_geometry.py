"""How the parameterisation of radon's ``(floor | county)`` covariance and nutpie's settings move the worst
bulk ESS per draw (issue 7's target: ≥ 0.7 for every population-level parameter).

The marginal model samples four numbers: log σ and, for the county term, two signed SDs τ and a correlation
(``backends.pymc._signed_covariance``). Each variant swaps that function (or passes nutpie settings), compiles
the model once with ``nutpie.compile_pymc_model`` and samples it with 2 chains × 1000 tune × 1000 draws for
each seed; it prints the bulk ESS of sd(Intercept), sd(floor), their correlation and σ, and the minimum.

    python benchmarks/radon_geometry.py                       # every variant, seeds 1-6
    python benchmarks/radon_geometry.py --variants signed,log_sd --seeds 1,2,3

Variants:
- ``signed`` (bayesmixed's): τ ∈ ℝ², ρ = 2x − 1, x ~ Beta(η, η), L = [[τ₀, 0], [τ₁ρ, τ₁√(1−ρ²)]].
- ``log_sd0``: τ₀ on the log scale (positive), τ₁ signed.
- ``abs_corr``: τ signed, but the covariance built from |τ| so that ρ is the reported correlation itself
  (no sign coupling between τ₁ and ρ; a kink at τ₁ = 0).
- ``log_sd``: both SDs on the log scale (the separation strategy without signed SDs).
- ``signed+low_rank``, ``signed+jitter``: nutpie's low-rank mass matrix (eigenvalue cutoff 1.01, i.e. dense in
  4 dimensions) and step-size jitter 0.3.
- ``signed+fixed7``, ``signed+fixed15``: static trajectories of 7 and 15 steps (``check_turning=False``), what
  ``fit(trajectory="auto")`` now does for such models (docs/trajectories.md).
- ``signed+mindepth2``: nutpie's ``mindepth=2``. It raises ESS/draw, but nuts-rs skips the U-turn checks only
  while the *whole* tree is shallower than ``mindepth`` and checks the inside of every later subtree, so the
  trajectory a point builds depends on where in it the chain started; that breaks the symmetry NUTS needs for
  detailed balance. Shown for the record, not used.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def _variants():
    import pymc as pm
    import pytensor.tensor as pt

    import bayesmixed.backends.pymc as bp
    from bayesmixed.priors import Prior

    def corr_det(lab, r):
        one = pt.ones(())
        pm.Deterministic(f"corr_{lab}", pt.stack([pt.stack([one, r]), pt.stack([r, one])]),
                         dims=(f"{lab}_coef", f"{lab}_coef2"))

    def rho_of(lab, eta):
        return 2.0 * pm.Beta(f"_rho01_{lab}", alpha=eta, beta=eta) - 1.0

    def one_of(prior, i):
        return {k: np.asarray(v, dtype=float).reshape(-1)[min(i, np.size(v) - 1)] for k, v in prior.kwargs.items()}

    def log_sd0(b, sd_prior, eta, scale):
        lab = b.label
        tau0 = bp.prior_dist(Prior(sd_prior.dist, **one_of(sd_prior, 0)), f"_sd0_{lab}")
        tau1 = bp.prior_dist(bp._SYMMETRIC[sd_prior.dist](one_of(sd_prior, 1)), f"_tau1_{lab}")
        rho = rho_of(lab, eta)
        corr_det(lab, rho * pt.sign(tau1))
        chol = pt.stack([pt.stack([tau0, pt.zeros(())]), pt.stack([tau1 * rho, tau1 * pt.sqrt(1 - rho**2)])])
        return pm.Deterministic(f"sd_{lab}", pt.stack([tau0, pt.abs(tau1)]) * scale, dims=f"{lab}_coef"), chol * scale

    def abs_corr(b, sd_prior, eta, scale):
        lab = b.label
        tau = bp.prior_dist(bp._SYMMETRIC[sd_prior.dist](sd_prior.kwargs), f"_tau_{lab}", shape=2)
        rho = rho_of(lab, eta)
        corr_det(lab, rho)
        a = pt.abs(tau)
        chol = pt.stack([pt.stack([tau[0], pt.zeros(())]),
                         pt.stack([a[1] * rho * pt.sign(tau[0]), tau[1] * pt.sqrt(1 - rho**2)])])
        return pm.Deterministic(f"sd_{lab}", a * scale, dims=f"{lab}_coef"), chol * scale

    def log_sd(b, sd_prior, eta, scale):
        lab = b.label
        tau = bp.prior_dist(sd_prior, f"_sdpos_{lab}", shape=2)
        rho = rho_of(lab, eta)
        corr_det(lab, rho)
        chol = pt.stack([pt.stack([tau[0], pt.zeros(())]), pt.stack([tau[1] * rho, tau[1] * pt.sqrt(1 - rho**2)])])
        return pm.Deterministic(f"sd_{lab}", tau * scale, dims=f"{lab}_coef"), chol * scale

    signed = bp._signed_covariance
    return {
        "signed": (signed, {}),
        "log_sd0": (log_sd0, {}),
        "abs_corr": (abs_corr, {}),
        "log_sd": (log_sd, {}),
        "signed+low_rank": (signed, {"low_rank_modified_mass_matrix": True, "mass_matrix_eigval_cutoff": 1.01}),
        "signed+jitter": (signed, {"step_size_jitter": 0.3}),
        "signed+mindepth2": (signed, {"mindepth": 2}),
        "signed+fixed7": (signed, {"check_turning": False, "maxdepth": 3}),
        "signed+fixed15": (signed, {"check_turning": False, "maxdepth": 4}),
    }


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=None, help="comma-separated names (default: all)")
    ap.add_argument("--seeds", default="1,2,3,4,5,6")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import arviz as az
    import nutpie
    from threadpoolctl import threadpool_limits

    import bayesmixed as bm
    import bayesmixed.backends.pymc as bp

    variants = _variants()
    names = args.variants.split(",") if args.variants else list(variants)
    seeds = [int(s) for s in args.seeds.split(",")]
    data = bm.datasets.load("radon")
    original = bp._signed_covariance
    rows = []
    for name in names:
        fn, settings = variants[name]
        bp._signed_covariance = fn
        try:
            model = bm.Model("log_radon ~ floor + (floor | county)", data).build()
        finally:
            bp._signed_covariance = original
        compiled = nutpie.compile_pymc_model(model)
        worst, grads = [], []
        for seed in seeds:
            with threadpool_limits(1, "blas"):
                t0 = time.perf_counter()
                idata = nutpie.sample(compiled, draws=1000, tune=1000, chains=2, seed=seed, progress_bar=False,
                                      target_accept=0.9, **settings)
                wall = time.perf_counter() - t0
            p = idata.posterior
            sd = p["sd_county"].values
            ess = {"sd(Intercept)": az.ess(sd[..., 0]), "sd(floor)": az.ess(sd[..., 1]),
                   "corr": az.ess(p["corr_county"].values[..., 0, 1]), "sigma": az.ess(p["sigma"].values)}
            g = float(idata.sample_stats["n_steps"].values.sum()) / 2000
            div = int(idata.sample_stats["diverging"].values.sum())
            worst.append(min(ess.values()))
            grads.append(g)
            print(f"{name:18s} seed {seed}: " + ", ".join(f"{k} {v:.0f}" for k, v in ess.items())
                  + f"; {g:.2f} gradients/draw, {div} divergences, {wall:.2f} s", flush=True)
        rows.append((name, worst, float(np.mean(grads))))
    print("\n| variant | min bulk ESS per seed (of 2000) | mean | mean ESS/draw | gradients/draw |")
    print("|---|---|---:|---:|---:|")
    for name, worst, g in rows:
        print(f"| {name} | {', '.join(f'{w:.0f}' for w in worst)} | {np.mean(worst):.0f} | "
              f"{np.mean(worst) / 2000:.2f} | {g:.2f} |")


if __name__ == "__main__":
    main()
