"""The ArviZ adapter: the one module of bayesmixed that imports ArviZ (lazily, inside each function).

It owns what bayesmixed asks of ArviZ: PSIS-LOO, WAIC and the comparison table (returning bayesmixed's own
:class:`~bayesmixed.elpd.ELPD`, never an ArviZ class built at run time), Pareto-smoothed importance weights,
R-hat, ESS and E-BFMI, the InferenceData container (made, read and written as netCDF, groups added and dropped)
and the delegated plots (trace, rank). When ArviZ's API changes (1.x replaces InferenceData with xarray's
DataTree and moves the statistics to ``arviz_stats``), this module is what changes.
"""

from __future__ import annotations

import logging
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from .elpd import ELPD

__all__ = [
    "version", "rhat", "ess", "convergence_stats", "bfmi", "psislw", "loo", "waic", "loo_idata", "compare",
    "to_elpddata",
    "inference_data", "from_dict", "from_netcdf", "to_netcdf", "groups", "set_group", "drop_groups", "copy",
    "plot_trace", "plot_rank",
]


@contextmanager
def _quiet() -> Iterator[None]:
    """ArviZ 0.x's own deprecation warnings (its calls into pandas and xarray): about ArviZ's code, not the
    user's, so they are not passed on (tests keep ArviZ's versions pinned and see them there)."""
    logger = logging.getLogger("arviz")  # its "Shape validation failed" notes for one chain: ours say it better
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            for category in (DeprecationWarning, FutureWarning, PendingDeprecationWarning):
                warnings.filterwarnings("ignore", category=category, module="arviz")
                warnings.filterwarnings("ignore", category=category, module="xarray")
            yield
    finally:
        logger.setLevel(level)


def version() -> str:
    import arviz

    return arviz.__version__


# --------------------------------------------------------------------------------------------- diagnostics
def rhat(idata, var_names: list[str]):
    """Rank-normalised split R-hat (Vehtari et al. 2021) of ``var_names``: an ``xarray.Dataset``."""
    import arviz as az

    with _quiet():
        return az.rhat(idata, var_names=var_names)


def ess(idata, var_names: list[str], method: str = "bulk"):
    """Bulk or tail effective sample size of ``var_names``: an ``xarray.Dataset``."""
    import arviz as az

    with _quiet():
        return az.ess(idata, var_names=var_names, method=method)


def convergence_stats(idata, var_names: list[str]):
    """``(rhat, ess_bulk, ess_tail)`` datasets of ``var_names``; constant entries (the diagonal of a correlation
    matrix) give NaN quietly."""
    with _quiet():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rhat(idata, var_names), ess(idata, var_names, "bulk"), ess(idata, var_names, "tail")


def bfmi(idata) -> np.ndarray:
    """E-BFMI per chain from ``sample_stats.energy``."""
    import arviz as az

    with _quiet():
        warnings.simplefilter("ignore")
        return np.atleast_1d(np.asarray(az.bfmi(idata), dtype=float))


def psislw(log_weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pareto-smoothed log importance weights (normalised) and Pareto k, along the last axis."""
    import arviz as az

    with _quiet():
        warnings.simplefilter("ignore")
        lw, k = az.psislw(np.array(log_weights, dtype=float, copy=True))
    return np.asarray(lw), np.asarray(k)


# ------------------------------------------------------------------------------------------- LOO and WAIC
def _elpd_idata(posterior, log_lik):
    import arviz as az
    import xarray as xr

    return az.InferenceData(posterior=posterior, log_likelihood=xr.Dataset({"y": log_lik}))


def _from_elpddata(res, kind: str, by: str | None = None) -> ELPD:
    index = set(res.index)
    return ELPD(
        kind=kind,
        elpd=float(res[f"elpd_{kind}"]),
        se=float(res["se"]),
        p=float(res[f"p_{kind}"]),
        n_samples=int(res["n_samples"]),
        n_data_points=int(res["n_data_points"]),
        warning=bool(res["warning"]),
        pointwise=res[f"{kind}_i"] if f"{kind}_i" in index else None,
        pareto_k=res["pareto_k"] if "pareto_k" in index else None,
        by=by,
        scale=str(res["scale"]) if "scale" in index else "log",
        good_k=float(res["good_k"]) if "good_k" in index else None,
    )


def loo(posterior, log_lik, by: str | None = None) -> ELPD:
    """PSIS-LOO (pointwise values and Pareto k kept) of ``log_lik`` (``(chain, draw, unit)``), with the relative
    efficiency from the ``posterior`` dataset's variables. ArviZ's warning about Pareto k is left to the caller,
    which names the units."""
    import arviz as az

    with _quiet():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        res = az.loo(_elpd_idata(posterior, log_lik), pointwise=True)
    return _from_elpddata(res, "loo", by)


def waic(posterior, log_lik, by: str | None = None) -> ELPD:
    """WAIC (pointwise values kept); ArviZ's variance warning is left to the caller (``ELPD.warning``)."""
    import arviz as az

    with _quiet():
        warnings.filterwarnings("ignore", message="For one or more samples the posterior variance")
        res = az.waic(_elpd_idata(posterior, log_lik), pointwise=True)
    return _from_elpddata(res, "waic", by)


def loo_idata(idata, kind: str = "loo") -> ELPD:
    """PSIS-LOO or WAIC of any InferenceData with a ``log_likelihood`` group (ArviZ's defaults)."""
    import arviz as az

    with _quiet():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        warnings.filterwarnings("ignore", message="For one or more samples the posterior variance")
        res = (az.loo if kind == "loo" else az.waic)(idata, pointwise=True)
    return _from_elpddata(res, kind)


def to_elpddata(est: ELPD):
    """ArviZ's ``ELPDData`` of an estimate; k-fold under PSIS-LOO's names (what ``arviz.compare`` reads)."""
    from arviz.stats.stats_utils import ELPDData

    kind = "waic" if est.kind == "waic" else "loo"
    data: dict[str, Any] = {
        f"elpd_{kind}": est.elpd, "se": est.se, f"p_{kind}": est.p, "n_samples": est.n_samples,
        "n_data_points": est.n_data_points, "warning": est.warning,
    }
    if est.pointwise is not None:
        data[f"{kind}_i"] = est.pointwise.rename(f"{kind}_i")
    if est.pareto_k is not None:
        data["pareto_k"] = est.pareto_k
    data["scale"] = est.scale
    if est.good_k is not None:
        data["good_k"] = est.good_k
    return ELPDData(data=list(data.values()), index=list(data.keys()))


def compare(estimates: dict[str, ELPD], method: str = "stacking", **kwargs):
    """ArviZ's comparison table (rank, elpd, p, elpd_diff, weight, se, dse, warning, scale) of estimates of one
    kind family (PSIS-LOO and k-fold compare under PSIS-LOO's names)."""
    import arviz as az

    ic = "waic" if all(e.kind == "waic" for e in estimates.values()) else "loo"
    converted = {name: to_elpddata(e) for name, e in estimates.items()}
    with _quiet():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        warnings.filterwarnings("ignore", message="The scale is now log by default")
        return az.compare(converted, ic=ic, method=method, **kwargs)


# ------------------------------------------------------------------------------- InferenceData and I/O
def inference_data(**groups):
    """An InferenceData of the given groups (``xarray.Dataset`` each)."""
    import arviz as az

    return az.InferenceData(**groups)


def from_dict(**groups):
    """An InferenceData from dicts of arrays shaped ``(chain, draw, ...)``."""
    import arviz as az

    with _quiet():
        return az.from_dict(**groups)


def from_netcdf(path):
    """Read an InferenceData from a netCDF file, every group loaded into memory (the file can then go)."""
    import arviz as az

    try:
        with _quiet(), az.rc_context({"data.load": "eager"}):
            return az.from_netcdf(str(path), engine="h5netcdf")
    except Exception as err:
        _release_half_open_files(err)
        raise


def _release_half_open_files(err: BaseException) -> None:
    """h5netcdf leaves a half-made ``File`` in the frames of the error when a damaged file fails to open; its
    ``__del__`` would print "Exception ignored in: File.close ... AttributeError" whenever the error is dropped.
    Free it now, quietly (the caller reports the damaged file)."""
    import gc
    import sys
    import traceback

    hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        traceback.clear_frames(err.__traceback__)
        gc.collect()
    finally:
        sys.unraisablehook = hook


def to_netcdf(idata, path) -> None:
    """Write an InferenceData (every group) to a netCDF file."""
    with _quiet():
        idata.to_netcdf(str(path), engine="h5netcdf")


def groups(idata) -> list[str]:
    return list(idata.groups())


def set_group(idata, name: str, dataset) -> None:
    """Add group ``name`` to ``idata`` in place, replacing one of that name."""
    if name in idata.groups():
        delattr(idata, name)
    idata.add_groups({name: dataset})


def drop_groups(idata, names) -> None:
    """Remove the groups ``names`` (those present) from ``idata`` in place."""
    for name in names:
        if name in idata.groups():
            delattr(idata, name)


def copy(idata):
    return idata.copy()


# ------------------------------------------------------------------------------------------------- plots
def plot_trace(data, axes) -> None:
    import arviz as az

    with _quiet():
        warnings.simplefilter("ignore")
        az.plot_trace(data, axes=axes, compact=False, combined=False, show=False)


def plot_rank(data, axes) -> None:
    import arviz as az

    with _quiet():
        warnings.simplefilter("ignore")
        az.plot_rank(data, ax=axes, show=False)
