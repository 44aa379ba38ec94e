"""``ModelSpec``: the frozen, backend-free description of a model (family, link, priors, parameterisation)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .design import Design
from .errors import BayesMixedError
from .families import Family, check_response, get_family
from .priors import Prior, resolve_priors

__all__ = ["ModelSpec", "make_spec", "PARAMETERIZATIONS"]

PARAMETERIZATIONS = ("noncentered", "centered")


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
        ``(term label, "noncentered" | "centered")`` for every random-effect term.
    """

    formula: str
    family: str
    link: str
    priors: tuple[tuple[str, Prior], ...]
    parameterization: tuple[tuple[str, str], ...]

    @property
    def family_obj(self) -> Family:
        return get_family(self.family, self.link)[0]

    def prior(self, name: str) -> Prior:
        return dict(self.priors)[name]

    def prior_dict(self) -> dict[str, Prior]:
        return dict(self.priors)

    def param_of(self, label: str) -> str:
        return dict(self.parameterization)[label]

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
    key = {"centred": "centered", "noncentred": "noncentered", "nc": "noncentered", "c": "centered"}.get(key, key)
    if key not in PARAMETERIZATIONS:
        raise BayesMixedError(f"unknown parameterization {v!r}; use 'noncentered' (default) or 'centered'")
    return key


def make_spec(
    design: Design,
    family: str = "gaussian",
    link: str | None = None,
    priors: dict[str, Any] | None = None,
    parameterization: str | dict[str, str] = "noncentered",
) -> ModelSpec:
    """Check the response against the family, resolve priors and parameterisation."""
    fam, link = get_family(family, link)
    check_response(fam, design.y, design.trials, design.response_label, design.rows, design.formula.response.kind)
    resolved = resolve_priors(design, fam.name, link, priors)
    labels = [b.label for b in design.blocks]
    if isinstance(parameterization, str):
        param = {lab: _normalise_param(parameterization) for lab in labels}
    else:
        unknown = [k for k in parameterization if k not in labels]
        if unknown:
            raise BayesMixedError(
                f"parameterization given for {', '.join(map(repr, unknown))}, which is not a random-effect term; "
                f"terms: {', '.join(map(repr, labels))}"
            )
        param = {lab: _normalise_param(parameterization.get(lab, "noncentered")) for lab in labels}
    return ModelSpec(
        formula=design.formula.text,
        family=fam.name,
        link=link,
        priors=tuple(resolved.items()),
        parameterization=tuple(param.items()),
    )
