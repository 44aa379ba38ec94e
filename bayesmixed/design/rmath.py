"""R's numerical building blocks for model matrices, in NumPy: the same numbers R computes.

* :func:`qr_lapack_free` — R's default QR (``qr(x)``, LINPACK ``dqrdc2``: Householder reflections with
  *limited* column pivoting, which moves a column whose remaining norm has fallen below ``tol`` times its
  original norm to the end and keeps the others in order), with :func:`qr_qy` and :func:`qr_qty`. lme4 uses
  it to decide which fixed-effect columns are aliased; ``poly()``, ``contr.poly()`` and ``ns()`` use it too.
* :func:`poly_fit` / :func:`poly_predict` — ``stats::poly`` (orthogonal polynomials and their ``coefs``).
* :func:`contr_poly` and the other contrast matrices of :func:`contrast_matrix`.
* :func:`spline_design`, :func:`ns_basis`, :func:`bs_basis`, :func:`spline_knots` — ``splines::splineDesign``,
  ``ns()`` and ``bs()``, including their linear (``ns``) and polynomial (``bs``) extension beyond the
  boundary knots on new data.

Everything here is a pure function of arrays; the state a transform learns on the fitted data (knots,
``coefs``) is returned so that new data are encoded the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "QR",
    "qr_lapack_free",
    "qr_qy",
    "qr_qty",
    "poly_fit",
    "poly_predict",
    "contr_poly",
    "contrast_matrix",
    "CONTRASTS",
    "spline_design",
    "spline_knots",
    "ns_basis",
    "bs_basis",
]


# ---------------------------------------------------------------------------------------------- QR (dqrdc2)
@dataclass(frozen=True)
class QR:
    """R's ``qr()`` result: the compact factor, ``qraux``, the rank and the column pivot (0-based)."""

    qr: np.ndarray
    qraux: np.ndarray
    rank: int
    pivot: np.ndarray


def qr_lapack_free(x: np.ndarray, tol: float = 1e-7) -> QR:
    """QR decomposition as R's ``qr(x, tol)`` computes it (LINPACK ``dqrdc2``, R's default).

    Columns are processed left to right; before column ``l`` is reduced, while the norm of what is left of
    it (after the reflections of the columns before it) is below ``tol`` times its original norm, it is
    moved to the right-hand end and the columns after it shift left. The columns so moved are the ones R,
    and lme4's ``chkRank.drop.cols``, count as aliased; the rest keep their order.
    """
    x = np.array(x, dtype=float, copy=True, order="F")  # column access
    n, p = x.shape
    qraux = np.sqrt(np.sum(x * x, axis=0)) if n > 0 else np.zeros(p)
    work1 = qraux.copy()  # norms, re-computed when they shrink a lot
    work2 = qraux.copy()  # original norms (1 for a zero column)
    work2[work2 == 0.0] = 1.0
    jpvt = np.arange(p)
    k = p + 1  # 1-based: columns k..p have been moved to the end
    for l in range(min(n, p)):
        # cycle negligible columns to the end (l + 1 < k avoids cycling forever)
        while l + 1 < k and qraux[l] < work2[l] * tol:
            order = np.r_[np.arange(l), np.arange(l + 1, p), l]
            x = np.asfortranarray(x[:, order])
            jpvt, qraux, work1, work2 = jpvt[order], qraux[order], work1[order], work2[order]
            k -= 1
        if l == n - 1:
            continue
        col = x[l:, l]
        nrmxl = math.sqrt(float(col @ col))
        if nrmxl == 0.0:
            continue
        if x[l, l] != 0.0:
            nrmxl = math.copysign(nrmxl, x[l, l])
        x[l:, l] = col / nrmxl
        x[l, l] = 1.0 + x[l, l]
        if l + 1 < p:
            u = x[l:, l]
            t = -(u @ x[l:, l + 1 :]) / x[l, l]
            for j in range(l + 1, p):  # column by column: no n × p temporary
                x[l:, j] += t[j - l - 1] * u
            for j in range(l + 1, p):
                if qraux[j] == 0.0:
                    continue
                tt = max(1.0 - (abs(x[l, j]) / qraux[j]) ** 2, 0.0)
                if abs(tt) >= 1e-6:
                    qraux[j] = qraux[j] * math.sqrt(tt)
                else:
                    rest = x[l + 1 :, j]
                    qraux[j] = math.sqrt(float(rest @ rest))
                    work1[j] = qraux[j]
        qraux[l] = x[l, l]
        x[l, l] = -nrmxl
    return QR(x, qraux, min(k - 1, n), jpvt)


def _apply_reflections(q: QR, y: np.ndarray, transpose: bool) -> np.ndarray:
    y = np.array(y, dtype=float, copy=True)
    vec = y.ndim == 1
    if vec:
        y = y[:, None]
    n = q.qr.shape[0]
    steps = range(min(q.rank, n - 1))
    for j in steps if transpose else reversed(steps):
        if q.qraux[j] == 0.0:
            continue
        u = q.qr[j:, j].copy()
        u[0] = q.qraux[j]
        t = -(u @ y[j:, :]) / u[0]
        y[j:, :] += np.outer(u, t)
    return y[:, 0] if vec else y


def qr_qy(q: QR, y: np.ndarray) -> np.ndarray:
    """``Q y`` (R's ``qr.qy``)."""
    return _apply_reflections(q, y, transpose=False)


def qr_qty(q: QR, y: np.ndarray) -> np.ndarray:
    """``Qᵀ y`` (R's ``qr.qty``)."""
    return _apply_reflections(q, y, transpose=True)


def _orthonormal_powers(x: np.ndarray, degree: int) -> tuple[np.ndarray, QR]:
    """Columns ``Q diag(R)`` of the QR of ``[1, x, ..., x^degree]``: the residual of each power after the
    lower ones, as ``poly()`` and ``contr.poly()`` compute them."""
    X = np.power.outer(x, np.arange(degree + 1, dtype=float))
    X[:, 0] = 1.0  # R's 0^0 is 1
    q = qr_lapack_free(X)
    z = np.zeros_like(X)
    d = np.arange(min(X.shape))
    z[d, d] = q.qr[d, d]
    return qr_qy(q, z), q


# ---------------------------------------------------------------------------------------------- poly()
def poly_fit(x: np.ndarray, degree: int) -> tuple[np.ndarray, list[float], list[float]]:
    """``poly(x, degree)`` on the fitted data: the ``n × degree`` orthogonal polynomial columns and the
    ``coefs`` (``alpha``, ``norm2``) that :func:`poly_predict` needs for new data.

    Raises
    ------
    ValueError
        ``degree`` is not below the number of distinct values of ``x``.
    """
    x = np.asarray(x, dtype=float)
    if degree >= len(np.unique(x)):
        raise ValueError(f"'degree' ({degree}) must be less than the number of distinct values ({len(np.unique(x))})")
    xbar = float(np.mean(x))
    xc = x - xbar
    Z, q = _orthonormal_powers(xc, degree)
    if q.rank < degree:
        raise ValueError(f"'degree' ({degree}) must be less than the number of distinct values")
    norm2 = np.sum(Z * Z, axis=0)
    alpha = (np.sum(xc[:, None] * Z * Z, axis=0) / norm2 + xbar)[:degree]
    norm2 = np.r_[1.0, norm2]
    Z = Z / np.sqrt(norm2[1:])
    return Z[:, 1:], [float(a) for a in alpha], [float(v) for v in norm2]


def poly_predict(x: np.ndarray, alpha: list[float], norm2: list[float]) -> np.ndarray:
    """``poly(x, degree, coefs = list(alpha, norm2))``: the fitted polynomials on new ``x`` (three-term
    recurrence, as ``predict()`` in R)."""
    x = np.asarray(x, dtype=float)
    degree = len(alpha)
    Z = np.ones((len(x), degree + 1))
    Z[:, 1] = x - alpha[0]
    for i in range(1, degree):
        Z[:, i + 1] = (x - alpha[i]) * Z[:, i] - (norm2[i + 1] / norm2[i]) * Z[:, i - 1]
    Z = Z / np.sqrt(np.asarray(norm2[1:]))
    return Z[:, 1:]


# ---------------------------------------------------------------------------------------------- contrasts
def contr_poly(n: int) -> tuple[np.ndarray, tuple[str, ...]]:
    """``contr.poly(n)``: orthonormal polynomial contrasts, columns ``.L``, ``.Q``, ``.C``, ``^4``, ..."""
    if n < 2:
        raise ValueError("contrasts need at least two levels")
    if n > 95:
        raise ValueError(f"polynomial contrasts cannot be computed accurately for {n} levels (at most 95)")
    scores = np.arange(1, n + 1, dtype=float)
    raw, _ = _orthonormal_powers(scores - scores.mean(), n - 1)
    Z = raw / np.sqrt(np.sum(raw * raw, axis=0))
    names = [".L", ".Q", ".C"] + [f"^{i}" for i in range(4, n)]
    return Z[:, 1:], tuple(names[: n - 1])


#: contrast codings by name (R's ``contr.*`` functions)
CONTRASTS = ("treatment", "sum", "helmert", "poly", "SAS")


def contrast_matrix(kind: str, levels: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The ``n × (n-1)`` contrast matrix of a coding and its column suffixes, as R names them
    (``contr.treatment``: the levels but the first; ``contr.SAS``: the levels but the last;
    ``contr.sum``/``contr.helmert``: ``1 ... n-1``; ``contr.poly``: ``.L .Q .C ^4 ...``)."""
    n = len(levels)
    if kind == "treatment":
        return np.eye(n)[:, 1:], tuple(levels[1:])
    if kind == "SAS":
        return np.eye(n)[:, :-1], tuple(levels[:-1])
    if kind == "sum":
        C = np.vstack([np.eye(n - 1), -np.ones((1, n - 1))])
        return C, tuple(str(i) for i in range(1, n))
    if kind == "helmert":
        C = np.zeros((n, n - 1))
        for j in range(n - 1):
            C[: j + 1, j] = -1.0
            C[j + 1, j] = j + 1.0
        return C, tuple(str(i) for i in range(1, n))
    if kind == "poly":
        return contr_poly(n)
    raise ValueError(f"unknown contrast {kind!r}")


# ---------------------------------------------------------------------------------------------- B-splines
def _cox_de_boor(t: np.ndarray, x: np.ndarray, interval: np.ndarray, k: int) -> np.ndarray:
    """All B-splines of order ``k`` on knots ``t`` at ``x`` (``n × (len(t) - k)``), the interval of each
    ``x`` given (the order-1 spline that is 1 there)."""
    n = len(x)
    B = np.zeros((n, len(t) - 1))
    B[np.arange(n), interval] = 1.0
    for m in range(2, k + 1):
        nb = len(t) - m
        new = np.zeros((n, nb))
        for i in range(nb):
            d1 = t[i + m - 1] - t[i]
            d2 = t[i + m] - t[i + 1]
            if d1 > 0:
                new[:, i] += (x - t[i]) / d1 * B[:, i]
            if d2 > 0:
                new[:, i] += (t[i + m] - x) / d2 * B[:, i + 1]
        B = new
    return B


def _deriv_basis(t: np.ndarray, x: np.ndarray, interval: np.ndarray, k: int, d: int) -> np.ndarray:
    if d == 0:
        return _cox_de_boor(t, x, interval, k)
    low = _deriv_basis(t, x, interval, k - 1, d - 1)
    nb = len(t) - k
    out = np.zeros((len(x), nb))
    for i in range(nb):
        d1 = t[i + k - 1] - t[i]
        d2 = t[i + k] - t[i + 1]
        if d1 > 0:
            out[:, i] += (k - 1) * low[:, i] / d1
        if d2 > 0:
            out[:, i] -= (k - 1) * low[:, i + 1] / d2
    return out


def spline_design(knots: np.ndarray, x: np.ndarray, ord: int = 4, derivs: int | list[int] = 0) -> np.ndarray:
    """``splines::splineDesign(knots, x, ord, derivs)``: B-spline basis (or its derivatives) at ``x``.

    ``x`` must lie within ``[knots[ord-1], knots[-ord]]``; at the right end the basis is the limit from the
    left, as in R.
    """
    t = np.sort(np.asarray(knots, dtype=float))
    x = np.asarray(x, dtype=float)
    nk = len(t)
    lo, hi = t[ord - 1], t[nk - ord]
    if np.any((x < lo) | (x > hi)):
        raise ValueError(f"the x data must be in the range {lo:g} to {hi:g}")
    derivs_arr = np.broadcast_to(np.asarray(derivs, dtype=int), x.shape)
    curs = np.searchsorted(t, x, side="right")  # first knot above x
    boundary = curs > nk - ord
    curs = np.where(boundary, nk - ord, curs)
    interval = curs - 1
    out = np.zeros((len(x), nk - ord))
    for d in np.unique(derivs_arr):
        rows = derivs_arr == d
        out[rows] = _deriv_basis(t, x[rows], interval[rows], ord, int(d))
        if d == ord - 1:  # R: the (ord-1)-th derivative at the right boundary is arbitrary, returned as 0
            out[rows & boundary] = 0.0
    return out


def spline_knots(x: np.ndarray, n_inner: int) -> list[float]:
    """Inner knots at equally spaced quantiles of ``x`` (R's ``quantile`` type 7), as ``ns(x, df)`` and
    ``bs(x, df)`` place them."""
    if n_inner <= 0:
        return []
    probs = np.linspace(0.0, 1.0, n_inner + 2)[1:-1]
    return [float(v) for v in np.quantile(np.asarray(x, dtype=float), probs)]


def ns_basis(x: np.ndarray, knots: list[float], boundary: tuple[float, float], intercept: bool = False) -> np.ndarray:
    """``splines::ns(x, knots =, Boundary.knots =, intercept =)``: natural cubic spline basis, linear beyond
    the boundary knots."""
    x = np.asarray(x, dtype=float)
    b0, b1 = sorted(boundary)
    aknots = np.sort(np.r_[[b0] * 4, [b1] * 4, knots])
    ol, orr = x < b0, x > b1
    basis = np.zeros((len(x), len(knots) + 4))
    for side, pivot in ((ol, b0), (orr, b1)):
        if side.any():
            tt = spline_design(aknots, [pivot, pivot], 4, [0, 1])
            basis[side] = np.column_stack([np.ones(side.sum()), x[side] - pivot]) @ tt
    inside = ~(ol | orr)
    if inside.any():
        basis[inside] = spline_design(aknots, x[inside], 4)
    const = spline_design(aknots, [b0, b1], 4, [2, 2])
    if not intercept:
        const, basis = const[:, 1:], basis[:, 1:]
    q = qr_lapack_free(const.T)
    return qr_qty(q, basis.T).T[:, 2:]


def bs_basis(
    x: np.ndarray, knots: list[float], boundary: tuple[float, float], degree: int = 3, intercept: bool = False
) -> np.ndarray:
    """``splines::bs(x, knots =, degree =, Boundary.knots =, intercept =)``: B-spline basis, extended beyond
    the boundary knots by the Taylor polynomial at a pivot a quarter of the way to the nearest inner knot."""
    x = np.asarray(x, dtype=float)
    ord = degree + 1
    b0, b1 = sorted(boundary)
    aknots = np.sort(np.r_[[b0] * ord, [b1] * ord, knots])
    ol, orr = x < b0, x > b1
    basis = np.zeros((len(x), len(aknots) - ord))
    e = 0.25
    scalef = np.array([math.gamma(i) for i in range(1, ord + 1)])[:, None]
    for side, pivot in ((ol, (1 - e) * b0 + e * aknots[ord]), (orr, (1 - e) * b1 + e * aknots[len(aknots) - ord - 1])):
        if side.any():
            tt = spline_design(aknots, [pivot] * ord, ord, list(range(ord)))
            xs = np.column_stack([np.ones(side.sum())] + [(x[side] - pivot) ** p for p in range(1, ord)])
            basis[side] = xs @ (tt / scalef)
    inside = ~(ol | orr)
    if inside.any():
        basis[inside] = spline_design(aknots, x[inside], ord)
    return basis if intercept else basis[:, 1:]
