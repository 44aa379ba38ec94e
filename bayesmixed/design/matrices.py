"""Design matrices in the forms the exact (marginal) likelihoods need: the random-effect matrix ``Z`` as a sparse
matrix (never dense: one term after another, level-major) and the centred and scaled fixed design ``W``."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .design import Design

__all__ = ["sparse_z", "fixed_design"]


def _sparse_block(b, n: int) -> sparse.csr_matrix:
    rows = np.repeat(np.arange(n), b.k)
    cols = (b.codes.astype(np.int64)[:, None] * b.k + np.arange(b.k)[None, :]).ravel()
    return sparse.csr_matrix((np.asarray(b.Z, dtype=float).ravel(), (rows, cols)), shape=(n, b.n_levels * b.k))


def sparse_z(design: Design) -> sparse.csr_matrix:
    """The n × q random-effect matrix as a sparse matrix (one term after another, level-major)."""
    return sparse.hstack([_sparse_block(b, design.n) for b in design.blocks], format="csr")


def fixed_design(design: Design, centre: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W``: the intercept column (if any), then the other columns of ``X`` centred (when there is an
    intercept, or ``centre``: ordinal models, whose thresholds take the means) and divided by their SD (1 for
    constant columns); with those means and scales.

    The coefficients γ of ``W`` relate to β of ``X`` by ``γ_slopes = β_slopes · scales`` and
    ``γ_intercept = β_intercept + means · β_slopes``.
    """
    names = list(design.x_names)
    has_int = "Intercept" in names
    slope_idx = [j for j, n in enumerate(names) if n != "Intercept"]
    Xs = design.X[:, slope_idx]
    means = Xs.mean(axis=0) if (has_int or centre) and slope_idx else np.zeros(len(slope_idx))
    scales = Xs.std(axis=0, ddof=1) if design.n > 1 and slope_idx else np.ones(len(slope_idx))
    scales = np.where(scales > 0, scales, 1.0)
    cols = ([np.ones((design.n, 1))] if has_int else []) + [(Xs - means) / scales]
    return np.hstack(cols), means, scales
