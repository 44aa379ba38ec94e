"""nutpie models compiled once per structure (``bayesmixed._nutpie_compile``): the callbacks compute PyMC's log
density and gradient, a later process rebuilds the compiled model from the disk record and gets the same draws
for the same seed, on whatever data its model holds; a damaged record or a disabled cache recompiles."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bayesmixed as bm

pytest.importorskip("nutpie")

_CHILD = textwrap.dedent(
    """
    import hashlib, json, sys, warnings
    import numpy as np
    import bayesmixed as bm

    warnings.simplefilter("ignore")
    data = bm.datasets.load("cbpp")
    if sys.argv[1] == "other":  # same shapes and structure, other counts
        data = data.assign(incidence=np.minimum(data["incidence"] + 1, data["size"]))
    model = bm.Model("incidence | trials(size) ~ period + (1 | herd)", data, family="binomial",
                     parameterization="noncentered")
    fit = model.fit(draws=150, tune=150, chains=2, seed=3, progressbar=False)
    post = fit.idata.posterior
    digest = hashlib.sha256()
    for name in sorted(post.data_vars):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(post[name].values).tobytes())
    print(json.dumps({"cache": fit.sampler_info["compile_cache"], "digest": digest.hexdigest(),
                      "beta": post["beta"].values.mean(axis=(0, 1)).tolist()}))
    """
)


def _child(tmp_path: Path, which: str = "same", **env) -> dict:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    full = {**os.environ, "BAYESMIXED_CACHE_DIR": str(tmp_path / "cache"), **env}
    res = subprocess.run([sys.executable, str(script), which], capture_output=True, text=True, env=full,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_later_process_rebuilds_from_record_same_draws_and_new_data(tmp_path):
    first = _child(tmp_path)
    assert first["cache"] is None  # compiled here, record written
    records = list((tmp_path / "cache").glob("*.pkl"))
    assert len(records) == 1
    second = _child(tmp_path)
    assert second["cache"] == "disk"
    assert second["digest"] == first["digest"]  # same seed, same draws, compiled or rebuilt

    # other data of the same structure: the rebuilt model reads the new model's data, not the record's
    other_cached = _child(tmp_path, "other")
    other_fresh = _child(tmp_path, "other", BAYESMIXED_COMPILE_CACHE="0")
    assert other_cached["cache"] == "disk" and other_fresh["cache"] is None
    assert other_cached["digest"] == other_fresh["digest"]
    assert other_cached["digest"] != first["digest"]

    # a damaged record is ignored and rewritten
    records[0].write_bytes(b"not a pickle")
    again = _child(tmp_path)
    assert again["cache"] is None and again["digest"] == first["digest"]
    assert _child(tmp_path)["cache"] == "disk"


@pytest.mark.slow
def test_disabled_cache_writes_nothing(tmp_path):
    out = _child(tmp_path, BAYESMIXED_COMPILE_CACHE="0")
    assert out["cache"] is None
    cache = tmp_path / "cache"
    assert not cache.exists() or not any(cache.iterdir())


def _call_logp(compiled, x: np.ndarray) -> tuple[float, np.ndarray]:
    proto = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_uint64, ctypes.POINTER(ctypes.c_double),
                             ctypes.POINTER(ctypes.c_double), ctypes.POINTER(ctypes.c_double), ctypes.c_void_p)
    fn = proto(compiled.compiled_logp_func.address)
    x = np.ascontiguousarray(x, dtype=np.float64)
    grad = np.empty_like(x)
    logp = np.zeros(1)
    dbl = ctypes.POINTER(ctypes.c_double)
    rc = fn(x.size, x.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl),
            compiled.user_data.ctypes.data)
    assert rc == 0
    return float(logp[0]), grad


@pytest.mark.parametrize(
    "formula, dataset, family, extra, swap",
    [
        ("incidence | trials(size) ~ period + (1 | herd)", "cbpp", "binomial", {"parameterization": "centered"},
         "_y"),
        # marginal: the data enter as sufficient statistics, one of them 0-d
        ("Reaction ~ Days + (Days | Subject)", "sleepstudy", "gaussian", {"parameterization": "marginal"},
         "_Ztr0"),
        ("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin", "gaussian",
         {"parameterization": "noncentered"}, "_y"),
    ],
)
def test_callbacks_equal_pymc_logp_and_gradient(formula, dataset, family, extra, swap, monkeypatch):
    """The generated callback at random points equals PyMC's own (C-compiled) log density and gradient, and a
    refit's data swap (``with_data``) moves it to the new data's log density."""
    from bayesmixed._nutpie_compile import compile_fast

    monkeypatch.setenv("BAYESMIXED_COMPILE_CACHE", "0")
    model = bm.Model(formula, bm.datasets.load(dataset), family=family, **extra)
    pm_model = model.build()
    compiled, source = compile_fast(pm_model)
    assert source is None and type(compiled).__name__ == "FastCompiledModel"
    names, slices, shapes = compiled.shape_info
    logp_ref = pm_model.compile_logp(jacobian=True)
    dlogp_ref = pm_model.compile_dlogp(jacobian=True)
    value_names = [pm_model.rvs_to_values[rv].name for rv in pm_model.free_RVs]
    assert list(names[: len(value_names)]) == value_names
    rng = np.random.default_rng(0)
    for _ in range(3):
        x = compiled.initial_point_func(int(rng.integers(1 << 30))) + 0.3 * rng.standard_normal(compiled.n_dim)
        point = {n: x[s].reshape(sh) for n, s, sh in zip(names, slices, shapes) if n in value_names}
        lp, grad = _call_logp(compiled, x)
        np.testing.assert_allclose(lp, float(logp_ref(point)), rtol=1e-9, atol=1e-8)
        np.testing.assert_allclose(grad, np.asarray(dlogp_ref(point)), rtol=1e-7, atol=1e-7)

    # the same structure on other data: with_data writes the new arrays' addresses into the table
    assert any(a.ndim == 0 for a in compiled.shared_data.values()) == (extra["parameterization"] == "marginal")
    old = np.asarray(compiled.shared_data[swap])
    new = np.maximum(old - 1, 0) if family == "binomial" else old + 50.0
    swapped = compiled.with_data(**{swap: new})
    pm_model.set_data(swap, new)
    logp_new = pm_model.compile_logp(jacobian=True)
    x = compiled.initial_point_func(7)
    point = {n: x[s].reshape(sh) for n, s, sh in zip(names, slices, shapes) if n in value_names}
    lp_new, _ = _call_logp(swapped, x)
    np.testing.assert_allclose(lp_new, float(logp_new(point)), rtol=1e-9, atol=1e-8)
    lp_old, _ = _call_logp(compiled, x)  # the original keeps its own data
    assert abs(lp_old - lp_new) > 1e-6
