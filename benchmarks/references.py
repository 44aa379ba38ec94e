"""lme4 reference estimates, keyed by canonical parameter name.

The estimates live in ``models/<case>.toml`` under ``[reference]`` (``fixef``
and ``varcorr``, see :func:`_from_toml_table`); :data:`BUILTIN` (from
``shared/data/README.md``: lme4 1.1-31, REML for Gaussian, Laplace for GLMMs)
fills in when a file or a parameter is missing.

Canonical parameter names, shared by every runner:

- fixed effects by their model-matrix column: ``Intercept``, ``Days``, ``period2``
- group SDs ``sd(<coef>|<group>)``, e.g. ``sd(Intercept|Subject)``
- correlations ``cor(<coef1>,<coef2>|<group>)``
- the residual SD ``sigma``; other family auxiliaries by their own names.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from .cases import REPO_ROOT

MODELS_DIR = REPO_ROOT / "models"

BUILTIN: dict[str, dict[str, float]] = {
    "sleepstudy": {
        "Intercept": 251.405,
        "Days": 10.467,
        "sd(Intercept|Subject)": 24.741,
        "sd(Days|Subject)": 5.922,
        "cor(Intercept,Days|Subject)": 0.066,
        "sigma": 25.592,
    },
    "radon": {
        "Intercept": 1.4945,
        "floor": -0.6548,
        "sd(Intercept|county)": 0.337,
        "sd(floor|county)": 0.329,
        "cor(Intercept,floor|county)": -0.37,
        "sigma": 0.717,
    },
    "cbpp": {
        "Intercept": -1.398,
        "period2": -0.992,
        "period3": -1.128,
        "period4": -1.580,
        "sd(Intercept|herd)": 0.642,
    },
    "penicillin": {
        "Intercept": 22.972,
        "sd(Intercept|plate)": 0.8467,
        "sd(Intercept|sample)": 1.9316,
        "sigma": 0.5499,
    },
    "sleepstudy_uncorrelated": {
        "Intercept": 251.405,
        "Days": 10.467,
        "sd(Intercept|Subject)": 25.051,
        "sd(Days|Subject)": 5.988,
        "sigma": 25.565,
    },
    "insteval": {
        "Intercept": 3.2826,
        "service1": -0.0926,
        "sd(Intercept|s)": 0.3256,
        "sd(Intercept|d)": 0.5150,
        "sd(Intercept|dept)": 0.0831,
        "sigma": 1.1775,
    },
}

_BRACKET = re.compile(r"^(?P<base>[^\[]+)\[(?P<inner>.*)\]$")


def _coef(name: str) -> str:
    name = name.strip().strip("'\"")
    return "Intercept" if name in ("(Intercept)", "1") else name


def canonical_name(key: str) -> str:
    """Map a parameter spelling to the canonical name used in the benchmark tables."""
    key = key.strip()
    if key.startswith(("sd(", "cor(")):
        return key
    m = _BRACKET.match(key)
    base, inner = (m["base"], m["inner"]) if m else (key, None)
    for sep in ("__", "."):  # sd_Subject__Intercept, sd_Subject.Intercept
        if inner is None and base.startswith(("sd_", "corr_", "cor_")) and sep in base:
            base, inner = base.split(sep, 1)
            inner = inner.replace(sep, ",")
    if base in ("beta", "b", "fixed", "fixef"):
        return _coef(inner) if inner is not None else base
    if base.startswith("b_") and inner is None:
        return _coef(base[2:])
    if base.startswith("sd_"):
        return f"sd({_coef(inner) if inner else 'Intercept'}|{base[3:]})"
    if base.startswith(("corr_", "cor_")):
        group = base.split("_", 1)[1]
        c1, c2 = (_coef(p) for p in (inner or "Intercept,?").split(",", 1))
        return f"cor({c1},{c2}|{group})"
    return _coef(key)


def _from_toml_table(table: dict) -> dict[str, float]:
    """Canonical values from a ``[reference]`` table.

    The project's format (``models/*.toml``)::

        fixef = { Intercept = 251.405, Days = 10.467 }
        varcorr = [
          { group = "Subject", term = "Intercept", kind = "sd", value = 24.741 },
          { group = "Subject", term = "Intercept,Days", kind = "cor", value = 0.066 },
          { group = "Residual", term = "", kind = "sd", value = 25.592 },
        ]

    Plain numeric keys (``sigma = 1.2``, ``"beta[Days]" = 10.4``) are read too.
    """
    out: dict[str, float] = {}
    for name, value in (table.get("fixef") or {}).items():
        out[_coef(name)] = float(value)
    for vc in table.get("varcorr") or []:
        group, term, kind = vc.get("group", ""), vc.get("term", ""), vc.get("kind", "sd")
        if group == "Residual":
            out["sigma"] = float(vc["value"])
        elif kind == "sd":
            out[f"sd({_coef(term or 'Intercept')}|{group})"] = float(vc["value"])
        elif kind in ("cor", "corr"):
            c1, c2 = (_coef(t) for t in term.split(",", 1))
            out[f"cor({c1},{c2}|{group})"] = float(vc["value"])
    for name, value in (table.get("aux") or {}).items():  # the family's auxiliary parameters (zi, shape, ...)
        out[canonical_name(name)] = float(value)
    for key, value in table.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[canonical_name(key)] = float(value)
    return out


def _toml_for(case: str, dataset: str) -> Path | None:
    """The ``models/*.toml`` that describes ``case``, if one exists."""
    if not MODELS_DIR.is_dir():
        return None
    for stem in (case, dataset, dataset.lower()):
        p = MODELS_DIR / f"{stem}.toml"
        if p.is_file():
            return p
    for p in sorted(MODELS_DIR.glob("*.toml")):
        try:
            doc = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError):
            continue
        if str(doc.get("name", "")).lower() == case:
            return p
    return None


def load_reference(case: str, dataset: str | None = None) -> tuple[dict[str, float], str]:
    """Reference estimates for ``case`` and where they came from.

    Values in ``models/<case>.toml``'s ``[reference]`` table win; a parameter
    the toml does not give falls back to :data:`BUILTIN`.
    """
    ref = dict(BUILTIN.get(case, {}))
    source = "built in (lme4 1.1-31, shared/data/README.md)"
    path = _toml_for(case, dataset or case)
    if path is None:
        return ref, source
    try:
        table = tomllib.loads(path.read_text()).get("reference")
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return ref, f"{source}; could not read {path.name}: {exc}"
    if isinstance(table, dict):
        from_toml = _from_toml_table(table)
        missing = set(ref) - set(from_toml)
        ref.update(from_toml)
        source = f"models/{path.name}" + (f" + built in for {sorted(missing)}" if missing else "")
    return ref, source
