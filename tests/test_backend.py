"""Structure of the built PyMC graph (no sampling): non-centred offsets, correlations, dims, priors."""

from __future__ import annotations

import numpy as np
import pytest

import bayesmixed as bm


def names(model):
    return {v.name for v in model.free_RVs}, {v.name for v in model.deterministics}


def test_correlated_term_has_lkj_and_noncentred_offsets():
    m = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"), parameterization="noncentered").build()
    free, det = names(m)
    assert "_z_Subject" in free and "_chol_Subject" in free
    assert {"beta", "sd_Subject", "corr_Subject", "r_Subject"} <= det
    assert m.named_vars_to_dims["r_Subject"] == ("Subject", "Subject_coef")
    assert list(m.coords["Subject_coef"]) == ["Intercept", "Days"]
    assert list(m.coords["coef"]) == ["Intercept", "Days"]


def test_uncorrelated_term_has_no_correlation():
    m = bm.Model("Reaction ~ Days + (Days || Subject)", bm.datasets.load("sleepstudy"), parameterization="noncentered").build()
    free, det = names(m)
    assert "_sd_Subject" in free and "corr_Subject" not in det and "_chol_Subject" not in free


def test_centred_switch_per_term():
    d = bm.datasets.load("Penicillin")
    m = bm.Model("diameter ~ 1 + (1 | plate) + (1 | sample)", d, parameterization={"plate": "centered"}).build()
    free, det = names(m)
    assert "r_plate" in free and "_z_plate" not in free
    assert "_z_sample" in free and "r_sample" in det


def test_nested_levels_in_graph():
    m = bm.Model("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("Pastes")).build()
    assert len(m.coords["batch"]) == 10 and len(m.coords["batch:cask"]) == 30


def test_r_equals_z_times_cholesky_transpose():
    """b = z (diag(τ) L)ᵀ: evaluate the graph at a point and compare with numpy."""
    m = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy"), parameterization="noncentered").build()
    ip = m.initial_point()
    rng = np.random.default_rng(0)
    point = {k: rng.normal(size=np.shape(v)) * 0.3 for k, v in ip.items()}
    outs = m.replace_rvs_by_values([m["r_Subject"], m["sd_Subject"], m["corr_Subject"]])
    f = m.compile_fn(outs, inputs=m.value_vars, on_unused_input="ignore")
    r, sd, corr = f(point)
    z = point["_z_Subject"]
    L = np.linalg.cholesky(corr)
    np.testing.assert_allclose(r, z @ (np.diag(sd) @ L).T, rtol=1e-6, atol=1e-8)


def test_linear_predictor_gathers_codes():
    """logp of the graph equals a numpy Gaussian log-likelihood computed from X β + Z r[codes]."""
    from scipy import stats

    d = bm.datasets.load("sleepstudy")
    model = bm.Model("Reaction ~ Days + (Days | Subject)", d, parameterization="noncentered")
    m = model.build()
    rng = np.random.default_rng(1)
    point = {k: rng.normal(size=np.shape(v)) * 0.2 for k, v in m.initial_point().items()}
    outs = m.replace_rvs_by_values([m["beta"], m["r_Subject"], m["sigma"]])
    f = m.compile_fn(outs, inputs=m.value_vars, on_unused_input="ignore")
    beta, r, sigma = f(point)
    D = model.design
    b = D.blocks[0]
    mu = D.X @ beta + np.sum(b.Z * r[b.codes], axis=1)
    expected = stats.norm(mu, sigma).logpdf(D.y).sum()
    loglik = m.compile_fn(m.observedlogp, inputs=m.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(loglik, expected, rtol=1e-8)


def test_prior_summary_lists_every_prior_and_user_overrides():
    d = bm.datasets.load("sleepstudy")
    m = bm.Model(
        "Reaction ~ Days + (Days | Subject)",
        d,
        priors={"sd_Subject": bm.Prior("half_normal", sigma=50), "corr_Subject": bm.Prior("lkj", eta=2), "beta[Days]": bm.Prior("normal", mu=0, sigma=10)},
    )
    ps = m.prior_summary()
    assert set(ps.index) == {"Intercept", "beta[Days]", "sigma", "sd_Subject[Intercept]", "sd_Subject[Days]", "corr_Subject"}
    assert ps.loc["corr_Subject", "prior"] == "lkj(eta=2)" and ps.loc["corr_Subject", "source"] == "user"
    assert ps.loc["sd_Subject[Days]", "prior"] == "half_normal(sigma=50)"
    assert ps.loc["sigma", "source"] == "default"
    # default rules are scaled to the data
    sd_y = d.Reaction.std()
    assert ps.loc["Intercept", "prior"] == f"normal(mu={d.Reaction.mean():.4g}, sigma={2.5 * sd_y:.4g})"


def test_decov_and_relative_priors_build():
    d = bm.datasets.load("sleepstudy")
    m = bm.Model("Reaction ~ Days + (Days | Subject)", d, priors={"Subject": bm.Prior("decov", relative=True)})
    assert "sd_Subject[Days]" not in m.prior_summary().index
    free, det = names(bm.Model("Reaction ~ Days + (Days | Subject)", d, priors={"Subject": bm.Prior("decov", relative=True)}, parameterization="noncentered").build())
    assert {"_tau_Subject", "_pi_Subject"} <= free and "sd_Subject" in det
    m2 = bm.Model("Reaction ~ Days + (1 | Subject)", d, priors={"sd_Subject": bm.Prior("half_normal", sigma=1, relative=True)})
    assert "× sigma" in m2.prior_summary().loc["sd_Subject[Intercept]", "prior"]


def test_spec_is_frozen_and_serialisable():
    import dataclasses
    import json

    spec = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).spec
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.family = "poisson"  # type: ignore[misc]
    d = json.loads(json.dumps(spec.to_dict()))
    assert d["priors"]["corr_Subject"] == {"dist": "lkj", "eta": 1.0}
    assert d["parameterization"] == {"Subject": "marginal"}


def test_every_family_builds():
    rng = np.random.default_rng(0)
    n = 40
    df = {"x": rng.normal(size=n), "g": np.repeat(list("abcdefgh"), 5)}
    cases = {
        "gaussian": ("y ~ x + (1 | g)", rng.normal(size=n)),
        "student_t": ("y ~ x + (1 | g)", rng.normal(size=n)),
        "bernoulli": ("y ~ x + (1 | g)", rng.integers(0, 2, n)),
        "binomial": ("cbind(y, 5 - y) ~ x + (1 | g)", rng.integers(0, 6, n)),
        "poisson": ("y ~ x + (1 | g)", rng.poisson(3, n)),
        "negative_binomial": ("y ~ x + (1 | g)", rng.poisson(3, n)),
        "gamma": ("y ~ x + (1 | g)", rng.gamma(2, size=n)),
        "inverse_gaussian": ("y ~ x + (1 | g)", rng.gamma(2, size=n)),
        "beta": ("y ~ x + (1 | g)", rng.uniform(0.05, 0.95, n)),
    }
    import pandas as pd

    for fam, (f, y) in cases.items():
        m = bm.Model(f, pd.DataFrame({**df, "y": y}), family=fam).build()
        lp = m.compile_logp()(m.initial_point())
        assert np.isfinite(lp), fam


def test_auto_picks_marginal_for_gaussian_and_noncentred_otherwise():
    sleep = bm.datasets.load("sleepstudy")
    assert bm.Model("Reaction ~ Days + (Days | Subject)", sleep).spec.marginal
    cbpp = bm.datasets.load("cbpp")
    spec = bm.Model("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, family="binomial").spec
    assert dict(spec.parameterization) == {"herd": "noncentered"}
    with pytest.raises(bm.BayesMixedError, match="needs family='gaussian'"):
        bm.Model("cbind(incidence, size - incidence) ~ (1 | herd)", cbpp, family="binomial", parameterization="marginal")


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("sleepstudy", "Reaction ~ Days + (Days || Subject)"),
        ("Pastes", "strength ~ 1 + (1 | batch/cask)"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
def test_marginal_loglik_equals_dense_multivariate_normal(name, formula):
    """The Woodbury/sufficient-statistics likelihood equals log N(y | Xβ, σ²I + Z G Zᵀ) built densely."""
    from scipy import stats

    from bayesmixed.marginal import sparse_z

    model = bm.Model(formula, bm.datasets.load(name), parameterization="marginal")
    m = model.build()
    rng = np.random.default_rng(4)
    point = {k: np.asarray(v) + rng.normal(size=np.shape(v)) * 0.3 for k, v in m.initial_point().items()}
    blocks = model.design.blocks
    wanted = [m["beta"], m["sigma"]] + [m[f"sd_{b.label}"] for b in blocks]
    wanted += [m[f"corr_{b.label}"] for b in blocks if b.correlated]
    f = m.compile_fn(m.replace_rvs_by_values(wanted), inputs=m.value_vars, on_unused_input="ignore")
    vals = f(point)
    beta, sigma, sds = vals[0], vals[1], vals[2 : 2 + len(blocks)]
    corrs = iter(vals[2 + len(blocks) :])
    G = []
    for b, sd in zip(blocks, sds):
        R = next(corrs) if b.correlated else np.eye(b.k)
        G.append(np.kron(np.eye(b.n_levels), np.diag(sd) @ R @ np.diag(sd)))
    from scipy.linalg import block_diag

    Z = sparse_z(model.design).toarray()
    V = sigma**2 * np.eye(model.design.n) + Z @ block_diag(*G) @ Z.T
    expected = stats.multivariate_normal(model.design.X @ beta, V).logpdf(model.design.y)
    pot = m.compile_fn(m.potentiallogp, inputs=m.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(pot, expected, rtol=1e-7)
