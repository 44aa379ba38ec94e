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
    "Str",
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
class Str:
    """A string literal (an argument such as the level in ``dummy(Sex, "Female")``)."""

    value: str


@dataclass(frozen=True)
class Call:
    """A function call such as ``log(x)``, ``I(x^2)``, ``scale(age)`` or ``poly(x, 2, raw = TRUE)``.

    ``func`` keeps a namespace prefix as written (``splines::ns``); ``kwargs`` are the named arguments in the
    order written.
    """

    func: str
    args: tuple["Expr", ...]
    kwargs: tuple[tuple[str, "Expr"], ...] = ()


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


Expr = Union[Name, Num, Str, Call, BinOp, UnaryOp]

_PRECEDENCE = {"==": 1, "!=": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "+": 2, "-": 2, "*": 3, "/": 3, "^": 5}
#: operators that R's deparse() writes with a space on either side (``x + 1`` but ``x/2``, ``x^2``)
_SPACED = {"==", "!=", "<", ">", "<=", ">=", "+", "-", "*"}


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


def _num_str(v: float) -> str:
    """A number as R's ``deparse()`` writes it: up to 15 significant digits, in scientific notation when
    that is shorter (``1e+05``, ``1e-04``, but ``120000`` and ``0.001``)."""
    v = float(v)
    if v == 0:
        return "0"
    fixed = f"{v:.15g}"
    if "e" in fixed:  # Python switched to scientific: write it out in fixed notation
        fixed = _fixed(v)
    mant, exp = f"{v:.14e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    sci = f"{mant}e{exp[0]}{abs(int(exp)):02d}"
    return sci if len(sci) < len(fixed) else fixed


def _fixed(v: float) -> str:
    """``v`` in fixed notation with 15 significant digits (no exponent)."""
    from decimal import Decimal

    d = Decimal(f"{v:.15g}")
    return format(d, "f")


def expr_to_str(e: Expr, parent: int = 0) -> str:
    """Render an expression as R's ``deparse()`` does, which is how R names model-matrix columns:
    ``log(x + 1)``, ``I(x^2)``, ``poly(x, 2, raw = TRUE)``."""
    if isinstance(e, Name):
        return _quote(e.name)
    if isinstance(e, Num):
        return _num_str(e.value)
    if isinstance(e, Str):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(e, Call):
        parts = [expr_to_str(a) for a in e.args] + [f"{_quote(k)} = {expr_to_str(v)}" for k, v in e.kwargs]
        return f"{e.func}({', '.join(parts)})"
    if isinstance(e, UnaryOp):
        return f"{e.op}{expr_to_str(e.operand, 4)}"
    if isinstance(e, BinOp):
        p = _PRECEDENCE[e.op]
        # R's ^ is right-associative: a^b^c is a^(b^c); the others are left-associative
        lp, rp = (p + 1, p) if e.op == "^" else (p, p + 1)
        op = f" {e.op} " if e.op in _SPACED else e.op
        s = f"{expr_to_str(e.left, lp)}{op}{expr_to_str(e.right, rp)}"
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
    level_order
        How the levels of an interaction of grouping columns are ordered: positions in ``factor``, the one
        whose levels vary slowest first. ``None`` (the order written, as R's ``a:b``) except for the inner
        terms of ``(1 | a/b)``: lme4 builds their factor as ``b:a``, whose levels run with the inner column
        outermost (``(1, 0)``). bayesmixed labels the term ``a:b`` as written but orders its levels as lme4
        does, so that level ``j`` is lme4's level ``j``. Not part of equality.
    """

    terms: tuple[Term, ...]
    factor: tuple[str, ...]
    correlated: bool = True
    level_order: tuple[int, ...] | None = field(default=None, compare=False)

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
    """Left-hand side: ``y``, ``cbind(successes, failures)`` or ``successes | trials(n)``, with brms's response
    terms after the bar: ``y | weights(w)``, ``y | cens(c)``, ``y | cens(c, y2)``, ``y | trunc(lb = 0, ub = 10)``,
    combined with ``+`` (``s | trials(n) + weights(w)``).

    Attributes
    ----------
    expr
        The response (successes for binomial responses).
    kind
        ``"single"``, ``"cbind"`` or ``"trials"``.
    second
        Failures (``cbind``) or trials (``trials``).
    weights
        ``weights(w)``: likelihood weights.
    cens, y2
        ``cens(c)`` / ``cens(c, y2)``: censoring indicator (brms's ``"left"``, ``"none"``, ``"right"``,
        ``"interval"`` or -1, 0, 1, 2) and the upper end of interval-censored rows.
    lb, ub
        ``trunc(lb = ..., ub = ...)``: truncation bounds (``None`` where not given: unbounded).
    """

    expr: Expr
    kind: str = "single"  # "single" | "cbind" | "trials"
    second: Expr | None = None  # failures (cbind) or trials (trials)
    weights: Expr | None = None
    cens: Expr | None = None
    y2: Expr | None = None
    lb: Expr | None = None
    ub: Expr | None = None

    @property
    def has_terms(self) -> bool:
        """Whether any of brms's ``weights()``, ``cens()`` or ``trunc()`` is given."""
        return any(v is not None for v in (self.weights, self.cens, self.lb, self.ub))

    @property
    def term_exprs(self) -> tuple[tuple[str, Expr], ...]:
        """``(role, expression)`` of every response term (``weights``, ``cens``, ``y2``, ``lb``, ``ub``) given."""
        return tuple((k, v) for k, v in (("weights", self.weights), ("cens", self.cens), ("y2", self.y2),
                                        ("lb", self.lb), ("ub", self.ub)) if v is not None)

    @property
    def label(self) -> str:
        if self.kind == "cbind":
            base = f"cbind({expr_to_str(self.expr)}, {expr_to_str(self.second)})"
        else:
            base = expr_to_str(self.expr)
        terms = []
        if self.kind == "trials":
            terms.append(f"trials({expr_to_str(self.second)})")
        if self.weights is not None:
            terms.append(f"weights({expr_to_str(self.weights)})")
        if self.cens is not None:
            terms.append(f"cens({expr_to_str(self.cens)}" + (f", {expr_to_str(self.y2)})" if self.y2 is not None else ")"))
        if self.lb is not None or self.ub is not None:
            bounds = [f"{k} = {expr_to_str(v)}" for k, v in (("lb", self.lb), ("ub", self.ub)) if v is not None]
            terms.append(f"trunc({', '.join(bounds)})")
        return base + (" | " + " + ".join(terms) if terms else "")

    @property
    def value_label(self) -> str:
        """The response without its response terms (``y``, ``cbind(s, f)``, ``s | trials(n)``)."""
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
    smooths
        Smooth terms as written: ``s(x)``, ``s(x, bs = "cr", k = 5)``, ``t2(x, z)``, ``gp(x)``
        (:mod:`bayesmixed.design.smooth` turns them into fixed columns and random-effect blocks).
    autocor
        Residual correlation structures as written: ``ar(time = t, gr = g)``, ``cosy(gr = g)``
        (:mod:`bayesmixed.design.autocor`).
    """

    text: str
    response: Response | None
    intercept: bool
    terms: tuple[Term, ...]
    offsets: tuple[Expr, ...] = ()
    groups: tuple[GroupTerm, ...] = field(default=())
    smooths: tuple[Expr, ...] = field(default=())
    autocor: tuple[Expr, ...] = field(default=())

    @property
    def fixed_label(self) -> str:
        parts = ["1" if self.intercept else "0"] + [t.label for t in self.terms]
        parts += [expr_to_str(s) for s in self.smooths] + [expr_to_str(a) for a in self.autocor]
        parts += [f"offset({expr_to_str(o)})" for o in self.offsets]
        return " + ".join(parts)

    def __str__(self) -> str:
        rhs = " + ".join([self.fixed_label] + [str(g) for g in self.groups])
        lhs = self.response.label + " " if self.response else ""
        return f"{lhs}~ {rhs}"
