"""Evaluate value expressions against a data frame, remembering stateful transforms.

A variable is either numeric (a float vector) or categorical (integer codes into a tuple of levels).
``scale()``, ``center()`` and categorical levels learn their state on the data the model is fitted to and
reuse it on new data, so that predictions use the same encoding.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import BinOp, Call, Expr, Name, Num, UnaryOp, expr_to_str

__all__ = [
    "Numeric",
    "Categorical",
    "State",
    "evaluate",
    "expr_columns",
    "check_columns",
    "is_categorical_series",
    "level_str",
]


@dataclass(frozen=True)
class Numeric:
    values: np.ndarray  # float64 (n,)


@dataclass(frozen=True)
class Categorical:
    codes: np.ndarray  # int (n,), -1 for a level not seen when fitting
    levels: tuple[Any, ...]


State = dict  # expression label -> learnt state (levels tuple, or (center, scale))

_UNARY_FUNCS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "log1p": np.log1p,
    "exp": np.exp,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "logit": lambda x: np.log(x) - np.log1p(-x),
    "inv_logit": lambda x: 1.0 / (1.0 + np.exp(-x)),
}
_STATEFUL = ("scale", "center", "standardize")
_CATEGORICAL_FUNCS = ("factor", "C", "as.factor")
_ALL_FUNCS = sorted([*_UNARY_FUNCS, *_STATEFUL, *_CATEGORICAL_FUNCS, "I", "pow"])


def is_categorical_series(s: pd.Series) -> bool:
    """Whether a column is read as categorical (strings, booleans, pandas categories)."""
    dt = s.dtype
    return (
        isinstance(dt, pd.CategoricalDtype)
        or pd.api.types.is_bool_dtype(dt)
        or pd.api.types.is_object_dtype(dt)
        or pd.api.types.is_string_dtype(dt)
    )


def level_str(lv: Any) -> str:
    """A level as it appears in column names and messages (``TRUE``/``FALSE``, ``2`` for ``2.0``)."""
    if isinstance(lv, (bool, np.bool_)):
        return "TRUE" if lv else "FALSE"
    if isinstance(lv, (float, np.floating)) and float(lv).is_integer():
        return str(int(lv))
    return str(lv)


def expr_columns(e: Expr) -> list[str]:
    """Names of the data columns an expression reads."""
    if isinstance(e, Name):
        return [e.name]
    if isinstance(e, Call):
        return [c for a in e.args for c in expr_columns(a)]
    if isinstance(e, BinOp):
        return expr_columns(e.left) + expr_columns(e.right)
    if isinstance(e, UnaryOp):
        return expr_columns(e.operand)
    return []


def check_columns(names: list[str], data: pd.DataFrame, where: str) -> None:
    """Raise a :class:`~bayesmixed.errors.DataError` naming a missing column and the closest existing ones."""
    cols = [str(c) for c in data.columns]
    for name in names:
        if name in data.columns and int((data.columns == name).sum()) > 1:
            raise DataError(
                f"column {name!r} (used in {where}) appears {int((data.columns == name).sum())} times in the data; "
                "rename or drop the duplicates, e.g. data.loc[:, ~data.columns.duplicated()]"
            )
        if name not in data.columns:
            if name in cols:
                raise DataError(
                    f"column {name!r} (used in {where}) is in the data only under a non-string name "
                    f"({data.columns[cols.index(name)]!r}); formulas name columns by text: rename the columns "
                    "with data.columns = data.columns.astype(str)"
                )
            close = difflib.get_close_matches(name, cols, n=3, cutoff=0.6)
            lower = [c for c in cols if c.lower() == name.lower() and c not in close]
            hint = close + lower
            msg = f"column {name!r} (used in {where}) is not in the data."
            if hint:
                msg += f" Did you mean {' or '.join(repr(h) for h in hint)}?"
            else:
                shown = ", ".join(repr(c) for c in cols[:12]) + (", ..." if len(cols) > 12 else "")
                msg += f" The data have the columns {shown}."
            raise DataError(msg)


def _plain(v: Any) -> Any:
    """NumPy scalars as Python scalars (``True`` rather than ``np.True_`` in messages and state)."""
    return v.item() if isinstance(v, (np.bool_, np.integer, np.floating, np.str_)) else v


def _levels_of(s: pd.Series) -> tuple[Any, ...]:
    """Levels present in ``s``: a pandas categorical keeps its category order but drops unused
    categories (as R's ``model.frame`` drops unused levels), anything else is sorted."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().tolist())
        return tuple(_plain(c) for c in s.cat.categories if c in present)
    vals = [_plain(v) for v in pd.unique(s.dropna())]
    try:
        return tuple(sorted(vals))
    except TypeError:  # mixed types: sort by text, as R would after as.character
        return tuple(sorted(vals, key=str))


def _as_categorical(s: pd.Series, key: str, state: State, fitting: bool) -> Categorical:
    if fitting:
        levels = _levels_of(s)
        shown = [level_str(lv) for lv in levels]
        if len(set(shown)) < len(shown):
            dup = next(t for t in shown if shown.count(t) > 1)
            same = [lv for lv, t in zip(levels, shown) if t == dup]
            raise DataError(
                f"{key} has levels {' and '.join(map(repr, same))} that read the same ({dup!r}) but are different "
                f"values (mixed types); convert the column to one type, e.g. data[...].astype(str)"
            )
        state[key] = ("levels", levels)
    else:
        levels = state[key][1]
    lookup = {lv: i for i, lv in enumerate(levels)}
    # compare by value; numbers that look alike (1 and 1.0) map together
    codes = np.array([lookup.get(v, -1) for v in s.tolist()], dtype=np.int64)
    return Categorical(codes, levels)


def numeric_column(s: pd.Series, name: str) -> np.ndarray:
    """The values of a numeric column as floats; a :class:`~bayesmixed.errors.DataError` for dates, durations, complex numbers
    and other columns that are neither numbers nor categories."""
    dt = s.dtype
    if pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_complex_dtype(dt):
        return np.asarray(s.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    if pd.api.types.is_datetime64_any_dtype(dt):
        fix = f"e.g. (data[{name!r}] - data[{name!r}].min()).dt.days for days since the first date"
    elif pd.api.types.is_timedelta64_dtype(dt):
        fix = f"e.g. data[{name!r}].dt.total_seconds()"
    elif pd.api.types.is_complex_dtype(dt):
        fix = "e.g. its real part or its modulus"
    else:
        fix = "to numbers with pd.to_numeric, or to a category with astype(str)"
    raise DataError(f"column {name!r} has dtype {dt}, which is neither numeric nor categorical; convert it, {fix}")


def evaluate(e: Expr, data: pd.DataFrame, state: State, fitting: bool) -> Numeric | Categorical:
    """Evaluate one variable of a term.

    Parameters
    ----------
    e
        The expression.
    data
        Rows to evaluate on (already free of missing values in used columns).
    state
        Learnt transform state; written when ``fitting`` is true, read otherwise.
    fitting
        True on the data the model is fitted to, False on new data.
    """
    key = expr_to_str(e)
    if isinstance(e, Name):
        s = data[e.name]
        if is_categorical_series(s) or (not fitting and state.get(key, (None,))[0] == "levels"):
            if not fitting and state.get(key, (None,))[0] != "levels":
                raise DataError(f"column {e.name!r} was numeric when the model was fitted but is not numeric now")
            return _as_categorical(s, key, state, fitting)
        return Numeric(numeric_column(s, e.name))
    if isinstance(e, Call) and e.func in _CATEGORICAL_FUNCS:
        if len(e.args) != 1:
            raise DataError(f"{e.func}() takes one argument, in {key}")
        inner = e.args[0]
        if isinstance(inner, Name):
            s = data[inner.name]
        else:
            v = evaluate(inner, data, state, fitting)
            s = pd.Series(v.values if isinstance(v, Numeric) else v.codes)
        return _as_categorical(s, key, state, fitting)
    v = _numeric(e, data, state, fitting, key)
    return Numeric(v)


def _numeric(e: Expr, data: pd.DataFrame, state: State, fitting: bool, where: str) -> np.ndarray:
    if isinstance(e, Num):
        return np.full(len(data), e.value)
    if isinstance(e, Name):
        s = data[e.name]
        if is_categorical_series(s):
            raise DataError(
                f"column {e.name!r} is categorical (values such as {s.dropna().iloc[0]!r}) but {where} "
                "needs numbers; convert the column with pd.to_numeric or drop it from the arithmetic"
            )
        return numeric_column(s, e.name)
    if isinstance(e, UnaryOp):
        v = _numeric(e.operand, data, state, fitting, where)
        return -v if e.op == "-" else v
    if isinstance(e, BinOp):
        a = _numeric(e.left, data, state, fitting, where)
        b = _numeric(e.right, data, state, fitting, where)
        ops = {
            "+": np.add,
            "-": np.subtract,
            "*": np.multiply,
            "/": np.divide,
            "^": np.power,
            "==": np.equal,
            "!=": np.not_equal,
            "<": np.less,
            ">": np.greater,
            "<=": np.less_equal,
            ">=": np.greater_equal,
        }
        with np.errstate(all="ignore"):
            return np.asarray(ops[e.op](a, b), dtype=float)
    if isinstance(e, Call):
        if e.func == "I":
            if len(e.args) != 1:
                raise DataError(f"I() takes one argument, in {where}")
            return _numeric(e.args[0], data, state, fitting, where)
        if e.func == "pow":
            if len(e.args) != 2:
                raise DataError(f"pow() takes two arguments, in {where}")
            return np.power(*(_numeric(a, data, state, fitting, where) for a in e.args))
        if e.func in _UNARY_FUNCS:
            if len(e.args) != 1:
                raise DataError(f"{e.func}() takes one argument, in {where}")
            x = _numeric(e.args[0], data, state, fitting, where)
            with np.errstate(all="ignore"):
                return np.asarray(_UNARY_FUNCS[e.func](x), dtype=float)
        if e.func in _STATEFUL:
            if len(e.args) != 1:
                raise DataError(f"{e.func}() takes one argument, in {where}")
            x = _numeric(e.args[0], data, state, fitting, where)
            key = expr_to_str(e)
            if fitting:
                center = float(np.mean(x))
                scale = float(np.std(x, ddof=1)) if e.func != "center" and len(x) > 1 else 1.0
                if e.func != "center" and not scale > 0:
                    raise DataError(
                        f"{key}: the variable is constant (standard deviation 0), so it cannot be scaled; "
                        "drop the term or use center()"
                    )
                state[key] = ("affine", center, scale)
            _, center, scale = state[key]
            return (x - center) / scale
        close = difflib.get_close_matches(e.func, _ALL_FUNCS, n=1)
        hint = f" Did you mean {close[0]}()?" if close else ""
        raise DataError(f"unknown function {e.func}() in {where}.{hint} Available: {', '.join(_ALL_FUNCS)}.")
    raise DataError(f"cannot evaluate {where}")
