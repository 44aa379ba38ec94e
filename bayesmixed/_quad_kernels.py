"""Numba kernels of the log-concave families' log densities in η, for adaptive quadrature over one term.

Each family kernel ``lp_d(kind, y, eta, t) -> (lp, d1, d2, d3)`` returns the η-dependent part of ``log p(y | η)``
(the rest, free of every parameter, is :func:`const`, added once per row) and its first three derivatives in η;
``t`` is the number of trials (1 for Bernoulli, unused by Poisson); ``kind`` numbers the kernel (:data:`KIND`,
named by each family's :attr:`~bayesmixed.families.Family.quadrature_kernel`). They serve the integrated
log-likelihood of the model (:func:`loglik`, through :mod:`bayesmixed.backends.quadrature`), the choice of the number
of nodes and the exact draws of the effects (:func:`draw`, through :mod:`bayesmixed.quadrature`): one definition of
each density.

Every function here is a module-level numba function compiled with ``cache=True``, so that a new process loads it
from numba's cache instead of compiling it again (closures made per family were compiled anew in every process:
15-17 s each time on a loaded 2-core machine).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import special

__all__ = ["KIND", "KERNELS", "kernel", "const", "loglik", "draw", "loglik_kernel", "draw_kernel", "lp_d"]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
MAX_STEP = 1.0  # Newton steps longer than this (on the link scale) are shortened
MAX_NEWTON = 50
KIND = {"poisson_log": 0, "binomial_logit": 1, "binomial_probit": 2, "binomial_cloglog": 3}
KERNELS = frozenset(KIND)


@njit(cache=True, inline="always")
def poisson_log(y, eta, t):
    mu = math.exp(min(eta, 700.0))
    return y * eta - mu, y - mu, -mu, -mu

@njit(cache=True, inline="always")
def _softplus(x):
    return x + math.log1p(math.exp(-x)) if x > 0 else math.log1p(math.exp(x))

@njit(cache=True, inline="always")
def binomial_logit(y, eta, t):
    p = 1.0 / (1.0 + math.exp(-eta)) if eta >= 0 else math.exp(eta) / (1.0 + math.exp(eta))
    v = p * (1.0 - p)
    return y * eta - t * _softplus(eta), y - t * p, -t * v, -t * v * (1.0 - 2.0 * p)

@njit(cache=True, inline="always")
def _log_ndtr_mills(x):
    """log Φ(x) and the inverse Mills ratio λ(x) = φ(x)/Φ(x), stable in both tails."""
    if x > -20.0:
        cdf = 0.5 * math.erfc(-x / math.sqrt(2.0))
        logcdf = math.log(cdf) if cdf > 0 else -math.inf
        lam = math.exp(-0.5 * x * x - _LOG_SQRT_2PI - logcdf)
        return logcdf, lam
    # asymptotic series: Φ(x) ≈ φ(x)/(-x) (1 − 1/x² + 3/x⁴ − 15/x⁶)
    x2 = x * x
    series = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2)
    logcdf = -0.5 * x2 - _LOG_SQRT_2PI - math.log(-x) + math.log(series)
    return logcdf, -x / series

@njit(cache=True, inline="always")
def binomial_probit(y, eta, t):
    lp1, l1 = _log_ndtr_mills(eta)  # log Φ(η), λ(η)
    lp0, l0 = _log_ndtr_mills(-eta)  # log Φ(−η), λ(−η)
    lp = (y * lp1 if y > 0 else 0.0) + ((t - y) * lp0 if t - y > 0 else 0.0)
    d1 = y * l1 - (t - y) * l0
    d2 = -y * l1 * (eta + l1) - (t - y) * l0 * (l0 - eta)
    # the third derivative of log Phi(x) is lambda (x + lambda)(x + 2 lambda) - lambda
    d3 = y * l1 * ((eta + l1) * (eta + 2.0 * l1) - 1.0) - (t - y) * l0 * ((l0 - eta) * (2.0 * l0 - eta) - 1.0)
    return lp, d1, d2, d3

@njit(cache=True, inline="always")
def binomial_cloglog(y, eta, t):
    # log mu = q(eta) = log(1 - exp(-u)), u = exp(eta); with e = exp(-u), o = 1 - e: q1 = H(u) = u e / o,
    # q2 = u H1(u), q3 = u H1 + u^2 H2, H1 = e (o - u) / o^2, H2 = e (2u - (u + 2) o) / o^3
    u = math.exp(min(eta, 700.0))
    en = math.exp(-u)
    om = -math.expm1(-u)
    if u < 1e-4:  # series: o - u and 2u - (u + 2) o cancel to leading order
        om_u = -0.5 * u * u + u * u * u / 6.0
        num2 = u * u * u / 6.0 - u * u * u * u / 12.0
    else:
        om_u = om - u
        num2 = 2.0 * u - (u + 2.0) * om
    log_mu = math.log(om) if om > 0 else -math.inf
    lp = (y * log_mu if y > 0 else 0.0) - (t - y) * u
    if om > 0:
        H = u * en / om
        H1 = en * om_u / (om * om)
        H2 = en * num2 / (om * om * om)
    else:
        H, H1, H2 = 1.0, -0.5, 1.0 / 6.0
    d1 = y * H - (t - y) * u
    d2 = y * u * H1 - (t - y) * u
    d3 = y * (u * H1 + u * u * H2) - (t - y) * u
    return lp, d1, d2, d3



@njit(cache=True, inline="always")
def lp_d(kind, y, eta, t):
    """``(lp, d1, d2, d3)`` of the family kernel number ``kind`` (:data:`KIND`)."""
    if kind == 0:
        return poisson_log(y, eta, t)
    if kind == 1:
        return binomial_logit(y, eta, t)
    if kind == 2:
        return binomial_probit(y, eta, t)
    return binomial_cloglog(y, eta, t)


@njit(cache=True)
def _mode(kind, eta_rest, tau2, y, t, z, lvl_rows, r0, r1):
    """Newton's method for the mode of f_j (steps shortened to MAX_STEP); returns (b̂, f_j''(b̂))."""
    b = 0.0
    for _ in range(MAX_NEWTON):
        g = -b / tau2
        h = -1.0 / tau2
        for q in range(r0, r1):
            i = lvl_rows[q]
            _, d1, d2, _ = lp_d(kind, y[i], eta_rest[i] + z[i] * b, t[i])
            g += z[i] * d1
            h += z[i] * z[i] * d2
        step = -g / h
        step = min(max(step, -MAX_STEP), MAX_STEP)
        b += step
        if abs(step) < 1e-10 * (1.0 + abs(b)):
            break
    h = -1.0 / tau2
    for q in range(r0, r1):
        i = lvl_rows[q]
        _, _, d2, _ = lp_d(kind, y[i], eta_rest[i] + z[i] * b, t[i])
        h += z[i] * z[i] * d2
    return b, h



@njit(cache=True)
def loglik(kind, eta_rest, tau, y, t, rconst, z, lvl_ptr, lvl_rows, x, logw):
    n = len(eta_rest)
    J = len(lvl_ptr) - 1
    K = len(x)
    g_eta = np.zeros(n)
    g_tau = 0.0
    total = 0.0
    tau2 = tau * tau
    if not tau > 0.0:
        return -np.inf, g_eta, 0.0
    max_rows = 0
    for j in range(J):
        max_rows = max(max_rows, lvl_ptr[j + 1] - lvl_ptr[j])
    D1 = np.empty((max_rows, K))
    T = np.empty(K)
    sq2 = math.sqrt(2.0)
    prior0 = -math.log(tau) - _LOG_SQRT_2PI
    base = np.empty(K)
    for k in range(K):
        base[k] = logw[k] + x[k] * x[k] + prior0
    for j in range(J):
        r0, r1 = lvl_ptr[j], lvl_ptr[j + 1]
        b, h = _mode(kind, eta_rest, tau2, y, t, z, lvl_rows, r0, r1)
        s = math.sqrt(-1.0 / h)
        c = 0.0
        for q in range(r0, r1):
            c += rconst[lvl_rows[q]]
        for k in range(K):
            bk = b + sq2 * s * x[k]
            acc = base[k] - 0.5 * bk * bk / tau2
            for q in range(r0, r1):
                i = lvl_rows[q]
                lp, d1, _, _ = lp_d(kind, y[i], eta_rest[i] + z[i] * bk, t[i])
                acc += lp
                D1[q - r0, k] = d1
            T[k] = acc
        m = T.max()
        ssum = 0.0
        for k in range(K):
            T[k] = math.exp(T[k] - m)
            ssum += T[k]
        total += math.log(sq2 * s) + m + math.log(ssum) + c
        # the derivative with the nodes held in place ...
        A = 0.0  # the rule's derivative in the mode: sum_k w_k f'(b_k)
        B = 1.0 / s  # in the scale: 1/s + sum_k w_k f'(b_k) sqrt(2) x_k
        for k in range(K):
            w = T[k] / ssum
            bk = b + sq2 * s * x[k]
            g_tau += w * (bk * bk / (tau2 * tau) - 1.0 / tau)
            fp = -bk / tau2
            for q in range(r0, r1):
                g_eta[lvl_rows[q]] += w * D1[q - r0, k]
                fp += z[lvl_rows[q]] * D1[q - r0, k]
            A += w * fp
            B += w * fp * sq2 * x[k]
        # ... plus the nodes' own motion: the mode (implicit in f'(b) = 0) and the scale (-f''(b))^(-1/2)
        # move with eta and tau, a third derivative entering through f''
        S3 = 0.0
        for q in range(r0, r1):
            i = lvl_rows[q]
            d3 = lp_d(kind, y[i], eta_rest[i] + z[i] * b, t[i])[3]
            S3 += z[i] * z[i] * z[i] * d3
        c_s = 0.5 * (-h) ** -1.5
        for q in range(r0, r1):
            i = lvl_rows[q]
            _, _, d2, d3 = lp_d(kind, y[i], eta_rest[i] + z[i] * b, t[i])
            db = -z[i] * d2 / h
            dh = z[i] * z[i] * d3 + S3 * db
            g_eta[i] += A * db + B * c_s * dh
        db = -(2.0 * b / (tau2 * tau)) / h
        dh = 2.0 / (tau2 * tau) + S3 * db
        g_tau += A * db + B * c_s * dh
    return total, g_eta, g_tau



@njit(cache=True)
def _f_at(kind, b, eta_rest, tau2, y, t, z, lvl_rows, r0, r1):
    f = -0.5 * b * b / tau2
    g = -b / tau2
    for q in range(r0, r1):
        i = lvl_rows[q]
        lp, d1, _, _ = lp_d(kind, y[i], eta_rest[i] + z[i] * b, t[i])
        f += lp
        g += z[i] * d1
    return f, g

@njit(cache=True)
def draw(kind, eta_rest, tau, y, t, z, lvl_ptr, lvl_rows, seed):
    np.random.seed(seed)
    S = eta_rest.shape[0]
    J = len(lvl_ptr) - 1
    out = np.empty((S, J))
    for s_ in range(S):
        er = eta_rest[s_]
        tau2 = tau[s_] * tau[s_]
        for j in range(J):
            r0, r1 = lvl_ptr[j], lvl_ptr[j + 1]
            m, h = _mode(kind, er, tau2, y, t, z, lvl_rows, r0, r1)
            delta = math.sqrt(-1.0 / h)
            fm, _ = _f_at(kind, m, er, tau2, y, t, z, lvl_rows, r0, r1)
            x1, x2 = m - delta, m + delta
            f1, g1 = _f_at(kind, x1, er, tau2, y, t, z, lvl_rows, r0, r1)
            f2, g2 = _f_at(kind, x2, er, tau2, y, t, z, lvl_rows, r0, r1)
            g1 = max(g1, 1e-12 / delta)
            g2 = min(g2, -1e-12 / delta)
            z1 = x1 + (fm - f1) / g1
            z2 = x2 + (fm - f2) / g2
            w1, w2, w3 = 1.0 / g1, max(z2 - z1, 0.0), -1.0 / g2
            tot = w1 + w2 + w3
            val = np.nan
            for _ in range(10_000):
                u = np.random.random() * tot
                if u < w1:
                    xv = z1 - np.random.exponential() / g1
                    hull = fm + g1 * (xv - z1)
                elif u < w1 + w2:
                    xv = z1 + (u - w1)
                    hull = fm
                else:
                    xv = z2 - np.random.exponential() / g2
                    hull = fm + g2 * (xv - z2)
                fx, _ = _f_at(kind, xv, er, tau2, y, t, z, lvl_rows, r0, r1)
                if fx > hull + 1e-8 * (1.0 + abs(hull)):
                    break  # above the hull: not log-concave; left NaN
                if math.log(np.random.random()) < fx - hull:
                    val = xv
                    break
            out[s_, j] = val
    return out



def kernel(name: str):
    """``lp_d(y, eta, t) -> (lp, d1, d2, d3)`` of the kernel called ``name``, callable from Python."""
    kind = KIND[name]
    return lambda y, eta, t: lp_d(kind, float(y), float(eta), float(t))


def loglik_kernel(name: str):
    """``f(eta_rest, tau, y, t, rconst, z, lvl_ptr, lvl_rows, x, logw) -> (Σ_j log ∫ exp f_j, ∂/∂η_rest, ∂/∂τ)``:
    adaptive Gauss–Hermite quadrature level by level (Newton's method to the mode, then the K nodes ``x`` with
    log weights ``logw``), with the exact derivatives of that rule (the nodes move with the mode and the
    curvature). :func:`loglik` with the kernel's number bound."""
    kind = KIND[name]
    return lambda *args: loglik(kind, *args)


def draw_kernel(name: str):
    """``f(eta_rest (S, n), tau (S,), y, t, z, lvl_ptr, lvl_rows, seed) -> (S, J)``: one exact draw of every
    level's effect from its conditional ``∝ exp f_j`` per posterior draw, by rejection under the upper hull of
    the log-concave ``f_j`` (the tangents one curvature-SD either side of the mode and the horizontal line
    through the mode, Gilks & Wild 1992). NaN where a draw fell above the hull (not log-concave). :func:`draw`
    with the kernel's number bound."""
    kind = KIND[name]
    return lambda *args: draw(kind, *args)


def const(y: np.ndarray, t: np.ndarray | None) -> np.ndarray:
    """The parameter-free part of ``log p(y | η)`` per row: ``log C(t, y)`` with trials, ``−log y!`` without
    (Poisson counts; exactly 0 for 0/1 responses)."""
    y = np.asarray(y, dtype=float)
    if t is None:
        return 0.0 - special.gammaln(y + 1.0)
    t = np.asarray(t, dtype=float)
    return special.gammaln(t + 1.0) - special.gammaln(y + 1.0) - special.gammaln(t - y + 1.0)
