"""Evaluate value expressions against a data frame, remembering stateful transforms.

A variable is numeric (a float vector), categorical (integer codes into a tuple of levels, ordered or not)
or a basis (several columns, as R's ``poly()``, ``ns()`` and ``bs()`` give). ``scale()``, ``center()``,
``poly()``, ``ns()``, ``bs()`` and categorical levels learn their state on the data the model is fitted to
(centre and scale, polynomial coefficients, knots) and reuse it on new data, so that predictions use the
same encoding. The state is plain numbers and strings, keyed by the variable's label (``poly(Days, 2)``):

=============  ==========================================================
``levels``     ``("levels", levels)``; :mod:`~bayesmixed.design.matrix` adds the contrast
``affine``     ``("affine", centre, scale)`` of ``scale()``/``center()``/``standardize()``
``poly``       ``("poly", alpha, norm2)``: R's ``attr(poly(x, d), "coefs")``
``ns``         ``("ns", knots, boundary_knots, intercept)``
``bs``         ``("bs", knots, boundary_knots, degree, intercept)``
=============  ==========================================================
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..errors import DataError
from ..formula.ast import BinOp, Call, Expr, Name, Num, Str, UnaryOp, expr_to_str
from . import rmath

__all__ = [
    "Numeric",
    "Categorical",
    "Basis",
    "State",
    "R_CONSTANTS",
    "data_columns",
    "prefit_state",
    "is_logical",
    "evaluate",
    "expr_columns",
    "check_columns",
    "is_categorical_series",
    "level_str",
    "bind_args",
    "not_whole",
]


@dataclass(frozen=True)
class Numeric:
    values: np.ndarray  # float64 (n,)


@dataclass(frozen=True)
class Categorical:
    codes: np.ndarray  # int (n,), -1 for a level not seen when fitting
    levels: tuple[Any, ...]
    ordered: bool = False  # a pandas ordered categorical: R's ordered factor (polynomial contrasts)


@dataclass(frozen=True)
class Basis:
    """Several columns from one variable (``poly(x, 2)``): R names them ``label + suffix``."""

    values: np.ndarray  # float64 (n, k)
    suffixes: tuple[str, ...]


State = dict  # expression label -> learnt state (see the module docstring)

#: names R reads as constants when the data have no such column
R_CONSTANTS = {"pi": np.pi, "TRUE": 1.0, "FALSE": 0.0, "T": 1.0, "F": 0.0, "Inf": np.inf}

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
_ROUNDING: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "floor": np.floor,
    "ceiling": np.ceil,
    "trunc": np.trunc,
    "sign": np.sign,
}
_STATEFUL = ("scale", "center", "standardize")
_CATEGORICAL_FUNCS = ("factor", "C", "as.factor")
#: functions that give several columns, with their arguments in R's order
_BASIS_ARGS = {
    "poly": ("x", "degree", "raw"),
    "ns": ("x", "df", "knots", "intercept", "Boundary.knots"),
    "bs": ("x", "df", "knots", "degree", "intercept", "Boundary.knots"),
}
_ALL_FUNCS = sorted(
    [*_UNARY_FUNCS, *_ROUNDING, *_STATEFUL, *_CATEGORICAL_FUNCS, *_BASIS_ARGS, "I", "pow", "round", "dummy",
     "as.numeric", "as.integer"]
)
#: namespaces whose functions are the ones above (splines::ns(x, 3) is ns(x, 3))
_NAMESPACES = ("base::", "stats::", "splines::")


_COMPARISONS = ("==", "!=", "<", ">", "<=", ">=")


def is_logical(e: Expr) -> bool:
    """Whether ``e`` is a comparison (``x > 2``, ``I(x > 2)``): R treats its values as a logical variable,
    which a model matrix codes as a factor with levels ``FALSE``, ``TRUE`` (``I(x > 2)TRUE``)."""
    if isinstance(e, BinOp):
        return e.op in _COMPARISONS
    if isinstance(e, Call) and e.func == "I" and len(e.args) == 1 and not e.kwargs:
        return is_logical(e.args[0])
    return False


def func_name(func: str) -> str:
    """A function name without an R namespace prefix that names the same function (``splines::ns`` → ``ns``)."""
    for ns in _NAMESPACES:
        if func.startswith(ns):
            return func[len(ns) :]
    return func


def data_columns(names: list[str] | dict[str, str], data: pd.DataFrame) -> list[str]:
    """``names`` less the R constants (``pi``, ``TRUE``, ...) that ``data`` has no column for."""
    return [c for c in names if c in data.columns or c not in R_CONSTANTS]


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
        old = state.get(key)
        if not (old and old[0] == "levels" and old[1] == levels):  # keep a contrast already chosen
            state[key] = ("levels", levels)
    else:
        levels = state[key][1]
    lookup = {lv: i for i, lv in enumerate(levels)}
    # compare by value; numbers that look alike (1 and 1.0) map together
    codes = np.array([lookup.get(v, -1) for v in s.tolist()], dtype=np.int64)
    ordered = isinstance(s.dtype, pd.CategoricalDtype) and bool(s.cat.ordered)
    return Categorical(codes, levels, ordered)


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
    if isinstance(e, Name) and e.name not in data.columns and e.name in R_CONSTANTS:
        return Numeric(np.full(len(data), R_CONSTANTS[e.name]))
    if isinstance(e, Call) and func_name(e.func) in _BASIS_ARGS:
        return _basis(e, data, state, fitting, key)
    if isinstance(e, Call) and e.func == "dummy":
        return _dummy(e, data, state, fitting, key)
    if isinstance(e, Name):
        s = data[e.name]
        if is_categorical_series(s) or (not fitting and state.get(key, (None,))[0] == "levels"):
            if not fitting and state.get(key, (None,))[0] != "levels":
                raise DataError(f"column {e.name!r} was numeric when the model was fitted but is not numeric now")
            return _as_categorical(s, key, state, fitting)
        return Numeric(numeric_column(s, e.name))
    if is_logical(e):
        v = _numeric(e, data, state, fitting, key)
        return _as_categorical(pd.Series(v == 1.0, index=data.index), key, state, fitting)
    if isinstance(e, Call) and e.func in _CATEGORICAL_FUNCS:
        _no_kwargs(e, key)
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
    if isinstance(e, Name) and e.name not in data.columns and e.name in R_CONSTANTS:
        return np.full(len(data), R_CONSTANTS[e.name])
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
        fname = func_name(e.func)
        if fname in _BASIS_ARGS:
            raise DataError(
                f"{expr_to_str(e)} gives {fname}() columns, which cannot be used inside arithmetic or another "
                f"function (in {where}); use it as a term of its own"
            )
        _no_kwargs(e, where)
        if fname in ("as.numeric", "as.integer"):
            if len(e.args) != 1:
                raise DataError(f"{fname}() takes one argument, in {where}")
            inner = e.args[0]
            if isinstance(inner, Name) and inner.name in data.columns and is_categorical_series(data[inner.name]):
                s = data[inner.name]
                if isinstance(s.dtype, pd.CategoricalDtype):  # R: the factor's level codes, 1, 2, ...
                    cat = _as_categorical(s, expr_to_str(e), state, fitting)  # levels kept for new data
                    if (cat.codes < 0).any():
                        raise DataError(
                            f"{expr_to_str(e)}: {inner.name!r} has levels the model was not fitted to "
                            f"(known: {', '.join(level_str(x) for x in cat.levels[:10])})"
                        )
                    return cat.codes.astype(float) + 1.0
                if pd.api.types.is_bool_dtype(s.dtype):
                    return s.to_numpy(dtype=float)
                raise DataError(
                    f"{expr_to_str(e)}: column {inner.name!r} holds text, which R's {fname}() turns into missing "
                    "values; convert it with pd.to_numeric, or make it a pandas categorical for its level codes"
                )
            v = _numeric(inner, data, state, fitting, where)
            return np.trunc(v) if fname == "as.integer" else v
        if fname == "round":
            if len(e.args) not in (1, 2):
                raise DataError(f"round() takes one or two arguments (x, digits), in {where}")
            x = _numeric(e.args[0], data, state, fitting, where)
            digits = int(_constant(e.args[1], "digits", e)) if len(e.args) == 2 else 0
            return np.round(x, digits)  # half to even, as R's round()
        if fname in _ROUNDING:
            if len(e.args) != 1:
                raise DataError(f"{fname}() takes one argument, in {where}")
            return _ROUNDING[fname](_numeric(e.args[0], data, state, fitting, where))
        if fname != e.func:
            e = Call(fname, e.args, e.kwargs)
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
            if fitting and key not in state:
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
        if e.func == "Q":  # patsy's quoting of odd column names
            hint = (" To use a column whose name has spaces or symbols, quote it with backticks: `my x` "
                    "(patsy's Q(\"my x\") is not needed).")
        raise DataError(f"unknown function {e.func}() in {where}.{hint} Available: {', '.join(_ALL_FUNCS)}.")
    raise DataError(f"cannot evaluate {where}")


def _stateful_calls(e: Expr) -> list[Call]:
    """The calls inside ``e`` (innermost first) whose result depends on state learnt from the data."""
    out: list[Call] = []
    if isinstance(e, Call):
        for a in (*e.args, *(v for _, v in e.kwargs)):
            out += _stateful_calls(a)
        fname = func_name(e.func)
        if fname in _STATEFUL or fname in _BASIS_ARGS:
            out.append(e)
    elif isinstance(e, BinOp):
        out += _stateful_calls(e.left) + _stateful_calls(e.right)
    elif isinstance(e, UnaryOp):
        out += _stateful_calls(e.operand)
    return out


def prefit_state(exprs: list[Expr], data: pd.DataFrame) -> State:
    """Learn the state of ``scale()``, ``poly()``, ``ns()``, ``bs()`` ... in ``exprs`` as R's ``model.frame``
    does: on every row of ``data`` where the transform's own variables are present, before rows with a
    missing value elsewhere are dropped (lme4 computes ``poly(x, 2)`` on all rows with ``x``, then drops the
    rows whose response is missing)."""
    state: State = {}
    for e in exprs:
        for call in _stateful_calls(e):
            if expr_to_str(call) in state:
                continue
            cols = data_columns(expr_columns(call), data)
            rows = data[cols].notna().all(axis=1) if cols else pd.Series(True, index=data.index)
            evaluate(call, data.loc[rows], state, True)
    return {k: v for k, v in state.items() if v[0] != "levels"}


def _no_kwargs(e: Call, where: str) -> None:
    if e.kwargs:
        raise DataError(
            f"{e.func}() takes no named arguments (got {', '.join(k + ' =' for k, _ in e.kwargs)}), in {where}"
        )


def _constant(e: Expr, arg: str, call: Call) -> Any:
    """The value of a constant argument: a number, ``TRUE``/``FALSE``, ``NULL`` or ``c(...)`` of numbers."""
    if isinstance(e, Num):
        return e.value
    if isinstance(e, Str):
        return e.value
    if isinstance(e, Name) and e.name in ("TRUE", "T", "FALSE", "F"):
        return e.name in ("TRUE", "T")
    if isinstance(e, Name) and e.name in ("NULL",):
        return None
    if isinstance(e, UnaryOp) and isinstance(e.operand, Num):
        return -e.operand.value if e.op == "-" else e.operand.value
    if isinstance(e, Call) and e.func == "c" and not e.kwargs:
        vals = [_constant(a, arg, call) for a in e.args]
        if all(isinstance(v, float) for v in vals) or all(isinstance(v, str) for v in vals):
            return vals
    raise DataError(
        f"the argument {arg} of {expr_to_str(call)} must be a number, TRUE/FALSE or c(...) of numbers, "
        f"not {expr_to_str(e)}"
    )


def bind_args(e: Call, fname: str, params: tuple[str, ...], key: str) -> dict[str, Expr]:
    """The arguments of a call by name, checked against its signature ``params`` (R's argument order)."""
    if len(e.args) > len(params):
        raise DataError(f"{key}: {fname}() takes at most {len(params)} arguments ({', '.join(params)})")
    bound = dict(zip(params, e.args))
    for k, v in e.kwargs:
        if k not in params:
            raise DataError(f"{key}: {fname}() has no argument {k!r}; its arguments are {', '.join(params)}")
        if k in bound:
            raise DataError(f"{key}: the argument {k} of {fname}() is given twice")
        bound[k] = v
    return bound


def not_whole(v: np.ndarray) -> np.ndarray:
    """Which values are not whole numbers (beyond a relative 1e-8)."""
    return np.abs(v - np.round(v)) > 1e-8 * np.maximum(1.0, np.abs(v))


def _bind(e: Call, fname: str, key: str) -> dict[str, Expr]:
    """The arguments of a basis call by name, checked against R's signature."""
    bound = bind_args(e, fname, _BASIS_ARGS[fname], key)
    if "x" not in bound:
        raise DataError(f"{key}: {fname}() needs a variable, e.g. {fname}(x, 2)")
    return bound


def _dummy(e: Call, data: pd.DataFrame, state: State, fitting: bool, key: str) -> Basis:
    """lme4's ``dummy(f, levelsToKeep)``: indicators of the kept levels (all but the first by default)."""
    _no_kwargs(e, key)
    if len(e.args) not in (1, 2):
        raise DataError(f"{key}: dummy() takes a variable and optionally the levels to keep, e.g. dummy(f, \"a\")")
    f = e.args[0]
    s = data[f.name] if isinstance(f, Name) and f.name in data.columns else None
    if s is None:
        v = evaluate(f, data, state, fitting)
        s = pd.Series(v.values if isinstance(v, Numeric) else v.codes, index=data.index)
    cat = _as_categorical(s, key, state, fitting)
    shown = [level_str(lv) for lv in cat.levels]
    keep = _constant(e.args[1], "levelsToKeep", e) if len(e.args) == 2 else shown[1:]
    keep = [keep] if isinstance(keep, str) else [level_str(k) for k in keep]
    bad = [k for k in keep if k not in shown]
    if bad or not keep:
        raise DataError(f"{key}: the levels to keep {bad or keep} are not levels of {expr_to_str(f)} ({', '.join(shown)})")
    cols = [shown.index(k) for k in shown if k in keep]  # in level order, as R's model matrix
    return Basis(np.column_stack([(cat.codes == j).astype(float) for j in cols]), tuple(shown[j] for j in cols))


def _whole(v: Any, arg: str, key: str, low: int) -> int:
    if not isinstance(v, float) or not v.is_integer() or v < low:
        raise DataError(f"{key}: {arg} must be a whole number of at least {low}, got {v!r}")
    return int(v)


def _basis(e: Call, data: pd.DataFrame, state: State, fitting: bool, key: str) -> Basis:
    """``poly()``, ``ns()`` or ``bs()`` of one variable, with R's numbers and column names."""
    fname = func_name(e.func)
    args = _bind(e, fname, key)
    const = {k: _constant(v, k, e) for k, v in args.items() if k != "x"}
    x = _numeric(args["x"], data, state, fitting, key)
    if fname == "poly":
        degree = _whole(const.get("degree", 1.0), "degree", key, 1)
        if const.get("raw", False):
            Z = np.power.outer(x, np.arange(1, degree + 1, dtype=float))
        elif fitting and key not in state:
            try:
                Z, alpha, norm2 = rmath.poly_fit(x, degree)
            except ValueError as err:
                raise DataError(f"{key}: {err}; use a lower degree") from None
            state[key] = ("poly", tuple(alpha), tuple(norm2))
        else:
            _, alpha, norm2 = state[key]
            Z = rmath.poly_predict(x, list(alpha), list(norm2))
        return Basis(Z, tuple(str(i) for i in range(1, degree + 1)))
    intercept = bool(const.get("intercept", False))
    degree = 3 if fname == "ns" else _whole(const.get("degree", 3.0), "degree", key, 1)
    if fitting and key not in state:
        bk = const.get("Boundary.knots")
        if bk is not None and (not isinstance(bk, list) or len(bk) != 2):
            raise DataError(f"{key}: Boundary.knots must be c(lower, upper)")
        boundary = tuple(sorted(bk)) if bk is not None else (float(np.min(x)), float(np.max(x)))
        if boundary[0] == boundary[1]:
            raise DataError(f"{key}: the variable is constant ({boundary[0]:g}), so it has no spline basis; drop the term")
        knots = const.get("knots")
        if isinstance(knots, float):
            knots = [knots]
        if knots is None and const.get("df") is not None:
            df = _whole(const["df"], "df", key, 1)
            n_inner = df - 1 - intercept if fname == "ns" else df - (degree + 1) + (1 - intercept)
            inside = x[(x >= boundary[0]) & (x <= boundary[1])]
            knots = rmath.spline_knots(inside, max(n_inner, 0))
        knots = tuple(sorted(float(k) for k in (knots or [])))
        if any(k <= boundary[0] or k >= boundary[1] for k in knots):
            raise DataError(f"{key}: the knots {list(knots)} must lie strictly between the boundary knots {list(boundary)}")
        state[key] = ("ns", knots, boundary, intercept) if fname == "ns" else ("bs", knots, boundary, degree, intercept)
    st = state[key]
    if fname == "ns":
        Z = rmath.ns_basis(x, list(st[1]), st[2], st[3])
    else:
        Z = rmath.bs_basis(x, list(st[1]), st[2], st[3], st[4])
    return Basis(Z, tuple(str(i) for i in range(1, Z.shape[1] + 1)))
