"""The one place that decides the parameterisation (bayesmixed.policy): its choices on the issue's models, the
hierarchical centring on group-level predictors, the shared limits with diagnose(), the progress lines of long
fits, and that diagnose()'s advice, followed, improves the fit."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed import _progress, policy


def _spec(formula, data, family="gaussian", **kw):
    return bm.Model(formula, bm.datasets.load(data) if isinstance(data, str) else data, family=family, **kw).spec


def test_multi_term_gaussian_models_are_integrated_out_jointly():
    spec = _spec("gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)", "schools_gpa")
    assert spec.marginal and "sparse Cholesky" in dict(spec.parameterization_reason)["school"]
    spec = _spec("diameter ~ 1 + (1 | plate) + (1 | sample)", "Penicillin")
    assert spec.marginal


def test_large_crossed_gaussian_model_integrates_one_term_given_the_others():
    spec = _spec("y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)", "InstEval")
    assert dict(spec.parameterization) == {"s": "marginal", "d": "centered", "dept": "centered"}
    assert "sparse factorisation" in dict(spec.parameterization_reason)["s"]


@pytest.mark.parametrize("data,formula,family,expected", [
    ("grouseticks", "TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX)", "poisson",
     {"BROOD": "centered", "LOCATION": "centered", "INDEX": "quadrature"}),
    ("epilepsy", "count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs)", "poisson",
     {"patient": "centered", "obs": "quadrature"}),
    ("cbpp", "cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | obs)", "binomial",
     {"herd": "noncentered", "obs": "quadrature"}),
    ("items_bernoulli", "correct ~ freq + type + age + (1 | person) + (1 | item)", "bernoulli",
     {"person": "centered", "item": "centered"}),
])
def test_glmm_choices(data, formula, family, expected):
    spec = _spec(formula, data, family)
    assert dict(spec.parameterization) == expected
    assert (spec.quadrature_nodes > 0) == ("quadrature" in expected.values())
    assert all(r.startswith("auto: ") for _, r in spec.parameterization_reason)


def test_a_non_log_concave_family_is_never_integrated_by_quadrature():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"y": rng.standard_t(4, 200), "g": np.repeat(np.arange(40), 5)})
    assert "quadrature" not in dict(_spec("y ~ 1 + (1 | g)", df, "student_t").parameterization).values()
    with pytest.raises(bm.BayesMixedError, match="not concave"):
        _spec("y ~ 1 + (1 | g)", df, "student_t", parameterization={"g": "quadrature"})


def test_group_level_predictors_enter_the_level_means_of_centred_terms():
    """freq and type are constant within items, age within persons: each enters the means of its term."""
    from bayesmixed.backends.pymc import _level_constant_columns

    m = bm.Model("correct ~ freq + type + age + (1 | person) + (1 | item)", bm.datasets.load("items_bernoulli"),
                 family="bernoulli")
    blocks = {b.label: b for b in m.design.blocks}
    cols = _level_constant_columns(m.design, [blocks["item"], blocks["person"]])
    names = list(m.design.x_names)
    assert {names[c] for c, _ in cols["item"]} == {"freq", "typeword"}
    assert {names[c] for c, _ in cols["person"]} == {"age"}
    model = m.build()
    assert {f"_Wlevel_item_{c}" for c, _ in cols["item"]} <= set(model.named_vars)
    # the same posterior as the plain centred form: the log densities differ by a constant shift of variables
    # (Jacobian 1), so at corresponding points they agree
    import pytensor  # noqa: F401

    plain = bm.Model("correct ~ freq + type + age + (1 | person) + (1 | item)", bm.datasets.load("items_bernoulli"),
                     family="bernoulli", parameterization="noncentered").build()
    assert "_z_item" in plain.named_vars and "_m_item" in model.named_vars


def test_diagnose_reads_the_policy_limits():
    assert policy.THRESHOLDS.r_hat_max == 1.01 and policy.THRESHOLDS.centre_share == 0.5
    from bayesmixed import autoparam, diagnostics, pooling

    assert pooling.STRONG_RATIO == policy.THRESHOLDS.strong_ratio
    assert autoparam.THRESHOLDS is policy.THRESHOLDS
    assert diagnostics.diagnose.__kwdefaults__["r_hat_max"] is None  # None: the policy's limit


def test_progress_lines_when_no_terminal(monkeypatch):
    """stderr that is not a terminal (a log file, CI) gets plain lines instead of a progress bar."""
    stream = io.StringIO()
    assert _progress.plain_progress_wanted(True, stream) and not _progress.plain_progress_wanted(False, stream)
    monkeypatch.setattr("sys.stderr", stream)
    fit = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).fit(
        chains=2, draws=300, tune=300, seed=1, progressbar=True)
    text = stream.getvalue()
    assert "bayesmixed: compiling the model" in text and "bayesmixed: model ready in" in text
    assert "bayesmixed: drawing the random effects that were integrated out" in text
    assert fit.idata.posterior.sizes["draw"] == 300
    stream.truncate(0)
    stream.seek(0)
    bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).fit(
        chains=2, draws=100, tune=100, seed=1, progressbar=False)
    assert "bayesmixed:" not in stream.getvalue()  # nothing without progressbar


class _FakeSampler:
    """A non-blocking sampler that tunes for two polls, then draws 100 a poll, then finishes."""

    def __init__(self):
        self.polls = 0

    @property
    def is_finished(self):
        self.polls += 1
        if self.polls < 12:
            raise TimeoutError  # what nutpie 0.16 does while the chains run
        return True

    def inspect(self):
        import arviz as az

        kept = max(0, (self.polls - 4) * 40)
        if not kept:
            return az.InferenceData()
        return az.from_dict(posterior={"a": np.zeros((2, min(kept, 300)))},
                            sample_stats={"diverging": np.zeros((2, min(kept, 300)), dtype=bool)})

    def wait(self):
        return "done"


def test_progress_lines_report_tuning_draws_and_time_left(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr(_progress.time, "sleep", lambda s: None)
    clock = iter(np.arange(0.0, 1000.0, 1.0))
    monkeypatch.setattr(_progress.time, "perf_counter", lambda: float(next(clock)))
    out = _progress.poll_nutpie(_FakeSampler(), draws=300, tune=300, chains=2, stream=stream, interval=2.0)
    assert out == "done"
    lines = stream.getvalue().splitlines()
    assert lines and lines[0].startswith("bayesmixed: tuning 2 chains (300 iterations each)")
    assert any("/300 draws per chain (2 chains), 0 divergences" in ln and "left" in ln for ln in lines)


@pytest.mark.slow
def test_following_the_advice_improves_the_fit():
    """A weak Bernoulli term forced centred has a funnel: diagnose() says so and gives the fix; refitting with
    it removes the divergences and raises the worst bulk ESS. Then a short fit's ESS warning: drawing as many
    as advised raises the ESS above the limit."""
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(40), 4)
    y = rng.binomial(1, 1 / (1 + np.exp(-(0.3 + rng.normal(0, 0.3, 40)[g]))))
    df = pd.DataFrame({"y": y, "g": [f"g{k}" for k in g]})
    bad = bm.Model("y ~ 1 + (1 | g)", df, family="bernoulli", parameterization="centered")
    fit = bad.fit(chains=2, draws=500, tune=500, seed=3, progressbar=False)
    d = fit.diagnose()
    funnel = d.by_kind("funnel")
    assert funnel and funnel[0].fix["parameterization"] == {"g": "noncentered"}
    better = bm.Model("y ~ 1 + (1 | g)", df, family="bernoulli", **funnel[0].fix).fit(
        chains=2, draws=500, tune=500, seed=3, progressbar=False)
    assert better.divergences <= fit.divergences and better.divergences == 0
    assert better.convergence().ess_bulk.min() > fit.convergence().ess_bulk.min()
    # the default fit (4 chains x 1000: a 2 x 500 fit's R-hat crosses 1.01 by chance now and then) needs no advice
    auto = bm.Model("y ~ 1 + (1 | g)", df, family="bernoulli").fit(seed=3, progressbar=False)
    assert not [f for f in auto.diagnose().findings if f.severity == "problem"]
    short = bm.Model("y ~ 1 + (1 | g)", df, family="bernoulli").fit(chains=2, draws=60, tune=300, seed=3,
                                                                      progressbar=False)
    ess = short.diagnose().by_kind("ess_bulk")
    assert ess, "60 draws per chain are below 100 per chain"
    longer = bm.Model("y ~ 1 + (1 | g)", df, family="bernoulli").fit(chains=2, tune=300, seed=3,
                                                                       progressbar=False, **ess[0].fix)
    assert longer.convergence().ess_bulk.min() >= 200 > short.convergence().ess_bulk.min()


def test_sum_zero_basis_is_orthonormal():
    import pytensor
    import pytensor.tensor as pt

    from bayesmixed.backends.pymc import _sum_zero

    for J in (2, 3, 12):
        w = pt.dvector("w")
        f = pytensor.function([w], _sum_zero(w, J))
        P = np.column_stack([f(e) for e in np.eye(J - 1)])
        assert P.shape == (J, J - 1)
        np.testing.assert_allclose(P.T @ P, np.eye(J - 1), atol=1e-12)
        np.testing.assert_allclose(P.sum(axis=0), 0.0, atol=1e-12)


def test_crossed_centred_term_splits_its_mean_and_keeps_its_prior():
    """persons x items, both centred: items carry the intercept, persons' effects are sampled as centred
    contrasts plus a non-centred mean; their prior stays iid Normal(0, sd_person²)."""
    import pymc as pm

    m = bm.Model("correct ~ freq + type + age + (1 | person) + (1 | item)", bm.datasets.load("items_bernoulli"),
                 family="bernoulli", parameterization={"person": "centered", "item": "centered"})
    model = m.build()
    assert {"_w_person", "_zbar_person", "_m_item"} <= set(model.named_vars)
    assert "_w_item" not in model.named_vars  # the term that carries the intercept keeps its level means
    with model:
        prior = pm.sample_prior_predictive(draws=4000, var_names=["r_person", "sd_person"], random_seed=3).prior
    r = prior["r_person"].values[0, :, :, 0] / prior["sd_person"].values[0, :, :1]  # (draws, 250) in SD units
    assert abs(r.mean()) < 0.02 and abs(r.var() - 1.0) < 0.03
    c = np.corrcoef(r[:, :40], rowvar=False)[np.triu_indices(40, 1)]
    assert np.abs(c).max() < 0.08  # independent levels: no trace of the basis
