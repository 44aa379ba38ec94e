"""predictions, comparisons, slopes, conditional effects, emmeans and the lme4 names (VarCorr, confint, icc at,
re_formula, update): identities that must hold draw by draw, hand computations on made-up posteriors, R's
emmeans on cbpp (models/cbpp.toml, benchmarks/r/emmeans_cbpp.R), and every figure rendering (Agg)."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

import bayesmixed as bm
from bayesmixed import interpret as I
from bayesmixed.errors import DataError
from bayesmixed.modelfile import load_model_file
from bayesmixed.summaries import draws_of

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SLEEP = "Reaction ~ Days + (Days | Subject)"
SLEEP_PARAMS = {"beta": {"Intercept": 250.0, "Days": 10.0}, "sd": {"Subject": [25.0, 6.0]},
                "corr": {"Subject": [[1.0, 0.3], [0.3, 1.0]]}, "sigma": 25.0}
CBPP = "cbind(incidence, size - incidence) ~ period + (1 | herd)"
CBPP_PARAMS = {"beta": {"Intercept": -1.4, "period2": -1.0, "period3": -1.1, "period4": -1.6}, "sd": {"herd": [0.6]}}
NA = float("nan")


def render(fig) -> None:
    from matplotlib.figure import Figure

    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=50)
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def sleep_syn(synthetic_fit):
    return synthetic_fit(SLEEP, bm.datasets.load("sleepstudy"), SLEEP_PARAMS, jitter=2.0, loglik=False)


@pytest.fixture(scope="module")
def cbpp_syn(synthetic_fit):
    return synthetic_fit(CBPP, bm.datasets.load("cbpp"), CBPP_PARAMS, family="binomial", jitter=0.2, loglik=False)


def _two_factor_data(n: int = 240, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({
        "a": rng.choice(["lo", "mid", "hi"], n),
        "b": rng.choice(["u", "v"], n, p=[0.8, 0.2]),  # unbalanced: emmeans weighs the cells equally
        "x": rng.normal(2.0, 1.0, n),
        "g": rng.choice([f"g{i}" for i in range(8)], n),
    })
    d["y"] = rng.poisson(3, n)
    return d


@pytest.fixture(scope="module")
def poisson_syn(synthetic_fit):
    d = _two_factor_data()
    design = bm.Model("y ~ a * b + x + (1 | g)", d, family="poisson").design
    beta = {n: 0.2 * ((j % 3) - 1) for j, n in enumerate(design.x_names)}
    beta["Intercept"] = 1.0
    return synthetic_fit("y ~ a * b + x + (1 | g)", d, {"beta": beta, "sd": {"g": [0.3]}}, family="poisson",
                         jitter=0.1, loglik=False)


# --------------------------------------------------------------------------------------------- identities
def test_predictions_of_the_fitted_rows_are_predict(sleep_syn):
    est = sleep_syn.predictions()
    _, da = sleep_syn.predict(draws=True)
    assert np.allclose(est.draws, da.values.reshape(-1, da.shape[-1]))
    assert list(est.table.columns[:2]) == ["Days", "Subject"] and len(est) == 180
    pop = sleep_syn.predictions(re_formula=NA)
    _, da0 = sleep_syn.predict(groups="exclude", draws=True)
    assert np.allclose(pop.draws, da0.values.reshape(-1, 180))
    assert np.allclose(sleep_syn.predictions(re_form="~0").draws, pop.draws)  # lme4's name


def test_average_slope_is_the_coefficient_draw_by_draw(sleep_syn):
    beta = draws_of(sleep_syn.idata, "beta")[:, 1]
    pop = sleep_syn.slopes("Days", re_formula=NA)
    assert pop.draws.shape == (len(beta), 1)
    np.testing.assert_allclose(pop.draws[:, 0], beta, rtol=0, atol=1e-7)
    # with the random effects: beta + the average of the subjects' slopes (10 rows each: a plain mean)
    r = draws_of(sleep_syn.idata, "r_Subject")[:, :, 1]
    np.testing.assert_allclose(sleep_syn.slopes("Days").draws[:, 0], beta + r.mean(axis=1), atol=1e-7)
    by = sleep_syn.slopes("Days", by="Subject")
    np.testing.assert_allclose(by.draws, beta[:, None] + r, atol=1e-7)
    assert list(by.table["Subject"]) == list(sleep_syn.design.block("Subject").levels)


def test_slopes_on_a_curved_scale_match_the_derivative(synthetic_fit):
    d = _two_factor_data()
    d["s"] = np.random.default_rng(1).binomial(1, 0.4, len(d))
    fit = synthetic_fit("s ~ x + (1 | g)", d, {"beta": {"Intercept": -0.5, "x": 0.7}, "sd": {"g": [0.4]}},
                        family="bernoulli", jitter=0.1, loglik=False)
    beta = draws_of(fit.idata, "beta")
    p = expit(beta[:, [0]] + beta[:, [1]] * d["x"].to_numpy()[None, :])
    expected = (beta[:, 1:2] * p * (1 - p)).mean(axis=1)  # d/dx of expit(a + b x), averaged over the rows
    got = fit.slopes("x", re_formula=NA).draws[:, 0]
    np.testing.assert_allclose(got, expected, rtol=1e-3)
    np.testing.assert_allclose(fit.slopes("x", re_formula=NA, scale="link").draws[:, 0], beta[:, 1], atol=1e-7)
    ela = fit.slopes("x", re_formula=NA, slope="eyex").draws[:, 0]
    np.testing.assert_allclose(ela, (beta[:, 1:2] * (1 - p) * d["x"].to_numpy()).mean(axis=1), rtol=1e-3)


def test_factor_comparisons_are_differences_of_predictions(cbpp_syn):
    cmp = cbpp_syn.comparisons("period")
    assert list(cmp.table["contrast"]) == ["2 - 1", "3 - 1", "4 - 1"]
    frame = cbpp_syn.design.frame
    base = cbpp_syn.predictions(newdata=frame.assign(period="1"), by=True).draws[:, 0]
    for j, lv in enumerate(["2", "3", "4"]):
        other = cbpp_syn.predictions(newdata=frame.assign(period=lv), by=True).draws[:, 0]
        np.testing.assert_allclose(cmp.draws[:, j], other - base, atol=1e-12)
    pw = cbpp_syn.comparisons({"period": "pairwise"})
    assert len(pw) == 6 and pw.table["contrast"].iloc[-1] == "4 - 3"
    np.testing.assert_allclose(pw.draws[:, 3], cmp.draws[:, 1] - cmp.draws[:, 0], atol=1e-12)  # 3-2 = (3-1)-(2-1)
    ratio = cbpp_syn.comparisons("period", comparison="ratio")
    p1 = cbpp_syn.predictions(newdata=frame.assign(period="1"), by=True).draws[:, 0]
    p2 = cbpp_syn.predictions(newdata=frame.assign(period="2"), by=True).draws[:, 0]
    np.testing.assert_allclose(ratio.draws[:, 0], p2 / p1, rtol=1e-12)  # a ratio of the averages
    rows = cbpp_syn.comparisons("period", by=False)
    assert len(rows) == 3 * 56
    np.testing.assert_allclose(rows.draws[:, :56].mean(axis=1), cmp.draws[:, 0], atol=1e-12)


def test_numeric_comparisons(sleep_syn):
    beta = draws_of(sleep_syn.idata, "beta")[:, 1]
    cmp = sleep_syn.comparisons({"Days": [1, 2.5, "sd", (0, 9)]}, re_formula=NA)
    assert list(cmp.table["contrast"]) == ["+1", "+2.5", f"+sd ({np.std(np.arange(10).repeat(18), ddof=1):.4g})", "9 - 0"]
    sd = float(np.std(sleep_syn.design.frame["Days"], ddof=1))
    np.testing.assert_allclose(cmp.draws, beta[:, None] * np.array([1, 2.5, sd, 9]), atol=1e-7)
    by = sleep_syn.comparisons("Days", by="Subject")
    assert len(by) == 18 and list(by.table.columns[:3]) == ["term", "contrast", "Subject"]


def test_emmeans_average_the_link_over_the_other_factors_with_equal_weights(poisson_syn):
    fit = poisson_syn
    names = list(fit.design.x_names)
    beta = draws_of(fit.idata, "beta")
    xbar = float(fit.design.frame["x"].mean())

    def eta(a, b):
        row = {n: 0.0 for n in names}
        row["Intercept"] = 1.0
        row["x"] = xbar
        for n in names:
            parts = n.split(":")
            if all(p in (f"a{a}", f"b{b}") for p in parts) and n not in ("Intercept", "x"):
                row[n] = 1.0
        return beta @ np.array([row[n] for n in names])

    emm = fit.emmeans("a", pairwise=True)
    levels = list(emm.emmeans.table["a"])
    assert levels == ["hi", "lo", "mid"]  # the encoding's (sorted) order
    for j, a in enumerate(levels):
        link = (eta(a, "u") + eta(a, "v")) / 2  # equal weights, whatever the cell counts
        np.testing.assert_allclose(emm.emmeans.draws[:, j], np.exp(link), rtol=1e-10)
    assert list(emm.contrasts.table["contrast"]) == ["ahi - alo", "ahi - amid", "alo - amid"]
    np.testing.assert_allclose(emm.contrasts.draws[:, 0], emm.emmeans.draws[:, 0] - emm.emmeans.draws[:, 1])
    link = fit.emmeans("a", scale="link").emmeans
    np.testing.assert_allclose(np.exp(link.draws), emm.emmeans.draws, rtol=1e-10)
    by = fit.emmeans("a", by="b", pairwise=True)
    assert len(by.emmeans) == 6 and len(by.contrasts) == 6 and set(by.contrasts.table["b"]) == {"u", "v"}
    np.testing.assert_allclose(by.emmeans.table.query("b == 'v' and a == 'lo'")["mean"].iloc[0],
                               np.exp(eta("lo", "v")).mean(), rtol=1e-10)
    with pytest.raises(DataError, match="numeric"):
        fit.emmeans("x")


def test_conditional_effects_follow_brms(sleep_syn, poisson_syn):
    beta = draws_of(sleep_syn.idata, "beta")
    ce = sleep_syn.conditional_effects()
    assert list(ce) == ["Days"]
    t = ce["Days"].table
    assert len(t) == 100 and t["Days"].iloc[0] == 0 and t["Days"].iloc[-1] == 9
    np.testing.assert_allclose(ce["Days"].draws[:, 10], beta[:, 0] + beta[:, 1] * t["Days"].iloc[10])  # no REs
    one = sleep_syn.conditional_effects("Days", conditions={"Subject": "308"}, re_formula=None, resolution=5)
    r = draws_of(sleep_syn.idata, "r_Subject")[:, 0, :]
    x = one["Days"].table["Days"].to_numpy()
    np.testing.assert_allclose(one["Days"].draws, (beta[:, [0]] + r[:, [0]]) + (beta[:, [1]] + r[:, [1]]) * x)
    fit = poisson_syn
    ce = fit.conditional_effects()
    assert list(ce) == ["a", "b", "x", "a:b"]  # main effects and the two-way interaction, formula order
    ab = ce["a:b"]
    assert ab.x == "a" and ab.color == "b" and len(ab) == 6
    assert set(ce["x"].table["a"]) == {"hi"} and set(ce["x"].table["b"]) == {"u"}  # references
    xm = fit.conditional_effects("x:a", resolution=7)["x:a"]
    assert len(xm) == 21 and xm.color == "a"
    num = fit.conditional_effects("a:x")["a:x"]  # numeric moderator: mean - sd, mean, mean + sd
    v = I.predictor_variables(fit.design)["x"]
    np.testing.assert_allclose(sorted(set(num.table["x"])), [v.mean - v.sd, v.mean, v.mean + v.sd])
    multi = fit.conditional_effects("x", conditions=pd.DataFrame({"a": ["lo", "mid"]}), resolution=4)["x"]
    assert list(multi.table["condition"]) == [0] * 4 + [1] * 4
    assert "effect" in ce.table.columns and len(ce.table) == sum(len(e) for e in ce.effects.values())


def test_grids_and_typical_values(poisson_syn):
    v = I.predictor_variables(poisson_syn.design)
    assert v["a"].kind == "categorical" and v["a"].typical == "hi" and v["x"].kind == "numeric"
    g = I.datagrid(poisson_syn, a=["lo", "mid"], x=[0, 1])
    assert len(g) == 4 and set(g["b"]) == {"u"} and "g" not in g.columns
    assert list(g["a"]) == ["lo", "lo", "mid", "mid"] and list(g["x"]) == [0, 1, 0, 1]
    pred = poisson_syn.predictions(newdata={"a": ["lo", "mid"]}, re_formula=NA)
    beta = draws_of(poisson_syn.idata, "beta")
    names = list(poisson_syn.design.x_names)
    xbar = poisson_syn.design.frame["x"].mean()
    expected = np.exp(beta[:, names.index("Intercept")] + beta[:, names.index("alo")] + beta[:, names.index("x")] * xbar)
    np.testing.assert_allclose(pred.draws[:, 0], expected, rtol=1e-10)
    # a grid without the grouping factor and random effects included: a new level, drawn from the population
    new = poisson_syn.predictions(newdata="grid")
    assert new.table["sd"].iloc[0] > poisson_syn.predictions(newdata="grid", re_formula=NA).table["sd"].iloc[0]
    avg = poisson_syn.predictions(by="a", re_formula=NA)
    assert list(avg.table["a"]) == ["hi", "lo", "mid"]
    rows = poisson_syn.predictions(re_formula=NA)
    codes = pd.factorize(poisson_syn.design.frame["a"], sort=True)[0]
    np.testing.assert_allclose(avg.draws[:, 1], rows.draws[:, codes == 1].mean(axis=1))


def test_averages_over_blocks_of_rows_are_the_same(poisson_syn, monkeypatch):
    """Many rows are averaged block by block (memory): the result does not depend on the block size."""
    whole = [poisson_syn.predictions(by=["a", "b"]), poisson_syn.slopes("x", by="a"), poisson_syn.predictions()]
    monkeypatch.setattr(I, "_CHUNK", 7 * poisson_syn.idata.posterior.sizes["draw"] * 2)  # 7 rows per block
    parts = [poisson_syn.predictions(by=["a", "b"]), poisson_syn.slopes("x", by="a"), poisson_syn.predictions()]
    for w, p in zip(whole, parts):
        np.testing.assert_allclose(p.draws, w.draws, rtol=1e-12)
        pd.testing.assert_frame_equal(p.table, w.table)


def test_re_formula(sleep_syn, synthetic_fit):
    d = sleep_syn.design
    assert I.resolve_re_formula(d, None) is None
    for na in (NA, pd.NA, "NA", "~0", "~ 0", False):
        assert I.resolve_re_formula(d, na) == ()
    assert I.resolve_re_formula(d, "~ (1 | Subject)") == ("Subject",)
    with pytest.raises(DataError, match="grouped by 'Herd'"):
        I.resolve_re_formula(d, "~ (1 | Herd)")
    with pytest.raises(DataError, match="not both"):
        sleep_syn.predictions(re_formula=NA, re_form=NA)
    with pytest.raises(bm.BayesMixedError, match="not both"):
        sleep_syn.predict(re_formula=NA, re_form="~0")
    pen = bm.datasets.load("Penicillin")
    fit = synthetic_fit("diameter ~ 1 + (1 | plate) + (1 | sample)", pen,
                        {"beta": {"Intercept": 23.0}, "sd": {"plate": [0.8], "sample": [1.9]}, "sigma": 0.5}, loglik=False)
    only = fit.predict(re_formula="~ (1 | plate)", draws=True)[1].values.reshape(-1, len(pen))
    beta = draws_of(fit.idata, "beta")[:, 0]
    rp = draws_of(fit.idata, "r_plate")[:, :, 0]
    codes = fit.design.block("plate").codes
    np.testing.assert_allclose(only, beta[:, None] + rp[:, codes])
    new = pd.DataFrame({"plate": ["a", "b"]})  # the left-out term's factor may be absent
    got = fit.predictions(newdata=new, re_formula="~ (1 | plate)").draws
    np.testing.assert_allclose(got[:, 0], beta + rp[:, 0])
    with pytest.raises(DataError, match="not in the data the model was fitted to"):
        fit.predictions(newdata=pd.DataFrame({"plate": ["zz"]}), re_formula="~ (1 | plate)")
    assert np.isfinite(fit.predictions(newdata=pd.DataFrame({"plate": ["zz"]}), re_formula="~ (1 | plate)",
                                       allow_new_levels=True).draws).all()


def test_category_probabilities_hook(sleep_syn, monkeypatch):
    """A family whose mean has a category axis (S, m, C) gets a category column and one line per category."""
    real = I.predictive_draws

    def three(fit, rows, groups, kind, seed, idx, terms):
        x = real(fit, rows, groups, kind, seed, idx, terms)
        w = np.stack([x, 2 * x, 3 * x], axis=-1)
        return w / w.sum(axis=-1, keepdims=True)

    monkeypatch.setattr(I, "predictive_draws", three)
    ce = sleep_syn.conditional_effects("Days", resolution=5)["Days"]
    assert list(ce.table["category"]) == [0, 1, 2] * 5 and ce.color == "category"
    np.testing.assert_allclose(ce.table["mean"].to_numpy().reshape(5, 3), np.tile([1 / 6, 2 / 6, 3 / 6], (5, 1)))
    avg = sleep_syn.predictions(by="Days")
    assert len(avg) == 30 and "category" in avg.table
    render(ce.plot())


def test_bad_arguments_are_clear(sleep_syn, cbpp_syn):
    with pytest.raises(DataError, match="'Dayz' is not a predictor"):
        sleep_syn.slopes("Dayz")
    with pytest.raises(DataError, match="use comparisons"):
        cbpp_syn.slopes("period")
    with pytest.raises(DataError, match="scale must be one of"):
        sleep_syn.comparisons("Days", scale="prediction")
    with pytest.raises(DataError, match="'reference'"):
        cbpp_syn.comparisons({"period": "everything"})
    with pytest.raises(DataError, match="by: column"):
        sleep_syn.predictions(by="Nope")
    with pytest.raises(DataError, match="lacks the grouping column"):
        sleep_syn.predictions(newdata=pd.DataFrame({"Days": [1.0]}))
    assert len(sleep_syn.predictions(newdata=pd.DataFrame({"Days": [1.0]}), allow_new_levels=True)) == 1
    with pytest.raises(DataError, match="newdata must be"):
        sleep_syn.predictions(newdata="all")
    with pytest.raises(DataError, match="at most two"):
        sleep_syn.conditional_effects("Days:Days:Days")
    no_frame = type(sleep_syn)(sleep_syn.spec, __import__("dataclasses").replace(sleep_syn.design, frame=None),
                               sleep_syn.idata, sleep_syn.sampler_info)
    with pytest.raises(bm.BayesMixedError, match="no model frame"):
        no_frame.slopes("Days")


# --------------------------------------------------------------------------------------------- lme4 names
def test_varcorr_both_and_confint(sleep_syn):
    vc = sleep_syn.VarCorr()
    assert list(vc["kind"]) == ["sd", "var", "sd", "var", "cor", "sd", "var"]
    sd = draws_of(sleep_syn.idata, "sd_Subject")[:, 1]
    row = vc[(vc["term"] == "Days") & (vc["kind"] == "var")].iloc[0]
    assert row["mean"] == pytest.approx(np.mean(sd**2))
    assert sleep_syn.varcorr().equals(sleep_syn.varcorr(kind="sd"))
    assert set(sleep_syn.varcorr(kind="var")["kind"]) == {"var", "cor"}
    ci = sleep_syn.confint(prob=0.9)
    assert list(ci.index) == ["beta[Intercept]", "beta[Days]", "sd_Subject[Intercept]", "sd_Subject[Days]",
                              "corr_Subject[Intercept,Days]", "sigma"]
    b = draws_of(sleep_syn.idata, "beta")[:, 1]
    assert ci.loc["beta[Days]", "lower"] == pytest.approx(np.quantile(b, 0.05))
    assert list(sleep_syn.confint(parm=["sigma"]).index) == ["sigma"]


def test_icc_at_a_covariate_value(sleep_syn):
    default = sleep_syn.icc()
    assert default["at"].iloc[0] == "Days = 0"
    at5 = sleep_syn.icc(at={"Days": 5})
    assert at5["at"].iloc[0] == "Days = 5"
    sd, C = SLEEP_PARAMS["sd"]["Subject"], SLEEP_PARAMS["corr"]["Subject"]
    v5 = sd[0] ** 2 + 2 * C[0][1] * sd[0] * sd[1] * 5 + sd[1] ** 2 * 25
    assert at5["mean"].iloc[0] == pytest.approx(v5 / (v5 + 25.0**2))
    assert default["mean"].iloc[0] == pytest.approx(25.0**2 / (25.0**2 + 25.0**2))
    with pytest.raises(DataError, match="do not vary by group"):
        sleep_syn.icc(at={"Reaction": 1})


def test_update_formula_text():
    old = SLEEP
    assert I._update_formula(old, "~ . + I(Days^2)") == "Reaction ~ Days + (Days | Subject) + I(Days^2)"
    assert I._update_formula(old, ". ~ . - Days") == "Reaction ~ Days + (Days | Subject) - Days"
    assert I._update_formula(old, "log(.) ~ .") == "log(Reaction) ~ Days + (Days | Subject)"
    assert I._update_formula(old, "~ Days + (1 | Subject)") == "Reaction ~ Days + (1 | Subject)"
    with pytest.raises(DataError, match="has a '~'"):
        I._update_formula(old, "Days")


def test_frame_survives_saving(sleep_syn, tmp_path):
    loaded = bm.load(sleep_syn.save(tmp_path / "s.bmfit"))
    pd.testing.assert_frame_equal(loaded.design.frame, sleep_syn.design.frame)
    np.testing.assert_array_equal(loaded.slopes("Days").draws, sleep_syn.slopes("Days").draws)


def test_every_interpretation_figure_renders(sleep_syn, cbpp_syn, poisson_syn):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    render(sleep_syn.conditional_effects().plot())
    render(poisson_syn.conditional_effects().plot())
    render(sleep_syn.predictions().plot())
    render(sleep_syn.predictions(by="Days").plot())
    render(sleep_syn.slopes("Days", by="Subject").plot())
    render(cbpp_syn.comparisons("period").plot())
    render(cbpp_syn.comparisons("period", comparison="ratio").plot())
    render(cbpp_syn.emmeans("period", pairwise=True).plot())
    render(poisson_syn.emmeans("a", by="b").plot())
    render(poisson_syn.predictions(by=["a", "b"], re_formula=NA).plot(x="a", color="b"))
    assert plt.get_fignums() == before
    text = str(cbpp_syn.emmeans("period", pairwise=True))
    assert "period1 - period2" in text and "emmeans" in text


# --------------------------------------------------------------------------------------------- real fits
@pytest.mark.slow
def test_sleepstudy_average_slope_is_beta_days(sleep_fit):
    beta = draws_of(sleep_fit.idata, "beta")[:, 1]
    np.testing.assert_allclose(sleep_fit.slopes("Days", re_formula=NA).draws[:, 0], beta, atol=1e-7)
    r = draws_of(sleep_fit.idata, "r_Subject")[:, :, 1]
    np.testing.assert_allclose(sleep_fit.slopes("Days").draws[:, 0], beta + r.mean(axis=1), atol=1e-7)


@pytest.mark.slow
def test_cbpp_comparisons_and_emmeans_against_r(cbpp_fit):
    frame = cbpp_fit.design.frame
    cmp = cbpp_fit.comparisons("period")
    base = cbpp_fit.predictions(newdata=frame.assign(period="1"), by=True).draws[:, 0]
    for j, lv in enumerate(["2", "3", "4"]):
        other = cbpp_fit.predictions(newdata=frame.assign(period=lv), by=True).draws[:, 0]
        np.testing.assert_allclose(cmp.draws[:, j], other - base, atol=1e-12)
    ref = load_model_file(ROOT / "models" / "cbpp.toml").reference["emmeans"]
    emm = cbpp_fit.emmeans("period", pairwise=True)
    t = emm.emmeans.table
    assert list(t["period"]) == ref["level"]
    z = (t["mean"].to_numpy() - np.array(ref["prob"])) / t["sd"].to_numpy()
    assert np.all(np.abs(z) < 1.0), z  # within one posterior SD of lme4 + emmeans
    for scale, key in (("response", "prob_diff"), ("link", "link_diff")):
        con = cbpp_fit.emmeans("period", pairwise=True, scale=scale).contrasts.table
        assert list(con["contrast"]) == ref["contrast"]
        r = np.array(ref[key])
        assert np.all(np.sign(con["mean"].to_numpy()) == np.sign(r))
        assert np.all(np.abs(con["mean"].to_numpy() - r) < con["sd"].to_numpy()), (scale, con, r)
    link = cbpp_fit.emmeans("period", scale="link").emmeans.table
    assert np.all(np.abs(link["mean"].to_numpy() - np.array(ref["link"])) < link["sd"].to_numpy())


def test_update_keeps_the_users_choices(synthetic_fit):
    sleep = bm.datasets.load("sleepstudy")
    fit = synthetic_fit(SLEEP, sleep, SLEEP_PARAMS, loglik=False)
    user = bm.Model(SLEEP, sleep, priors={"sigma": bm.Prior("half_normal", sigma=40)}, parameterization="noncentered")
    fit = type(fit)(user.spec, user.design, fit.idata, {"draws": 200, "tune": 150, "chains": 1, "seed": 4,
                                                        "sampler": "nutpie", "target_accept": 0.9})
    model = type("M", (), {})()
    model.spec, model.design, settings = I.update_model(fit, "~ . - Days + I(Days / 10)", progressbar=False)
    assert model.spec.formula == "Reaction ~ Days + (Days | Subject) - Days + I(Days / 10)"
    assert list(model.design.x_names) == ["Intercept", "I(Days/10)"]
    assert model.spec.prior("sigma") == bm.Prior("half_normal", sigma=40)  # the user's prior is kept
    assert model.spec.prior("beta[I(Days/10)]") != fit.spec.prior("beta[Days]")  # defaults are recomputed
    assert dict(model.spec.parameterization) == {"Subject": "noncentered"}
    assert settings == {**I.FIT_DEFAULTS, "draws": 200, "tune": 150, "chains": 1, "seed": 4, "sampler": "nutpie",
                        "target_accept": 0.9, "progressbar": False}
    hspec, hdesign, s2 = I.update_model(fit, data=sleep[sleep["Days"] < 5], draws=100, family="student_t")
    assert hdesign.n == 90 and s2["draws"] == 100 and hspec.family == "student_t"
    aspec, _, _ = I.update_model(synthetic_fit(SLEEP, sleep, SLEEP_PARAMS, loglik=False), "~ Days + (1 | Subject)")
    assert dict(aspec.parameterization) == {"Subject": "marginal"}  # "auto" chose before: it chooses again
    with pytest.raises(DataError, match="unknown argument"):
        I.update_model(fit, draw=10)
    import inspect

    sig = inspect.signature(bm.Model.fit).parameters
    assert I.FIT_DEFAULTS == {k: sig[k].default for k in I.FIT_DEFAULTS} and set(sig) - {"self"} == set(I.FIT_DEFAULTS)


@pytest.mark.slow
def test_update_refits(sleep_fit):
    new = sleep_fit.update(". ~ Days + (1 | Subject)", draws=200, chains=1, progressbar=False)
    assert new.spec.formula == "Reaction ~ Days + (1 | Subject)" and new.sampler_info["seed"] == 11
    assert "r_Subject" in new.idata.posterior and new.idata.posterior.sizes["draw"] == 200
    assert abs(draws_of(new.idata, "beta")[:, 1].mean() - draws_of(sleep_fit.idata, "beta")[:, 1].mean()) < 2
