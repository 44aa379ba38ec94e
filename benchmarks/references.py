"""lme4 reference estimates, keyed by canonical parameter name.

The estimates belong in ``models/*.toml`` under ``[reference]``; until a case
has such a file, the values below (from ``shared/data/README.md``: lme4
1.1-31, REML for Gaussian, Laplace for GLMMs) are used.

Canonical parameter names, shared by every runner:

- fixed effects by their model-matrix column: ``Intercept``, ``Days``, ``period2``
- group SDs ``sd(<coef>|<group>)``, e.g. ``sd(Intercept|Subject)``
- correlations ``cor(<coef1>,<coef2>|<group>)``
- the residual SD ``sigma``; other family auxiliaries by their own names.

:func:`canonical_name` also accepts the bayesmixed/brms-like spellings a toml
file is likely to use (``beta[Days]``, ``sd_Subject[Intercept]``, ``sd_herd``,
``corr_Subject[Intercept,Days]``, ``(Intercept)``), flat or as nested tables.
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


def _flatten(table: dict, prefix: str = "") -> dict[str, float]:
    """Flatten nested toml tables: ``{beta = {Days = 1}}`` -> ``{"beta[Days]": 1}``."""
    out: dict[str, float] = {}
    for k, v in table.items():
        if isinstance(v, dict):
            if not prefix:
                out.update(_flatten(v, k))
            elif prefix in ("sd", "corr", "cor"):  # [reference.sd.Subject] Intercept = ...
                out.update(_flatten(v, f"{prefix}_{k}"))
            else:
                out.update(_flatten(v, f"{prefix}_{k}"))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            if not prefix:
                out[k] = float(v)
            elif prefix in ("sd", "corr", "cor"):  # [reference.sd] Subject = 24.7
                out[f"{prefix}_{k}"] = float(v)
            else:
                out[f"{prefix}[{k}]"] = float(v)
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
        names = {str(doc.get(k, "")).lower() for k in ("name", "case", "data", "dataset")}
        if case in names or dataset.lower() in names:
            return p
    return None


def load_reference(case: str, dataset: str) -> tuple[dict[str, float], str]:
    """Reference estimates for ``case`` and where they came from.

    Values in ``models/<case>.toml``'s ``[reference]`` table win; any canonical
    parameter the toml does not give falls back to :data:`BUILTIN`.
    """
    ref = dict(BUILTIN.get(case, {}))
    source = "lme4 1.1-31 (shared/data/README.md)"
    path = _toml_for(case, dataset)
    if path is not None:
        try:
            doc = tomllib.loads(path.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            return ref, f"{source}; could not read {path.name}: {exc}"
        table = doc.get("reference")
        if isinstance(table, dict):
            from_toml = {canonical_name(k): v for k, v in _flatten(table).items()}
            ref.update(from_toml)
            source = f"models/{path.name} [reference]" + ("" if set(from_toml) >= set(ref) else " + built-in")
    return ref, source
