"""The static-trajectory pilot on hard simulated posteriors (docs/trajectories.md).

Rebuilds the simulated data sets of the SBC run of the slope model (``python benchmarks/sbc.py --only slope
--parameterizations marginal``: same template, prior draws and seeds), refits the four whose refits mixed worst
with a fixed 7 steps (simulations 78, 47, 87 and 4 of 100; two have a correlation near −0.99) with NUTS and with
static trajectories of 7, 15 and 31 steps (2 chains × 500 tune × 500 draws, target_accept 0.95, as SBC), and
prints which depth the pilot picks for each at two pilot sizes, on them and on radon, Pastes and Penicillin.

    python benchmarks/pilot_depth.py
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HARD = (78, 47, 87, 4)


def main() -> None:
    warnings.simplefilter("ignore")
    import bayesmixed as bm
    import bayesmixed.sampling as S
    from bayesmixed._nutpie_compile import compile_fast
    from bayesmixed.backends.pymc import build_model
    from bayesmixed.runner import quiet_refit
    from bayesmixed.simulate import draw_from_design
    from benchmarks.sbc import designs

    C = importlib.import_module("bayesmixed.calibrate")
    formula, data, family, params = designs()["slope"]
    template = bm.simulate(formula, data, params, family=family, seed=1)
    model = bm.Model(formula, template, family=family, parameterization="marginal")
    spec, design = model.spec, model.design
    n_sims, seed = 100, 6  # benchmarks/sbc.py's defaults
    s_prior, s_sim, s_fit = np.random.SeedSequence(seed).spawn(3)
    prior = C.prior_draws(spec, design, n_sims, seed=int(s_prior.generate_state(1)[0]))
    rng = np.random.default_rng(s_sim)
    fit_seeds = [int(s.generate_state(1)[0]) for s in s_fit.spawn(n_sims)]
    sims = {}
    for s in range(n_sims):
        p = C._params_of(prior, s, spec, design)
        y, _ = draw_from_design(design, spec.family, spec.link, p["beta"], p["sd"], p["corr"], p["aux"], rng)
        if s in HARD:
            sims[s] = (dataclasses.replace(design, y=np.asarray(y, dtype=np.asarray(design.y).dtype)), p)
    settings = dict(draws=500, tune=500, chains=2, sampler="nutpie", target_accept=0.95)
    print("simulation: trajectory, min bulk ESS (of 1000) and max R-hat over the population-level parameters, "
          "for the SBC seed and seeds 1, 2")
    for s, (d, p) in sims.items():
        print(f"simulation {s}: true sd {np.round(p['sd']['g'], 2)}, corr {p['corr']['g'][0, 1]:.3f}")
        for label, traj, depth in [("nuts", "nuts", None), ("static 7", "static", 3), ("static 15", "static", 4),
                                   ("static 31", "static", 5)]:
            out = []
            for fs in (fit_seeds[s], 1, 2):
                S.clear_compile_cache()  # forgets the pilot outcomes too
                if depth is not None:  # force the depth, skipping the pilot
                    S._static_depth = lambda *a, _d=depth, **k: (_d, float("nan"))
                refit = quiet_refit(spec, d, fs, {**settings, "trajectory": traj})
                out.append(f"{refit.min_ess_bulk:.0f} ({refit.max_rhat:.3f})")
                S._static_depth = ORIGINAL
            print(f"  {label:9s}: " + ", ".join(out))
    cases = {f"simulation {s}": (compile_fast(build_model(spec, d))[0], 0.95) for s, (d, _) in sims.items()}
    for name, form in [("radon", "log_radon ~ floor + (floor | county)"), ("Pastes", "strength ~ 1 + (1 | batch/cask)"),
                       ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)")]:
        cases[name] = (compile_fast(bm.Model(form, bm.datasets.load(name)).build())[0], 0.9)
    for tune, draws in [(300, 200), (150, 100)]:
        S.PILOT_TUNE, S.PILOT_DRAWS = tune, draws
        picks = {name: [ORIGINAL(c, sd, 2, ta)[0] for sd in (1, 2, 3, 4)] for name, (c, ta) in cases.items()}
        print(f"pilot {tune} tune + {draws} draws, depth for pilot seeds 1-4: {picks}")


if __name__ == "__main__":
    import bayesmixed.sampling as _S

    ORIGINAL = _S._static_depth
    main()
