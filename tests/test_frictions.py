"""New-user frictions of issue 21, one test each (the ones with a home elsewhere: the CLI's fit.bmfit in
test_cli, ω of a nested parent term in test_pooling, no Dask/deprecation output in test_refits)."""

from __future__ import annotations

import re
import types
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm

ROOT = Path(__file__).resolve().parent.parent
GROUPS = pd.DataFrame({"g": np.repeat([f"g{i}" for i in range(8)], 5), "x": np.tile(np.linspace(-1, 1, 5), 8)})


def test_submodules_are_modules_and_the_package_names_stay_callable():
    import bayesmixed.calibrate as cal
    import bayesmixed.compare as c
    import bayesmixed.simulate as s

    for mod, fn in ((c, "compare"), (s, "simulate"), (cal, "calibrate")):
        assert isinstance(mod, types.ModuleType) and mod is getattr(bm, fn)
        assert callable(mod) and callable(getattr(mod, fn))
    assert callable(c.kfold) and callable(s.draw_from_design)
    sim = bm.simulate("y ~ x + (1 | g)", GROUPS, {"beta": [1.0, 2.0], "sd": {"g": 0.5}, "sigma": 1.0}, seed=1)
    assert sim.shape == (40, 3)


def test_simulate_takes_one_sd_for_every_term():
    params = {"beta": {"Intercept": 1.0, "x": 2.0}, "sd": 0.5, "sigma": 1.0}
    a = bm.simulate("y ~ x + (1 | g)", GROUPS, params, seed=3)
    b = bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": {"g": 0.5}}, seed=3)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(bm.BayesMixedError, match=r"term 'g' needs 2 values, for \['Intercept', 'x'\]: give"):
        bm.simulate("y ~ x + (x | g)", GROUPS, params, seed=3)
    with pytest.raises(bm.BayesMixedError, match=r"params\['sd'\] must be a number .* or a dict by term label"):
        bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": "big"}, seed=3)


def test_ranef_wide_has_the_layout_of_simulated_effects(synthetic_fit):
    params = {"beta": {"Intercept": 1.0, "x": 2.0}, "sd": {"g": {"Intercept": 0.8, "x": 0.3}}, "sigma": 1.0}
    sim, effects = bm.simulate("y ~ x + (x | g)", GROUPS, params, seed=4, return_effects=True)
    fit = synthetic_fit("y ~ x + (x | g)", sim, {**params, "sd": {"g": [0.8, 0.3]}}, loglik=False)
    wide = fit.ranef("g", wide=True)
    truth = effects["g"]
    assert wide.index.name == truth.index.name == "g"
    assert list(wide.index) == list(truth.index) and list(wide.columns) == list(truth.columns)
    long = fit.ranef("g")
    np.testing.assert_allclose(wide.loc["g3", "x"], long.loc[("g3", "x"), "mean"])
    assert set(fit.ranef(wide=True)) == {"g"}


@pytest.mark.slow
def test_public_posterior_has_no_transformed_or_internal_names():
    """nutpie stores unconstrained values (``sigma_log__``); internal variables leave coordinates
    (``_tau_Subject_dim_0``): neither is in the fit's posterior."""
    sleep = bm.datasets.load("sleepstudy")
    for param in ("marginal", "noncentered"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = bm.Model("Reaction ~ Days + (Days | Subject)", sleep, parameterization=param).fit(
                draws=40, tune=40, chains=1, seed=1, progressbar=False)
        post = fit.idata.posterior
        names = list(post.data_vars) + list(post.coords)
        assert not [n for n in names if n.startswith("_") or n.endswith("__")], names
        assert {"beta", "sigma", "sd_Subject", "corr_Subject", "r_Subject"} == set(post.data_vars)


def test_summary_names_columns_as_the_tables_it_shows(synthetic_fit):
    params = {"beta": {"Intercept": 1.0, "x": 2.0}, "sd": {"g": [0.8]}, "sigma": 1.0}
    sim = bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": {"g": 0.8}}, seed=2)
    fit = synthetic_fit("y ~ x + (1 | g)", sim, params, loglik=False, jitter=0.1)
    text = str(fit.summary())
    fixed = text[text.index("Fixed effects"):].splitlines()
    header = fixed[1].split()
    assert header == list(fit.fixef().columns) + list(fit.convergence().columns)
    random = text[text.index("Random effects"):text.index("Fixed effects")].splitlines()
    assert random[1].split() == list(fit.varcorr().columns)


def test_warnings_point_at_the_users_line():
    data = GROUPS.assign(y=np.arange(40.0))
    data.loc[3, "x"] = np.nan
    with pytest.warns(UserWarning, match="dropped 1 of 40 rows") as rec:
        bm.Model("y ~ x + (1 | g)", data)
    assert rec[0].filename == __file__


def test_warning_points_at_the_user_through_a_deep_call():
    from bayesmixed._warnings import warn_user

    with pytest.warns(UserWarning, match="deep") as rec:
        warn_user("deep")
    assert rec[0].filename == __file__


def test_readme_links_stay_in_the_repository():
    text = (ROOT / "README.md").read_text()
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    assert targets, "the README links its docs"
    for target in targets:
        assert "://" not in target or target.startswith("https://"), target
        if "://" not in target:
            path = (ROOT / target.split("#")[0]).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), target
    assert "../" not in text and "/work/" not in text


def _with_heavy_tail(fit, row: int):
    idata = fit.idata.copy()
    ll = idata.log_likelihood["y"].values
    ll[..., row] = -np.abs(np.random.default_rng(0).standard_cauchy(ll.shape[:2])) * 5.0
    return replace(fit, idata=idata)


def test_compare_with_unreliable_psis_gives_the_kfold_call(synthetic_fit):
    params = {"beta": {"Intercept": 1.0, "x": 2.0}, "sd": {"g": [0.8]}, "sigma": 1.0}
    sim = bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": {"g": 0.8}}, seed=2)
    good = synthetic_fit("y ~ x + (1 | g)", sim, params, jitter=0.05)
    bad = _with_heavy_tail(good, 4)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        table = bm.compare({"flexible": bad, "plain": good})
    ours = [str(r.message) for r in rec if "unreliable" in str(r.message)]
    assert len(ours) == 1 and "bm.compare(models, ic='kfold')" in ours[0] and "'flexible': 1 of 40" in ours[0]
    assert set(table.index) == {"flexible", "plain"}
    assert rec[0].filename == __file__


def test_compare_refuses_fits_of_different_data(synthetic_fit):
    params = {"beta": {"Intercept": 1.0, "x": 2.0}, "sd": {"g": [0.8]}, "sigma": 1.0}
    a = bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": {"g": 0.8}}, seed=2)
    b = bm.simulate("y ~ x + (1 | g)", GROUPS, {**params, "sd": {"g": 0.8}}, seed=3)  # same length, other y
    fa, fb = synthetic_fit("y ~ x + (1 | g)", a, params), synthetic_fit("y ~ x + (1 | g)", b, params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(bm.BayesMixedError, match="fitted to different data"):
            bm.compare({"a": fa, "b": fb})
        with pytest.raises(bm.BayesMixedError, match="fitted to different data"):
            bm.compare({"a": fa.loo(pointwise=True), "b": fb.loo(pointwise=True)})
        fc = synthetic_fit("y ~ 1 + (1 | g)", a, {**params, "beta": {"Intercept": 1.0}})  # other model, same data
        assert len(bm.compare({"a": fa, "c": fc})) == 2


@pytest.mark.slow
def test_compare_runs_kfold_on_the_same_folds(dyestuff_fit):
    other = bm.Model("Yield ~ 1", bm.datasets.load("Dyestuff"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = other.fit(draws=150, tune=150, chains=2, seed=1, progressbar=False)
        table = bm.compare({"batches": dyestuff_fit, "plain": plain}, ic="kfold", k=3, seed=5,
                           kfold_options={"draws": 150, "tune": 150, "progressbar": False})
    assert "elpd_kfold" in table.columns and set(table.index) == {"batches", "plain"}
