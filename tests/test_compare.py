"""Model comparison: PSIS-LOO, WAIC, leave-one-group-out, compare(), and exact k-fold refits on Dask."""

from __future__ import annotations

import dataclasses

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.compare import kfold_elpd, kfold_split, loglik_by, take_rows, to_arviz
from bayesmixed.elpd import ELPD

SLEEP = "Reaction ~ Days + (Days | Subject)"
SLEEP_PARAMS = {
    "beta": {"Intercept": 250.0, "Days": 10.0},
    "sd": {"Subject": [25.0, 6.0]},
    "corr": {"Subject": [[1.0, 0.3], [0.3, 1.0]]},
    "sigma": 25.0,
}


@pytest.fixture(scope="module")
def sleep():
    return bm.datasets.load("sleepstudy")


@pytest.fixture(scope="module")
def fake(synthetic_fit, sleep):
    return synthetic_fit(SLEEP, sleep, SLEEP_PARAMS, jitter=1.0)


def _quiet(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return f(*args, **kw)


# ----------------------------------------------------------------------------- folds and designs
def test_row_folds_are_balanced_and_reproducible(fake):
    fold = kfold_split(fake.design, 7, seed=1)
    counts = np.bincount(fold)
    assert len(counts) == 7 and counts.max() - counts.min() <= 1 and counts.sum() == fake.design.n
    np.testing.assert_array_equal(fold, kfold_split(fake.design, 7, seed=1))
    assert not np.array_equal(fold, kfold_split(fake.design, 7, seed=2))


def test_group_folds_keep_levels_together(fake):
    codes = fake.design.block("Subject").codes
    fold = kfold_split(fake.design, 4, by="Subject", seed=3)
    for j in np.unique(codes):
        assert len(np.unique(fold[codes == j])) == 1
    assert sorted(np.bincount(np.unique(np.c_[codes, fold], axis=0)[:, 1])) == [4, 4, 5, 5]
    np.testing.assert_array_equal(kfold_split(fake.design, None, by="Subject"), codes)


@pytest.mark.parametrize("k, by, match", [(1, None, "from 2"), (181, None, "from 2"), (None, None, "from 2"),
                                          (19, "Subject", "18"), (3, "Nope", "no random-effect term")])
def test_bad_folds(fake, k, by, match):
    with pytest.raises(bm.BayesMixedError, match=match):
        kfold_split(fake.design, k, by=by)


def test_take_rows_keeps_levels_and_encoding(fake):
    idx = np.flatnonzero(fake.design.block("Subject").codes != 0)
    sub = take_rows(fake.design, idx)
    b, b0 = sub.block("Subject"), fake.design.block("Subject")
    assert sub.n == 170 and b.levels == b0.levels and sub.encoding == fake.design.encoding
    assert b.counts()[0] == 0 and not b.Z.flags.writeable
    np.testing.assert_array_equal(sub.X, fake.design.X[idx])
    assert list(sub.rows) == list(fake.design.rows[idx])


# ----------------------------------------------------------------------------- PSIS-LOO, WAIC, by group
def test_loo_and_waic_agree_with_arviz(fake):
    import arviz as az

    res = _quiet(fake.loo)
    assert type(res) is ELPD and res.kind == "loo"
    assert res["n_data_points"] == 180 and "loo_i" not in res and isinstance(res["flagged"], pd.DataFrame)
    with pytest.raises(KeyError, match="pointwise=True"):
        res["loo_i"]
    full = _quiet(fake.loo, pointwise=True)
    np.testing.assert_allclose(full["loo_i"].values.sum(), res["elpd_loo"])
    ref = _quiet(az.loo, fake.idata, pointwise=True)
    assert abs(ref["elpd_loo"] - res["elpd_loo"]) < 0.5  # same PSIS; r_eff from population parameters only
    w = _quiet(fake.waic)
    np.testing.assert_allclose(w["elpd_waic"], _quiet(az.waic, fake.idata)["elpd_waic"])
    assert w.elpd_waic == w.elpd and w.kind == "waic" and "WAIC" in str(w)
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.elpd = 0.0


def test_loglik_summed_by_level(fake):
    ll = fake.idata.log_likelihood["y"].values
    by = loglik_by(fake, "Subject")
    codes = fake.design.block("Subject").codes
    assert by.dims == ("chain", "draw", "Subject") and by.sizes["Subject"] == 18
    np.testing.assert_allclose(by.values[..., 3], ll[..., codes == 3].sum(axis=-1))
    assert list(by["Subject"].values) == list(fake.design.block("Subject").levels)


def test_leave_one_group_out_psis_has_one_value_per_level(fake):
    res = _quiet(fake.loo, pointwise=True, by="Subject")
    assert res["n_data_points"] == 18 and res["by"] == "Subject"
    assert list(res["loo_i"]["Subject"].values) == list(fake.design.block("Subject").levels)
    np.testing.assert_allclose(res["loo_i"].values.sum(), res["elpd_loo"])


def test_high_pareto_k_names_rows_and_advice(fake):
    """An observation whose log-likelihood has a heavy tail across draws is flagged by row label."""
    idata = fake.idata.copy()
    rng = np.random.default_rng(0)
    ll = idata.log_likelihood["y"].values
    ll[..., 4] = -np.abs(rng.standard_cauchy(ll.shape[:2])) * 5.0
    from dataclasses import replace

    bad = replace(fake, idata=idata)
    with pytest.warns(UserWarning, match=r"Pareto k > 0\.7: 4 \(k=") as rec:
        res = bad.loo()
    assert "kfold" in str(rec[0].message)
    flagged = res["flagged"]
    assert 4 in flagged.index and (flagged["pareto_k"] > 0.7).all()
    assert {"pareto_k", "elpd_loo_i", "Subject", "Reaction"} <= set(flagged.columns)
    assert flagged.loc[4, "Subject"] == "308"


def test_missing_log_likelihood_is_explained(synthetic_fit, sleep):
    fit = synthetic_fit(SLEEP, sleep, SLEEP_PARAMS, loglik=False)
    with pytest.raises(bm.BayesMixedError, match="add_log_likelihood"):
        fit.loo()


def test_compare_arguments(fake):
    with pytest.raises(bm.BayesMixedError, match="at least two"):
        bm.compare({"a": fake})
    with pytest.raises(bm.BayesMixedError, match="'loo', 'waic' or 'kfold'"):
        bm.compare({"a": fake, "b": fake}, ic="aic")
    a = _quiet(fake.loo, pointwise=True)
    b = _quiet(fake.loo, pointwise=True, by="Subject")
    with pytest.raises(bm.BayesMixedError, match="different numbers of pointwise values"):
        bm.compare({"a": a, "b": b})


# ----------------------------------------------------------------------------- k-fold result object
def _fake_kfold(shift=0.0, n=20):
    rng = np.random.default_rng(1)
    elpd_i = rng.normal(-3 + shift, 0.5, n)
    fold = pd.Series(np.arange(n) % 5, index=pd.RangeIndex(n, name="row"), name="fold")
    refits = pd.DataFrame({"n_test": [4] * 5, "divergences": 0, "max_rhat": 1.0, "min_ess_bulk": 500.0,
                           "seconds": 1.0}, index=pd.RangeIndex(5, name="fold"))
    return kfold_elpd(elpd_i, fold, refits, n_samples=600, k=5, lppd_i=elpd_i + 0.1)


def test_kfold_elpd_is_accepted_by_arviz_and_compare():
    import arviz as az

    a, b = _fake_kfold(0.2), _fake_kfold(0.0)
    assert type(a) is ELPD and a.kind == "kfold" and isinstance(to_arviz(a), az.ELPDData)
    np.testing.assert_allclose(a["p_kfold"], 2.0)
    assert a["elpd_loo"] == a["elpd_kfold"] == a.elpd  # ArviZ's comparison reads the PSIS-LOO names
    assert "elpd_kfold" in str(a) and "5-fold" in str(a)
    t = az.compare({"a": to_arviz(a), "b": to_arviz(b)})
    assert list(t.index) == ["a", "b"]
    t2 = bm.compare({"a": a, "b": b})
    assert "elpd_kfold" in t2.columns and list(t2.index) == ["a", "b"]
    np.testing.assert_allclose(t2.loc["b", "elpd_diff"], a["elpd_kfold"] - b["elpd_kfold"])
    c = pickle.loads(pickle.dumps(a))
    assert type(c) is ELPD and c["elpd_kfold"] == a["elpd_kfold"]


def test_kfold_settings_are_checked_before_any_cluster(fake):
    with pytest.raises(bm.BayesMixedError, match="unknown refit setting"):
        fake.kfold(k=5, thin=2)
    with pytest.raises(bm.BayesMixedError, match="target_accept"):
        fake.kfold(k=5, target_accept=1.5)
    with pytest.raises(bm.BayesMixedError, match="client must be"):
        fake.kfold(k=5, client=42, draws=10, tune=10, chains=1, sampler="pymc")


# ----------------------------------------------------------------------------- sampled fits
@pytest.mark.slow
def test_compare_ranks_random_slopes_above_intercepts(sleep_fit, sleep_intercept_fit):
    models = {"intercepts": sleep_intercept_fit, "slopes": sleep_fit}
    t = _quiet(bm.compare, models, ic="loo")
    assert list(t.index) == ["slopes", "intercepts"]
    assert t.loc["intercepts", "elpd_diff"] > t.loc["intercepts", "dse"] > 0
    w = _quiet(bm.compare, models, ic="waic")
    assert list(w.index) == ["slopes", "intercepts"] and w.loc["intercepts", "elpd_diff"] > 0


@pytest.mark.slow
def test_pareto_k_report_on_sleepstudy(sleep_fit):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = sleep_fit.loo(pointwise=True)
    flagged = res["flagged"]
    k = res["pareto_k"].values
    assert len(flagged) == int((k > 0.7).sum())
    assert set(flagged.index) <= set(sleep_fit.design.rows)
    ours = [r for r in rec if "Pareto k > 0.7" in str(r.message)]
    assert len(ours) == (1 if len(flagged) else 0)


@pytest.mark.slow
def test_leave_one_subject_out_psis(sleep_fit):
    res = _quiet(sleep_fit.loo, pointwise=True, by="Subject")
    levels = list(sleep_fit.design.block("Subject").levels)
    assert res["n_data_points"] == 18 and list(res["loo_i"]["Subject"].values) == levels
    assert res["flagged"].index.name == "Subject"


def _workers():
    """Child processes other than multiprocessing's resource tracker (which lives as long as Python)."""
    import psutil

    out = set()
    for p in psutil.Process().children(recursive=True):
        try:
            if p.is_running() and "resource_tracker" not in " ".join(p.cmdline()):
                out.add(p.pid)
        except psutil.Error:
            pass
    return out


@pytest.mark.slow
def test_kfold_on_a_local_cluster_agrees_with_psis_loo(sleep_fit, sleep_intercept_fit):
    """k=5 refits on this machine (2 cores, 2 chains: one at a time, in this process); no Dask client is left."""
    import distributed

    before = _workers()
    kf = sleep_fit.kfold(k=5, seed=3, draws=200, tune=200, chains=2, progressbar=False)
    assert kf.kind == "kfold" and kf["n_data_points"] == 180 and kf["k"] == 5
    assert len(kf["refits"]) == 5 and kf["refits"]["n_test"].sum() == 180
    assert sorted(np.bincount(kf["fold"].to_numpy())) == [36] * 5
    loo = _quiet(sleep_fit.loo, pointwise=True)
    diff = kf["kfold_i"].values - loo["loo_i"].values
    se_diff = np.sqrt(len(diff) * diff.var())
    assert abs(diff.sum()) < 3 * se_diff + 2, (kf["elpd_kfold"], loo["elpd_loo"], se_diff)
    assert abs(kf["elpd_kfold"] - loo["elpd_loo"]) < 3 * loo["se"]
    # compare accepts it next to PSIS-LOO (with a warning about mixing the two)
    with pytest.warns(UserWarning, match="comparing k-fold"):
        t = _quiet_except_mix(bm.compare, {"slopes": kf, "intercepts": sleep_intercept_fit})
    assert set(t.index) == {"slopes", "intercepts"}
    # the cluster and its workers are gone
    with pytest.raises(ValueError):
        distributed.default_client()
    assert not (_workers() - before)


def _quiet_except_mix(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.filterwarnings("always", message="comparing k-fold")
        return f(*args, **kw)


@pytest.mark.slow
def test_leave_one_group_out_by_refits(dyestuff_fit):
    """One refit per batch: per-level values next to PSIS leave-one-group-out."""
    kf = dyestuff_fit.kfold(k=None, by="Batch", seed=1, draws=200, tune=200, chains=2, progressbar=False)
    levels = list(dyestuff_fit.design.block("Batch").levels)
    assert kf["k"] == "logo" and kf["by"] == "Batch" and kf["n_data_points"] == 6
    assert list(kf["kfold_i"]["Batch"].values) == levels and len(kf["refits"]) == 6
    assert list(kf["fold"].index) == levels and "leave-one-group-out" in str(kf)
    psis = _quiet(dyestuff_fit.loo, pointwise=True, by="Batch")
    assert abs(kf["elpd_kfold"] - psis["elpd_loo"]) < 3 * max(kf["se"], psis["se"])
    t = _quiet(bm.compare, {"kfold": kf, "psis": psis})
    assert t["elpd_loo"].notna().all()


@pytest.mark.slow
def test_failing_refit_raises_on_the_client(dyestuff_fit, monkeypatch):
    """A refit that fails on a worker stops the run with an error naming it; the user's cluster stays up."""
    import distributed

    import bayesmixed.runner

    def boom(*args, **kwargs):
        raise RuntimeError("boom: sampler exploded")

    monkeypatch.setattr(bayesmixed.runner, "sample", boom)  # in-process workers see the patch
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=None) as cl:
        with pytest.raises(bm.BayesMixedError, match=r"refit \d of 2 .* failed on a Dask worker: RuntimeError: boom"):
            dyestuff_fit.kfold(k=2, seed=1, client=cl.scheduler_address, draws=10, tune=10, chains=1,
                               sampler="pymc", progressbar=False)
        assert cl.status.name == "running"
