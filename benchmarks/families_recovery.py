"""Simulation recovery of the families of issue 17 (too slow for the test suite: one fit per family).

For each family: 40 groups of 10 rows, ``y ~ x + (1 | g)`` (``y | trials(n)`` for the families of successes
out of trials), responses drawn with :func:`bayesmixed.simulate` at known parameters, one fit (2 chains x 500
draws after 500 warm-up), and whether each true value (intercept, slope, group SD, the family's auxiliary
parameters) lies inside its 95% equal-tailed interval. Prints one line per parameter and a summary; exits 1
when any truth is outside its interval or a fit diverged.

    python benchmarks/families_recovery.py [family ...]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pandas as pd

import bayesmixed as bm
from bayesmixed.families import get_family
from bayesmixed.summaries import draws_of

#: true auxiliary parameters per family; intercepts chosen so that the mean is in a sensible range
TRUTH: dict[str, tuple[float, dict[str, float]]] = {
    "lognormal": (0.5, {"sigma": 0.6}),
    "exponential": (0.5, {}),
    "weibull": (0.5, {"shape": 1.8}),
    "skew_normal": (0.5, {"sigma": 1.0, "alpha": 3.0}),
    "exgaussian": (0.5, {"sigma": 0.7, "exp_scale": 1.0}),
    "beta_binomial": (-0.3, {"phi": 8.0}),
    "zero_inflated_poisson": (1.0, {"zi": 0.3}),
    "zero_inflated_negative_binomial": (1.0, {"alpha": 4.0, "zi": 0.3}),
    "zero_inflated_binomial": (-0.3, {"zi": 0.25}),
    "zero_inflated_beta": (-0.3, {"phi": 8.0, "zi": 0.2}),
    "hurdle_poisson": (1.0, {"hu": 0.35}),
    "hurdle_negative_binomial": (1.0, {"alpha": 4.0, "hu": 0.35}),
    "hurdle_gamma": (0.5, {"alpha": 3.0, "hu": 0.3}),
    "hurdle_lognormal": (0.5, {"sigma": 0.6, "hu": 0.3}),
}
SLOPE, SD, J, N_PER = 0.4, 0.5, 40, 10


def recover(family: str, seed: int = 1) -> list[tuple[str, float, float, float]]:
    """``(parameter, truth, lower, upper)`` of the 95% intervals of one simulated data set's fit."""
    intercept, aux = TRUTH[family]
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=J * N_PER), "g": np.repeat([f"g{j}" for j in range(J)], N_PER),
                       "n": 12})
    trials = get_family(family).needs_trials
    formula = "y | trials(n) ~ x + (1 | g)" if trials else "y ~ x + (1 | g)"
    params = {"beta": {"Intercept": intercept, "x": SLOPE}, "sd": SD, **aux}
    sim = bm.simulate(formula, df, params, family=family, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model(formula, sim, family=family).fit(draws=500, tune=500, chains=2, seed=seed, progressbar=False)
    beta = draws_of(fit.idata, "beta")
    checks = {"Intercept": (intercept, beta[:, 0]), "x": (SLOPE, beta[:, 1]),
              "sd_g": (SD, draws_of(fit.idata, "sd_g")[:, 0])}
    checks.update({k: (v, draws_of(fit.idata, k)) for k, v in aux.items()})
    rows = [(k, t, *np.quantile(x, [0.025, 0.975])) for k, (t, x) in checks.items()]
    if fit.divergences:
        rows.append(("divergences", 0.0, float(fit.divergences), float(fit.divergences)))
    return rows


def main(argv: list[str]) -> int:
    families = argv or list(TRUTH)
    bad = 0
    for fam in families:
        t = time.perf_counter()
        rows = recover(fam)
        dt = time.perf_counter() - t
        for name, truth, lo, hi in rows:
            ok = lo <= truth <= hi
            bad += not ok
            print(f"{fam:34s} {name:12s} truth {truth:7.3f}  95% [{lo:7.3f}, {hi:7.3f}]  {'ok' if ok else 'OUTSIDE'}")
        print(f"{fam:34s} fit {dt:.1f} s", flush=True)
    print(f"{bad} truth(s) outside their 95% interval (or divergent fits) over {len(families)} families")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
