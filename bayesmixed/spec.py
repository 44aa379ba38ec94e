"""``ModelSpec``: the frozen, backend-free description of a model (family, link, priors, parameterisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .design import Design, check_estimable, check_levels_vs_rows
from .errors import BayesMixedError
from .families import Family, family_names, get_family
from .priors import Prior, resolve_priors

__all__ = ["ModelSpec", "make_spec", "PARAMETERIZATIONS"]

PARAMETERIZATIONS = ("noncentered", "centered", "marginal", "quadrature")


@dataclass(frozen=True)
class ModelSpec:
    """Everything about a model except the data.

    Attributes
    ----------
    formula
        Formula text.
    family, link
        Response family and link.
    priors
        ``(name, Prior)`` pairs for every parameter (defaults already filled in).
    parameterization
        ``(term label, "noncentered" | "centered" | "marginal")`` for every random-effect term.
    parameterization_reason
        ``(term label, why)``: how ``"auto"`` chose (empty when the user chose). Not part of
        :meth:`to_dict`: it explains the model, it does not define it.
    quadrature_nodes
        Gauss–Hermite nodes of a term integrated out by quadrature (0 when none is).
    dpars
        ``(parameter, right-hand side)``: the formulas of ``bf()`` for the family's other parameters
        (distributional regression); empty for one linear predictor.
    """

    formula: str
    family: str
    link: str
    priors: tuple[tuple[str, Prior], ...]
    parameterization: tuple[tuple[str, str], ...]
    parameterization_reason: tuple[tuple[str, str], ...] = ()
    quadrature_nodes: int = 0
    dpars: tuple[tuple[str, str], ...] = ()

    @property
    def family_obj(self) -> Family:
        """The :class:`~bayesmixed.families.Family` object, bound to the link."""
        return get_family(self.family, self.link)

    def prior(self, name: str) -> Prior:
        return dict(self.priors)[name]

    def prior_dict(self) -> dict[str, Prior]:
        return dict(self.priors)

    def param_of(self, label: str) -> str:
        return dict(self.parameterization)[label]

    @property
    def marginal(self) -> bool:
        """Whether every term's random effects are integrated out (Gaussian identity-link models only)."""
        return bool(self.parameterization) and all(v == "marginal" for _, v in self.parameterization)

    @property
    def marginal_term(self) -> str | None:
        """The label of the one term integrated out in a partly marginal model (the other terms' effects and
        the fixed effects are sampled), or None."""
        labs = [lab for lab, v in self.parameterization if v == "marginal"]
        return labs[0] if len(labs) == 1 and not self.marginal else None

    @property
    def quadrature_term(self) -> str | None:
        """The label of the term integrated out by adaptive Gauss–Hermite quadrature (a GLMM's term of one
        coefficient per level, :mod:`bayesmixed.quadrature`), or None."""
        labs = [lab for lab, v in self.parameterization if v == "quadrature"]
        return labs[0] if labs else None

    @property
    def integrated(self) -> bool:
        """Whether no random effect is sampled: every term is integrated out exactly (marginal) or, in a GLMM of
        one term, by quadrature."""
        return self.marginal or (len(self.parameterization) == 1 and self.quadrature_term is not None)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for reproducibility (TOML/JSON friendly)."""
        out = {
            "formula": self.formula,
            "family": self.family,
            "link": self.link,
            "priors": {k: p.to_dict() for k, p in self.priors},
            "parameterization": dict(self.parameterization),
        }
        if self.quadrature_nodes:
            out["quadrature_nodes"] = int(self.quadrature_nodes)
        if self.dpars:
            out["dpars"] = dict(self.dpars)
        return out

    @property
    def model_formula(self):
        """The formula as the model was given it: the text, or a :class:`~bayesmixed.formula.bf.BrmsFormula`
        when other parameters have formulas of their own."""
        if not self.dpars:
            return self.formula
        from .formula.bf import BrmsFormula

        return BrmsFormula(self.formula, self.dpars)


_EXACT_REFUSAL = (
    "{what}: integrating random effects out (exactly, or by quadrature) needs the plain likelihood, but the "
    "response has {terms}; use 'auto' (it samples every term centred or non-centred then), 'centered' or "
    "'noncentered'"
)


def _terms_text(design: Design) -> str:
    """The response terms a design has, in words (``weights() and cens()``)."""
    rt = design.response_terms
    kinds = [("weights()", rt.weights), ("cens()", rt.cens), ("trunc()", rt.lb)]
    return " and ".join(k for k, v in kinds if v is not None)


def _check_response_terms(design: Design, fam: Family) -> None:
    """Censoring and truncation need the family's CDF; a censored or truncated response must lie in the
    family's support like any other (checked with the response)."""
    rt = design.response_terms
    if rt is None:
        return
    r = design.formula.response
    if design.autocor is not None:
        raise BayesMixedError(
            f"{design.autocor.text} models the residuals jointly, which the response terms of {r.label!r} "
            "(weights(), cens(), trunc(): one density per row) do not combine with; drop one of them"
        )
    used = [k for k, on in (("cens()", rt.cens is not None), ("trunc()", rt.lb is not None)) if on]
    if used and fam.response_kind == "categories":
        raise BayesMixedError(
            f"{' and '.join(used)} in the response {r.label!r}: a response of categories (family {fam.name!r}) is not "
            "censored or truncated by value; drop them (to leave out categories, drop their rows or merge them "
            "with a neighbouring category); weights() is allowed"
        )
    if used and not fam.has_cdf:
        raise BayesMixedError(
            f"family {fam.name!r} has no cumulative distribution function here, which {' and '.join(used)} in the "
            f"response {r.label!r} need; families with one: "
            + ", ".join(n for n in family_names() if get_family(n).has_cdf)
        )


def _normalise_param(v: str) -> str:
    key = str(v).lower().replace("-", "").replace("_", "").replace(" ", "")
    key = {
        "centred": "centered",
        "noncentred": "noncentered",
        "nc": "noncentered",
        "c": "centered",
        "marginalised": "marginal",
        "marginalized": "marginal",
        "agq": "quadrature",
        "aghq": "quadrature",
    }.get(key, key)
    if key not in PARAMETERIZATIONS + ("auto",):
        raise BayesMixedError(
            f"unknown parameterization {v!r}; use 'auto' (default), 'marginal', 'noncentered', 'centered' or "
            "(per term, in a GLMM) 'quadrature'"
        )
    return key


def make_spec(
    design: Design,
    family: str = "gaussian",
    link: str | None = None,
    priors: dict[str, Any] | None = None,
    parameterization: str | dict[str, str] = "auto",
    dpars: tuple[tuple[str, str], ...] | None = None,
) -> ModelSpec:
    """Check the response against the family, resolve priors and parameterisation.

    ``"auto"`` is decided by :mod:`bayesmixed.policy`: ``"marginal"`` (random effects integrated out exactly)
    for Gaussian identity-link models with one term of at most two coefficients (level by level, at any number
    of levels) or whose terms are integrated out jointly by one sparse Cholesky factor per gradient at moderate
    cost (nested terms always; crossed ones while the fill-in is small). For a larger crossed Gaussian model it
    integrates out one term (the one with the most coefficients among those of at most two per level)
    conditionally on the others, and samples the others; elsewhere it chooses per term between ``"centered"`` and ``"noncentered"`` from a pilot estimate of how
    strongly each level's data inform its effect (:mod:`bayesmixed.autoparam`). ``spec.parameterization_reason``
    says why. ``"marginal"`` as a string applies to the whole model; a dict chooses per term between
    ``"centered"``, ``"noncentered"`` and (for one term of at most two coefficients, in a Gaussian
    identity-link model) ``"marginal"``. A model with several linear predictors (``design.dpars``; ``dpars``
    are the formulas of ``bf()``, recorded in the spec) or a family without a GLM pilot samples every term
    (:func:`bayesmixed.policy.sampled_only`).
    """
    from .marginal import closed_form_term
    from .policy import choose, quadrature_nodes, quadrature_refusal

    from .policy import sampled_only

    fam = get_family(family, link)
    link = fam.link.name
    ac = design.autocor
    if ac is not None and not fam.linear_gaussian:
        raise BayesMixedError(
            f"{ac.text}: residual correlation structures are for Gaussian models with the identity link (got "
            f"family {fam.name!r}, link {link!r}); for correlated non-Gaussian responses use a random effect of "
            "the group instead, e.g. (1 | g)"
        )
    if ac is not None and design.dpars:
        raise BayesMixedError(
            f"{ac.text}: a residual correlation structure with a predicted "
            f"{', '.join(d.dpar for d in design.dpars)} (bf()) is not supported; drop the other parameters' "
            "formulas, or model the correlation with a random effect of the group, e.g. (1 | g)"
        )
    for d in design.predictors:
        check_estimable(d)
    check_levels_vs_rows(design, fam.name, isinstance(priors, dict) and "sigma" in priors)
    fam.check_response(design.y, design.trials, design.response_label, design.rows, design.response_levels,
                       ordered=design.response_ordered)
    _check_response_terms(design, fam)
    resolved = resolve_priors(design, fam.name, link, priors)
    labels = [b.label for b in design.all_blocks]
    all_sampled = sampled_only(design, fam)
    can_marginalise = fam.linear_gaussian and bool(labels) and all_sampled is None
    reason: dict[str, str] = {}
    nodes = 0
    formula_text = design.formula.text
    dpar_formulas = tuple(dpars) if dpars else ()
    if isinstance(parameterization, str):
        choice = _normalise_param(parameterization)
        if choice == "auto":
            decision = choose(design, fam, link, resolved)
            return ModelSpec(
                formula=formula_text, family=fam.name, link=link, priors=tuple(resolved.items()),
                parameterization=tuple(decision.parameterization.items()),
                parameterization_reason=tuple((k, f"auto: {v}") for k, v in decision.reason.items()),
                quadrature_nodes=decision.quadrature_nodes, dpars=dpar_formulas,
            )
        if choice == "quadrature":
            raise BayesMixedError(
                "'quadrature' integrates one term out and is given per term: "
                f"parameterization={{{labels[0] if labels else 'g'!r}: 'quadrature'}} (the others 'centered' or "
                "'noncentered')"
            )
        if choice == "marginal" and design.response_terms is not None:
            raise BayesMixedError(_EXACT_REFUSAL.format(what="parameterization='marginal'", terms=_terms_text(design)))
        if choice == "marginal" and ac is not None and ac.kind == "ar":
            raise BayesMixedError(
                f"parameterization='marginal' is not available with {ac.text}: the AR(1) residuals are evaluated "
                "given the random effects, which are sampled; use 'auto', 'noncentered' or 'centered'"
            )
        if choice == "marginal" and not can_marginalise:
            raise BayesMixedError(
                "parameterization='marginal' integrates the random effects out exactly, which needs "
                f"family='gaussian' with the identity link, at least one random term and a constant sigma (got "
                f"{fam.name!r}, {link!r}{'; ' + all_sampled if all_sampled else ''})"
            )
        param = {lab: choice for lab in labels}
    elif not isinstance(parameterization, dict):
        raise BayesMixedError(
            f"parameterization must be a string ('auto', 'marginal', 'noncentered', 'centered') or a dict by "
            f"term label such as {{{labels[0] if labels else 'g'!r}: 'centered'}}, got {type(parameterization).__name__}"
        )
    else:
        unknown = [k for k in parameterization if k not in labels]
        if unknown:
            raise BayesMixedError(
                f"parameterization given for {', '.join(map(repr, unknown))}, which is not a random-effect term; "
                f"terms: {', '.join(map(repr, labels))}"
            )
        param = {lab: _normalise_param(parameterization.get(lab, "noncentered")) for lab in labels}
        if any(v == "auto" for v in param.values()):
            raise BayesMixedError(
                "per-term parameterizations are 'centered', 'noncentered' or 'marginal' (one term); "
                "'auto' applies to the whole model: pass the string, not a dict"
            )
        integrated = [lab for lab, v in param.items() if v in ("quadrature", "marginal")]
        if integrated and design.response_terms is not None:
            raise BayesMixedError(_EXACT_REFUSAL.format(what=f"parameterization marks {integrated[0]!r} "
                                                        f"{param[integrated[0]]!r}", terms=_terms_text(design)))
        quad = [lab for lab, v in param.items() if v == "quadrature"]
        if quad and all_sampled is not None:
            raise BayesMixedError(f"parameterization marks {', '.join(map(repr, quad))} 'quadrature', but {all_sampled}: "
                                  "mark it 'centered' or 'noncentered'")
        if quad:
            blk = {b.label: b for b in design.blocks}
            why = "more than one term" if len(quad) > 1 else quadrature_refusal(blk[quad[0]], fam, link)
            if why:
                raise BayesMixedError(
                    f"parameterization marks {', '.join(map(repr, quad))} 'quadrature': {why}. One term of one "
                    "coefficient per level can be integrated out by quadrature, in a model whose log density is "
                    "concave in the linear predictor (Poisson, binomial, Bernoulli; Gaussian models integrate "
                    "every term out exactly with 'marginal')"
                )
            nodes = quadrature_nodes(design, fam, link, blk[quad[0]])
        marg = [lab for lab, v in param.items() if v == "marginal"]
        if marg and ac is not None and ac.kind == "ar":
            raise BayesMixedError(
                f"parameterization marks {', '.join(map(repr, marg))} 'marginal', which is not available with "
                f"{ac.text}: the AR(1) residuals are evaluated given the random effects; use 'centered' or 'noncentered'"
            )
        if marg and len(marg) < len(labels):
            blk = {b.label: b for b in design.blocks}
            if not can_marginalise or len(marg) > 1 or not closed_form_term(blk[marg[0]]):
                raise BayesMixedError(
                    f"parameterization marks {', '.join(map(repr, marg))} 'marginal' in a dict: one term, of at most "
                    "two coefficients per level, can be integrated out given the others, in a Gaussian model with the "
                    f"identity link (got family {fam.name!r}, link {link!r}); mark at most one such term 'marginal', "
                    "or pass parameterization='marginal' to integrate every term out"
                )
        elif marg and not can_marginalise:
            raise BayesMixedError(
                "parameterization='marginal' integrates the random effects out exactly, which needs "
                f"family='gaussian' with the identity link and at least one random term (got {fam.name!r}, {link!r})"
            )
    return ModelSpec(
        formula=formula_text,
        family=fam.name,
        link=link,
        priors=tuple(resolved.items()),
        parameterization=tuple(param.items()),
        parameterization_reason=tuple(reason.items()),
        quadrature_nodes=nodes,
        dpars=dpar_formulas,
    )
