"""The GLM engine behind the no-pooling and complete-pooling reference fits and the pilot of
:mod:`bayesmixed.autoparam`: links, variance functions, deviances, and least squares / IRLS maximum likelihood
with shared coefficients and per-level coefficients (eliminated level by level, no ``n × (J·k)`` matrix).

NumPy and SciPy only; no posterior, no PyMC. Moved out of :mod:`bayesmixed.pooling` so that the pilot
(:mod:`bayesmixed.autoparam`, imported by :mod:`bayesmixed.spec`) does not import the posterior summaries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from .design import Design

__all__ = ["_BOUNDED", "_COUNTS", "_link", "_variance", "_deviance", "_clip_mean", "_block_wls", "_GLMResult", "_glm",
           "_response"]

_BOUNDED = ("bernoulli", "binomial")
_COUNTS = ("poisson", "negative_binomial")


# ----------------------------------------------------------------------------------------------- links
def _link(link: str):
    """``(g, g⁻¹, dμ/dη)`` of a link."""
    if link == "identity":
        return (lambda m: m), (lambda e: e), (lambda e: np.ones_like(e))
    if link == "log":
        return np.log, (lambda e: np.exp(np.minimum(e, 700.0))), (lambda e: np.exp(np.minimum(e, 700.0)))
    if link == "logit":
        return special.logit, special.expit, (lambda e: special.expit(e) * special.expit(-e))
    if link == "probit":
        return special.ndtri, special.ndtr, (lambda e: np.exp(-0.5 * e**2) / np.sqrt(2 * np.pi))
    if link == "cloglog":
        return (
            (lambda m: np.log(-np.log1p(-m))),
            (lambda e: -np.expm1(-np.exp(np.minimum(e, 700.0)))),
            (lambda e: np.exp(np.minimum(e, 700.0) - np.exp(np.minimum(e, 700.0)))),
        )
    if link == "inverse":
        return (lambda m: 1.0 / m), (lambda e: 1.0 / e), (lambda e: -1.0 / e**2)
    raise ValueError(f"unknown link {link!r}")


def _variance(family: str, mu: np.ndarray, alpha: float | None) -> np.ndarray:
    """Variance function V(μ) (per unit prior weight)."""
    if family in ("gaussian", "student_t"):
        return np.ones_like(mu)
    if family in _BOUNDED or family == "beta":
        return mu * (1 - mu)
    if family == "poisson":
        return mu
    if family == "negative_binomial":
        return mu + mu**2 / (alpha if alpha else np.inf)
    if family == "gamma":
        return mu**2
    if family == "inverse_gaussian":
        return mu**3
    raise ValueError(f"unknown family {family!r}")


def _deviance(family: str, y: np.ndarray, mu: np.ndarray, w: np.ndarray, alpha: float | None) -> float:
    """(Quasi-)deviance, the objective IRLS decreases."""
    if family in ("gaussian", "student_t"):
        d = (y - mu) ** 2
    elif family in _BOUNDED or family == "beta":
        d = 2 * (special.xlogy(y, y / mu) + special.xlogy(1 - y, (1 - y) / (1 - mu)))
    elif family == "poisson":
        d = 2 * (special.xlogy(y, y / mu) - (y - mu))
    elif family == "negative_binomial":
        a = alpha if alpha else 1e12
        d = 2 * (special.xlogy(y, y / mu) - (y + a) * np.log((y + a) / (mu + a)))
    elif family == "gamma":
        d = 2 * (-np.log(y / mu) + (y - mu) / mu)
    elif family == "inverse_gaussian":
        d = (y - mu) ** 2 / (y * mu**2)
    else:
        raise ValueError(f"unknown family {family!r}")
    return float(np.sum(w * d))


def _clip_mean(family: str, link: str, mu: np.ndarray) -> np.ndarray:
    if family in _BOUNDED or family == "beta":
        return np.clip(mu, 1e-12, 1 - 1e-12)
    if family in _COUNTS or family in ("gamma", "inverse_gaussian") or link in ("log", "inverse"):
        return np.maximum(mu, 1e-12)
    return mu


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
    family: str,
    link: str,
    alpha: float | None = None,
    offset: np.ndarray | None = None,
    max_iter: int = 100,
) -> _GLMResult:
    """Least squares (Gaussian identity) or IRLS maximum likelihood with shared ``β`` and per-level ``b``."""
    off = np.zeros(len(y)) if offset is None else offset

    def predictor(beta, b):
        eta = off + (Xf @ beta if Xf.shape[1] else 0.0)
        if Z is not None and Z.shape[1]:
            eta = eta + np.einsum("nk,nk->n", Z, b[codes])
        return eta

    if family in ("gaussian", "student_t") and link == "identity":
        beta, b, rank = _block_wls(Xf, Z, codes, J, pw, y - off)
        return _GLMResult(beta, b, rank, predictor(beta, b), True)
    g, ginv, dmu = _link(link)
    if family in _BOUNDED:
        mu = (pw * y + 0.5) / (pw + 1.0)
    elif family in _COUNTS:
        mu = y + 0.1
    elif link == "log" or link == "inverse":
        mu = np.where(y > 0, y, max(float(np.mean(y[y > 0])) if np.any(y > 0) else 1.0, 1e-3))
    else:
        mu = y.astype(float)
    eta = g(_clip_mean(family, link, mu))
    dev_old = np.inf
    beta = np.zeros(Xf.shape[1])
    b = np.zeros((J, 0 if Z is None else Z.shape[1]))
    rank = np.zeros(J, dtype=int)
    converged = False
    for _ in range(max_iter):
        mu = _clip_mean(family, link, ginv(eta))
        d = dmu(eta)
        d = np.where(np.abs(d) < 1e-12, np.where(d < 0, -1e-12, 1e-12), d)
        W = pw * d**2 / np.maximum(_variance(family, mu, alpha), 1e-300)
        z = eta - off + (y - mu) / d
        beta_new, b_new, rank = _block_wls(Xf, Z, codes, J, W, z)
        eta_new = predictor(beta_new, b_new)
        dev = _deviance(family, y, _clip_mean(family, link, ginv(eta_new)), pw, alpha)
        halvings = 0
        while (not np.isfinite(dev) or dev > dev_old + 1e-10 * abs(dev_old)) and halvings < 20 and np.isfinite(dev_old):
            beta_new, b_new = (beta + beta_new) / 2, (b + b_new) / 2
            eta_new = predictor(beta_new, b_new)
            dev = _deviance(family, y, _clip_mean(family, link, ginv(eta_new)), pw, alpha)
            halvings += 1
        beta, b, eta = beta_new, b_new, eta_new
        if np.isfinite(dev_old) and abs(dev - dev_old) < 1e-9 * (abs(dev) + 0.1):
            converged = True
            break
        dev_old = dev
    return _GLMResult(beta, b, rank, eta, converged)


def _response(design: Design) -> tuple[np.ndarray, np.ndarray]:
    """Response on the scale the mean lives on (proportions for binomial) and prior weights."""
    if design.trials is not None:
        t = np.asarray(design.trials, dtype=float)
        y = np.divide(design.y, t, out=np.zeros_like(t), where=t > 0)
        return y, t
    return np.asarray(design.y, dtype=float), np.ones(design.n)
