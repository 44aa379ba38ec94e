"""Classic mixed-model data sets shipped with bayesmixed (see ``data/README.md`` for provenance).

Columns that are factors in R (quoted in the CSV files) are loaded as pandas categoricals, with levels in
numeric order when they look like numbers (R's order for these data) and in alphabetical order otherwise.
"""

from __future__ import annotations

import csv
from importlib import resources

import pandas as pd

from ..errors import DataError

__all__ = ["load", "names", "path"]


def names() -> list[str]:
    """Names of the shipped data sets."""
    root = resources.files(__package__) / "data"
    return sorted(p.name[:-4] for p in root.iterdir() if p.name.endswith(".csv"))


def path(name: str):
    """Path of a shipped CSV file."""
    if name not in names():
        raise DataError(f"no shipped data set {name!r}; available: {', '.join(names())}")
    return resources.files(__package__) / "data" / f"{name}.csv"


def _quoted_columns(p) -> list[str]:
    with p.open("r", newline="") as fh:
        header = next(csv.reader(fh))
        first = fh.readline().rstrip("\n")
    cells = next(csv.reader([first], quoting=csv.QUOTE_NONNUMERIC))
    return [h for h, c in zip(header, cells) if isinstance(c, str)]


def _ordered_levels(values: pd.Series) -> list[str]:
    uniq = list(pd.unique(values.dropna()))
    try:
        return sorted(uniq, key=float)
    except ValueError:
        return sorted(uniq)


def load(name: str) -> pd.DataFrame:
    """Load a shipped data set as a new DataFrame.

    Parameters
    ----------
    name
        One of :func:`names`: ``sleepstudy``, ``radon``, ``cbpp``, ``Penicillin``, ``Pastes``,
        ``Dyestuff``, ``Dyestuff2``, ``grouseticks``, ``InstEval``.

    Examples
    --------
    >>> df = load("sleepstudy")
    >>> df.shape
    (180, 3)
    """
    p = path(name)
    factors = _quoted_columns(p)
    with p.open("r", newline="") as fh:
        df = pd.read_csv(fh, dtype={c: str for c in factors})
    for c in factors:
        df[c] = pd.Categorical(df[c], categories=_ordered_levels(df[c]))
    return df
