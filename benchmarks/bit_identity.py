"""Bit-identity of two versions of bayesmixed: fit the same models with the same seeds and compare arrays.

For behaviour-preserving refactors (issue 17's family objects). Run the probe once per version, each from a
directory outside the repository so that it imports the version asked for, then compare::

    git archive <old-commit> | tar -x -C /tmp/old
    cd /tmp && PYTHONPATH=/tmp/old python /path/to/benchmarks/bit_identity.py probe /tmp/bits_old
    cd /tmp && python /path/to/benchmarks/bit_identity.py probe /tmp/bits_new      # the installed version
    python benchmarks/bit_identity.py compare /tmp/bits_old /tmp/bits_new

The probe fits every case (nutpie, seed 11, 2 chains × 150 + 150 draws, compile cache off) and stores the
posterior, sample_stats (without wall-clock statistics), log_likelihood, a posterior predictive draw,
``predict()`` of each kind, and the numeric and text columns of fixef, varcorr, r2, icc, pooling, shrinkage
and prior_summary. ``compare`` prints, per case, whether every array is bit-identical.
"""

from __future__ import annotations

import glob
import os
import sys
import warnings

import numpy as np
import pandas as pd
from scipy import special


def _sim(kind: str, seed: int = 3, J: int = 20, n_per: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(J), n_per)
    x = rng.normal(size=J * n_per)
    b = rng.normal(0, 0.6, J)
    eta = 0.5 + 0.8 * x + b[g]
    df = pd.DataFrame({"x": x, "g": [f"G{j:02d}" for j in g]})
    if kind == "gaussian_log":
        df["y"] = np.exp(eta) + rng.normal(0, 0.5, len(x))
    elif kind == "student_t":
        df["y"] = eta + rng.standard_t(5, len(x))
    elif kind == "bernoulli":
        df["y"] = rng.binomial(1, special.expit(eta))
    elif kind == "binomial":
        df["n"] = rng.integers(5, 15, len(x))
        df["y"] = rng.binomial(df["n"], special.expit(eta))
    elif kind == "poisson":
        df["y"] = rng.poisson(np.exp(eta))
    elif kind == "negative_binomial":
        mu = np.exp(eta)
        df["y"] = rng.negative_binomial(5.0, 5.0 / (5.0 + mu))
    elif kind == "gamma":
        df["y"] = rng.gamma(4.0, np.exp(eta) / 4.0)
    elif kind == "inverse_gaussian":
        df["y"] = rng.wald(np.exp(eta), 6.0)
    elif kind == "beta":
        mu = special.expit(eta)
        df["y"] = rng.beta(mu * 10.0, (1 - mu) * 10.0)
    return df


def _cases(bm):
    sleep = bm.datasets.load("sleepstudy")
    sim = "y ~ x + (1 | g)"
    return {
        "sleep_marginal": lambda: bm.Model("Reaction ~ Days + (Days | Subject)", sleep),
        "sleep_nc": lambda: bm.Model("Reaction ~ Days + (Days | Subject)", sleep, parameterization="noncentered"),
        "cbpp": lambda: bm.Model("cbind(incidence, size - incidence) ~ period + (1 | herd)",
                                 bm.datasets.load("cbpp"), family="binomial"),
        "gaussian_log": lambda: bm.Model(sim, _sim("gaussian_log"), family="gaussian", link="log"),
        "student_t": lambda: bm.Model(sim, _sim("student_t"), family="student_t"),
        "bernoulli_logit": lambda: bm.Model(sim, _sim("bernoulli"), family="bernoulli"),
        "bernoulli_probit": lambda: bm.Model(sim, _sim("bernoulli"), family="bernoulli", link="probit"),
        "binomial_cloglog": lambda: bm.Model("y | trials(n) ~ x + (1 | g)", _sim("binomial"), family="binomial",
                                             link="cloglog"),
        "poisson": lambda: bm.Model(sim, _sim("poisson"), family="poisson"),
        "negative_binomial": lambda: bm.Model(sim, _sim("negative_binomial"), family="negative_binomial"),
        "gamma": lambda: bm.Model(sim, _sim("gamma"), family="gamma"),
        "inverse_gaussian": lambda: bm.Model(sim, _sim("inverse_gaussian"), family="inverse_gaussian"),
        "beta": lambda: bm.Model(sim, _sim("beta"), family="beta"),
    }


def _table_arrays(name: str, value, arrays: dict) -> None:
    if isinstance(value, pd.DataFrame):
        for c in value.columns:
            col = value[c]
            arrays[f"tab/{name}/{c}"] = col.to_numpy() if col.dtype.kind in "fi" else col.astype(str).to_numpy(dtype=str)
    else:
        arrays[f"tab/{name}"] = np.asarray([str(value)])


def probe(out: str, only: list[str] | None = None) -> None:
    os.environ["BAYESMIXED_COMPILE_CACHE"] = "0"  # a cached compilation would hide a changed graph
    import bayesmixed as bm

    os.makedirs(out, exist_ok=True)
    print("bayesmixed from", bm.__file__, flush=True)
    for name, make in _cases(bm).items():
        if only and name not in only:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = make()
            fit = m.fit(draws=150, tune=150, chains=2, seed=11, progressbar=False)
            arrays: dict[str, np.ndarray] = {}
            for group in ("posterior", "sample_stats", "log_likelihood"):
                ds = getattr(fit.idata, group)
                for v in ds.data_vars:
                    if "perf_counter" not in v and "process_time" not in v:
                        arrays[f"{group}/{v}"] = ds[v].values
            arrays["pp/y"] = fit.posterior_predictive(seed=3).idata.posterior_predictive["y"].values
            for kind in ("mean", "response", "link"):
                arrays[f"predict/{kind}"] = fit.predict(kind=kind, seed=4).to_numpy()
            tables = {"fixef": fit.fixef, "varcorr": fit.varcorr, "r2": fit.r2, "icc": fit.icc, "pooling": fit.pooling,
                      "shrinkage": lambda: fit.shrinkage(fit.design.blocks[0].label), "prior_summary": m.prior_summary}
            for tname, f in tables.items():
                try:
                    value = f()
                except Exception as err:  # noqa: BLE001  (a refusal must be the same refusal)
                    value = repr(err)
                _table_arrays(tname, value, arrays)
            arrays["spec"] = np.asarray([repr(m.spec.to_dict()), repr(fit.sampler_info.get("parameterization"))])
            np.savez(os.path.join(out, f"{name}.npz"), **arrays)
            print(name, "done", flush=True)


def compare(old: str, new: str) -> int:
    differing = 0
    for fa in sorted(glob.glob(os.path.join(old, "*.npz"))):
        name = os.path.basename(fa)[:-4]
        A, B = np.load(fa), np.load(os.path.join(new, f"{name}.npz"))
        diffs = [f"only in one: {sorted(set(A.files) ^ set(B.files))}"] if set(A.files) != set(B.files) else []
        for k in sorted(set(A.files) & set(B.files)):
            x, y = A[k], B[k]
            same = x.shape == y.shape and (np.array_equal(x, y, equal_nan=True) if x.dtype.kind in "fciub"
                                           else np.array_equal(x, y))
            if not same:
                diffs.append(k)
        print(f"{name:20s} {len(A.files):3d} arrays: " + ("bit-identical" if not diffs else "DIFFER: " + ", ".join(diffs)))
        differing += bool(diffs)
    print(f"{differing} case(s) differ")
    return differing


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "probe":
        probe(sys.argv[2], sys.argv[3].split(",") if len(sys.argv) > 3 else None)
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(1 if compare(sys.argv[2], sys.argv[3]) else 0)
    else:
        sys.exit(__doc__)
