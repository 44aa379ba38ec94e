"""The same seed gives bit-identical draws with each sampler that allows it; another seed gives other draws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed.sampling import available_samplers

# wall-clock statistics (PyMC's perf_counter_start, perf_counter_diff, process_time_diff) differ run to run
_CLOCKS = ("perf_counter", "process_time")


def _fit(sampler: str, seed: int):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = bm.Model("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"))
        return model.fit(draws=100, tune=100, chains=2, seed=seed, sampler=sampler, progressbar=False)


def _arrays(fit) -> dict[str, np.ndarray]:
    out = {}
    for group in ("posterior", "sample_stats", "log_likelihood"):
        ds = getattr(fit.idata, group)
        for name in ds.data_vars:
            if not any(c in name for c in _CLOCKS):
                out[f"{group}/{name}"] = ds[name].values
    return out


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["nutpie", "pymc", "numpyro"])
def test_same_seed_bit_identical_other_seed_different(sampler):
    if sampler not in available_samplers():
        pytest.skip(f"{sampler} is not installed")
    a, b, c = _fit(sampler, 5), _fit(sampler, 5), _fit(sampler, 6)
    assert a.sampler_info["sampler"] == sampler
    if sampler == "nutpie":  # the second run reuses the compiled model: that path is reproducible too
        assert b.sampler_info["compile_cache_hit"]
    xa, xb, xc = _arrays(a), _arrays(b), _arrays(c)
    assert set(xa) == set(xb) == set(xc)
    assert {"posterior/beta", "posterior/sigma", "posterior/r_Subject", "log_likelihood/y"} <= set(xa)
    for name in xa:
        assert xa[name].dtype == xb[name].dtype and np.array_equal(xa[name], xb[name], equal_nan=True), name
    # the continuous draws (posterior, energy, log-likelihood) all change with the seed
    for name in ("posterior/beta", "posterior/sigma", "posterior/sd_Subject", "posterior/r_Subject", "log_likelihood/y"):
        assert not np.array_equal(xa[name], xc[name]), name
        assert not np.any(xa[name] == xc[name]), name
