"""Conformance with lme4's ``lFormula``/``glFormula``: the same design from the same formula and data.

``tests/data/lformula/reference.json`` holds lme4's output for 181 formulas taken from lme4's, mlmRev's,
lmerTest's, rstanarm's and brms's tests, help pages and vignettes (each case names its source), written by
``tests/data/lformula/make_reference.R`` (its header has the command line); the data sets are stored next to
it as compressed CSV with their R column types (factor levels in R's order, ordered or not). No R is needed.

For each formula the test builds bayesmixed's :class:`~bayesmixed.design.Design` and compares, with lme4:

* the rows used (which rows are dropped for missing values) and the response (successes, trials) and offset;
* the fixed-effect columns: names, order, values (exact values for small matrices, column sums, sums of
  squares, weighted sums and the first rows for large ones), and which aliased columns are dropped;
* per random-effect term: the grouping factor's levels (number and order), the term's columns and their raw
  values, and the number of covariance parameters (lme4's length of θ).

Deliberate differences, kept minimal and normalised here rather than hidden:

* names: lme4's ``(Intercept)`` is bayesmixed's ``Intercept`` (everywhere in the package);
* a nested term ``(1 | a/b)``: lme4 builds the grouping factor ``b:a`` (levels ``b-level:a-level``),
  bayesmixed labels it ``a:b`` with levels ``a-level:b-level`` (outer factor first, as it is written); the
  levels are the same groups in the same order, so the test maps one label to the other;
* ``(x || g)``: lme4 splits the term into ``(1 | g) + (0 + x | g)``, bayesmixed keeps one term whose
  effects are independent; the columns and the number of covariance parameters agree, so the test compares
  the terms of one grouping factor together.

``python tests/test_lformula_conformance.py`` prints how many formulas agree and, for the others, what differs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import warnings
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bayesmixed.design import build_design

HERE = Path(__file__).resolve().parent / "data" / "lformula"


@lru_cache(maxsize=None)
def _reference() -> dict[str, Any]:
    return json.loads((HERE / "reference.json").read_text())


@lru_cache(maxsize=None)
def _columns() -> dict[str, Any]:
    return json.loads((HERE / "data" / "columns.json").read_text())


@lru_cache(maxsize=None)
def _data(name: str) -> pd.DataFrame:
    meta = _columns()[name]["columns"]
    with gzip.open(HERE / "data" / f"{name}.csv.gz", "rt", newline="") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""])
    out = {}
    for col, m in meta.items():
        v = raw[col]
        kind = m["type"]
        if kind == "factor":
            levels = m["levels"] if isinstance(m["levels"], list) else [m["levels"]]
            out[col] = pd.Categorical(v, categories=levels, ordered=bool(m["ordered"]))
        elif kind == "logical":
            out[col] = v.map({"TRUE": True, "FALSE": False}) if v.isna().any() else v == "TRUE"
        elif kind == "character":
            out[col] = v.astype(object)
        elif kind == "integer" and not v.isna().any():
            out[col] = v.astype(np.int64)
        else:
            out[col] = v.astype(float)
    return pd.DataFrame(out)


def data_for(case: dict[str, Any]) -> pd.DataFrame:
    """A fresh copy of the case's data set."""
    return _data(case["data"]).copy()


def _r_name(name: str) -> str:
    return name.replace("(Intercept)", "Intercept")


def _close(ours: np.ndarray, ref: Any, scale: np.ndarray | float = 1.0) -> bool:
    ref = np.asarray(ref, dtype=float)
    ours = np.asarray(ours, dtype=float)
    if ours.shape != ref.shape:
        return False
    return bool(np.allclose(ours, ref, rtol=1e-6, atol=1e-8 * np.maximum(scale, 1.0)))


def _compare_matrix(M: np.ndarray, ref: dict[str, Any], what: str) -> list[str]:
    """Differences between the columns of ``M`` and lme4's values or checksums of them."""
    M = np.asarray(M, dtype=float)
    if M.ndim == 1:
        M = M[:, None]
    if not ref:
        return [] if M.shape[1] == 0 else [f"{what}: lme4 has no columns, bayesmixed has {M.shape[1]}"]
    if "values" in ref:
        R = np.array(ref["values"], dtype=float).T
        if R.ndim == 1:
            R = R[:, None]
        if R.shape != M.shape:
            return [f"{what}: shape {M.shape}, lme4 {R.shape}"]
        bad = [j for j in range(M.shape[1]) if not _close(M[:, j], R[:, j], np.abs(R[:, j]).max())]
        return [f"{what}: values of column(s) {bad} differ"] if bad else []
    n = M.shape[0]
    w = (np.arange(n) % 7) + 1.0
    scale = np.sqrt(np.asarray(ref["sumsq"], dtype=float) * n)
    out = []
    for key, ours in (
        ("sum", M.sum(axis=0)),
        ("sumsq", (M**2).sum(axis=0)),
        ("wsum", (M * w[:, None]).sum(axis=0)),
        ("head", M[:3].T),
    ):
        ref_v = np.asarray(ref[key], dtype=float)
        if ref_v.ndim == 2 and ref_v.shape[0] != M.shape[1]:
            ref_v = ref_v.T
        if ref_v.shape != np.shape(ours):
            return [f"{what}: {M.shape[1]} columns, lme4 {len(ref['sum'])}"]
        sc = scale if key != "head" else np.sqrt(np.asarray(ref["sumsq"], dtype=float))
        if not _close(ours, ref_v, sc if np.ndim(ours) == 1 else sc[:, None]):
            out.append(f"{what}: column {key} differs")
    return out


def _as_text(s: pd.Series) -> list[str]:
    """A grouping column's values as R's ``as.character`` writes them (``3`` for a whole number)."""
    if pd.api.types.is_float_dtype(s.dtype) and np.all(np.mod(s.to_numpy(), 1) == 0):
        s = s.astype(np.int64)
    return [str(v) for v in s.tolist()]


def _r_factor(label: str, ours: tuple[str, ...]) -> list[str]:
    """lme4's grouping columns in its order (``cask:batch``), read with bayesmixed's column names (which may
    themselves hold ':')."""
    order = [c for c in label.split(":") if c in ours]
    return order if sorted(order) == sorted(ours) else list(ours)


def _level_md5(levels: list[str]) -> str:
    return hashlib.md5("\n".join(levels).encode("utf-8")).hexdigest()


def _compare_levels(block: Any, ref: dict[str, Any], r_factor: list[str], used: pd.DataFrame, what: str) -> list[str]:
    """Levels of a block against lme4's: number, then the labels in order. For the inner term of
    ``(1 | a/b)`` (lme4's ``b:a``) each level is relabelled with its columns in lme4's order first."""
    labels = list(block.levels)
    if len(labels) != ref["n"]:
        return [f"{what}: {len(labels)} levels, lme4 {ref['n']}"]
    if r_factor != list(block.term.factor):
        text = {c: _as_text(used[c]) for c in r_factor}
        first: dict[int, int] = {}
        for i, code in enumerate(block.codes.tolist()):
            first.setdefault(code, i)
        labels = [":".join(text[c][first[j]] for c in r_factor) for j in range(len(labels))]
    if _level_md5(labels) != ref["md5"]:
        shown = ref.get("levels", ref.get("head"))
        return [f"{what}: levels differ (bayesmixed {labels[:4]}..., lme4 {shown[:4]}...)"]
    return []


def compare(case: dict[str, Any]) -> list[str]:
    """What differs between bayesmixed's design and lme4's for one case (empty when they agree)."""
    data = data_for(case)
    kwargs: dict[str, Any] = {}
    if case.get("weights"):
        kwargs["weights"] = case["weights"]
    if case.get("contrasts"):
        kwargs["contrasts"] = dict(case["contrasts"])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            D = build_design(case["formula"], data, **kwargs)
    except Exception as e:  # noqa: BLE001 - a refusal is a difference to report
        return [f"refused: {type(e).__name__}: {str(e).splitlines()[0][:200]}"]
    out: list[str] = []
    # rows used
    n_all = len(data)
    used = np.sort(data.index.get_indexer(D.rows))
    dropped = np.setdiff1d(np.arange(n_all), used)
    if D.n != case["n"] or dropped.tolist() != list(case["dropped"]):
        out.append(f"rows: {D.n} used, lme4 {case['n']}")
        return out
    # response, trials, offset
    out += _compare_matrix(D.y, case["y"], "response")
    if case["trials"] is not None:
        out += ["trials: none"] if D.trials is None else _compare_matrix(D.trials, case["trials"], "trials")
    if case["offset"] is not None:
        out += ["offset: none"] if D.offset is None else _compare_matrix(D.offset, case["offset"], "offset")
    elif D.offset is not None and np.any(D.offset != 0):
        out.append("offset: lme4 has none")
    # fixed effects
    ref_names = [_r_name(c) for c in case["x_names"] or []]
    if list(D.x_names) != ref_names:
        out.append(f"X names: {list(D.x_names)}, lme4 {ref_names}")
    else:
        out += _compare_matrix(D.X, case["x"], "X")
    ours_dropped = list(getattr(D, "aliased", ()) or ())
    ref_dropped = [_r_name(c) for c in (case["x_dropped"] or [])]
    if ours_dropped != ref_dropped:
        out.append(f"dropped X columns: {ours_dropped}, lme4 {ref_dropped}")
    # random-effect terms, grouped by grouping factor (a set of columns)
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for t in case["terms"]:
        groups.setdefault(frozenset(t["factor"].split(":")), []).append(t)
    ours_groups: dict[frozenset[str], list[Any]] = {}
    for b in D.blocks:
        ours_groups.setdefault(frozenset(b.term.factor), []).append(b)
    if set(groups) != set(ours_groups):
        out.append(
            f"grouping factors: {sorted(':'.join(sorted(k)) for k in ours_groups)}, "
            f"lme4 {sorted(':'.join(sorted(k)) for k in groups)}"
        )
        return out
    ntheta = 0
    for key, rterms in groups.items():
        blocks = ours_groups[key]
        r_factor = _r_factor(rterms[0]["factor"], blocks[0].term.factor)
        what = f"term {blocks[0].label}"
        out += _compare_levels(blocks[0], rterms[0]["levels"], r_factor, data.loc[D.rows], what)
        r_cols = [_r_name(c) for t in rterms for c in t["columns"]]
        o_cols = [c for b in blocks for c in b.coef_names]
        if sorted(r_cols) != sorted(o_cols) or (len(rterms) == len(blocks) and r_cols != o_cols):
            out.append(f"{what}: columns {o_cols}, lme4 {r_cols}")
            continue
        # raw columns, matched by name
        for t in rterms:
            cols = [_r_name(c) for c in t["columns"]]
            Z = np.column_stack([next(b.Z[:, b.coef_names.index(c)] for b in blocks if c in b.coef_names) for c in cols])
            out += _compare_matrix(Z, t["z"], f"{what} Z")
        r_theta = sum(int(t["ntheta"]) for t in rterms)
        o_theta = sum(b.k * (b.k + 1) // 2 if b.correlated else b.k for b in blocks)
        ntheta += o_theta
        if r_theta != o_theta:
            out.append(f"{what}: {o_theta} covariance parameters, lme4 {r_theta}")
    if ntheta != case["ntheta"] and not out:
        out.append(f"theta: {ntheta}, lme4 {case['ntheta']}")
    return out


CASES = _reference()["cases"]


def test_reference_is_large_and_varied():
    sources = {c["source"].split()[0] for c in CASES}
    assert len(CASES) >= 130
    assert {"lme4", "mlmRev", "lmerTest", "rstanarm", "brms"} <= sources


@pytest.mark.parametrize("case", CASES, ids=[f"{c['id']}:{c['formula']}" for c in CASES])
def test_design_agrees_with_lme4(case):
    problems = compare(case)
    assert not problems, "; ".join(problems)


def main() -> int:
    bad = 0
    for case in CASES:
        problems = compare(case)
        if problems:
            bad += 1
            print(f"{case['id']} {case['formula']!r} [{case['data']}]: " + "; ".join(problems))
    print(f"{len(CASES) - bad} of {len(CASES)} formulas agree with lme4's lFormula")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
