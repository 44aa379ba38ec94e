"""nutpie models compiled once per structure (``bayesmixed._nutpie_compile``): the callbacks compute PyMC's log
density and gradient, a later process rebuilds the compiled model from the disk record and gets the same draws
for the same seed, on whatever data its model holds; a damaged record or a disabled cache recompiles. The cache
runs nothing it did not write (planted records and numba files, bit rot, records of other models, other users'
directories, concurrent writers), and the fast path falls back to nutpie's own compiler."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import pickle
import stat
import subprocess
import sys
import textwrap
import threading
import warnings
from pathlib import Path

import numpy as np
import pytest

import bayesmixed as bm
from bayesmixed import _nutpie_compile as nc
from bayesmixed import _privatecache as pc
from bayesmixed.sampling import clear_compile_cache

pytest.importorskip("nutpie")

_CHILD = textwrap.dedent(
    """
    import hashlib, json, sys, warnings
    import numpy as np
    import bayesmixed as bm

    warnings.simplefilter("ignore")
    if sys.argv[1] == "dyestuff":  # a small model that compiles quickly
        model = bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"), parameterization="noncentered")
        fit = model.fit(draws=60, tune=60, chains=1, seed=5, progressbar=False)
    else:
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
    records = list((tmp_path / "cache").glob("*.json"))
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
    records[0].write_bytes(b"not a record")
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
    compiled, source, path, fallback = compile_fast(pm_model)
    assert source is None and path == "fast" and fallback is None and type(compiled).__name__ == "FastCompiledModel"
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


# ------------------------------------------------------------------ a cache that runs only what it wrote


class _Planted:
    """Unpickling this writes a marker file: proof that a planted pickle ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("BAYESMIXED_CACHE_DIR", str(d))
    monkeypatch.delenv("BAYESMIXED_COMPILE_CACHE", raising=False)
    monkeypatch.delenv("BAYESMIXED_FAST_COMPILE", raising=False)
    clear_compile_cache()
    yield d
    clear_compile_cache()


def _dyestuff(**kw):
    return bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"), parameterization="noncentered", **kw)


def _fit(model):
    """A short fit, with this process's memory of compiled models forgotten first (so the disk is asked)."""
    clear_compile_cache()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(draws=60, tune=60, chains=1, seed=5, progressbar=False)


def _digest(fit) -> str:
    post = fit.idata.posterior
    h = hashlib.sha256()
    for name in sorted(post.data_vars):
        h.update(name.encode())
        h.update(np.ascontiguousarray(post[name].values).tobytes())
    return h.hexdigest()


def _record(cache: Path) -> tuple[Path, dict]:
    (path,) = cache.glob("*.json")
    return path, json.loads(path.read_text())


@pytest.mark.slow
def test_cache_is_private_signed_json_and_rebuilds_the_same_draws(cache):
    first = _fit(_dyestuff())
    assert first.sampler_info["compile_cache"] is None and first.sampler_info["compile_path"] == "fast"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    files = sorted(cache.iterdir())
    assert {p.suffix for p in files} == {"", ".json", ".nbi", ".nbc"}  # "": the key
    assert all(stat.S_IMODE(os.stat(p).st_mode) == 0o600 for p in files)
    path, body = _record(cache)
    assert set(body) == {"payload", "mac"} and "src" not in body["payload"]  # no code in the record
    assert set(body["payload"]["files"]) == {p.name for p in files if p.suffix in (".nbi", ".nbc")}
    second = _fit(_dyestuff())
    assert second.sampler_info["compile_cache"] == "disk" and _digest(second) == _digest(first)


@pytest.mark.slow
def test_planted_records_are_ignored_and_nothing_in_them_runs(cache, tmp_path):
    """A pickle under a record's name (the old format) is never unpickled; a JSON record signed with another
    key, carrying code, is ignored (and its code is not run); not-private or linked files are ignored; each time
    the structure is compiled again, with the same draws, and a signed record replaces the planted one."""
    first = _fit(_dyestuff())
    path, body = _record(cache)
    marker = tmp_path / "planted-code-ran"
    path.with_suffix(".pkl").write_bytes(pickle.dumps(_Planted(marker)))
    forged = dict(body["payload"], src=f"open({str(marker)!r}, 'w')")
    path.write_text(json.dumps({"payload": forged, "mac": pc.sign(os.urandom(32), forged)}))
    os.chmod(path, 0o600)
    second = _fit(_dyestuff())
    assert second.sampler_info["compile_cache"] is None and _digest(second) == _digest(first)
    assert not marker.exists()
    assert pc.read_record(path, pc.user_key(cache)) is not None  # replaced by a signed record
    # a record readable by others, or a link to one elsewhere, is not trusted either
    os.chmod(path, 0o644)
    assert _fit(_dyestuff()).sampler_info["compile_cache"] is None
    elsewhere = tmp_path / "elsewhere.json"
    os.replace(path, elsewhere)
    os.symlink(elsewhere, path)
    assert _fit(_dyestuff()).sampler_info["compile_cache"] is None
    assert not path.is_symlink() and _fit(_dyestuff()).sampler_info["compile_cache"] == "disk"
    assert not marker.exists()


@pytest.mark.slow
def test_planted_numba_cache_file_is_never_unpickled(cache, tmp_path, monkeypatch):
    """numba unpickles its cache files: one planted under a callback's name is deleted before numba reads it,
    whether a record vouched for the name (its digest no longer matches) or no record exists yet, and the
    structure is compiled again into new files. (The callbacks' cache keys name PyTensor's key of the graph,
    which can differ from process to process; fixed keys here make the name the next compilation uses known.)"""
    monkeypatch.setattr(nc, "_callback_keys", lambda src, inner: {
        fn: hashlib.sha256(f"fixed {fn} {src}".encode()).hexdigest() for fn in inner})
    first = _fit(_dyestuff())
    _, body = _record(cache)
    (nbi,) = [name for name in body["payload"]["files"] if name.endswith(".nbi") and ".logp_cb-" in name]
    marker = tmp_path / "planted-pickle-ran"
    planted = pickle.dumps(_Planted(marker))
    (cache / nbi).write_bytes(planted)
    again = _fit(_dyestuff())
    assert again.sampler_info["compile_cache"] is None and _digest(again) == _digest(first)
    assert not marker.exists() and (cache / nbi).read_bytes() != planted
    for path in cache.iterdir():  # no record: only the planted file under the callback's name
        if path.name != "key":
            path.unlink()
    (cache / nbi).write_bytes(planted)
    os.chmod(cache / nbi, 0o600)
    fresh = _fit(_dyestuff())
    assert fresh.sampler_info["compile_cache"] is None and _digest(fresh) == _digest(first)
    assert not marker.exists() and (cache / nbi).read_bytes() != planted
    assert _fit(_dyestuff()).sampler_info["compile_cache"] == "disk"


@pytest.mark.slow
def test_bit_rotted_or_truncated_cache_files_recover(cache):
    first = _fit(_dyestuff())
    path, body = _record(cache)
    rotted = {}
    for name in body["payload"]["files"]:
        if name.endswith(".nbc"):
            raw = bytearray((cache / name).read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            (cache / name).write_bytes(bytes(raw))
            rotted[name] = bytes(raw)
    second = _fit(_dyestuff())
    assert second.sampler_info["compile_cache"] is None and _digest(second) == _digest(first)
    # the broken files are gone or replaced (new files, never written into)
    assert all(not (cache / name).exists() or (cache / name).read_bytes() != raw for name, raw in rotted.items())
    assert _fit(_dyestuff()).sampler_info["compile_cache"] == "disk"
    path.write_bytes(path.read_bytes()[:60])  # a truncated record
    third = _fit(_dyestuff())
    assert third.sampler_info["compile_cache"] is None and _digest(third) == _digest(first)
    assert _fit(_dyestuff()).sampler_info["compile_cache"] == "disk"


@pytest.mark.slow
def test_a_record_of_another_model_never_gives_its_posterior(cache):
    """A copied record of another structure (other priors, same data shapes: its callbacks would run on this
    model's data) under this model's name is ignored: the posterior is this model's."""
    a = _fit(_dyestuff())
    (rec_a,) = cache.glob("*.json")
    other = _dyestuff(priors={"sigma": bm.Prior("half_normal", sigma=5.0)})
    b = _fit(other)
    (rec_b,) = set(cache.glob("*.json")) - {rec_a}
    assert _digest(a) != _digest(b)
    rec_b.write_bytes(rec_a.read_bytes())  # signed with this user's key: only the content check stops it
    os.chmod(rec_b, 0o600)
    b2 = _fit(other)
    assert b2.sampler_info["compile_cache"] is None and _digest(b2) == _digest(b)


@pytest.mark.slow
def test_two_processes_compiling_one_structure_at_once(tmp_path):
    """Two processes compile the same structure into one empty cache at the same time: both finish with the
    same draws, a third rebuilds from the record they left, and no temporary file is left behind."""
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    env = {**os.environ, "BAYESMIXED_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, str(script), "dyestuff"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    results = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    assert len({r["digest"] for r in results}) == 1
    later = _child(tmp_path, "dyestuff")
    assert later["cache"] == "disk" and later["digest"] == results[0]["digest"]
    assert not [p for p in (tmp_path / "cache").iterdir() if "tmp" in p.name]


@pytest.mark.slow
def test_fit_succeeds_through_nutpies_own_compiler_when_the_fast_path_fails(cache, monkeypatch):
    """Both compile paths run here: the fast path fails (any exception inside it) and the fit still succeeds
    through ``nutpie.compile_pymc_model``, saying so in ``sampler_info``, with the same posterior up to Monte
    Carlo error."""
    fast = _fit(_dyestuff())
    assert fast.sampler_info["compile_path"] == "fast" and fast.sampler_info["compile_fallback"] is None

    def boom(*args, **kwargs):
        raise RuntimeError("an internal moved")

    monkeypatch.setattr(nc, "_compile", boom)
    nc.clear_disk_cache()
    failed = _fit(_dyestuff())
    assert failed.sampler_info["compile_path"] == "nutpie"
    assert "RuntimeError: an internal moved" in failed.sampler_info["compile_fallback"]
    a, b = failed.idata.posterior["beta"].values.ravel(), fast.idata.posterior["beta"].values.ravel()
    assert abs(a.mean() - b.mean()) < 3 * np.hypot(a.std(), b.std()) / np.sqrt(15)


def test_compile_fast_takes_nutpies_path_when_the_probe_fails_or_it_is_turned_off(monkeypatch):
    calls = []
    monkeypatch.setattr(nc, "_nutpie_own", lambda model: calls.append(model) or "nutpie-compiled")
    monkeypatch.setattr(nc, "_compile", lambda *a, **k: pytest.fail("the fast path ran"))
    monkeypatch.setattr(nc, "_PROBE", [(False, "missing: nutpie.compile_pymc._make_functions")])
    out = nc.compile_fast("model", "structure")
    assert out == ("nutpie-compiled", None, "nutpie", "missing: nutpie.compile_pymc._make_functions")
    monkeypatch.setattr(nc, "_PROBE", [(True, None)])
    monkeypatch.setenv("BAYESMIXED_FAST_COMPILE", "0")
    out = nc.compile_fast("model", "structure")
    assert out.path == "nutpie" and "BAYESMIXED_FAST_COMPILE=0" in out.fallback and calls == ["model", "model"]


def test_fast_path_probe_names_a_missing_internal(monkeypatch):
    import nutpie.compile_pymc

    monkeypatch.setattr(nc, "_PROBE", [])
    assert nc.fast_path_probe() == (True, None)
    monkeypatch.setattr(nc, "_PROBE", [])
    monkeypatch.delattr(nutpie.compile_pymc, "_make_functions")
    ok, why = nc.fast_path_probe()
    assert not ok and "nutpie.compile_pymc._make_functions" in why
    monkeypatch.setattr(nc, "_PROBE", [])


# ------------------------------------------------------------------ the private-cache primitives
def test_cache_directory_of_another_user_is_not_used(tmp_path, monkeypatch):
    d = tmp_path / "theirs"
    d.mkdir(mode=0o700)
    monkeypatch.setattr(pc, "_uid", lambda: os.geteuid() + 1)
    monkeypatch.setattr(pc, "_WARNED", set())
    with pytest.warns(UserWarning, match="belongs to another user"):
        assert pc.usable_dir(d) is None


def test_cache_directory_is_created_0700_and_a_wide_one_of_ours_restricted(tmp_path):
    d = pc.usable_dir(tmp_path / "a" / "b")
    assert d is not None and stat.S_IMODE(os.stat(d).st_mode) == 0o700
    wide = tmp_path / "wide"
    wide.mkdir()
    os.chmod(wide, 0o777)
    assert pc.usable_dir(wide) == wide and stat.S_IMODE(os.stat(wide).st_mode) == 0o700


def test_only_private_regular_files_of_ours_are_read(tmp_path, monkeypatch):
    key = os.urandom(32)
    good = tmp_path / "r.json"
    pc.write_record(good, key, {"a": 1, "x": [0.5, float("nan")]})
    assert stat.S_IMODE(os.stat(good).st_mode) == 0o600
    rec = pc.read_record(good, key)
    assert rec["a"] == 1 and np.isnan(rec["x"][1])
    assert pc.read_record(good, os.urandom(32)) is None  # another key
    link = tmp_path / "link.json"
    os.symlink(good, link)
    assert pc.read_record(link, key) is None
    os.chmod(good, 0o640)
    assert pc.read_record(good, key) is None
    os.chmod(good, 0o600)
    monkeypatch.setattr(pc, "_uid", lambda: os.geteuid() + 1)
    assert pc.read_record(good, key) is None and pc.file_digest(good) is None
    monkeypatch.undo()
    for damaged in (good.read_bytes()[:20], b"\x80\x04K\x01.", b"[1, 2]", b'{"payload": {"a": 1}}'):
        good.write_bytes(damaged)
        os.chmod(good, 0o600)
        assert pc.read_record(good, key) is None


def test_user_key_is_private_made_once_and_replaced_when_exposed(tmp_path):
    k1 = pc.user_key(tmp_path)
    assert len(k1) == 32 and stat.S_IMODE(os.stat(tmp_path / "key").st_mode) == 0o600
    assert pc.user_key(tmp_path) == k1
    os.chmod(tmp_path / "key", 0o644)  # readable by others: anyone could forge records with it
    k2 = pc.user_key(tmp_path)
    assert k2 != k1 and stat.S_IMODE(os.stat(tmp_path / "key").st_mode) == 0o600


def test_concurrent_writers_never_share_a_file(tmp_path):
    path = tmp_path / "r.bin"
    payloads = [bytes([i]) * 200_000 for i in range(8)]

    def write(p):
        for _ in range(10):
            pc.write_private(path, p)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert path.read_bytes() in payloads  # whole, one writer's
    assert [p.name for p in tmp_path.iterdir()] == ["r.bin"]  # no temporary file left
