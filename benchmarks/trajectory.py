"""NUTS against static trajectories on the fully marginal models of ``models/*.toml``.

A fully marginal Gaussian model samples only its covariance parameters and σ (2-6 numbers here).
``fit(trajectory="auto")`` samples such a model with trajectories of a fixed 7 leapfrog steps
(``bayesmixed.sampling.choose_trajectory``); this script fits each model both ways with the benchmark's
settings (2 chains × 1000 tune × 1000 draws) over several seeds and prints the worst bulk and tail ESS over
the population-level parameters (fixed effects, SDs, correlations, σ), the largest R-hat, gradients per draw,
divergences and wall time of the fit call (the structure is compiled once, before the first seed).

    python benchmarks/trajectory.py                               # every marginal model, seeds 1-3
    python benchmarks/trajectory.py --models radon,pastes --seeds 1,2,3,4,5
"""

from __future__ import annotations

import argparse
import sys
import time
import tomllib
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.metrics import param_summary  # noqa: E402
from benchmarks.params import population_params  # noqa: E402

MARGINAL = "sleepstudy,sleepstudy_uncorrelated,radon,dyestuff,dyestuff2,penicillin,pastes"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=MARGINAL)
    ap.add_argument("--seeds", default="1,2,3")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    import bayesmixed as bm

    seeds = [int(s) for s in args.seeds.split(",")]
    rows = []
    for name in args.models.split(","):
        spec = tomllib.loads((ROOT / "models" / f"{name}.toml").read_text())
        model = bm.Model(spec["formula"], bm.datasets.load(spec["data"]), family=spec.get("family", "gaussian"))
        model.fit(draws=20, tune=20, chains=2, seed=0, progressbar=False)  # compile before the clock
        for trajectory in ("nuts", "static"):
            res = []
            for seed in seeds:
                t0 = time.perf_counter()
                fit = model.fit(draws=1000, tune=1000, chains=2, seed=seed, progressbar=False, trajectory=trajectory)
                wall = time.perf_counter() - t0
                assert fit.sampler_info["trajectory"] == trajectory
                ps = param_summary(population_params(fit.idata))
                worst = min(ps, key=lambda k: ps[k]["ess_bulk"])
                ss = fit.idata.sample_stats
                r = dict(bulk=ps[worst]["ess_bulk"], worst=worst, tail=min(p["ess_tail"] for p in ps.values()),
                         rhat=max(p["rhat"] for p in ps.values()), grad=float(ss["n_steps"].sum()) / 2000,
                         div=int(ss["diverging"].sum()), wall=wall)
                res.append(r)
                print(f"{name:24s} {trajectory:6s} seed {seed}: min bulk ESS {r['bulk']:.0f} ({worst}), min tail "
                      f"{r['tail']:.0f}, R-hat {r['rhat']:.3f}, {r['grad']:.2f} grad/draw, {r['div']} div, "
                      f"{wall:.2f} s", flush=True)
            rows.append((name, trajectory, res))
    print("\n| model | trajectory | min bulk ESS per seed | mean | min tail ESS (mean) | max R-hat | grad/draw | "
          "divergences | mean wall s |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for name, trajectory, res in rows:
        per_seed = ", ".join(f"{r['bulk']:.0f}" for r in res)
        print(f"| {name} | {trajectory} | {per_seed} | "
              f"{np.mean([r['bulk'] for r in res]):.0f} | {np.mean([r['tail'] for r in res]):.0f} | "
              f"{max(r['rhat'] for r in res):.3f} | {np.mean([r['grad'] for r in res]):.2f} | "
              f"{sum(r['div'] for r in res)} | {np.mean([r['wall'] for r in res]):.2f} |")


if __name__ == "__main__":
    main()
