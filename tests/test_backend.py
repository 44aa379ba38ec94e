"""Structure of the built PyMC graph (no sampling): non-centred offsets, correlations, dims, priors."""

from __future__ import annotations

import numpy as np
import pandas as pd
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
    # the centred plate term samples its level means (intercept included), the other stays non-centred
    assert "_m_plate" in free and "_z_plate" not in free and "r_plate" in det
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


def test_auto_picks_marginal_for_gaussian_and_by_data_strength_otherwise():
    sleep = bm.datasets.load("sleepstudy")
    spec = bm.Model("Reaction ~ Days + (Days | Subject)", sleep).spec
    assert spec.marginal and "integrated out" in dict(spec.parameterization_reason)["Subject"]
    cbpp = bm.datasets.load("cbpp")
    # 56 rows: the one term is integrated out by adaptive quadrature (bayesmixed.policy; cheap at this size)
    spec = bm.Model("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, family="binomial").spec
    assert dict(spec.parameterization) == {"herd": "quadrature"} and spec.quadrature_nodes >= 5
    assert "quadrature" in dict(spec.parameterization_reason)["herd"]
    # grouseticks: the observation-level INDEX is integrated out; broods (strong given both variances) are centred
    # in a chain under locations, whose level means are integrated out of the broods' prior
    gt = bm.datasets.load("grouseticks")
    spec = bm.Model("TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX)", gt, family="poisson").spec
    assert dict(spec.parameterization) == {"BROOD": "centered", "LOCATION": "centered", "INDEX": "quadrature"}
    # weak data (one Bernoulli trial per row, five rows per level): the weak term is integrated out
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(30), 5)
    y = rng.binomial(1, 1 / (1 + np.exp(-rng.normal(0, 0.5, 30)[g])))
    spec = bm.Model("y ~ 1 + (1 | g)", pd.DataFrame({"y": y, "g": g}), family="bernoulli").spec
    assert dict(spec.parameterization) == {"g": "quadrature"}
    assert "weakly informed" in dict(spec.parameterization_reason)["g"]
    # the user's choice is kept, with no reason attached
    spec = bm.Model("cbind(incidence, size - incidence) ~ period + (1 | herd)", cbpp, family="binomial",
                    parameterization="noncentered").spec
    assert dict(spec.parameterization) == {"herd": "noncentered"} and spec.parameterization_reason == ()
    with pytest.raises(bm.BayesMixedError, match="needs family='gaussian'"):
        bm.Model("cbind(incidence, size - incidence) ~ (1 | herd)", cbpp, family="binomial", parameterization="marginal")


def test_pilot_sds_agree_with_lme4():
    """The pilot's method-of-moments SDs (which steer "auto") sit near lme4's REML/Laplace estimates."""
    from bayesmixed.autoparam import pilot

    pen = bm.Model("diameter ~ 1 + (1 | plate) + (1 | sample)", bm.datasets.load("Penicillin"), parameterization="noncentered")
    tau = {t.label: t.tau[0] for t in pilot(pen.design, "gaussian", "identity")}
    assert tau["plate"] == pytest.approx(0.8467, rel=0.05) and tau["sample"] == pytest.approx(1.9316, rel=0.05)
    cb = bm.Model("cbind(incidence, size - incidence) ~ period + (1 | herd)", bm.datasets.load("cbpp"), family="binomial")
    (herd,) = pilot(cb.design, "binomial", "logit")
    assert herd.tau[0] == pytest.approx(0.642, rel=0.2)
    assert herd.strong_share[0] == 1.0 and herd.choice == "centered"


def test_of_crossed_centred_terms_the_one_with_most_rows_per_level_carries_the_intercept():
    """InstEval (2 chains x 1000): the intercept in the 2972 students' means gave it bulk ESS 32 (R-hat 1.04);
    in the 14 departments' means, ESS 648. Penicillin: 24 plates of 6 rows, 6 samples of 24 rows."""
    pen = bm.datasets.load("Penicillin")
    for formula in ("diameter ~ 1 + (1 | plate) + (1 | sample)", "diameter ~ 1 + (1 | sample) + (1 | plate)"):
        m = bm.Model(formula, pen, parameterization="centered").build()
        free = {v.name for v in m.free_RVs}
        assert "_m_sample" in free and "_m_plate" not in free, formula
        # the other centred term: centred contrasts and a non-centred mean (backends.pymc._split_mean_effects)
        assert {"_w_plate", "_zbar_plate"} <= free and "r_plate" in {v.name for v in m.deterministics}, formula
    # a non-centred term never carries it
    m = bm.Model("diameter ~ 1 + (1 | plate) + (1 | sample)", pen,
                 parameterization={"plate": "centered", "sample": "noncentered"}).build()
    assert "_m_plate" in {v.name for v in m.free_RVs}


def test_centred_term_carries_the_intercept():
    """A centred term with an intercept samples its level means m_j = β₀ + r_j (hierarchical
    centring); r_j stays a recorded variable, and the log density matches the plain centred form."""
    cbpp = bm.datasets.load("cbpp")
    f = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
    m = bm.Model(f, cbpp, family="binomial", parameterization="centered").build()
    free = {v.name for v in m.free_RVs}
    assert "_m_herd" in free and "r_herd" not in free
    assert "r_herd" in {v.name for v in m.deterministics}
    # without an intercept in X nothing is absorbed
    m0 = bm.Model("cbind(incidence, size - incidence) ~ 0 + period + (1 | herd)", cbpp, family="binomial",
                  parameterization="centered").build()
    assert "r_herd" in {v.name for v in m0.free_RVs}
    # same density: m = a + r maps the two forms onto each other with unit Jacobian
    plain = bm.Model(f, cbpp, family="binomial", parameterization="noncentered").build()
    pt_m = m.initial_point()
    rng = np.random.default_rng(1)
    pt_m = {k: v + 0.1 * rng.standard_normal(np.shape(v)) for k, v in pt_m.items()}
    r = pt_m["_m_herd"] - pt_m["_Intercept_c"]
    sd = np.exp(pt_m["_sd_herd_log__"])
    pt_nc = {**{k: v for k, v in pt_m.items() if k != "_m_herd"}, "_z_herd": r / sd}
    lp_c = m.compile_logp()(pt_m)
    lp_nc = plain.compile_logp(jacobian=True)(pt_nc)
    # non-centred density of z differs from the centred density of r by the Jacobian |dr/dz| = sd^J
    assert lp_c == pytest.approx(lp_nc - r.size * np.log(sd[0]), rel=1e-9, abs=1e-6)


@pytest.mark.parametrize(
    "name, formula",
    [
        ("sleepstudy", "Reaction ~ Days + (Days | Subject)"),
        ("sleepstudy", "Reaction ~ Days + (Days || Subject)"),
        ("Pastes", "strength ~ 1 + (1 | batch/cask)"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)"),
    ],
)
@pytest.mark.parametrize("integrate_fixed", [False, True])
def test_marginal_loglik_equals_dense_multivariate_normal(name, formula, integrate_fixed):
    """The Woodbury/sufficient-statistics likelihood equals log N(y | Xβ, σ²I + Z G Zᵀ) built densely; with the
    fixed effects integrated out too, log N(y | X_c μ₀, σ²I + Z G Zᵀ + X_c S₀² X_cᵀ) for their normal priors
    N(μ₀, S₀²) (X_c: the columns of X centred, the intercept's prior being on the centred scale)."""
    from scipy import stats

    from bayesmixed.backends.pymc import build_model
    from bayesmixed.marginal import sparse_z

    model = bm.Model(formula, bm.datasets.load(name), parameterization="marginal")
    m = build_model(model.spec, model.design, integrate_fixed=integrate_fixed)
    assert ("beta" in m.named_vars) is not integrate_fixed
    rng = np.random.default_rng(4)
    point = {k: np.asarray(v) + rng.normal(size=np.shape(v)) * 0.3 for k, v in m.initial_point().items()}
    # a correlated pair is sampled through signed SDs: a negative one must flip the reported correlation
    point.update({k: v * np.array([-1.0, 1.0]) for k, v in point.items() if k.startswith("_tau_")})
    blocks = model.design.blocks
    wanted = [m["sigma"]] + [m[f"sd_{b.label}"] for b in blocks]
    wanted += [m[f"corr_{b.label}"] for b in blocks if b.correlated]
    f = m.compile_fn(m.replace_rvs_by_values(wanted), inputs=m.value_vars, on_unused_input="ignore")
    vals = f(point)
    sigma, sds = vals[0], vals[1 : 1 + len(blocks)]
    corrs = iter(vals[1 + len(blocks) :])
    G = []
    for b, sd in zip(blocks, sds):
        R = next(corrs) if b.correlated else np.eye(b.k)
        G.append(np.kron(np.eye(b.n_levels), np.diag(sd) @ R @ np.diag(sd)))
    from scipy.linalg import block_diag

    Z = sparse_z(model.design).toarray()
    V = sigma**2 * np.eye(model.design.n) + Z @ block_diag(*G) @ Z.T
    X = model.design.X
    if integrate_fixed:
        priors = model.spec.prior_dict()
        keys = ["Intercept" if c == "Intercept" else f"beta[{c}]" for c in model.design.x_names]
        mu0 = np.array([priors[k].kwargs["mu"] for k in keys], dtype=float)
        s0 = np.array([priors[k].kwargs["sigma"] for k in keys], dtype=float)
        Xc = np.where([c == "Intercept" for c in model.design.x_names], X, X - X.mean(axis=0))
        mean, V = Xc @ mu0, V + Xc @ np.diag(s0**2) @ Xc.T
    else:
        beta = m.compile_fn(m.replace_rvs_by_values([m["beta"]])[0], inputs=m.value_vars, on_unused_input="ignore")(point)
        mean = X @ beta
    expected = stats.multivariate_normal(mean, V).logpdf(model.design.y)
    pot = m.compile_fn(m.potentiallogp, inputs=m.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(pot, expected, rtol=1e-7)


def test_conditional_random_effects_match_the_dense_gaussian():
    """The level-by-level conditional draws of a one-term marginal model have the mean and covariance of the
    dense q × q formula (b | y, β, θ, σ ~ N(Λ A⁻¹ Λᵀ Zᵀ r, σ² Λ A⁻¹ Λᵀ), A = ΛᵀZᵀZΛ + σ² I)."""
    import arviz as az

    from bayesmixed import marginal as M

    design = bm.Model("log_radon ~ floor + (floor | county)", bm.datasets.load("radon")).design
    S = 4000  # one posterior point repeated: the draws' spread is the conditional covariance
    beta, sigma, sd, rho = np.array([1.5, -0.6]), 0.7, np.array([0.3, 0.25]), -0.4
    corr = np.array([[1.0, rho], [rho, 1.0]])
    idata = az.from_dict(posterior={
        "beta": np.broadcast_to(beta, (1, S, 2)).copy(), "sigma": np.full((1, S), sigma),
        "sd_county": np.broadcast_to(sd, (1, S, 2)).copy(), "corr_county": np.broadcast_to(corr, (1, S, 2, 2)).copy(),
    })
    r = M.draw_random_effects(idata, design, seed=3)["r_county"][0].reshape(S, -1)
    st = M.sufficient_stats(design)
    Lam = M._lambda(design, [sd], [corr]).toarray()
    gam = np.array([beta[0] + beta[1] * st.x_means[0], beta[1] * st.x_scales[0]])
    ZtZ = (M.sparse_z(design).T @ M.sparse_z(design)).toarray()
    A = Lam.T @ ZtZ @ Lam + sigma**2 * np.eye(st.q)
    mean = Lam @ np.linalg.solve(A, Lam.T @ (st.Zty - st.ZtW @ gam))
    cov = sigma**2 * Lam @ np.linalg.solve(A, Lam.T)
    se = np.sqrt(np.diag(cov) / S)
    assert np.all(np.abs(r.mean(axis=0) - mean) < 5 * se)
    emp = np.cov(r[:, :6], rowvar=False)  # the first three counties, intercept and slope
    np.testing.assert_allclose(emp, cov[:6, :6], atol=0.1 * np.abs(cov[:6, :6]).max())


@pytest.mark.parametrize(
    "name, formula",
    [("radon", "log_radon ~ floor + (floor | county)"), ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)")],
)
def test_conditional_fixed_effects_match_the_dense_gaussian(name, formula):
    """With the fixed effects integrated out, their draws given θ and σ have the mean and covariance of the
    dense conditional γ | y ~ N(C (Wᵀ V⁻¹ y + S₀⁻² μ₀), C), C = (Wᵀ V⁻¹ W + S₀⁻²)⁻¹, V = σ²I + Z G Zᵀ, on the
    centred and scaled design W (one-term level-by-level path: radon; dense path: Penicillin)."""
    import arviz as az

    from bayesmixed import marginal as M

    model = bm.Model(formula, bm.datasets.load(name))
    design = model.design
    S = 3000  # one posterior point repeated
    sigma = 0.7 if name == "radon" else 0.55
    post = {"sigma": np.full((1, S), sigma)}
    sds, corrs = [], []
    for b in design.blocks:
        sd = np.array([0.3, 0.25]) if b.k == 2 else np.array([1.2])
        corr = np.array([[1.0, -0.4], [-0.4, 1.0]]) if b.correlated else None
        post[f"sd_{b.label}"] = np.broadcast_to(sd, (1, S, b.k)).copy()
        if corr is not None:
            post[f"corr_{b.label}"] = np.broadcast_to(corr, (1, S, 2, 2)).copy()
        sds.append(sd)
        corrs.append(corr)
    fixed_prior = M.gaussian_fixed_prior(model.spec.prior_dict(), design)
    assert fixed_prior is not None
    draws = M.draw_random_effects(az.from_dict(posterior=post), design, seed=5, fixed_prior=fixed_prior)
    beta = draws["beta"][0]
    assert beta.shape == (S, len(design.x_names))
    W, means, scales = M.fixed_design(design)
    names = list(design.x_names)
    slopes = [j for j, c in enumerate(names) if c != "Intercept"]
    gam = np.column_stack(
        ([beta[:, names.index("Intercept")] + beta[:, slopes] @ means] if "Intercept" in names else [])
        + [beta[:, slopes] * scales]
    )
    Lam = M._lambda(design, sds, corrs).toarray()
    Z = M.sparse_z(design).toarray()
    V = sigma**2 * np.eye(design.n) + Z @ Lam @ Lam.T @ Z.T
    mu0, s0 = fixed_prior
    C = np.linalg.inv(W.T @ np.linalg.solve(V, W) + np.diag(s0**-2.0))
    mean = C @ (W.T @ np.linalg.solve(V, design.y) + mu0 / s0**2)
    se = np.sqrt(np.diag(C) / S)
    assert np.all(np.abs(gam.mean(axis=0) - mean) < 5 * se)
    np.testing.assert_allclose(np.cov(gam, rowvar=False).reshape(C.shape), C, rtol=0.15, atol=1e-12)
    # and the random effects are drawn given those fixed effects: their mean is the dense joint conditional's
    r = np.concatenate([draws[f"r_{b.label}"][0].reshape(S, -1) for b in design.blocks], axis=1)
    G = Lam @ Lam.T
    Vfull = V + W @ np.diag(s0**2) @ W.T
    r_mean = G @ Z.T @ np.linalg.solve(Vfull, design.y - W @ mu0)
    r_sd = np.sqrt(np.diag(G - G @ Z.T @ np.linalg.solve(Vfull, Z @ G)))
    assert np.all(np.abs(r.mean(axis=0) - r_mean) < 5 * r_sd / np.sqrt(S) + 1e-9)
