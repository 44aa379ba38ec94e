"""Markdown tables from a benchmark JSON record (see :mod:`benchmarks.run`).

Can also be run on its own to re-render a record::

    python -m benchmarks.report benchmarks/results/latest.json > table.md
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from .metrics import is_trustworthy

PEER_ORDER = ("bambi", "bambi-nutpie", "rstanarm", "brms")


def _f(x: Any, nd: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:,.{nd}f}"


def _md(text: str) -> str:
    """Escape the pipes in parameter names such as ``sd(Intercept|Subject)`` for tables."""
    return str(text).replace("|", "\\|")


_MODE_LABEL = {"warm": " (warm)", "cached": " (cached)"}


def _tool_label(rec: dict[str, Any]) -> str:
    return rec["tool"] + _MODE_LABEL.get(rec.get("mode"), "")


def _is_bayesmixed(tool: str) -> bool:
    return tool.startswith("bayesmixed")


def collapse(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per (case, tool, mode, sweep point): with ``--repeats``, the median-wall repeat.

    The chosen record gains ``repeats`` and ``wall_range`` (min, max over the
    successful repeats); order of first appearance is kept.
    """
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in results:
        key = (r["case"], r["tool"], r.get("mode", "cold"), r.get("rows"), r.get("levels"))
        groups.setdefault(key, []).append(r)
    out = []
    for recs in groups.values():
        ok = sorted((r for r in recs if r.get("status") == "ok"), key=lambda r: r["wall_s"])
        if len(recs) == 1 or not ok:
            out.append(recs[0] if not ok else ok[0])
            continue
        chosen = dict(ok[(len(ok) - 1) // 2])
        chosen["repeats"] = len(ok)
        chosen["wall_range"] = (ok[0]["wall_s"], ok[-1]["wall_s"])
        out.append(chosen)
    return out


def ratios(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """bayesmixed's ESS/s over bambi's and over the best trustworthy peer's, per case.

    Peers count with their cold fits; bayesmixed's warm refit (``--warm``: the same structure again in one
    process, compile cache hit) and its cached fit (a second fresh process that finds the structure the first
    compiled on disk) get rows of their own beside its cold fit. The best peer is the fastest peer without
    divergences and with R-hat <= 1.01; if no peer qualifies, the fastest
    peer that finished, flagged ``best_peer_untrusted``.
    """
    out = []
    cases = list(dict.fromkeys(r["case"] for r in results))
    for case in cases:
        rows = [r for r in results if r["case"] == case and r.get("mode") == "cold" and r.get("status") == "ok"]
        peers = [r for r in rows if not _is_bayesmixed(r["tool"]) and r.get("ess_per_s")]
        trusted = [r for r in peers if is_trustworthy(r)]
        pool = trusted or peers
        best = max(pool, key=lambda r: r["ess_per_s"]) if pool else None
        bambi = next((r for r in peers if r["tool"] == "bambi"), None)
        later = [r for r in results if r["case"] == case and r.get("mode") in ("cached", "warm")
                 and r.get("status") == "ok"]
        later.sort(key=lambda r: r.get("mode") != "cached")  # cold, cached, warm
        for bm in (r for r in rows + later if _is_bayesmixed(r["tool"]) and r.get("ess_per_s")):
            out.append({
                "case": case,
                "tool": _tool_label(bm),
                "ess_per_s": bm["ess_per_s"],
                "trustworthy": is_trustworthy(bm),
                "bambi_ess_per_s": bambi["ess_per_s"] if bambi else None,
                "ratio_vs_bambi": bm["ess_per_s"] / bambi["ess_per_s"] if bambi else None,
                "best_peer": best["tool"] if best else None,
                "best_peer_ess_per_s": best["ess_per_s"] if best else None,
                "best_peer_untrusted": bool(best) and not trusted,
                "ratio_vs_best_peer": bm["ess_per_s"] / best["ess_per_s"] if best else None,
            })
    return out


def _flag(rec: dict[str, Any]) -> str:
    if rec.get("status") != "ok":
        return ""
    flags = []
    if rec.get("divergences"):
        flags.append("divergences")
    if rec.get("max_rhat") is not None and rec["max_rhat"] > 1.01:
        flags.append("R-hat > 1.01")
    return " ⚠ " + ", ".join(flags) if flags else ""


def speed_table(results: list[dict[str, Any]]) -> list[str]:
    """The main table: one row per case and tool."""
    lines = [
        "| case | tool | wall s | of which sampling s | CPU s | load | min bulk ESS | min tail ESS | ESS/s "
        "| ESS/draw | grad/draw | div | max R-hat | peak RSS MiB | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    notes: dict[str, int] = {}
    for r in results:
        if r.get("status") != "ok":
            reason = r["status"]
            err = (r.get("error") or "").strip().splitlines()
            if err and r["status"] in ("not installed", "not available", "error", "timeout"):
                reason += ": " + err[-1][:120]
            lines.append(f"| {r['case']} | {_tool_label(r)} |" + " |" * 12 + f" {_md(reason)} |")
            continue
        note = r.get("note") or ""
        marks = ""
        if note and r.get("mode") not in ("warm", "cached"):
            idx = notes.setdefault(note, len(notes) + 1)
            marks = f"[{idx}]"
        elif r.get("mode") == "warm":
            marks = "second fit in the same process"
        elif r.get("mode") == "cached":
            marks = "fresh process, structure compiled by the cold fit's process"
        if r.get("wall_range"):
            marks += f" wall {r['wall_range'][0]:.1f}–{r['wall_range'][1]:.1f} s over {r['repeats']} runs"
        lines.append(
            f"| {r['case']} | {_tool_label(r)} | {_f(r.get('wall_s'))} | {_f(r.get('sampling_s'))} "
            f"| {_f(r.get('cpu_s'))} | {_f(r.get('load_before'))} | {_f(r.get('min_ess_bulk'), 0)} "
            f"| {_f(r.get('min_ess_tail'), 0)} | {_f(r.get('ess_per_s'))} | {_f(r.get('ess_per_draw'), 2)} "
            f"| {_f(r.get('grad_per_draw'), 1)} | {r.get('divergences') if r.get('divergences') is not None else '–'} "
            f"| {_f(r.get('max_rhat'), 3)} | {_f(r.get('peak_rss_mb'), 0)} | {marks}{_flag(r)} |"
        )
    if notes:
        lines.append("")
        lines += [f"[{i}] {n}." for n, i in notes.items()]
    return lines


def ratio_table(rat: list[dict[str, Any]]) -> list[str]:
    """ESS/s of bayesmixed over bambi and over the best peer."""
    if not rat:
        return ["No bayesmixed results in this run, so no ratios."]
    lines = [
        "| case | bayesmixed tool | ESS/s | bambi ESS/s | ratio vs bambi | best peer | best peer ESS/s "
        "| ratio vs best peer |",
        "|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for q in rat:
        best = (q["best_peer"] or "–") + (" (untrusted)" if q["best_peer_untrusted"] else "")
        lines.append(
            f"| {q['case']} | {q['tool']}{'' if q['trustworthy'] else ' ⚠'} | {_f(q['ess_per_s'])} "
            f"| {_f(q['bambi_ess_per_s'])} | {_f(q['ratio_vs_bambi'], 2)} | {best} "
            f"| {_f(q['best_peer_ess_per_s'])} | {_f(q['ratio_vs_best_peer'], 2)} |"
        )
    return lines


def _sig(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "–"
    return f"{x:.4g}"


def agreement_tables(results: list[dict[str, Any]], references: dict[str, dict[str, Any]]) -> list[str]:
    """Posterior means beside lme4's estimates, one table per case."""
    lines: list[str] = []
    for case in dict.fromkeys(r["case"] for r in results):
        rows = [r for r in results if r["case"] == case and r.get("status") == "ok" and r.get("mode") == "cold"]
        ref_info = references.get(case, {})
        ref = ref_info.get("values", {})
        if not rows and not ref:
            continue
        names = list(ref)
        for r in rows:
            names += [n for n in r.get("params", {}) if n not in names]
        tools = [r["tool"] for r in rows]
        alt = ref_info.get("alt")
        src = f"reference: {ref_info.get('source', 'none')}"
        if alt:
            src += f"; {alt['label']}: {alt['source']}"
        lines += [f"**{case}** ({src})", ""]
        ref_cols = ["lme4"] + ([alt["label"]] if alt else [])
        lines.append("| parameter | " + " | ".join(_md(c) for c in ref_cols + tools) + " |")
        lines.append("|---|" + "---:|" * (len(ref_cols) + len(tools)))
        for n in names:
            cells = [_sig(ref.get(n))] + ([_sig(alt["values"].get(n))] if alt else [])
            cells += [_sig(r.get("params", {}).get(n, {}).get("mean")) for r in rows]
            lines.append(f"| {_md(n)} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def grad_us(r: dict[str, Any], settings: dict[str, Any]) -> float | None:
    """Approximate cost of one gradient evaluation (µs): sampling time over the gradients one core evaluated,
    ``sampling_s / ((tune + draws) · grad/draw · chains / cores)`` (tuning taken at the post-warm-up step count)."""
    g, t = r.get("grad_per_draw"), r.get("sampling_s")
    if not g or not t:
        return None
    per_core = (settings["tune"] + settings["draws"]) * g * settings["chains"] / max(settings["cores"], 1)
    return t / per_core * 1e6


def sweep_table(sweep: list[dict[str, Any]], settings: dict[str, Any]) -> list[str]:
    """Wall time, peak memory and cost per gradient per sweep point."""
    lines = [
        "| rows | levels | tool | wall s | of which sampling s | ≈ µs per gradient | peak RSS MiB | min bulk ESS "
        "| ESS/s | ESS/draw | grad/draw | div | max R-hat | notes |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in sweep:
        status = "" if r.get("status") == "ok" else _md(r.get("status", ""))
        lines.append(
            f"| {r.get('rows'):,} | {r.get('levels'):,} | {_tool_label(r)} | {_f(r.get('wall_s'))} "
            f"| {_f(r.get('sampling_s'))} | {_f(grad_us(r, settings), 0)} | {_f(r.get('peak_rss_mb'), 0)} "
            f"| {_f(r.get('min_ess_bulk'), 0)} "
            f"| {_f(r.get('ess_per_s'))} | {_f(r.get('ess_per_draw'), 2)} "
            f"| {_f(r.get('grad_per_draw'))} | {r.get('divergences') if r.get('divergences') is not None else '–'} "
            f"| {_f(r.get('max_rhat'), 3)} | {status}{_flag(r)} |"
        )
    return lines


def sweep_agreement(sweep: list[dict[str, Any]], truth: dict[str, float]) -> list[str]:
    """Posterior means of the sweep fits beside the simulation's true values."""
    names = list(truth)
    lines = ["| rows | levels | tool | " + " | ".join(f"{_md(n)} (true {truth[n]:g})" for n in names) + " |",
             "|---:|---:|---|" + "---:|" * len(names)]
    for r in sweep:
        if r.get("status") != "ok":
            continue
        cells = [_sig(r.get("params", {}).get(n, {}).get("mean")) for n in names]
        lines.append(f"| {r['rows']:,} | {r['levels']:,} | {_tool_label(r)} | " + " | ".join(cells) + " |")
    return lines


def render(record: dict[str, Any]) -> str:
    """The full markdown report for one benchmark record."""
    s = record["settings"]
    m = record["machine"]
    v = record.get("versions", {})
    out = [
        f"# {record.get('title') or 'Benchmarks'}",
        "",
        "Produced by",
        "",
        "```",
        record["command"],
        "```",
        "",
        f"on {record['started'][:10]} ({record['started']} to {record['finished']}), machine: {m.get('cpu', '?')}, "
        f"{m.get('cores', '?')} cores, {m.get('memory_gib', '?')} GiB, {m.get('os', '?')}.",
        "",
        f"Settings: {s['chains']} chains x {s['tune']} tune x {s['draws']} draws, {s['cores']} cores "
        f"(chains in parallel for every tool), seed {s['seed']}, compile cache `{s['compile_cache']}`. "
        "Every fit runs in a fresh process (\"cold\"; bayesmixed's from an empty cache of compiled structures). "
        "With `--warm`, bayesmixed also refits in the same process (\"warm\") and in a second fresh process "
        "that finds the structure the first compiled on disk (\"cached\": a user's next session).",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
    ]
    revs = list(dict.fromkeys(r["bayesmixed_rev"] for r in record.get("results", []) + record.get("sweep", [])
                              if r.get("bayesmixed_rev")))
    if revs:
        out += [f"bayesmixed source: git {', '.join(revs)}"
                + (" -- **the source changed during the run**" if len(revs) > 1 else "")
                + " (`+dirty.<digest>`: uncommitted changes in `bayesmixed/`).", ""]
    out += [
        "How to read it (see `benchmarks/README.md`): *wall s* is the whole fit call (build + compile + sample), "
        "imports (the tool and the PyMC stack) and data loading excluded; ESS and R-hat are rank-normalised, "
        "taken over the population-level parameters only (fixed effects, group SDs, correlations, residual "
        "SD); *of which sampling s* is the sampler's own timing of warmup + draws (the rest of *wall s* is "
        "building and compiling); "
        "*CPU s* = user + system CPU time of the fit call (children included); *load* = the 1-minute load "
        "average when the fit started (it still contains the previous fit's chains); "
        "*ESS/s* = min bulk ESS / wall s; "
        "*ESS/draw* = min bulk ESS / all post-warmup draws; *grad/draw* = leapfrog steps / post-warmup draws; "
        "*peak RSS* = largest resident set of any process of the fit. ⚠ marks fits that are not results "
        "(divergences or R-hat > 1.01).",
        "",
    ]
    results = collapse(record.get("results", []))
    loads = [r["load_before"] for r in results + record.get("sweep", []) if r.get("load_before") is not None]
    cores = m.get("cores") or 1
    if loads and max(loads) > cores + 0.5:
        out += [f"**Other work shared the machine during this run** (1-minute load average up to "
                f"{max(loads):.1f} on {cores} cores at the start of a fit, see the *load* column; the "
                "benchmark's own previous fit accounts for up to about the number of chains): seconds are "
                "inflated, unevenly between fits. Compare ratios, CPU s and the per-draw columns rather than "
                "absolute times.", ""]
    if s.get("repeats", 1) > 1:
        out += [f"Each fit was repeated {s['repeats']} times (each in a fresh process); the tables show "
                "the repeat with the median wall time, the notes the range.", ""]
    if results:
        out += ["## Speed", ""] + speed_table(results) + [""]
        out += ["## bayesmixed against its peers (ESS/s ratio, > 1 means bayesmixed is faster)", ""]
        out += ratio_table(ratios(results)) + [""]
        out += ["## Agreement with lme4 (posterior means)", ""]
        out += agreement_tables(results, record.get("references", {}))
    if record.get("sweep"):
        out += ["## Scaling sweep: `y ~ x + (1 | g)`, Gaussian, simulated", ""]
        sweep = collapse(record["sweep"])
        out += sweep_table(sweep, s) + [""]
        out += ["\"≈ µs per gradient\" is sampling time ÷ ((tune + draws) × grad/draw × chains ÷ cores). A one-term "
                "Gaussian model is integrated out level by level (`auto` → marginal): after the sufficient "
                "statistics (one pass over the rows) a gradient costs O(levels), whatever the rows.", ""]
        truth = record.get("references", {}).get("sweep", {}).get("values")
        if truth:
            out += ["Posterior means against the simulation's truth:", ""] + sweep_agreement(sweep, truth) + [""]
    errors = [r for r in record.get("results", []) + record.get("sweep", []) if r.get("status") == "error"]
    if errors:
        out += ["## Errors", ""]
        for r in errors:
            out += [f"- {r['case']} / {r['tool']}:", "", "  ```", *("  " + ln for ln in
                    (r.get("error") or "").strip().splitlines()[-8:]), "  ```"]
        out.append("")
    return "\n".join(out)


if __name__ == "__main__":
    with open(sys.argv[1]) as fh:
        sys.stdout.write(render(json.load(fh)))
