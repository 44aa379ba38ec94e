"""Simulated data for the scaling sweep: ``y ~ x + (1 | g)``, Gaussian.

Each point is (rows, levels). Every level gets ``rows // levels`` or one more
observations (levels are assigned round-robin, then shuffled), so the design
is balanced and every level appears. True values: intercept 1, slope 0.5,
group SD 0.7, residual SD 1 -- the sweep's "reference" column.
"""

from __future__ import annotations

import itertools

import numpy as np

FORMULA = "y ~ x + (1 | g)"
TRUTH = {"Intercept": 1.0, "x": 0.5, "sd(Intercept|g)": 0.7, "sigma": 1.0}

DEFAULT_ROWS = (10**3, 10**4, 10**5, 10**6)
DEFAULT_LEVELS = (10, 10**2, 10**3, 10**4, 10**5)
#: at least this many rows per level for a default grid point
MIN_ROWS_PER_LEVEL = 10


def simulate(rows: int, levels: int, seed: int = 1):
    """A DataFrame with columns ``y``, ``x`` and the factor ``g`` (categorical, ``g0``...)."""
    import pandas as pd

    if levels > rows:
        raise ValueError(f"levels ({levels}) > rows ({rows})")
    rng = np.random.default_rng(seed)
    codes = rng.permutation(np.arange(rows) % levels)
    u = rng.normal(0.0, TRUTH["sd(Intercept|g)"], size=levels)
    x = rng.normal(size=rows)
    y = TRUTH["Intercept"] + TRUTH["x"] * x + u[codes] + rng.normal(0.0, TRUTH["sigma"], size=rows)
    g = pd.Categorical.from_codes(codes, categories=[f"g{i}" for i in range(levels)])
    return pd.DataFrame({"y": y, "x": x, "g": g})


def parse_sizes(text: str) -> list[int]:
    """``"1e3,1e4"`` -> ``[1000, 10000]``."""
    return [int(float(t)) for t in text.split(",") if t.strip()]


def grid(rows=DEFAULT_ROWS, levels=DEFAULT_LEVELS, points: str | None = None) -> list[tuple[int, int]]:
    """Sweep points, smallest first.

    With ``points`` (``"1e3x10,1e6x1e5"``) exactly those; otherwise every
    (rows, levels) pair with at least :data:`MIN_ROWS_PER_LEVEL` rows per level.
    """
    if points:
        out = []
        for p in points.split(","):
            r, lv = p.lower().split("x")
            out.append((int(float(r)), int(float(lv))))
        return out
    pairs = [(r, lv) for r, lv in itertools.product(rows, levels) if r >= MIN_ROWS_PER_LEVEL * lv]
    return sorted(pairs, key=lambda p: (p[0], p[1]))
