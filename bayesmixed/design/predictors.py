"""The designs of a model with several linear predictors: one :class:`~bayesmixed.design.Design` per predicted
parameter (brms's distributional regression, the categorical family's one predictor per category).

:func:`build_model_design` builds the mean's design (or, for ``categorical``, the first category's) and puts the
others in its ``dpars``; every design is built on the same rows (a row with a missing value in any formula's
columns is dropped from all of them), so that row ``i`` of each predictor is the same observation.
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pandas as pd

from .. import naming as N
from ..errors import DataError
from ..formula.ast import Formula
from ..formula.bf import BrmsFormula
from ..formula.parser import parse_formula
from .design import Design, build_design, used_columns

__all__ = ["build_model_design", "relabel"]


def relabel(design: Design, dpar: str) -> Design:
    """``design`` as the predictor of ``dpar``: its random-effect terms relabelled ``<factor>__<dpar>``."""
    blocks = tuple(dataclasses.replace(b, label=N.dpar_label(b.label, dpar)) for b in design.blocks)
    enc = dataclasses.replace(design.encoding, block_labels=tuple(b.label for b in blocks))
    return dataclasses.replace(design, blocks=blocks, encoding=enc, dpar=dpar)


def _check_dpar_names(bf: BrmsFormula, fam, n_categories: int | None) -> None:
    allowed = fam.predictable(n_categories)
    for name, _ in bf.dpars:
        if name not in allowed:
            what = (f"its parameters that bf() can predict are {', '.join(allowed)}" if allowed
                    else "it has no parameter besides the mean")
            raise DataError(f"bf() gives a formula for {name!r}, but family {fam.name!r} has no such parameter: {what}")


def build_model_design(
    formula: str | Formula | BrmsFormula,
    data: pd.DataFrame,
    family,
    *,
    missing: str = "drop",
    weights: Any = None,
    contrasts: dict[str, Any] | None = None,
    rank_deficient: str = "drop",
) -> Design:
    """The :class:`~bayesmixed.design.Design` of a model: the first predictor's, with the others in ``dpars``.

    Parameters
    ----------
    formula
        Formula text, a parsed formula, or a :func:`~bayesmixed.formula.bf.bf` object with formulas for other
        parameters of the family.
    data
        The user's data frame; never modified.
    family
        The :class:`~bayesmixed.families.Family`: its response kind, whether thresholds replace the intercept,
        which parameters may be predicted and their predictors' intercepts.
    missing, weights, contrasts, rank_deficient
        As :func:`~bayesmixed.design.build_design`.
    """
    bf = formula if isinstance(formula, BrmsFormula) else None
    main = parse_formula(bf.formula) if bf is not None else formula
    kw = dict(weights=weights, contrasts=contrasts, rank_deficient=rank_deficient, response_kind=fam_kind(family))
    if bf is None and not fam_kind(family) == "categories":
        return build_design(main, data, missing, **kw)
    _refuse_smooths(main, bf, family)
    dpars = dict(bf.dpars) if bf is not None else {}
    dropped: tuple[int, tuple[str, ...]] | None = None
    if dpars and missing == "drop":
        data, dropped = _complete_rows(bf, data)
    first = build_design(main, data, missing, drop_intercept=not family.intercept_in_predictor, **kw)
    K = len(first.response_levels) if first.response_levels is not None else None
    if bf is not None:
        _check_dpar_names(bf, family, K)
    names = family.predictor_names(K)
    preds: list[Design] = []
    for name in names:  # the predictors every model of the family has (mu; mu2 ... muK)
        if name in dpars:
            preds.append(_dpar_design(bf, name, data, family, kw))
        else:
            preds.append(relabel(first, name) if name != N.MU else first)
    for name in dpars:  # the other parameters bf() predicts, in the family's order
        if name not in names:
            preds.append(_dpar_design(bf, name, data, family, kw))
    order = list(names) + [p.name for p in family.aux]
    preds = sorted(preds, key=lambda d: order.index(d.dpar))
    head = preds[0]
    if dropped is not None:  # rows dropped for missing values in any formula's columns
        head = dataclasses.replace(head, n_dropped=dropped[0], dropped_columns=dropped[1])
    for d in preds[1:]:
        if not d.rows.equals(head.rows):  # pragma: no cover - built on the same complete rows
            raise DataError(f"the formula of {d.dpar!r} keeps other rows than the model formula")
    frame = _union_frame(preds)
    return dataclasses.replace(head, dpars=tuple(preds[1:]), frame=frame)


def _refuse_smooths(main, bf: BrmsFormula | None, family) -> None:
    """Smooth terms, GPs and residual correlation structures are not combined with several linear predictors
    (``bf()`` formulas for other parameters; the ordinal and categorical families) yet: refused before any
    design is built."""
    forms = [("the model formula", parse_formula(main) if isinstance(main, str) else main)]
    if bf is not None:
        forms += [(f"the formula of {name!r}", parse_formula(bf.dpar_formula(name))) for name, _ in bf.dpars]
    for where, f in forms:
        parts = [*f.smooths, *f.autocor]
        if parts:
            from ..formula.ast import expr_to_str

            what = (f"family {family.name!r}" if fam_kind(family) == "categories"
                    else "bf() formulas for other parameters")
            raise DataError(
                f"{where} has {expr_to_str(parts[0])}: smooth terms (s(), t2(), gp()) and residual correlation "
                f"structures (ar(), cosy()) are not supported together with {what} yet; use a fixed spline or "
                "polynomial instead (ns(x, 4), poly(x, 3)), or a random effect of the group (1 | g)"
            )


def fam_kind(family) -> str:
    return getattr(family, "response_kind", "numeric")


def _dpar_design(bf: BrmsFormula, name: str, data: pd.DataFrame, family, kw: dict) -> Design:
    """The design of parameter ``name``'s formula (the model's response on its left), its terms labelled."""
    aux = {p.name: p for p in family.aux}
    no_intercept = name in aux and not aux[name].intercept
    d = build_design(parse_formula(bf.dpar_formula(name)), data, "raise", drop_intercept=no_intercept, dpar=name,
                     **kw)
    if not d.x_names and not d.blocks:
        raise DataError(
            f"the formula of {name!r} ({dict(bf.dpars)[name]!r}) leaves it no terms"
            + (f": {name}'s predictor has no intercept (it is fixed by the thresholds' scale)" if no_intercept else "")
        )
    return d


def _complete_rows(bf: BrmsFormula, data: pd.DataFrame) -> tuple[pd.DataFrame, tuple[int, tuple[str, ...]] | None]:
    """``data`` without the rows that miss a value in a column any of ``bf``'s formulas uses (a warning says
    how many, as :func:`~bayesmixed.design.build_design` does for one formula), and (number dropped, columns
    with missing values), None when none was dropped."""
    if isinstance(data, dict):
        data = pd.DataFrame(data)
    if not isinstance(data, pd.DataFrame):
        raise DataError(f"data must be a pandas DataFrame (or a dict of columns), got {type(data).__name__}")
    cols: dict[str, str] = {}
    for text in [bf.formula] + [bf.dpar_formula(k) for k, _ in bf.dpars]:
        for c, where in used_columns(parse_formula(text), data).items():
            cols.setdefault(c, where)
    present = [c for c in cols if c in data.columns]
    na = data[present].isna()
    bad = na.any(axis=1)
    if not bad.any() or bad.all():
        return data, None  # nothing to drop, or build_design says that nothing is left
    counts = na.sum()
    detail = ", ".join(f"{c!r} ({int(counts[c])})" for c in present if counts[c] > 0)
    warnings.warn(f"dropped {int(bad.sum())} of {len(data)} rows with missing values in {detail}", UserWarning,
                  stacklevel=4)
    return data.loc[~bad], (int(bad.sum()), tuple(c for c in present if counts[c] > 0))


def _union_frame(preds: list[Design]) -> pd.DataFrame | None:
    """The model frame with the columns of every predictor's formula (interpretation needs them all)."""
    frames = [d.frame for d in preds if d.frame is not None]
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        extra = [c for c in f.columns if c not in out.columns]
        if extra:
            out = pd.concat([out, f[extra]], axis=1)
    return out
