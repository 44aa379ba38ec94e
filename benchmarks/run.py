"""Run the benchmarks: every tool on every case, each fit in a fresh process.

Examples (from the repository root)::

    python benchmarks/run.py
    python benchmarks/run.py --cases sleepstudy,radon --tools bayesmixed,bambi --warm
    python benchmarks/run.py --all                     # adds InstEval
    python benchmarks/run.py --sweep --sweep-points 1e3x10,1e4x100,1e5x1000

Writes ``<out>/<timestamp>.json`` (the record) and ``<out>/<timestamp>.md``
(the tables), copies them to ``<out>/latest.{json,md}`` and the tables to
``docs/benchmarks.md`` (unless ``--no-docs``). Logs of every fit are kept in
``<out>/work/<timestamp>/logs``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.cases import CASES, DEFAULT_CASES, REPO_ROOT, get_case  # noqa: E402
from benchmarks.references import load_reference  # noqa: E402
from benchmarks.report import collapse, ratios, render  # noqa: E402
from benchmarks.runners import ALL_TOOLS, DEFAULT_TOOLS, run_fit  # noqa: E402
from benchmarks.runners.python_tools import Settings  # noqa: E402
from benchmarks.runners.r_tools import R_TOOLS, r_missing, r_versions  # noqa: E402
from benchmarks.sweep import DEFAULT_LEVELS, DEFAULT_ROWS, TRUTH, grid, parse_sizes  # noqa: E402


def _split(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description="bayesmixed benchmarks (see benchmarks/README.md)")
    ap.add_argument("--cases", help=f"comma list from {', '.join(CASES)} (default: {','.join(DEFAULT_CASES)})")
    ap.add_argument("--all", action="store_true", help="every case, the large InstEval included")
    ap.add_argument("--tools", default=",".join(DEFAULT_TOOLS), help=f"comma list from {', '.join(ALL_TOOLS)}")
    ap.add_argument("--draws", type=int, default=1000)
    ap.add_argument("--tune", type=int, default=1000)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--cores", type=int, help="parallel chains for every tool (default: min(chains, CPUs))")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--warm", action="store_true",
                    help="also time a second bayesmixed fit in the same process after the first")
    ap.add_argument("--sweep", action="store_true", help="run the rows x levels scaling sweep")
    ap.add_argument("--sweep-rows", default=",".join(map(str, DEFAULT_ROWS)))
    ap.add_argument("--sweep-levels", default=",".join(map(str, DEFAULT_LEVELS)))
    ap.add_argument("--sweep-points", help="explicit points, e.g. 1e3x10,1e5x1e3 (overrides rows/levels)")
    ap.add_argument("--sweep-tools", default="bayesmixed", help="Python tools for the sweep")
    ap.add_argument("--repeats", type=int, default=1,
                    help="fit each case/tool this many times (fresh process each); tables show the median")
    ap.add_argument("--timeout", type=float, default=3600, help="seconds per fit before it is killed")
    ap.add_argument("--skip", default="",
                    help="case:tool pairs not to run, e.g. insteval:rstanarm,insteval:brms (reported as not run)")
    ap.add_argument("--compile-cache", choices=("shared", "fresh"), default="shared",
                    help="shared: keep PyTensor/numba disk caches between fits; fresh: empty cache per fit")
    ap.add_argument("--out", default=str(REPO_ROOT / "benchmarks" / "results"))
    ap.add_argument("--docs", default=str(REPO_ROOT / "docs" / "benchmarks.md"))
    ap.add_argument("--title", default="Benchmarks", help="the report's heading (docs pages need distinct titles)")
    ap.add_argument("--no-docs", action="store_true", help="do not update docs/benchmarks.md")
    args = ap.parse_args(argv)
    if args.cases is None:
        args.cases = ",".join(CASES) if args.all else ("" if args.sweep else ",".join(DEFAULT_CASES))
    return args


def machine_info() -> dict[str, object]:
    """CPU model, core count, memory and OS of this machine."""
    info: dict[str, object] = {"os": platform.platform(terse=True), "cores": os.cpu_count(),
                               "python": platform.python_version()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    return info


def python_versions() -> dict[str, str]:
    """Installed versions of the Python packages involved (without importing them)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("bayesmixed", "bambi", "pymc", "pytensor", "nutpie", "arviz", "numpy", "pandas"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "source tree" if pkg == "bayesmixed" and (REPO_ROOT / "bayesmixed").is_dir() else "-"
    return out


def _progress(i: int, n: int, recs: list[dict]) -> None:
    for r in recs:
        head = f"[{i}/{n}] {r['case']:<18} {r['tool']:<16} {r.get('mode', 'cold'):<5}"
        if r.get("status") == "ok":
            print(f"{head} ok  wall {r['wall_s']:7.1f} s  min ESS {r.get('min_ess_bulk') or 0:7.0f}  "
                  f"ESS/s {r.get('ess_per_s') or 0:7.1f}  div {r.get('divergences')}  "
                  f"R-hat {r.get('max_rhat') or float('nan'):.3f}  RSS {r.get('peak_rss_mb') or 0:.0f} MiB",
                  flush=True)
        else:
            err = (r.get("error") or "").strip().splitlines()
            print(f"{head} {r.get('status')}: {err[-1] if err else ''}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM -> SystemExit, so that the harness kills the running fit's process group too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tools = _split(args.tools)
    for t in tools + _split(args.sweep_tools):
        if t not in ALL_TOOLS:
            raise SystemExit(f"unknown tool {t!r}; known: {', '.join(ALL_TOOLS)}")
    cases = [get_case(c) for c in _split(args.cases)]
    cores = args.cores or max(1, min(args.chains, os.cpu_count() or 1))
    settings = Settings(args.draws, args.tune, args.chains, cores, args.seed)

    started = dt.datetime.now().astimezone()
    stamp = started.strftime("%Y%m%d-%H%M%S")
    out_dir = Path(args.out)
    workdir = out_dir / "work" / stamp
    command = "python benchmarks/run.py" + ("" if not sys.argv[1:] else " " + shlex.join(sys.argv[1:]))

    wanted_r = [t for t in tools if t in R_TOOLS]
    for t in wanted_r:
        why = r_missing(t)
        if why:
            print(f"note: {t} will be reported as not installed ({why}). "
                  "Install R with: apt-get update && apt-get install -y --no-install-recommends "
                  "r-base-core r-cran-lme4 r-cran-rstanarm r-cran-brms r-cran-posterior", flush=True)

    record: dict = {
        "schema": 1,
        "command": command,
        "title": args.title,
        "started": started.isoformat(timespec="seconds"),
        "machine": machine_info(),
        "settings": {**settings.__dict__, "compile_cache": args.compile_cache, "timeout_s": args.timeout,
                     "repeats": args.repeats},
        "versions": {**python_versions(), **(r_versions() if wanted_r else {})},
        "references": {},
        "results": [],
        "sweep": [],
    }

    jobs = [("case", c, t, k) for c in cases for t in tools for k in range(args.repeats)]
    points = []
    if args.sweep:
        points = grid(parse_sizes(args.sweep_rows), parse_sizes(args.sweep_levels), args.sweep_points)
        jobs += [("sweep", p, t, k) for p in points for t in _split(args.sweep_tools) for k in range(args.repeats)]
    print(f"{len(jobs)} fits: {settings.chains} chains x {settings.tune} tune x {settings.draws} draws, "
          f"{settings.cores} cores; logs in {workdir / 'logs'}", flush=True)

    for c in cases:
        values, source = load_reference(c.name, c.dataset)
        record["references"][c.name] = {"values": values, "source": source}
        if c.alt_reference:
            alt_values, alt_source = load_reference(c.alt_reference[0])
            record["references"][c.name]["alt"] = {"label": c.alt_reference[1], "values": alt_values,
                                                   "source": alt_source}
    if points:
        record["references"]["sweep"] = {"values": TRUTH, "source": "simulation truth"}

    skip = {tuple(p.split(":", 1)) for p in _split(args.skip)}
    for i, (kind, what, tool, rep) in enumerate(jobs, 1):
        warm = args.warm and tool.startswith("bayesmixed")
        if kind == "case" and what.tools is not None and tool.split("-")[0] not in what.tools:
            recs = [{"case": what.name, "tool": tool, "mode": "cold", "rep": rep,
                     "status": "not run (" + (what.note_for(tool) or f"{tool} cannot fit this model") + ")"}]
            record["results"] += recs
        elif kind == "case" and (what.name, tool) in skip:
            recs = [{"case": what.name, "tool": tool, "mode": "cold", "rep": rep,
                     "status": "not run (--skip " + what.name + ":" + tool + ")"}]
            record["results"] += recs
        elif kind == "case":
            recs = run_fit(tool, settings, workdir, case=what, warm=warm, timeout_s=args.timeout,
                           compile_cache=args.compile_cache, rep=rep)
            record["results"] += recs
        else:
            recs = run_fit(tool, settings, workdir, sweep_point=what, timeout_s=args.timeout,
                           compile_cache=args.compile_cache, rep=rep)
            record["sweep"] += recs
        _progress(i, len(jobs), recs)

    record["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    record["ratios"] = ratios(collapse(record["results"]))
    markdown = render(record)

    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{stamp}.json").write_text(json.dumps(record, indent=1, default=str))
    (out_dir / f"{stamp}.md").write_text(markdown)
    shutil.copyfile(out_dir / f"{stamp}.json", out_dir / "latest.json")
    shutil.copyfile(out_dir / f"{stamp}.md", out_dir / "latest.md")
    print(f"\nwrote {out_dir / (stamp + '.json')} and {out_dir / (stamp + '.md')}")
    if not args.no_docs:
        Path(args.docs).parent.mkdir(parents=True, exist_ok=True)
        Path(args.docs).write_text(markdown)
        print(f"updated {args.docs}")
    print()
    print(markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
