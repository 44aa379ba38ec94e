"""``bayesmixed.design.rmath`` against R's own numbers (``tests/data/rmath/reference.json``, written by
``tests/data/rmath/make_reference.R``): ``poly()`` and its predictions, the contrast matrices, ``ns()`` and
``bs()`` on the fitted data and on new data beyond the boundary knots, ``splineDesign`` with derivatives, and
which columns R's pivoted QR moves to the end (lme4's aliased columns)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bayesmixed.design import rmath

REF = json.loads((Path(__file__).resolve().parent / "data" / "rmath" / "reference.json").read_text())
X = np.array(REF["x"])
XNEW = np.array(REF["xnew"])


def close(a, b, tol=1e-10):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=tol, atol=tol)


def test_poly_fit_coefs_and_predictions():
    Z, alpha, norm2 = rmath.poly_fit(X, 3)
    close(Z, REF["poly"]["fit"])
    close(alpha, REF["poly"]["alpha"])
    close(norm2, REF["poly"]["norm2"], 1e-9)
    close(rmath.poly_predict(XNEW, alpha, norm2), REF["poly"]["new"])
    # on the fitted x, the recurrence that predictions use gives the fitted columns
    close(rmath.poly_predict(X, alpha, norm2), Z)


def test_poly_needs_fewer_degrees_than_distinct_values():
    with pytest.raises(ValueError, match="less than the number of distinct values"):
        rmath.poly_fit(np.array([1.0, 2.0, 2.0, 1.0]), 2)


def test_contrast_matrices():
    for n, ref in zip(range(2, 9), REF["contr_poly"]):
        C, names = rmath.contr_poly(n)
        close(C, np.reshape(ref, (n, n - 1)), 1e-12)
        assert names == (".L", ".Q", ".C", "^4", "^5", "^6", "^7")[: n - 1]
    lv = tuple("abcde")
    close(rmath.contrast_matrix("helmert", lv)[0], REF["contr_helmert"])
    close(rmath.contrast_matrix("sum", lv)[0], REF["contr_sum"])
    C, names = rmath.contrast_matrix("SAS", lv[:4])
    close(C, REF["contr_SAS"])
    assert names == ("a", "b", "c")
    assert rmath.contrast_matrix("treatment", lv)[1] == ("b", "c", "d", "e")
    assert rmath.contrast_matrix("sum", lv)[1] == ("1", "2", "3", "4")


@pytest.mark.parametrize(
    "name, kind, kwargs",
    [
        ("ns4", "ns", {}),
        ("ns_intercept", "ns", {"intercept": True}),
        ("ns_boundary", "ns", {}),
        ("bs5", "bs", {}),
        ("bs_knots", "bs", {"degree": 2}),
        ("bs_linear", "bs", {"degree": 1}),
        ("bs_intercept", "bs", {"intercept": True}),
    ],
)
def test_spline_bases_fit_and_extrapolate_as_r(name, kind, kwargs):
    ref = REF[name]
    knots, boundary = list(ref["knots"]), tuple(ref["boundary"])
    f = rmath.ns_basis if kind == "ns" else rmath.bs_basis
    close(f(X, knots, boundary, **kwargs), ref["fit"])
    close(f(XNEW, knots, boundary, **kwargs), ref["new"], 1e-9)  # linear / Taylor extension outside


def test_spline_knots_are_r_quantiles():
    # ns(x, df = 4): 3 inner knots at the quartiles (type 7), as R places them
    close(rmath.spline_knots(X, 3), REF["ns4"]["knots"])
    close(rmath.spline_knots(X, 2), REF["bs5"]["knots"])


def test_spline_design_and_derivatives():
    sd = REF["spline_design"]
    for d in (0, 1, 2):
        close(rmath.spline_design(sd["knots"], sd["x"], 4, d), sd[f"d{d}"])
    with pytest.raises(ValueError, match="must be in the range"):
        rmath.spline_design(sd["knots"], [3.5], 4)


def test_pivoted_qr_moves_the_columns_r_moves():
    for case in REF["qr"]:
        M = np.array(case["x"], dtype=float)
        q = rmath.qr_lapack_free(M)
        assert [q.rank] == case["rank"]
        assert (q.pivot + 1).tolist() == case["pivot"]


def test_qr_qy_and_qty_invert_each_other():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(12, 4))
    q = rmath.qr_lapack_free(A)
    y = rng.normal(size=(12, 3))
    close(rmath.qr_qy(q, rmath.qr_qty(q, y)), y, 1e-12)
    R = np.triu(q.qr[:4])
    close(rmath.qr_qy(q, np.vstack([R, np.zeros((8, 4))])), A, 1e-12)  # Q R = A
