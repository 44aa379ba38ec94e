"""Entry point of the fresh Python process that runs one fit.

Usage (the parent, :mod:`benchmarks.runners`, builds this command)::

    python -m benchmarks.child --tool bambi --case sleepstudy \\
        --draws 1000 --tune 1000 --chains 2 --cores 2 --seed 1 [--warm] \\
        [--sweep ROWS,LEVELS] --out result.json

Writes a JSON object ``{"import_s": ..., "fits": [cold, warm?], "error": ...}``.
With ``--warm`` the same model is built and fitted a second time in this
process, measuring what a user pays once everything is imported, compiled
and cached in memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import traceback
from pathlib import Path


def _peak_rss_mb() -> float:
    """Peak RSS so far of this process or its largest reaped child (MiB)."""
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(me, kids) / 1024.0


def _cpu_s() -> float:
    """User + system CPU seconds of this process and its reaped children so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tool", required=True)
    ap.add_argument("--case")
    ap.add_argument("--sweep", help="ROWS,LEVELS of the simulated sweep data")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warm", action="store_true")
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)

    out: dict = {"tool": args.tool, "fits": []}
    try:
        t0 = time.perf_counter()
        from .cases import as_factors, get_case, load_data
        from .metrics import efficiency, param_summary
        from .runners.python_tools import PYTHON_TOOLS, Settings, load_bayesmixed_data

        fit_fn, uses_bm_loader = PYTHON_TOOLS[args.tool]
        # The PyMC stack is imported before the clock starts for every tool alike: bambi imports
        # pymc at `import bambi`, bayesmixed (lazily) inside `fit`, and nutpie is imported inside
        # pm.sample, so leaving this to the tools would charge some of them for imports and not others.
        import arviz  # noqa: F401
        import nutpie  # noqa: F401
        import pymc  # noqa: F401

        try:  # xarray imports dask.array at the first DataArray it makes when dask is installed (0.3 s): an
            import dask.array  # noqa: F401  (import like the others, paid by every tool's first InferenceData)
        except ImportError:
            pass

        if uses_bm_loader:
            import bayesmixed  # (import time is reported, not timed as part of the fit)

            if not hasattr(bayesmixed, "Model"):
                raise ImportError("bayesmixed has no Model yet")
        else:
            import bambi  # noqa: F401
        out["import_s"] = time.perf_counter() - t0

        settings = Settings(args.draws, args.tune, args.chains, args.cores, args.seed)
        if args.sweep:
            from .sweep import FORMULA, simulate

            rows, levels = (int(float(x)) for x in args.sweep.split(","))
            data, formula, family = simulate(rows, levels, seed=args.seed), FORMULA, "gaussian"
        else:
            case = get_case(args.case)
            formula, family = case.formula_for(args.tool), case.family
            if uses_bm_loader:
                data = as_factors(load_bayesmixed_data(case.dataset), case.factors)
            else:
                data = load_data(case)

        for mode in ("cold", "warm") if args.warm else ("cold",):
            load = os.getloadavg()[0]
            cpu0 = _cpu_s()
            res = fit_fn(formula, family, data, settings)
            cpu = _cpu_s() - cpu0
            params = param_summary(res.draws)
            rec = {
                "mode": mode,
                "wall_s": res.wall_s,
                "build_s": res.build_s,
                "sampling_s": res.sampling_s,
                "cpu_s": cpu,
                "load_before": load,
                "peak_rss_mb": _peak_rss_mb(),
                "params": params,
                "info": res.info,
                **efficiency(params, wall_s=res.wall_s, n_chains=res.n_chains, n_draws=res.n_draws,
                             n_steps_total=res.n_steps_total, divergences=res.divergences),
            }
            out["fits"].append(rec)
            Path(args.out).write_text(json.dumps(out, indent=1))
    except ImportError as exc:
        out["error"] = f"not available: {exc}"
        out["unavailable"] = True
        traceback.print_exc()
    except Exception:  # noqa: BLE001  (reported to the parent, which keeps going)
        out["error"] = traceback.format_exc(limit=6)
        traceback.print_exc()
    Path(args.out).write_text(json.dumps(out, indent=1))
    return 0 if "error" not in out else 1


if __name__ == "__main__":
    sys.exit(main())
