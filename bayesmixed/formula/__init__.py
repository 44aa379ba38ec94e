"""lme4-style formulas: ``tokenize`` → ``parse`` → ``expand``, data-free."""

from __future__ import annotations

from .ast import BinOp, Call, Expr, Formula, GroupTerm, Name, Num, Response, Str, Term, UnaryOp, expr_to_str
from .bf import BrmsFormula, bf
from .parser import parse, parse_formula, tokenize

__all__ = [
    "BinOp",
    "BrmsFormula",
    "Call",
    "Expr",
    "Formula",
    "GroupTerm",
    "Name",
    "Num",
    "Response",
    "Str",
    "Term",
    "UnaryOp",
    "bf",
    "expr_to_str",
    "parse",
    "parse_formula",
    "tokenize",
]
