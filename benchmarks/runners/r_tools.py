"""rstanarm and brms through ``Rscript benchmarks/r/fit.R`` in a fresh process.

The R script times the fit call itself (for brms that includes translating
the model to Stan and compiling it with the C++ toolchain), computes bulk/tail
ESS and R-hat with the ``posterior`` package on the population-level
parameters, and sums ``n_leapfrog__`` and ``divergent__`` from
``rstan::get_sampler_params``. This module builds the command and reads the
results back. Without ``Rscript`` or a needed R package the tool is reported
as "not installed"; install with::

    apt-get update && apt-get install -y --no-install-recommends \\
        r-base-core r-cran-lme4 r-cran-rstanarm r-cran-brms r-cran-posterior
"""

from __future__ import annotations

import csv
import functools
import math
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..cases import Case
from .python_tools import Settings

R_SCRIPT = Path(__file__).resolve().parents[1] / "r" / "fit.R"
R_TOOLS = ("rstanarm", "brms")
INSTALL_HINT = ("apt-get update && apt-get install -y --no-install-recommends "
                "r-base-core r-cran-lme4 r-cran-rstanarm r-cran-brms r-cran-posterior")


@functools.cache
def r_missing(tool: str) -> str | None:
    """Why ``tool`` cannot run here (``None`` when it can)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return "Rscript not found"
    expr = (f'ok <- sapply(c("{tool}", "posterior", "rstan"), requireNamespace, quietly = TRUE); '
            'if (!all(ok)) cat(names(ok)[!ok], sep = ","); quit(status = !all(ok))')
    try:
        res = subprocess.run([rscript, "--vanilla", "-e", expr], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"Rscript failed: {exc}"
    if res.returncode != 0:
        return f"R package(s) missing: {res.stdout.strip() or res.stderr.strip()[-200:]}"
    return None


def r_versions() -> dict[str, str]:
    """Versions of R and the R packages used (empty without R)."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return {}
    expr = ('pk <- c("rstanarm", "brms", "rstan", "posterior", "lme4"); '
            'for (p in pk) cat(p, tryCatch(as.character(packageVersion(p)), error = function(e) "-"), "\\n"); '
            'cat("R", paste(R.version$major, R.version$minor, sep = "."), "\\n")')
    try:
        res = subprocess.run([rscript, "--vanilla", "-e", expr], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return dict(line.split() for line in res.stdout.splitlines() if len(line.split()) == 2)


def r_command(tool: str, case: Case, settings: Settings, outdir: Path) -> list[str]:
    """The ``Rscript`` command line fitting ``case`` with ``tool``."""
    return [
        shutil.which("Rscript") or "Rscript", "--vanilla", str(R_SCRIPT),
        "--tool", tool,
        "--data", str(case.csv_path),
        "--formula", case.formula_for(tool),
        "--family", case.family,
        "--factors", ",".join(case.factors),
        "--chains", str(settings.chains),
        "--warmup", str(settings.tune),
        "--draws", str(settings.draws),
        "--seed", str(settings.seed),
        "--cores", str(settings.cores),
        "--out", str(outdir),
    ]


def _num(x: str) -> float:
    try:
        return float(x)
    except ValueError:
        return math.nan


def read_r_output(outdir: Path) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """Per-parameter summary and key/value stats written by ``fit.R``."""
    params: dict[str, dict[str, float]] = {}
    with open(outdir / "summary.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            params[row["variable"]] = {k: _num(row[k]) for k in ("mean", "sd", "ess_bulk", "ess_tail", "rhat")}
    stats: dict[str, Any] = {}
    with open(outdir / "stats.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            v = row["value"]
            stats[row["key"]] = v if row["key"].startswith("version") else _num(v)
    return params, stats
