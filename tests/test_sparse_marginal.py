"""The sparse-Cholesky marginal likelihood of multi-term Gaussian models (bayesmixed.sparse_marginal and its
PyTensor Op) against dense linear algebra: log-determinant, quadratic form, exact gradients, conditional draws,
and the whole model's log density against the multivariate normal density of y."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy import stats

import bayesmixed as bm
from bayesmixed import sparse_marginal as sm
from bayesmixed.design.matrices import fixed_design, sparse_z


def _designs():
    rng = np.random.default_rng(1)
    n = 240
    df = pd.DataFrame({"g": rng.integers(0, 12, n).astype(str), "h": rng.integers(0, 7, n).astype(str),
                       "x": rng.normal(size=n), "y": rng.normal(size=n)})
    df["gh"] = df.g + ":" + rng.integers(0, 3, n).astype(str)
    yield "crossed+nested, slopes", bm.Model("y ~ x + (1 + x | g) + (1 | h) + (x || gh)", df).design
    yield "Penicillin", bm.Model("diameter ~ 1 + (1 | plate) + (1 | sample)", bm.datasets.load("Penicillin")).design
    yield "Pastes", bm.Model("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("Pastes")).design


DESIGNS = list(_designs())


def _random_factors(pl, rng):
    lam = np.zeros(pl.n_lam)
    for g, k in enumerate(pl.group_k):
        F = np.tril(rng.normal(size=(k, k))) + 2 * np.eye(k)
        lam[pl.group_off[g] : pl.group_off[g] + k * k] = F.ravel()
    return lam


def _dense(design, pl, lam, s2, c):
    Z = sparse_z(design)
    if pl.p:
        Z = sp.hstack([sp.csr_matrix(fixed_design(design)[0]), Z])
    M = (Z.T @ Z).toarray()
    Lam = np.zeros((pl.Q, pl.Q))
    for a in range(len(pl.node_group)):
        g, o = pl.node_group[a], pl.node_off[a]
        k = pl.group_k[g]
        Lam[o : o + k, o : o + k] = lam[pl.group_off[g] : pl.group_off[g] + k * k].reshape(k, k)
    A = Lam.T @ M @ Lam + s2 * np.eye(pl.Q)
    u = Lam.T @ c
    return np.linalg.slogdet(A)[1], u @ np.linalg.solve(A, u), A, Lam


@pytest.mark.parametrize("name,design", DESIGNS, ids=[d[0] for d in DESIGNS])
@pytest.mark.parametrize("fixed", [False, True], ids=["beta sampled", "beta integrated"])
def test_log_determinant_quadratic_form_and_gradients_match_dense_algebra(name, design, fixed):
    p = len(design.x_names) if fixed else 0
    rng = np.random.default_rng(7)
    pl = sm.plan(design, p)
    lam, s2, c = _random_factors(pl, rng), 0.7, rng.normal(size=pl.Q)
    ld, q, g_ld, g_q, ld_s2, q_s2, g_c = sm.loglik_parts(lam, s2, c, pl)
    ld_d, q_d, _, _ = _dense(design, pl, lam, s2, c)
    assert ld == pytest.approx(ld_d, rel=1e-10) and q == pytest.approx(q_d, rel=1e-9)
    h = 1e-6
    for i in range(pl.n_lam):  # every factor entry, against central differences of the dense formula
        e = np.zeros(pl.n_lam)
        e[i] = h
        up, dn = _dense(design, pl, lam + e, s2, c), _dense(design, pl, lam - e, s2, c)
        assert g_ld[i] == pytest.approx((up[0] - dn[0]) / (2 * h), rel=1e-5, abs=1e-5)
        assert g_q[i] == pytest.approx((up[1] - dn[1]) / (2 * h), rel=1e-5, abs=1e-5)
    up, dn = _dense(design, pl, lam, s2 + h, c), _dense(design, pl, lam, s2 - h, c)
    assert ld_s2 == pytest.approx((up[0] - dn[0]) / (2 * h), rel=1e-5)
    assert q_s2 == pytest.approx((up[1] - dn[1]) / (2 * h), rel=1e-5)
    for i in rng.choice(pl.Q, size=min(pl.Q, 8), replace=False):
        e = np.zeros(pl.Q)
        e[i] = h
        fd = (_dense(design, pl, lam, s2, c + e)[1] - _dense(design, pl, lam, s2, c - e)[1]) / (2 * h)
        assert g_c[i] == pytest.approx(fd, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name,design", DESIGNS[:2], ids=[d[0] for d in DESIGNS[:2]])
def test_conditional_draws_have_the_dense_mean_and_covariance(name, design):
    rng = np.random.default_rng(3)
    pl = sm.plan(design, len(design.x_names))
    lam, s2, c = _random_factors(pl, rng), 0.5, rng.normal(size=pl.Q)
    S = 20_000
    draws = sm.draw(np.tile(lam, (S, 1)), np.full(S, s2), c, pl, np.random.default_rng(0))
    _, _, A, Lam = _dense(design, pl, lam, s2, c)
    mean = Lam @ np.linalg.solve(A, Lam.T @ c)
    sd = np.sqrt(np.diag(s2 * Lam @ np.linalg.solve(A, Lam.T)))
    keep = sd > 0
    assert np.max(np.abs(draws.mean(0) - mean)[keep] / sd[keep]) < 5 / np.sqrt(S) * 4
    assert np.max(np.abs(draws.std(0)[keep] / sd[keep] - 1)) < 0.05


def test_nested_terms_do_not_fill_in():
    """Pupils in classes in schools: eliminating the finest term first (lme4's order) leaves the factor with
    no more nonzeros than the lower triangle of A."""
    rng = np.random.default_rng(0)
    rows = [(s, f"{s}_{c}", f"{s}_{c}_{p}") for s in range(6) for c in range(4) for p in range(5) for _ in range(3)]
    df = pd.DataFrame(rows, columns=["school", "cls", "pupil"])
    df["y"] = rng.normal(size=len(df))
    design = bm.Model("y ~ 1 + (1 | school) + (1 | cls) + (1 | pupil)", df).design
    pl = sm.plan(design, 1)
    n_lower = pl.Q + len(pl.pair_a) - len(np.unique(pl.pair_a[pl.pair_a == pl.pair_b]))  # scalar blocks: k = 1
    assert pl.nnz == n_lower
    assert pl.order == ("terms by levels, descending",)


def test_plan_gives_up_beyond_its_budget():
    """A factor that would need more nonzeros than allowed is refused before it is built."""
    design = DESIGNS[0][1]
    assert sm.plan(design, 0, max_nnz=10) is None
    with pytest.raises(ValueError, match="fixed-effect columns"):
        sm.plan(design, 1)  # the fixed block is all of X's columns or none


@pytest.mark.parametrize("name", ["Penicillin", "Pastes"])
def test_model_log_density_is_the_multivariate_normal_density_of_y(name):
    """The built marginal model's log density (fixed effects integrated out too) at a point equals the
    multivariate normal density of y with covariance σ²I + Z G Zᵀ + W S₀² Wᵀ plus the priors of θ and σ; its
    gradient matches central differences of the compiled log density."""
    formula = {"Penicillin": "diameter ~ 1 + (1 | plate) + (1 | sample)", "Pastes": "strength ~ 1 + (1 | batch/cask)"}
    m = bm.Model(formula[name], bm.datasets.load(name))
    assert m.spec.marginal
    model = m.build()
    logp = model.compile_logp()
    dlogp = model.compile_dlogp()
    point = {k: v + 0.3 for k, v in model.initial_point().items()}
    # the likelihood term alone: total minus the priors' log densities (the free variables are the SDs and σ)
    (pot,) = model.replace_rvs_by_values(model.potentials)
    lik = model.compile_fn(pot, inputs=model.value_vars, on_unused_input="ignore")(point)
    sds = {b.label: float(np.exp(point[f"_sd_{b.label}_log__"]).ravel()[0]) for b in m.design.blocks}
    sigma = float(np.exp(point["sigma_log__"]))
    from bayesmixed.marginal import gaussian_fixed_prior

    mu0, s0 = gaussian_fixed_prior(m.spec.prior_dict(), m.design)
    W = fixed_design(m.design)[0]
    Z = sparse_z(m.design).toarray()
    G = np.concatenate([np.full(b.n_levels, sds[b.label] ** 2) for b in m.design.blocks])
    V = sigma**2 * np.eye(m.design.n) + (Z * G) @ Z.T + (W * s0**2) @ W.T
    ref = stats.multivariate_normal(W @ mu0, V).logpdf(m.design.y)
    assert lik == pytest.approx(ref, rel=1e-9)
    g = dlogp(point)
    names = [v.name for v in model.value_vars]
    flat = np.concatenate([np.atleast_1d(point[k]).ravel() for k in names])

    def f(x):
        pt_, i = {}, 0
        for k in names:
            size = np.size(point[k])
            pt_[k] = x[i : i + size].reshape(np.shape(point[k]))
            i += size
        return logp(pt_)

    h = 1e-6
    for i in range(len(flat)):
        e = np.zeros_like(flat)
        e[i] = h
        assert g[i] == pytest.approx((f(flat + e) - f(flat - e)) / (2 * h), rel=1e-5, abs=1e-6)


def test_numba_and_python_backends_agree():
    """nutpie calls the Op through its numba registration; PyMC's default backend through ``perform``."""
    import pytensor

    m = bm.Model("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("Pastes"))
    model = m.build()
    point = {k: v - 0.2 for k, v in model.initial_point().items()}
    out = [model.compile_fn([model.logp(), *pytensor.grad(model.logp(), model.value_vars)], mode=mode)(point)
           for mode in ("FAST_COMPILE", "NUMBA")]
    for a, b in zip(*out):
        np.testing.assert_allclose(a, b, rtol=1e-10)


@pytest.mark.slow
def test_students_in_schools_fit_agrees_with_lme4_and_converges():
    """The model of the issue (20 schools x 10 students x 6 occasions, a school intercept and correlated student
    intercepts and slopes): every term integrated out, four chains converge, lme4's estimates inside the 90%
    intervals (models/schools_gpa.toml)."""
    from pathlib import Path

    from bayesmixed.modelfile import load_model_file, reference_table

    mf = load_model_file(Path(__file__).resolve().parent.parent / "models" / "schools_gpa.toml")
    fit = mf.model().fit(chains=4, draws=500, tune=500, seed=5, progressbar=False)
    assert fit.spec.marginal and fit.divergences == 0
    conv = fit.convergence()
    assert conv.r_hat.max() < 1.01 and conv.ess_bulk.min() > 400
    tab = reference_table(fit, mf.reference, prob=0.90)
    assert tab[~tab.boundary].inside.all(), tab.to_string()
