"""Bad input gets a clear error naming the column, value and fix, before any compilation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm


@pytest.fixture
def sleep():
    return bm.datasets.load("sleepstudy")


def test_unknown_column_suggests_the_close_one(sleep):
    with pytest.raises(bm.DataError, match=r"column 'Day' \(used in the term Day\) is not in the data\. Did you mean 'Days'"):
        bm.Model("Reaction ~ Day + (1 | Subject)", sleep)


def test_misspelt_grouping_factor(sleep):
    with pytest.raises(bm.DataError, match=r"'subject' \(used in the grouping factor .*Did you mean 'Subject'"):
        bm.Model("Reaction ~ Days + (Days | subject)", sleep)


def test_grouping_factor_with_one_level(sleep):
    with pytest.raises(bm.DataError, match=r"grouping factor 'one' .* has only 1 level .*at least two groups"):
        bm.Model("Reaction ~ Days + (1 | one)", sleep.assign(one="a"))


def test_non_numeric_gaussian_response(sleep):
    with pytest.raises(bm.DataError, match=r"response 'Subject' is not numeric: it has 18 distinct values"):
        bm.Model("Subject ~ Days", sleep)


def test_two_level_category_is_rejected_for_gaussian(sleep):
    d = sleep.assign(fast=np.where(sleep.Reaction < 280, "yes", "no"))
    with pytest.raises(bm.DataError, match="gaussian"):
        bm.Model("fast ~ Days + (1 | Subject)", d)


def test_empty_data(sleep):
    with pytest.raises(bm.DataError, match="empty"):
        bm.Model("Reaction ~ Days + (1 | Subject)", sleep.iloc[:0])


def test_unbalanced_parentheses(sleep):
    with pytest.raises(bm.FormulaError, match="never closed"):
        bm.Model("Reaction ~ Days + (Days | Subject", sleep)


def test_all_missing_column(sleep):
    with pytest.raises(bm.DataError, match=r"No complete rows are left"):
        bm.Model("Reaction ~ x + (1 | Subject)", sleep.assign(x=np.nan))


def test_log_of_zero_is_named(sleep):
    with pytest.raises(bm.DataError, match=r"'log\(Days\)' is not finite .* on 18 row"):
        bm.Model("Reaction ~ log(Days) + (1 | Subject)", sleep)


def test_unknown_function(sleep):
    with pytest.raises(bm.DataError, match=r"unknown function lgo\(\).*Did you mean log\(\)"):
        bm.Model("Reaction ~ lgo(Days) + (1 | Subject)", sleep)


def test_not_a_dataframe():
    with pytest.raises(bm.DataError, match="pandas DataFrame"):
        bm.Model("y ~ x", [1, 2, 3])


def test_unknown_family_and_link(sleep):
    with pytest.raises(bm.DataError, match="unknown family 'gausian'"):
        bm.Model("Reaction ~ Days", sleep, family="gausian")
    with pytest.raises(bm.DataError, match="no link 'logit'"):
        bm.Model("Reaction ~ Days", sleep, family="gaussian", link="logit")


def test_prior_errors(sleep):
    f = "Reaction ~ Days + (Days | Subject)"
    with pytest.raises(bm.PriorError, match=r"no parameter 'sd_Subjct'.*Did you mean 'sd_Subject'"):
        bm.Model(f, sleep, priors={"sd_Subjct": bm.Prior("half_normal", sigma=1)})
    with pytest.raises(bm.PriorError, match="must be positive-valued"):
        bm.Model(f, sleep, priors={"sd_Subject": bm.Prior("normal", mu=0, sigma=1)})
    with pytest.raises(bm.PriorError, match="needs the parameter"):
        bm.Prior("half_normal")
    with pytest.raises(bm.PriorError, match="Did you mean 'half_normal'"):
        bm.Prior("halfnorml", sigma=1)
    with pytest.raises(bm.PriorError, match="must be positive"):
        bm.Prior("half_normal", sigma=-1)


def test_parameterization_errors(sleep):
    with pytest.raises(bm.BayesMixedError, match="not a random-effect term"):
        bm.Model("Reaction ~ Days + (1 | Subject)", sleep, parameterization={"Subjct": "centered"})
    with pytest.raises(bm.BayesMixedError, match="unknown parameterization"):
        bm.Model("Reaction ~ Days + (1 | Subject)", sleep, parameterization="sideways")


def test_errors_come_before_any_compilation(sleep, monkeypatch):
    import bayesmixed.backends.pymc as backend

    def boom(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("compiled")

    monkeypatch.setattr(backend, "build_model", boom)
    with pytest.raises(bm.DataError):
        bm.Model("Reaction ~ Days + (1 | Subjet)", sleep)


def test_grouping_factor_with_fractional_numbers():
    df = pd.DataFrame({"y": [1.0, 2, 3, 4], "g": [0.5, 1.5, 0.5, 1.5]})
    with pytest.raises(bm.DataError, match="non-integer numbers"):
        bm.Model("y ~ 1 + (1 | g)", df)
