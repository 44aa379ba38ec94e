"""Design tests: encodings, contrasts, blocks (no PyMC)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.design import build_design, model_matrix
from bayesmixed.design.evaluate import check_columns  # noqa: F401  (public helper used by messages)


def test_sleepstudy_blocks_are_codes_not_dense_z():
    d = bm.datasets.load("sleepstudy")
    D = build_design("Reaction ~ Days + (Days | Subject)", d)
    assert D.x_names == ("Intercept", "Days")
    (b,) = D.blocks
    assert b.label == "Subject" and b.coef_names == ("Intercept", "Days")
    assert b.Z.shape == (180, 2) and b.codes.shape == (180,) and b.n_levels == 18
    assert (b.counts() == 10).all()
    np.testing.assert_array_equal(b.Z[:, 1], d["Days"].to_numpy())
    # rows of level j are the rows whose Subject is levels[j]
    assert all(str(s) == b.levels[c] for s, c in zip(d["Subject"], b.codes))


def test_nested_pastes_level_counts():
    D = build_design("strength ~ 1 + (1 | batch/cask)", bm.datasets.load("Pastes"))
    assert [(b.label, b.n_levels) for b in D.blocks] == [("batch", 10), ("batch:cask", 30)]
    assert D.blocks[1].levels[0] == "A:a"


def test_crossed_and_repeated_factor_labels():
    d = bm.datasets.load("Penicillin").assign(x=np.arange(144.0))
    D = build_design("diameter ~ (1 | plate) + (1 | sample) + (0 + x | plate)", d)
    assert [b.label for b in D.blocks] == ["plate", "sample", "plate_2"]
    assert [b.n_levels for b in D.blocks] == [24, 6, 24]


def test_treatment_contrasts_first_level_reference():
    D = build_design("cbind(incidence, size - incidence) ~ period + (1 | herd)", bm.datasets.load("cbpp"))
    assert D.x_names == ("Intercept", "period2", "period3", "period4")
    np.testing.assert_array_equal(D.trials, bm.datasets.load("cbpp")["size"].to_numpy())


def test_r_rule_full_dummies_without_margin():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4, 5, 6], "g": list("aabbcc"), "x": [1.0, 2, 3, 4, 5, 6]})
    assert build_design("y ~ 0 + g", df).x_names == ("ga", "gb", "gc")
    assert build_design("y ~ x + x:g", df).x_names == ("Intercept", "x", "x:gb", "x:gc")
    assert build_design("y ~ x:g", df).x_names == ("Intercept", "x:ga", "x:gb", "x:gc")
    assert build_design("y ~ g*x", df).x_names == ("Intercept", "gb", "gc", "x", "gb:x", "gc:x")
    D = build_design("y ~ 0 + g + (0 + g | x)", df.assign(x=[1, 1, 2, 2, 3, 3]))
    assert D.blocks[0].coef_names == ("ga", "gb", "gc")


def test_boolean_and_numeric_looking_categories():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "flag": [True, False, True, False], "code": ["10", "9", "9", "10"]})
    D = build_design("y ~ flag + code", df)
    assert D.x_names == ("Intercept", "flagTRUE", "code9")  # string levels sort as text, as R does


def test_scale_remembers_state_for_new_data():
    from bayesmixed.design.matrix import model_matrix as mm

    d = bm.datasets.load("sleepstudy")
    D = build_design("Reaction ~ scale(Days) + (1 | Subject)", d)
    np.testing.assert_allclose(D.X[:, 1], (d.Days - d.Days.mean()) / d.Days.std())
    new = pd.DataFrame({"Days": [0.0, 9.0]})
    X, names = mm(D.formula.terms, True, new, D.encoding.state_dict(), False, "new data")
    np.testing.assert_allclose(X[:, 1], (new.Days - d.Days.mean()) / d.Days.std())


def test_transforms_and_offset():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "x": [1.0, 2, 3, 4], "t": [1.0, 2, 2, 1], "g": list("abab")})
    D = build_design("y ~ log(x) + I(x^2) + offset(log(t)) + (1 | g)", df)
    np.testing.assert_allclose(D.X[:, 1], np.log(df.x))
    np.testing.assert_allclose(D.X[:, 2], df.x**2)
    np.testing.assert_allclose(D.offset, np.log(df.t))


def test_missing_rows_dropped_with_warning_or_raised():
    d = bm.datasets.load("sleepstudy")
    d.loc[[3, 7], "Days"] = np.nan
    d.loc[9, "Reaction"] = np.nan
    with pytest.warns(UserWarning, match=r"dropped 3 of 180 rows .*'Reaction' \(1\).*'Days' \(2\)"):
        D = build_design("Reaction ~ Days + (Days | Subject)", d)
    assert D.n == 177 and D.n_dropped == 3 and 3 not in D.rows
    with pytest.raises(bm.DataError, match="missing values"):
        build_design("Reaction ~ Days + (Days | Subject)", d, missing="raise")


def test_user_data_is_never_modified_and_arrays_are_read_only():
    d = bm.datasets.load("cbpp")
    before = d.copy(deep=True)
    D = build_design("cbind(incidence, size - incidence) ~ period + (1 | herd)", d)
    pd.testing.assert_frame_equal(d, before)
    with pytest.raises(ValueError):
        D.X[0, 0] = 5.0
    with pytest.raises(ValueError):
        D.blocks[0].codes[0] = 1


def test_model_matrix_is_pure_function_of_state():
    df = pd.DataFrame({"g": ["b", "a", "c"]})
    from bayesmixed.formula import Name, Term

    state: dict = {}
    X1, n1 = model_matrix((Term((Name("g"),)),), True, df, state, True, "t")
    X2, n2 = model_matrix((Term((Name("g"),)),), True, df.iloc[::-1].reset_index(drop=True), state, False, "t")
    assert n1 == n2 == ("Intercept", "gb", "gc")
    np.testing.assert_array_equal(X1[::-1], X2)
