"""Sampling a model into the parts of a :class:`~bayesmixed.fit.Fit`: the one entry point that ``Model.fit``,
k-fold cross-validation and calibration call.

:func:`sample` builds the PyMC model of a spec and design, samples it (:mod:`bayesmixed.sampling`), draws the
random effects that were integrated out, attaches the pointwise log-likelihood and returns the InferenceData
and ``sampler_info``; :func:`quiet_refit` is the same for a refit on a worker. Nothing here imports
:mod:`bayesmixed.fit`, so the modules that refit (:mod:`bayesmixed.compare`, :mod:`bayesmixed.calibrate`) do
not import the module that defines the result object.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _arviz
from . import _validate as V
from . import naming as N
from . import summaries as S
from .design import Design
from .errors import BayesMixedError
from .spec import ModelSpec

__all__ = ["sample", "quiet_refit", "Refit"]

_LOGLIK_LIMIT = 2e8


def sample(
    spec: ModelSpec,
    design: Design,
    *,
    draws: int,
    tune: int,
    chains: int,
    seed: int | None,
    sampler: str,
    target_accept: float,
    progressbar: bool,
    cores: int | None,
    log_likelihood: bool | str,
    trajectory: str = "auto",
) -> tuple[Any, dict]:
    """Build the model, sample it, attach the pointwise log-likelihood, drop internal variables.

    Returns ``(idata, sampler_info)``: the InferenceData of a :class:`~bayesmixed.fit.Fit` and what ran (a dict).
    """
    from .backends.pymc import build_model, centring_head
    from .sampling import choose_trajectory, resolve_sampler, run_nuts

    draws, tune, chains = (V.whole_number("draws", draws, 1), V.whole_number("tune", tune, 0),
                           V.whole_number("chains", chains, 1))
    target_accept = V.probability("target_accept", target_accept)
    seed, cores = V.seed(seed), V.cores(cores)
    log_likelihood = V.flag_or_auto("log_likelihood", log_likelihood)
    if not isinstance(sampler, str):
        raise BayesMixedError(f"sampler must be a name such as 'auto' or 'nutpie', got {sampler!r}")
    sampler = resolve_sampler(sampler)
    choose_trajectory(trajectory, sampler)  # a bad name or "static" with another sampler, before compiling
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        # PyTensor's note that pip's install has no BLAS to link its C code to: nutpie runs numba code, and the
        # note is about PyTensor's packaging, not about the user's model
        warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
        model = build_model(spec, design)
    t_build = time.perf_counter() - t0
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PyTensor could not link to a BLAS")
            idata, info = run_nuts(
                model,
                sampler=sampler,
                draws=int(draws),
                tune=int(tune),
                chains=int(chains),
                seed=seed,
                target_accept=target_accept,
                progressbar=progressbar,
                cores=cores,
                structure=json.dumps(spec.to_dict(), sort_keys=True),
                trajectory=trajectory,
                marginal=bool(spec.integrated),
            )
    except KeyboardInterrupt as e:  # propagate, saying that no Fit (and no file) came of it
        why = str(e.args[0]) if e.args else "sampling was interrupted by the user"
        raise KeyboardInterrupt(f"{why}; no fit was returned and nothing was written") from None
    info.timings["build"] = t_build
    if spec.marginal or spec.marginal_term or spec.quadrature_term or centring_head(spec, design) is not None:
        from ._progress import note

        note(progressbar, "drawing the random effects that were integrated out")
    info.parameterization = dict(spec.parameterization)
    info.parameterization_reason = dict(spec.parameterization_reason)
    head = centring_head(spec, design)
    if head is not None:  # the head's level means were integrated out of the next term's prior
        from .marginal import draw_centring_head

        t1 = time.perf_counter()
        chain_effects = draw_centring_head(idata.posterior, *head, seed)
        info.timings["draw_random_effects"] = time.perf_counter() - t1
    idata = _public(idata, design)
    if head is not None:
        _add_random_effects(idata, design, chain_effects)
    if spec.marginal:
        from .marginal import draw_random_effects, gaussian_fixed_prior

        t1 = time.perf_counter()
        _add_random_effects(
            idata, design, draw_random_effects(idata, design, seed, gaussian_fixed_prior(spec.prior_dict(), design))
        )
        info.timings["draw_random_effects"] = time.perf_counter() - t1
    elif spec.quadrature_term is not None:
        from .quadrature import draw_term

        t1 = time.perf_counter()
        _add_random_effects(idata, design, draw_term(idata, design, spec.family_obj.quadrature_kernel,
                                                       spec.quadrature_term, seed))
        info.timings["draw_random_effects"] = info.timings.get("draw_random_effects", 0.0) + time.perf_counter() - t1
    if spec.marginal_term is not None:
        from .marginal import draw_marginal_term

        t1 = time.perf_counter()
        _add_random_effects(idata, design, draw_marginal_term(idata, design, spec.marginal_term, seed))
        info.timings["draw_random_effects"] = info.timings.get("draw_random_effects", 0.0) + time.perf_counter() - t1
    want = log_likelihood
    if want == "auto":
        want = design.n * draws * chains <= _LOGLIK_LIMIT
    if want:
        from .loglik import add_log_likelihood

        t1 = time.perf_counter()
        add_log_likelihood(idata, spec, design)
        info.timings["log_likelihood"] = time.perf_counter() - t1
    idata.posterior.attrs["bayesmixed_spec"] = repr(spec.to_dict())
    return idata, info.as_dict()


@dataclass(frozen=True)
class Refit:
    """A refit made on a worker (k-fold, calibration): its InferenceData, divergences, and the max R-hat and min
    bulk ESS over the population-level parameters (NaN with one chain)."""

    idata: Any
    divergences: int
    max_rhat: float
    min_ess_bulk: float


def quiet_refit(spec: ModelSpec, design: Design, seed: int, settings: dict, cores: int = 1) -> Refit:
    """A refit on a worker (k-fold, calibration): no progress bar, ``cores`` cores (the chains side by side up
    to that many), no log-likelihood, PyMC's "Initializing NUTS..." lines and warnings silenced."""
    import logging
    import warnings

    logger = logging.getLogger("pymc")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            idata, _ = sample(spec, design, seed=seed, progressbar=False, cores=cores, log_likelihood=False,
                              **settings)
            divergences = int(idata.sample_stats["diverging"].sum())
            if idata.posterior.sizes["chain"] < 2:  # R-hat needs two chains
                return Refit(idata, divergences, float("nan"), float("nan"))
            diag = S.convergence(idata)
    finally:
        logger.setLevel(level)
    return Refit(idata, divergences, float(np.nanmax(diag["r_hat"].values)), float(np.nanmin(diag["ess_bulk"].values)))


def _add_random_effects(idata, design: Design, draws: dict[str, np.ndarray]) -> None:
    import xarray as xr

    post = idata.posterior
    new = {}
    if N.BETA in draws:  # fixed effects integrated out and drawn with the random effects
        new[N.BETA] = xr.DataArray(
            draws[N.BETA],
            dims=("chain", "draw", N.COEF),
            coords={"chain": post["chain"].values, "draw": post["draw"].values, N.COEF: list(design.x_names)},
        )
    for b in design.blocks:
        if N.r(b.label) not in draws:  # sampled (the other terms of a partly marginal model)
            continue
        new[N.r(b.label)] = xr.DataArray(
            draws[N.r(b.label)],
            dims=("chain", "draw", b.label, N.coef_dim(b.label)),
            coords={
                "chain": post["chain"].values,
                "draw": post["draw"].values,
                b.label: list(b.levels),
                N.coef_dim(b.label): list(b.coef_names),
            },
        )
    idata.posterior = post.assign(new)


def _public(idata, design: Design):
    """Drop internal variables (``N.is_internal``: names starting with ``_``), the unconstrained values some
    samplers store (``sigma_log__``: PyMC's ``<name>_<transform>__``) and the coordinates only those used
    (``_b_dim_0``), and make ``observed_data`` hold the response."""
    post = idata.posterior
    internal = [v for v in post.data_vars if N.is_internal(v) or v.endswith("__")]
    if internal:
        post = post.drop_vars(internal)
    used = {d for v in post.data_vars for d in post[v].dims} | {"chain", "draw"}
    unused = [c for c in post.coords if not set(post[c].dims) <= used]
    idata.posterior = post.drop_vars(unused) if unused else post
    _arviz.drop_groups(idata, ("constant_data", "observed_data"))
    _arviz.set_group(idata, "observed_data", S.observed_data(design))
    return idata
