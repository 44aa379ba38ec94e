"""Model matrices the way R builds them: R's contrasts, R's rule for full dummy coding, R's column order.

A categorical variable is coded by its contrast where R would (see :func:`model_matrix`): treatment
contrasts by default, polynomial contrasts (``.L``, ``.Q``, ``.C``, ``^4``, ...) for an ordered categorical
(R's ordered factor), or the coding chosen with ``contrasts=`` (``"treatment"``, ``"sum"``, ``"helmert"``,
``"poly"``, ``"SAS"``, R's ``contr.*`` names, or a matrix). The choice is kept in the encoding state
(``("levels", levels, contrast)``) so that new data are coded the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import Term, expr_to_str
from . import rmath
from .evaluate import Basis, Categorical, Numeric, State, evaluate, level_str

__all__ = ["model_matrix", "contrast_spec", "contrast_columns"]

#: a contrast as stored in the encoding: a name of :data:`rmath.CONTRASTS`, or ("matrix", rows, column names)
ContrastSpec = Any

_level_str = level_str


def model_matrix(
    terms: tuple[Term, ...],
    intercept: bool,
    data: pd.DataFrame,
    state: State,
    fitting: bool,
    where: str,
    contrasts: dict[str, Any] | None = None,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Build the columns of ``terms`` (plus the intercept) on ``data``.

    A categorical variable in a term gets its contrasts (treatment by default: the first level is the
    reference; polynomial for an ordered categorical; ``contrasts[label]`` when given) when the term without
    that variable is also in the model (the intercept counts as the empty term); otherwise it gets one
    indicator per level. This is R's ``model.matrix`` rule, so ``0 + g`` gives one column per level and
    ``x:g`` without ``g`` gives one slope per level. Without an intercept, R codes the first term that holds
    a categorical variable by indicators and every later term as if the intercept were there, so that
    ``0 + f + h`` gives all levels of ``f`` and contrasts for ``h`` (a full-rank matrix). The columns of an
    interaction vary the first variable fastest (``a2:b2, a3:b2, a2:b3, ...``), as R orders them.

    ``contrasts`` (variable label → coding) is read when ``fitting``; the coding is stored in ``state``.
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
            if isinstance(v, Basis):  # R names a one-column matrix by the variable alone
                sfx = [""] if len(v.suffixes) == 1 else list(v.suffixes)
                parts.append(([v.values[:, j] for j in range(v.values.shape[1])], [label + s for s in sfx]))
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
                known = {_level_str(x) for x in v.levels}
                if any(_level_str(_plain(b)) in known for b in bad):  # 1 against '1': say so, with the types
                    raise DataError(
                        f"{label!r} has level(s) {', '.join(repr(_plain(b)) for b in bad[:5])} where the model was "
                        f"fitted to {', '.join(repr(_plain(x)) for x in v.levels[:10])}: the same names, of another "
                        "type (numbers against text); convert the column of the new data to the type of the "
                        "fitted one, e.g. new_data[...].astype(str) or pd.to_numeric(new_data[...])"
                    )
                raise DataError(
                    f"{label!r} has level(s) {', '.join(repr(_plain(b)) for b in bad[:5])} that were not in the data "
                    f"the model was fitted to (known levels: {', '.join(_level_str(x) for x in v.levels[:10])}); "
                    "drop those rows or map them to a known level"
                )
            if start == 0:  # indicators of every level (R's contrasts = FALSE)
                dummies = [(v.codes == j).astype(float) for j in range(len(v.levels))]
                parts.append((dummies, [f"{label}{_level_str(lv)}" for lv in v.levels]))
            else:
                C, suffixes = _contrast(label, v, state, fitting, contrasts)
                parts.append(([C[v.codes, j] for j in range(C.shape[1])], [label + sfx for sfx in suffixes]))
        full_coded_once = full_coded_once or has_categorical
        term_cols: list[np.ndarray] = [np.ones(n)]
        term_names: list[str] = [""]
        for pcols, pnames in parts:  # the earlier variables vary fastest
            term_cols = [a * b for b in pcols for a in term_cols]
            term_names = [f"{a}:{b}" if a else b for b in pnames for a in term_names]
        cols.extend(term_cols)
        names.extend(term_names)
    X = np.column_stack(cols) if cols else np.zeros((n, 0))
    return X.astype(float), tuple(names)


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, (np.bool_, np.integer, np.floating, np.str_)) else v


def _contrast(
    label: str, v: Categorical, state: State, fitting: bool, contrasts: dict[str, Any] | None
) -> tuple[np.ndarray, tuple[str, ...]]:
    """The contrast matrix (levels × columns) and column suffixes of a categorical variable, chosen and
    stored when fitting, read back from ``state`` otherwise."""
    if fitting:
        spec = contrast_spec((contrasts or {}).get(label), v.levels, v.ordered, label)
        state[label] = ("levels", state[label][1] if label in state else v.levels, spec)
    else:
        st = state.get(label, ())
        spec = st[2] if len(st) > 2 else "treatment"  # fits saved before contrasts were stored
    return contrast_columns(spec, v.levels)


def contrast_spec(choice: Any, levels: tuple[Any, ...], ordered: bool, label: str) -> ContrastSpec:
    """Check a user's contrast choice for a categorical variable and put it in the stored form.

    ``None`` gives R's default: polynomial contrasts for an ordered categorical, treatment otherwise. A name
    is one of :data:`rmath.CONTRASTS` (or R's ``contr.sum`` etc.). A matrix (NumPy array, nested list, or a
    DataFrame whose index names the levels) has one row per level, in level order, and ``len(levels) - 1``
    columns that together with the intercept span every level.
    """
    n = len(levels)
    if choice is None:
        return "poly" if ordered and n <= 95 else "treatment"
    if isinstance(choice, str):
        name = choice[6:] if choice.startswith("contr.") else choice
        if name not in rmath.CONTRASTS:
            raise DataError(
                f"unknown contrast {choice!r} for {label!r}; choose one of "
                f"{', '.join(repr(c) for c in rmath.CONTRASTS)} or give a matrix with one row per level"
            )
        if name == "poly" and n > 95:
            raise DataError(f"polynomial contrasts for {label!r} need at most 95 levels, it has {n}")
        return name
    shown = [level_str(lv) for lv in levels]
    names: list[str] | None = None
    if isinstance(choice, pd.DataFrame):
        names = [str(c) for c in choice.columns]
        idx = [str(i) for i in choice.index]
        if sorted(idx) == sorted(shown):
            choice = choice.loc[[choice.index[idx.index(s)] for s in shown]]
        choice = choice.to_numpy()
    try:
        M = np.asarray(choice, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"the contrast for {label!r} must be a name ({', '.join(rmath.CONTRASTS)}) or a numeric matrix, "
            f"got {type(choice).__name__}"
        ) from None
    if M.ndim != 2 or M.shape != (n, n - 1):
        raise DataError(
            f"the contrast matrix for {label!r} has shape {M.shape}; it needs one row per level ({n}: "
            f"{', '.join(shown[:8])}{', ...' if n > 8 else ''}) and {n - 1} columns"
        )
    if not np.all(np.isfinite(M)) or np.linalg.matrix_rank(np.column_stack([np.ones(n), M])) < n:
        raise DataError(
            f"the contrast matrix for {label!r} together with the intercept does not span the {n} levels "
            "(its columns are collinear with each other or with a column of ones); use independent contrasts"
        )
    return ("matrix", tuple(tuple(float(x) for x in row) for row in M), tuple(names or (str(i) for i in range(1, n))))


def contrast_columns(spec: ContrastSpec, levels: tuple[Any, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The contrast matrix and column suffixes of a stored contrast."""
    if isinstance(spec, str):
        return rmath.contrast_matrix(spec, tuple(level_str(lv) for lv in levels))
    _, rows, names = spec
    return np.asarray(rows, dtype=float), tuple(names)


def _raw_values(f, data: pd.DataFrame, state: State) -> np.ndarray:
    """The values a categorical variable was built from (the column, or ``x`` of ``factor(x)``), for messages."""
    from ..formula.ast import Call, Name

    if isinstance(f, Call) and len(f.args) == 1:
        f = f.args[0]
    if isinstance(f, Name):
        return data[f.name].to_numpy(dtype=object)
    v = evaluate(f, data, dict(state), False)
    return np.asarray(v.values if isinstance(v, Numeric) else v.codes, dtype=object)
