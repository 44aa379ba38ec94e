"""The GLM engine behind the no-pooling and complete-pooling reference fits and the pilot of
:mod:`bayesmixed.autoparam`: least squares / IRLS maximum likelihood with shared coefficients and per-level
coefficients (eliminated level by level, no ``n × (J·k)`` matrix). Links, variance functions, deviances and
starting values are the family's (:class:`bayesmixed.families.Family`).

NumPy and SciPy only; no posterior, no PyMC. Moved out of :mod:`bayesmixed.pooling` so that the pilot
(:mod:`bayesmixed.autoparam`, imported by :mod:`bayesmixed.spec`) does not import the posterior summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .design import Design
from .families import Family

__all__ = ["_block_wls", "_GLMResult", "_glm", "_response"]

# ------------------------------------------------------------------------------- weighted least squares
def _block_wls(
    Xf: np.ndarray, Z: np.ndarray | None, codes: np.ndarray | None, J: int, w: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Minimise ``Σ w_i (z_i − X_i β − Z_i b_codes[i])²`` over shared ``β`` and per-level ``b`` (J × k).

    The per-level coefficients are eliminated level by level (a Schur complement over the k × k blocks
    ``Z_j' W Z_j``), so no ``n × (J·k)`` matrix is formed. Returns ``β``, ``b`` and the rank of each level's
    block (``b_j`` is meaningful only at full rank ``k``).
    """
    n, p = Xf.shape
    Xw = Xf * w[:, None]
    XtWX = Xw.T @ Xf
    XtWz = Xw.T @ z
    if Z is None or Z.shape[1] == 0:
        beta = np.linalg.lstsq(XtWX, XtWz, rcond=None)[0] if p else np.zeros(0)
        return beta, np.zeros((J, 0)), np.zeros(J, dtype=int)
    k = Z.shape[1]
    A = np.zeros((J, k, k))
    B = np.zeros((J, k, p))
    c = np.zeros((J, k))
    for a in range(k):
        wz_a = w * Z[:, a]
        for b_ in range(a, k):
            A[:, a, b_] = A[:, b_, a] = np.bincount(codes, wz_a * Z[:, b_], minlength=J)
        for m in range(p):
            B[:, a, m] = np.bincount(codes, wz_a * Xf[:, m], minlength=J)
        c[:, a] = np.bincount(codes, wz_a * z, minlength=J)
    evals, evecs = np.linalg.eigh(A)
    top = evals.max(axis=1, keepdims=True)
    keep = (evals > 1e-9 * top) & (top > 0)
    inv = np.where(keep, 1.0 / np.where(keep, evals, 1.0), 0.0)
    Apinv = np.einsum("jab,jb,jcb->jac", evecs, inv, evecs)
    rank = keep.sum(axis=1)
    if p:
        M = XtWX - np.einsum("jap,jab,jbq->pq", B, Apinv, B)
        r = XtWz - np.einsum("jap,jab,jb->p", B, Apinv, c)
        beta = np.linalg.lstsq(M, r, rcond=None)[0]
        c = c - np.einsum("jap,p->ja", B, beta)
    else:
        beta = np.zeros(0)
    b = np.einsum("jab,jb->ja", Apinv, c)
    return beta, b, rank


@dataclass(frozen=True)
class _GLMResult:
    beta: np.ndarray
    b: np.ndarray
    rank: np.ndarray
    eta: np.ndarray
    converged: bool


def _glm(
    y: np.ndarray,
    pw: np.ndarray,
    Xf: np.ndarray,
    Z: np.ndarray | None,
    codes: np.ndarray | None,
    J: int,
    fam: Family,
    aux: dict[str, float] | None = None,
    offset: np.ndarray | None = None,
    max_iter: int = 100,
) -> _GLMResult:
    """Least squares (identity-link location-scale families) or IRLS maximum likelihood with shared ``β`` and
    per-level ``b``; ``aux``: the values of the family's :attr:`~bayesmixed.families.Family.irls_aux`."""
    off = np.zeros(len(y)) if offset is None else offset

    def predictor(beta, b):
        eta = off + (Xf @ beta if Xf.shape[1] else 0.0)
        if Z is not None and Z.shape[1]:
            eta = eta + np.einsum("nk,nk->n", Z, b[codes])
        return eta

    if fam.identity_scale:
        beta, b, rank = _block_wls(Xf, Z, codes, J, pw, y - off)
        return _GLMResult(beta, b, rank, predictor(beta, b), True)
    aux = aux or {}
    g, ginv, dmu = fam.link.forward, fam.link.inverse, fam.link.dmu_deta

    def deviance(eta_: np.ndarray) -> float:
        return float(np.sum(pw * fam.unit_deviance(y, fam.clip_mean(ginv(eta_)), aux)))

    eta = g(fam.clip_mean(fam.irls_start(y, pw)))
    dev_old = np.inf
    beta = np.zeros(Xf.shape[1])
    b = np.zeros((J, 0 if Z is None else Z.shape[1]))
    rank = np.zeros(J, dtype=int)
    converged = False
    for _ in range(max_iter):
        mu = fam.clip_mean(ginv(eta))
        d = dmu(eta)
        d = np.where(np.abs(d) < 1e-12, np.where(d < 0, -1e-12, 1e-12), d)
        W = pw * d**2 / np.maximum(fam.variance_function(mu, aux), 1e-300)
        z = eta - off + (y - mu) / d
        beta_new, b_new, rank = _block_wls(Xf, Z, codes, J, W, z)
        eta_new = predictor(beta_new, b_new)
        dev = deviance(eta_new)
        halvings = 0
        while (not np.isfinite(dev) or dev > dev_old + 1e-10 * abs(dev_old)) and halvings < 20 and np.isfinite(dev_old):
            beta_new, b_new = (beta + beta_new) / 2, (b + b_new) / 2
            eta_new = predictor(beta_new, b_new)
            dev = deviance(eta_new)
            halvings += 1
        beta, b, eta = beta_new, b_new, eta_new
        if np.isfinite(dev_old) and abs(dev - dev_old) < 1e-9 * (abs(dev) + 0.1):
            converged = True
            break
        dev_old = dev
    return _GLMResult(beta, b, rank, eta, converged)


def _response(design: Design, fam: Family | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Response on the scale the mean lives on (proportions for binomial) and prior weights: the numbers of
    trials times the likelihood weights (``y | weights(w)``); with ``fam``, as its
    :meth:`~bayesmixed.families.Family.pilot_response` transforms them (lognormal: ``log y``)."""
    if design.trials is not None:
        t = np.asarray(design.trials, dtype=float)
        y = np.divide(design.y, t, out=np.zeros_like(t), where=t > 0)
        pw = t
    else:
        y, pw = np.asarray(design.y, dtype=float), np.ones(design.n)
    w = design.weights
    if w is not None:
        pw = pw * np.asarray(w, dtype=float)
    return (y, pw) if fam is None else fam.pilot_response(y, pw)
