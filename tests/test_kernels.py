"""The numba kernels used for large (draws × rows) arrays equal the numpy path they replace."""

from __future__ import annotations

import numpy as np
import pytest

from bayesmixed import _kernels

pytest.importorskip("numba")


@pytest.mark.parametrize("k", [1, 2, 3])
def test_add_term_equals_numpy(k):
    rng = np.random.default_rng(k)
    S, n, J = 7, 501, 13
    r = rng.standard_normal((S, J, k))
    codes = rng.integers(0, J, n)
    Z = np.ones((n, 1)) if k == 1 else rng.standard_normal((n, k))
    base = rng.standard_normal((S, n))
    expected = base + np.einsum("snk,nk->sn", r[:, codes, :], Z)
    got = base.copy()
    _kernels.add_term(got, r, codes.astype(np.int32), Z, intercept_only=(k == 1))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_gaussian_logpdf_equals_scipy():
    from scipy import stats

    rng = np.random.default_rng(0)
    S, n = 5, 300
    mu = rng.standard_normal((S, n))
    y = rng.standard_normal(n)
    sigma = rng.uniform(0.2, 3.0, S)
    expected = stats.norm.logpdf(y, mu, sigma[:, None])
    np.testing.assert_allclose(_kernels.gaussian_logpdf_inplace(mu.copy(), y, sigma), expected, rtol=1e-12)


def test_large_fits_use_the_kernels_and_agree(monkeypatch):
    """A fit's pointwise log-likelihood and linear predictor are the same through either path."""
    import bayesmixed as bm
    from bayesmixed.loglik import pointwise_loglik
    from bayesmixed.summaries import linear_predictor

    model = bm.Model("Reaction ~ Days + (Days | Subject) + (1 | grp)",
                     bm.datasets.load("sleepstudy").assign(grp=lambda d: (d["Days"] % 3).astype(str)))
    fit = model.fit(draws=40, tune=40, chains=1, seed=2, progressbar=False)
    ll_np = pointwise_loglik(fit.idata, model.design, "gaussian", "identity")
    eta_np = linear_predictor(fit.idata, model.design)
    monkeypatch.setattr(_kernels, "BIG", 1)
    calls = []
    real = _kernels.add_term
    monkeypatch.setattr(_kernels, "add_term", lambda *a, **kw: calls.append(1) or real(*a, **kw))
    ll_nb = pointwise_loglik(fit.idata, model.design, "gaussian", "identity")
    eta_nb = linear_predictor(fit.idata, model.design)
    assert calls  # the kernel path ran
    np.testing.assert_allclose(ll_nb, ll_np, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(eta_nb, eta_np, rtol=1e-10, atol=1e-10)
