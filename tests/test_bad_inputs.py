"""The bad-input catalogue: every case a user can hit, its exact message, and its fix.

This table is the single source of truth of ``docs/bad_inputs.md``: ``python tests/test_bad_inputs.py``
regenerates the page by running every case, and :func:`test_catalogue_page_is_current` fails when the page
and the messages the code produces drift apart. Each case is run by :func:`test_bad_input`, which checks the
error class, the key part of the message, that nothing was compiled, and that the user's data are unchanged.
"""

from __future__ import annotations

import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import bayesmixed as bm
from bayesmixed.predict import encode

DOC = Path(__file__).resolve().parents[1] / "docs" / "bad_inputs.md"


def demo() -> pd.DataFrame:
    """12 rows: a numeric response ``y``, predictors ``x`` and ``z``, a two-level category ``f``, a grouping
    factor ``g`` with 4 groups, counts ``k`` out of ``n`` trials, and a proportion ``p``."""
    return pd.DataFrame(
        {
            "y": [2.1, -0.3, 1.4, 0.8, -1.2, 0.5, 1.9, 0.0, -0.7, 1.1, 0.3, 2.4],
            "x": [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0],
            "z": [1.5, 0.2, 3.3, 2.8, 0.9, 1.7, 2.2, 0.4, 3.9, 1.1, 2.6, 0.7],
            "f": ["lo", "hi"] * 6,
            "g": ["a", "b", "c", "d"] * 3,
            "k": [3, 0, 5, 2, 7, 1, 4, 4, 6, 2, 0, 5],
            "n": [8] * 12,
            "p": [0.2, 0.5, 0.7, 0.1, 0.9, 0.4, 0.6, 0.3, 0.8, 0.5, 0.2, 0.6],
        }
    )


@dataclass(frozen=True)
class Case:
    """One bad input.

    Attributes
    ----------
    id
        Stable identifier (the anchor in the page).
    section
        Heading of the page it is listed under.
    title
        What the user did.
    data
        Python expression building the user's data frame ``df`` (checked to be unchanged afterwards).
    call
        Python expression that fails (evaluated with ``bm``, ``np``, ``pd``, ``df``, ``demo``, ``encode``).
    error
        Expected error class.
    match
        Regular expression for the key part of the message.
    fix
        What to do instead.
    """

    id: str
    section: str
    title: str
    data: str
    call: str
    error: type
    match: str
    fix: str


F, D, R, P, Z, L, N = "Formulas", "Data", "Responses and families", "Priors", "Parameterization", "Family and link", "Prediction"
SM = "Smooth terms and residual correlation"
O = "Ordinal, categorical and distributional models"
CASES: tuple[Case, ...] = (
    # ------------------------------------------------------------------ formulas
    Case("formula-syntax", F, "A syntax error: two operators in a row", "demo()",
         'bm.Model("y ~ x + * z", df)', bm.FormulaError, r"unexpected '\*'\n  y ~ x \+ \* z\n {10}\^",
         "The caret points at the offending position; remove the stray operator."),
    Case("formula-unclosed", F, "An unclosed parenthesis", "demo()",
         'bm.Model("y ~ x + (1 | g", df)', bm.FormulaError, r"this '\(' is never closed",
         "Close the random-effect term: `(1 | g)`."),
    Case("formula-bad-character", F, "A character that is not formula syntax", "demo()",
         'bm.Model("y ~ x $ z", df)', bm.FormulaError, r"unexpected character '\$'",
         "Use `+` between terms; quote odd column names with backticks: `` `my col` ``."),
    Case("formula-not-string", F, "The formula is not a string", "demo()",
         'bm.Model(42, df)', bm.FormulaError, r"a formula must be a string .* got int",
         "Pass the formula as text, e.g. `\"y ~ x + (1 | g)\"`."),
    Case("formula-no-response", F, "The response is missing", "demo()",
         'bm.Model("~ x + (1 | g)", df)', bm.FormulaError, r"the response is missing before '~'",
         "Write the response left of `~`: `y ~ x + (1 | g)`."),
    Case("formula-no-tilde", F, "No `~` (an `=` instead)", "demo()",
         'bm.Model("y = x", df)', bm.FormulaError, r"'=' is not a formula operator \(did you mean '~'\?\)",
         "Use `~` between the response and the predictors."),
    Case("formula-unknown-function", F, "An unknown function", "demo()",
         'bm.Model("y ~ lgo(x) + (1 | g)", df)', bm.DataError, r"unknown function lgo\(\).*Did you mean log\(\)\?",
         "Use one of the listed functions (`log`, `scale`, `I`, `factor`, ...)."),
    Case("formula-misspelt-column", F, "A misspelt column", "demo()",
         'bm.Model("y ~ xx + (1 | g)", df)', bm.DataError, r"column 'xx' \(used in the term xx\) is not in the data\. Did you mean 'x'\?",
         "Use the column's exact name (names are case-sensitive)."),
    Case("formula-misspelt-group", F, "A misspelt grouping factor", "demo()",
         'bm.Model("y ~ x + (1 | G)", df)', bm.DataError, r"column 'G' \(used in the grouping factor of \(1 \| G\)\) .*Did you mean 'g'\?",
         "Use the grouping column's exact name."),
    Case("formula-empty-group", F, "A random-effect term without a grouping factor: `(1 | )`", "demo()",
         'bm.Model("y ~ x + (1 | )", df)', bm.FormulaError, r"the grouping factor is missing after '\|'",
         "Name the grouping column after the bar: `(1 | g)`."),
    Case("formula-group-is-number", F, "A number as grouping factor: `(x | 1)`", "demo()",
         'bm.Model("y ~ x + (x | 1)", df)', bm.FormulaError, r"a grouping factor must be a column name",
         "The grouping factor goes right of the bar and must be a column: `(x | g)`; the intercept goes left."),
    Case("formula-bar-inside-bar", F, "A bar without parentheses around other random-effect terms", "demo()",
         'bm.Model("y ~ x + (1 | f) + z | g", df)', bm.FormulaError, r"random-effect terms cannot be nested inside each other",
         "Without parentheses `|` takes the whole right-hand side (`y ~ x + 1 | g` is `y ~ (x + 1 | g)`, as in lme4); "
         "wrap each term: `y ~ x + (1 | f) + (z | g)`."),
    Case("formula-positional-after-named", F, "An unnamed argument after a named one", "demo()",
         'bm.Model("y ~ poly(x, raw = TRUE, 2) + (1 | g)", df)', bm.FormulaError, r"write the unnamed arguments before the named ones",
         "Write `poly(x, 2, raw = TRUE)`."),
    Case("formula-unknown-argument", F, "An argument the function does not have", "demo()",
         'bm.Model("y ~ ns(x, dof = 3) + (1 | g)", df)', bm.DataError, r"ns\(\) has no argument 'dof'; its arguments are x, df, knots, intercept, Boundary.knots",
         "Use R's argument names: `ns(x, df = 3)`."),
    Case("formula-poly-degree", F, "A polynomial degree as high as the number of distinct values", "demo()",
         'bm.Model("y ~ poly(x, 12) + (1 | g)", df)', bm.DataError, r"poly\(x, 12\): 'degree' \(12\) must be less than the number of distinct values \(12\)",
         "Use a lower degree."),
    Case("formula-basis-in-arithmetic", F, "A multi-column transform inside arithmetic", "demo()",
         'bm.Model("y ~ I(poly(x, 2)^2) + (1 | g)", df)', bm.DataError, r"poly\(x, 2\) gives poly\(\) columns, which cannot be used inside arithmetic",
         "Use `poly(x, 2)` as a term of its own (it already holds the square)."),
    Case("formula-two-factors-in-one-term", F, "Two grouping factors in one term", "demo()",
         'bm.Model("y ~ x + (1 | g + f)", df)', bm.FormulaError, r"one grouping factor; write \(1 \| a\) \+ \(1 \| b\)",
         "Write crossed factors as separate terms, `(1 | g) + (1 | f)`; nested ones as `(1 | g/f)`."),
    Case("formula-number-term", F, "A number other than 0 or 1 as a term", "demo()",
         'bm.Model("y ~ 2 + x", df)', bm.FormulaError, r"the number 2 is not a term",
         "Arithmetic belongs in `I()`, e.g. `I(2 * x)`; `0`/`1` remove/keep the intercept."),
    Case("formula-empty-random-term", F, "A random-effect term with no coefficients", "demo()",
         'bm.Model("y ~ x + (0 | g)", df)', bm.FormulaError, r"no coefficients",
         "Give it an intercept or a slope: `(1 | g)`, `(0 + x | g)`."),
    Case("formula-dot", F, "R's `.` for all other columns", "demo()",
         'bm.Model("y ~ .", df)', bm.FormulaError, r"'\.' \(all other columns\) is not supported",
         "List the predictors; a column literally named `.` is written `` `.` ``."),
    Case("formula-subtract-random-term", F, "Subtracting a random-effect term", "demo()",
         'bm.Model("y ~ x - (1 | g)", df)', bm.FormulaError, r"random-effect terms and offsets cannot be subtracted",
         "Leave the term out instead of subtracting it."),
    # ------------------------------------------------------------------ data
    Case("data-not-a-dataframe", D, "The data are not a DataFrame", "demo()",
         'bm.Model("y ~ x", df.to_numpy())', bm.DataError, r"data must be a pandas DataFrame .* got numpy\.ndarray",
         "Pass a pandas DataFrame (or a dict of columns)."),
    Case("data-empty", D, "The data frame has no rows", "demo()",
         'bm.Model("y ~ x + (1 | g)", df.iloc[:0])', bm.DataError, r"the data frame is empty \(0 rows\)",
         "Check the filtering that produced the frame."),
    Case("data-all-missing-column", D, "A used column is missing on every row", "demo().assign(w=np.nan)",
         'bm.Model("y ~ w + (1 | g)", df)', bm.DataError, r"12 of 12 rows have missing values .*'w' \(12\).*No complete rows",
         "Fill the column or leave it out of the formula."),
    Case("data-missing-raise", D, "Missing values with `missing=\"raise\"`", "demo().assign(x=[np.nan] + list(range(11)))",
         'bm.Model("y ~ x + (1 | g)", df, missing="raise")', bm.DataError, r"1 of 12 rows have missing values in used columns: 'x' \(1\); first rows: \[0\]",
         "Drop or impute those rows, or pass `missing=\"drop\"` (the default) to drop them with a warning."),
    Case("data-duplicate-column", D, "Two columns with the same name", 'pd.concat([demo(), demo()[["x"]]], axis=1)',
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"column 'x' \(used in the term x\) appears 2 times",
         "Rename or drop the duplicates."),
    Case("data-non-string-column", D, "A column whose name is not a string", "demo().rename(columns={'x': 7})",
         'bm.Model("y ~ `7` + (1 | g)", df)', bm.DataError, r"column '7' .* only under a non-string name \(7\)",
         "Rename the columns to strings: `df.columns = df.columns.astype(str)`."),
    Case("data-infinite-predictor", D, "An infinite value in a predictor", "demo().assign(x=[np.inf] + list(range(11)))",
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"'x' is not finite \(inf\) on 1 row\(s\), first rows \[0\]",
         "Fix or drop the rows with infinite values."),
    Case("data-infinite-response", D, "An infinite response value", "demo().assign(y=[-np.inf] + [1.0] * 11)",
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"the response 'y' is not finite \(-inf\) on 1 row",
         "Fix or drop the rows with infinite values."),
    Case("data-log-of-zero", D, "The log of zero or of a negative number", "demo()",
         'bm.Model("y ~ log(x) + (1 | g)", df)', bm.DataError, r"'log\(x\)' is not finite \(-inf\) on 1 row\(s\), first rows \[0\]",
         "Shift the variable (`log(x + 1)`, `log1p(x)`) or drop the non-positive rows."),
    Case("data-date-predictor", D, "A date column used as a number", "demo().assign(day=pd.date_range('2024-01-01', periods=12))",
         'bm.Model("y ~ day + (1 | g)", df)', bm.DataError, r"column 'day' has dtype datetime64.*neither numeric nor categorical",
         "Convert dates to numbers, e.g. days since the first date."),
    Case("data-categorical-in-arithmetic", D, "A text column inside arithmetic", "demo()",
         'bm.Model("y ~ log(f) + (1 | g)", df)', bm.DataError, r"column 'f' is categorical .* but log\(f\) needs numbers",
         "Convert the column with `pd.to_numeric`, or use it as a factor outside the arithmetic."),
    Case("data-constant-predictor", D, "A constant predictor, with `rank_deficient=\"raise\"`", "demo().assign(c=5.0)",
         'bm.Model("y ~ x + c + (1 | g)", df, rank_deficient="raise")', bm.DataError, r"the column 'c' of the fixed effects is constant \(every row is 5\)",
         "Drop the constant column (it duplicates the intercept). By default (`rank_deficient=\"drop\"`) it is dropped "
         "with a warning naming it, as lme4 does."),
    Case("data-collinear-predictors", D, "Collinear predictors, with `rank_deficient=\"raise\"`", "demo().assign(x2=lambda d: 2 * d.x + 1)",
         'bm.Model("y ~ x + x2 + (1 | g)", df, rank_deficient="raise")', bm.DataError, r"collinear \(rank deficient\): 'x2' is a linear combination of 'Intercept', 'x'",
         "Keep only one of the collinear predictors. By default the later one (`x2`) is dropped with a warning, as lme4 does."),
    Case("data-empty-interaction-cell", D, "An interaction with a combination of levels that no row has, with `rank_deficient=\"raise\"`",
         "demo().assign(h=['u', 'v', 'u', 'u'] * 3)",
         'bm.Model("y ~ f * h + (1 | g)", df, rank_deficient="raise")', bm.DataError, r"the column 'flo:hv' of the fixed effects is 0 on every row",
         "Drop the interaction, or merge levels so that every combination has rows. By default the empty cell's "
         "column is dropped with a warning, as lme4 does."),
    Case("data-rank-deficient-option", D, "An unknown `rank_deficient=` option", "demo()",
         'bm.Model("y ~ x", df, rank_deficient="ignore")', bm.DataError, r"rank_deficient must be 'drop' or 'raise', got 'ignore'",
         "Use `rank_deficient=\"drop\"` (the default) or `\"raise\"`."),
    Case("data-contrast-unknown", D, "An unknown contrast name", "demo()",
         'bm.Model("y ~ f + (1 | g)", df, contrasts={"f": "deviation"})', bm.DataError, r"unknown contrast 'deviation' for 'f'; choose one of 'treatment', 'sum', 'helmert', 'poly', 'SAS'",
         "Use one of the listed codings (R's `contr.sum` etc. work too) or a matrix."),
    Case("data-contrast-shape", D, "A contrast matrix of the wrong shape", "demo()",
         'bm.Model("y ~ f + (1 | g)", df, contrasts={"f": [[1, 0], [0, 1]]})', bm.DataError, r"the contrast matrix for 'f' has shape \(2, 2\); it needs one row per level \(2: hi, lo\) and 1 columns",
         "Give one row per level (in level order) and one column fewer than levels."),
    Case("data-contrast-not-categorical", D, "Contrasts for a numeric variable", "demo()",
         'bm.Model("y ~ x + f + (1 | g)", df, contrasts={"x": "sum"})', bm.DataError, r"contrasts= names 'x', which is not a categorical variable of the formula; the categorical variables are 'f'",
         "Name categorical variables as they appear in the formula (e.g. `factor(k)`)."),
    Case("data-single-level-category", D, "A categorical predictor with one level", "demo().assign(f='lo')",
         'bm.Model("y ~ x + f + (1 | g)", df)', bm.DataError, r"the categorical variable 'f' in the fixed effects has a single level \(lo\)",
         "Drop the predictor (or check the filtering)."),
    Case("data-mixed-type-levels", D, "A category whose levels mix types that print the same", "demo().assign(h=[1, '1', 2] * 4)",
         'bm.Model("y ~ h + (1 | g)", df)', bm.DataError, r"h has levels 1 and '1' that read the same",
         "Convert the column to one type, e.g. `df.h.astype(str)`."),
    Case("data-constant-random-slope", D, "A constant random slope", "demo().assign(c=2.0)",
         'bm.Model("y ~ x + (1 + c | g)", df)', bm.DataError, r"the column 'c' of the random-effect term \(1 \+ c \| g\) is constant",
         "Drop the slope from the random-effect term."),
    Case("data-one-group", D, "A grouping factor with one level", "demo().assign(g='a')",
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"grouping factor 'g' of \(1 \| g\) has only 1 level \(a\)",
         "A random effect needs at least two groups: drop the term."),
    Case("data-fractional-group", D, "A fractional numeric grouping factor", "demo().assign(g=np.linspace(0, 1, 12))",
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"grouping factor 'g' of \(1 \| g\) holds non-integer numbers \(e\.g\. 0\.0909",
         "Group by an ID column; a measurement is a predictor, not a grouping factor."),
    Case("data-infinite-group", D, "An infinite value in a numeric grouping factor", "demo().assign(g=[np.inf] + [1.0, 2.0] * 5 + [3.0])",
         'bm.Model("y ~ x + (1 | g)", df)', bm.DataError, r"grouping factor 'g' of \(1 \| g\) holds infinite values on rows \[0\]",
         "Fix those values or use an ID column."),
    Case("data-missing-option", D, "An unknown `missing=` option", "demo()",
         'bm.Model("y ~ x", df, missing="ignore")', bm.DataError, r"missing must be 'drop' or 'raise', got 'ignore'",
         "Use `missing=\"drop\"` or `missing=\"raise\"`."),
    # ------------------------------------------------------------------ responses and families
    Case("response-weights-not-whole", R, "A proportion times `weights=` that is not a whole number", "demo()",
         'bm.Model("p ~ x + (1 | g)", df, family="binomial", weights="n")', bm.DataError,
         r"the response 'p' times weights= is not a whole number of successes on 10 row\(s\), first rows \[0, 2, 3, 4, 5\] \(0\.2 × 8 = 1\.6\)",
         "With `weights=`, the response is the proportion of successes and `weights=` the number of trials "
         "(`k / n ~ ...`, `weights=\"n\"`); check that they belong together."),
    Case("response-weights-not-binomial", R, "`weights=` with a family other than binomial", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, weights="n")', bm.DataError, r"weights= gives the numbers of trials of a proportion response for family='binomial' \(got family='gaussian'\)",
         "Drop `weights=`: bayesmixed has no prior or precision weights."),
    Case("response-weights-with-cbind", R, "`weights=` with a response that gives its trials", "demo()",
         'bm.Model("cbind(k, n - k) ~ x + (1 | g)", df, family="binomial", weights="n")', bm.DataError,
         r"weights= gives the numbers of trials of a proportion response, but 'cbind\(k, n - k\)' already gives them",
         "Drop `weights=`, or write the response as a proportion: `k / n ~ ...` with `weights=\"n\"`."),
    Case("response-not-numeric", R, "A text response for a Gaussian model", "demo()",
         'bm.Model("g ~ x", df)', bm.DataError, r"the response 'g' is not numeric: it has 4 distinct values",
         "Use a numeric response, or a two-level one with `family=\"bernoulli\"`."),
    Case("response-two-levels-gaussian", R, "A two-level category as a Gaussian response", "demo()",
         'bm.Model("f ~ x + (1 | g)", df)', bm.DataError, r"the response 'f' is categorical with levels 'hi' and 'lo'; family 'gaussian' needs numbers",
         "Use `family=\"bernoulli\"`."),
    Case("response-negative-counts", R, "Negative counts for a Poisson model", "demo().assign(k=lambda d: d.k - 4)",
         'bm.Model("k ~ x + (1 | g)", df, family="poisson")', bm.DataError, r"poisson response 'k' has negative counts on rows \[0, 1, 3, 5, 9\] and 1 more",
         "Counts are whole numbers >= 0; use a Gaussian family for signed measurements."),
    Case("response-fractional-counts", R, "Non-integer counts for a negative binomial model", "demo().assign(k=lambda d: d.k + 0.5)",
         'bm.Model("k ~ x + (1 | g)", df, family="negative_binomial")', bm.DataError, r"negative_binomial response 'k' has non-integer values .*\(e\.g\. 3\.5\)",
         "Use whole counts, or `family=\"gamma\"`/`\"gaussian\"` for measurements."),
    Case("response-binomial-without-trials", R, "A binomial response without trials", "demo()",
         'bm.Model("k ~ x + (1 | g)", df, family="binomial")', bm.DataError, r"family 'binomial' needs the number of trials",
         "Write `cbind(k, n - k)` or `k | trials(n)`."),
    Case("response-successes-above-trials", R, "More successes than trials", "demo().assign(n=4)",
         'bm.Model("k | trials(n) ~ x + (1 | g)", df, family="binomial")', bm.DataError, r"successes exceed trials in 'k \| trials\(n\)' on rows \[2, 4, 8, 11\]",
         "Check the columns: in `cbind(s, f)` the second is the failures, in `s | trials(n)` the trials."),
    Case("response-beta-outside", R, "A beta response outside (0, 1)", "demo()",
         'bm.Model("p ~ x + (1 | g)", df.assign(p=df.p * 2), family="beta")', bm.DataError, r"beta response 'p' must lie strictly between 0 and 1; rows \[1, 2, 4, 6, 8\] and 2 more do not \(e\.g\. 1\.0\)",
         "Rescale into (0, 1), e.g. `(y*(n-1)+0.5)/n`, or model the counts as binomial."),
    Case("response-gamma-non-positive", R, "A zero or negative gamma response", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, family="gamma")', bm.DataError, r"gamma response 'y' must be positive; rows \[1, 4, 7, 8\]",
         "Gamma responses are > 0; shift them or use a Gaussian family."),
    Case("response-inverse-gaussian-non-positive", R, "A non-positive inverse Gaussian response", "demo()",
         'bm.Model("x ~ z + (1 | g)", df, family="inverse_gaussian")', bm.DataError, r"inverse_gaussian response 'x' must be positive; rows \[0\]",
         "Inverse Gaussian responses are > 0."),
    Case("response-bernoulli-three-levels", R, "A 0/1/2 response for a Bernoulli model", "demo().assign(k=[0, 1, 2] * 4)",
         'bm.Model("k ~ x + (1 | g)", df, family="bernoulli")', bm.DataError, r"bernoulli response 'k' must be 0/1, boolean or a two-level category; rows \[2, 5, 8, 11\] hold \[2\.0\]",
         "Recode to two outcomes, or model the counts with `family=\"binomial\"`."),
    Case("response-trials-not-binomial", R, "Trials given for a non-binomial family", "demo()",
         'bm.Model("cbind(k, n - k) ~ x + (1 | g)", df, family="poisson")', bm.DataError, r"gives numbers of trials, which only the families of successes out of trials use \(binomial, beta_binomial, zero_inflated_binomial\), not 'poisson'",
         "Use one of those families, or a single count response."),
    Case("response-weights-not-positive", R, "A non-positive likelihood weight in `weights()`", "demo().assign(w=[1.0, 0.0] + [1.0] * 10)",
         'bm.Model("y | weights(w) ~ x + (1 | g)", df)', bm.DataError, r"weights\(w\) must be positive and finite; rows \[1\] have 0",
         "Drop the rows of weight 0 (they leave the likelihood anyway) or fix the weights."),
    Case("response-interval-without-upper-end", R, "Interval censoring without the upper ends", "demo().assign(c=['none', 'interval'] * 6)",
         'bm.Model("y | cens(c) ~ x + (1 | g)", df)', bm.DataError, r"are interval-censored but cens\(c\) has no upper ends",
         "Write `y | cens(c, y2)` with `y2` the column of upper ends."),
    Case("response-outside-truncation", R, "A response outside its `trunc()` bounds", "demo()",
         'bm.Model("y | trunc(lb = 0) ~ x + (1 | g)", df)', bm.DataError, r"the response lies outside the truncation bounds on rows \[1, 4, 8\]",
         "Check the bounds; values recorded at a limit are censored (`cens()`), not truncated."),
    # ------------------------------------------------------------------ family and link
    Case("family-unknown", L, "An unknown family", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, family="gausian")', bm.DataError, r"unknown family 'gausian'; available: gaussian",
         "Use one of the listed families."),
    Case("link-unknown", L, "A link the family does not have", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, link="logit")', bm.DataError, r"family 'gaussian' has no link 'logit'; use one of identity, log",
         "Use one of the listed links."),
    # ------------------------------------------------------------------ priors
    Case("prior-unknown-parameter", P, "A prior for a parameter the model does not have", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, priors={"sd_G": bm.Prior("half_normal", sigma=1)})', bm.PriorError,
         r"no parameter 'sd_G' to put a prior on\. Did you mean 'sd_g'",
         "Use a listed parameter name (`model.prior_summary()` lists them)."),
    Case("prior-unknown-distribution", P, "An unknown prior distribution", "demo()",
         'bm.Prior("halfnorml", sigma=1)', bm.PriorError, r"unknown prior distribution 'halfnorml'\. Did you mean 'half_normal'",
         "Use one of the listed distributions."),
    Case("prior-negative-scale", P, "A negative scale", "demo()",
         'bm.Prior("normal", mu=0, sigma=-1)', bm.PriorError, r"parameter sigma must be positive, got -1",
         "Scales are > 0."),
    Case("prior-missing-parameter", P, "A distribution parameter left out", "demo()",
         'bm.Prior("normal", mu=0)', bm.PriorError, r"Prior\('normal'\) needs the parameter\(s\) sigma",
         "Give every listed parameter."),
    Case("prior-non-numeric-parameter", P, "A parameter that is not a number", "demo()",
         'bm.Prior("normal", mu="zero", sigma=1)', bm.PriorError, r"parameter mu must be a number .* got 'zero'",
         "Parameters are numbers (or lists of numbers, one per coefficient)."),
    Case("prior-wrong-support", P, "A prior on an SD that allows negative values", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, priors={"sd_g": bm.Prior("normal", mu=0, sigma=1)})', bm.PriorError,
         r"standard deviation 'sd_g' must be positive-valued",
         "Use a positive distribution, e.g. `half_normal`."),
    Case("prior-vector-length", P, "A vector prior with the wrong length", "demo()",
         'bm.Model("y ~ x + z + (1 | g)", df, priors={"beta": bm.Prior("normal", mu=[0, 0, 0], sigma=1)})', bm.PriorError,
         r"the prior for 'beta' has 3 values per parameter, but 'beta' covers 2 parameter\(s\) \(beta\[x\], beta\[z\]\)",
         "Give one value, or one per coefficient."),
    Case("priors-not-dict", P, "Priors not given as a dict", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, priors=[bm.Prior("normal", mu=0, sigma=1)])', bm.PriorError,
         r"priors must be a dict from parameter name to Prior",
         "Key priors by parameter name: `priors={\"beta\": Prior(...)}`."),
    # ------------------------------------------------------------------ parameterization
    Case("parameterization-unknown", Z, "An unknown parameterization", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, parameterization="sideways")', bm.BayesMixedError,
         r"unknown parameterization 'sideways'; use 'auto' \(default\), 'marginal', 'noncentered', 'centered' or "
         r"\(per term, in a GLMM\) 'quadrature'",
         "Use one of the listed values."),
    Case("parameterization-not-a-term", Z, "A parameterization for a term the model does not have", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, parameterization={"G": "centered"})', bm.BayesMixedError,
         r"parameterization given for 'G', which is not a random-effect term; terms: 'g'",
         "Key the dict by the term labels listed."),
    Case("parameterization-wrong-type", Z, "A parameterization that is neither text nor a dict", "demo()",
         'bm.Model("y ~ x + (1 | g)", df, parameterization=1)', bm.BayesMixedError,
         r"parameterization must be a string .* or a dict by term label such as \{'g': 'centered'\}, got int",
         "Pass a string or a dict."),
    Case("parameterization-marginal-non-gaussian", Z, "`marginal` for a non-Gaussian model", "demo()",
         'bm.Model("k ~ x + (1 | g)", df, family="poisson", parameterization="marginal")', bm.BayesMixedError,
         r"needs family='gaussian' with the identity link",
         "Use `\"auto\"`, `\"centered\"` or `\"noncentered\"`."),
    # ------------------------------------------------------------------ prediction
    Case("predict-unseen-category", N, "A categorical predictor level in new data that was not in the training data",
         "pd.DataFrame({'x': [1.0], 'f': ['mid'], 'g': ['a']})",
         'encode(bm.Model("y ~ x + f + (1 | g)", demo()).design, df)', bm.DataError,
         r"'f' has level\(s\) 'mid' that were not in the data the model was fitted to \(known levels: hi, lo\)",
         "Drop those rows or map them to a known level."),
    Case("predict-unseen-group", N, "A new group with `groups=\"include\"`", "pd.DataFrame({'x': [1.0], 'g': ['e']})",
         'encode(bm.Model("y ~ x + (1 | g)", demo()).design, df)', bm.DataError,
         r"grouping factor 'g' of \(1 \| g\) has level\(s\) 'e' that were not in the data .*groups='sample_new'",
         "Use `groups=\"sample_new\"` or `groups=\"exclude\"`."),
    Case("predict-log-of-zero", N, "New data outside a transform's domain", "pd.DataFrame({'x': [0.0, 1.0], 'g': ['a', 'b']})",
         'encode(bm.Model("y ~ log(x + 1) + (1 | g)", demo()).design, df.assign(x=[-1.0, 1.0]))', bm.DataError,
         r"'log\(x \+ 1\)' is not finite \(-inf\) on 1 row\(s\), first rows \[0\]",
         "Predict only where the transform is defined."),
    # ------------------------------------------------------------------ smooth terms and residual correlation
    Case("smooth-unknown-basis", SM, "A smooth basis that is not supported", "demo()",
         'bm.Model(\'y ~ s(x, bs = "ps")\', df)', bm.DataError, r"unknown basis bs = 'ps'; the supported bases are \"tp\".*\"cr\"",
         "Use `bs = \"tp\"` (thin plate regression spline, the default) or `bs = \"cr\"` (cubic regression spline)."),
    Case("smooth-k-too-small", SM, "A smooth basis dimension below the minimum", "demo()",
         'bm.Model("y ~ s(x, k = 2)", df)', bm.DataError, r"s\(x, k = 2\): k = 2 is too small: a s\(\) basis needs k >= 3",
         "Use `k = 3` or more (the default is 10)."),
    Case("smooth-k-above-distinct", SM, "A smooth basis dimension above the number of distinct values", "demo()",
         'bm.Model("y ~ s(x, k = 20)", df)', bm.DataError, r"k = 20 but the variable has only 12 distinct values.*use k = 12 or less",
         "Use a basis dimension of at most the number of distinct values."),
    Case("smooth-crossed", SM, "A smooth crossed with a factor", "demo()",
         'bm.Model("y ~ s(x):f", df)', bm.FormulaError, r"a smooth term or residual correlation cannot be crossed.*s\(x, by = f\)",
         "A smooth per level of a factor is `s(x, by = f)` (add `f` as a main effect too)."),
    Case("smooth-categorical-variable", SM, "A smooth of a categorical column", "demo()",
         'bm.Model("y ~ s(f)", df)', bm.DataError, r"the variable 'f' of a smooth must be numeric, but it is categorical",
         "Smooth a numeric variable; a categorical one enters as a fixed or random effect: `y ~ f` or `(1 | f)`."),
    Case("gp-boundary-factor", SM, "A GP boundary factor of at most 1", "demo()",
         'bm.Model("y ~ gp(x, c = 1)", df)', bm.DataError, r"the boundary factor c must exceed 1",
         "Use `c > 1`; brms's default `c = 5/4` suits most data."),
    Case("ar-non-gaussian", SM, "Residual autocorrelation in a non-Gaussian model", "demo()",
         'bm.Model("k ~ x + ar(time = x, gr = g)", df, family="poisson")', bm.BayesMixedError,
         r"ar\(time = x, gr = g\): residual correlation structures are for Gaussian models with the identity link",
         "Model the dependence with a random effect of the group, `(1 | g)`, or use a Gaussian response."),
    Case("ar-group-not-column", SM, "The `gr` of `ar()` is not a column", "demo()",
         'bm.Model("y ~ x + ar(time = x, gr = G)", df)', bm.DataError,
         r"column 'G' \(used in the residual correlation ar\(time = x, gr = G\)\) is not in the data\. Did you mean 'g'\?",
         "Name the column that identifies the series."),
    Case("ar-time-not-integer", SM, "A time variable that is not whole numbers", "demo()",
         'bm.Model("y ~ x + ar(time = z, gr = g)", df)', bm.DataError,
         r"the time variable 'z' must be whole numbers .* row 0 has 1\.5",
         "Number the observations of each series in time order, e.g. `df.groupby('g').cumcount() + 1`."),
    Case("ar-duplicate-times", SM, "A time point that repeats within a series", "demo()",
         'bm.Model("y ~ x + ar(time = n, gr = g)", df)', bm.DataError,
         r"the time 8 appears more than once in the series 'a' of 'g'",
         "Check that `gr` names the series (one series per level) and that each time occurs once in it."),
    Case("ar-marginal", SM, "AR(1) residuals with the random effects integrated out", "demo()",
         'bm.Model("y ~ x + (1 | f) + ar(time = x, gr = g)", df, parameterization="marginal")', bm.BayesMixedError,
         r"parameterization='marginal' is not available with ar\(time = x, gr = g\)",
         "Leave `parameterization='auto'` (the random effects are then sampled)."),
    Case("ar-order", SM, "An autoregression of order above 1", "demo()",
         'bm.Model("y ~ x + ar(time = x, gr = g, p = 2)", df)', bm.DataError, r"only first-order autoregression \(p = 1\)",
         "Use `p = 1`."),
    # ------------------------------------------------------- ordinal, categorical, distributional (bf())
    Case("ordinal-unordered", O, "An ordinal family for an unordered categorical response",
         'demo().assign(r=pd.Categorical(list("abc") * 4))',
         'bm.Model("r ~ x + (1 | g)", df, family="cumulative")', bm.DataError,
         r"needs an ordered response.*cat\.as_ordered\(\)",
         "Order the categories (`df.r.cat.as_ordered()` or `cat.reorder_categories([...], ordered=True)`), or use "
         "`family='categorical'` for unordered ones."),
    Case("ordinal-unused-category", O, "An ordinal response with a category no row has",
         'demo().assign(r=pd.Categorical(list("ab") * 6, categories=list("abc"), ordered=True))',
         'bm.Model("r ~ x + (1 | g)", df, family="cumulative")', bm.DataError,
         r"no rows in category 'c'.*remove_unused_categories",
         "Drop the unused category (`df.r.cat.remove_unused_categories()`) or merge it with a neighbour."),
    Case("ordinal-codes-from-zero", O, "Ordinal integers coded from 0", 'demo().assign(r=[0, 1, 2] * 4)',
         'bm.Model("r ~ x + (1 | g)", df, family="acat")', bm.DataError, r"integers 1\.\.K.*add 1",
         "Code the categories 1..K (add 1), or pass an ordered Categorical."),
    Case("bf-no-such-parameter", O, "`bf()` predicts a parameter the family does not have", "demo()",
         'bm.Model(bm.bf("k ~ x + (1 | g)", sigma="~ x"), df, family="poisson")', bm.DataError,
         r"bf\(\) gives a formula for 'sigma', but family 'poisson' has no such parameter",
         "Predict one of the family's parameters (listed in the message), or choose a family that has it."),
    Case("bf-prior-on-predicted", O, "A prior on a parameter that `bf()` predicts", "demo()",
         'bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ f"), df, priors={"sigma": bm.Prior("exponential", lam=1)})',
         bm.PriorError, r"'sigma' is predicted by its own formula here, so it has no prior of its own",
         "Give priors to its coefficients: `sigma_Intercept`, `beta_sigma` and the SDs of its terms."),
    Case("bf-marginal", O, "The random effects integrated out with a predicted sigma", "demo()",
         'bm.Model(bm.bf("y ~ x + (1 | g)", sigma="~ f"), df, parameterization="marginal")', bm.BayesMixedError,
         r"needs family='gaussian' with the identity link, at least one random term and a constant sigma",
         "Leave `parameterization='auto'` (every term is then sampled)."),
    Case("bf-smooth", O, "A smooth term with `bf()` formulas", "demo()",
         'bm.Model(bm.bf("y ~ s(x) + (1 | g)", sigma="~ f"), df)', bm.DataError,
         r"has s\(x\): smooth terms .* are not supported together with bf\(\) formulas",
         "Use a fixed spline or polynomial, `ns(x, 4)` or `poly(x, 3)`."),
)


def _run(case: Case):
    df = eval(case.data, {"demo": demo, "np": np, "pd": pd})
    ns = {"bm": bm, "np": np, "pd": pd, "df": df, "demo": demo, "encode": encode}
    return df, (lambda: eval(case.call, ns))


def test_case_ids_are_unique_and_many():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 30


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input(case: Case, monkeypatch):
    assert_refused(case, monkeypatch)


def assert_refused(case: Case, monkeypatch) -> None:
    """The case raises its error class with its message, compiles nothing, and leaves the data unchanged."""
    import pymc as pm

    import bayesmixed.backends.pymc as backend

    def compiled(*a, **k):  # pragma: no cover - must not be reached
        raise AssertionError("compiled a PyMC model")

    monkeypatch.setattr(backend, "build_model", compiled)
    monkeypatch.setattr(pm.Model, "__init__", compiled)
    df, call = _run(case)
    before = df.copy(deep=True)
    with pytest.raises(case.error, match=case.match) as info:
        call()
    assert isinstance(info.value, bm.BayesMixedError)
    pd.testing.assert_frame_equal(df, before)
    # the message names something concrete: a quoted name, a function, a type, a count or a position
    assert re.search(r"'|\^|\d|\w\(\)|got \w+", str(info.value))


def _message(case: Case) -> str:
    import warnings

    _, call = _run(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call()
        except bm.BayesMixedError as e:
            return f"{type(e).__name__}: {e}"
    raise AssertionError(f"{case.id} raised nothing")


def all_cases() -> tuple[Case, ...]:
    """This catalogue and the hostile inputs of ``tests/test_hostile.py`` refused before compiling."""
    from test_hostile import DOC_CASES

    return CASES + DOC_CASES


def render() -> str:
    """The catalogue page, with the messages the code produces now."""
    cases = all_cases()
    out = [
        "# Bad inputs: what you see and how to fix it",
        "",
        (
            "Every error about the formula, the data, the family, the priors or the parameterization is raised when "
            "the `bm.Model(...)` is constructed, before anything is compiled, and the data frame you pass is never "
            "modified. All of them derive from `bm.BayesMixedError` (a `ValueError`): `FormulaError` (with a caret "
            "under the offending position), `DataError` and `PriorError`."
        ),
        "",
        (
            "This page is generated from the table in `tests/test_bad_inputs.py` (run `python tests/test_bad_inputs.py` "
            "to regenerate it) and the hostile inputs of `tests/test_hostile.py`; the test suite checks that each "
            "message below is exactly what the code produces. Errors about the sampler's arguments (Fitting "
            "arguments) are raised by `model.fit(...)`, also before anything is compiled. "
            f"It lists {len(cases)} cases. The examples use this small data set:"
        ),
        "",
        "```python",
        inspect.getsource(demo).rstrip(),
        "```",
        "",
    ]
    sections = list(dict.fromkeys(c.section for c in cases))
    for s in sections:
        out += [f"## {s}", ""]
        for c in (c for c in cases if c.section == s):
            out += [
                f"### `{c.id}`: {c.title}",
                "",
                "```python",
                f"df = {c.data}",
                c.call,
                "```",
                "",
                "```text",
                _message(c),
                "```",
                "",
                f"**Fix:** {c.fix}",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def test_catalogue_page_is_current():
    assert DOC.exists(), "run python tests/test_bad_inputs.py to write docs/bad_inputs.md"
    text = DOC.read_text()
    for c in all_cases():
        assert f"### `{c.id}`:" in text, c.id
    assert text == render(), "docs/bad_inputs.md is stale: run python tests/test_bad_inputs.py"


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC} ({len(all_cases())} cases)", file=sys.stderr)
