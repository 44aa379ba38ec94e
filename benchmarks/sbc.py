"""Simulation-based calibration of the models issue 6 names; writes docs/sbc.md and docs/sbc/*.png.

    python benchmarks/sbc.py                       # all models, 100 simulations each
    python benchmarks/sbc.py --only slope --n-sims 20

Each model: predictors and grouping from a small simulated design, priors = bayesmixed's defaults on a
template data set (fixed for all simulations), then :func:`bayesmixed.calibrate` (prior draws → simulate →
refit in worker processes → ranks; docs/sbc.md was produced when those were a Dask LocalCluster). Not part of the test suite (tests/test_calibrate.py runs a smoke run).
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


# Priors other than the defaults, by model. The default priors of a log-link model (Intercept normal(0, 2.5),
# SDs half-t(3, 2.5)) put prior mass on log rates of 20 and more: 8 of 100 simulations drew counts above 10^9
# (up to 5·10^15; they exposed PyMC's int32 wrap of int64 counts, now avoided in backends/pymc.py), data no
# study has. SBC is valid for any proper prior, so this model is calibrated under priors on a realistic scale.
PRIORS = {
    "poisson_olre": {
        "Intercept": ("normal", {"mu": 1.0, "sigma": 1.0}),
        "beta": ("normal", {"mu": 0.0, "sigma": 1.0}),
        "sd": ("half_normal", {"sigma": 1.0}),
    },
    # the default prior of sigma's intercept, student_t(3, log sd(y), 2.5), draws residual SDs from e^-7 to e^7
    # times sd(y): with 20 simulations, 8 refits diverged (max R-hat 3.7) on such draws. A realistic scale:
    "sigma_x": {
        "Intercept": ("normal", {"mu": 1.0, "sigma": 1.0}),
        "beta": ("normal", {"mu": 0.0, "sigma": 1.0}),
        "sigma_Intercept": ("normal", {"mu": 0.0, "sigma": 0.5}),
        "beta_sigma": ("normal", {"mu": 0.0, "sigma": 0.5}),
        "sd": ("half_normal", {"sigma": 1.0}),
    },
    "zip": {  # as poisson_olre: counts on a realistic scale; zi keeps its default Beta(1, 1)
        "Intercept": ("normal", {"mu": 1.0, "sigma": 1.0}),
        "beta": ("normal", {"mu": 0.0, "sigma": 1.0}),
        "sd": ("half_normal", {"sigma": 1.0}),
    },
}


def designs() -> dict[str, tuple[str, pd.DataFrame, str, dict]]:
    """name -> (formula, template data, family, template parameters)."""
    rng = np.random.default_rng(20261122)
    out = {}
    g = np.repeat([f"s{i:02d}" for i in range(12)], 8)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g))})
    out["slope"] = ("y ~ x + (1 + x | g)", d, "gaussian",
                    {"beta": [1.0, 0.5], "sd": {"g": {"Intercept": 1.0, "x": 0.5}}, "corr": {"g": 0.3}, "sigma": 1.0})
    a, b = np.meshgrid([f"a{i}" for i in range(8)], [f"b{j}" for j in range(6)], indexing="ij")
    d = pd.DataFrame({"a": np.tile(a.ravel(), 2), "b": np.tile(b.ravel(), 2)})
    d["x"] = rng.normal(size=len(d))
    out["crossed"] = ("y ~ x + (1 | a) + (1 | b)", d, "gaussian",
                      {"beta": [0.0, 1.0], "sd": {"a": 1.0, "b": 0.7}, "sigma": 1.0})
    g = np.repeat([f"h{i:02d}" for i in range(15)], 4)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g)), "n": rng.integers(5, 25, size=len(g))})
    out["binomial"] = ("cbind(s, n - s) ~ x + (1 | g)", d, "binomial",
                       {"beta": [-1.0, 0.5], "sd": {"g": 0.8}})
    g = np.repeat([f"p{i:02d}" for i in range(10)], 6)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g)), "obs": np.arange(len(g))})
    out["poisson_olre"] = ("y ~ x + (1 | g) + (1 | obs)", d, "poisson",
                           {"beta": [1.0, 0.3], "sd": {"g": 0.5, "obs": 0.4}})
    # nested Gaussian terms (pupils' classes in schools), every term integrated out through the sparse factor
    s_ = np.repeat([f"s{i}" for i in range(8)], 12)
    c_ = [f"{a}c{j % 3}" for a, j in zip(s_, range(len(s_)))]
    d = pd.DataFrame({"school": s_, "cls": c_, "x": rng.normal(size=len(s_))})
    out["nested"] = ("y ~ x + (1 | school) + (1 + x | cls)", d, "gaussian",
                     {"beta": [0.5, 1.0], "sd": {"school": 0.8, "cls": {"Intercept": 0.6, "x": 0.4}},
                      "corr": {"cls": 0.2}, "sigma": 1.0})
    # weakly informed Bernoulli groups (5 trials each): the term integrated out by quadrature
    g = np.repeat([f"b{i:02d}" for i in range(30)], 5)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g))})
    out["bernoulli_weak"] = ("y ~ x + (1 | g)", d, "bernoulli", {"beta": [0.2, 0.8], "sd": {"g": 0.8}})
    # crossed persons x items with an item-level attribute: both centred, the attribute in the items' means
    p_, i_ = np.meshgrid([f"p{i:02d}" for i in range(20)], [f"i{j:02d}" for j in range(12)], indexing="ij")
    d = pd.DataFrame({"person": p_.ravel(), "item": i_.ravel()})
    d["freq"] = d["item"].map({f"i{j:02d}": v for j, v in enumerate(np.round(rng.normal(size=12), 2))})
    out["items"] = ("y ~ freq + (1 | person) + (1 | item)", d, "bernoulli",
                    {"beta": [0.3, 0.5], "sd": {"person": 1.0, "item": 0.6}})
    # ordinal (cumulative logit, 4 categories) and distributional (sigma ~ x) models with 30 groups
    g = np.repeat([f"o{i:02d}" for i in range(30)], 6)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g))})
    out["cumulative"] = ("y ~ x + (1 | g)", d, "cumulative",
                         {"Intercept": [-1.0, 0.3, 1.5], "beta": {"x": 0.8}, "sd": {"g": 0.8}})
    import bayesmixed as bm

    out["sigma_x"] = (bm.bf("y ~ x + (1 | g)", sigma="~ x"), d, "gaussian",
                      {"beta": [1.0, 0.5], "beta_sigma": {"Intercept": 0.0, "x": 0.3}, "sd": {"g": 0.8}})
    # zero-inflated Poisson (issue 17): structural zeros beside a group effect; zi sampled with the rest
    g = np.repeat([f"z{i:02d}" for i in range(12)], 8)
    d = pd.DataFrame({"g": g, "x": rng.normal(size=len(g))})
    out["zip"] = ("y ~ x + (1 | g)", d, "zero_inflated_poisson", {"beta": [1.0, 0.4], "sd": {"g": 0.5}, "zi": 0.3})
    return out


PARAMS = {"slope": ["marginal", "noncentered"], "crossed": ["marginal", "noncentered"],
          "binomial": ["noncentered", "auto"], "poisson_olre": ["noncentered", "auto"],
          "nested": ["auto"], "bernoulli_weak": ["auto"], "items": [{"person": "centered", "item": "centered"}],
          "cumulative": ["auto"], "sigma_x": ["auto"],
          "zip": ["auto"]}


def main() -> None:
    warnings.simplefilter("ignore")
    import bayesmixed as bm
    from bayesmixed.calibrate import calibrate

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-sims", type=int, default=100)
    ap.add_argument("--only", default=None, help="comma-separated model names")
    ap.add_argument("--parameterizations", default=None,
                    help="comma-separated parameterisations to run (default: every one listed for the model)")
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--tune", type=int, default=500)
    ap.add_argument("--target-accept", type=float, default=0.95)
    ap.add_argument("--n-workers", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "docs"))
    ap.add_argument("--seed", type=int, default=6)
    args = ap.parse_args()
    out = Path(args.out)
    (out / "sbc").mkdir(parents=True, exist_ok=True)
    names = args.only.split(",") if args.only else list(PARAMS)
    results = {}
    results_file = out / "sbc" / "results.json"
    if results_file.exists():
        results = json.loads(results_file.read_text())
    for name, (formula, data, family, params) in designs().items():
        if name not in names:
            continue
        template = bm.simulate(formula, data, params, family=family, seed=1)
        for par in PARAMS[name]:
            if args.parameterizations and str(par) not in args.parameterizations.split(","):
                continue
            priors = {k: bm.Prior(dist, **kw) for k, (dist, kw) in PRIORS.get(name, {}).items()}
            model = bm.Model(formula, template, family=family, parameterization=par, priors=priors or None)
            t0 = time.perf_counter()
            cal = calibrate(model, n_sims=args.n_sims, draws=args.draws, tune=args.tune, chains=2,
                            target_accept=args.target_accept, seed=args.seed, n_workers=args.n_workers)
            wall = time.perf_counter() - t0
            print(cal, f"\n  wall {wall:.0f} s\n", flush=True)
            key = f"{name}-{par}" if isinstance(par, str) else f"{name}-" + "/".join(sorted(set(par.values())))
            fig = cal.plot()
            fig.savefig(out / "sbc" / f"{key}.png", dpi=90)
            t = cal.table()
            results[key] = {
                "model": name, "formula": str(formula), "family": family, "requested": par if isinstance(par, str) else "dict",
                "parameterization": dict(model.spec.parameterization),
                "n_sims": args.n_sims, "L": cal.L, "bins": cal.bins, "wall_s": round(wall, 1),
                "draws": args.draws, "tune": args.tune, "target_accept": args.target_accept,
                "priors": "defaults" if not priors else "; ".join(f"{k} {v}" for k, v in priors.items()),
                "divergent_fits": int((cal.fits["divergences"] > 0).sum()),
                "fits_rhat_over_1.01": int((cal.fits["max_rhat"] > 1.01).sum()),
                "median_min_ess_bulk": float(cal.fits["min_ess_bulk"].median()),
                "failed_fits": int(len(cal.failed)),
                "max_rhat": float(cal.fits["max_rhat"].max()),
                "passed": cal.passed,
                "table": t.reset_index().to_dict(orient="records"),
            }
            results_file.write_text(json.dumps(results, indent=1, default=float))
    write_markdown(results, out / "sbc.md")


def write_markdown(results: dict, path: Path) -> None:
    lines = [
        "# Simulation-based calibration",
        "",
        "Talts et al. (2018): for each model, draw the population-level parameters from the prior, simulate a",
        "response on the model's design with them, refit, and rank each true value among L = 99 posterior draws",
        "(taken evenly over 2 chains; chains × draws in each row). Uniform ranks mean a calibrated posterior. The",
        "test per parameter is a chi-square on 10 equal bins (9 df); a parameter passes when p ≥ 0.05 / m, m the",
        "model's number of parameters (Bonferroni, family-wise 5 %). Rank histograms, with the expected count and",
        "its 99 % binomial band, are in `docs/sbc/<model>-<parameterisation>.png`.",
        "",
        "Reproduce (2 cores, 2 refit worker processes): `python benchmarks/sbc.py` (all models) or",
        "`python benchmarks/sbc.py --only slope --n-sims 100`. Priors: bayesmixed's defaults on a template data set",
        "simulated from the parameters in `benchmarks/sbc.py`, fixed for all simulations, except the Poisson model:",
        "its default priors (log scale) drew counts above 10^9 in 8 of 100 simulations (up to 5·10^15), so it is calibrated under",
        "the priors in the table (any proper prior is valid for SBC; see `PRIORS` in `benchmarks/sbc.py`).",
        "",
        "How to read the fit columns. Each refit is 2 chains × 500 draws on a small data set (6–15 levels per factor), and",
        "every refit is kept whatever its diagnostics: SBC checks the whole procedure, sampler included, and",
        "dropping poorly mixed fits would bias the ranks. *fits with R-hat > 1.01* and *median min bulk ESS* (over",
        "the population-level parameters) say how well the refits mixed: the marginalised models mix best, the",
        "non-centred Gaussian models worst (their SDs near zero are hard to explore with few levels), and the",
        "ranks stay uniform in both. `auto` is decided once, by the pilot on the template data set, and kept for",
        "every simulation (the row says what it chose): the binomial, Bernoulli and Poisson models integrate a term",
        "out by quadrature, the Gaussian ones every term through the sparse factor. A parameterisation fixed",
        "from the template is wrong for part of the prior: the centred rows (zero-inflated Poisson, persons x",
        "items) diverge in the refits whose simulated SD is near zero, where a user's `auto` would have chosen",
        "otherwise; their ranks still pass, which is what SBC checks.",
        "A failed fit (one the sampler cannot start) is counted, has no ranks, and fails the model.",
        "",
        "| model | formula | family | priors | parameterisation | sims | draws×chains | failed fits | fits with divergences "
        "| fits with R-hat > 1.01 | max R-hat | median min bulk ESS | min p | all pass | wall (s) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key, r in results.items():
        par = "/".join(sorted(set(r["parameterization"].values())))
        if r["requested"] == "auto":
            par = "auto: " + ", ".join(f"{k} {v}" for k, v in r["parameterization"].items())
        minp = min(row["p_value"] for row in r["table"])
        lines.append(
            f"| {r['model']} | `{r['formula'].replace('|', chr(92) + '|')}` | {r['family']} | {r.get('priors', 'defaults')} | {par} | "
            f"{r['n_sims']} | {r['draws']}×2 | {r.get('failed_fits', '–')} | {r['divergent_fits']} | "
            f"{r.get('fits_rhat_over_1.01', '–')} | {r['max_rhat']:.3f} | {r.get('median_min_ess_bulk', float('nan')):.0f} | "
            f"{minp:.3f} | {'yes' if r['passed'] else '**no**'} | {r['wall_s']:.0f} |"
        )
    lines += ["", "## Per parameter", ""]
    for key, r in results.items():
        lines += [f"### {key}", "", f"![{key}](sbc/{key}.png)", "", "| parameter | chi² | p | passes |", "|---|---|---|---|"]
        for row in r["table"]:
            lines.append(f"| {row['parameter']} | {row['chi2']:.1f} | {row['p_value']:.3f} | {'yes' if row['passed'] else '**no**'} |")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
