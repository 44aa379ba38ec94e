"""Model matrices the way R builds them: treatment contrasts, R's rule for full dummy coding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import Term, expr_to_str
from .evaluate import Numeric, State, evaluate, level_str

__all__ = ["model_matrix"]

_level_str = level_str


def model_matrix(
    terms: tuple[Term, ...], intercept: bool, data: pd.DataFrame, state: State, fitting: bool, where: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Build the columns of ``terms`` (plus the intercept) on ``data``.

    A categorical variable in a term gets treatment contrasts (first level is the reference) when the term
    without that variable is also in the model (the intercept counts as the empty term); otherwise it gets
    one indicator per level. This is R's ``model.matrix`` rule, so ``0 + g`` gives one column per level and
    ``x:g`` without ``g`` gives one slope per level. Without an intercept, R codes the first term that holds
    a categorical variable by indicators and every later term as if the intercept were there, so that
    ``0 + f + h`` gives all levels of ``f`` and contrasts for ``h`` (a full-rank matrix).
    """
    n = len(data)
    present = {Term(())} if intercept else set()
    present |= set(terms)
    full_coded_once = intercept
    cols: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(n))
        names.append("Intercept")
    for term in terms:
        parts: list[tuple[list[np.ndarray], list[str]]] = []
        term_present = present | {Term(())} if full_coded_once else present
        has_categorical = False
        for f in term.factors:
            v = evaluate(f, data, state, fitting)
            label = expr_to_str(f)
            if isinstance(v, Numeric):
                parts.append(([v.values], [label]))
                continue
            has_categorical = True
            margin = Term(tuple(g for g in term.factors if g != f))
            start = 1 if margin in term_present else 0
            if len(v.levels) - start < 1:
                raise DataError(
                    f"the categorical variable {label!r} in {where} has a single level "
                    f"({_level_str(v.levels[0]) if v.levels else 'none'}), so it cannot be estimated; drop it"
                )
            unseen = v.codes < 0
            if unseen.any():
                raw = _raw_values(f, data, state)
                bad = pd.unique(pd.Series(raw[unseen], dtype=object)).tolist()
                raise DataError(
                    f"{label!r} has level(s) {', '.join(repr(_plain(b)) for b in bad[:5])} that were not in the data "
                    f"the model was fitted to (known levels: {', '.join(_level_str(x) for x in v.levels[:10])}); "
                    "drop those rows or map them to a known level"
                )
            dummies = [(v.codes == j).astype(float) for j in range(start, len(v.levels))]
            parts.append((dummies, [f"{label}{_level_str(v.levels[j])}" for j in range(start, len(v.levels))]))
        full_coded_once = full_coded_once or has_categorical
        term_cols: list[np.ndarray] = [np.ones(n)]
        term_names: list[str] = [""]
        for pcols, pnames in parts:
            term_cols = [a * b for a in term_cols for b in pcols]
            term_names = [f"{a}:{b}" if a else b for a in term_names for b in pnames]
        cols.extend(term_cols)
        names.extend(term_names)
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    return X.astype(float), tuple(names)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, (np.bool_, np.integer, np.floating, np.str_)) else v


def _raw_values(f, data: pd.DataFrame, state: State) -> np.ndarray:
    """The values a categorical variable was built from (the column, or ``x`` of ``factor(x)``), for messages."""
    from ..formula.ast import Call, Name

    if isinstance(f, Call) and len(f.args) == 1:
        f = f.args[0]
    if isinstance(f, Name):
        return data[f.name].to_numpy(dtype=object)
    v = evaluate(f, data, dict(state), False)
    return np.asarray(v.values if isinstance(v, Numeric) else v.codes, dtype=object)
