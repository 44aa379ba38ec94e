"""bayesmixed's sratio / cratio / acat fits of brms's ``inhaler`` data beside brms 2.18 (issue 17).

``rating ~ treat + period + carry + (1 | subject)``, logit link, the default ``fit()`` (4 chains x 1000 draws);
brms's posterior means, SDs and quantiles are stored in ``benchmarks/data/brms_inhaler.toml``, written by
``Rscript benchmarks/r/brms_inhaler.R bayesmixed/datasets/data`` (4 chains x 2000 draws, seed 1234). Prints, per
parameter, both posteriors and ``z`` = (bayesmixed mean − brms mean) / brms SD; exit status 1 if any |z| > 0.3,
brms's 95% interval misses bayesmixed's mean, or the fit has divergences or an R-hat above 1.01.

    .venv/bin/python benchmarks/inhaler_check.py [sratio cratio acat]
"""

from __future__ import annotations

import sys
import time
import tomllib
import warnings
from pathlib import Path

import bayesmixed as bm
from bayesmixed.summaries import draws_of

REF = Path(__file__).resolve().parent / "data" / "brms_inhaler.toml"
FORMULA = "rating ~ treat + period + carry + (1 | subject)"


def check(family: str, ref: dict) -> bool:
    data = bm.datasets.load("inhaler")
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model(FORMULA, data, family=family).fit(seed=1, progressbar=False)
    wall = time.perf_counter() - t0
    fx = fit.fixef(prob=0.9)
    rows = {name: (fx.loc[name, "mean"], fx.loc[name, "sd"]) for name in fx.index}
    sd = draws_of(fit.idata, "sd_subject")[:, 0]
    rows["sd(subject:Intercept)"] = (sd.mean(), sd.std(ddof=1))
    ok = fit.divergences == 0 and fit.convergence().r_hat.max() <= 1.01
    print(f"## {family} logit: bayesmixed {wall:.0f} s (4 x 1000), divergences {fit.divergences}, max R-hat "
          f"{fit.convergence().r_hat.max():.3f}; brms: {ref['source']}")
    print(f"{'parameter':<24}{'brms mean':>10}{'sd':>8}{'bm mean':>10}{'sd':>8}{'z':>7}")
    for name, r in ref["posterior"].items():
        m, s = rows[name]
        z = (m - r["mean"]) / r["sd"]
        inside = r["q2.5"] <= m <= r["q97.5"]
        ok &= abs(z) <= 0.3 and inside
        print(f"{name:<24}{r['mean']:>10.4f}{r['sd']:>8.4f}{m:>10.4f}{s:>8.4f}{z:>7.2f}")
    return ok


def main(argv: list[str]) -> int:
    ref = tomllib.loads(REF.read_text())
    families = argv or ["sratio", "cratio", "acat"]
    ok = [check(f, ref[f]) for f in families]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
