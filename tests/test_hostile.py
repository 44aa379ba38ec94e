"""Hostile inputs (issue 21): data types and shapes, wrong usage, persistence faults, cache corruption and
concurrency, code injection through formulas, files and model cards, and misleading messages.

Every case ends in one of three ways, and the test says which: a :class:`bm.BayesMixedError` (or subclass)
naming the problem and the fix, a correct result, or a recovery; never a deep traceback, a silent wrong number,
a hang (each case runs under a deadline), executed code (planted code writes a marker file that must not
appear) or a modified input.

``DOC_CASES`` are refused before anything is compiled; they are listed, with their messages, in
``docs/bad_inputs.md`` (generated with the catalogue of ``tests/test_bad_inputs.py``: ``python
tests/test_bad_inputs.py``). ``CASES`` are the others, each a function.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import warnings
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed import _privatecache as pc

from conftest import _synthetic_fit
from test_bad_inputs import Case, assert_refused, demo

ROOT = Path(__file__).resolve().parents[1]
H, U = "Hostile data", "Fitting arguments"
M = 'bm.Model("y ~ x + (1 | g)", df)'

DOC_CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ names that collide in the posterior
    Case("hostile-column-named-intercept", H, "A column called `Intercept` used as a predictor",
         "demo().assign(Intercept=demo().x * 2)", 'bm.Model("y ~ Intercept + (1 | g)", df)', bm.DataError,
         r"two fixed-effect coefficients would both be named 'Intercept'",
         "Rename the column, or write `0 + Intercept` to drop the model's own intercept."),
    *(Case(f"hostile-grouping-named-{name}", H, f"A grouping column called `{name}`", f"demo().assign({name}=demo().g)",
           f'bm.Model("y ~ x + (1 | {name})", df)', bm.DataError,
           rf"the grouping factor '{name}' of \(1 \| {name}\) would name '{name}' in the posterior",
           f"Rename the column, e.g. `df.rename(columns={{'{name}': '{name}_id'}})`.")
      for name in ("chain", "draw", "coef", "sigma", "beta")),
    Case("hostile-term-labels-collide", H, "Term labels that collide: `(1 | g) + (0 + x | g) + (1 | g_2)`",
         "demo().assign(g_2=demo().f)", 'bm.Model("y ~ x + (1 | g) + (0 + x | g) + (1 | g_2)", df)', bm.DataError,
         r"\(0 \+ x \| g\) and \(1 \| g_2\) would both be labelled 'g_2'",
         "Rename the grouping column `g_2`, or combine the two terms on `g`."),
    Case("hostile-grouping-named-like-a-variable", H, "A grouping column named like another term's variable",
         "demo().assign(sd_g=demo().f)", 'bm.Model("y ~ x + (1 | g) + (1 | sd_g)", df)', bm.DataError,
         r"would name 'sd_g' in the posterior, which already stands for the term \(1 \| g\)",
         "Rename the column."),
    # ------------------------------------------------------------------ the response on both sides
    Case("hostile-response-as-predictor", H, "The response on both sides: `y ~ y`", "demo()",
         'bm.Model("y ~ y + (1 | g)", df)', bm.DataError,
         r"the response column 'y' is also used on the right-hand side \(the term y\)",
         "Remove the response from the right-hand side."),
    Case("hostile-response-in-random-term", H, "The response as a random slope", "demo()",
         'bm.Model("y ~ x + (y | g)", df)', bm.DataError, r"response column 'y' is also used .*\(1 \+ y \| g\)",
         "Remove the response from the right-hand side."),
    Case("hostile-response-transformed-as-predictor", H, "The response, transformed, as a predictor", "demo()",
         'bm.Model("y ~ log(y + 5) + (1 | g)", df)', bm.DataError, r"response column 'y' is also used",
         "Remove the response from the right-hand side."),
    # ------------------------------------------------------------------ values
    Case("hostile-grouping-1-and-text-1", H, "A grouping column holding both `1` and `\"1\"`",
         "demo().assign(h=[1, '1', 2, '2'] * 3)", 'bm.Model("y ~ x + (1 | h)", df)', bm.DataError,
         r"grouping factor 'h' of \(1 \| h\) has levels 1 and '1' that read the same \('1'\).*merged",
         "Convert the column to one type, e.g. `df.h.astype(str)`."),
    Case("hostile-infinite-trials", H, "Infinite numbers of binomial trials", "demo().assign(n=np.inf)",
         'bm.Model("k | trials(n) ~ x + (1 | g)", df, family="binomial")', bm.DataError,
         r"the numbers of trials of the response 'k \| trials\(n\)' are not finite \(inf\) on 12 row\(s\)",
         "Fix or drop those rows."),
    Case("hostile-infinite-trials-cbind", H, "Infinite failures in `cbind(s, f)`", "demo().assign(n=np.inf)",
         'bm.Model("cbind(k, n - k) ~ x + (1 | g)", df, family="binomial")', bm.DataError,
         r"numbers of trials of the response 'cbind\(k, n - k\)' are not finite", "Fix or drop those rows."),
    Case("hostile-one-row-per-level", H, "As many levels as rows in a Gaussian model (lme4 refuses)",
         "pd.DataFrame({'y': np.linspace(0, 1, 60), 'g': np.arange(60)})", 'bm.Model("y ~ 1 + (1 | g)", df)',
         bm.DataError,
         r"number of levels of each grouping factor must be < number of observations \(problems: 'g' of "
         r"\(1 \| g\) has 60 levels for 60 observations\)",
         "Drop the term (its variation is the residual), give `sigma` an informative prior (a known measurement "
         "SD, as in eight schools), or fit a family without a residual SD."),
    Case("hostile-constant-gaussian-response", H, "A constant response in a Gaussian model", "demo().assign(y=3.0)",
         M, bm.DataError, r"the response 'y' is constant \(3 on all 12 rows\)", "Check the column."),
    Case("hostile-huge-predictor", H, "A predictor of magnitude 1e200", "demo().assign(x=demo().x * 1e200)", M,
         bm.DataError, r"'x' has values as large as 1\.1e\+201 .*overflow; rescale it",
         "Rescale the column (other units, or `scale(x)` in the formula)."),
    Case("hostile-huge-response", H, "A response of magnitude 1e150", "demo().assign(y=demo().y * 1e150)", M,
         bm.DataError, r"'y' has values as large as 2\.4e\+150", "Rescale the response."),
    Case("hostile-interval-predictor", H, "A pandas Interval column as a predictor",
         "demo().assign(iv=pd.IntervalIndex.from_breaks([0, 1, 2])[[0, 1] * 6])", 'bm.Model("y ~ iv + (1 | g)", df)',
         bm.DataError, r"column 'iv' has dtype interval.*astype\(str\)",
         "Convert it: to numbers (its midpoints), or to a category with `astype(str)`."),
    Case("hostile-period-predictor", H, "A pandas Period column as a predictor",
         "demo().assign(pe=pd.period_range('2020-01', periods=12, freq='M'))", 'bm.Model("y ~ pe + (1 | g)", df)',
         bm.DataError, r"column 'pe' has dtype period\[M\]", "Convert it to numbers or to text."),
    Case("hostile-complex-predictor", H, "A complex-valued predictor", "demo().assign(c=demo().x + 1j)",
         'bm.Model("y ~ c + (1 | g)", df)', bm.DataError, r"column 'c' has dtype complex128", "Use a real part."),
    Case("hostile-timedelta-predictor", H, "A duration column as a predictor",
         "demo().assign(td=pd.to_timedelta(demo().x, unit='D'))", 'bm.Model("y ~ td + (1 | g)", df)', bm.DataError,
         r"column 'td' has dtype timedelta64.*total_seconds", "Convert it, e.g. `.dt.total_seconds()`."),
    Case("hostile-boolean-gaussian-response", H, "A True/False response with the Gaussian family",
         "demo().assign(b=demo().x > 5)", 'bm.Model("b ~ x + (1 | g)", df)', bm.DataError,
         r"the response 'b' is categorical with levels False and True; family 'gaussian' needs numbers",
         "Use `family=\"bernoulli\"`."),
    Case("hostile-series-as-data", H, "A Series instead of a data frame", "demo()", 'bm.Model("y ~ x", df.y)',
         bm.DataError, r"data must be a pandas DataFrame \(or a dict of columns\), got pandas\.Series",
         "Pass the whole data frame."),
    Case("hostile-multiindex-columns", H, "Two-level column names (a MultiIndex)", "demo()",
         'bm.Model("y ~ x + (1 | g)", pd.concat({"a": df}, axis=1))', bm.DataError,
         r"column names of 2 levels \(a MultiIndex, e\.g\. \('a', 'y'\)\); flatten them", "Flatten the names."),
    Case("hostile-list-of-rows", H, "A list of rows as data", "demo()", 'bm.Model("y ~ x", df.values.tolist())',
         bm.DataError, r"got builtins\.list", "Build a DataFrame first."),
    # ------------------------------------------------------------------ formulas: quoting and code
    Case("hostile-patsy-Q", H, "patsy's `Q(\"my x\")` for a column with a space",
         "demo().assign(**{'my x': demo().x})", "bm.Model('y ~ Q(\"my x\") + (1 | g)', df)", bm.DataError,
         r"unknown function Q\(\).*quote it with backticks: `my x`", "Write `` `my x` ``."),
    Case("hostile-formula-python-code", H, "Python code in a formula", "demo()",
         "bm.Model(\"y ~ __import__('os').system('touch planted') + (1 | g)\", df)", bm.FormulaError,
         r"unexpected", "A formula names columns and R's functions; nothing in it is run."),
    Case("hostile-formula-import-in-I", H, "`__import__` inside `I()`", "demo()",
         "bm.Model('y ~ I(__import__(\"os\")) + (1 | g)', df)", bm.DataError, r"unknown function __import__\(\)",
         "Compute the column in Python, then name it."),
    Case("hostile-formula-eval", H, "`eval()` in a formula", "demo()", "bm.Model('y ~ eval(\"x\") + (1 | g)', df)",
         bm.DataError, r"unknown function eval\(\)", "Name the column."),
    Case("hostile-formula-lambda", H, "A lambda in a formula", "demo()", "bm.Model('y ~ (lambda: x)() + (1 | g)', df)",
         bm.FormulaError, r"unexpected", "Name the column."),
    Case("hostile-formula-backtick-code", H, "Code between backticks (a column name)", "demo()",
         "bm.Model(\"y ~ `__import__('os')` + (1 | g)\", df)", bm.DataError,
         r"column \"__import__\('os'\)\" .* is not in the data", "Backticks quote column names only."),
    Case("hostile-formula-too-long", H, "A formula of 20,000 terms", "demo()",
         'bm.Model("y ~ " + " + ".join(["x"] * 20000), df)', bm.FormulaError,
         r"the formula is too long or too deeply nested to read \(80001 characters\)",
         "Build the combined column in the data frame."),
    Case("hostile-prior-as-text", H, "A prior written as text", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, priors={"sigma": "normal(0, 1)"})', bm.PriorError,
         r"prior for 'sigma' must be a bayesmixed\.Prior or a dict with a 'dist' key, got str",
         "Use `bm.Prior(\"normal\", mu=0, sigma=1)`; text is never evaluated."),
    Case("hostile-prior-parameter-code", H, "Code as a prior parameter", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, priors={"sigma": {"dist": "half_normal", "sigma": "__import__(\'os\')"}})',
         bm.PriorError, r"sigma", "Give numbers."),
    # ------------------------------------------------------------------ prediction
    Case("hostile-new-levels-of-another-type", H, "New data giving numbers where the model's levels are text",
         "pd.DataFrame({'x': [1.0], 'f': [1], 'g': ['a']})",
         'encode(bm.Model("y ~ x + f + (1 | g)", demo().assign(f=["1", "2"] * 6)).design, df)', bm.DataError,
         r"'f' has level\(s\) 1 where the model was fitted to '1', '2': the same names, of another type",
         "Convert the column, e.g. `new_data.f.astype(str)`."),
    # ------------------------------------------------------------------ fitting arguments (refused before compiling)
    *(Case(f"hostile-fit-{cid}", U, f"`model.fit({arg})`", "demo()", f"{M}.fit({arg})", bm.BayesMixedError, match,
           fix)
      for cid, arg, match, fix in (
          ("seed-text", 'seed="abc"', r"seed must be None or a whole number from 0 to 2\*\*64 - 1, got 'abc' \(a text",
           "`seed=1`."),
          ("seed-negative", "seed=-1", r"seed must be None or a whole number .* got -1", "A seed >= 0."),
          ("seed-fraction", "seed=1.5", r"seed must be .* got 1\.5", "A whole number."),
          ("seed-huge", "seed=2**70", r"seed must be .* from 0 to 2\*\*64 - 1, got 1180591620717411303424",
           "A seed below 2**64."),
          ("seed-bool", "seed=True", r"seed must be .* got True", "A number."),
          ("draws-bool", "draws=True", r"draws must be a positive whole number, got True", "`draws=1000`."),
          ("draws-fraction", "draws=1.5", r"draws must be a positive whole number, got 1\.5", "A whole number."),
          ("tune-negative", "tune=-1", r"tune must be a whole number >= 0, got -1", "`tune=0` or more."),
          ("chains-zero", "chains=0", r"chains must be a positive whole number, got 0", "`chains=1` or more."),
          ("chains-text", 'chains="4"', r"chains must be a positive whole number, got '4'", "`chains=4`."),
          ("cores-negative", "cores=-1", r"cores must be None \(one per chain\) or a positive whole number, got -1",
           "`cores=None`."),
          ("cores-zero", "cores=0", r"cores must be None .* got 0", "`cores=1` or more."),
          ("target-accept-text", 'target_accept="0.9"', r"target_accept must lie in \(0, 1\), got '0\.9'",
           "A number."),
          ("target-accept-one", "target_accept=1.0", r"target_accept must lie in \(0, 1\), got 1\.0", "E.g. 0.95."),
          ("log-likelihood-text", 'log_likelihood="maybe"', r"log_likelihood must be True, False or 'auto'",
           "One of those."),
          ("sampler-none", "sampler=None", r"sampler must be a name such as 'auto'", "`sampler=\"auto\"`."),
          ("sampler-unknown", 'sampler="stan"', r"unknown sampler 'stan'", "One of the listed samplers."),
          ("trajectory-unknown", 'trajectory="fast"', r"trajectory must be 'auto', 'nuts' or 'static'",
           "One of those."),
      )),
)


# ====================================================================================== the other cases
@dataclass(frozen=True)
class Hostile:
    """One hostile input: ``run(tmp_path)`` does it; ``expect`` is ``"error"`` (a BayesMixedError matching
    ``match``), ``"result"`` or ``"recovery"`` (``run`` asserts what is right itself)."""

    id: str
    group: str
    title: str
    run: Callable[[Path], Any]
    expect: str
    match: str = ""


CASES: dict[str, Hostile] = {}


def case(group: str, title: str, expect: str = "result", match: str = ""):
    def register(fn):
        cid = fn.__name__.removeprefix("c_").replace("_", "-")
        assert cid not in CASES, cid
        CASES[cid] = Hostile(cid, group, title, fn, expect, match)
        return fn

    return register


P = {"beta": {"Intercept": 1.0, "x": 0.1}, "sd": {"g": [0.5]}, "sigma": 1.0}


def _fit(data=None, formula="y ~ x + (1 | g)", params=P, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _synthetic_fit(formula, demo() if data is None else data, params, **kw)


class _Planted:
    """Unpickling this writes a marker file: proof that planted code ran."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ------------------------------------------------------------------ data types and shapes that work
@case("data", "A polars-like data frame (converts itself with to_pandas())")
def c_polars_like_frame_converts(tmp):
    class DataFrame:
        __module__ = "polars.dataframe.frame"

        def to_pandas(self):
            return demo()

    m = bm.Model("y ~ x + (1 | g)", DataFrame())
    assert m.design.n == 12


@case("data", "A foreign frame without to_pandas()", "error", r"got polars\.DataFrame")
def c_foreign_frame_without_conversion(tmp):
    class DataFrame:
        __module__ = "polars.dataframe.frame"

    bm.Model("y ~ x + (1 | g)", DataFrame())


@case("data", "An Interval column as the grouping factor: fitted, saved, loaded, predicted alike")
def c_interval_grouping_round_trip(tmp):
    df = demo().assign(iv=pd.IntervalIndex.from_breaks([0, 1, 2, 3, 4])[[0, 1, 2, 3] * 3])
    before = df.copy()
    fit = _fit(df, "y ~ x + (1 | iv)", {**P, "sd": {"iv": [0.5]}})
    back = bm.load(fit.save(tmp / "iv.bmfit"))
    pd.testing.assert_frame_equal(back.predict(df), fit.predict(df))
    pd.testing.assert_frame_equal(df, before)


@case("data", "A Period column as the grouping factor: saved and loaded")
def c_period_grouping_round_trip(tmp):
    df = demo().assign(pe=pd.period_range("2020-01", periods=4, freq="M")[[0, 1, 2, 3] * 3])
    fit = _fit(df, "y ~ x + (1 | pe)", {**P, "sd": {"pe": [0.5]}})
    back = bm.load(fit.save(tmp / "pe.bmfit"))
    assert back.design.blocks[0].levels == ("2020-01", "2020-02", "2020-03", "2020-04")
    pd.testing.assert_frame_equal(back.predict(df), fit.predict(df))


@case("data", "Interval and Period columns beside the model's (unused) do not stop a save")
def c_unused_odd_columns_save(tmp):
    df = demo().assign(iv=pd.IntervalIndex.from_breaks(range(13)), pe=pd.period_range("2020-01", periods=12, freq="M"))
    assert bm.load(_fit(df).save(tmp / "u.bmfit")).design.n == 12


@case("data", "A column name with a space, quoted with backticks")
def c_backtick_column(tmp):
    m = bm.Model("y ~ `my x` + (1 | g)", demo().assign(**{"my x": demo().x}))
    assert m.design.x_names == ("Intercept", "`my x`") or "my x" in "".join(m.design.x_names)


@case("data", "A nullable Int64 predictor with a missing value: the row is dropped with a warning")
def c_nullable_integer_with_na(tmp):
    df = demo().assign(xi=pd.array([1, 2, None, 4] * 3, dtype="Int64"))
    with pytest.warns(UserWarning, match=r"dropped 3 of 12 rows with missing values in 'xi'"):
        m = bm.Model("y ~ xi + (1 | g)", df)
    assert m.design.n == 9


@case("data", "A pandas string-dtype grouping column")
def c_string_dtype_grouping(tmp):
    m = bm.Model("y ~ x + (1 | gs)", demo().assign(gs=demo().g.astype("string")))
    assert m.design.blocks[0].levels == ("a", "b", "c", "d")


@case("data", "A categorical grouping column with unused categories keeps only the present ones")
def c_unused_categories(tmp):
    m = bm.Model("y ~ x + (1 | gc)", demo().assign(gc=pd.Categorical(demo().g, categories=list("zabcd"))))
    assert m.design.blocks[0].levels == ("a", "b", "c", "d")


@case("data", "A dict of columns as data")
def c_dict_of_columns(tmp):
    assert bm.Model("y ~ x + (1 | g)", demo().to_dict("list")).design.n == 12


@case("data", "Unicode column names")
def c_unicode_names(tmp):
    m = bm.Model("ÿ ~ größe + (1 | gruppe)", demo().rename(columns={"y": "ÿ", "x": "größe", "g": "gruppe"}))
    assert "größe" in m.design.x_names


@case("data", "Whole floats and integers as group IDs name the same groups")
def c_float_and_int_ids(tmp):
    a = bm.Model("y ~ x + (1 | h)", demo().assign(h=[1.0, 2.0, 3.0, 4.0] * 3)).design.blocks[0]
    b = bm.Model("y ~ x + (1 | h)", demo().assign(h=[1, 2, 3, 4] * 3)).design.blocks[0]
    assert a.levels == b.levels and (a.codes == b.codes).all()


@case("data", "Text group IDs '1', '2' in new data for a model fitted on integer IDs: the same groups")
def c_text_ids_for_integer_groups(tmp):
    fit = _fit(demo().assign(g=[1, 2, 3, 4] * 3))
    a = fit.predict(pd.DataFrame({"x": [1.0, 2.0], "g": ["1", "2"]}))
    b = fit.predict(pd.DataFrame({"x": [1.0, 2.0], "g": [1, 2]}))
    np.testing.assert_allclose(a["mean"], b["mean"])


@case("data", "A formula nested 3,000 parentheses deep: read, or refused, without a hang")
def c_deeply_nested_formula(tmp):
    try:
        m = bm.Model("y ~ " + "(" * 3000 + "x" + ")" * 3000 + " + (1 | g)", demo())
        assert m.design.x_names == ("Intercept", "x")
    except bm.BayesMixedError as err:
        assert "too deeply nested" in str(err)


@case("data", "CSV cells that look like spreadsheet formulas are data, not code")
def c_spreadsheet_formula_cells(tmp):
    df = demo().assign(f=["=cmd|' /C calc'!A0", "@SUM(1+1)"] * 6)
    m = bm.Model("y ~ x + f + (1 | g)", df)
    assert len(m.design.x_names) == 3


@case("data", "10^5 levels of one row each (Gaussian): refused at once, before any sampling", "error",
      r"has 100000 levels for 100000 observations")
def c_hundred_thousand_single_row_levels(tmp):
    n = 100_000
    df = pd.DataFrame({"y": np.random.default_rng(0).normal(size=n), "g": np.arange(n)})
    bm.Model("y ~ 1 + (1 | g)", df)


@case("data", "One row per level with a prior on sigma (eight schools: a known measurement SD) is accepted")
def c_one_row_per_level_with_sigma_prior(tmp):
    df = pd.DataFrame({"y": np.linspace(0, 1, 8), "g": np.arange(8)})
    m = bm.Model("y ~ 1 + (1 | g)", df, priors={"sigma": bm.Prior("gamma", alpha=400.0, beta=400.0 / 0.5)})
    assert m.design.blocks[0].n_levels == 8


@case("data", "One row per level is fine for a Poisson model (no residual SD to confuse)")
def c_one_row_per_level_poisson(tmp):
    df = pd.DataFrame({"k": np.arange(40) % 5, "g": np.arange(40)})
    assert bm.Model("k ~ 1 + (1 | g)", df, family="poisson").design.blocks[0].n_levels == 40


@case("data", "A column called `obs` (lme4's observation-level factor) stays allowed")
def c_observation_level_factor_named_obs(tmp):
    df = demo().assign(obs=np.arange(12))
    m = bm.Model("k | trials(n) ~ x + (1 | g) + (1 | obs)", df, family="binomial")
    assert [b.label for b in m.design.blocks] == ["g", "obs"]


# ------------------------------------------------------------------ wrong usage after fitting
@case("usage", "ranef() of a term the model does not have", "error", r"no random-effect term 'nope'; the model has 'g'")
def c_ranef_unknown_term(tmp):
    err = None
    try:
        _fit().ranef("nope")
    except KeyError as e:  # also a KeyError, as lookups are
        err = e
        raise
    finally:
        assert err is None or str(err).startswith("no random")  # no quotes around the message


@case("usage", "shrinkage() of a coefficient the term does not vary", "error", r"term 'g' has no varying coefficient 'zz'")
def c_shrinkage_unknown_coefficient(tmp):
    _fit().shrinkage("g", term="zz")


@case("usage", "coef() of a term the model does not have", "error", r"no random-effect term 'h'")
def c_coef_unknown_term(tmp):
    _fit().coef("h")


@case("usage", "predict() on new data without a used column", "error", r"column 'x' \(used in the term x\) is not in the data")
def c_predict_missing_column(tmp):
    _fit().predict(pd.DataFrame({"g": ["a"]}))


@case("usage", "predict(groups='maybe')", "error", r"groups must be one of 'include', 'exclude', 'sample_new'")
def c_predict_bad_groups(tmp):
    _fit().predict(demo(), groups="maybe")


@case("usage", "predict() on a list", "error", r"new_data must be a pandas DataFrame")
def c_predict_list(tmp):
    _fit().predict([1, 2, 3])


@case("usage", "loo(by=...) of a term the model does not have", "error", r"no random-effect term 'nope'")
def c_loo_unknown_by(tmp):
    _fit().loo(by="nope")


@case("usage", "loo() of a fit stored without its log-likelihood", "error", r"add_log_likelihood")
def c_loo_without_log_likelihood(tmp):
    _fit(loglik=False).loo()


@case("usage", "kfold(n_workers=0)", "error", r"n_workers must be a positive whole number \(1 runs the refits in this process\)")
def c_kfold_zero_workers(tmp):
    _fit().kfold(k=2, n_workers=0, draws=10, tune=10, chains=1)


@case("usage", "kfold(seed='x')", "error", r"seed must be None or a whole number")
def c_kfold_text_seed(tmp):
    _fit().kfold(k=2, seed="x")


@case("usage", "kfold(client=42)", "error", r"client must be None \(refits on this machine\), a distributed\.Client")
def c_kfold_client_number(tmp):
    _fit().kfold(k=2, client=42, draws=10, tune=10, chains=1)


@case("usage", "kfold(client=...) without Dask installed", "error", r"pip install 'bayesmixed\[dask\]'")
def c_kfold_client_without_dask(tmp):
    saved = sys.modules.get("distributed")
    sys.modules["distributed"] = None  # what an install without the dask extra looks like to an import
    try:
        _fit().kfold(k=2, client="tcp://127.0.0.1:8786", draws=10, tune=10, chains=1)
    finally:
        if saved is None:
            sys.modules.pop("distributed", None)
        else:
            sys.modules["distributed"] = saved


@case("usage", "kfold(k=1)", "error", r"k must be a whole number from 2 to the number of rows \(12\), got 1")
def c_kfold_one_fold(tmp):
    _fit().kfold(k=1)


@case("usage", "kfold(thin=2): a setting refits do not have", "error", r"unknown refit setting\(s\) 'thin'")
def c_kfold_unknown_setting(tmp):
    _fit().kfold(k=2, thin=2)


@case("usage", "compare.kfold() on something that is not a fit", "error", r"kfold needs a fitted model")
def c_kfold_not_a_fit(tmp):
    bm.compare.kfold("fit", k=2)


@case("usage", "calibrate() of a formula instead of a Model", "error", r"calibrate needs a bm\.Model")
def c_calibrate_formula(tmp):
    bm.calibrate("y ~ x", n_sims=2)


@case("usage", "calibrate(seed=-1)", "error", r"seed must be None or a whole number")
def c_calibrate_negative_seed(tmp):
    bm.calibrate(bm.Model("y ~ x + (1 | g)", demo()), n_sims=2, seed=-1)


@case("usage", "calibrate(n_sims=0)", "error", r"n_sims must be a whole number >= 1, got 0")
def c_calibrate_no_simulations(tmp):
    bm.calibrate(bm.Model("y ~ x + (1 | g)", demo()), n_sims=0)


@case("usage", "compare() of a list", "error", r"compare needs a dict of at least two models")
def c_compare_list(tmp):
    bm.compare([_fit(), _fit()])


@case("usage", "compare() of things that are not models", "error", r"'a' is a str: compare takes bayesmixed fits")
def c_compare_strings(tmp):
    bm.compare({"a": "x", "b": "y"})


@case("usage", "compare() of fits of different data of the same length", "error", r"fitted to different data")
def c_compare_different_data(tmp):
    other = demo().assign(y=demo().y[::-1].to_numpy())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bm.compare({"a": _fit(), "b": _fit(other)})


@case("usage", "compare() of estimates of different data", "error", r"fitted to different data")
def c_compare_estimates_of_different_data(tmp):
    other = demo().assign(y=demo().y + 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bm.compare({"a": _fit().loo(pointwise=True), "b": _fit(other).loo(pointwise=True)})


@case("usage", "compare() of WAIC with PSIS-LOO", "error", r"WAIC estimates cannot be ranked together")
def c_compare_waic_with_loo(tmp):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bm.compare({"a": _fit().loo(pointwise=True), "b": _fit().waic(pointwise=True)})


@case("usage", "compare() with unreliable PSIS-LOO: one warning with the exact k-fold call")
def c_compare_points_to_kfold(tmp):
    fit = _fit()
    idata = fit.idata.copy()
    ll = idata.log_likelihood["y"].values
    ll[..., 2] = -np.abs(np.random.default_rng(0).standard_cauchy(ll.shape[:2])) * 5.0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        bm.compare({"flexible": replace(fit, idata=idata), "plain": fit})
    assert sum("bm.compare(models, ic='kfold')" in str(r.message) for r in rec) == 1


@case("usage", "simulate() with one SD for every term")
def c_simulate_scalar_sd(tmp):
    a = bm.simulate("y ~ x + (1 | g)", demo(), {"beta": [1.0, 0.1], "sd": 0.5, "sigma": 1.0}, seed=2)
    b = bm.simulate("y ~ x + (1 | g)", demo(), {"beta": [1.0, 0.1], "sd": {"g": 0.5}, "sigma": 1.0}, seed=2)
    pd.testing.assert_frame_equal(a, b)


@case("usage", "simulate() with an SD given as text", "error", r"params\['sd'\] must be a number \(every term\) or a dict")
def c_simulate_text_sd(tmp):
    bm.simulate("y ~ x + (1 | g)", demo(), {"beta": [1.0, 0.1], "sd": "big", "sigma": 1.0})


@case("usage", "simulate() of a two-coefficient term with one SD", "error", r"needs 2 values, for \['Intercept', 'x'\]")
def c_simulate_scalar_sd_two_coefficients(tmp):
    bm.simulate("y ~ x + (x | g)", demo(), {"beta": [1.0, 0.1], "sd": 0.5, "sigma": 1.0})


@case("usage", "The largest seed numpy and nutpie take is accepted")
def c_largest_seed(tmp):
    from bayesmixed import _validate

    assert _validate.seed(2**64 - 1) == 2**64 - 1 and _validate.seed(np.int64(3)) == 3


# ------------------------------------------------------------------ persistence faults
def _saved(tmp: Path) -> Path:
    return _fit().save(tmp / "good.bmfit")


def _rewrite(src: Path, dst: Path, manifest=None, arrays=None, idata=None) -> Path:
    """A copy of a saved fit with the manifest edited (``manifest(m)``) or a part replaced (bytes)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "manifest.json" and manifest is not None:
                m = json.loads(data)
                manifest(m)
                data = json.dumps(m).encode()
            elif item.filename.endswith(".npz") and arrays is not None:
                data = arrays(data)
            elif item.filename.endswith(".nc") and idata is not None:
                data = idata(data)
            zout.writestr(item, data)
    return dst


@case("persistence", "Loading a file that does not exist", "error", r"no such file: .*check the path")
def c_load_missing(tmp):
    try:
        bm.load(tmp / "missing.bmfit")
    except FileNotFoundError as err:  # also a FileNotFoundError
        assert isinstance(err, bm.BayesMixedError)
        raise


@case("persistence", "Loading a folder", "error", r"is a folder, not a saved fit")
def c_load_folder(tmp):
    bm.load(tmp)


@case("persistence", "Loading a truncated file", "error", r"is not a bayesmixed fit file \(not a zip archive\)")
def c_load_truncated(tmp):
    raw = _saved(tmp).read_bytes()
    (tmp / "cut.bmfit").write_bytes(raw[: len(raw) // 2])
    bm.load(tmp / "cut.bmfit")


@case("persistence", "Loading a text file", "error", r"not a zip archive")
def c_load_text(tmp):
    (tmp / "notes.bmfit").write_text("root:x:0:0")
    bm.load(tmp / "notes.bmfit")


@case("persistence", "Loading the CLI's posterior.nc", "error", r"is a netCDF file: the posterior alone")
def c_load_netcdf(tmp):
    _fit().idata.to_netcdf(str(tmp / "posterior.nc"), engine="h5netcdf")
    bm.load(tmp / "posterior.nc")


def _manifest_case(edit):
    def run(tmp):
        bm.load(_rewrite(_saved(tmp), tmp / "edited.bmfit", manifest=edit))

    return run


for _cid, _title, _edit, _match in (
    ("manifest-without-formula", "A manifest without its formula", lambda m: m.pop("formula"), r"missing entry 'formula'"),
    ("manifest-without-family", "A manifest without its family", lambda m: m.pop("family"), r"missing entry 'family'"),
    ("manifest-unknown-family", "A manifest naming an unknown family", lambda m: m.update(family="nope"),
     r"unknown family 'nope'"),
    ("manifest-priors-not-a-list", "Priors replaced by text", lambda m: m.update(priors="abc"), r"manifest is damaged"),
    ("manifest-prior-text-parameter", "A prior parameter replaced by code",
     lambda m: m["priors"][0][1].update(sigma="__import__('os')"), r"manifest is damaged"),
    ("manifest-design-emptied", "The design entry emptied", lambda m: m.update(design={}), r"missing entry"),
    ("manifest-formula-edited", "The formula edited to Python code",
     lambda m: m.update(formula="y ~ __import__('os').system('touch planted')"), r"is not the design's"),
    ("manifest-sampler-info-text", "sampler_info replaced by text", lambda m: m.update(sampler_info="x"),
     r"sampler_info is a str"),
    ("manifest-version-text", "format_version as text", lambda m: m.update(format_version="1"),
     r"format_version '1' is not a positive integer"),
    ("manifest-newer-version", "A file of a newer format", lambda m: m.update(format_version=99),
     r"written by a newer bayesmixed .*upgrade"),
    ("manifest-other-terms", "A parameterisation naming other terms",
     lambda m: m.update(parameterization=[["h", "centered"]]), r"names other terms than the design"),
):
    CASES[_cid] = Hostile(_cid, "persistence", _title, _manifest_case(_edit), "error", _match)


@case("persistence", "Design arrays with an object (pickled) array", "error", r"arrays \(design\.npz\) cannot be read")
def c_load_pickled_arrays(tmp):
    import io

    def planted(_):
        buf = io.BytesIO()
        np.savez(buf, y=np.array([_Planted(tmp / "planted")], dtype=object))
        return buf.getvalue()

    try:
        bm.load(_rewrite(_saved(tmp), tmp / "npz.bmfit", arrays=planted))
    finally:
        assert not (tmp / "planted").exists()


@case("persistence", "Level codes edited to point outside the levels", "error", r"level codes of the term 'g' point outside")
def c_load_codes_out_of_range(tmp):
    import io

    def edit(raw):
        with np.load(io.BytesIO(raw)) as z:
            arrays = {k: z[k] for k in z.files}
        key = next(k for k in arrays if "codes" in k)
        arrays[key] = arrays[key] + 10
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        return buf.getvalue()

    bm.load(_rewrite(_saved(tmp), tmp / "codes.bmfit", arrays=edit))


@case("persistence", "A bit-rotted posterior (netCDF)", "error", r"its posterior \(idata\.nc\) cannot be read")
def c_load_rotted_netcdf(tmp):
    bm.load(_rewrite(_saved(tmp), tmp / "nc.bmfit", idata=lambda raw: raw[:100] + b"\0" * 60 + raw[160:]))


@case("persistence", "Another fit's posterior in the file (other levels)", "error", r"posterior of r_g does not have the term's levels")
def c_load_foreign_posterior(tmp):
    other = _fit(demo().assign(g=["a", "b", "c"] * 4)).save(tmp / "other.bmfit")
    with zipfile.ZipFile(other) as z:
        foreign = z.read("idata.nc")
    bm.load(_rewrite(_saved(tmp), tmp / "swapped.bmfit", idata=lambda raw: foreign))


@case("persistence", "Saving into a folder that does not exist", "error", r"the folder .* does not exist")
def c_save_missing_folder(tmp):
    _fit().save(tmp / "no" / "such" / "fit.bmfit")


@case("persistence", "Saving onto a folder", "error", r"it is a folder; give a file name")
def c_save_onto_folder(tmp):
    _fit().save(tmp)


@case("persistence", "Saving over an existing fit replaces it whole", "recovery")
def c_save_over_existing(tmp):
    a = _fit().save(tmp / "f.bmfit")
    b = _fit(demo().assign(y=demo().y + 1.0)).save(tmp / "f.bmfit")
    assert a == b and bm.load(b).design.y[0] == demo().y[0] + 1.0
    assert [p.name for p in tmp.iterdir()] == ["f.bmfit"]


# ------------------------------------------------------------------ the compile cache
@case("cache", "A pickle planted under a record's name is never unpickled")
def c_cache_planted_pickle(tmp):
    key = os.urandom(32)
    path = tmp / "record.json"
    path.write_bytes(pickle.dumps(_Planted(tmp / "planted")))
    os.chmod(path, 0o600)
    assert pc.read_record(path, key) is None and not (tmp / "planted").exists()


@case("cache", "A record signed with another key is ignored")
def c_cache_forged_signature(tmp):
    path = tmp / "r.json"
    pc.write_record(path, os.urandom(32), {"src": "open('planted', 'w')"})
    assert pc.read_record(path, os.urandom(32)) is None


@case("cache", "A truncated record is ignored")
def c_cache_truncated_record(tmp):
    key = os.urandom(32)
    pc.write_record(tmp / "r.json", key, {"a": list(range(100))})
    (tmp / "r.json").write_bytes((tmp / "r.json").read_bytes()[:40])
    assert pc.read_record(tmp / "r.json", key) is None


@case("cache", "A record that is a link to another file is ignored")
def c_cache_symlinked_record(tmp):
    key = os.urandom(32)
    pc.write_record(tmp / "real.json", key, {"a": 1})
    os.symlink(tmp / "real.json", tmp / "link.json")
    assert pc.read_record(tmp / "real.json", key) == {"a": 1} and pc.read_record(tmp / "link.json", key) is None


@case("cache", "A record others may write is ignored")
def c_cache_group_writable_record(tmp):
    key = os.urandom(32)
    pc.write_record(tmp / "r.json", key, {"a": 1})
    os.chmod(tmp / "r.json", 0o664)
    assert pc.read_record(tmp / "r.json", key) is None


@case("cache", "A record of another structure is not used for this model")
def c_cache_record_of_another_structure(tmp):
    from bayesmixed import _nutpie_compile as nc

    model = bm.Model("y ~ x + (1 | g)", demo(), parameterization="noncentered").build()
    rec = {"format": nc._CACHE_VERSION, "structure": nc._structure_hash("another structure"),
           "shape_info": [[v.name for v in model.value_vars], [], []], "arrays": {}}
    assert not nc._record_matches(model, rec, "this structure")
    assert nc._record_matches(model, {**rec, "structure": nc._structure_hash("this structure")}, "this structure")


@case("cache", "A key file readable by others is replaced (records signed with it stop counting)")
def c_cache_exposed_key(tmp):
    k1 = pc.user_key(tmp)
    os.chmod(tmp / "key", 0o644)
    assert pc.user_key(tmp) not in (None, k1)


@case("cache", "A cache folder of another user is not used", "recovery")
def c_cache_folder_of_another_user(tmp):
    real = pc._uid
    pc._uid = lambda: os.geteuid() + 1
    pc._WARNED.discard(str(tmp))
    try:
        with pytest.warns(UserWarning, match="belongs to another user"):
            assert pc.usable_dir(tmp) is None
    finally:
        pc._uid = real


@case("cache", "BAYESMIXED_CACHE_DIR pointing at a file", "recovery")
def c_cache_folder_is_a_file(tmp):
    (tmp / "file").write_text("x")
    with pytest.warns(UserWarning, match="it cannot be created|not a directory"):
        assert pc.usable_dir(tmp / "file") is None


@case("cache", "BAYESMIXED_CACHE_DIR where nothing can be created", "recovery")
def c_cache_folder_cannot_be_made(tmp):
    with pytest.warns(UserWarning, match="cannot be created"):
        assert pc.usable_dir(Path("/proc/bayesmixed-cache")) is None


@case("cache", "Eight threads writing one record at once: one whole record, no temporary file", "recovery")
def c_cache_concurrent_writers(tmp):
    payloads = [bytes([i]) * 100_000 for i in range(8)]
    threads = [threading.Thread(target=lambda p=p: [pc.write_private(tmp / "r", p) for _ in range(5)]) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (tmp / "r").read_bytes() in payloads and [p.name for p in tmp.iterdir()] == ["r"]


@case("cache", "Emptying the cache keeps the key and removes records, numba files and leftovers", "recovery")
def c_cache_clear_keeps_key(tmp):
    from bayesmixed import _nutpie_compile as nc

    old = os.environ.get("BAYESMIXED_CACHE_DIR")
    os.environ["BAYESMIXED_CACHE_DIR"] = str(tmp)
    try:
        pc.user_key(tmp)
        for name in ("a.json", "old.pkl", "bayesmixed_callbacks.logp_cb-k.py311.nbi", "x.nbc.tmp.1"):
            (tmp / name).write_text("x")
        assert nc.clear_disk_cache() == 2 and [p.name for p in tmp.iterdir()] == ["key"]
    finally:
        if old is None:
            del os.environ["BAYESMIXED_CACHE_DIR"]
        else:
            os.environ["BAYESMIXED_CACHE_DIR"] = old


# ------------------------------------------------------------------ model files and the command line
def _model_file(tmp: Path, text: str) -> Path:
    path = tmp / "model.toml"
    path.write_text(text)
    return path


def _cli(args: list[str]) -> tuple[int, str]:
    from bayesmixed.cli import main

    err = __import__("io").StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(__import__("io").StringIO()):
        rc = main(args)
    return rc, err.getvalue()


@case("files", "A model file pointing its data at /etc/passwd: refused, nothing of the file shown", "error",
      r"a model file may read only shipped data sets or \.csv files in its own folder")
def c_model_file_reads_system_file(tmp):
    from bayesmixed.modelfile import load_model_file

    try:
        load_model_file(_model_file(tmp, 'data = "/etc/passwd"\nformula = "y ~ x"\n')).load_data()
    except bm.BayesMixedError as err:
        assert "root:" not in str(err)
        raise


@case("files", "A model file reaching out of its folder (../secret.csv)", "error", r"only shipped data sets or \.csv files in its own folder")
def c_model_file_parent_path(tmp):
    from bayesmixed.modelfile import load_model_file

    (tmp.parent / "secret.csv").write_text("y,x\n1,2\n")
    load_model_file(_model_file(tmp, 'data = "../secret.csv"\nformula = "y ~ x"\n')).load_data()


@case("files", "A model file's CSV that is a link to a file outside its folder", "error", r"in its own folder")
def c_model_file_symlink_out(tmp):
    from bayesmixed.modelfile import load_model_file

    (tmp.parent / "outside.csv").write_text("y,x\n1,2\n")
    os.symlink(tmp.parent / "outside.csv", tmp / "inside.csv")
    load_model_file(_model_file(tmp, 'data = "inside.csv"\nformula = "y ~ x"\n')).load_data()


@case("files", "A model file's CSV in its own folder is read")
def c_model_file_local_csv(tmp):
    from bayesmixed.modelfile import load_model_file

    demo().to_csv(tmp / "d.csv", index=False)
    mf = load_model_file(_model_file(tmp, 'data = "d.csv"\nformula = "y ~ x + (1 | g)"\n'))
    assert mf.model().design.n == 12


@case("files", "A model file whose formula is Python code: refused, nothing runs", "error", r"unexpected")
def c_model_file_code_formula(tmp):
    from bayesmixed.modelfile import load_model_file

    try:
        text = 'data = "sleepstudy"\nformula = "Reaction ~ __import__(\'os\').system(\'touch planted\')"\n'
        load_model_file(_model_file(tmp, text)).model()
    finally:
        assert not Path("planted").exists() and not (tmp / "planted").exists()


@case("files", "A model file that is not TOML", "error", r"not valid TOML")
def c_model_file_bad_toml(tmp):
    from bayesmixed.modelfile import load_model_file

    load_model_file(_model_file(tmp, 'data = "sleepstudy"\nformula = "Reaction ~ Days\n'))


@case("files", "A model file with a number as formula", "error", r"formula must be a string, got int 3")
def c_model_file_wrong_type(tmp):
    from bayesmixed.modelfile import load_model_file

    load_model_file(_model_file(tmp, 'data = "sleepstudy"\nformula = 3\n'))


@case("files", "A model file with an unknown [fit] setting", "error", r"unknown key\(s\) thin in \[fit\]")
def c_model_file_unknown_fit_key(tmp):
    from bayesmixed.modelfile import load_model_file

    load_model_file(_model_file(tmp, 'data = "sleepstudy"\nformula = "Reaction ~ Days"\n[fit]\nthin = 2\n'))


@case("files", "A binary file as model file", "error", r"not a text file")
def c_model_file_binary(tmp):
    from bayesmixed.modelfile import load_model_file

    (tmp / "m.toml").write_bytes(b"\xff\xfe\x00\x01")
    load_model_file(tmp / "m.toml")


@case("files", "A folder as model file", "error", r"is not a file \(a folder\?\)")
def c_model_file_folder(tmp):
    from bayesmixed.modelfile import load_model_file

    load_model_file(tmp)


@case("files", "The command line with a broken model file: exit code 2, one line, no traceback", "recovery")
def c_cli_broken_model_file(tmp):
    rc, err = _cli(["fit", str(_model_file(tmp, 'data = "sleepstudy"\nformula = 3\n'))])
    assert rc == 2 and "Traceback" not in err and "formula must be a string" in err


@case("files", "The command line with --data a binary file: exit code 2, no contents shown", "recovery")
def c_cli_binary_data(tmp):
    (tmp / "b.csv").write_bytes(b"\xff\xfe\x00\x01secret-content")
    rc, err = _cli(["fit", "--formula", "y ~ x", "--data", str(tmp / "b.csv")])
    assert rc == 2 and "cannot be read as a CSV file" in err and "secret" not in err and "Traceback" not in err


@case("files", "The command line with --data a missing file: exit code 2", "recovery")
def c_cli_missing_data(tmp):
    rc, err = _cli(["fit", "--formula", "y ~ x", "--data", str(tmp / "nope.csv")])
    assert rc == 2 and "no such file" in err


@case("files", "The command line with --draws -5: refused before compiling, exit code 2", "recovery")
def c_cli_negative_draws(tmp):
    rc, err = _cli(["fit", "--formula", "Reaction ~ Days + (1 | Subject)", "--data", "sleepstudy", "--draws", "-5"])
    assert rc == 2 and "draws must be a positive whole number, got -5" in err


@case("files", "The command line with a model file that is a folder: exit code 2", "recovery")
def c_cli_model_file_folder(tmp):
    rc, err = _cli(["fit", str(tmp)])
    assert rc == 2 and "is not a file" in err


# ====================================================================================== the tests
@contextlib.contextmanager
def _deadline(seconds: int):
    """Fail instead of hanging (the main thread only; elsewhere no deadline is set)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TimeoutError(f"did not finish within {seconds} s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_there_are_enough_cases():
    assert len(DOC_CASES) + len(CASES) >= 110
    ids = [c.id for c in DOC_CASES] + list(CASES)
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("case", DOC_CASES, ids=lambda c: c.id)
def test_refused_before_compiling(case: Case, monkeypatch, tmp_path):
    """As the catalogue's cases (error class and message, nothing compiled, the data unchanged), within a deadline,
    and no code run (a formula's ``touch planted`` would create the file in the working directory)."""
    monkeypatch.chdir(tmp_path)
    with _deadline(60):
        assert_refused(case, monkeypatch)
    assert not (tmp_path / "planted").exists()


@pytest.mark.parametrize("cid", list(CASES))
def test_hostile(cid: str, tmp_path, monkeypatch):
    c = CASES[cid]
    monkeypatch.chdir(tmp_path)
    with _deadline(120):
        if c.expect == "error":
            with pytest.raises(bm.BayesMixedError, match=c.match):
                c.run(tmp_path)
        else:
            c.run(tmp_path)
    assert not (tmp_path / "planted").exists()


def test_real_polars_frame_is_converted():
    pl = pytest.importorskip("polars")
    pytest.importorskip("pyarrow")
    m = bm.Model("y ~ x + (1 | g)", pl.from_pandas(demo()))
    assert m.design.n == 12 and m.design.blocks[0].levels == ("a", "b", "c", "d")


@pytest.mark.slow
def test_unguarded_script_with_planted_cache_files_still_fits(tmp_path):
    """A cache folder full of planted files (a pickle under a record's name, junk numba files, a foreign key) and a
    fit in a fresh process: it compiles, fits, and nothing planted runs."""
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    marker = tmp_path / "planted"
    for name in ("0" * 40 + ".json", "0" * 40 + ".pkl", "bayesmixed_callbacks.logp_cb-x.py311.nbi"):
        (cache / name).write_bytes(pickle.dumps(_Planted(marker)))
    (cache / "key").write_text("00" * 32)
    os.chmod(cache / "key", 0o644)
    code = ("import bayesmixed as bm\n"
            "fit = bm.Model('Yield ~ 1 + (1 | Batch)', bm.datasets.load('Dyestuff'), parameterization='noncentered')"
            ".fit(draws=50, tune=50, chains=1, seed=1, progressbar=False)\n"
            "print('OK', fit.sampler_info['compile_path'])\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=tmp_path,
                         env={**os.environ, "BAYESMIXED_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert "OK fast" in out.stdout and not marker.exists()
