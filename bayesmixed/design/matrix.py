"""Model matrices the way R builds them: treatment contrasts, R's rule for full dummy coding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import Term, expr_to_str
from .evaluate import Categorical, Numeric, State, evaluate

__all__ = ["model_matrix"]


def _level_str(lv: Any) -> str:
    if isinstance(lv, (bool, np.bool_)):
        return "TRUE" if lv else "FALSE"
    if isinstance(lv, float) and lv.is_integer():
        return str(int(lv))
    return str(lv)


def model_matrix(
    terms: tuple[Term, ...], intercept: bool, data: pd.DataFrame, state: State, fitting: bool, where: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Build the columns of ``terms`` (plus the intercept) on ``data``.

    A categorical variable in a term gets treatment contrasts (first level is the reference) when the term
    without that variable is also in the model (the intercept counts as the empty term); otherwise it gets
    one indicator per level. This is R's ``model.matrix`` rule, so ``0 + g`` gives one column per level and
    ``x:g`` without ``g`` gives one slope per level.
    """
    n = len(data)
    present = {Term(())} if intercept else set()
    present |= set(terms)
    cols: list[np.ndarray] = []
    names: list[str] = []
    if intercept:
        cols.append(np.ones(n))
        names.append("Intercept")
    for term in terms:
        parts: list[tuple[list[np.ndarray], list[str]]] = []
        for f in term.factors:
            v = evaluate(f, data, state, fitting)
            label = expr_to_str(f)
            if isinstance(v, Numeric):
                parts.append(([v.values], [label]))
                continue
            margin = Term(tuple(g for g in term.factors if g != f))
            start = 1 if margin in present else 0
            if len(v.levels) - start < 1:
                raise DataError(
                    f"the categorical variable {label!r} in {where} has a single level "
                    f"({_level_str(v.levels[0]) if v.levels else 'none'}), so it cannot be estimated; drop it"
                )
            unseen = v.codes < 0
            if unseen.any():
                bad = pd.unique(pd.Series(np.asarray(data[f.name] if hasattr(f, "name") else v.codes)[unseen]))
                raise DataError(
                    f"{label!r} has level(s) {', '.join(map(repr, bad[:5]))} that were not in the data the model "
                    f"was fitted to (known levels: {', '.join(_level_str(x) for x in v.levels[:10])})"
                )
            dummies = [(v.codes == j).astype(float) for j in range(start, len(v.levels))]
            parts.append((dummies, [f"{label}{_level_str(v.levels[j])}" for j in range(start, len(v.levels))]))
        term_cols: list[np.ndarray] = [np.ones(n)]
        term_names: list[str] = [""]
        for pcols, pnames in parts:
            term_cols = [a * b for a in term_cols for b in pcols]
            term_names = [f"{a}:{b}" if a else b for a in term_names for b in pnames]
        cols.extend(term_cols)
        names.extend(term_names)
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    return X.astype(float), tuple(names)
