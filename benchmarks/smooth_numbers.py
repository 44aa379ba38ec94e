"""The numbers quoted in docs/formulas.md for smooth terms, GPs and AR(1) residuals, next to R's.

    python benchmarks/smooth_numbers.py

Fits (2 chains x 500 draws after 500 tuning steps, seed 1, as the slow tests) mcycle ``accel ~ s(times)``,
``s(times, bs = "cr")`` and ``gp(times, k = 20)``, sleepstudy ``Reaction ~ s(Days) + (1 | Subject)`` and nlme's Ovary
with AR(1) residuals, and prints posterior means and 90 % intervals beside gamm4's / nlme's estimates
(``tests/data/smooth/fits.json``) and brms's posterior means (``tests/data/smooth/brms.json``).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np

import bayesmixed as bm

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "smooth"


def _row(fit, name: str, ref: str) -> str:
    x = fit.idata.posterior[name].values.reshape(-1, *fit.idata.posterior[name].shape[2:])
    x = x.reshape(len(x), -1)
    cells = [f"{m:.4g} [{lo:.4g}, {hi:.4g}]" for m, lo, hi in zip(x.mean(0), *np.quantile(x, [0.05, 0.95], axis=0))]
    return f"  {name:<18} {'; '.join(cells):<60} {ref}"


def main() -> None:
    warnings.simplefilter("ignore")
    fits = json.loads((DATA / "fits.json").read_text())
    brms = json.loads((DATA / "brms.json").read_text())
    kw = dict(draws=500, tune=500, chains=2, seed=1, progressbar=False)
    mc = bm.datasets.load("mcycle")
    f = bm.Model("accel ~ s(times)", mc).fit(**kw)
    print("mcycle accel ~ s(times)")
    print(_row(f, "sd_s(times)", f"gamm4 {fits['mcycle']['sd']:.4g}; brms {brms['mcycle']['pars']['sds_stimes_1']['mean']:.4g}"))
    print(_row(f, "sigma", f"gamm4 {fits['mcycle']['sigma']:.4g}; brms {brms['mcycle']['pars']['sigma']['mean']:.4g}"))
    f = bm.Model('accel ~ s(times, bs = "cr")', mc).fit(**kw)
    print('mcycle accel ~ s(times, bs = "cr")')
    print(_row(f, "sd_s(times)", f"gamm4 {fits['mcycle']['sd_cr']:.4g}"))
    f = bm.Model("accel ~ gp(times, k = 20)", mc).fit(**kw)
    b = brms["mcycle_gp"]["pars"]
    print("mcycle accel ~ gp(times, k = 20)")
    print(_row(f, "sdgp_gp(times)", f"brms {b['sdgp_gptimes']['mean']:.4g} [{b['sdgp_gptimes']['q05']:.4g}, "
                                    f"{b['sdgp_gptimes']['q95']:.4g}]"))
    print(_row(f, "lscale_gp(times)", f"brms {b['lscale_gptimes']['mean']:.4g} [{b['lscale_gptimes']['q05']:.4g}, "
                                      f"{b['lscale_gptimes']['q95']:.4g}]"))
    print(_row(f, "sigma", f"brms {b['sigma']['mean']:.4g}"))
    sl = bm.datasets.load("sleepstudy")
    f = bm.Model("Reaction ~ s(Days) + (1 | Subject)", sl).fit(**kw)
    b = brms["sleepstudy"]["pars"]
    print("sleepstudy Reaction ~ s(Days) + (1 | Subject)")
    print(_row(f, "sd_s(Days)", f"gamm4 {fits['sleepstudy']['sd']:.3g}; brms {b['sds_sDays_1']['mean']:.4g}"))
    print(_row(f, "sd_Subject", f"gamm4 {fits['sleepstudy']['sd_subject']:.4g}"))
    print(_row(f, "sigma", f"gamm4 {fits['sleepstudy']['sigma']:.4g}"))
    o = bm.datasets.load("Ovary")
    o["Visit"] = o.groupby("Mare").cumcount() + 1
    f = bm.Model("follicles ~ sin(2*pi*Time) + cos(2*pi*Time) + (1 | Mare) + ar(time = Visit, gr = Mare)", o).fit(**kw)
    r = fits["ovary"]
    print("Ovary with ar(time = Visit, gr = Mare)")
    print(_row(f, "ar", f"nlme {r['phi']:.4g}"))
    print(_row(f, "sigma", f"nlme {r['sigma']:.4g}"))
    print(_row(f, "beta", "nlme " + ", ".join(f"{v:.4g}" for v in r["fixef"])))


if __name__ == "__main__":
    main()
