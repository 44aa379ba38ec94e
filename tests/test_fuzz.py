"""Fuzzed formulas and data: every model either builds a sane design or raises a bayesmixed error.

Hypothesis generates random term structures (numeric and categorical predictors, interactions, random
intercepts and slopes, ``||``, nested ``a/b`` and crossed factors) over data frames with odd column names
(spaces, dots, unicode, leading digits; referred to with backticks), numeric-looking category levels,
single-row groups, missing and all-missing columns, huge and tiny scales, constant and collinear predictors.
Whatever comes out must be a :class:`bayesmixed.BayesMixedError` with a message that names something, or a
model whose design is sane; never another exception, and never a change to the user's data frame. Nothing
is sampled.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bayesmixed as bm
from bayesmixed.design.evaluate import is_categorical_series
from bayesmixed.formula.ast import _quote
from bayesmixed.predict import encode

NAMES = ["x", "my col", "a.b", "été", "1st", "x_1", "Größe", "z-score", "y2"]
LEVEL_SETS = [["1", "01", "1.0"], ["a", "b", "c"], ["1", "2"], ["TRUE", "FALSE"], ["0.5", "1e3", "-1"]]
SCALES = [1.0, 1e12, 1e-12]

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

FUZZ = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def q(name: str) -> str:
    """The name as formula text: backticks unless it is a plain name (R's rule)."""
    return _quote(name)


@st.composite
def scenarios(draw):
    """A data frame, a formula over its columns, a family, and the columns the formula uses."""
    n = draw(st.one_of(st.just(1), st.integers(2, 24)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=4, unique=True))
    data: dict[str, object] = {}
    kinds: dict[str, str] = {}
    for name in names:
        kind = draw(st.sampled_from(["num", "num", "cat", "const", "collinear", "allnan", "int"]))
        scale = draw(st.sampled_from(SCALES))
        if kind == "num":
            v = rng.normal(size=n) * scale
        elif kind == "int":
            v = rng.integers(-3, 4, size=n)
        elif kind == "const":
            v = np.full(n, draw(st.sampled_from([0.0, 1.0, 3.5])) * scale)
        elif kind == "collinear" and any(k in ("num", "int") for k in kinds.values()):
            other = next(c for c, k in kinds.items() if k in ("num", "int"))
            v = 2.0 * np.asarray(data[other], dtype=float) - 1.0
        elif kind == "allnan":
            v = np.full(n, np.nan)
        else:
            kind = "cat"
            levels = draw(st.sampled_from(LEVEL_SETS))
            v = rng.choice(levels, size=n).astype(object)
            if draw(st.booleans()):
                v = pd.Categorical(v, categories=levels + ["unused"])
        if kind in ("num", "int", "collinear") and n > 1 and draw(st.integers(0, 5)) == 0:
            v = np.asarray(v, dtype=float)
            v[rng.integers(0, n)] = np.nan
        data[name] = v
        kinds[name] = "num" if kind in ("const", "collinear", "allnan", "int") else kind
    n_groups = draw(st.integers(min(2, n), n))  # up to n: single-row groups
    data["grp id"] = rng.integers(0, n_groups, size=n).astype(str)
    data["sub"] = rng.choice(["1", "01", "1.0"], size=n)
    family = draw(st.sampled_from(["gaussian", "gaussian", "poisson", "bernoulli"]))
    if family == "gaussian":
        data["resp"] = rng.normal(size=n) * draw(st.sampled_from(SCALES))
    elif family == "poisson":
        data["resp"] = rng.poisson(3.0, size=n)
    else:
        data["resp"] = rng.integers(0, 2, size=n)
    df = pd.DataFrame(data)

    preds = list(names)
    fixed = draw(st.lists(st.sampled_from(preds), max_size=3, unique=True))
    terms = [q(c) for c in fixed]
    if len(fixed) >= 2 and draw(st.booleans()):
        terms.append(f"{q(fixed[0])}{draw(st.sampled_from([':', '*']))}{q(fixed[1])}")
    intercept = draw(st.sampled_from(["", "0 + ", "1 + "]))
    numeric = [c for c in preds if kinds[c] == "num"]
    slope = q(draw(st.sampled_from(numeric))) if numeric and draw(st.booleans()) else "1"
    random = draw(
        st.sampled_from(
            [
                [],
                [f"(1 | {q('grp id')})"],
                [f"({slope} | {q('grp id')})"],
                [f"({slope} || {q('grp id')})"],
                [f"(1 | {q('grp id')}/sub)"],
                [f"(1 | {q('grp id')}) + (1 | sub)"],
            ]
        )
    )
    rhs = " + ".join(terms + random) or "1"
    formula = f"resp ~ {intercept}{rhs}"
    used = ["resp", *fixed] + (["grp id"] if random else []) + (["sub"] if "sub" in " ".join(random) else [])
    if slope != "1" and any(slope in r for r in random):
        used.append(next(c for c in numeric if q(c) == slope))
    return df, formula, family, list(dict.fromkeys(used))


def check_message(e: bm.BayesMixedError) -> None:
    """The message names something: a formula error shows a caret under the formula (when there is one),
    other errors quote a name or give a value, a count or a function."""
    msg = str(e)
    assert msg.strip()
    if isinstance(e, bm.FormulaError) and e.text.strip():
        assert msg.endswith("^") and e.text in msg, msg
    elif not isinstance(e, bm.FormulaError):
        assert re.search(r"'|\d|\w\(\)", msg), msg


def check_design(m: bm.Model, df: pd.DataFrame, used: list[str]) -> None:
    D = m.design
    complete = df[used].notna().all(axis=1)
    assert D.n == int(complete.sum())
    assert list(D.rows) == list(df.index[complete])
    assert D.X.shape == (D.n, len(D.x_names))
    assert np.all(np.isfinite(D.X))
    assert np.all(np.isfinite(D.y))
    assert len(set(D.x_names)) == len(D.x_names)
    assert (D.x_names[:1] == ("Intercept",)) == m.formula.intercept
    # aliased columns are dropped (lme4's default): what is left has full column rank
    assert not set(D.aliased) & set(D.x_names)
    assert D.X.shape[1] == 0 or np.linalg.matrix_rank(D.X / np.linalg.norm(D.X, axis=0)) == D.X.shape[1]
    built = D.x_names + D.aliased
    for t in m.formula.terms:  # a numeric main effect keeps its name
        name = getattr(t.factors[0], "name", None) if len(t.factors) == 1 else None
        if name in df.columns:
            if is_categorical_series(df[name]):  # one column per non-reference level, named column + level
                assert any(x.startswith(_quote(name)) for x in built), (name, built)
            else:
                assert _quote(name) in built
    for b in D.blocks:
        assert b.codes.shape == (D.n,)
        assert b.codes.min() >= 0 and b.codes.max() < b.n_levels
        assert np.all(b.counts() > 0)
        assert b.n_levels >= 2
        assert b.Z.shape == (D.n, b.k) and np.all(np.isfinite(b.Z))
    for name, p in m.spec.priors:
        for _, v in p.params:
            assert np.all(np.isfinite(v)), name


@FUZZ
@given(scenarios())
def test_fuzzed_models_build_or_fail_cleanly(case):
    df, formula, family, used = case
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = bm.Model(formula, df, family=family)
        except bm.BayesMixedError as e:
            check_message(e)
        else:
            check_design(m, df, used)
            # prediction on the fitted rows goes through the same encoding without error
            rows = df.loc[m.design.rows]
            new = encode(m.design, rows)
            np.testing.assert_allclose(new.X, m.design.X)
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_fuzzed_models_compile_to_pymc_without_sampling(case):
    """A model that constructs also builds its PyMC graph (no sampling), with finite initial log-density."""
    df, formula, family, _ = case
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            m = bm.Model(formula, df, family=family)
        except bm.BayesMixedError:
            return
        pm_model = m.build()
    logp = pm_model.point_logps()
    assert all(np.isfinite(v) for v in logp.values()), logp


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.text(alphabet=st.characters(blacklist_characters="`", blacklist_categories=("Cs",)), min_size=1, max_size=8))
def test_any_column_name_can_be_quoted_with_backticks(name):
    df = pd.DataFrame({"resp": [1.0, 2.5, 2.0, 4.0], name: [0.5, 1.0, 3.0, 2.0]}) if name != "resp" else None
    if df is None:
        return
    before = df.copy(deep=True)
    m = bm.Model(f"resp ~ `{name}`", df)
    assert m.design.x_names == ("Intercept", _quote(name))
    np.testing.assert_array_equal(m.design.X[:, 1], df[name].to_numpy())
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.text(alphabet="yx~+*:|()01 `/-^gab.,", min_size=0, max_size=20))
def test_random_formula_text_parses_or_raises_formula_error(text):
    df = pd.DataFrame({"y": [1.0, 2.0, 0.5, 3.0, 2.2, 1.1], "x": [0.1, 0.4, 0.3, 0.9, 0.5, 0.7],
                       "g": list("aabbcc"), "a": list("pqpqpq"), "b": list("uuvvuv")})
    before = df.copy(deep=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            bm.Model(text, df)
        except bm.BayesMixedError as e:
            check_message(e)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------------- regression tests for what fuzzing found


def test_backticks_quote_odd_names():
    df = pd.DataFrame({"my col": [1.0, 2, 3, 5], "été": [0.0, 1, 0, 1], "1st": [3.0, 1, 2, 2]})
    m = bm.Model("`my col` ~ été + `1st`", df)
    assert m.design.x_names == ("Intercept", "été", "`1st`")
    np.testing.assert_array_equal(m.design.y, df["my col"].to_numpy())


def test_no_intercept_with_two_factors_is_full_rank_as_in_r():
    # R: model.matrix(~ 0 + f + h) has all levels of f and contrasts for h
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "f": list("aabbcc"), "h": list("uvuvuv")})
    m = bm.Model("y ~ 0 + f + h", df)
    assert m.design.x_names == ("fa", "fb", "fc", "hv")
    assert np.linalg.matrix_rank(m.design.X) == 4


def test_unused_categories_are_dropped():
    h = pd.Categorical(list("abab"), categories=["a", "b", "never"])
    m = bm.Model("y ~ h", pd.DataFrame({"y": [1.0, 2, 3, 5], "h": h}))
    assert m.design.x_names == ("Intercept", "hb")


def test_constant_and_collinear_predictors_are_named():
    df = pd.DataFrame({"y": [1.0, 2, 3, 5], "x": [1.0, 2, 4, 3], "c": 7.0})
    with pytest.raises(bm.DataError, match=r"'c' of the fixed effects is constant \(every row is 7\)"):
        bm.Model("y ~ x + c", df, rank_deficient="raise")
    with pytest.raises(bm.DataError, match=r"'w' is a linear combination of 'Intercept', 'x'"):
        bm.Model("y ~ x + w", df.assign(w=3 * df.x - 2), rank_deficient="raise")
    # by default they are dropped with a warning that names them, as lme4 does
    with pytest.warns(UserWarning, match=r"dropping 1 column / coefficient: 'c' \('c' is a linear combination of 'Intercept'\)"):
        assert bm.Model("y ~ x + c", df).design.x_names == ("Intercept", "x")
    with pytest.warns(UserWarning, match=r"'w' is a linear combination of 'Intercept', 'x'"):
        assert bm.Model("y ~ x + w", df.assign(w=3 * df.x - 2)).design.aliased == ("w",)


def test_huge_and_tiny_scales_are_not_collinear():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"y": rng.normal(size=10), "big": rng.normal(size=10) * 1e12, "tiny": rng.normal(size=10) * 1e-12})
    assert bm.Model("y ~ big + tiny", df).design.x_names == ("Intercept", "big", "tiny")


def test_levels_that_print_the_same_are_an_error_not_duplicate_columns():
    df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 2], "h": [1, "1", 2, 1, "1", 2]})
    with pytest.raises(bm.DataError, match=r"levels 1 and '1' that read the same"):
        bm.Model("y ~ h", df)


def test_numeric_looking_levels_stay_distinct():
    df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4, 2], "h": ["1", "01", "1.0"] * 2, "g": ["1", "01", "1.0"] * 2})
    m = bm.Model("y ~ h + (1 | g)", df)
    assert m.design.x_names == ("Intercept", "h1", "h1.0")
    assert m.design.blocks[0].n_levels == 3


def test_factor_of_numbers_names_the_unseen_value():
    m = bm.Model("y ~ factor(c)", pd.DataFrame({"y": [1.0, 2, 3, 5], "c": [1, 2, 1, 2]}))
    with pytest.raises(bm.DataError, match=r"'factor\(c\)' has level\(s\) 9 that were not"):
        encode(m.design, pd.DataFrame({"c": [9]}))


def test_prediction_rejects_non_finite_transformed_values():
    m = bm.Model("y ~ log(x)", pd.DataFrame({"y": [1.0, 2, 3, 5], "x": [1.0, 2, 3, 4]}))
    with pytest.raises(bm.DataError, match=r"'log\(x\)' is not finite"):
        encode(m.design, pd.DataFrame({"x": [0.0]}))


def test_vector_prior_is_split_per_coefficient():
    df = pd.DataFrame({"y": [1.0, 2, 3, 5, 4], "x": [1.0, 2, 3, 4, 6], "z": [0.3, 0.1, 0.2, 0.5, 0.1]})
    m = bm.Model("y ~ x + z", df, priors={"beta": bm.Prior("normal", mu=[1, 2], sigma=[3, 4])})
    assert m.spec.prior("beta[x]") == bm.Prior("normal", mu=1, sigma=3)
    assert m.spec.prior("beta[z]") == bm.Prior("normal", mu=2, sigma=4)


def test_bad_argument_types_are_bayesmixed_errors():
    df = pd.DataFrame({"y": [1.0, 2, 3, 5], "x": [1.0, 2, 4, 3], "g": list("abab")})
    with pytest.raises(bm.FormulaError):
        bm.Model(None, df)
    with pytest.raises(bm.PriorError):
        bm.Model("y ~ x", df, priors=["a"])
    with pytest.raises(bm.BayesMixedError, match="parameterization must be"):
        bm.Model("y ~ x + (1 | g)", df, parameterization=3)
    with pytest.raises(bm.PriorError, match="must be a number"):
        bm.Prior("normal", mu="a", sigma=1)
    with pytest.raises(bm.DataError, match="appears 2 times"):
        bm.Model("y ~ x", pd.concat([df, df[["y"]]], axis=1))
    with pytest.raises(bm.DataError, match="complex"):
        bm.Model("y ~ x", df.assign(x=df.x + 1j))


def test_subtracting_a_random_term_points_at_it():
    with pytest.raises(bm.FormulaError, match="cannot be subtracted") as e:
        bm.Model("y ~ x - (1 | g)", pd.DataFrame({"y": [1.0, 2], "x": [1.0, 3], "g": ["a", "b"]}))
    assert e.value.pos == 8


def test_a_column_named_dot_needs_backticks():
    df = pd.DataFrame({"y": [1.0, 2, 4], ".": [1.0, 3, 2]})
    with pytest.raises(bm.FormulaError, match="all other columns"):
        bm.Model("y ~ .", df)
    assert bm.Model("y ~ `.`", df).design.x_names == ("Intercept", "`.`")
