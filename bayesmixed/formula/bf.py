"""``bf()``: a model formula with formulas for the family's other parameters (brms's distributional regression).

``bf("y ~ x + (1 | g)", sigma="~ x + (1 | g)")`` (or brms's positional form ``bf("y ~ x", "sigma ~ x")``) gives
the residual SD its own linear predictor on the log scale, random effects included. Which parameters may be
predicted depends on the family (its auxiliary parameters: ``sigma``, ``shape``, ``phi``, ``nu``, ``disc``, ...;
for ``categorical`` each non-reference category's ``mu2``, ``mu3``, ...); :class:`bayesmixed.Model` checks that.
Data-free, like the rest of :mod:`bayesmixed.formula`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import FormulaError
from .parser import parse_formula

__all__ = ["BrmsFormula", "bf"]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class BrmsFormula:
    """A model formula and one right-hand side per predicted parameter.

    Attributes
    ----------
    formula
        The model formula, ``"y ~ x + (1 | g)"``.
    dpars
        ``(name, right-hand side)`` pairs, in the order given: ``(("sigma", "x + (1 | g)"),)``.
    """

    formula: str
    dpars: tuple[tuple[str, str], ...] = ()

    @property
    def lhs(self) -> str:
        """The response side of the model formula, as written."""
        return self.formula.split("~", 1)[0].strip()

    def dpar_formula(self, name: str) -> str:
        """The formula of parameter ``name`` with the model's response on its left (``y ~ x + (1 | g)``), the form
        the design stage builds from."""
        return f"{self.lhs} ~ {dict(self.dpars)[name]}"

    def __str__(self) -> str:
        return "; ".join([self.formula] + [f"{k} ~ {v}" for k, v in self.dpars])


def _rhs(name: str, text: str) -> str:
    """The right-hand side of a parameter's formula: ``"~ x"``, ``"sigma ~ x"`` or ``"x"``."""
    if not isinstance(text, str):
        raise FormulaError(
            f"the formula of {name!r} must be a string such as '~ x + (1 | g)', got {type(text).__name__} "
            "(bayesmixed does not fix parameters to constants in bf(): leave the parameter out to estimate it)"
        )
    if "~" in text:
        lhs, rhs = text.split("~", 1)
        if lhs.strip() and lhs.strip() != name:
            raise FormulaError(
                f"the formula given for {name!r} has {lhs.strip()!r} on its left; write '~ {rhs.strip()}' or "
                f"'{name} ~ {rhs.strip()}'"
            )
    else:
        rhs = text
    rhs = rhs.strip()
    if not rhs:
        raise FormulaError(f"the formula of {name!r} has no right-hand side; write e.g. '~ 1' or '~ x + (1 | g)'")
    parse_formula(f"{name} ~ {rhs}")  # a FormulaError points at the problem
    return rhs


def bf(formula: str, *formulas: str, **dpars: str) -> BrmsFormula:
    """A model formula with formulas for other parameters of the family, as brms's ``bf()``.

    Parameters
    ----------
    formula
        The model formula, ``"y ~ x + (1 | g)"``.
    *formulas
        Parameter formulas with the parameter on the left, as brms writes them: ``"sigma ~ x + (1 | g)"``.
    **dpars
        The same by keyword: ``sigma="~ x + (1 | g)"``.

    Returns
    -------
    BrmsFormula
        Pass it to :class:`bayesmixed.Model` in place of the formula text.

    Examples
    --------
    >>> import bayesmixed as bm
    >>> f = bm.bf("y ~ x + (1 | g)", sigma="~ x + (1 | g)")
    >>> f.dpars
    (('sigma', 'x + (1 | g)'),)
    >>> bm.bf("y ~ x", "sigma ~ x").dpar_formula("sigma")
    'y ~ x'
    """
    if not isinstance(formula, str) or "~" not in formula:
        raise FormulaError(f"bf() takes the model formula first, e.g. bf('y ~ x + (1 | g)', sigma='~ x'); got {formula!r}")
    parse_formula(formula)
    out: dict[str, str] = {}
    for text in formulas:
        if not isinstance(text, str) or "~" not in text or not text.split("~", 1)[0].strip():
            raise FormulaError(
                f"bf()'s further formulas name their parameter on the left, e.g. 'sigma ~ x'; got {text!r}"
            )
        name = text.split("~", 1)[0].strip()
        if name in out:
            raise FormulaError(f"bf() has two formulas for {name!r}")
        out[name] = text
    for name, text in dpars.items():
        if name in out:
            raise FormulaError(f"bf() has two formulas for {name!r}")
        out[name] = text
    for name in out:
        if not _NAME.match(name):
            raise FormulaError(f"{name!r} is not a parameter name (sigma, shape, phi, disc, mu2, ...)")
        if name == "mu":
            raise FormulaError("the mean's formula is bf()'s first argument; 'mu' cannot be given again")
    return BrmsFormula(formula, tuple((name, _rhs(name, text)) for name, text in out.items()))
