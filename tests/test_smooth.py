"""Smooth terms (``s()``, ``t2()``) and approximate GPs (``gp()``) as mixed-model blocks.

Reference numbers come from R and are stored in ``tests/data/smooth`` (tests never run R):
``bases.json`` from ``make_bases.R`` (mgcv 1.8-41's smoothCon + smooth2random, as gamm4 and brms build the
model), ``fits.json`` from ``make_fits.R`` (gamm4), ``brms.json`` from ``benchmarks/r/brms_smooth.R`` (brms 2.18).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.design.smooth import build_smooth, gp_spectral_sd, parse_smooth
from bayesmixed.formula import parse_formula
from bayesmixed.predict import encode
from bayesmixed.priors import resolve_priors

DATA = Path(__file__).parent / "data" / "smooth"
BASES = json.loads((DATA / "bases.json").read_text())
FITS = json.loads((DATA / "fits.json").read_text())


def _call(text: str):
    return parse_formula("y ~ " + text).smooths[0]


def _sim() -> tuple[pd.DataFrame, pd.DataFrame]:
    s = BASES["sim"]
    fit = pd.DataFrame({"x": s["x"], "z": s["z"], "f": pd.Categorical(s["f"], categories=["a", "b", "c"])})
    new = pd.DataFrame({"x": s["new_x"], "z": s["new_z"], "f": pd.Categorical(s["new_f"], categories=["a", "b", "c"])})
    return fit, new


def _data(name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    if name == "mcycle":
        return pd.DataFrame({"times": BASES["mcycle"]["x"]}), pd.DataFrame({"times": BASES["mcycle"]["new"]})
    if name == "sleep":
        return pd.DataFrame({"Days": BASES["sleep"]["x"]}), pd.DataFrame({"Days": BASES["sleep"]["new"]})
    return _sim()


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


CASES = [
    ("mcycle", "tp", "s(times)"),
    ("mcycle", "cr", 's(times, bs = "cr")'),
    ("mcycle", "tp5", "s(times, k = 5)"),
    ("mcycle", "cr20", 's(times, bs = "cr", k = 20)'),
    ("sleep", "tp", "s(Days)"),  # 10 distinct values, k = 10: mgcv's "pure knot" thin plate basis
    ("sleep", "cr", 's(Days, bs = "cr")'),
    ("sleep", "tp4", "s(Days, k = 4)"),
    ("sim", "tp", "s(x, k = 6)"),
    ("sim", "by", "s(x, by = f, k = 5)"),
    ("sim", "bycr", 's(x, by = f, bs = "cr", k = 5)'),
]


@pytest.mark.parametrize("data, key, text", CASES, ids=[f"{d}-{k}" for d, k, _ in CASES])
def test_basis_agrees_with_mgcv(data, key, text):
    """The random-effect design of every penalised block and the span of the fixed columns are mgcv's (gamm4's and
    brms's): ``Z Zᵀ`` (which fixes the smooth's SD, whatever the parameterisation of the penalised space) to
    1e-9, on the fitted data and on new data (inside and beyond the range)."""
    fit_df, new_df = _data(data)
    ref = BASES[data][key]
    term = parse_smooth(_call(text))
    state: dict = {}
    part = build_smooth(term, fit_df, state, True)
    new = build_smooth(term, new_df, state, False)
    assert [b[0] for b in part.blocks] == [r["label"] for r in ref]
    for i, r in enumerate(ref):
        R, Rn = np.asarray(r["Xr"][0]), np.asarray(r["Xr_new"][0])
        Z, Zn = part.blocks[i][1], new.blocks[i][1]
        assert Z.shape == R.shape
        assert _rel(Z @ Z.T, R @ R.T) < 1e-9
        assert _rel(Zn @ Z.T, Rn @ R.T) < 1e-9
    Rf = np.hstack([np.asarray(r["Xf"]) for r in ref])
    assert part.fixed.shape == Rf.shape
    proj = Rf @ np.linalg.pinv(Rf)
    assert np.abs(proj @ part.fixed - part.fixed).max() < 1e-9 * np.abs(part.fixed).max()
    Rfn = np.hstack([np.asarray(r["Xf_new"]) for r in ref])
    coef = np.linalg.lstsq(part.fixed, Rf, rcond=None)[0]  # the same map on new data
    assert np.abs(new.fixed @ coef - Rfn).max() < 1e-8 * max(1.0, np.abs(Rfn).max())


def test_t2_agrees_with_mgcv():
    """t2(x, z) (cr margins, k = 5): three penalised blocks and three unpenalised columns as mgcv's. The fixed
    span is exact; the blocks' ``Z Zᵀ`` within 12 % elementwise and 2.5 % in trace: mgcv scales each margin's
    null-space columns in whatever basis LAPACK returns for the penalty's two zero eigenvalues, so its own
    numbers are not unique there."""
    fit_df, _ = _sim()
    ref = BASES["sim"]["t2"][0]
    part = build_smooth(parse_smooth(_call("t2(x, z)")), fit_df, {}, True)
    assert len(part.blocks) == 3 and [b[1].shape[1] for b in part.blocks] == [9, 6, 6]
    for (_, Z, _, _), R in zip(part.blocks, ref["Xr"]):
        R = np.asarray(R)
        assert _rel(Z @ Z.T, R @ R.T) < 0.12
        assert abs(np.trace(Z @ Z.T) / np.trace(R @ R.T) - 1) < 0.025
    Rf = np.asarray(ref["Xf"])
    assert np.abs(Rf @ np.linalg.pinv(Rf) @ part.fixed - part.fixed).max() < 1e-9


def test_design_names_and_blocks():
    df, _ = _sim()
    d = build_design("y ~ f + s(x, by = f, k = 5) + gp(z, k = 7)", df.assign(y=np.arange(len(df)) % 7))
    assert d.x_names == ("Intercept", "fb", "fc", "s(x):fa_1", "s(x):fb_1", "s(x):fc_1")
    kinds = {b.label: (b.kind, b.k, b.levels) for b in d.blocks}
    assert kinds == {"s(x):fa": ("smooth", 3, ("1",)), "s(x):fb": ("smooth", 3, ("1",)),
                     "s(x):fc": ("smooth", 3, ("1",)), "gp(z)": ("gp", 7, ("1",))}
    t2 = build_design("y ~ t2(x, z)", df.assign(y=df["x"]))
    assert t2.x_names == ("Intercept", "t2(x:z)_1", "t2(x:z)_2", "t2(x:z)_3")
    assert [(b.label, b.k) for b in t2.blocks] == [("t2(x:z)_1", 9), ("t2(x:z)_2", 6), ("t2(x:z)_3", 6)]
    by_a = d.blocks[0]
    assert np.all(by_a.Z[np.asarray(df["f"]) != "a"] == 0)  # a by-level's columns vanish on the other levels
    priors = resolve_priors(d, "gaussian", "identity", None)
    assert "sd_s(x):fa" in priors and "sdgp_gp(z)" in priors and "lscale_gp(z)" in priors
    assert not any(k.startswith("sd_s(x):fa[") for k in priors)


@pytest.mark.parametrize("formula", [
    "y ~ s(x)", 'y ~ s(x, bs = "cr", k = 6)', "y ~ f + s(x, by = f, k = 5)", "y ~ t2(x, z)", "y ~ gp(x, k = 9)",
    "y ~ s(x, by = z, k = 5)",
])
def test_new_data_reproduce_the_fitted_design(formula):
    """predict()'s encoding of the fitted rows gives the fitted X and every block's Z, bit for bit up to
    rounding; with random effects excluded the smooth blocks are still there (they are population-level)."""
    df, _ = _sim()
    df = df.assign(y=np.sin(df["x"]))
    d = build_design(formula, df)
    for groups in ("include", "exclude"):
        rows = encode(d, df, groups)
        assert np.allclose(rows.X, d.X, rtol=1e-12, atol=1e-12)
        assert rows.labels == tuple(b.label for b in d.blocks)
        for b, Z in zip(d.blocks, rows.Z):
            assert np.allclose(Z, b.Z, rtol=1e-10, atol=1e-12)


def test_numeric_by_keeps_the_constant():
    """A numeric by variable multiplies the smooth and has no centring constraint (mgcv): two fixed columns."""
    df, _ = _sim()
    d = build_design("y ~ s(x, by = z, k = 5)", df.assign(y=df["x"]))
    assert d.x_names == ("Intercept", "s(x):z_1", "s(x):z_2")
    assert d.blocks[0].label == "s(x):z"


def test_gp_basis_approximates_the_kernel():
    """The Hilbert-space basis with coefficient SDs sqrt(S(√λ_j)) reproduces the squared-exponential kernel
    α² exp(−d²/(2ρ²)) on the (scaled) data: Φ diag(S) Φᵀ against the exact covariance (with a boundary far
    enough out, c = 3, for these length-scales; brms's default c = 5/4 trades accuracy near the ends for fewer
    basis functions)."""
    rng = np.random.default_rng(1)
    x = np.sort(rng.uniform(0, 10, 80))
    st: dict = {}
    part = build_smooth(parse_smooth(_call("gp(x, k = 60, c = 3)")), pd.DataFrame({"x": x}), st, True)
    (_, Phi, kind, slambda), = part.blocks
    assert kind == "gp" and Phi.shape == (80, 60)
    xs = (x - x.mean()) / (x.max() - x.min())  # brms: largest distance 1, centred (x has no ties)
    for alpha, rho in [(1.0, 0.15), (2.5, 0.3)]:
        sd = gp_spectral_sd(alpha, rho, np.asarray(slambda))
        K = (Phi * sd**2) @ Phi.T
        exact = alpha**2 * np.exp(-0.5 * (xs[:, None] - xs[None, :]) ** 2 / rho**2)
        assert np.abs(K - exact).max() < 2e-3 * alpha**2


def test_gp_lscale_prior_is_tuned_like_brms():
    """The default length-scale prior puts 1 % of its mass below the smallest (at least 1 % of the largest) and
    1 % above the largest distance between the scaled data points (brms's inverse-gamma tuning)."""
    x = np.array([0.0, 1.0, 2.5, 4.0, 7.0, 10.0])
    d = build_design("y ~ gp(x)", pd.DataFrame({"x": x, "y": x**2}))
    p = resolve_priors(d, "gaussian", "identity", None)["lscale_gp(x)"]
    a, b = p.kwargs["alpha"], p.kwargs["beta"]
    assert stats.invgamma.cdf(0.1, a, scale=b) == pytest.approx(0.01, abs=1e-6)  # smallest gap 1 of range 10
    assert stats.invgamma.sf(1.0, a, scale=b) == pytest.approx(0.01, abs=1e-6)
    # mcycle: the smallest gap is below 1 % of the range, so the floor applies; brms 2.18 chose the same prior
    mc = build_design("accel ~ gp(times, k = 20)", bm.datasets.load("mcycle"))
    p = resolve_priors(mc, "gaussian", "identity", None)["lscale_gp(times)"]
    brms = json.loads((DATA / "brms.json").read_text())["mcycle_gp"]["lscale_prior"][-1]
    assert brms == "inv_gamma(1.494197, 0.056607)"
    assert (p.kwargs["alpha"], p.kwargs["beta"]) == (pytest.approx(1.494197, abs=2e-6), pytest.approx(0.056607, abs=2e-6))


def test_user_prior_on_the_smooth_sd():
    d = build_design("y ~ s(x)", pd.DataFrame({"x": np.arange(20.0), "y": np.sin(np.arange(20.0))}))
    p = resolve_priors(d, "gaussian", "identity", {"sd_s(x)": bm.Prior("half_normal", sigma=3)})
    assert p["sd_s(x)"] == bm.Prior("half_normal", sigma=3)
    with pytest.raises(bm.PriorError, match="positive-valued"):
        resolve_priors(d, "gaussian", "identity", {"sd_s(x)": bm.Prior("normal", mu=0, sigma=3)})


def test_policy_integrates_smooths_out_exactly():
    """A Gaussian model with smooths is marginal by default: each smooth is a block of one level in the
    sparse Cholesky path."""
    sleep = bm.datasets.load("sleepstudy")
    m = bm.Model("Reaction ~ s(Days) + (1 | Subject)", sleep)
    assert dict(m.spec.parameterization) == {"Subject": "marginal", "s(Days)": "marginal"}


# ------------------------------------------------------------------------------------------ sampling
def _draws(fit, name):
    return fit.idata.posterior[name].values.reshape(-1, *fit.idata.posterior[name].shape[2:])


@pytest.mark.slow
def test_mcycle_agrees_with_gamm4_and_brms():
    """accel ~ s(times) on mcycle: gamm4's smooth SD (REML) and residual SD inside the 90 % intervals, and the
    gamm4 curve inside the 95 % posterior band at every grid point; brms's posterior mean of the smooth's SD
    inside the 90 % interval too (when brms's numbers are stored)."""
    d = bm.datasets.load("mcycle")
    fit = bm.Model("accel ~ s(times)", d).fit(draws=500, tune=500, chains=2, seed=1)
    ref = FITS["mcycle"]
    sd, sigma = _draws(fit, "sd_s(times)"), _draws(fit, "sigma")
    assert np.quantile(sd, 0.05) < ref["sd"] < np.quantile(sd, 0.95)
    assert np.quantile(sigma, 0.05) < ref["sigma"] < np.quantile(sigma, 0.95)
    grid = pd.DataFrame({"times": ref["grid"]})
    p = fit.predict(grid)
    assert np.all((p["lower"] < ref["curve"]["fit"]) & (ref["curve"]["fit"] < p["upper"]))
    ce = fit.conditional_effects().table  # the smooth along its variable, with intervals (brms's plot)
    assert set(ce["effect"]) == {"times"} and np.all((ce["lower"] < ce["mean"]) & (ce["mean"] < ce["upper"]))
    assert fit.hypothesis("sd_s(times) > 100").table["post_prob"].iloc[0] > 0.95
    brms = DATA / "brms.json"
    if brms.exists():
        b = json.loads(brms.read_text())["mcycle"]
        assert np.quantile(sd, 0.05) < b["pars"]["sds_stimes_1"]["mean"] < np.quantile(sd, 0.95)
        assert np.all(np.abs(p["mean"] - np.asarray(b["curve"]["mean"])) < 2 * p["sd"])
    # save/load keeps the smooth's knots and transforms: the same predictions on new data
    new = pd.DataFrame({"times": [1.0, 15.5, 60.0]})
    out = Path(fit.save(Path(__import__("tempfile").mkdtemp()) / "m.bmfit"))
    assert np.allclose(bm.load(out).predict(new).to_numpy(), fit.predict(new).to_numpy())


@pytest.mark.slow
def test_sleepstudy_smooth_with_random_intercept():
    """Reaction ~ s(Days) + (1 | Subject): gamm4's subjects' SD and residual SD inside the 90 % intervals;
    gamm4's curve (a straight line: its smooth SD is 0.004) inside the 95 % band; brms's posterior mean of the
    smooth's SD inside the 90 % interval."""
    d = bm.datasets.load("sleepstudy")
    fit = bm.Model("Reaction ~ s(Days) + (1 | Subject)", d).fit(draws=500, tune=500, chains=2, seed=1)
    ref = FITS["sleepstudy"]
    for name, value in (("sd_Subject", ref["sd_subject"]), ("sigma", ref["sigma"])):
        x = _draws(fit, name).ravel()
        assert np.quantile(x, 0.05) < value < np.quantile(x, 0.95), name
    p = fit.predict(pd.DataFrame({"Days": ref["grid"]}), groups="exclude")
    assert np.all((p["lower"] < ref["curve"]["fit"]) & (ref["curve"]["fit"] < p["upper"]))
    line = np.polyval(np.polyfit(ref["grid"], p["mean"], 1), ref["grid"])
    assert np.abs(p["mean"] - line).max() < 3.0  # ms: the posterior mean curve is nearly straight too
    brms = DATA / "brms.json"
    if brms.exists():  # brms's posterior of the smooth's SD (mean 29.6): the data barely inform it; ours alike
        b = json.loads(brms.read_text())["sleepstudy"]["pars"]
        sd = _draws(fit, "sd_s(Days)")
        assert np.quantile(sd, 0.05) < b["sds_sDays_1"]["mean"] < np.quantile(sd, 0.95)


@pytest.mark.slow
def test_gp_mcycle_and_round_trip(tmp_path):
    """accel ~ gp(times, k = 20): the fitted curve follows gamm4's smooth (inside the 95 % band at 10 of the 12
    grid points at least: the two are different priors on the curve) and, when brms's numbers are stored,
    brms's posterior means of sdgp and lscale inside the 90 % intervals; save/load round-trips predictions."""
    d = bm.datasets.load("mcycle")
    fit = bm.Model("accel ~ gp(times, k = 20)", d).fit(draws=500, tune=500, chains=2, seed=1)
    ref = FITS["mcycle"]
    p = fit.predict(pd.DataFrame({"times": ref["grid"]}))
    inside = (p["lower"] < ref["curve"]["fit"]) & (ref["curve"]["fit"] < p["upper"])
    assert inside.sum() >= 10
    brms = DATA / "brms.json"
    if brms.exists():
        b = json.loads(brms.read_text())["mcycle_gp"]["pars"]
        for ours, theirs in (("sdgp_gp(times)", "sdgp_gptimes"), ("lscale_gp(times)", "lscale_gptimes")):
            x = _draws(fit, ours)
            assert np.quantile(x, 0.05) < b[theirs]["mean"] < np.quantile(x, 0.95), ours
    new = pd.DataFrame({"times": [3.0, 30.0]})
    fit.save(tmp_path / "gp.bmfit")
    assert np.allclose(bm.load(tmp_path / "gp.bmfit").predict(new).to_numpy(), fit.predict(new).to_numpy())


@pytest.mark.slow
def test_by_factor_and_t2_sample_and_round_trip(tmp_path):
    """Smooths per level of a factor and a tensor product fit (non-centred, no divergence blow-up), recover a
    known curve per level, and round-trip through save/load."""
    rng = np.random.default_rng(3)
    n = 240
    df = pd.DataFrame({"x": rng.uniform(0, 1, n), "z": rng.uniform(0, 1, n),
                       "f": pd.Categorical(rng.choice(["a", "b"], n))})
    truth = np.where(df["f"] == "a", np.sin(2 * np.pi * df["x"]), 0.5 * df["x"]) + 0.5 * df["z"] ** 2
    df["y"] = truth + rng.normal(0, 0.2, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = bm.Model("y ~ f + s(x, by = f, k = 6) + t2(z, x)", df, parameterization="noncentered").fit(
            draws=300, tune=400, chains=2, seed=2)
    p = fit.predict(df)
    assert np.sqrt(np.mean((p["mean"] - truth) ** 2)) < 0.08
    assert set(fit.varcorr()["group"]) >= {"s(x):fa", "s(x):fb", "t2(z:x)_1", "Residual"}
    fit.save(tmp_path / "by.bmfit")
    new = df.head(5)
    assert np.allclose(bm.load(tmp_path / "by.bmfit").predict(new).to_numpy(), fit.predict(new).to_numpy())


@pytest.mark.parametrize("param", ["marginal", "noncentered", "centered"])
def test_every_parameterization_builds(param):
    """A smooth and a GP block build in each parameterisation, with a finite log density at the initial point
    and the same posterior names."""
    from bayesmixed.backends.pymc import build_model

    d = bm.datasets.load("mcycle")
    m = bm.Model("accel ~ s(times, k = 6) + gp(times, k = 6)", d, parameterization=param)
    model = build_model(m.spec, m.design)
    names = set(model.named_vars)
    assert {"sd_s(times)", "sdgp_gp(times)", "lscale_gp(times)", "sigma"} <= names
    if param != "marginal":
        assert {"r_s(times)", "r_gp(times)"} <= names
    assert np.isfinite(model.compile_logp()(model.initial_point()))


def test_formula_fields_and_update_style_subtraction():
    f = parse_formula('y ~ x + s(x, bs = "cr") + gp(z) + ar(time = t, gr = g) + (1 | g)')
    assert [bm.formula.expr_to_str(e) for e in f.smooths] == ['s(x, bs = "cr")', "gp(z)"]
    assert len(f.autocor) == 1 and [t.label for t in f.terms] == ["x"]
    g = parse_formula('y ~ x + s(x, bs = "cr") + gp(z) - s(x, bs = "cr")')  # update(". ~ . - s(x))")
    assert [bm.formula.expr_to_str(e) for e in g.smooths] == ["gp(z)"]
