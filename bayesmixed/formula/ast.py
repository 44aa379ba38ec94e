"""Frozen syntax tree of an lme4-style formula.

Two layers live here:

* *value expressions* (:class:`Name`, :class:`Num`, :class:`Call`, :class:`BinOp`, :class:`UnaryOp`)
  describe how one variable is computed from the data (``Days``, ``log(x)``, ``I(x^2)``,
  ``scale(age)``);
* *model terms* (:class:`Term`, :class:`GroupTerm`, :class:`Response`, :class:`Formula`) are the
  result of expanding the formula algebra (``a*b``, ``a/b``, ``(x || g)``, ``0 +``).

Nothing here knows about data: a :class:`Formula` is a pure function of the formula text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

__all__ = [
    "Name",
    "Num",
    "Call",
    "BinOp",
    "UnaryOp",
    "Expr",
    "Term",
    "GroupTerm",
    "Response",
    "Formula",
    "expr_to_str",
]


@dataclass(frozen=True)
class Name:
    """A column of the data (backticks already stripped)."""

    name: str


@dataclass(frozen=True)
class Num:
    """A numeric literal."""

    value: float


@dataclass(frozen=True)
class Call:
    """A function call such as ``log(x)``, ``I(x^2)`` or ``scale(age)``."""

    func: str
    args: tuple["Expr", ...]


@dataclass(frozen=True)
class BinOp:
    """Arithmetic inside a call: ``+ - * / ^`` and comparisons."""

    op: str
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class UnaryOp:
    """Unary minus or plus inside a call."""

    op: str
    operand: "Expr"


Expr = Union[Name, Num, Call, BinOp, UnaryOp]

_PRECEDENCE = {"==": 1, "!=": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "+": 2, "-": 2, "*": 3, "/": 3, "^": 5}


def _quote(name: str) -> str:
    """Backtick-quote a column name that the tokenizer would not read as one name."""
    plain = (
        name
        and name != "."
        and (name[0] in "_." or name[0].isalpha())
        and not (name[0] == "." and name[1:2].isdigit())
        and all(c in "_." or c.isalnum() for c in name)
    )
    return name if plain else "`" + name + "`"


def expr_to_str(e: Expr, parent: int = 0) -> str:
    """Render an expression back to formula text (used for column names and messages)."""
    if isinstance(e, Name):
        return _quote(e.name)
    if isinstance(e, Num):
        v = e.value
        return str(int(v)) if float(v).is_integer() else repr(v)
    if isinstance(e, Call):
        return f"{e.func}({', '.join(expr_to_str(a) for a in e.args)})"
    if isinstance(e, UnaryOp):
        return f"{e.op}{expr_to_str(e.operand, 4)}"
    if isinstance(e, BinOp):
        p = _PRECEDENCE[e.op]
        s = f"{expr_to_str(e.left, p)}{e.op}{expr_to_str(e.right, p + 1)}"
        return f"({s})" if p < parent else s
    raise TypeError(f"not an expression: {e!r}")


@dataclass(frozen=True)
class Term:
    """An interaction of variables; ``Term(())`` is the intercept.

    Equality ignores the order of the factors (``a:b`` is ``b:a``).
    """

    factors: tuple[Expr, ...]

    def __eq__(self, other: object) -> bool:  # order-free equality
        return isinstance(other, Term) and frozenset(self.factors) == frozenset(other.factors)

    def __hash__(self) -> int:
        return hash(frozenset(self.factors))

    @property
    def is_intercept(self) -> bool:
        return len(self.factors) == 0

    @property
    def label(self) -> str:
        return "Intercept" if self.is_intercept else ":".join(expr_to_str(f) for f in self.factors)


@dataclass(frozen=True)
class GroupTerm:
    """A random-effect term ``(expr | factor)``.

    Attributes
    ----------
    terms
        The varying coefficients; the intercept, when present, is ``Term(())`` and comes first.
    factor
        Names of the grouping columns; more than one means their interaction (``a:b``).
    correlated
        ``False`` for ``||``: independent effects, no correlation parameters.
    """

    terms: tuple[Term, ...]
    factor: tuple[str, ...]
    correlated: bool = True

    @property
    def factor_label(self) -> str:
        return ":".join(self.factor)

    @property
    def has_intercept(self) -> bool:
        return any(t.is_intercept for t in self.terms)

    def __str__(self) -> str:
        lhs = " + ".join(t.label if not t.is_intercept else "1" for t in self.terms)
        if not self.has_intercept:
            lhs = "0 + " + lhs
        bar = "|" if self.correlated else "||"
        return f"({lhs} {bar} {self.factor_label})"


@dataclass(frozen=True)
class Response:
    """Left-hand side: ``y``, ``cbind(successes, failures)`` or ``successes | trials(n)``."""

    expr: Expr
    kind: str = "single"  # "single" | "cbind" | "trials"
    second: Expr | None = None  # failures (cbind) or trials (trials)

    @property
    def label(self) -> str:
        if self.kind == "cbind":
            return f"cbind({expr_to_str(self.expr)}, {expr_to_str(self.second)})"
        if self.kind == "trials":
            return f"{expr_to_str(self.expr)} | trials({expr_to_str(self.second)})"
        return expr_to_str(self.expr)


@dataclass(frozen=True)
class Formula:
    """The expanded model formula.

    Attributes
    ----------
    text
        The formula as the user wrote it.
    response
        The left-hand side, or ``None`` for a one-sided formula.
    intercept
        Whether the fixed part has an intercept.
    terms
        Fixed terms other than the intercept, ordered as R orders them (by degree, then appearance).
    offsets
        Expressions inside ``offset()``.
    groups
        Random-effect terms, after expanding ``a/b`` and ``||``.
    """

    text: str
    response: Response | None
    intercept: bool
    terms: tuple[Term, ...]
    offsets: tuple[Expr, ...] = ()
    groups: tuple[GroupTerm, ...] = field(default=())

    @property
    def fixed_label(self) -> str:
        parts = ["1" if self.intercept else "0"] + [t.label for t in self.terms]
        parts += [f"offset({expr_to_str(o)})" for o in self.offsets]
        return " + ".join(parts)

    def __str__(self) -> str:
        rhs = " + ".join([self.fixed_label] + [str(g) for g in self.groups])
        lhs = self.response.label + " " if self.response else ""
        return f"{lhs}~ {rhs}"
