"""Fit functions for the Python tools; they run inside the fresh child process.

Each ``fit_*`` function times exactly the user-facing fit call -- model
construction (formula parsing, design matrices, PyMC graph) plus ``fit`` (which
includes compilation and sampling) -- and returns a :class:`FitOutput`.
Loading the data and importing the library are not part of it; the child
records import time separately.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..metrics import sample_stats_totals
from ..params import bambi_population_params, population_params


@dataclass(frozen=True)
class Settings:
    """Sampler settings shared by every tool in one benchmark run."""

    draws: int = 1000
    tune: int = 1000
    chains: int = 2
    cores: int = 2
    seed: int = 1


@dataclass
class FitOutput:
    """What one fit produced, already reduced to population-level draws."""

    draws: dict[str, np.ndarray]
    wall_s: float
    build_s: float
    n_chains: int
    n_draws: int
    n_steps_total: float | None
    divergences: int | None
    sampling_s: float | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _sampling_time(idata) -> float | None:
    """PyMC and nutpie record the sampling time (without compilation) on the posterior."""
    t = idata.posterior.attrs.get("sampling_time")
    return float(t) if t is not None else None


def _shape(idata) -> tuple[int, int]:
    post = idata.posterior
    return int(post.sizes["chain"]), int(post.sizes["draw"])


def load_bayesmixed_data(dataset: str):
    """``bm.datasets.load(dataset)`` (the contract's loader)."""
    import bayesmixed as bm

    return bm.datasets.load(dataset)


def fit_bayesmixed(formula: str, family: str, data, settings: Settings, *, sampler: str) -> FitOutput:
    """Fit with ``bm.Model(formula, data, family).fit(..., sampler=sampler)``.

    ``cores`` (and ``progressbar=False``, as for bambi) are passed only if
    ``Model.fit`` has parameters of those names; everything else, such as
    ``target_accept``, stays at bayesmixed's defaults.
    """
    import bayesmixed as bm

    t0 = time.perf_counter()
    model = bm.Model(formula, data, family=family)
    t_built = time.perf_counter()
    kwargs: dict[str, Any] = dict(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                                  seed=settings.seed, sampler=sampler)
    try:
        accepted = inspect.signature(model.fit).parameters
        if "cores" in accepted:
            kwargs["cores"] = settings.cores
        if "progressbar" in accepted:
            kwargs["progressbar"] = False
    except (TypeError, ValueError):
        pass
    fit = model.fit(**kwargs)
    t1 = time.perf_counter()

    idata = fit.idata
    n_chains, n_draws = _shape(idata)
    steps, div = sample_stats_totals(idata)
    info: dict[str, Any] = {"versions": {"bayesmixed": getattr(bm, "__version__", "unknown")},
                            "sampler": sampler, "fit_kwargs": {k: v for k, v in kwargs.items()}}
    sampling_s = _sampling_time(idata)
    sampler_info = getattr(fit, "sampler_info", None)
    if isinstance(sampler_info, dict):
        info["sampler_info"] = _jsonable(sampler_info)
        timings = sampler_info.get("timings") or {}
        if isinstance(timings.get("sample"), (int, float)):
            sampling_s = float(timings["sample"])
    return FitOutput(population_params(idata), t1 - t0, t_built - t0, n_chains, n_draws, steps, div,
                     sampling_s, info)


def fit_bambi(formula: str, family: str, data, settings: Settings, *, backend: str) -> FitOutput:
    """Fit with ``bmb.Model(formula, data, family).fit(inference_method=backend)``.

    ``backend="pymc"`` is bambi's default NUTS; ``"nutpie"`` goes through
    ``pm.sample(nuts_sampler="nutpie")`` (nutpie gets ``cores`` explicitly,
    since PyMC does not forward it).
    """
    import bambi as bmb
    import pymc as pm

    t0 = time.perf_counter()
    model = bmb.Model(formula, data, family=family)
    t_built = time.perf_counter()
    kwargs: dict[str, Any] = dict(draws=settings.draws, tune=settings.tune, chains=settings.chains,
                                  cores=settings.cores, random_seed=settings.seed,
                                  progressbar=False, inference_method=backend)
    if backend == "nutpie":
        kwargs["nuts_sampler_kwargs"] = {"cores": settings.cores}
    idata = model.fit(**kwargs)
    t1 = time.perf_counter()

    likelihood = model.family.likelihood
    aux = tuple(p for p in (likelihood.params or []) if p != likelihood.parent)
    n_chains, n_draws = _shape(idata)
    steps, div = sample_stats_totals(idata)
    versions = {"bambi": bmb.__version__, "pymc": pm.__version__}
    if backend == "nutpie":
        import nutpie

        versions["nutpie"] = nutpie.__version__
    info = {"versions": versions, "sampler": backend}
    return FitOutput(bambi_population_params(idata, aux), t1 - t0, t_built - t0, n_chains, n_draws,
                     steps, div, _sampling_time(idata), info)


def _jsonable(obj: Any) -> Any:
    """Best-effort conversion of sampler_info to JSON-friendly values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    return str(obj)


#: tool name -> (fit function, uses bayesmixed's loader)
PYTHON_TOOLS: dict[str, tuple[Callable[..., FitOutput], bool]] = {
    "bayesmixed": (lambda f, fam, d, s: fit_bayesmixed(f, fam, d, s, sampler="nutpie"), True),
    "bayesmixed-pymc": (lambda f, fam, d, s: fit_bayesmixed(f, fam, d, s, sampler="pymc"), True),
    "bayesmixed-numpyro": (lambda f, fam, d, s: fit_bayesmixed(f, fam, d, s, sampler="numpyro"), True),
    "bambi": (lambda f, fam, d, s: fit_bambi(f, fam, d, s, backend="pymc"), False),
    "bambi-nutpie": (lambda f, fam, d, s: fit_bambi(f, fam, d, s, backend="nutpie"), False),
}
