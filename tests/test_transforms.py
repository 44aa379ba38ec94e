"""R's formula semantics in the design: stateful transforms (``poly``, ``ns``, ``bs``, ``scale``), rounding,
contrasts (ordered factors, ``contrasts=``), binomial proportions with ``weights=``, aliased fixed-effect
columns. For every transform, ``predict()``'s encoding of the fitted rows as new data reproduces the fitted
design, and a saved fit encodes new data exactly as the original (no sampling: made-up posteriors).
Agreement of the numbers with R is checked in ``test_rmath.py`` and ``test_lformula_conformance.py``."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design
from bayesmixed.predict import encode


def _data(n: int = 120, seed: int = 2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    d = pd.DataFrame(
        {
            "x": rng.uniform(0, 10, n).round(2),
            "z": rng.normal(0, 2, n),
            "f": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"]),
            "o": pd.Categorical(rng.choice(["s", "m", "l", "xl"], n), categories=["s", "m", "l", "xl"], ordered=True),
            "g": rng.choice([f"g{i}" for i in range(6)], n),
            "n": rng.integers(4, 12, n),
        }
    )
    d["y"] = 1 + np.sin(d.x / 3) + 0.3 * d.z + rng.normal(0, 0.3, n)
    d["k"] = rng.binomial(d["n"], 0.4)
    d["p"] = d["k"] / d["n"]
    d["x2"] = 2 * d["x"] + 1
    return d


HELMERT_4 = np.array([[-1, -1, -1], [1, -1, -1], [0, 2, -1], [0, 0, 3]], dtype=float)

#: one formula per transform, with the Model arguments it needs
CASES = {
    "poly": ("y ~ poly(x, 2) + (1 | g)", {}),
    "poly_raw": ("y ~ poly(x, 3, raw = TRUE) + (1 | g)", {}),
    "ns": ("y ~ ns(x, 3) + (1 | g)", {}),
    "ns_namespace": ("y ~ splines::ns(x, df = 2) + (1 | g)", {}),
    "bs": ("y ~ bs(x, df = 4) + (1 | g)", {}),
    "bs_knots": ("y ~ bs(x, knots = c(3, 6), degree = 2) + (1 | g)", {}),
    "scale": ("y ~ scale(x) + (1 | g)", {}),
    "rounding": ("y ~ round(x) + floor(z) + ceiling(z) + (1 | g)", {}),
    "poly_random": ("y ~ x + (poly(x, 2) | g)", {}),
    "ordered": ("y ~ o + x + (1 | g)", {}),
    "contrasts": ("y ~ f * x + o + (1 | g)", {"contrasts": {"f": "sum", "o": HELMERT_4}}),
    "aliased": ("y ~ x + x2 + z + (1 | g)", {}),
    "dummy": ("y ~ dummy(f, 'mid') + as.numeric(o) + (0 + dummy(f) | g)", {}),
    "weights": ("p ~ x + (1 | g)", {"weights": "n", "family": "binomial"}),
}


def _model(case: str, data: pd.DataFrame | None = None) -> bm.Model:
    formula, kw = CASES[case]
    kw = dict(kw)
    family = kw.pop("family", "gaussian")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bm.Model(formula, _data() if data is None else data, family=family, **kw)


@pytest.mark.parametrize("case", list(CASES))
def test_predict_on_the_fitted_rows_reproduces_the_design(case):
    data = _data()
    design = _model(case, data).design
    new = encode(design, data.loc[design.rows].drop(columns=["y", "p", "k"]))
    np.testing.assert_allclose(new.X, design.X, rtol=1e-10, atol=1e-12)
    for b, Z, codes in zip(design.blocks, new.Z, new.codes):
        np.testing.assert_allclose(Z, b.Z, rtol=1e-10, atol=1e-12)
        np.testing.assert_array_equal(codes, b.codes)


def _new_rows() -> pd.DataFrame:
    """New data reaching beyond the fitted range of x (the splines extrapolate as R's predict does)."""
    return pd.DataFrame(
        {
            "x": [-1.0, 0.5, 4.2, 9.7, 12.0],
            "z": [0.3, -2.2, 1.5, 0.0, 3.1],
            "f": ["mid", "lo", "hi", "lo", "mid"],
            "o": pd.Categorical(["l", "s", "xl", "m", "s"], categories=["s", "m", "l", "xl"], ordered=True),
            "g": ["g1", "g0", "g5", "g2", "g3"],
            "n": [5, 6, 7, 8, 9],
            "x2": [-1.0, 2.0, 9.4, 20.4, 25.0],
        }
    )


@pytest.mark.parametrize("case", list(CASES))
def test_save_load_encodes_new_data_as_the_original(synthetic_fit, case, tmp_path):
    formula, kw = CASES[case]
    kw = dict(kw)
    family = kw.pop("family", "gaussian")
    data = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design = bm.Model(formula, data, family=family, **kw).design
        params = {
            "beta": {c: 0.1 * (j + 1) for j, c in enumerate(design.x_names)},
            "sd": {b.label: [0.4 + 0.1 * i for i in range(b.k)] for b in design.blocks},
        }
        if family == "gaussian":
            params["sigma"] = 0.5
        fit = synthetic_fit(formula, data, params, family=family, model_kwargs=kw)
    loaded = bm.load(fit.save(tmp_path / "fit.bmfit"))
    assert loaded.design.encoding.state == fit.design.encoding.state
    assert (loaded.design.aliased, loaded.design.encoding.weights) == (fit.design.aliased, fit.design.encoding.weights)
    new = _new_rows()
    a, b = encode(fit.design, new), encode(loaded.design, new)
    np.testing.assert_array_equal(a.X, b.X)
    for za, zb in zip(a.Z, b.Z):
        np.testing.assert_array_equal(za, zb)
    if a.trials is not None:
        np.testing.assert_array_equal(a.trials, b.trials)
    np.testing.assert_array_equal(
        fit.predict(new, kind="link").to_numpy(), loaded.predict(new, kind="link").to_numpy()
    )


def test_ordered_categorical_gets_polynomial_contrasts():
    d = _data()
    D = _model("ordered", d).design
    assert D.x_names[:4] == ("Intercept", "o.L", "o.Q", "o.C")
    from bayesmixed.design.rmath import contr_poly

    C, _ = contr_poly(4)
    np.testing.assert_allclose(D.X[:, 1:4], C[d["o"].cat.codes.to_numpy()])
    # without an intercept every level is an indicator (R's contrasts = FALSE), ordered or not
    assert build_design("y ~ 0 + o", d).x_names == ("os", "om", "ol", "oxl")


def test_contrasts_argument_sets_the_coding_and_names():
    d = _data()
    D = _model("contrasts", d).design
    assert D.x_names == ("Intercept", "f1", "f2", "x", "o1", "o2", "o3", "f1:x", "f2:x")
    f_codes = d["f"].cat.codes.to_numpy()
    np.testing.assert_allclose(D.X[:, 1:3], np.array([[1, 0], [0, 1], [-1, -1]], float)[f_codes])
    np.testing.assert_allclose(D.X[:, 4:7], HELMERT_4[d["o"].cat.codes.to_numpy()])
    # R's names work too, and a DataFrame names the columns and may list the levels in any order
    M = pd.DataFrame([[0.0, 1], [1, 0], [-1, -1]], index=["hi", "lo", "mid"], columns=["A", "B"])
    D2 = build_design("y ~ f + (1 | g)", d, contrasts={"f": M})
    assert D2.x_names == ("Intercept", "fA", "fB")
    np.testing.assert_allclose(D2.X[:, 1:], np.array([[1.0, 0], [-1, -1], [0, 1]])[f_codes])
    assert build_design("y ~ f", d, contrasts={"f": "contr.helmert"}).x_names == ("Intercept", "f1", "f2")
    assert build_design("y ~ f", d, contrasts={"f": "SAS"}).x_names == ("Intercept", "flo", "fmid")


def test_interaction_columns_vary_the_first_variable_fastest():
    d = _data()
    D = build_design("y ~ f * o", d, contrasts={"o": "treatment"})
    inter = [c for c in D.x_names if ":" in c]
    assert inter[:4] == ["fmid:om", "fhi:om", "fmid:ol", "fhi:ol"]


@pytest.mark.parametrize(
    "formula, dropped",
    [
        ("y ~ x + x2 + z", ("x2",)),  # x2 = 2x + 1: the later column goes, as lme4 drops it
        ("y ~ x2 + x + z", ("x",)),
        ("y ~ f * o", ()),
    ],
)
def test_aliased_columns_are_dropped_with_a_message(formula, dropped):
    d = _data()
    if dropped:
        with pytest.warns(UserWarning, match=r"rank deficient so dropping 1 column / coefficient: '" + dropped[0]):
            D = build_design(formula, d)
    else:
        D = build_design(formula, d)
    assert D.aliased == dropped
    assert not set(dropped) & set(D.x_names) and D.X.shape[1] == len(D.x_names)
    assert np.linalg.matrix_rank(D.X) == D.X.shape[1]


def test_rank_deficient_raise_refuses():
    d = _data()
    with pytest.raises(bm.DataError, match=r"collinear \(rank deficient\): 'x2' is a linear combination of 'Intercept', 'x'"):
        bm.Model("y ~ x + x2 + (1 | g)", d, rank_deficient="raise")
    with pytest.raises(bm.DataError, match="rank_deficient must be 'drop' or 'raise'"):
        build_design("y ~ x", d, rank_deficient="ignore")


def test_empty_interaction_cell_is_dropped_like_lme4():
    d = _data()
    d = d[~((d.f == "hi") & (d.o == "xl"))]
    with pytest.warns(UserWarning, match="'fhi:oxl' is 0 on every row"):
        D = build_design("y ~ f * o", d, contrasts={"o": "treatment"})
    assert D.aliased == ("fhi:oxl",)


def test_binomial_proportion_with_weights():
    d = _data()
    D = _model("weights", d).design
    np.testing.assert_array_equal(D.y, d["k"].to_numpy(dtype=float))
    np.testing.assert_array_equal(D.trials, d["n"].to_numpy(dtype=float))
    # weights as numbers rather than a column name give the same design
    D2 = build_design("p ~ x + (1 | g)", d, weights=d["n"].to_numpy())
    np.testing.assert_array_equal(D2.trials, D.trials)
    assert D2.encoding.weights is None and D.encoding.weights == "n"


def test_transform_state_is_learnt_before_rows_with_missing_values_go():
    # as R's model.frame: poly(x, 2) is computed on every row with x, then rows missing y are dropped
    d = _data()
    d.loc[:9, "y"] = np.nan
    with pytest.warns(UserWarning, match="dropped 10 of 120 rows"):
        D = build_design("y ~ poly(x, 2)", d)
    from bayesmixed.design.rmath import poly_fit

    full, _, _ = poly_fit(d["x"].to_numpy(), 2)
    np.testing.assert_allclose(D.X[:, 1:], full[10:], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("formula", ["y ~ poly(x, 2) + z + (1 | g)", "y ~ ns(x, 3) + z + (1 | g)", "y ~ x + (poly(x, 2) | g)"])
def test_effects_plot_draws_transforms_through_the_encoding(synthetic_fit, formula):
    """The population line of the effects plot along x is the model's prediction at x (other predictors at
    their means): poly()/ns() columns are rebuilt from the stored state, not moved one column at a time."""
    import matplotlib

    matplotlib.use("Agg")
    data = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        design = bm.Model(formula, data).design
        params = {
            "beta": {c: [0.3, 1.2, -0.8, 0.5, 0.2][j % 5] for j, c in enumerate(design.x_names)},
            "sd": {b.label: [0.4] * b.k for b in design.blocks},
            "sigma": 0.5,
        }
        fit = synthetic_fit(formula, data, params)
    fig = fit.plot.effects("g", facets=False)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "x"
    line = next(ln for ln in ax.lines if ln.get_label().startswith("population"))
    grid, curve = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    assert grid.min() == pytest.approx(data.x.min()) and grid.max() == pytest.approx(data.x.max())
    new = pd.DataFrame({"x": grid, "z": data.loc[design.rows, "z"].mean()})
    expected = fit.predict(new, groups="exclude", kind="link")
    np.testing.assert_allclose(curve, expected["mean"].to_numpy(), rtol=1e-8, atol=1e-8)
    # the observations are drawn at their own x, recovered from the columns
    pts = next(c for c in ax.collections if c.get_label() == "observations").get_offsets()
    np.testing.assert_allclose(np.sort(pts[:, 0]), np.sort(data.x.to_numpy()), atol=(data.x.max() - data.x.min()) / 900)


def test_comparisons_are_logical_variables_as_in_r():
    d = _data()
    D = build_design("y ~ I(x > 3) + (z > 0) + (x > 5):z", d)
    assert D.x_names == ("Intercept", "I(x > 3)TRUE", "z > 0TRUE", "x > 5FALSE:z", "x > 5TRUE:z")
    np.testing.assert_array_equal(D.X[:, 1], (d.x > 3).to_numpy(dtype=float))
    np.testing.assert_allclose(D.X[:, 4], np.where(d.x > 5, d.z, 0.0))
    # as a response, a comparison is 0/1
    np.testing.assert_array_equal(build_design("y > 1 ~ x", d).y, (d.y > 1).to_numpy(dtype=float))


def test_model_file_takes_weights_contrasts_and_rank_option(tmp_path):
    from bayesmixed.modelfile import load_model_file

    d = _data()
    d.to_csv(tmp_path / "d.csv", index=False)
    (tmp_path / "m.toml").write_text(
        'data = "d.csv"\nformula = "p ~ f + x + x2 + (1 | g)"\nfamily = "binomial"\nweights = "n"\n'
        'rank_deficient = "drop"\n[contrasts]\nf = "sum"\n'
    )
    with pytest.warns(UserWarning, match="dropping 1 column / coefficient: 'x2'"):
        D = load_model_file(tmp_path / "m.toml").model().design
    assert D.x_names == ("Intercept", "f1", "f2", "x") and D.aliased == ("x2",)
    np.testing.assert_array_equal(D.trials, d["n"].to_numpy(dtype=float))


def test_update_keeps_contrasts_and_weights(synthetic_fit):
    from bayesmixed.interpret import update_model

    d = _data()
    kw = {"contrasts": {"f": "sum", "o": HELMERT_4}, "weights": "n"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = bm.Model("p ~ f + o + (1 | g)", d, family="binomial", **kw)
        params = {"beta": {c: 0.1 for c in m.design.x_names}, "sd": {"g": [0.3]}}
        fit = synthetic_fit("p ~ f + o + (1 | g)", d, params, family="binomial", model_kwargs=kw)
        _, design, _ = update_model(fit, ". ~ . + x", data=d)
    assert design.x_names == ("Intercept", "f1", "f2", "o1", "o2", "o3", "x")
    np.testing.assert_allclose(design.X[:, 3:6], HELMERT_4[d["o"].cat.codes.to_numpy()])
    np.testing.assert_array_equal(design.trials, d["n"].to_numpy(dtype=float))
    _, design, _ = update_model(fit, ". ~ . - o", contrasts={"f": "treatment"})
    assert design.x_names == ("Intercept", "fmid", "fhi")
