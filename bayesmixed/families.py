"""Response families: links, auxiliary parameters and response checks (backend-free)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import DataError

__all__ = ["Family", "get_family", "FAMILIES", "check_response"]


@dataclass(frozen=True)
class Family:
    """A response distribution.

    Attributes
    ----------
    name
        Family name as users write it (``"gaussian"``, ``"binomial"``, ...).
    links
        Allowed links; the first is the default.
    aux
        Names of auxiliary parameters (``sigma``, ``nu``, ``alpha``, ``phi``, ``lam``).
    needs_trials
        Whether the response has a number of trials (binomial).
    """

    name: str
    links: tuple[str, ...]
    aux: tuple[str, ...] = ()
    needs_trials: bool = False

    @property
    def default_link(self) -> str:
        return self.links[0]


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in [
        Family("gaussian", ("identity", "log"), ("sigma",)),
        Family("student_t", ("identity", "log"), ("sigma", "nu")),
        Family("bernoulli", ("logit", "probit", "cloglog")),
        Family("binomial", ("logit", "probit", "cloglog"), (), True),
        Family("poisson", ("log",)),
        Family("negative_binomial", ("log",), ("alpha",)),
        Family("gamma", ("log", "inverse"), ("alpha",)),
        Family("inverse_gaussian", ("log",), ("lam",)),
        Family("beta", ("logit",), ("phi",)),
    ]
}
_ALIASES = {
    "normal": "gaussian",
    "t": "student_t",
    "student": "student_t",
    "studentt": "student_t",
    "logistic": "bernoulli",
    "negbinomial": "negative_binomial",
    "negbin": "negative_binomial",
    "neg_binomial_2": "negative_binomial",
    "inverse.gaussian": "inverse_gaussian",
    "wald": "inverse_gaussian",
}


def get_family(name: str, link: str | None = None) -> tuple[Family, str]:
    """Resolve a family name (and optional link) to a :class:`Family` and a link name."""
    key = str(name).lower().replace("-", "_").replace(" ", "_")
    key = _ALIASES.get(key, key)
    if key not in FAMILIES:
        raise DataError(f"unknown family {name!r}; available: {', '.join(FAMILIES)}")
    fam = FAMILIES[key]
    link = fam.default_link if link is None else str(link)
    if link not in fam.links:
        raise DataError(f"family {fam.name!r} has no link {link!r}; use one of {', '.join(fam.links)}")
    return fam, link


def _rows(mask: np.ndarray, rows) -> str:
    idx = np.asarray(rows)[mask][:5].tolist()
    more = f" and {int(mask.sum()) - 5} more" if mask.sum() > 5 else ""
    return f"{idx}{more}"


def check_response(
    fam: Family, y: np.ndarray, trials: np.ndarray | None, label: str, rows, levels: tuple | None = None
) -> None:
    """Raise a :class:`~bayesmixed.errors.DataError` when the response does not fit the family.

    The message names the response, what is wrong, the offending rows (index labels of the user's data) and
    the fix.
    """
    if fam.needs_trials and trials is None:
        raise DataError(
            f"family 'binomial' needs the number of trials: write the response as cbind(successes, failures) "
            f"or successes | trials(n), not {label!r} alone (or use family='bernoulli' for 0/1 data)"
        )
    if not fam.needs_trials and trials is not None:
        raise DataError(f"{label!r} gives numbers of trials, which only family='binomial' uses (got {fam.name!r})")
    name = fam.name
    if levels is not None and name != "bernoulli":
        raise DataError(
            f"the response {label!r} is categorical with levels {levels[0]!r} and {levels[1]!r}; family {name!r} "
            "needs numbers: use family='bernoulli' to model the second level as success"
        )
    if name in ("poisson", "negative_binomial", "binomial"):
        neg = y < 0
        if neg.any():
            raise DataError(f"{name} response {label!r} has negative counts on rows {_rows(neg, rows)}")
        frac = y != np.round(y)
        if frac.any():
            raise DataError(
                f"{name} response {label!r} has non-integer values on rows {_rows(frac, rows)} "
                f"(e.g. {y[frac][0].item()}); counts must be whole numbers (use family='gaussian' or 'gamma' for measurements)"
            )
    if name == "binomial":
        bad_t = (trials < 0) | (trials != np.round(trials))
        if bad_t.any():
            raise DataError(f"numbers of trials in {label!r} must be whole and non-negative: rows {_rows(bad_t, rows)}")
        over = y > trials
        if over.any():
            raise DataError(
                f"successes exceed trials in {label!r} on rows {_rows(over, rows)}; in cbind(s, f) the second "
                "argument is the number of failures, in s | trials(n) it is the number of trials"
            )
    if name == "bernoulli":
        bad = ~np.isin(y, (0.0, 1.0))
        if bad.any():
            vals = np.unique(y[bad])[:5].tolist()
            raise DataError(
                f"bernoulli response {label!r} must be 0/1, boolean or a two-level category; rows "
                f"{_rows(bad, rows)} hold {list(vals)} (for counts out of n use family='binomial' with cbind())"
            )
    if name == "beta":
        bad = (y <= 0) | (y >= 1)
        if bad.any():
            raise DataError(
                f"beta response {label!r} must lie strictly between 0 and 1; rows {_rows(bad, rows)} do not "
                f"(e.g. {y[bad][0].item()}); squeeze the values, e.g. (y*(n-1)+0.5)/n, or model the counts as binomial"
            )
    if name in ("gamma", "inverse_gaussian"):
        bad = y <= 0
        if bad.any():
            raise DataError(
                f"{name} response {label!r} must be positive; rows {_rows(bad, rows)} are not (e.g. {y[bad][0].item()})"
            )
