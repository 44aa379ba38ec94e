"""Smooth terms as mixed-model blocks: mgcv's bases and reparameterisation, and Hilbert-space GPs (NumPy only).

A smooth ``s(x)`` is written as the mixed model that gamm4 and brms fit (mgcv's ``smoothCon`` with the
identifiability constraint absorbed, then ``smooth2random``): the basis ``X`` (n × k) and its penalty ``S``
(k × k) become

* an unpenalised part ``X_f`` (the penalty's null space, less the constant that the intercept already carries):
  fixed-effect columns ``s(x)_1``, ``s(x)_2`` … (brms's ``bs_sx_1``);
* a penalised part ``Z = X U₊ D₊^{-1/2}`` (``S = U D Uᵀ``): a random-effect block of one level whose k′
  coefficients are ``b ~ N(0, τ² I)`` with ONE standard deviation ``τ``, ``sd_s(x)`` (brms's ``sds_sx_1``,
  gamm4's ``Xr`` variance component).

Because ``Z Zᵀ = X S⁺ Xᵀ`` does not depend on how the penalised space is parameterised, ``τ`` is comparable with
gamm4's and brms's once the penalty has mgcv's scale. The bases follow mgcv 1.8:

``bs = "tp"`` (default)
    thin plate regression spline of one covariate (penalty order m = 2: ``η(r) = r³/12``, null space 1, x),
    knots at the unique values (mgcv's ``max.knots`` = 2000; more unique values are thinned to 2000 evenly
    spaced ones, where mgcv takes a random subset), truncated to the k eigenvectors of ``E`` of largest
    magnitude, the constraint ``Tᵀδ = 0`` imposed by mgcv's Householder ``QT`` factorisation, columns scaled
    to RMS 1 (``tprs_setup`` in mgcv's ``tprs.c``).
``bs = "cr"``
    cubic regression spline parameterised by its values at k knots placed at quantiles of the unique values
    (Wood 2017, §5.3.1; ``crspl`` in mgcv), linear beyond the boundary knots.

then ``smoothCon``'s penalty scaling ``S ← S ‖X‖∞² / ‖S‖₁``, the sum-to-zero constraint absorbed by a Householder
reflection of ``colMeans(X)``, and ``smooth2random``'s eigen-reparameterisation. A ``by`` factor repeats the
smooth per level (each level its own SD, mgcv's constraint and scaling shared); a numeric ``by`` multiplies it and
keeps the constant in the null space. ``t2(x, z)`` is mgcv's tensor product of ``cr`` margins (Wood, Scheipl
and Faraway 2013): one SD per product of penalised and unpenalised marginal parts.

All that is needed to evaluate the terms on new data (knots, the combined transform ``P`` of the basis to the
fixed and random columns) is kept as plain numbers in the design's transform state, so predictions, plots and
save/load reproduce the fitted columns.

``gp(x, k = 20, c = 5/4)`` is brms's Hilbert-space approximate GP (Riutort-Mayol et al. 2023) with the
squared-exponential kernel, set up as brms 2.18 does: ``x`` scaled (``scale = TRUE``, brms's default) so that the
largest distance between two data points is 1, centred on the mean of its distinct values, ``L = c · max(1,
range of x)``; the basis ``φ_j(x) = L^{-1/2} sin(√λ_j (x + L))``,
``√λ_j = jπ / (2L)``, j = 1 … k, enters as a block of one level whose coefficient j has SD
``sqrt(S(√λ_j))``, ``S(ω) = α² √(2π) ρ exp(−ρ²ω²/2)``; ``α`` is ``sdgp_gp(x)`` and ``ρ`` ``lscale_gp(x)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import DataError
from ..formula.ast import BinOp, Call, Expr, Name, Num, expr_to_str
from .evaluate import _constant

__all__ = [
    "SMOOTH_FUNCS",
    "SmoothTerm",
    "SmoothPart",
    "smooth_terms",
    "build_smooth",
    "tprs_basis",
    "cr_knots",
    "cr_basis",
    "gp_spectral_sd",
    "MAX_KNOTS",
]

SMOOTH_FUNCS = ("s", "t2", "gp")
MAX_KNOTS = 2000  # mgcv's default xt$max.knots for "tp"
_BASES = ("tp", "cr")


# ------------------------------------------------------------------------------------------ term parsing
@dataclass(frozen=True)
class SmoothTerm:
    """A parsed smooth call: ``s(x, k = 10, bs = "tp", by = f)``, ``t2(x, z)`` or ``gp(x, k = 20)``."""

    call: Call
    func: str  # "s" | "t2" | "gp"
    variables: tuple[str, ...]
    k: tuple[int, ...] | None  # per margin for t2; None: the default
    bs: str
    by: str | None
    c: float = 1.25  # gp's boundary factor
    scale: bool = True  # gp's scaling of x

    @property
    def label(self) -> str:
        """The term's label: mgcv's ``s(x)``, ``gp(x)`` (brms writes ``gp(x)`` too), and ``t2(x:z)`` for mgcv's
        ``t2(x,z)`` (a comma cannot be part of a posterior variable's name: nutpie splits names on it)."""
        return f"{self.func}({':'.join(self.variables)})"


def _fold(e: Expr) -> Expr:
    """Constant arithmetic in an argument (brms writes ``c = 5/4``) as one number."""
    if isinstance(e, BinOp):
        a, b = _fold(e.left), _fold(e.right)
        if isinstance(a, Num) and isinstance(b, Num) and e.op in "+-*/^":
            ops = {"+": a.value + b.value, "-": a.value - b.value, "*": a.value * b.value,
                   "/": a.value / b.value if b.value else float("nan"), "^": a.value**b.value}
            return Num(ops[e.op])
    return e


def parse_smooth(call: Call) -> SmoothTerm:
    """Read the arguments of a smooth call, with a :class:`~bayesmixed.errors.DataError` for what is not supported."""
    where = expr_to_str(call)
    func = call.func
    allowed = {"s": ("k", "bs", "by", "m", "fx"), "t2": ("k", "bs", "by"), "gp": ("k", "c", "scale", "cov")}[func]
    for key, _ in call.kwargs:
        if key not in allowed:
            raise DataError(f"{where}: {func}() has no argument {key!r} here; it takes {', '.join(allowed)}")
    variables = []
    for a in call.args:
        if not isinstance(a, Name):
            raise DataError(
                f"{where}: the variables of {func}() must be column names (got {expr_to_str(a)}); "
                "compute the variable as a column of the data first"
            )
        variables.append(a.name)
    if not variables:
        raise DataError(f"{where}: {func}() needs a variable, e.g. {func}(x)")
    kw = {key: _constant(_fold(v), key, call) for key, v in call.kwargs if key != "by"}
    by = None
    for key, v in call.kwargs:
        if key == "by":
            if not isinstance(v, Name):
                raise DataError(f"{where}: by = must name a column, e.g. by = f")
            by = v.name
    if func == "s" and len(variables) > 1:
        raise DataError(
            f"{where}: smooths of several variables are written t2({', '.join(variables)}) here "
            "(tensor product of one-dimensional cubic regression splines)"
        )
    if func == "gp" and len(variables) > 1:
        raise DataError(f"{where}: gp() takes one variable here (a one-dimensional Hilbert-space approximate GP)")
    if func == "s" and kw.get("m") not in (None, 2.0, 2):
        raise DataError(f"{where}: only the default penalty order m = 2 is supported")
    if func == "s" and kw.get("fx") is True:
        raise DataError(f"{where}: fx = TRUE (an unpenalised regression spline) is not supported; use ns() or bs()")
    if func == "gp" and kw.get("cov", "exp_quad") != "exp_quad":
        raise DataError(f"{where}: only the squared-exponential kernel (cov = \"exp_quad\") is supported")
    bs = kw.get("bs", "cr" if func == "t2" else "tp")
    if func != "gp":
        if not isinstance(bs, str) or bs not in _BASES:
            raise DataError(
                f"{where}: unknown basis bs = {bs!r}; the supported bases are \"tp\" (thin plate regression "
                "spline, the default of s()) and \"cr\" (cubic regression spline, the default of t2())"
            )
        if func == "t2" and bs != "cr":
            raise DataError(f"{where}: t2() margins are cubic regression splines here (bs = \"cr\")")
    k = kw.get("k")
    if k is not None:
        ks = k if isinstance(k, list) else [k]
        if func == "t2" and len(ks) == 1:
            ks = ks * len(variables)
        if any(not isinstance(v, float) or not v.is_integer() for v in ks) or len(ks) != (
            len(variables) if func == "t2" else 1
        ):
            raise DataError(f"{where}: k must be a whole number (one per variable for t2), got {k!r}")
        k = tuple(int(v) for v in ks)
        low = 3 if func != "gp" else 1
        if min(k) < low:
            raise DataError(f"{where}: k = {min(k)} is too small: a {func}() basis needs k >= {low}")
    c = float(kw.get("c", 1.25))
    if func == "gp" and not c > 1.0:
        raise DataError(f"{where}: the boundary factor c must exceed 1 (brms's default is 5/4), got {c}")
    return SmoothTerm(call, func, tuple(variables), k, str(bs), by, c, bool(kw.get("scale", True)))


def smooth_terms(calls: tuple[Call, ...]) -> list[SmoothTerm]:
    """Parsed smooth calls of a formula; a :class:`~bayesmixed.errors.DataError` when two give the same label."""
    out = [parse_smooth(c) for c in calls]
    labels = [t.label + (f":{t.by}" if t.by else "") for t in out]
    for lab in labels:
        if labels.count(lab) > 1:
            raise DataError(f"the smooth {lab} appears twice in the formula; give each variable one smooth")
    return out


# ------------------------------------------------------------------------------------------ mgcv bases
def _eta(r: np.ndarray) -> np.ndarray:
    """mgcv's thin plate radial function for d = 1, m = 2: ``r³ / 12``."""
    return np.abs(r) ** 3 / 12.0


def _qt(A: np.ndarray) -> np.ndarray:
    """mgcv's ``QT`` factorisation ``A Q = [0, T]`` (A: M × c, M ≤ c) by Householder reflections that rotate
    each row into its last free element; returns ``Q`` (c × c) explicitly."""
    A = np.array(A, dtype=float)
    M, c = A.shape
    Q = np.eye(c)
    for i in range(M):
        m = c - i
        p = A[i, :m].copy()
        scale = np.max(np.abs(p))
        if scale:
            p /= scale
        lsq = float(np.sqrt(p @ p))
        if p[m - 1] < 0:
            lsq = -lsq
        p[m - 1] += lsq
        g = 1.0 / (lsq * p[m - 1]) if lsq else 0.0
        for j in range(i + 1, M):
            A[j, :m] -= g * (p @ A[j, :m]) * p
        u = np.zeros(c)
        u[:m] = p * np.sqrt(g)
        Q -= np.outer(Q @ u, u)
    return Q


def tprs_basis(x: np.ndarray, k: int, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """mgcv's thin plate regression spline of one variable (``tprs_setup``, d = 1, m = 2).

    Returns ``(X, S, UZ, knots, shift)``: the n × k basis, its penalty, the map ``UZ`` ((knots + 2) × k) from
    ``[η(|x − knot|), 1, x]`` to the basis (so that new data are ``B(x_new − shift) UZ``), the knots (centred
    unique values) and the centring shift."""
    x = np.asarray(x, dtype=float)
    shift = float(np.mean(x))
    xs = x - shift
    xu = np.unique(xs)
    if len(xu) > MAX_KNOTS:
        xu = xu[np.unique(np.round(np.linspace(0, len(xu) - 1, MAX_KNOTS)).astype(int))]
    M = 2
    if len(xu) < k:
        raise DataError(
            f"{where}: k = {k} but the variable has only {len(xu)} distinct values; a basis of dimension k needs "
            f"at least k distinct values: use k = {len(xu)} or less"
        )
    E = _eta(xu[:, None] - xu[None, :])
    T = np.column_stack([np.ones(len(xu)), xu])
    if len(xu) == k:  # pure knot basis: no eigen step
        Q = _qt(T.T)
        UZ_top = Q.copy()
        S = Q.T @ E @ Q
    else:
        lam, vec = np.linalg.eigh(E)
        pick = np.argsort(-np.abs(lam), kind="stable")[:k]
        pos = sorted((i for i in pick if lam[i] > 0), key=lambda i: -lam[i])
        neg = sorted((i for i in pick if lam[i] <= 0), key=lambda i: -lam[i])
        order = pos + neg  # as mgcv's Lanczos returns them: largest positive first, then the negative ones
        U, v = vec[:, order], lam[order]
        Q = _qt(T.T @ U)
        UZ_top = U @ Q
        S = Q.T @ np.diag(v) @ Q
    UZ_top[:, k - M :] = 0.0
    S[:, k - M :] = 0.0
    S[k - M :, :] = 0.0
    UZ = np.vstack([UZ_top, np.zeros((M, k))])
    UZ[-M:, -M:] = np.eye(M)
    X = _tprs_raw(xs, xu) @ UZ
    w = np.sqrt(np.mean(X**2, axis=0))
    X, UZ = X / w, UZ / w
    S = S / np.outer(w, w)
    return X, (S + S.T) / 2, UZ, xu, shift


def _tprs_raw(xs: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """``[η(|x − knot_j|)…, 1, x]`` for centred ``xs``."""
    return np.column_stack([_eta(xs[:, None] - knots[None, :]), np.ones(len(xs)), xs])


def cr_knots(x: np.ndarray, k: int, where: str) -> np.ndarray:
    """mgcv's ``cr`` knots: ``quantile(unique(x), seq(0, 1, length = k))``."""
    xu = np.unique(np.asarray(x, dtype=float))
    if len(xu) < k:
        raise DataError(
            f"{where}: k = {k} but the variable has only {len(xu)} distinct values; a basis of dimension k needs "
            f"at least k distinct values: use k = {len(xu)} or less"
        )
    return np.quantile(xu, np.linspace(0.0, 1.0, k))


def _cr_FS(xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``F`` (k × k, maps values at the knots to second derivatives, rows 0 and k−1 zero) and the penalty
    ``S = Dᵀ B⁻¹ D`` of a cubic regression spline (mgcv's ``getFS``)."""
    k = len(xk)
    h = np.diff(xk)
    D = np.zeros((k - 2, k))
    B = np.zeros((k - 2, k - 2))
    for i in range(k - 2):
        D[i, i], D[i, i + 2] = 1.0 / h[i], 1.0 / h[i + 1]
        D[i, i + 1] = -1.0 / h[i] - 1.0 / h[i + 1]
        B[i, i] = (h[i] + h[i + 1]) / 3.0
        if i + 1 < k - 2:
            B[i, i + 1] = B[i + 1, i] = h[i + 1] / 6.0
    BinvD = np.linalg.solve(B, D)
    F = np.zeros((k, k))
    F[1:-1] = BinvD
    return F, D.T @ BinvD


def cr_basis(x: np.ndarray, xk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cubic regression spline basis at ``x`` for knots ``xk`` (mgcv's ``crspl``) and its penalty."""
    x = np.asarray(x, dtype=float)
    k = len(xk)
    F, S = _cr_FS(xk)
    X = np.zeros((len(x), k))
    lo, hi = xk[0], xk[-1]
    inside = (x >= lo) & (x <= hi)
    j = np.clip(np.searchsorted(xk, x, side="left") - 1, 0, k - 2)
    xi = x[inside]
    ji = j[inside]
    h = xk[ji + 1] - xk[ji]
    am, ap = xk[ji + 1] - xi, xi - xk[ji]
    cm = am * (am * am / h - h) / 6.0
    cp = ap * (ap * ap / h - h) / 6.0
    Xi = cm[:, None] * F[ji] + cp[:, None] * F[ji + 1]
    rows = np.arange(len(xi))
    Xi[rows, ji] += am / h
    Xi[rows, ji + 1] += ap / h
    X[inside] = Xi
    below = x < lo
    if below.any():
        h0 = xk[1] - lo
        d = x[below] - lo
        Xb = (-d * h0 / 3.0)[:, None] * F[0] + (-d * h0 / 6.0)[:, None] * F[1]
        Xb[:, 0] += 1 - d / h0
        Xb[:, 1] += d / h0
        X[below] = Xb
    above = x > hi
    if above.any():
        h1 = hi - xk[-2]
        d = x[above] - hi
        Xa = (d * h1 / 6.0)[:, None] * F[k - 2] + (d * h1 / 3.0)[:, None] * F[k - 1]
        Xa[:, k - 2] += -d / h1
        Xa[:, k - 1] += 1 + d / h1
        X[above] = Xa
    return X, (S + S.T) / 2


def _scale_penalty(X: np.ndarray, S: np.ndarray) -> np.ndarray:
    """``smoothCon(scale.penalty = TRUE)``: ``S / (‖S‖₁ / ‖X‖∞²)``."""
    maXX = np.max(np.sum(np.abs(X), axis=1)) ** 2
    return S / (np.max(np.sum(np.abs(S), axis=0)) / maXX)


def _sum_to_zero(X: np.ndarray) -> np.ndarray:
    """The k × (k − 1) null space of ``colMeans(X)`` that ``smoothCon(absorb.cons = TRUE)`` uses: columns
    2 … k of the Householder reflection of ``colMeans(X)ᵀ`` (R's ``qr``)."""
    c = X.mean(axis=0)
    v = c.copy()
    alpha = np.linalg.norm(c)
    v[0] += np.copysign(alpha, c[0]) if c[0] != 0 else alpha
    H = np.eye(len(c)) - 2.0 * np.outer(v, v) / (v @ v)
    return H[:, 1:]


def _to_random(S: np.ndarray, rank: int) -> tuple[np.ndarray, int]:
    """``smooth2random``: ``U D^{-1/2}`` with ``S = U D Uᵀ`` (the ``rank`` penalised directions first, the null
    space with D = 1 after)."""
    lam, U = np.linalg.eigh(S)
    order = np.argsort(-lam, kind="stable")
    lam, U = lam[order], U[:, order]
    D = np.concatenate([lam[:rank], np.ones(len(lam) - rank)])
    return U / np.sqrt(D), rank


# ------------------------------------------------------------------------------------------ assembling
@dataclass(frozen=True)
class SmoothPart:
    """The columns one smooth term contributes: fixed-effect columns and random-effect blocks of one level.

    Attributes
    ----------
    fixed, fixed_names
        Unpenalised columns (n × f) and their names (``s(x)_1``, ``s(x):fa_1``).
    blocks
        ``(label, Z, kind, spectral)`` per penalised block: ``kind`` ``"smooth"`` (one SD for its columns) or
        ``"gp"`` (column j has SD ``sqrt(S(spectral[j]))``).
    """

    fixed: np.ndarray
    fixed_names: tuple[str, ...]
    blocks: tuple[tuple[str, np.ndarray, str, tuple[float, ...]], ...]


def _by_values(term: SmoothTerm, data, state: dict, fitting: bool):
    """The ``by`` variable: ``("factor", codes, level labels)`` or ``("numeric", values)``."""
    from .evaluate import Categorical, evaluate, level_str

    v = evaluate(Name(term.by), data, state, fitting)
    if isinstance(v, Categorical):
        if (v.codes < 0).any():
            bad = data[term.by][v.codes < 0].iloc[0]
            raise DataError(
                f"{expr_to_str(term.call)}: the by variable {term.by!r} has the level {bad!r}, which the model was "
                f"not fitted to (levels: {', '.join(level_str(x) for x in v.levels)})"
            )
        return "factor", v.codes, tuple(level_str(x) for x in v.levels)
    return "numeric", v.values, ()


def _basis_raw(term: SmoothTerm, x: np.ndarray, st: dict) -> np.ndarray:
    """The smooth's basis on (new) values ``x`` of its variable, before the constraint and reparameterisation."""
    if term.func == "gp":
        xs = (x - st["shift"]) / st["scale"]
        L = st["L"]
        sl = np.asarray(st["slambda"])
        return np.sin(sl[None, :] * (xs[:, None] + L)) / np.sqrt(L)
    if term.bs == "tp":
        return _tprs_raw(x - st["shift"], np.asarray(st["knots"])) @ np.asarray(st["UZ"])
    return cr_basis(x, np.asarray(st["knots"]))[0]


def _column(data, name: str, where: str) -> np.ndarray:
    from .evaluate import is_categorical_series, numeric_column

    s = data[name]
    if is_categorical_series(s):
        raise DataError(f"{where}: the variable {name!r} of a smooth must be numeric, but it is categorical")
    return numeric_column(s, name)


def build_smooth(term: SmoothTerm, data, state: dict, fitting: bool) -> SmoothPart:
    """The fixed columns and random-effect blocks of one smooth term on ``data``.

    When ``fitting``, the basis is constructed on ``data`` and what new data need is stored in ``state`` under
    the term's formula text; otherwise it is read from there."""
    where = expr_to_str(term.call)
    key = where
    xs = [_column(data, v, where) for v in term.variables]
    by = _by_values(term, data, state, fitting) if term.by else None
    if fitting:
        state[key] = ("smooth", json.dumps(_construct(term, xs, by, where)))
    st = json.loads(state[key][1])
    if term.func == "t2":
        return _t2_columns(term, xs, by, st)
    B = _basis_raw(term, xs[0], st)
    if term.func == "gp":
        return SmoothPart(np.zeros((len(B), 0)), (), ((term.label, B, "gp", tuple(st["slambda"])),))
    P = np.asarray(st["P"])
    cols = B @ P
    rank = int(st["rank"])
    return _split_by(term, cols[:, :rank], cols[:, rank:], by, [[cols.shape[1] - rank]])


def _split_by(term: SmoothTerm, R: np.ndarray, Fx: np.ndarray, by, sizes) -> SmoothPart:
    """Random block(s) ``R`` and fixed columns ``Fx`` of a smooth, repeated per level of a ``by`` factor or
    multiplied by a numeric ``by``."""
    label = term.label
    if by is None:
        parts = [(label, np.ones(R.shape[0]))]
    elif by[0] == "numeric":
        parts = [(f"{label}:{term.by}", by[1])]
    else:
        parts = [(f"{label}:{term.by}{lv}", (by[1] == j).astype(float)) for j, lv in enumerate(by[2])]
    fixed, names, blocks = [], [], []
    for lab, w in parts:
        fixed.append(Fx * w[:, None])
        names += [f"{lab}_{j + 1}" for j in range(Fx.shape[1])]
        blocks.append((lab, R * w[:, None], "smooth", ()))
    return SmoothPart(np.hstack(fixed) if fixed else np.zeros((R.shape[0], 0)), tuple(names), tuple(blocks))


def _construct(term: SmoothTerm, xs: list[np.ndarray], by, where: str) -> dict:
    """Construct the basis on the fitted data and return the state that evaluates it anywhere."""
    if term.func == "gp":
        return _construct_gp(term, xs[0], where)
    if term.func == "t2":
        return _construct_t2(term, xs, by, where)
    x = xs[0]
    k = term.k[0] if term.k else 10
    if term.bs == "tp":
        X, S, UZ, knots, shift = tprs_basis(x, k, where)
        st = {"shift": shift, "knots": knots.tolist(), "UZ": UZ.tolist()}
        null_dim = 2
    else:
        knots = cr_knots(x, k, where)
        X, S = cr_basis(x, knots)
        st = {"knots": knots.tolist()}
        null_dim = 2
    S = _scale_penalty(X, S)
    constrained = by is None or by[0] == "factor" or np.std(by[1]) <= np.mean(by[1]) * 1e3 * np.finfo(float).eps
    Zc = _sum_to_zero(X) if constrained else np.eye(X.shape[1])
    S = Zc.T @ S @ Zc
    rank = X.shape[1] - null_dim
    UD, _ = _to_random((S + S.T) / 2, rank)
    st.update(P=(Zc @ UD).tolist(), rank=rank)
    return st


def _construct_gp(term: SmoothTerm, x: np.ndarray, where: str) -> dict:
    """brms 2.18's approximate GP (``.data_gp``): scale ``x`` so that the largest distance between two points is
    1, centre it on the mean of its distinct values, ``L = c · max(1, range)``, ``√λ_j = jπ / (2L)``."""
    k = term.k[0] if term.k else 20
    u = np.unique(x)
    dmax = float(u[-1] - u[0])
    if dmax <= 0:
        raise DataError(f"{where}: the variable {term.variables[0]!r} is constant, so it has no Gaussian process")
    scale = dmax if term.scale else 1.0
    shift = float(np.mean(u / scale)) * scale
    us = (u - shift) / scale
    L = term.c * max(1.0, float(us[-1] - us[0]))
    slambda = np.arange(1, k + 1) * np.pi / (2.0 * L)
    return {"shift": shift, "scale": scale, "L": L, "slambda": slambda.tolist(), "dmin": _min_gap(u / scale),
            "dmax": dmax / scale}


def _min_gap(x: np.ndarray) -> float:
    u = np.unique(x)
    return float(np.min(np.diff(u))) if len(u) > 1 else 1.0


def gp_spectral_sd(sdgp: np.ndarray, lscale: np.ndarray, slambda: np.ndarray) -> np.ndarray:
    """SD of each basis coefficient of an approximate GP: ``sqrt(S(√λ_j))`` with the squared-exponential
    spectral density ``S(ω) = α² √(2π) ρ exp(−ρ² ω² / 2)``; broadcasts ``(…,)`` draws against ``(k,)``."""
    a = np.asarray(sdgp, dtype=float)[..., None]
    r = np.asarray(lscale, dtype=float)[..., None]
    w = np.asarray(slambda, dtype=float)
    return a * np.sqrt(np.sqrt(2.0 * np.pi) * r) * np.exp(-0.25 * (r * w) ** 2)


# ------------------------------------------------------------------------------------------ t2
def _nat_param(X: np.ndarray, S: np.ndarray, rank: int) -> np.ndarray:
    """mgcv's ``nat.param(type = 3, unit.fnorm = TRUE)`` of one margin: the k × k transform ``T`` with ``X T``
    = [range columns (penalty the identity), null-space columns], columns of each part scaled to RMS 1."""
    lam, V = np.linalg.eigh(S)
    order = np.argsort(-lam, kind="stable")
    lam, V = lam[order], V[:, order]
    k = X.shape[1]
    E = np.ones(k)
    E[:rank] = np.sqrt(lam[:rank])
    XV = X @ V
    norm = np.sum(XV**2, axis=0) / E**2
    E[rank:] = np.sqrt(norm[rank:] / np.mean(norm[:rank]))
    T = V / E
    Xt = XV / E
    if rank < k - 1:
        Xn = Xt[:, rank:] - Xt[:, rank:].mean(axis=0)
        w, um = np.linalg.eigh(Xn.T @ Xn)
        um = um[:, np.argsort(-w, kind="stable")]
        T[:, rank:] = (T[:, rank:] @ um)[:, ::-1]
        Xt[:, rank:] = (Xt[:, rank:] @ um)[:, ::-1]
    T[:, :rank] /= np.sqrt(np.mean(Xt[:, :rank] ** 2))
    T[:, rank:] /= np.sqrt(np.mean(Xt[:, rank:] ** 2))
    return T


def _t2_blocks(margins: list[np.ndarray], ranks: list[int]) -> list[tuple[str, np.ndarray]]:
    """mgcv's ``t2.model.matrix(full = FALSE)``: row-wise tensor products of the margins' range ("r") and null
    ("n") parts, ordered as mgcv orders them (for two margins: rr, nr, rn, nn)."""
    X2 = [("r", margins[0][:, : ranks[0]]), ("n", margins[0][:, ranks[0] :])]
    for Xm, r in zip(margins[1:], ranks[1:]):
        Zi, Xi = Xm[:, :r], Xm[:, r:]
        X2 = [(lab + "r", _rowkron(A, Zi)) for lab, A in X2] + [(lab + "n", _rowkron(A, Xi)) for lab, A in X2]
    return X2


def _construct_t2(term: SmoothTerm, xs: list[np.ndarray], by, where: str) -> dict:
    """mgcv's ``t2`` of cubic regression spline margins (``smooth.construct.t2.smooth.spec``): each margin
    reparameterised by :func:`_nat_param`, the tensor products of :func:`_t2_blocks`, one identity penalty per
    product with a range part (scaled as ``smoothCon`` scales penalties: the blocks are divided by ‖X‖∞), the
    all-null product unpenalised with the sum-to-zero constraint absorbed."""
    ks = term.k or tuple(5 for _ in xs)
    margins, mats, ranks = [], [], []
    for x, k in zip(xs, ks):
        knots = cr_knots(x, k, where)
        X, S = cr_basis(x, knots)
        T = _nat_param(X, S, k - 2)
        margins.append({"knots": knots.tolist(), "T": T.tolist(), "rank": k - 2})
        mats.append(X @ T)
        ranks.append(k - 2)
    blocks = _t2_blocks(mats, ranks)
    Xall = np.hstack([B for _, B in blocks])
    scale = float(np.max(np.sum(np.abs(Xall), axis=1)))  # sqrt(maXX): the penalty D = maXX on each block
    null = blocks[-1][1]
    H = _sum_to_zero(null) if null.shape[1] > 1 else np.zeros((1, 0))
    return {"margins": margins, "scale": scale, "null_map": H.tolist()}


def _t2_columns(term: SmoothTerm, xs: list[np.ndarray], by, st: dict) -> SmoothPart:
    """Columns of a t2 term on ``xs`` from its stored margins (see :func:`_construct_t2`)."""
    mats = [cr_basis(x, np.asarray(m["knots"]))[0] @ np.asarray(m["T"]) for x, m in zip(xs, st["margins"])]
    blocks = _t2_blocks(mats, [m["rank"] for m in st["margins"]])
    null = blocks[-1][1] @ np.asarray(st["null_map"])
    pen = [B / st["scale"] for _, B in blocks[:-1]]
    label = term.label
    part = SmoothPart(null, tuple(f"{label}_{j + 1}" for j in range(null.shape[1])),
                      tuple((f"{label}_{i + 1}", M, "smooth", ()) for i, M in enumerate(pen)))
    if by is None:
        return part
    raise DataError(f"{expr_to_str(term.call)}: by = is not supported for t2() here; write one t2() per subset")


def _rowkron(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Row-wise Kronecker product (mgcv's ``tensor.prod.model.matrix``): columns A₁B₁, A₁B₂, …"""
    return (A[:, :, None] * B[:, None, :]).reshape(A.shape[0], -1)
