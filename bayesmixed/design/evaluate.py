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

__all__ = ["Numeric", "Categorical", "State", "evaluate", "expr_columns", "check_columns", "is_categorical_series"]


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
    """Raise a :class:`DataError` naming a missing column and the closest existing ones."""
    cols = [str(c) for c in data.columns]
    for name in names:
        if name not in data.columns:
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


def _levels_of(s: pd.Series) -> tuple[Any, ...]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        return tuple(s.cat.categories)
    vals = pd.unique(s.dropna())
    try:
        return tuple(sorted(vals))
    except TypeError:  # mixed types: sort by text, as R would after as.character
        return tuple(sorted(vals, key=str))


def _as_categorical(s: pd.Series, key: str, state: State, fitting: bool) -> Categorical:
    if fitting:
        levels = _levels_of(s)
        state[key] = ("levels", levels)
    else:
        levels = state[key][1]
    lookup = {lv: i for i, lv in enumerate(levels)}
    # compare by value; numbers that look alike (1 and 1.0) map together
    codes = np.array([lookup.get(v, -1) for v in s.tolist()], dtype=np.int64)
    return Categorical(codes, levels)


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
        return Numeric(np.asarray(s, dtype=float))
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
        return np.asarray(s, dtype=float)
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
