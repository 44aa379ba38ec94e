"""Sampler registry: ``nutpie`` (numba backend, default where installed), ``pymc`` (PyMC's NUTS), and
``numpyro``/``blackjax`` through PyMC where JAX is installed. Optional samplers are imported lazily."""

from __future__ import annotations

import importlib.util
import math
import os
import signal
import threading
import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from hashlib import sha256
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .errors import BayesMixedError

__all__ = ["SAMPLERS", "available_samplers", "resolve_sampler", "run_nuts", "SamplerInfo", "clear_compile_cache"]

# compiled nutpie models by structure (see _structure_key); the data of a new fit is swapped in with with_data
_COMPILED: "OrderedDict[str, Any]" = OrderedDict()
_CACHE_SIZE = 32


def clear_compile_cache(disk: bool = False) -> None:
    """Forget every compiled model of this process (the next fit of each structure compiles again, or rebuilds
    it from the disk record of an earlier compilation) and every static-trajectory pilot's outcome;
    ``disk=True`` deletes the records as well."""
    _COMPILED.clear()
    _PILOTS.clear()
    if disk:
        from ._nutpie_compile import clear_disk_cache

        clear_disk_cache()


def _data_values(model) -> dict[str, Any]:
    return {v.name: v.get_value() for v in model.data_vars}


def _structure_key(model, structure: str) -> str:
    """What a compiled model depends on besides the values of its data containers: the spec (family, priors,
    parameterisation), the coordinates and the shapes and types of the data."""
    coords = {k: list(v) for k, v in model.coords.items() if k != "obs"}
    shapes = {k: (np.shape(v), str(np.asarray(v).dtype)) for k, v in _data_values(model).items()}
    return repr((structure, sorted(coords.items()), sorted(shapes.items())))


def _compile_nutpie(model, structure: str | None):
    """The compiled model (a :class:`bayesmixed._nutpie_compile.Compiled`) with ``source`` ``"memory"``
    (compiled earlier in this process), ``"disk"`` (rebuilt from an earlier process's compilation of the same
    structure, see ``_nutpie_compile``) or None, and the path that compiled it (``"fast"`` or ``"nutpie"``)."""
    from ._nutpie_compile import compile_fast

    if structure is None:
        return compile_fast(model)
    key = _structure_key(model, structure)
    if key in _COMPILED:
        _COMPILED.move_to_end(key)
        done = _COMPILED[key]
        shared = getattr(done.model, "shared_data", {})
        updates = {k: v for k, v in _data_values(model).items() if k in shared}
        return done._replace(model=done.model.with_data(**updates), source="memory")
    done = compile_fast(model, key)
    _COMPILED[key] = done
    while len(_COMPILED) > _CACHE_SIZE:
        _COMPILED.popitem(last=False)
    return done


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


def jax_chain_method(chains: int) -> str:
    """How a JAX sampler (numpyro, blackjax) runs the chains: ``"parallel"``, one JAX device per chain, unless
    the devices are accelerators (GPUs) fewer than the chains: then ``"vectorized"``, every chain in one batched
    program on one device, so that the chains share the GPU instead of running one after another (what
    ``"parallel"`` falls back to). On the CPU ``"parallel"`` stays: with one CPU device the chains run one after
    another (cbpp, 2 x 2000 iterations: 8.3 s against 14.9 s vectorized), and with
    ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` set before JAX starts, side by side (6.7 s).
    ``BAYESMIXED_JAX_CHAIN_METHOD`` overrides the choice."""
    forced = os.environ.get("BAYESMIXED_JAX_CHAIN_METHOD")
    if forced:
        if forced not in ("parallel", "vectorized"):
            raise BayesMixedError(
                f"BAYESMIXED_JAX_CHAIN_METHOD={forced!r}: use 'parallel' or 'vectorized', or unset it"
            )
        return forced
    import jax

    if jax.default_backend() == "cpu" or jax.local_device_count() >= chains:
        return "parallel"
    return "vectorized"


STATIC_MIN_DEPTH = 3  # static trajectories are 2**depth - 1 leapfrog steps: at least 7 ...
STATIC_MAX_DEPTH = 6  # ... at most 63; a pilot that needs more keeps NUTS
STATIC_MAX_DIM = 10
PILOT_TUNE, PILOT_DRAWS = 150, 100
_PILOTS: OrderedDict = OrderedDict()  # (structure, data, seed, target_accept) -> (depth, q90), this process
_PILOTS_SIZE = 256


def _pilot_key(model, structure: str | None, seed: int | None, target_accept: float) -> str | None:
    """What a pilot's outcome depends on (structure, data, seed, target_accept), hashed; None without a seed
    or a structure. Only fully marginal models run pilots: their data are sufficient statistics, a few kB."""
    if seed is None or structure is None:
        return None
    h = sha256(_structure_key(model, structure).encode())
    for name, value in sorted(_data_values(model).items()):
        a = np.ascontiguousarray(value)
        h.update(f"{name}:{a.dtype}:{a.shape}".encode())
        h.update(a.tobytes())
    h.update(repr((int(seed), float(target_accept))).encode())
    return h.hexdigest()


def _pilot_depth(model, compiled, structure: str | None, seed: int | None, cores: int,
                 target_accept: float) -> tuple[int | None, float]:
    """:func:`_static_depth`, remembered in this process per :func:`_pilot_key` (a refit of the same data with
    the same seed runs no second pilot, and draws what the first fit drew)."""
    key = _pilot_key(model, structure, seed, target_accept)
    if key is not None and key in _PILOTS:
        _PILOTS.move_to_end(key)
        return _PILOTS[key]
    out = _static_depth(compiled, seed, cores, target_accept)
    if key is not None:
        _PILOTS[key] = out
        while len(_PILOTS) > _PILOTS_SIZE:
            _PILOTS.popitem(last=False)
    return out


def _static_depth(compiled, seed: int | None, cores: int, target_accept: float) -> tuple[int | None, float]:
    """Depth of the static trajectories from a short NUTS pilot on the compiled model (2 chains × 150 tune
    + 100 draws, discarded; 300 + 200 chose the same depths on the 7 cases of ``benchmarks/pilot_depth.py``,
    100 + 50 not always): the smallest depth whose 2**depth - 1 steps cover 90 % of the pilot's trajectories
    (at least :data:`STATIC_MIN_DEPTH`); None (keep NUTS) when that is more than :data:`STATIC_MAX_DEPTH`.
    Returns ``(depth, 90th percentile of the pilot's steps per draw)``."""
    import nutpie

    pilot_seed = None if seed is None else int(np.random.SeedSequence([seed, 7]).generate_state(1)[0])
    pilot = nutpie.sample(compiled, draws=PILOT_DRAWS, tune=PILOT_TUNE, chains=2, cores=min(cores, 2),
                          seed=pilot_seed, target_accept=target_accept, progress_bar=False, save_warmup=False)
    q90 = float(np.quantile(pilot.sample_stats["n_steps"].values, 0.9))
    depth = max(STATIC_MIN_DEPTH, math.ceil(math.log2(q90 + 1.0)))
    return (depth if depth <= STATIC_MAX_DEPTH else None), q90


def choose_trajectory(trajectory: str, sampler: str, marginal: bool = False, n_dim: int | None = None) -> str:
    """``"nuts"`` or ``"static"`` for a fit asked for with ``trajectory`` (``"auto"``, ``"nuts"``, ``"static"``).

    ``"auto"`` takes static trajectories for a fully marginal model (every random effect integrated out) sampled
    by nutpie with at most :data:`STATIC_MAX_DIM` unconstrained parameters (the covariance parameters, σ, and β
    only where its prior is not normal): every draw is picked by multinomial sampling along a trajectory of a
    fixed 2**depth - 1 leapfrog steps built by random doubling (nutpie with ``check_turning=False``), a valid
    HMC kernel. In so few dimensions NUTS's U-turn criterion ends many trajectories early, and those draws sit
    close to their predecessors. The depth comes from a short NUTS pilot (:func:`_static_depth`): long enough
    for 90 % of the pilot's trajectories, at least 7 steps; where the pilot needs more than 63, NUTS stays.
    Over seeds 1-5 (2 × 1000 draws, ``python benchmarks/trajectory.py --seeds 1,2,3,4,5``,
    docs/trajectories.md) the worst bulk ESS of the population-level parameters rose on all seven marginal models
    in ``models/`` (radon 1,306 → 1,882, Pastes 825 → 1,748 of 2,000), and a simulated ``(1 + x | g)`` posterior
    with a correlation near −0.99, where NUTS takes 14 steps a draw, goes to 31 (ESS 220 → 630-860 of 1,000).
    Larger models, where trajectories are long anyway and their length must vary from draw to draw, keep NUTS.
    """
    if trajectory not in ("auto", "nuts", "static"):
        raise BayesMixedError(f"trajectory must be 'auto', 'nuts' or 'static', got {trajectory!r}")
    if trajectory == "static" and sampler != "nutpie":
        raise BayesMixedError(
            f"trajectory='static' needs the nutpie sampler (got sampler={sampler!r}): use sampler='nutpie' or "
            "trajectory='nuts'"
        )
    if trajectory == "auto":
        small = n_dim is not None and n_dim <= STATIC_MAX_DIM
        return "static" if sampler == "nutpie" and marginal and small else "nuts"
    return trajectory


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
    parameterization_reason: dict[str, str] = field(default_factory=dict)
    compile_cache_hit: bool = False
    compile_cache: str | None = None  # "memory" (this process), "disk" (an earlier process) or None
    compile_path: str | None = None  # nutpie: "fast" (bayesmixed's cacheable callbacks) or "nutpie" (its own)
    compile_fallback: str | None = None  # why the fast path was not used
    chain_method: str | None = None  # JAX samplers: "parallel" (a device per chain) or "vectorized" (one device)
    trajectory: str = "nuts"  # "static": fixed-length trajectories (choose_trajectory)
    static_steps: int | None = None  # their leapfrog steps
    pilot_nuts_steps_q90: float | None = None  # 90th percentile of the pilot NUTS run's steps per draw

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
            "parameterization_reason": dict(self.parameterization_reason),
            "compile_cache_hit": self.compile_cache_hit,
            "compile_cache": self.compile_cache,
            "compile_path": self.compile_path,
            "compile_fallback": self.compile_fallback,
            "chain_method": self.chain_method,
            "trajectory": self.trajectory,
            "static_steps": self.static_steps,
            "pilot_nuts_steps_q90": self.pilot_nuts_steps_q90,
        }


def _versions(sampler: str) -> dict[str, str]:
    import pymc
    import pytensor

    from ._arviz import version

    out = {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": version()}
    if sampler != "pymc":
        mod = importlib.import_module(_MODULE[sampler])
        out[sampler] = getattr(mod, "__version__", "?")
    return out


class _InterruptWatch:
    """Notice Ctrl-C (SIGINT) while a sampler runs.

    nutpie and PyMC catch the ``KeyboardInterrupt`` of Ctrl-C themselves and return the draws made so far
    (PyMC raises an unrelated ``ValueError`` when it was interrupted during tuning). Inside this context the
    SIGINT handler records the interrupt before handing it to the previous handler, so :func:`run_nuts` can
    raise the ``KeyboardInterrupt`` again instead of returning a truncated posterior. Outside the main thread
    (where handlers cannot be installed) it records nothing.
    """

    def __init__(self) -> None:
        self.interrupted = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> "_InterruptWatch":
        if threading.current_thread() is threading.main_thread():
            previous = signal.getsignal(signal.SIGINT)
            if previous is not None and previous is not signal.SIG_IGN:
                self._previous = previous
                signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def _handler(self, signum, frame) -> None:
        self.interrupted = True
        if callable(self._previous):
            self._previous(signum, frame)
        else:  # SIG_DFL: Python's default is to raise KeyboardInterrupt
            raise KeyboardInterrupt

    def __exit__(self, *exc) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


def _interrupted(done: int | None, draws: int) -> KeyboardInterrupt:
    if done is None:
        return KeyboardInterrupt("sampling was interrupted (the sampler stopped before it had its draws)")
    return KeyboardInterrupt(f"sampling was interrupted (the sampler stopped after {done} of {draws} draws per chain)")


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
    structure: str | None = None,
    trajectory: str = "nuts",
    marginal: bool = False,
):
    """Sample ``model`` with NUTS; returns ``(idata, SamplerInfo)``.

    ``trajectory``: ``"nuts"`` (the No-U-Turn criterion ends each trajectory), ``"static"`` (nutpie only: every
    trajectory has the same number of leapfrog steps, set by a pilot) or ``"auto"``, which
    ``choose_trajectory`` resolves from ``marginal`` (every random effect integrated out) and the compiled
    model's dimension.

    With ``structure`` (a text that identifies everything about the model except its data, e.g. the spec as
    JSON), nutpie reuses a model compiled earlier in this process for the same structure and data shapes, and
    only swaps in the new data: a refit does not pay compilation again.

    Raises
    ------
    KeyboardInterrupt
        Sampling was interrupted (Ctrl-C). nutpie and PyMC stop and return the draws made so far; a truncated
        posterior is never returned, the interrupt is raised again.
    """
    with _InterruptWatch() as watch:
        try:
            idata, info = _run_nuts(
                model, sampler=sampler, draws=draws, tune=tune, chains=chains, seed=seed,
                target_accept=target_accept, progressbar=progressbar, cores=cores, structure=structure,
                trajectory=trajectory, marginal=marginal,
            )
        except Exception as exc:
            if watch.interrupted:  # e.g. PyMC's "Not enough samples to build a trace" after Ctrl-C in tuning
                raise _interrupted(None, draws) from None
            text = str(exc)
            if "initialization points failed" in text or "Initial evaluation of model" in text:
                raise BayesMixedError(
                    f"{sampler} could not start: the model's log-density is not finite at any starting point "
                    f"({text.strip().splitlines()[0]}). This usually means a response far outside what the "
                    "priors and link allow (e.g. counts in the billions under a log link): check the response "
                    "column's scale and units, rescale it, or give priors on the scale of the data."
                ) from exc
            raise
    post = idata.posterior
    done = min(int(post.sizes.get("draw", 0)), draws)
    if watch.interrupted or done < draws or int(post.sizes.get("chain", 0)) < chains:
        raise _interrupted(done, draws)
    return idata, info


def _run_nuts(
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
    structure: str | None = None,
    trajectory: str = "nuts",
    marginal: bool = False,
):
    import pymc as pm

    info = SamplerInfo(sampler, draws, tune, chains, seed, target_accept, _versions(sampler))
    cores = cores or chains
    if sampler == "nutpie":
        import nutpie

        from ._progress import note

        t0 = time.perf_counter()
        note(progressbar, "compiling the model (a structure compiled before is reused in a fraction of a second)")
        done = _compile_nutpie(model, structure)
        compiled = done.model
        t1 = time.perf_counter()
        note(progressbar, f"model ready in {t1 - t0:.1f} s ({done.source or 'compiled'})")
        info.compile_cache_hit = done.source is not None
        info.compile_cache = done.source
        info.compile_path, info.compile_fallback = done.path, done.fallback
        static = choose_trajectory(trajectory, sampler, marginal, compiled.n_dim) == "static"
        settings = {}
        # one BLAS thread per chain: the chains already use the cores, and OpenBLAS threads started inside the
        # small LAPACK calls of a gradient (Cholesky factors of marginal models) fight over them (sleepstudy's
        # marginal model sampled 3-4x slower on 2 cores without this limit)
        with threadpool_limits(limits=1, user_api="blas"):
            if static:
                depth, info.pilot_nuts_steps_q90 = _pilot_depth(model, compiled, structure, seed, cores, target_accept)
                if depth is None and trajectory == "static":  # asked for: the longest static trajectories
                    depth = STATIC_MAX_DEPTH
                info.timings["pilot"] = time.perf_counter() - t1
                if depth is not None:
                    # a doubling tree without U-turn checks: 2**depth - 1 leapfrog steps, the draw picked along it
                    settings = {"check_turning": False, "maxdepth": depth}
                    info.static_steps = 2**depth - 1
            info.trajectory = "static" if settings else "nuts"
            from ._progress import plain_progress_wanted, poll_nutpie

            plain = plain_progress_wanted(progressbar)  # no terminal: plain lines on stderr instead of a bar
            idata = nutpie.sample(
                compiled,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                seed=seed,
                target_accept=target_accept,
                progress_bar=progressbar and not plain,
                save_warmup=False,
                blocking=not plain,
                **settings,
            )
            if plain:
                idata = poll_nutpie(idata, draws=draws, tune=tune, chains=chains)
        idata.sample_stats.attrs["trajectory"] = info.trajectory
        t2 = time.perf_counter()
        info.timings.update(compile=t1 - t0, sample=t2 - t1 - info.timings.get("pilot", 0.0))
    else:
        choose_trajectory(trajectory, sampler)  # "static" is refused here
        extra = {}
        if sampler in ("numpyro", "blackjax"):
            from .backends.quadrature import register_jax as register_quadrature
            from .backends.sparse_op import register_jax as register_sparse

            register_sparse()
            register_quadrature()
            info.chain_method = jax_chain_method(chains)
            extra["nuts_sampler_kwargs"] = {"chain_method": info.chain_method}
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
                **extra,
            )
        info.timings.update(sample=time.perf_counter() - t0)
    return idata, info
