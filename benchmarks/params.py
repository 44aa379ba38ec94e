"""Select the population-level parameters of a posterior, under canonical names.

Population-level parameters are the fixed effects, group SDs, off-diagonal
correlations, the residual SD and family auxiliaries -- never the individual
random effects. Each function returns ``{canonical name: array (chain, draw)}``
in a stable order (fixed effects, SDs, correlations, the rest). Canonical names
are described in :mod:`benchmarks.references`.
"""

from __future__ import annotations

import numpy as np


def _coef_label(value) -> str:
    s = str(value)
    return "Intercept" if s in ("(Intercept)", "1") else s


def _is_internal(name: str) -> bool:
    """PyMC transformed values (``sigma_log__``) and non-centred offsets."""
    return name.endswith("__") or name.endswith("_offset")


def _scalar_draws(da) -> np.ndarray:
    return np.asarray(da.transpose("chain", "draw").values, dtype=float)


def _expand(da, label) -> dict[str, np.ndarray]:
    """Split a variable with one extra dimension into one array per coordinate."""
    extra = [d for d in da.dims if d not in ("chain", "draw")]
    if not extra:
        return {label(None): _scalar_draws(da)}
    if len(extra) != 1:
        raise ValueError(f"{da.name}: expected one non-sample dimension, got {extra}")
    dim = extra[0]
    return {label(c): _scalar_draws(da.sel({dim: c})) for c in da[dim].values}


def population_params(idata) -> dict[str, np.ndarray]:
    """Population-level draws of a bayesmixed fit.

    Follows bayesmixed's naming contract:

    - ``beta`` (dim ``coef``) -> one entry per coefficient (``Intercept``, ``Days``...)
    - ``sd_<group>`` (dim ``<group>_coef``) -> ``sd(<coef>|<group>)``
    - ``corr_<group>`` (dims ``<group>_coef``, ``<group>_coef2``) -> the upper
      triangle, ``cor(<coef_i>,<coef_j>|<group>)`` for i < j
    - ``r_<group>`` and ``z_*`` (random effects, raw offsets) are excluded, as
      is anything ending ``_offset`` or ``__`` (transformed values)
    - every other *scalar* variable (``sigma``, ``alpha``, ``nu``, ``phi`` ...)
      is kept under its own name.
    """
    post = idata.posterior
    fixed: dict[str, np.ndarray] = {}
    sds: dict[str, np.ndarray] = {}
    cors: dict[str, np.ndarray] = {}
    other: dict[str, np.ndarray] = {}
    for name in post.data_vars:
        name = str(name)
        da = post[name]
        if name.startswith(("r_", "z_")) or _is_internal(name):
            continue
        if name == "beta":
            fixed.update(_expand(da, _coef_label))
        elif name == "Intercept" and "threshold" in da.dims:  # ordinal thresholds: brms's Intercept[k]
            fixed.update(_expand(da, lambda c: f"Intercept[{c}]"))
        elif name.startswith("sd_"):
            group = name[3:]
            sds.update(_expand(da, lambda c, g=group: f"sd({_coef_label(c) if c is not None else 'Intercept'}|{g})"))
        elif name.startswith("corr_"):
            group = name[5:]
            extra = [d for d in da.dims if d not in ("chain", "draw")]
            if len(extra) != 2:
                continue
            d1, d2 = extra
            c1, c2 = list(da[d1].values), list(da[d2].values)
            for i in range(len(c1)):
                for j in range(i + 1, len(c2)):
                    key = f"cor({_coef_label(c1[i])},{_coef_label(c2[j])}|{group})"
                    cors[key] = _scalar_draws(da.isel({d1: i, d2: j}))
        elif set(da.dims) <= {"chain", "draw"}:
            other[name] = _scalar_draws(da)
    return {**fixed, **sds, **cors, **other}


def bambi_population_params(idata, aux_names=("sigma",)) -> dict[str, np.ndarray]:
    """Population-level draws of a bambi fit, under the same canonical names.

    bambi names group SDs ``<expr>|<group>_sigma`` (``1|Subject_sigma`` is
    ``sd(Intercept|Subject)``), random effects ``<expr>|<group>`` (excluded),
    and categorical fixed effects as one variable with a ``<name>_dim``
    dimension (``period`` with coords "2", "3", "4" -> ``period2``...).
    ``aux_names`` are the family's auxiliary parameters (``sigma``, ``alpha``
    ...; the runner takes them from ``model.family.likelihood``); everything
    else without a ``|`` is a fixed effect.
    """
    post = idata.posterior
    fixed: dict[str, np.ndarray] = {}
    sds: dict[str, np.ndarray] = {}
    other: dict[str, np.ndarray] = {}
    for name in post.data_vars:
        name = str(name)
        da = post[name]
        if _is_internal(name):
            continue
        if "|" in name:
            if name.endswith("_sigma"):
                expr, group = name[: -len("_sigma")].split("|", 1)
                sds[f"sd({_coef_label(expr)}|{group})"] = _scalar_draws(da)
            continue  # individual random effects
        target = other if name in aux_names else fixed
        target.update(_expand(da, lambda c, n=name: n if c is None else f"{n}{c}"))
    return {**fixed, **sds, **other}
