"""``fit.save(path)`` / ``bayesmixed.load(path)``: the posterior, spec, sampler info and encoding round-trip, so
predictions and every result method on the loaded fit equal those of the original."""

from __future__ import annotations

import dataclasses
import json
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import bayesmixed as bm
from bayesmixed import saveload
from bayesmixed.design import Design, Encoding, GroupBlock


def _mixed_data(n: int = 80, seed: int = 0) -> pd.DataFrame:
    """Every kind of column the encoding has to remember: a pandas categorical in a non-alphabetical order, a
    bool, an int read as factor(), a string grouping factor, a scaled float, a float with a missing value
    (the row is dropped), and string row labels."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "f": pd.Categorical(rng.choice(["mid", "lo", "hi"], n), categories=["mid", "lo", "hi"]),
            "b": rng.random(n) < 0.5,
            "k": rng.choice([3, 1, 2], n),
            "g": rng.choice([f"g{i}" for i in range(7)], n),
            "z": rng.normal(10, 3, n),
            "x": rng.normal(size=n),
            "o": rng.normal(0, 0.1, n),
            "tr": rng.integers(5, 12, n),
        },
        index=[f"r{i}" for i in range(n)],
    )
    d["y"] = 1 + d["x"] + d["z"] / 3 + rng.normal(size=n)
    d["resp"] = np.where(rng.random(n) < 0.4, "yes", "no")
    d["s"] = rng.binomial(d["tr"], 0.3)
    d.loc["r3", "x"] = np.nan
    return d


CASES = {
    "gaussian": ("y ~ scale(z) + f + b + factor(k) + x + (1 + x | g)", "gaussian"),
    "bernoulli": ("resp ~ x + f + offset(o) + (1 | g)", "bernoulli"),
    "binomial": ("cbind(s, tr - s) ~ center(z) + (1 | g) + (0 + x | g)", "binomial"),
}


def _case_fit(synthetic_fit, case: str):
    formula, family = CASES[case]
    data = _mixed_data()
    with pytest.warns(UserWarning, match="dropped 1 of 80 rows with missing values in 'x'"):
        design = bm.Model(formula, data, family=family).design
        params = {
            "beta": {n: 0.1 * (j + 1) for j, n in enumerate(design.x_names)},
            "sd": {b.label: [0.5 + 0.1 * i for i in range(b.k)] for b in design.blocks},
            "sigma": 0.7,
        }
        if family != "gaussian":
            del params["sigma"]
        fit = synthetic_fit(formula, data, params, family=family, jitter=0.05)
    return dataclasses.replace(fit, sampler_info={**fit.sampler_info, "sampler": "made-up", "seed": 3, "timings": {"x": 0.25}})


def _typed(values) -> list:
    return [(type(v), v) for v in values]


def assert_same_design(a: Design, b: Design) -> None:
    """Field by field: arrays equal with the same dtype, labels equal with the same Python/NumPy types."""
    assert a.formula == b.formula
    for name in ("y", "trials", "X", "offset"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype and x.shape == y.shape and np.array_equal(x, y), name
            assert not y.flags.writeable
    assert a.x_names == b.x_names
    assert len(a.blocks) == len(b.blocks)
    for p, q in zip(a.blocks, b.blocks):
        assert (p.label, p.term, p.coef_names) == (q.label, q.term, q.coef_names)
        assert _typed(p.levels) == _typed(q.levels)
        for name in ("Z", "codes"):
            x, y = getattr(p, name), getattr(q, name)
            assert x.dtype == y.dtype and np.array_equal(x, y) and not y.flags.writeable
    pd.testing.assert_index_equal(a.rows, b.rows, exact=True)
    ea, eb = a.encoding, b.encoding
    assert ea.formula == eb.formula and ea.x_names == eb.x_names and ea.block_labels == eb.block_labels
    assert [_typed(lv) for lv in ea.block_levels] == [_typed(lv) for lv in eb.block_levels]
    assert [k for k, _ in ea.state] == [k for k, _ in eb.state]
    for (_, s), (_, t) in zip(ea.state, eb.state):
        assert s[0] == t[0]
        if s[0] == "levels":
            assert _typed(s[1]) == _typed(t[1]) and s[2:] == t[2:]  # levels, then the contrast
        else:
            assert s == t  # centre and scale, exactly
    assert a.response_levels == b.response_levels
    if a.response_levels is not None:
        assert _typed(a.response_levels) == _typed(b.response_levels)
    assert (a.n_dropped, a.dropped_columns) == (b.n_dropped, b.dropped_columns)
    assert (ea.aliased, ea.weights) == (eb.aliased, eb.weights)
    assert a.frame is not None and b.frame is not None
    pd.testing.assert_frame_equal(a.frame, b.frame, check_exact=True)  # the model frame: values, dtypes, categories


def assert_same_idata(a, b) -> None:
    assert set(a.groups()) == set(b.groups())
    for g in a.groups():
        xr.testing.assert_identical(getattr(a, g), getattr(b, g))


@pytest.mark.parametrize("case", list(CASES))
def test_round_trip_keeps_design_spec_and_posterior(synthetic_fit, case, tmp_path):
    fit = _case_fit(synthetic_fit, case)
    path = fit.save(tmp_path / "m.bmfit")
    assert path == tmp_path / "m.bmfit" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["m.bmfit"]  # no temporary files left
    loaded = bm.load(path)
    assert isinstance(loaded, bm.Fit)
    assert loaded.spec == fit.spec  # formula, family, link, priors, parameterisation and its reasons
    assert loaded.sampler_info == fit.sampler_info
    assert_same_design(fit.design, loaded.design)
    assert_same_idata(fit.idata, loaded.idata)


def test_encoding_under_test_is_rich(synthetic_fit):
    """The gaussian case really exercises the encodings the round trip must keep (so the test above can fail)."""
    d = _case_fit(synthetic_fit, "gaussian").design
    state = dict(d.encoding.state)
    assert state["f"] == ("levels", ("mid", "lo", "hi"), "treatment")  # category order, not alphabetical
    assert state["b"][1] == (False, True) and isinstance(state["b"][1][0], (bool, np.bool_))
    assert [int(v) for v in state["factor(k)"][1]] == [1, 2, 3] and isinstance(state["factor(k)"][1][0], (int, np.integer))
    assert state["scale(z)"][0] == "affine" and state["scale(z)"][2] != 1.0
    assert d.n_dropped == 1 and d.dropped_columns == ("x",) and "r3" not in d.rows
    assert "bTRUE" in d.x_names and "flo" in d.x_names
    b = _case_fit(synthetic_fit, "bernoulli").design
    assert b.response_levels == ("no", "yes") and b.offset is not None
    assert _case_fit(synthetic_fit, "binomial").design.trials is not None


@pytest.mark.parametrize("case", list(CASES))
def test_predictions_identical_after_loading(synthetic_fit, case, tmp_path):
    fit = _case_fit(synthetic_fit, case)
    loaded = bm.load(fit.save(tmp_path / "m.bmfit"))
    new = _mixed_data(n=30, seed=5).dropna()
    new = new.iloc[::-1]  # another order and other rows than the fitted data
    with_new_level = new.assign(g=np.where(np.arange(len(new)) % 3 == 0, "unseen", new["g"]))
    calls = [
        dict(new_data=new, groups="include", kind="mean"),
        dict(new_data=new, groups="exclude", kind="link"),
        dict(new_data=with_new_level, groups="sample_new", kind="response", seed=4),
        dict(new_data=None, groups="include", kind="response", seed=2),
    ]
    for kw in calls:
        a_tab, a_draws = fit.predict(draws=True, **kw)
        b_tab, b_draws = loaded.predict(draws=True, **kw)
        assert np.array_equal(a_draws.values, b_draws.values), kw
        assert a_tab.index.equals(b_tab.index) and np.array_equal(a_tab.to_numpy(), b_tab.to_numpy()), kw
    # and the comparison can fail: other data give other predictions
    shifted = new.assign(z=new["z"] + 1, x=new["x"] + 1)
    assert not np.array_equal(fit.predict(shifted).to_numpy(), loaded.predict(new).to_numpy())


def test_unseen_level_errors_survive_loading(synthetic_fit, tmp_path):
    fit = _case_fit(synthetic_fit, "gaussian")
    loaded = bm.load(fit.save(tmp_path / "m.bmfit"))
    bad = _mixed_data(n=10, seed=1).dropna().iloc[:5].assign(f=pd.Categorical(["new"] * 4 + ["lo"]))
    for f in (fit, loaded):
        with pytest.raises(bm.DataError, match="'f' has level"):
            f.predict(bad, groups="exclude")


def test_newer_format_is_refused(synthetic_fit, tmp_path):
    path = _case_fit(synthetic_fit, "gaussian").save(tmp_path / "m.bmfit")
    newer = tmp_path / "newer.bmfit"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(newer, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "manifest.json":
                manifest = json.loads(data)
                manifest["format_version"] = saveload.FORMAT_VERSION + 1
                data = json.dumps(manifest).encode()
            dst.writestr(name, data)
    n, m = saveload.FORMAT_VERSION + 1, saveload.FORMAT_VERSION
    with pytest.raises(bm.BayesMixedError, match=rf"newer bayesmixed .*format {n} > {m}\); upgrade with pip install -U bayesmixed"):
        bm.load(newer)
    bm.load(path)  # the unmodified file still loads


def test_files_that_are_not_fits_give_clear_errors(synthetic_fit, tmp_path):
    fit = _case_fit(synthetic_fit, "gaussian")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    netcdf = tmp_path / "posterior.nc"
    fit.idata.to_netcdf(str(netcdf), engine="h5netcdf")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("data.csv", "a,b\n1,2\n")
    foreign = tmp_path / "foreign.zip"
    with zipfile.ZipFile(foreign, "w") as z:
        z.writestr("manifest.json", json.dumps({"format": "something-else", "format_version": 1}))
    for path, why in [(text, "not a zip"), (other_zip, "no manifest.json"), (foreign, "manifest.json does not say format")]:
        with pytest.raises(bm.BayesMixedError, match=rf"is not a bayesmixed fit file \({why}"):
            bm.load(path)
    with pytest.raises(bm.BayesMixedError, match=r"is a netCDF file: the posterior alone .*arviz\.from_netcdf"):
        bm.load(netcdf)
    with pytest.raises(FileNotFoundError):
        bm.load(tmp_path / "missing.bmfit")
    with pytest.raises(bm.BayesMixedError, match="it is a folder"):
        fit.save(tmp_path)


def test_interrupted_save_leaves_the_old_file(synthetic_fit, tmp_path, monkeypatch):
    fit = _case_fit(synthetic_fit, "gaussian")
    path = fit.save(tmp_path / "m.bmfit")
    before = path.read_bytes()
    other = _case_fit(synthetic_fit, "bernoulli")

    def interrupted(self, filename, *args, **kwargs):
        with open(filename, "wb") as fh:
            fh.write(b"half a netCDF file")
        raise KeyboardInterrupt

    monkeypatch.setattr(type(other.idata), "to_netcdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        other.save(path)
    with pytest.raises(KeyboardInterrupt):
        other.save(tmp_path / "new.bmfit")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.bmfit"]  # no temporary or partial file
    assert bm.load(path).spec == fit.spec


def test_serialiser_knows_every_design_field():
    """A new field on Design, GroupBlock or Encoding must be taught to bayesmixed.saveload."""
    assert tuple(f.name for f in dataclasses.fields(Design)) == saveload.DESIGN_FIELDS
    assert tuple(f.name for f in dataclasses.fields(GroupBlock)) == saveload.BLOCK_FIELDS
    assert tuple(f.name for f in dataclasses.fields(Encoding)) == saveload.ENCODING_FIELDS


@pytest.mark.parametrize(
    "value",
    [None, True, 3, 1.0, 2.5, "a", float("nan"), float("-inf"), np.int64(3), np.int32(-2), np.float32(1.5),
     np.float64(2.0), np.bool_(True), np.str_("x"), np.datetime64("2020-01-02", "D"),
     pd.Timestamp("2020-01-02 03:04:05"), pd.Timestamp("2020-01-02", tz="Europe/Paris")],
)
def test_typed_values_round_trip(value):
    back = saveload._dec_value(json.loads(json.dumps(saveload._enc_value(value))))
    assert type(back) is type(value)
    if isinstance(value, float) and np.isnan(value):
        assert np.isnan(back)
    else:
        assert back == value and str(back) == str(value)
    if isinstance(value, np.generic):
        assert back.dtype == value.dtype


def test_unsupported_level_type_is_refused():
    with pytest.raises(bm.BayesMixedError, match="cannot save a value of type"):
        saveload._enc_value((1, 2))


@pytest.mark.parametrize(
    "index",
    [pd.RangeIndex(2, 12, 2, name="row"), pd.Index([5, 1, 9]), pd.Index(["a", "c", "b"], name="id"),
     pd.Index([1.5, 2.5]), pd.Index(["a", 1, 2.5], dtype=object), pd.DatetimeIndex(["2020-01-01", "2021-01-01"]),
     pd.MultiIndex.from_arrays([["a", "b"], [1, 2]], names=["s", "i"])],
)
def test_row_labels_round_trip(index):
    arrays: dict = {}
    meta = json.loads(json.dumps(saveload._enc_index(index, arrays, "rows")))
    pd.testing.assert_index_equal(saveload._dec_index(meta, arrays), index, exact=True)


@pytest.mark.slow
def test_real_fit_round_trip_and_result_methods(tmp_path):
    """A sampled fit: every result method gives the same answer on the loaded fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).fit(
            draws=100, tune=100, chains=2, seed=8, progressbar=False
        )
    path = fit.save(tmp_path / "sleep.bmfit")
    loaded = bm.load(path)
    assert loaded.sampler_info == fit.sampler_info and loaded.spec == fit.spec
    assert_same_design(fit.design, loaded.design)
    assert_same_idata(fit.idata, loaded.idata)
    pd.testing.assert_frame_equal(fit.fixef(), loaded.fixef())
    for a, b in zip(fit.ranef().values(), loaded.ranef().values()):
        pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(fit.coef("Subject"), loaded.coef("Subject"))
    for method in ("varcorr", "icc", "r2", "convergence", "prior_summary", "pooling"):
        pd.testing.assert_frame_equal(getattr(fit, method)(), getattr(loaded, method)())
    pd.testing.assert_frame_equal(fit.shrinkage("Subject"), loaded.shrinkage("Subject"))
    assert str(fit.summary()) == str(loaded.summary())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert fit.loo().elpd_loo == loaded.loo().elpd_loo
        assert fit.loo(by="Subject").elpd_loo == loaded.loo(by="Subject").elpd_loo
        assert fit.waic().elpd_waic == loaded.waic().elpd_waic
    assert str(fit.diagnose()) == str(loaded.diagnose())
    pp_a, pp_b = fit.posterior_predictive(seed=1), loaded.posterior_predictive(seed=1)
    assert np.array_equal(pp_a.idata.posterior_predictive["y"].values, pp_b.idata.posterior_predictive["y"].values)
    new = pd.DataFrame({"Days": [0.5, 3.0, 12.0], "Subject": ["308", "new", "335"]})
    a, b = fit.predict(new, groups="sample_new", seed=3), loaded.predict(new, groups="sample_new", seed=3)
    assert np.array_equal(a.to_numpy(), b.to_numpy())
    # a loaded fit can be saved again, and gives the same fit
    again = bm.load(loaded.save(tmp_path / "again.bmfit"))
    assert_same_idata(fit.idata, again.idata)
    assert_same_design(fit.design, again.design)
