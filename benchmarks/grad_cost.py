"""Cost of one log-density + gradient evaluation (numba backend) of bayesmixed's and bambi's PyMC graphs.

    python benchmarks/grad_cost.py                  # InstEval, y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)
    python benchmarks/grad_cost.py --case sleepstudy

Sampling time is (gradients per draw) × (draws) × (this cost); the benchmark table reports the first two.
"""

from __future__ import annotations

import argparse
import time
import warnings


def cost_ms(model, repeats: int) -> float:
    import pytensor
    import pytensor.tensor as pt

    logp = model.logp()
    fn = pytensor.function(model.value_vars, [logp, *pt.grad(logp, model.value_vars)], mode="NUMBA")
    point = model.initial_point()
    args = [point[v.name] for v in model.value_vars]
    fn(*args)
    t0 = time.perf_counter()
    for _ in range(repeats):
        fn(*args)
    return (time.perf_counter() - t0) / repeats * 1e3


def main() -> None:
    warnings.simplefilter("ignore")
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bambi as bmb

    import bayesmixed as bm
    from bayesmixed.backends.pymc import build_model
    from cases import CASES

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--case", default="insteval", choices=sorted(CASES))
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    case = CASES[args.case]
    data = bm.datasets.load(case.dataset)
    for par in ("centered", "noncentered"):
        m = bm.Model(case.formula, data, family=case.family, parameterization=par)
        print(f"bayesmixed {par:<12} {cost_ms(build_model(m.spec, m.design), args.repeats):.3f} ms")
    b = bmb.Model(case.bambi_formula, data.copy())
    b.build()
    print(f"bambi                   {cost_ms(b.backend.model, args.repeats):.3f} ms")


if __name__ == "__main__":
    main()
