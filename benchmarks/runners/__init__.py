"""One runner per tool, behind a single :func:`run_fit`.

Tools: ``bayesmixed`` (nutpie), ``bayesmixed-pymc`` (PyMC NUTS), ``bambi``
(bambi 0.17 with its default PyMC NUTS), ``bambi-nutpie``, ``rstanarm`` and
``brms``. Every fit runs in a fresh subprocess (:mod:`benchmarks.harness`);
:func:`run_fit` turns what it left behind into uniform result records.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from ..cases import Case
from ..harness import child_env, python_cmd, run_child
from ..metrics import efficiency
from .python_tools import PYTHON_TOOLS, Settings
from .r_tools import INSTALL_HINT, R_TOOLS, r_command, r_missing, read_r_output

ALL_TOOLS = (*PYTHON_TOOLS, *R_TOOLS)
DEFAULT_TOOLS = ("bayesmixed", "bambi", "bambi-nutpie", "rstanarm", "brms")


def bayesmixed_revision() -> str | None:
    """Git revision of the bayesmixed sources: ``abc1234``, or ``abc1234+dirty.<digest>`` with local edits."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=30)
        if rev.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--", "bayesmixed"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    if not dirty:
        return rev.stdout.strip()
    # Uncommitted changes: add a digest of the sources, so that edits between fits show up.
    digest = hashlib.sha1()
    for f in sorted((root / "bayesmixed").rglob("*.py")):
        digest.update(f.read_bytes())
    return f"{rev.stdout.strip()}+dirty.{digest.hexdigest()[:7]}"


def _base(tool: str, label: str, case: Case | None) -> dict[str, Any]:
    return {
        "case": label,
        "tool": tool,
        "mode": "cold",
        "formula": case.formula_for(tool) if case else None,
        "note": case.note_for(tool) if case else "",
    }


def run_fit(tool: str, settings: Settings, workdir: Path, *, case: Case | None = None,
            sweep_point: tuple[int, int] | None = None, warm: bool = False,
            timeout_s: float = 3600, compile_cache: str = "shared", rep: int = 0) -> list[dict[str, Any]]:
    """Fit one case (or one sweep point) with ``tool`` in a fresh process.

    Returns one record (two with ``warm`` for Python tools: the cold fit and
    a second fit in the same process). ``status`` is ``ok``, ``error``,
    ``timeout``, ``not installed`` (R tools) or ``not available`` (a Python
    tool that cannot be imported). ``rep`` numbers repeats (logs, ``rep`` field).
    """
    label = case.name if case else f"sweep {sweep_point[0]}x{sweep_point[1]}"
    stem = f"{label.replace(' ', '_')}__{tool}" + (f"__rep{rep}" if rep else "")
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "logs" / f"{stem}.log"
    base = {**_base(tool, label, case), "rep": rep}
    if tool.startswith("bayesmixed"):
        base["bayesmixed_rev"] = bayesmixed_revision()
    if sweep_point:
        base.update(rows=sweep_point[0], levels=sweep_point[1])

    if tool in R_TOOLS:
        if sweep_point:
            return [{**base, "status": "skipped", "error": "the sweep runs Python tools only"}]
        why = r_missing(tool)
        if why:
            return [{**base, "status": "not installed", "error": f"{why}; install with: {INSTALL_HINT}"}]
        outdir = workdir / "r" / stem
        proc = run_child(r_command(tool, case, settings, outdir), log, timeout_s)
        if proc.timed_out:
            return [{**base, "status": "timeout", "process_wall_s": proc.process_wall_s,
                     "error": f"killed after {timeout_s:.0f} s"}]
        if proc.returncode != 0 or not (outdir / "stats.csv").exists():
            return [{**base, "status": "error", "process_wall_s": proc.process_wall_s,
                     "error": proc.log_tail()}]
        params, stats = read_r_output(outdir)
        n_chains, n_draws = int(stats["n_chains"]), int(stats["n_draws_per_chain"])
        rec = {**base, "status": "ok", "wall_s": stats["wall_s"], "sampling_s": stats.get("sampling_s"),
               "load_s": stats.get("load_s"),
               # rstan's parallel chains run in PSOCK workers that R does not reap: their CPU time
               # is invisible to proc.time(), so CPU s is only reported for sequential chains.
               "cpu_s": stats.get("cpu_s") if settings.cores == 1 else None,
               "load_before": stats.get("load_before"), "process_wall_s": proc.process_wall_s,
               "peak_rss_mb": proc.peak_rss_mb, "params": params,
               "info": {"versions": {k[len("version_"):]: v for k, v in stats.items() if k.startswith("version_")}},
               **efficiency(params, wall_s=stats["wall_s"], n_chains=n_chains, n_draws=n_draws,
                            n_steps_total=stats.get("n_leapfrog"), divergences=int(stats["divergent"]))}
        return [rec]

    if tool not in PYTHON_TOOLS:
        raise ValueError(f"unknown tool {tool!r}; known: {', '.join(ALL_TOOLS)}")
    out_json = workdir / "child" / f"{stem}.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    args = ["--tool", tool, "--draws", str(settings.draws), "--tune", str(settings.tune),
            "--chains", str(settings.chains), "--cores", str(settings.cores), "--seed", str(settings.seed),
            "--out", str(out_json)]
    args += ["--sweep", f"{sweep_point[0]},{sweep_point[1]}"] if sweep_point else ["--case", case.name]
    if warm:
        args.append("--warm")
    env = child_env(compile_cache, workdir / "cache" / stem)
    if tool.startswith("bayesmixed"):
        # bayesmixed keeps each compiled structure on disk (bayesmixed/_nutpie_compile.py); the cold fit starts
        # from an empty cache of its own, so it compiles, and with --warm a second fresh process then fits the
        # same case from what the first one left ("cached": a user's next session with the same model)
        bm_cache = workdir / "cache" / stem / "bayesmixed"
        shutil.rmtree(bm_cache, ignore_errors=True)
        env["BAYESMIXED_CACHE_DIR"] = str(bm_cache)
    recs = _python_child(args, base, log, timeout_s, env, out_json, "cold")
    if recs and warm and len(recs) == 2:
        recs[1]["note"] = "second fit in the same process (warm)"
    if warm and tool.startswith("bayesmixed") and recs and all(r["status"] == "ok" for r in recs):
        again = [a for a in args if a != "--warm"]
        cached = _python_child(again, base, log.with_name(log.stem + "__cached.log"), timeout_s, env, out_json,
                               "cached")
        for r in cached:
            r["mode"] = "cached"
            if r["status"] == "ok":
                r["note"] = "fresh process, the structure compiled by the cold fit's process (disk cache)"
        recs += cached
    return recs


def _python_child(args, base, log, timeout_s, env, out_json, mode) -> list[dict[str, Any]]:
    """Run benchmarks.child once; one record per fit it made, or one saying why it made none."""
    out_json.unlink(missing_ok=True)
    proc = run_child(python_cmd("benchmarks.child", *args), log, timeout_s, env=env,
                     cwd=Path(__file__).resolve().parents[2])
    try:
        payload = json.loads(out_json.read_text())
    except (OSError, json.JSONDecodeError):
        payload = {"fits": []}
    recs = []
    for fit in payload.get("fits", []):
        recs.append({**base, "status": "ok", "import_s": payload.get("import_s"),
                     "process_wall_s": proc.process_wall_s, "process_peak_rss_mb": proc.peak_rss_mb, **fit})
    later = "warm" if mode == "cold" else mode
    if proc.timed_out:
        recs.append({**base, "mode": later if recs else mode, "status": "timeout",
                     "process_wall_s": proc.process_wall_s, "error": f"killed after {timeout_s:.0f} s"})
    elif "error" in payload or proc.returncode != 0:
        status = "not available" if payload.get("unavailable") else "error"
        err = payload.get("error") or proc.log_tail()
        recs.append({**base, "mode": later if recs else mode, "status": status,
                     "process_wall_s": proc.process_wall_s, "error": err})
    return recs
