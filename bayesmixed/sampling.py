"""Sampler registry: ``nutpie`` (numba backend, default where installed), ``pymc`` (PyMC's NUTS), and
``numpyro``/``blackjax`` through PyMC where JAX is installed. Optional samplers are imported lazily."""

from __future__ import annotations

import importlib.util
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

from .errors import BayesMixedError

__all__ = ["SAMPLERS", "available_samplers", "resolve_sampler", "run_nuts", "SamplerInfo"]

SAMPLERS = ("nutpie", "pymc", "numpyro", "blackjax")
_MODULE = {"nutpie": "nutpie", "pymc": "pymc", "numpyro": "numpyro", "blackjax": "blackjax"}


def available_samplers() -> list[str]:
    """Samplers whose packages are importable here."""
    return [s for s in SAMPLERS if importlib.util.find_spec(_MODULE[s]) is not None]


def resolve_sampler(sampler: str) -> str:
    """``"auto"`` → nutpie if installed, else pymc; other names are checked."""
    if sampler == "auto":
        return "nutpie" if importlib.util.find_spec("nutpie") is not None else "pymc"
    if sampler not in SAMPLERS:
        raise BayesMixedError(f"unknown sampler {sampler!r}; use one of 'auto', {', '.join(map(repr, SAMPLERS))}")
    if importlib.util.find_spec(_MODULE[sampler]) is None:
        raise BayesMixedError(
            f"sampler {sampler!r} needs the package {_MODULE[sampler]!r}, which is not installed "
            f"(pip install {_MODULE[sampler]}); installed samplers: {', '.join(available_samplers())}"
        )
    return sampler


@dataclass
class SamplerInfo:
    """What ran: sampler, versions, settings and where the time went (seconds)."""

    sampler: str
    draws: int
    tune: int
    chains: int
    seed: int | None
    target_accept: float
    versions: dict[str, str] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    parameterization: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sampler": self.sampler,
            "draws": self.draws,
            "tune": self.tune,
            "chains": self.chains,
            "seed": self.seed,
            "target_accept": self.target_accept,
            "versions": dict(self.versions),
            "timings": dict(self.timings),
            "parameterization": dict(self.parameterization),
        }


def _versions(sampler: str) -> dict[str, str]:
    import arviz
    import pymc
    import pytensor

    out = {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": arviz.__version__}
    if sampler != "pymc":
        mod = importlib.import_module(_MODULE[sampler])
        out[sampler] = getattr(mod, "__version__", "?")
    return out


def run_nuts(
    model,
    *,
    sampler: str,
    draws: int,
    tune: int,
    chains: int,
    seed: int | None,
    target_accept: float,
    progressbar: bool,
    cores: int | None = None,
):
    """Sample ``model`` with NUTS; returns ``(idata, SamplerInfo)``."""
    import pymc as pm

    info = SamplerInfo(sampler, draws, tune, chains, seed, target_accept, _versions(sampler))
    cores = cores or chains
    if sampler == "nutpie":
        import nutpie

        t0 = time.perf_counter()
        compiled = nutpie.compile_pymc_model(model)
        t1 = time.perf_counter()
        idata = nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            cores=cores,
            seed=seed,
            target_accept=target_accept,
            progress_bar=progressbar,
            save_warmup=False,
        )
        t2 = time.perf_counter()
        info.timings.update(compile=t1 - t0, sample=t2 - t1)
    else:
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            idata = pm.sample(
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                target_accept=target_accept,
                progressbar=progressbar,
                nuts_sampler=sampler,
                model=model,
                compute_convergence_checks=False,
            )
        info.timings.update(sample=time.perf_counter() - t0)
    return idata, info
