"""``ModelSpec``: the frozen, backend-free description of a model (family, link, priors, parameterisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .design import Design, check_estimable
from .errors import BayesMixedError
from .families import Family, check_response, get_family
from .priors import Prior, resolve_priors

__all__ = ["ModelSpec", "make_spec", "PARAMETERIZATIONS"]

PARAMETERIZATIONS = ("noncentered", "centered", "marginal")


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
    """

    formula: str
    family: str
    link: str
    priors: tuple[tuple[str, Prior], ...]
    parameterization: tuple[tuple[str, str], ...]
    parameterization_reason: tuple[tuple[str, str], ...] = ()

    @property
    def family_obj(self) -> Family:
        return get_family(self.family, self.link)[0]

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

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, for reproducibility (TOML/JSON friendly)."""
        return {
            "formula": self.formula,
            "family": self.family,
            "link": self.link,
            "priors": {k: p.to_dict() for k, p in self.priors},
            "parameterization": dict(self.parameterization),
        }


def _normalise_param(v: str) -> str:
    key = str(v).lower().replace("-", "").replace("_", "").replace(" ", "")
    key = {
        "centred": "centered",
        "noncentred": "noncentered",
        "nc": "noncentered",
        "c": "centered",
        "marginalised": "marginal",
        "marginalized": "marginal",
    }.get(key, key)
    if key not in PARAMETERIZATIONS + ("auto",):
        raise BayesMixedError(
            f"unknown parameterization {v!r}; use 'auto' (default), 'marginal', 'noncentered' or 'centered'"
        )
    return key


def make_spec(
    design: Design,
    family: str = "gaussian",
    link: str | None = None,
    priors: dict[str, Any] | None = None,
    parameterization: str | dict[str, str] = "auto",
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
    identity-link model) ``"marginal"``.
    """
    from .marginal import closed_form_term
    from .policy import gaussian_choice

    fam, link = get_family(family, link)
    check_estimable(design)
    check_response(fam, design.y, design.trials, design.response_label, design.rows, design.response_levels)
    resolved = resolve_priors(design, fam.name, link, priors)
    labels = [b.label for b in design.blocks]
    can_marginalise = fam.name == "gaussian" and link == "identity" and bool(labels)
    reason: dict[str, str] = {}
    if isinstance(parameterization, str):
        choice = _normalise_param(parameterization)
        if choice == "auto":
            gchoice = gaussian_choice(design, resolved) if can_marginalise else None
            if gchoice is not None and gchoice.kind == "marginal":
                choice = "marginal"
                reason = {lab: f"auto: {gchoice.reason}" for lab in labels}
            else:
                from .autoparam import choose

                param, why = choose(design, fam.name, link)
                reason = {lab: f"auto: {why[lab]}" for lab in labels}
                if gchoice is not None and gchoice.kind == "partial":
                    # the term with the most coefficients leaves the sampler: it is integrated out given the
                    # others (O(n) per gradient), which removes the most dimensions and, with crossed factors,
                    # the ridge between its effects and the others'
                    param[gchoice.term] = "marginal"
                    reason[gchoice.term] = f"auto: {gchoice.reason}"
                return ModelSpec(
                    formula=design.formula.text, family=fam.name, link=link, priors=tuple(resolved.items()),
                    parameterization=tuple(param.items()), parameterization_reason=tuple(reason.items()),
                )
        if choice == "marginal" and not can_marginalise:
            raise BayesMixedError(
                "parameterization='marginal' integrates the random effects out exactly, which needs "
                f"family='gaussian' with the identity link and at least one random term (got {fam.name!r}, {link!r})"
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
        marg = [lab for lab, v in param.items() if v == "marginal"]
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
        formula=design.formula.text,
        family=fam.name,
        link=link,
        priors=tuple(resolved.items()),
        parameterization=tuple(param.items()),
        parameterization_reason=tuple(reason.items()),
    )
