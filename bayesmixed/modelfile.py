"""Model files (``models/*.toml``): formula, family, data set, priors, and reference estimates.

Layout::

    name = "sleepstudy"
    data = "sleepstudy"              # a shipped data set, or a CSV file in the model file's folder (or below)
    formula = "Reaction ~ Days + (Days | Subject)"
    family = "gaussian"              # optional, with optional link = "..."
    [dpars]                          # optional: formulas of other parameters (bf(); distributional regression)
    sigma = "~ Days + (1 | Subject)"
    weights = "size"                 # optional: trials of a proportion response (binomial), as glmer's weights=
    rank_deficient = "drop"          # optional: "drop" (default, as lme4) or "raise"
    [contrasts]                      # optional: coding of categorical variables (treatment, sum, helmert, poly, SAS)
    recipe = "sum"
    [priors]                         # optional, by parameter name (see bayesmixed.priors)
    sd_Subject = { dist = "half_normal", sigma = 50 }
    [fit]                            # optional defaults for draws, tune, chains, seed, sampler
    [reference]                      # optional: estimates of another tool, with their source
    source = "lme4 1.1-31 ..."
    method = "lmer, REML"            # how the tool estimated them (glmmTMB's ML, a brms posterior mean, ...)
    fixef = { Intercept = 251.405, Days = 10.467 }
    varcorr = [ { group = "Subject", term = "Intercept", kind = "sd", value = 24.741 }, ... ]
    aux = { zi = 0.29 }              # optional: the family's auxiliary parameters (zi, shape, sigma, ...)
    aux_boundary = ["zi"]            # optional: those estimated on the edge of their space (zi = 0)

``fixef`` names are those of ``fit.fixef()`` (brms's): ordinal thresholds ``"Intercept[1]"``, another
parameter's coefficients ``sigma_Intercept``, ``sigma_x``. A Bayesian reference (brms) gives its posterior
means there, and may add ``[reference.posterior]`` with each parameter's SD and quantiles, for the record.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import naming as N
from .errors import ModelFileError

__all__ = ["ModelFile", "load_model_file", "reference_table"]

_KEYS = {
    "name", "description", "data", "formula", "family", "link", "priors", "fit", "reference", "parameterization",
    "weights", "contrasts", "rank_deficient", "dpars",
}
#: the type each key must have (a TOML string, table, ...)
_TYPES = {"name": str, "description": str, "data": str, "formula": str, "family": str, "link": str, "priors": dict,
          "fit": dict, "reference": dict, "parameterization": (str, dict), "weights": str, "contrasts": dict,
          "rank_deficient": str}
_FIT_KEYS = {"draws", "tune", "chains", "seed", "sampler", "target_accept", "trajectory", "cores"}


@dataclass(frozen=True)
class ModelFile:
    """A parsed model file."""

    path: Path
    name: str
    data: str
    formula: str
    family: str = "gaussian"
    link: str | None = None
    description: str = ""
    priors: dict[str, Any] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] = field(default_factory=dict)
    parameterization: Any = "auto"
    weights: str | None = None
    contrasts: dict[str, Any] = field(default_factory=dict)
    rank_deficient: str = "drop"
    dpars: dict[str, str] = field(default_factory=dict)

    @property
    def model_formula(self):
        """The formula text, or :func:`bayesmixed.bf <bayesmixed.formula.bf>` of it and the ``[dpars]`` formulas."""
        if not self.dpars:
            return self.formula
        from .formula.bf import bf

        return bf(self.formula, **self.dpars)

    def load_data(self) -> pd.DataFrame:
        """The data set: a shipped one by name, or a CSV file in the model file's folder (or a folder below it).

        A model file can come from anyone: it may not point its data at other files (``/etc/passwd``,
        ``../secret.csv``); for those, ``bayesmixed fit --formula ... --data PATH`` reads a file you name
        yourself. Errors name the file, never its contents.
        """
        from . import datasets

        if self.data in datasets.names():
            return datasets.load(self.data)
        home = self.path.parent.resolve()
        p = (home / self.data).resolve()
        where = f"{self.path}: data {self.data!r} is not a shipped data set ({', '.join(datasets.names())})"
        if Path(self.data).is_absolute() or not p.is_relative_to(home) or p.suffix.lower() != ".csv":
            raise ModelFileError(
                f"{where}, and a model file may read only shipped data sets or .csv files in its own folder "
                f"({home}); to fit another file run bayesmixed fit --formula '...' --data PATH"
            )
        if not p.is_file():
            raise ModelFileError(f"{where} nor an existing .csv file in the model file's folder ({p})")
        return read_csv(p, ModelFileError)

    def model(self, data: pd.DataFrame | None = None):
        """The :class:`bayesmixed.Model` this file describes."""
        from .model import Model

        return Model(
            self.model_formula,
            self.load_data() if data is None else data,
            family=self.family,
            link=self.link,
            priors=self.priors or None,
            parameterization=self.parameterization,
            contrasts=self.contrasts or None,
            weights=self.weights,
            rank_deficient=self.rank_deficient,
        )


def read_csv(path: Path, error: type = ModelFileError) -> pd.DataFrame:
    """A CSV file as a data frame; a file that is not one gives ``error`` naming the file (and not what is in
    it: a message never shows a line of a file that was named by mistake)."""
    try:
        return pd.read_csv(path)
    except FileNotFoundError:
        raise error(f"no such file: {str(path)!r}") from None
    except IsADirectoryError:
        raise error(f"{str(path)!r} is a folder, not a CSV file") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, OSError) as e:
        raise error(f"{str(path)!r} cannot be read as a CSV file ({type(e).__name__}); check that it is one") from None


def load_model_file(path: str | Path) -> ModelFile:
    """Read and check a model file: TOML with the keys of the module docstring, each of its type."""
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"model file {str(path)!r} does not exist")
    if not path.is_file():
        raise ModelFileError(f"model file {str(path)!r} is not a file (a folder?); give a .toml file")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ModelFileError(f"{path}: not a text file; a model file is TOML (see models/*.toml)") from None
    except tomllib.TOMLDecodeError as e:
        raise ModelFileError(f"{path}: not valid TOML: {e}") from None
    unknown = set(raw) - _KEYS
    if unknown:
        raise ModelFileError(f"{path}: unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(_KEYS))}")
    for key in ("formula", "data"):
        if key not in raw:
            raise ModelFileError(f"{path}: the key {key!r} is required")
    names = {str: "a string", dict: "a table", (str, dict): "a string or a table"}
    for key, want in _TYPES.items():
        if key in raw and not isinstance(raw[key], want):
            raise ModelFileError(f"{path}: {key} must be {names[want]}, got {type(raw[key]).__name__} {raw[key]!r}")
    bad_fit = set(raw.get("fit", {})) - _FIT_KEYS
    if bad_fit:
        raise ModelFileError(f"{path}: unknown key(s) {', '.join(sorted(bad_fit))} in [fit]; allowed: "
                             f"{', '.join(sorted(_FIT_KEYS))}")
    return ModelFile(
        path=path,
        name=raw.get("name", path.stem),
        data=raw["data"],
        formula=raw["formula"],
        family=raw.get("family", "gaussian"),
        link=raw.get("link"),
        description=raw.get("description", ""),
        priors=dict(raw.get("priors", {})),
        fit=dict(raw.get("fit", {})),
        reference=dict(raw.get("reference", {})),
        parameterization=raw.get("parameterization", "auto"),
        weights=raw.get("weights"),
        contrasts=dict(raw.get("contrasts", {})),
        rank_deficient=raw.get("rank_deficient", "drop"),
        dpars={str(k): str(v) for k, v in raw.get("dpars", {}).items()},
    )


def reference_table(fit, reference: dict[str, Any], prob: float = 0.90) -> pd.DataFrame:
    """Posterior summaries beside reference estimates (e.g. lme4's).

    Columns: ``parameter``, ``kind`` (``fixef``, ``sd``, ``cor``, ``aux``), ``reference``, ``mean``, ``sd`` (posterior
    SD), ``lower``, ``upper`` (equal-tailed ``prob`` interval), ``inside`` (reference within the interval),
    ``z`` ((mean − reference) / posterior SD), ``boundary`` (the reference sits on the edge of the parameter
    space, e.g. an SD of 0).
    """
    from .summaries import draws_of, fixef_draws

    rows = []
    fixed = fixef_draws(fit.idata, fit.design)
    for term, value in reference.get("fixef", {}).items():
        if term not in fixed:
            raise ModelFileError(f"reference fixef {term!r} is not a coefficient of the model ({', '.join(fixed)})")
        rows.append(_row(term, "fixef", value, fixed[term][1], prob, False))
    for vc in reference.get("varcorr", []):
        g, term, kind, value = vc["group"], vc.get("term", ""), vc.get("kind", "sd"), vc["value"]
        if g == "Residual":
            x = draws_of(fit.idata, N.SIGMA)
        else:
            b = fit.design.block(g)
            if kind == "sd":
                x = draws_of(fit.idata, N.sd(b.label))[:, b.coef_names.index(term)]
            else:
                a, c = term.split(",")
                x = draws_of(fit.idata, N.corr(b.label))[:, b.coef_names.index(a), b.coef_names.index(c)]
        label = f"{kind}({g}{':' + term if term else ''})"
        rows.append(_row(label, kind, value, x, prob, bool(vc.get("boundary", False))))
    boundary = set(reference.get("aux_boundary", ()))
    for name, value in reference.get("aux", {}).items():
        if name not in fit.idata.posterior:
            raise ModelFileError(f"reference aux {name!r} is not a parameter of the model's family ({fit.spec.family})")
        rows.append(_row(name, "aux", value, draws_of(fit.idata, name), prob, name in boundary))
    return pd.DataFrame(rows)


def _row(label: str, kind: str, value: float, x: np.ndarray, prob: float, boundary: bool) -> dict[str, Any]:
    from .summaries import interval

    lo, hi = interval(x, prob)
    sd = float(np.std(x, ddof=1))
    return dict(
        parameter=label,
        kind=kind,
        reference=float(value),
        mean=float(np.mean(x)),
        sd=sd,
        lower=float(lo),
        upper=float(hi),
        inside=bool(lo <= value <= hi),
        z=float((np.mean(x) - value) / sd) if sd > 0 else np.nan,
        boundary=boundary,
    )
