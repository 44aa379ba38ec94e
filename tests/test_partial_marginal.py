"""Partly marginal Gaussian models (one term integrated out given the others), nested hierarchical centring,
and one-term marginal models of any size: the likelihood against the dense Gaussian, the conditional draws
against the dense conditional, what ``auto`` picks, and agreement with the non-centred posterior."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import bayesmixed as bm
from bayesmixed import marginal as M
from conftest import assert_posteriors_agree


def _crossed_slopes(seed=0, J=12, H=7, n=300):
    """y ~ x + (1 + x | g) + (1 | h), simulated: a correlated pair in one term, crossed with another."""
    rng = np.random.default_rng(seed)
    g, h, x = rng.integers(0, J, n), rng.integers(0, H, n), rng.normal(size=n)
    b = rng.multivariate_normal([0, 0], [[0.6, 0.2], [0.2, 0.3]], size=J)
    y = 1.0 + 0.5 * x + b[g, 0] + b[g, 1] * x + rng.normal(0, 0.8, H)[h] + rng.normal(0, 0.7, n)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g], "h": [f"h{i}" for i in h]})


def _point_values(m, point, names):
    f = m.compile_fn(m.replace_rvs_by_values([m[n] for n in names]), inputs=m.value_vars, on_unused_input="ignore")
    return dict(zip(names, f(point)))


@pytest.mark.parametrize(
    "data, formula, param",
    [
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {"plate": "noncentered", "sample": "marginal"}),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {"plate": "marginal", "sample": "centered"}),
        ("crossed_slopes", "y ~ x + (1 + x | g) + (1 | h)", {"g": "marginal", "h": "noncentered"}),
        ("crossed_slopes", "y ~ x + (x || g) + (1 | h)", {"g": "marginal", "h": "centered"}),
    ],
)
def test_partial_marginal_loglik_equals_dense_gaussian(data, formula, param):
    """The potential of a partly marginal model equals log N(y − Xβ − Σ_other Z r | 0, σ²I + Z_t G_t Z_tᵀ) built
    densely, at a random point (a negative signed SD included, so the reported correlation's sign is checked)."""
    from bayesmixed.backends.pymc import build_model

    df = _crossed_slopes() if data == "crossed_slopes" else bm.datasets.load(data)
    model = bm.Model(formula, df, parameterization=param)
    spec, design = model.spec, model.design
    marg = [lab for lab, v in param.items() if v == "marginal"][0]
    assert spec.marginal_term == marg and not spec.marginal
    m = build_model(spec, design)
    assert "y" not in m.named_vars and "_marginal_loglik" in m.named_vars
    assert not any(v.name.endswith(f"_{marg}") and v.name.startswith(("_z_", "_m_", "r_")) for v in m.free_RVs)
    rng = np.random.default_rng(2)
    point = {k: np.asarray(v) + rng.normal(size=np.shape(v)) * 0.3 for k, v in m.initial_point().items()}
    point.update({k: v * np.array([-1.0, 1.0]) for k, v in point.items() if k.startswith("_tau_")})
    b = next(blk for blk in design.blocks if blk.label == marg)
    others = [blk for blk in design.blocks if blk.label != marg]
    names = ["beta", "sigma", f"sd_{marg}"] + [f"r_{o.label}" for o in others]
    names += [f"corr_{marg}"] if b.correlated else []
    v = _point_values(m, point, names)
    resid = design.y - design.X @ v["beta"]
    for o in others:
        resid = resid - np.sum(o.Z * v[f"r_{o.label}"][o.codes], axis=1)
    R = v[f"corr_{marg}"] if b.correlated else np.eye(b.k)
    sd = v[f"sd_{marg}"]
    if b.correlated:
        assert R[0, 1] != 0
    G = np.kron(np.eye(b.n_levels), np.diag(sd) @ R @ np.diag(sd))
    Zb = M._sparse_block(b, design.n).toarray()
    V = v["sigma"] ** 2 * np.eye(design.n) + Zb @ G @ Zb.T
    expected = stats.multivariate_normal(np.zeros(design.n), V).logpdf(resid)
    pot = m.compile_fn(m.potentiallogp, inputs=m.value_vars, on_unused_input="ignore")(point)
    np.testing.assert_allclose(pot, expected, rtol=1e-8)


def test_marginal_term_draws_match_the_dense_conditional():
    """Given β, σ, θ and the other term's effects, the drawn effects of the marginalised term have the dense
    conditional's mean Λ A⁻¹ Λᵀ Zᵀ r and covariance σ² Λ A⁻¹ Λᵀ (A = ΛᵀZᵀZΛ + σ²I)."""
    import arviz as az

    df = _crossed_slopes(seed=3)
    design = bm.Model("y ~ x + (1 + x | g) + (1 | h)", df, parameterization={"g": "marginal", "h": "noncentered"}).design
    S = 4000  # one posterior point repeated: the spread of the draws is the conditional covariance
    beta, sigma, sd, rho = np.array([1.1, 0.4]), 0.7, np.array([0.7, 0.5]), 0.3
    corr = np.array([[1.0, rho], [rho, 1.0]])
    r_h = np.random.default_rng(1).normal(0, 0.8, size=(7, 1))
    idata = az.from_dict(posterior={
        "beta": np.broadcast_to(beta, (1, S, 2)).copy(), "sigma": np.full((1, S), sigma),
        "sd_g": np.broadcast_to(sd, (1, S, 2)).copy(), "corr_g": np.broadcast_to(corr, (1, S, 2, 2)).copy(),
        "r_h": np.broadcast_to(r_h, (1, S, 7, 1)).copy(),
    })
    out = M.draw_marginal_term(idata, design, "g", seed=5)
    assert set(out) == {"r_g"} and out["r_g"].shape == (1, S, 12, 2)
    r = out["r_g"][0].reshape(S, -1)
    b, h = design.blocks
    Zb = M._sparse_block(b, design.n).toarray()
    resid = design.y - design.X @ beta - r_h[h.codes, 0]
    Lam = np.kron(np.eye(b.n_levels), np.diag(sd) @ np.linalg.cholesky(corr))
    A = Lam.T @ Zb.T @ Zb @ Lam + sigma**2 * np.eye(Lam.shape[0])
    mean = Lam @ np.linalg.solve(A, Lam.T @ Zb.T @ resid)
    cov = sigma**2 * Lam @ np.linalg.solve(A, Lam.T)
    assert np.all(np.abs(r.mean(axis=0) - mean) < 5 * np.sqrt(np.diag(cov) / S))
    np.testing.assert_allclose(np.cov(r[:, :6], rowvar=False), cov[:6, :6], atol=0.1 * np.abs(cov[:6, :6]).max())


def test_auto_integrates_out_the_largest_term_of_a_large_crossed_gaussian_model():
    """InstEval: 4114 coefficients are too many for the joint q × q algebra; the 2972 students' effects are
    integrated out given the lecturers and departments, which the pilot centres (strong levels)."""
    ie = bm.datasets.load("InstEval")
    model = bm.Model("y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", ie)
    assert dict(model.spec.parameterization) == {"s": "marginal", "d": "centered", "dept": "centered"}
    assert "integrated out exactly given the other terms" in dict(model.spec.parameterization_reason)["s"]
    assert model.spec.marginal_term == "s" and not model.spec.marginal
    m = model.build()
    free = {v.name for v in m.free_RVs}
    # nested centring: the lecturers' means are centred on their department's, which carry the intercept and
    # are integrated out of the lecturers' prior (drawn afterwards)
    assert {"_m_d", "_sd_s", "_sd_dept"} <= free and not {"_z_s", "_m_s", "r_s", "_m_dept"} & free
    assert "_Intercept_c" in free and "_parent_d" in m.named_vars and "_prior_m_d" in m.named_vars
    # the other families keep the pilot's per-term choice (nothing is integrated out)
    ie2 = ie.assign(y=(ie["y"] > 3).astype(int))
    b = bm.Model("y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", ie2, family="bernoulli")
    assert "marginal" not in dict(b.spec.parameterization).values()


def test_one_term_models_are_integrated_out_at_any_number_of_levels():
    """A one-term model of ≤ 2 coefficients per level goes marginal however many levels it has: its algebra is
    level by level: no q × q matrix is formed at all."""
    rng = np.random.default_rng(0)
    J = 2000
    g = np.arange(3 * J) % J
    df = pd.DataFrame({"y": rng.normal(size=3 * J) + rng.normal(size=J)[g], "x": rng.normal(size=3 * J),
                       "g": [f"g{i}" for i in g]})
    model = bm.Model("y ~ x + (1 | g)", df)
    assert model.spec.marginal
    st = M.sufficient_stats(model.design)
    assert st.level_ZtZ.shape == (J, 1, 1)
    assert all(np.size(getattr(st, f)) < J * J for f in st.__dataclass_fields__)
    np.testing.assert_array_equal(st.level_ZtZ[:, 0, 0], np.full(J, 3.0))
    model.build()  # builds from the per-level blocks


def test_level_crossprod_is_the_diagonal_blocks_of_ztz():
    design = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).design
    b = design.blocks[0]
    ZtZ = (M.sparse_z(design).T @ M.sparse_z(design)).toarray()
    blocks = M.level_crossprod(b)
    for j in (0, 7, 17):
        np.testing.assert_allclose(blocks[j], ZtZ[2 * j : 2 * j + 2, 2 * j : 2 * j + 2])


def test_nested_centred_terms_integrate_the_head_out_of_the_childs_prior():
    """Pastes (1 | batch/cask), centred: the batches' means carry the intercept and are integrated out of the
    casks' prior: the potential equals log N(m_cask | β₀ 1, τ_cask² I + τ_batch² P Pᵀ) built densely."""
    from bayesmixed.backends.pymc import _centring_chain, centring_head

    pastes = bm.datasets.load("Pastes")
    model = bm.Model("strength ~ 1 + (1 | batch/cask)", pastes, parameterization="centered")
    chain = _centring_chain(model.spec, model.design)
    assert [b.label for b, _ in chain] == ["batch", "batch:cask"]
    head, child, parent = centring_head(model.spec, model.design)
    assert (head.label, child.label) == ("batch", "batch:cask") and len(parent) == child.n_levels == 30
    m = model.build()
    free = {v.name for v in m.free_RVs}
    assert "_m_batch:cask" in free and "_m_batch" not in free and "r_batch" not in m.named_vars
    rng = np.random.default_rng(0)
    point = {k: np.asarray(v) + rng.normal(size=np.shape(v)) * 0.2 for k, v in m.initial_point().items()}
    v = _point_values(m, point, ["_Intercept_c", "sd_batch", "sd_batch:cask", "_m_batch:cask"])
    P = np.eye(head.n_levels)[parent]
    V = v["sd_batch:cask"][0] ** 2 * np.eye(child.n_levels) + v["sd_batch"][0] ** 2 * P @ P.T
    expected = stats.multivariate_normal(np.full(child.n_levels, v["_Intercept_c"]), V).logpdf(v["_m_batch:cask"][:, 0])
    got = m.compile_fn(m.replace_rvs_by_values([m["_prior_m_batch:cask"]])[0], inputs=m.value_vars,
                       on_unused_input="ignore")(point)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_centring_head_draws_match_the_dense_conditional():
    """m_A − β₀ given the children's means: N(τ_A² Pᵀe / (τ_C² + n τ_A²), τ_A²τ_C² / (τ_C² + n τ_A²)) per level
    (the dense Gaussian conditional of N(0, τ_A² I) under e ~ N(P r_A, τ_C² I)); r_C = m_C − β₀ − r_A[parent]."""
    import arviz as az

    from bayesmixed.backends.pymc import centring_head
    from bayesmixed.marginal import draw_centring_head

    model = bm.Model("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("Pastes"), parameterization="centered")
    head, child, parent = centring_head(model.spec, model.design)
    S, b0, ta, tc = 20000, 60.0, 1.3, 2.9
    m_c = 60.0 + np.random.default_rng(1).normal(0, 3, size=child.n_levels)
    post = az.from_dict(posterior={
        "_Intercept_c": np.full((1, S), b0), "sd_batch": np.full((1, S, 1), ta), "sd_batch:cask": np.full((1, S, 1), tc),
        "_m_batch:cask": np.broadcast_to(m_c[:, None], (1, S, child.n_levels, 1)).copy(),
    }).posterior
    out = draw_centring_head(post, head, child, parent, seed=3)
    r_a = out["r_batch"][0, :, :, 0]
    P = np.eye(head.n_levels)[parent]
    cov = np.linalg.inv(np.eye(head.n_levels) / ta**2 + P.T @ P / tc**2)
    mean = cov @ P.T @ (m_c - b0) / tc**2
    assert np.all(np.abs(r_a.mean(axis=0) - mean) < 5 * np.sqrt(np.diag(cov) / S))
    np.testing.assert_allclose(r_a.var(axis=0), np.diag(cov), rtol=0.05)
    np.testing.assert_allclose(out["r_batch:cask"][0, :, :, 0], m_c - b0 - r_a[:, parent])


def test_a_head_with_slopes_keeps_its_sampled_level_means_in_the_chain():
    """(1 + x | a) + (1 | a:b), centred: the head has two coefficients, so its level means are sampled and the
    child's are centred on them; the density equals the plain centred one (the maps are shifts)."""
    rng = np.random.default_rng(0)
    a = np.repeat(np.arange(6), 40)
    bb = a * 5 + rng.integers(0, 5, len(a))
    x = rng.normal(size=len(a))
    df = pd.DataFrame({"y": 2 + x + rng.normal(0, 1, 6)[a] + rng.normal(0, 0.5, 30)[bb] + rng.normal(0, 0.3, len(a)),
                       "x": x, "a": [f"a{i}" for i in a], "b": [f"b{i}" for i in bb]})
    model = bm.Model("y ~ x + (1 + x | a) + (1 | a:b)", df, parameterization="centered")
    from bayesmixed.backends.pymc import _centring_chain, centring_head

    assert [b.label for b, _ in _centring_chain(model.spec, model.design)] == ["a", "a:b"]
    assert centring_head(model.spec, model.design) is None
    m = model.build()
    assert {"_m_a", "_m_a:b"} <= {v.name for v in m.free_RVs}
    point = {k: np.asarray(v) + rng.normal(size=np.shape(v)) * 0.2 for k, v in m.initial_point().items()}
    v = _point_values(m, point, ["sigma", "beta", "r_a", "r_a:b", "sd_a", "corr_a", "sd_a:b"])
    design = model.design
    mu = design.X @ v["beta"] + sum(np.sum(b.Z * v[f"r_{b.label}"][b.codes], axis=1) for b in design.blocks)
    G = np.diag(v["sd_a"]) @ v["corr_a"] @ np.diag(v["sd_a"])
    expected = stats.norm.logpdf(design.y, mu, v["sigma"]).sum()
    expected += stats.multivariate_normal(np.zeros(2), G).logpdf(v["r_a"]).sum()
    expected += stats.norm.logpdf(v["r_a:b"], 0, v["sd_a:b"]).sum()
    lp = m.compile_fn(m.logp(jacobian=False, sum=False), inputs=m.value_vars, on_unused_input="ignore")(point)
    names = [rv.name for rv in m.free_RVs]
    got = sum(float(np.sum(t)) for t, nme in zip(lp, names) if nme.startswith("_m_")) + float(np.sum(lp[-1]))
    assert got == pytest.approx(expected, rel=1e-9)


def test_dict_marginal_term_is_checked_before_compilation():
    df = _crossed_slopes()
    df["k"] = [f"k{i % 5}" for i in range(len(df))]
    with pytest.raises(bm.BayesMixedError, match="mark at most one such term 'marginal'"):
        bm.Model("y ~ x + (1 | g) + (1 | h) + (1 | k)", df, parameterization={"g": "marginal", "h": "marginal"})
    # every term marked is the whole-model marginal form
    assert bm.Model("y ~ x + (1 | g) + (1 | h)", df, parameterization={"g": "marginal", "h": "marginal"}).spec.marginal
    with pytest.raises(bm.BayesMixedError, match="mark at most one such term 'marginal'"):
        bm.Model("y ~ x + (1 + x | g) + (1 | h)", df.assign(y=(df.y > 1).astype(int)), family="bernoulli",
                 parameterization={"g": "marginal"})
    with pytest.raises(bm.BayesMixedError, match="'auto' applies to the whole model"):
        bm.Model("y ~ x + (1 | g) + (1 | h)", df, parameterization={"g": "auto"})
    # three coefficients per level: no closed form
    df3 = df.assign(x2=np.random.default_rng(0).normal(size=len(df)))
    with pytest.raises(bm.BayesMixedError, match="at most two coefficients per level"):
        bm.Model("y ~ x + (1 + x + x2 | g) + (1 | h)", df3, parameterization={"g": "marginal", "h": "centered"})


@pytest.mark.slow
@pytest.mark.parametrize(
    "data, formula, param",
    [
        ("radon", "log_radon ~ floor + (floor | county)", "marginal"),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", "marginal"),
        # the other term centred: non-centred, Penicillin's 6 samples of 24 rows each diverge now and then (1-5
        # divergences in 3 of 8 seeds before this session's compile changes, 6 of 8 after, 0 of 8 centred)
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {"plate": "marginal", "sample": "centered"}),
        ("Penicillin", "diameter ~ 1 + (1 | plate) + (1 | sample)", {"plate": "centered", "sample": "marginal"}),
    ],
)
def test_marginal_and_noncentred_posteriors_agree(data, formula, param):
    """Same posterior (means within Monte Carlo error, random effects included) from the marginalised model
    (every term, or one term given the others) and the non-centred one, on radon and Penicillin."""
    df = bm.datasets.load(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = [bm.Model(formula, df, parameterization=p).fit(draws=1000, tune=1000, chains=2, seed=s, progressbar=False)
                for p, s in ((param, 3), ("noncentered", 4))]
    blocks = bm.Model(formula, df).design.blocks
    assert fits[0].sampler_info["parameterization"] == (
        param if isinstance(param, dict) else {b.label: "marginal" for b in blocks})
    assert int(fits[0].idata.sample_stats.diverging.sum()) == 0
    assert_posteriors_agree(*fits, ["beta", "sigma"] + [f"{v}_{b.label}" for b in blocks for v in ("sd", "r")])


def test_advice_keeps_the_marginal_term_of_a_partly_marginal_model():
    from bayesmixed.diagnostics import _param_fix

    part = {"s": "marginal", "d": "centered", "dept": "centered"}
    assert _param_fix(part, "dept", "noncentered") == {"s": "marginal", "d": "centered", "dept": "noncentered"}
    assert _param_fix({"a": "marginal", "b": "marginal"}, "a", "centered") == {"a": "centered", "b": "noncentered"}
    # the dict it gives is a valid parameterization
    df = _crossed_slopes()
    fix = _param_fix({"g": "marginal", "h": "centered"}, "h", "noncentered")
    assert bm.Model("y ~ x + (1 | g) + (1 | h)", df, parameterization=fix).spec.marginal_term == "g"


@pytest.mark.parametrize("k", [1, 2, 3])
def test_small_solves_match_lapack(k):
    rng = np.random.default_rng(k)
    G = rng.normal(size=(7, 5, k, k))
    A = G @ np.swapaxes(G, -1, -2) + k * np.eye(k)
    B = rng.normal(size=(7, 5, k, 3))
    np.testing.assert_allclose(M._small_solve(A, B), np.linalg.solve(A, B), rtol=1e-10, atol=1e-12)
    eps = rng.normal(size=(7, 5, k))
    Lc = np.linalg.cholesky(A)
    np.testing.assert_allclose(np.einsum("...ba,...b->...a", Lc, M._small_chol_t_solve(A, eps)), eps, rtol=1e-10,
                               atol=1e-12)
