"""One GLMM term integrated out by adaptive Gauss–Hermite quadrature: the family kernels, the integrated
log-likelihood against brute-force integration, the node count, the gradient the sampler sees, the exact draws
of the integrated effects, and a recovery check."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import bayesmixed as bm
from bayesmixed import _quad_kernels as QK
from bayesmixed import quadrature as Q

FAMILIES = [("poisson", "log"), ("bernoulli", "logit"), ("binomial", "logit"), ("binomial", "probit"),
            ("binomial", "cloglog"), ("bernoulli", "cloglog")]


def _kernel_name(family, link):
    return bm.families.get_family(family, link).quadrature_kernel


@pytest.mark.parametrize("family,link", FAMILIES, ids=[f"{f}-{l}" for f, l in FAMILIES])
def test_kernels_are_the_log_density_and_its_derivatives(family, link):
    k = QK.kernel(_kernel_name(family, link))
    h = 1e-5
    inv = {"log": np.exp, "logit": special.expit, "probit": special.ndtr, "cloglog": lambda e: -np.expm1(-np.exp(e))}
    for y, t in [(0, 1), (1, 1), (3, 7), (7, 7), (0, 5), (12, 1)]:
        if family != "poisson" and y > t or family == "bernoulli" and t != 1:
            continue
        for eta in np.linspace(-6, 4, 21):
            lp, d1, d2, d3 = k(float(y), eta, float(t))
            up, dn = k(float(y), eta + h, float(t)), k(float(y), eta - h, float(t))
            assert d1 == pytest.approx((up[0] - dn[0]) / (2 * h), rel=1e-6, abs=1e-7)
            assert d2 == pytest.approx((up[1] - dn[1]) / (2 * h), rel=1e-6, abs=1e-7)
            assert d3 == pytest.approx((up[2] - dn[2]) / (2 * h), rel=1e-5, abs=1e-7)
            assert d2 <= 0  # log-concave in η
            mu = inv[link](eta)
            if family != "poisson" and not 1e-6 < mu < 1 - 1e-6:
                continue  # SciPy's 1 − μ rounds there: the kernel's log(1 − μ) = −e^η (cloglog) is the exact one
            ref = stats.poisson.logpmf(y, mu) if family == "poisson" else stats.binom.logpmf(y, t, mu)
            full = lp + QK.const(np.array([float(y)]), None if family == "poisson" else np.array([float(t)]))[0]
            assert full == pytest.approx(ref, rel=1e-8, abs=1e-8)


def _toy(n_levels=12, rows=(1, 4), family="poisson", seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(rows[0], rows[1] + 1, n_levels)
    g = np.repeat(np.arange(n_levels), sizes)
    n = len(g)
    x = rng.normal(size=n)
    b = rng.normal(0, 0.8, n_levels)
    eta = 0.5 + 0.3 * x + b[g]
    if family == "poisson":
        y = rng.poisson(np.exp(eta))
        df = pd.DataFrame({"y": y, "x": x, "g": [f"g{i}" for i in g]})
        formula = "y ~ x + (1 | g)"
    else:
        t = rng.integers(1, 6, n)
        y = rng.binomial(t, special.expit(eta))
        df = pd.DataFrame({"y": y, "f": t - y, "x": x, "g": [f"g{i}" for i in g]})
        formula = "cbind(y, f) ~ x + (1 | g)"
    return bm.Model(formula, df, family=family, parameterization={"g": "quadrature"})


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_integrated_log_likelihood_matches_brute_force_integration(family):
    m = _toy(family=family)
    d, (blk,) = m.design, m.design.blocks
    link = m.spec.link
    eta = 0.4 + 0.2 * np.asarray(d.X[:, 1])
    tau = 0.9
    got = Q.level_loglik(_kernel_name(family, link), d, blk, eta, tau, 15)
    grid = np.linspace(-8, 8, 40_001)
    dx = grid[1] - grid[0]
    y = np.asarray(d.y, float)
    t = None if d.trials is None else np.asarray(d.trials, float)
    total = 0.0
    for j in range(blk.n_levels):
        rows = np.flatnonzero(blk.codes == j)
        lp = stats.norm.logpdf(grid, 0, tau)
        for i in rows:
            mu = np.exp(eta[i] + grid) if family == "poisson" else special.expit(eta[i] + grid)
            lp = lp + (stats.poisson.logpmf(y[i], mu) if family == "poisson" else stats.binom.logpmf(y[i], t[i], mu))
        total += lp.max() + np.log(np.exp(lp - lp.max()).sum() * dx)
    assert got == pytest.approx(total, abs=1e-6)


def test_node_count_is_the_fewest_within_tolerance():
    m = _toy(n_levels=40, rows=(1, 1))
    d, (blk,) = m.design, m.design.blocks
    eta = np.full(d.n, 0.5)
    K, err = Q.choose_nodes("poisson_log", d, blk, eta, [0.8])
    assert K in Q.NODE_CHOICES and err <= Q.NODE_TOL
    ref = Q.level_loglik("poisson_log", d, blk, eta, 0.8, Q.REF_NODES)
    for fewer in (c for c in Q.NODE_CHOICES if c < K):
        assert abs(Q.level_loglik("poisson_log", d, blk, eta, 0.8, fewer) - ref) > Q.NODE_TOL


def test_model_log_density_and_its_gradient():
    """The built model's log density (quadrature term) equals NumPy's quadrature at the same point, and its
    gradient (through the nodes' motion too) equals central differences."""
    import pytensor

    m = _toy(n_levels=30, rows=(1, 3))
    model = m.build()
    point = {k: v + 0.2 for k, v in model.initial_point().items()}
    (pot,) = model.replace_rvs_by_values(model.potentials)
    lik = float(model.compile_fn(pot, inputs=model.value_vars, on_unused_input="ignore")(point))
    f_eta = model.compile_fn(model.replace_rvs_by_values([model["beta"]])[0], inputs=model.value_vars,
                             on_unused_input="ignore")
    beta = f_eta(point)
    eta = np.asarray(m.design.X) @ beta
    tau = float(np.exp(point["_sd_g_log__"]).ravel()[0])
    (blk,) = m.design.blocks
    assert lik == pytest.approx(Q.level_loglik("poisson_log", m.design, blk, eta, tau, m.spec.quadrature_nodes),
                                rel=1e-10)
    logp = model.compile_logp()
    grad = model.compile_fn(pytensor.grad(model.logp(), model.value_vars), inputs=model.value_vars)(point)
    names = [v.name for v in model.value_vars]
    h = 1e-6
    for name, g in zip(names, grad):
        for i in range(np.size(point[name])):
            up, dn = dict(point), dict(point)
            a = np.array(point[name], dtype=float, copy=True).ravel()
            a[i] += h
            up[name] = a.copy().reshape(np.shape(point[name]))
            a[i] -= 2 * h
            dn[name] = a.copy().reshape(np.shape(point[name]))
            fd = (logp(up) - logp(dn)) / (2 * h)
            assert np.ravel(g)[i] == pytest.approx(fd, rel=1e-5, abs=1e-6), name


def test_draws_follow_the_exact_conditional():
    """One row per level: the conditional of each effect is ∝ Poisson(y | e^(η+b)) N(b | 0, τ²); the draws
    pass a Kolmogorov–Smirnov test against its CDF computed on a fine grid."""
    rng = np.random.default_rng(4)
    n = 6
    y = np.array([0.0, 1.0, 3.0, 12.0, 40.0, 2.0])
    eta = rng.normal(0.5, 0.5, n)
    S = 4000
    f = QK.draw_kernel("poisson_log")
    ptr, rows = np.arange(n + 1, dtype=np.int64), np.arange(n, dtype=np.int64)
    draws = f(np.tile(eta, (S, 1)), np.full(S, 0.9), y, np.ones(n), np.ones(n), ptr, rows, 123)
    grid = np.linspace(-10, 10, 200_001)
    for j in range(n):
        lp = y[j] * (eta[j] + grid) - np.exp(eta[j] + grid) - 0.5 * grid**2 / 0.81
        cdf = np.cumsum(np.exp(lp - lp.max()))
        cdf /= cdf[-1]
        assert stats.kstest(draws[:, j], lambda v, c=cdf: np.interp(v, grid, c)).pvalue > 0.001, j


def test_draws_at_extreme_conditionals():
    """Binomial levels whose conditional sits far from zero (all failures or all successes of 30 trials, a wide
    prior, η of the other terms at ±6): the three-tangent hull stays valid and the draws follow the exact
    conditional (Kolmogorov–Smirnov against its CDF on a fine grid)."""
    y = np.array([0.0, 30.0, 0.0, 30.0, 15.0])
    t = np.full(5, 30.0)
    eta = np.array([6.0, -6.0, -6.0, 6.0, 0.0])
    tau = 8.0
    S = 3000
    ptr, rows = np.arange(6, dtype=np.int64), np.arange(5, dtype=np.int64)
    draws = QK.draw_kernel("binomial_logit")(np.tile(eta, (S, 1)), np.full(S, tau), y, t, np.ones(5), ptr, rows, 7)
    assert np.isfinite(draws).all()
    grid = np.linspace(-60, 60, 400_001)
    for j in range(5):
        e = eta[j] + grid
        lp = y[j] * e - t[j] * np.logaddexp(0.0, e) - 0.5 * grid**2 / tau**2
        cdf = np.cumsum(np.exp(lp - lp.max()))
        cdf /= cdf[-1]
        assert stats.kstest(draws[:, j], lambda v, c=cdf: np.interp(v, grid, c)).pvalue > 0.001, j


@pytest.mark.slow
def test_observation_level_effect_recovery():
    """Simulated overdispersed counts (60 groups x 6 rows, an observation-level SD of 0.5): ``auto`` integrates
    the observation-level term out; the truth lies inside the 95% intervals and the chains converge."""
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(60), 6)
    n = len(g)
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "g": [f"g{i}" for i in g], "obs": [f"o{i}" for i in range(n)]})
    truth = {"beta": {"Intercept": 1.0, "x": 0.4}, "sd": {"g": 0.6, "obs": 0.5}}
    sim = bm.simulate("y ~ x + (1 | g) + (1 | obs)", df, truth, family="poisson", seed=3)
    m = bm.Model("y ~ x + (1 | g) + (1 | obs)", sim, family="poisson")
    assert m.spec.param_of("obs") == "quadrature"
    fit = m.fit(chains=2, draws=600, tune=600, seed=2, progressbar=False)
    assert fit.divergences == 0 and fit.convergence().r_hat.max() < 1.02
    fx = fit.fixef(prob=0.95)
    for c, v in truth["beta"].items():
        assert fx.loc[c, "lower"] < v < fx.loc[c, "upper"], (c, fx.loc[c])
    vc = fit.varcorr(prob=0.95).set_index("group")
    for grp, v in truth["sd"].items():
        assert vc.loc[grp, "lower"] < v < vc.loc[grp, "upper"], (grp, vc.loc[grp])
    r = fit.idata.posterior["r_obs"]
    assert r.sizes["obs"] == n and np.isfinite(r.values).all()
