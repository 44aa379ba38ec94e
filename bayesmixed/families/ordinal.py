"""Responses of K categories: the ordinal families ``cumulative``, ``sratio``, ``cratio``, ``acat`` and the
nominal ``categorical``, with brms's names and parameterisations (Bürkner & Vuorre 2019).

The response is an ordered pandas Categorical (ordinal) or any categorical (``categorical``), or the integers
1..K; it is coded 1..K. With thresholds ``τ_1 < … < τ_{K-1}`` (``Intercept[1]``, … in ``fixef()``; free, not
ordered, for the sequential and adjacent-category families, as in brms), the linear predictor ``η`` (no
intercept: the thresholds replace it), the discrimination ``disc`` (1 unless predicted by ``bf(disc = ~ ...)``)
and ``F`` the inverse link (logit, probit, cloglog):

==========  ==========================================================================================
cumulative  ``P(Y ≤ k) = F(disc (τ_k − η))``
sratio      ``P(Y = k | Y ≥ k) = F(disc (τ_k − η))`` (stopping ratio)
cratio      ``P(Y > k | Y ≥ k) = F(disc (η − τ_k))`` (continuation ratio)
acat        ``P(Y = k + 1) / (P(Y = k) + P(Y = k + 1)) = F(disc (η − τ_k))`` (adjacent categories; with the
            logit link ``log P(Y = k + 1)/P(Y = k) = disc (η − τ_k)``)
==========  ==========================================================================================

``categorical``: ``P(Y = k) = softmax(0, η_2, …, η_K)_k`` with one linear predictor per non-reference
category (``mu2``, ``mu3``, …: brms's names), the first category the reference.

Every log probability is computed in log space from ``log F`` and ``log(1 − F)`` (the cumulative family's
differences ``F(b) − F(a)`` through ``log1mexp`` in whichever tail is accurate), in NumPy for LOO and
predictions and in PyTensor for the PyMC likelihood, by the same code (:class:`_Ops`).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .. import naming as N
from ..errors import DataError
from .base import AuxParam, Family
from .registry import register_family

__all__ = ["Cumulative", "Sratio", "Cratio", "Acat", "Categorical"]


# ------------------------------------------------------------------------------------------ array backends
class _Ops:
    """The few array operations the log probabilities need, for NumPy (``pt=False``) or PyTensor."""

    def __init__(self, pt: bool):
        self.pt = pt
        if pt:
            import pytensor.tensor as T

            self.T = T

    def cumsum(self, x):
        return self.T.cumsum(x, axis=-1) if self.pt else np.cumsum(x, axis=-1)

    def concat(self, xs):
        """Concatenation along the last axis, the leading axes broadcast."""
        if self.pt:
            return self.T.concatenate(self._bcast(xs), axis=-1)
        lead = np.broadcast_shapes(*(np.shape(x)[:-1] for x in xs))
        return np.concatenate([np.broadcast_to(x, lead + np.shape(x)[-1:]) for x in xs], axis=-1)

    def _bcast(self, xs):
        """PyTensor: the leading axes of ``xs`` broadcast against each other (adding 0 of the others' leading
        shape)."""
        out = []
        for i, x in enumerate(xs):
            y = x
            for j, z in enumerate(xs):
                if j != i:
                    y = y + self.zeros_col(z)
            out.append(y)
        return out

    def zeros_col(self, x):
        """Zeros shaped like the last axis's first column (kept, with a static length of 1)."""
        return self.T.zeros_like(x[..., 0])[..., None] if self.pt else np.zeros_like(x[..., :1])

    def last(self, x):
        """The last column, kept (static length 1)."""
        return x[..., -1][..., None]

    def logsumexp(self, x):
        if self.pt:
            import pymc as pm

            return pm.math.logsumexp(x, axis=-1, keepdims=True)
        return special.logsumexp(x, axis=-1, keepdims=True)

    def where(self, c, a, b):
        return self.T.switch(c, a, b) if self.pt else np.where(c, a, b)

    def log1mexp(self, x):
        """``log(1 − exp(x))`` for ``x < 0``."""
        if self.pt:
            return self.T.log1mexp(x)
        with np.errstate(divide="ignore"):
            return np.where(x > -np.log(2.0), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))

    def expand(self, x):
        """``x[..., None]`` (a scalar stays a scalar)."""
        nd = x.ndim if hasattr(x, "ndim") else np.ndim(x)
        return x if nd == 0 else x[..., None]

    # log F and log(1 − F) of the latent distribution of each link (F = the inverse link)
    def log_cdf(self, link: str, x):
        if link == "logit":
            return -self.T.softplus(-x) if self.pt else -np.logaddexp(0.0, -x)
        if link == "probit":
            if self.pt:
                from pymc.distributions.dist_math import normal_lcdf

                return normal_lcdf(0.0, 1.0, x)
            return special.log_ndtr(x)
        if link == "cloglog":  # F(x) = 1 − exp(−exp(x))
            e = self.T.exp(self.T.minimum(x, 30.0)) if self.pt else np.exp(np.minimum(x, 30.0))
            return self.log1mexp(-e)
        raise ValueError(link)

    def log_ccdf(self, link: str, x):
        if link == "logit":
            return -self.T.softplus(x) if self.pt else -np.logaddexp(0.0, x)
        if link == "probit":
            return self.log_cdf("probit", -x)
        if link == "cloglog":
            return -(self.T.exp(self.T.minimum(x, 30.0)) if self.pt else np.exp(np.minimum(x, 30.0)))
        raise ValueError(link)

    def log_diff_cdf(self, link: str, a, b):
        """``log(F(b) − F(a))`` for ``a < b``: from the lower tail where ``a + b < 0``, else from the upper."""
        lo_a, lo_b = self.log_cdf(link, a), self.log_cdf(link, b)
        up_a, up_b = self.log_ccdf(link, a), self.log_ccdf(link, b)
        lower = lo_b + self.log1mexp(self._neg(lo_a - lo_b))
        upper = up_a + self.log1mexp(self._neg(up_b - up_a))
        return self.where(a + b < 0, lower, upper)

    def _neg(self, x):
        """``x`` kept strictly below 0 (equal thresholds would give ``log 0``)."""
        return self.T.minimum(x, -1e-12) if self.pt else np.minimum(x, -1e-12)


_NP = _Ops(False)


def _onehot_logp(lp, y):
    """``lp[..., y − 1]`` along the last axis, for PyTensor (``y`` the observed categories 1..K)."""
    import pytensor.tensor as pt

    K = lp.shape[-1]
    hit = pt.eq(pt.shape_padright(y - 1), pt.arange(K))
    return pt.sum(pt.switch(hit, lp, 0.0), axis=-1)


def _draw_categories(logp: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One category 1..K per row of ``logp`` (``(..., K)`` log probabilities), as floats."""
    p = np.exp(logp - logp.max(axis=-1, keepdims=True))
    c = np.cumsum(p, axis=-1)
    u = rng.random(p.shape[:-1] + (1,)) * c[..., -1:]
    return 1.0 + np.minimum((c < u).sum(axis=-1), p.shape[-1] - 1).astype(float)


class _CategoryFamily(Family):
    """A response of K categories coded 1..K: what the ordinal and categorical families share. Subclasses give
    :meth:`log_probs` (the K log probabilities, NumPy or PyTensor)."""

    discrete = True
    integer_observed = True
    response_kind = "categories"
    glm_pilot = False

    def log_probs(self, eta, aux: dict, ops: _Ops):
        """Log probabilities of the K categories, with a trailing axis of K."""
        raise NotImplementedError

    def logpdf(self, y, eta, aux, trials=None):
        lp = self.log_probs(eta, aux, _NP)
        idx = np.broadcast_to(np.asarray(y, dtype=np.int64) - 1, lp.shape[:-1])
        return np.take_along_axis(lp, idx[..., None], axis=-1)[..., 0]

    def logp_eta(self, y, eta, aux, trials=None):
        return _onehot_logp(self.log_probs(eta, aux, _Ops(True)), y)

    def pymc_likelihood(self, name, eta, observed, aux, trials=None, dims=None):
        import pymc as pm

        lp = self.log_probs(eta, aux, _Ops(True))

        def random(logp, rng=None, size=None):
            out = _draw_categories(np.asarray(logp), rng if rng is not None else np.random.default_rng())
            return np.broadcast_to(out, size).astype(np.int64) if size is not None else out.astype(np.int64)

        return pm.CustomDist(name, lp, logp=lambda value, logp: _onehot_logp(logp, value), random=random,
                             signature="(k)->()", observed=observed, dims=dims, dtype="int64")

    def draw(self, eta, aux, rng, trials=None):
        return _draw_categories(self.log_probs(eta, aux or {}, _NP), rng)

    def mean(self, eta, aux=None, trials=None):
        return np.exp(self.log_probs(eta, aux, _NP))

    def working_weight(self, eta, mu, aux, trials=None):
        """The Fisher information about η per observation, ``Σ_k (∂p_k/∂η)² / p_k`` (central differences)."""
        h = 1e-4
        p_hi = np.exp(self.log_probs(eta + h, aux, _NP))
        p_lo = np.exp(self.log_probs(eta - h, aux, _NP))
        p = np.exp(self.log_probs(eta, aux, _NP))
        return np.sum(((p_hi - p_lo) / (2 * h)) ** 2 / np.maximum(p, 1e-300), axis=-1)

    def variance(self, mu, aux, trials=None):
        raise DataError(
            f"family {self.name!r} has no variance on the response scale (its response is a category): R² and "
            "other variance summaries are not defined for it"
        )

    def clip_mean(self, mu):
        return mu


# ---------------------------------------------------------------------------------------------- ordinal
DISC = AuxParam("disc", None, "discrimination (1 unless predicted: bf(..., disc='~ x'), without intercept)",
                link="log", fixed=1.0, intercept=False)


class _Ordinal(_CategoryFamily):
    """Ordinal families: K − 1 thresholds ``Intercept[k]`` and one linear predictor without intercept."""

    link_names = ("logit", "probit", "cloglog")
    aux = (DISC,)
    thresholds = "free"
    latent_scale = False  # whether a latent-variable ICC is defined (cumulative)

    def check_categories(self, levels, ordered, label):
        if ordered is False:
            raise DataError(
                f"family {self.name!r} needs an ordered response, but {label!r} is an unordered categorical "
                f"({', '.join(map(repr, levels[:6]))}{' ...' if len(levels) > 6 else ''}): make it ordered, e.g. "
                f"data[{label!r}] = data[{label!r}].cat.as_ordered() (in the order of its categories), or code it "
                "as the integers 1..K; for unordered categories use family='categorical'"
            )
        if len(levels) < 3:
            raise DataError(
                f"the response {label!r} has {len(levels)} categories; an ordinal model needs at least 3 (for two "
                "use family='bernoulli')"
            )

    def _c(self, eta, aux, ops: _Ops, sign: float):
        """``disc (τ_k − η)`` (``sign=1``) or ``disc (η − τ_k)`` (``sign=-1``), with a trailing axis of K − 1."""
        tau = aux[N.THRESHOLDS]
        return ops.expand(aux.get("disc", 1.0)) * (sign * (tau - ops.expand(eta)))

    def latent_variance(self, aux, n_draws, mean_mu):
        if not self.latent_scale:
            raise DataError(
                f"an ICC on the latent scale is defined for the cumulative family (a threshold model of a latent "
                f"variable), not for {self.name!r}"
            )
        if np.ndim(aux.get("disc", 1.0)) > 1:
            raise DataError("an ICC on the latent scale needs a constant discrimination (disc is predicted here)")
        return super().latent_variance(aux, n_draws, mean_mu)

    def link_scale(self, eta, aux):
        return eta


@register_family
class Cumulative(_Ordinal):
    """``P(Y ≤ k) = F(disc (τ_k − η))``, thresholds ordered (ordinal::clm, brms's ``cumulative``)."""

    name = "cumulative"
    aliases = ("ordinal", "ordered_logistic", "ologit")
    thresholds = "ordered"
    latent_scale = True

    def log_probs(self, eta, aux, ops):
        link = self.link.name
        c = self._c(eta, aux, ops, 1.0)
        first = ops.log_cdf(link, c[..., :1])
        last = ops.log_ccdf(link, c[..., -1:])
        middle = ops.log_diff_cdf(link, c[..., :-1], c[..., 1:])
        return ops.concat([first, middle, last])


@register_family
class Sratio(_Ordinal):
    """Stopping ratio: ``P(Y = k | Y ≥ k) = F(disc (τ_k − η))``."""

    name = "sratio"

    def log_probs(self, eta, aux, ops):
        link = self.link.name
        c = self._c(eta, aux, ops, 1.0)
        stop, go = ops.log_cdf(link, c), ops.log_ccdf(link, c)
        before = ops.concat([ops.zeros_col(c), ops.cumsum(go)])  # Σ_{j<k} log(1 − F(c_j)), k = 1..K
        return before + ops.concat([stop, ops.zeros_col(c)])


@register_family
class Cratio(_Ordinal):
    """Continuation ratio: ``P(Y > k | Y ≥ k) = F(disc (η − τ_k))``."""

    name = "cratio"

    def log_probs(self, eta, aux, ops):
        link = self.link.name
        c = self._c(eta, aux, ops, -1.0)
        go, stop = ops.log_cdf(link, c), ops.log_ccdf(link, c)
        before = ops.concat([ops.zeros_col(c), ops.cumsum(go)])
        return before + ops.concat([stop, ops.zeros_col(c)])


@register_family
class Acat(_Ordinal):
    """Adjacent categories: ``q_k = F(disc (η − τ_k))``, ``P(Y = k) ∝ Π_{j<k} q_j Π_{j≥k} (1 − q_j)``."""

    name = "acat"

    def log_probs(self, eta, aux, ops):
        link = self.link.name
        c = self._c(eta, aux, ops, -1.0)
        up, down = ops.log_cdf(link, c), ops.log_ccdf(link, c)
        zero = ops.zeros_col(c)
        cum_up = ops.concat([zero, ops.cumsum(up)])  # Σ_{j<k} log q_j
        cum_down = ops.concat([zero, ops.cumsum(down)])
        total_down = ops.last(cum_down)
        L = cum_up + (total_down - cum_down)  # + Σ_{j≥k} log(1 − q_j)
        return L - ops.logsumexp(L)


# ------------------------------------------------------------------------------------------ categorical
@register_family
class Categorical(_CategoryFamily):
    """``P(Y = k) = softmax(0, η_2, …, η_K)_k``: one linear predictor per category after the first (``mu2``,
    ``mu3``, …), each with its own fixed and random effects (brms's ``categorical``)."""

    name = "categorical"
    aliases = ("multinomial_logit", "softmax")
    link_names = ("logit",)

    def check_categories(self, levels, ordered, label):
        if len(levels) < 3:
            raise DataError(
                f"the response {label!r} has {len(levels)} categories; family 'categorical' needs at least 3 (for "
                "two use family='bernoulli')"
            )

    def predictor_names(self, n_categories=None):
        if n_categories is None:
            raise ValueError("the categorical family's predictors depend on the number of categories")
        return tuple(f"mu{k}" for k in range(2, n_categories + 1))

    def predictable(self, n_categories=None):
        return self.predictor_names(n_categories)

    def inputs(self, etas, values, pt=False):
        names = sorted((k for k in etas if k.startswith("mu") and k[2:].isdigit()), key=lambda k: int(k[2:]))
        if pt:
            import pytensor.tensor as T

            eta = T.stack([etas[k] for k in names], axis=-1)
        else:
            eta = np.stack(np.broadcast_arrays(*[etas[k] for k in names]), axis=-1)
        return eta, {}

    def log_probs(self, eta, aux, ops):
        full = ops.concat([ops.zeros_col(eta), eta])
        return full - ops.logsumexp(full)

    def link_scale(self, eta, aux):
        """``(…, K)``: the reference category's 0, then ``η_2 … η_K``."""
        return np.concatenate([np.zeros_like(eta[..., :1]), eta], axis=-1)

    def working_weight(self, eta, mu, aux, trials=None):
        raise DataError("pooling factors of the categorical family (one predictor per category) are not available")

    def latent_variance(self, aux, n_draws, mean_mu):
        raise DataError(
            "an ICC is not defined for the categorical family: its K − 1 linear predictors have no common latent "
            "scale"
        )
