"""Saving a :class:`~bayesmixed.fit.Fit` to one file and loading it back: ``fit.save(path)``, ``bayesmixed.load(path)``.

File format
-----------
A zip archive with three members:

``manifest.json``
    ``format`` (``"bayesmixed-fit"``), ``format_version`` (an integer, ``FORMAT_VERSION``), the version
    of bayesmixed that wrote it, the formula text, family, link, priors (``Prior.to_dict()`` in order),
    parameterisation and the reasons for it, ``sampler_info`` and the description of the
    :class:`~bayesmixed.design.Design` (column names, level lists, transform state, row labels).
``idata.nc``
    The whole ArviZ InferenceData (every group), as netCDF-4 written with h5netcdf.
``design.npz``
    The numeric arrays of the Design (``y``, ``trials``, ``X``, ``offset``, each term's ``Z`` and level codes,
    numeric row labels, the numeric columns of the model frame), written by :func:`numpy.savez` and read with
    ``allow_pickle=False``.

The model frame (the used columns of the used rows, ``Design.frame``) is
stored column by column: numbers, booleans and dates as arrays, pandas categories as codes with their
categories (and order), other columns as a list of typed values. A file without it (written before it existed)
loads with ``frame=None``.

Nothing is pickled. The Design is stored as it is, not rebuilt from the user's data (a Fit holds no copy of
them): the arrays come back bit for bit, and the encoding state (categorical levels with their Python or NumPy
types and order and their contrasts, the centre and scale of ``scale()``/``center()``, the coefficients of
``poly()``, the knots of ``ns()``/``bs()``, the aliased fixed-effect columns that were dropped, the column of
``weights=``) comes back as it was, so predictions on new data after loading equal those before saving.
Values that JSON cannot type exactly (NumPy scalars such as ``float32``, timestamps) are stored tagged with
their dtype.

Format 2 added contrasts, ``poly``/``ns``/``bs`` state, ``aliased`` and ``weights``; format-1 files are read
(their categorical variables had treatment contrasts). Format 3 added the designs of other predicted parameters
(``bf()``: ``dpars``, nested in the design's description with their arrays under ``dpar<i>_``), responses of
categories (``response_ordered``), ``drop_intercept`` and brms's response terms ``weights()``, ``cens()``,
``trunc()`` (``response_terms``, arrays ``rt_<field>``; format-2 files written with them are read too); files of
formats 1 and 2 are read.

Writes are atomic: the archive is written to a temporary file in the target's folder and moved into place
with :func:`os.replace`, so an interrupt never leaves a half-written file under the target's name.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import _arviz
from . import naming as N
from .errors import BayesMixedError, MissingFileError

__all__ = ["FORMAT_VERSION", "save_fit", "read_fit", "write_atomic"]

FORMAT_VERSION = 3
_FORMAT = "bayesmixed-fit"
_MANIFEST, _IDATA, _ARRAYS = "manifest.json", "idata.nc", "design.npz"

# Fields the serialiser knows; a Design that grows a field must be taught here (see test_saveload.py).
DESIGN_FIELDS = (
    "formula", "y", "trials", "X", "x_names", "offset", "blocks", "rows", "encoding",
    "response_levels", "n_dropped", "dropped_columns", "frame", "response_terms", "autocor", "response_ordered",
    "dpar", "dpars",
)
BLOCK_FIELDS = ("label", "term", "coef_names", "Z", "codes", "levels", "kind", "spectral")
ENCODING_FIELDS = ("formula", "state", "x_names", "block_labels", "block_levels", "aliased", "weights",
                   "drop_intercept")


# ---------------------------------------------------------------------------------------------- atomic writes
def write_atomic(path: str | os.PathLike, write: Callable[[str], Any]) -> Path:
    """Call ``write(tmp)`` on a temporary path in ``path``'s folder, then move it onto ``path``.

    An exception or interrupt (``KeyboardInterrupt`` included) during ``write`` removes the temporary file
    and leaves ``path`` as it was; the exception propagates.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


# ---------------------------------------------------------------------------------------------- typed values
def _enc_value(v: Any) -> Any:
    """A level, a row label or a response level as JSON, keeping its type (see :func:`_dec_value`)."""
    if v is None or type(v) in (bool, int, str):
        return v
    if type(v) is float:
        return v if np.isfinite(v) else {"__float__": repr(v)}
    if isinstance(v, np.generic):
        if isinstance(v, (np.datetime64, np.timedelta64)):
            return {"__numpy__": v.dtype.str, "value": str(v)}
        item = v.item()
        if isinstance(item, float) and not np.isfinite(item):
            item = repr(item)
        return {"__numpy__": v.dtype.str, "value": item}
    if isinstance(v, pd.Timestamp):
        return {"__timestamp__": v.isoformat(), "tz": None if v.tz is None else str(v.tz)}
    if isinstance(v, pd.Interval):
        return {"__interval__": [_enc_value(v.left), _enc_value(v.right)], "closed": v.closed}
    if isinstance(v, pd.Period):
        return {"__period__": str(v), "freq": v.freqstr}
    raise BayesMixedError(
        f"cannot save a value of type {type(v).__name__} ({v!r}) used as a level or row label; "
        "use strings, numbers, booleans or pandas categories"
    )


def _dec_value(v: Any) -> Any:
    if isinstance(v, dict):
        if "__float__" in v:
            return float(v["__float__"])
        if "__numpy__" in v:
            dt = np.dtype(v["__numpy__"])
            val = v["value"]
            if dt.kind == "f" and isinstance(val, str):
                val = float(val)
            return np.asarray(val, dtype=dt)[()]
        if "__timestamp__" in v:
            ts = pd.Timestamp(v["__timestamp__"])
            return ts.tz_convert(v["tz"]) if v.get("tz") else ts
        if "__interval__" in v:
            left, right = (_dec_value(x) for x in v["__interval__"])
            return pd.Interval(left, right, closed=v["closed"])
        if "__period__" in v:
            return pd.Period(v["__period__"], freq=v["freq"])
        raise BayesMixedError(f"unknown tagged value {v!r} in the saved fit")
    return v


def _floats(v: Any) -> list[float]:
    return [float(x) for x in v]


def _enc_state(state: tuple[tuple[str, Any], ...]) -> list[list[Any]]:
    """The transform state as JSON: ``["levels", levels(, contrast)]`` with the contrast a name or
    ``{"matrix": rows, "names": column names}``; ``["affine", centre, scale]``; ``["poly", alpha, norm2]``;
    ``["ns", knots, boundary, intercept]``; ``["bs", knots, boundary, degree, intercept]``."""
    out = []
    for key, st in state:
        kind = st[0]
        if kind == "levels":
            entry: list[Any] = ["levels", [_enc_value(x) for x in st[1]]]
            if len(st) > 2:
                c = st[2]
                entry.append(c if isinstance(c, str) else {"matrix": [_floats(r) for r in c[1]], "names": list(c[2])})
            out.append([key, entry])
        elif kind == "affine":
            out.append([key, ["affine", float(st[1]), float(st[2])]])
        elif kind == "poly":
            out.append([key, ["poly", _floats(st[1]), _floats(st[2])]])
        elif kind == "ns":
            out.append([key, ["ns", _floats(st[1]), _floats(st[2]), bool(st[3])]])
        elif kind == "bs":
            out.append([key, ["bs", _floats(st[1]), _floats(st[2]), int(st[3]), bool(st[4])]])
        elif kind == "smooth":  # knots and transforms of a smooth term, already JSON text
            out.append([key, ["smooth", str(st[1])]])
        else:
            raise BayesMixedError(f"cannot save the transform state {kind!r} of {key!r}")
    return out


def _dec_state(state: list[list[Any]]) -> tuple[tuple[str, Any], ...]:
    out = []
    for key, st in state:
        kind = st[0]
        if kind == "levels":
            entry: tuple[Any, ...] = ("levels", tuple(_dec_value(x) for x in st[1]))
            if len(st) > 2:
                c = st[2]
                spec = c if isinstance(c, str) else ("matrix", tuple(tuple(_floats(r)) for r in c["matrix"]), tuple(c["names"]))
                entry = entry + (spec,)
            out.append((key, entry))
        elif kind == "affine":
            out.append((key, ("affine", float(st[1]), float(st[2]))))
        elif kind == "poly":
            out.append((key, ("poly", tuple(_floats(st[1])), tuple(_floats(st[2])))))
        elif kind == "ns":
            out.append((key, ("ns", tuple(_floats(st[1])), tuple(_floats(st[2])), bool(st[3]))))
        elif kind == "bs":
            out.append((key, ("bs", tuple(_floats(st[1])), tuple(_floats(st[2])), int(st[3]), bool(st[4]))))
        elif kind == "smooth":
            json.loads(st[1])  # plain numbers only: refuse anything that is not JSON
            out.append((key, ("smooth", str(st[1]))))
        else:
            raise BayesMixedError(
                f"the saved fit holds a transform state {kind!r} (of {key!r}) that this bayesmixed does not know; "
                "upgrade with pip install -U bayesmixed"
            )
    return tuple(out)


def _enc_index(idx: pd.Index, arrays: dict[str, np.ndarray], key: str) -> dict[str, Any]:
    """A pandas Index as JSON (and, for NumPy dtypes, an array in ``arrays``)."""
    if isinstance(idx, pd.RangeIndex):
        return {"kind": "range", "start": idx.start, "stop": idx.stop, "step": idx.step, "name": _enc_value(idx.name)}
    if isinstance(idx, pd.MultiIndex):
        return {
            "kind": "multi",
            "levels": [_enc_index(idx.get_level_values(i), arrays, f"{key}_{i}") for i in range(idx.nlevels)],
            "names": [_enc_value(n) for n in idx.names],
        }
    if isinstance(idx.dtype, np.dtype) and idx.dtype.kind in "biufcmM":
        arrays[key] = np.asarray(idx)
        return {"kind": "array", "key": key, "name": _enc_value(idx.name)}
    return {
        "kind": "values",
        "values": [_enc_value(x) for x in idx.tolist()],
        "dtype": str(idx.dtype),
        "name": _enc_value(idx.name),
    }


def _dec_index(d: dict[str, Any], arrays: dict[str, np.ndarray]) -> pd.Index:
    kind = d["kind"]
    if kind == "range":
        return pd.RangeIndex(d["start"], d["stop"], d["step"], name=_dec_value(d["name"]))
    if kind == "multi":
        levels = [_dec_index(x, arrays) for x in d["levels"]]
        return pd.MultiIndex.from_arrays(levels, names=[_dec_value(n) for n in d["names"]])
    if kind == "array":
        return pd.Index(arrays[d["key"]], name=_dec_value(d["name"]))
    values = [_dec_value(x) for x in d["values"]]
    try:
        return pd.Index(values, dtype=d["dtype"], name=_dec_value(d["name"]))
    except (TypeError, ValueError):
        return pd.Index(values, dtype=object, name=_dec_value(d["name"]))


def _json_safe(v: Any) -> Any:
    """``sampler_info`` as plain JSON: NumPy scalars and arrays become numbers and lists, tuples lists; any
    other object its ``repr``."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v.item() if isinstance(v, np.generic) else v
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    return repr(v)


# ---------------------------------------------------------------------------------------------- design
def _check_fields(cls, known: tuple[str, ...]) -> None:
    fields = tuple(f.name for f in dataclasses.fields(cls))
    extra = [f for f in fields if f not in known]
    if extra:
        raise BayesMixedError(
            f"cannot save: {cls.__name__} has field(s) {', '.join(extra)} that bayesmixed.saveload does not know; "
            "this is a bug in bayesmixed, please report it"
        )


def _enc_design(design, prefix: str = "", arrays: dict[str, np.ndarray] | None = None) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The Design as JSON and arrays; the designs of other predicted parameters (``dpars``) nested, their arrays
    under ``dpar<i>_`` prefixes (the response and rows are the first design's)."""
    from .design import Design, Encoding, GroupBlock

    _check_fields(Design, DESIGN_FIELDS)
    _check_fields(GroupBlock, BLOCK_FIELDS)
    _check_fields(Encoding, ENCODING_FIELDS)
    arrays = {} if arrays is None else arrays
    arrays[f"{prefix}X"] = np.asarray(design.X)
    if not prefix:
        arrays["y"] = np.asarray(design.y)
        if design.trials is not None:
            arrays["trials"] = np.asarray(design.trials)
    if design.offset is not None:
        arrays[f"{prefix}offset"] = np.asarray(design.offset)
    blocks = []
    for i, b in enumerate(design.blocks):
        arrays[f"{prefix}block{i}_Z"] = np.asarray(b.Z)
        arrays[f"{prefix}block{i}_codes"] = np.asarray(b.codes)
        entry = {"label": b.label, "coef_names": list(b.coef_names), "levels": [_enc_value(x) for x in b.levels]}
        if b.kind != "group":
            entry.update(kind=b.kind, spectral=[float(v) for v in b.spectral])
        blocks.append(entry)
    enc = design.encoding
    meta = {
        "formula": design.formula.text,
        "x_names": list(design.x_names),
        "blocks": blocks,
        "encoding": {
            "formula": enc.formula.text,
            "state": _enc_state(enc.state),
            "x_names": list(enc.x_names),
            "block_labels": list(enc.block_labels),
            "block_levels": [[_enc_value(x) for x in lv] for lv in enc.block_levels],
            "aliased": list(enc.aliased),
            "weights": enc.weights,
            "drop_intercept": bool(enc.drop_intercept),
        },
        "dpar": design.dpar,
    }
    if prefix:
        return meta, arrays
    meta.update({
        "rows": _enc_index(design.rows, arrays, "rows"),
        "response_levels": None if design.response_levels is None else [_enc_value(x) for x in design.response_levels],
        "response_ordered": design.response_ordered,
        "n_dropped": int(design.n_dropped),
        "dropped_columns": list(design.dropped_columns),
        "dpars": [_enc_design(d, f"dpar{i}_", arrays)[0] for i, d in enumerate(design.dpars)],
    })
    if design.frame is not None:
        meta["frame"] = _enc_frame(design.frame, arrays)
    if design.response_terms is not None:  # brms's weights(), cens(), trunc(): arrays rt_<field>
        meta["response_terms"] = sorted(design.response_terms.arrays())
        arrays.update({f"rt_{k}": np.asarray(v) for k, v in design.response_terms.arrays().items()})
    return meta, arrays


def _enc_frame(frame: pd.DataFrame, arrays: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """The model frame's columns as JSON (and arrays in ``arrays``); its index is the Design's ``rows``."""
    cols = []
    for i, name in enumerate(frame.columns):
        s = frame.iloc[:, i]
        entry: dict[str, Any] = {"name": _enc_value(name)}
        if isinstance(s.dtype, pd.CategoricalDtype):
            arrays[f"frame{i}"] = s.cat.codes.to_numpy()
            entry.update(kind="categorical", categories=[_enc_value(x) for x in s.cat.categories.tolist()],
                         ordered=bool(s.cat.ordered))
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "biufmM":
            arrays[f"frame{i}"] = s.to_numpy()
            entry["kind"] = "array"
        else:
            entry.update(kind="values", values=[_enc_value(x) for x in s.tolist()], dtype=str(s.dtype))
        cols.append(entry)
    return cols


def _dec_frame(cols: list[dict[str, Any]], arrays: dict[str, np.ndarray], rows: pd.Index) -> pd.DataFrame:
    data = {}
    for i, c in enumerate(cols):
        name = _dec_value(c["name"])
        if c["kind"] == "categorical":
            cats = [_dec_value(x) for x in c["categories"]]
            data[name] = pd.Categorical.from_codes(arrays[f"frame{i}"], categories=cats, ordered=c["ordered"])
        elif c["kind"] == "array":
            data[name] = arrays[f"frame{i}"]
        else:
            values = [_dec_value(x) for x in c["values"]]
            try:
                data[name] = pd.array(values, dtype=c["dtype"])
            except (TypeError, ValueError):
                data[name] = pd.array(values, dtype=object)
    return pd.DataFrame(data, index=rows)


def _frozen(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _dec_design(meta: dict[str, Any], arrays: dict[str, np.ndarray], prefix: str = "", first=None):
    """The Design written by :func:`_enc_design` (``first``: the model's first design, whose response and rows
    the nested designs of other predicted parameters share)."""
    from .design import Design, Encoding, GroupBlock, ResponseTerms
    from .design.autocor import autocor_spec, build_autocor
    from .design.design import block_terms
    from .formula import parse_formula

    formula = parse_formula(meta["formula"])
    dpar = meta.get("dpar", "mu")
    smooth_labels = tuple(b["label"] for b in meta["blocks"] if b.get("kind") in ("smooth", "gp"))
    terms = block_terms(formula, smooth_labels, dpar)
    labels = [lab for lab, _ in terms]
    saved = [b["label"] for b in meta["blocks"]]
    if labels != saved:
        raise BayesMixedError(
            f"the saved formula {meta['formula']!r} gives the random-effect terms {labels} in this version of "
            f"bayesmixed but {saved} in the one that saved the fit"
        )
    blocks = tuple(
        GroupBlock(
            label=b["label"],
            term=g,
            coef_names=tuple(b["coef_names"]),
            Z=_frozen(arrays[f"{prefix}block{i}_Z"]),
            codes=_frozen(arrays[f"{prefix}block{i}_codes"]),
            levels=tuple(_dec_value(x) for x in b["levels"]),
            kind=b.get("kind", "group"),
            spectral=tuple(float(v) for v in b.get("spectral", ())),
        )
        for i, (b, (_, g)) in enumerate(zip(meta["blocks"], terms))
    )
    e = meta["encoding"]
    enc_formula = formula if e["formula"] == meta["formula"] else parse_formula(e["formula"])
    encoding = Encoding(
        formula=enc_formula,
        state=_dec_state(e["state"]),
        x_names=tuple(e["x_names"]),
        block_labels=tuple(e["block_labels"]),
        block_levels=tuple(tuple(_dec_value(x) for x in lv) for lv in e["block_levels"]),
        aliased=tuple(e.get("aliased", ())),
        weights=e.get("weights"),
        drop_intercept=bool(e.get("drop_intercept", False)),
    )
    X = _frozen(arrays[f"{prefix}X"])
    offset = _frozen(arrays[f"{prefix}offset"]) if f"{prefix}offset" in arrays else None
    if first is not None:  # another predicted parameter's design: the first one's response and rows
        import dataclasses

        return dataclasses.replace(first, formula=formula, X=X, x_names=tuple(meta["x_names"]), offset=offset,
                                   blocks=blocks, encoding=encoding, dpar=dpar, dpars=(), frame=None)
    rl = meta["response_levels"]
    rows = _dec_index(meta["rows"], arrays)
    frame = _dec_frame(meta["frame"], arrays, rows) if meta.get("frame") is not None else None
    design = Design(
        formula=formula,
        y=_frozen(arrays["y"]),
        trials=_frozen(arrays["trials"]) if "trials" in arrays else None,
        X=X,
        x_names=tuple(meta["x_names"]),
        offset=offset,
        blocks=blocks,
        rows=rows,
        encoding=encoding,
        response_levels=None if rl is None else tuple(_dec_value(x) for x in rl),
        n_dropped=int(meta["n_dropped"]),
        dropped_columns=tuple(meta["dropped_columns"]),
        frame=frame,
        autocor=(build_autocor(autocor_spec(formula.autocor), frame)
                 if formula.autocor and frame is not None else None),
        response_terms=(ResponseTerms(**{k: _frozen(arrays[f"rt_{k}"]) for k in meta["response_terms"]})
                        if meta.get("response_terms") is not None else None),
        response_ordered=meta.get("response_ordered"),
        dpar=dpar,
    )
    if meta.get("dpars"):
        import dataclasses

        dpars = tuple(_dec_design(m, arrays, f"dpar{i}_", design) for i, m in enumerate(meta["dpars"]))
        design = dataclasses.replace(design, dpars=dpars)
    return design


# ---------------------------------------------------------------------------------------------- save / load
def save_fit(fit, path: str | os.PathLike) -> Path:
    """Write ``fit`` to one file at ``path`` (atomically); see the module docstring for the format.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    from ._version import __version__

    path = Path(path)
    if path.is_dir():
        raise BayesMixedError(f"cannot save the fit to {str(path)!r}: it is a folder; give a file name such as fit.bmfit")
    if not path.parent.exists():
        raise BayesMixedError(f"cannot save the fit to {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    spec = fit.spec
    design_meta, arrays = _enc_design(fit.design)
    manifest = {
        "format": _FORMAT,
        "format_version": FORMAT_VERSION,
        "bayesmixed_version": __version__,
        "formula": spec.formula,
        "family": spec.family,
        "link": spec.link,
        "priors": [[name, p.to_dict()] for name, p in spec.priors],
        "parameterization": [list(x) for x in spec.parameterization],
        "parameterization_reason": [list(x) for x in spec.parameterization_reason],
        "quadrature_nodes": int(spec.quadrature_nodes),
        "dpars": [list(x) for x in spec.dpars],
        "sampler_info": _json_safe(fit.sampler_info),
        "groups": _arviz.groups(fit.idata),
        "design": design_meta,
    }
    manifest_bytes = json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8")
    buf = io.BytesIO()
    np.savez(buf, **arrays)

    def write(tmp: str) -> None:
        with tempfile.TemporaryDirectory(prefix="bayesmixed-save-") as d:
            nc = os.path.join(d, _IDATA)
            _arviz.to_netcdf(fit.idata, nc)
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(_MANIFEST, manifest_bytes)
                zf.write(nc, _IDATA, compress_type=zipfile.ZIP_STORED)
                zf.writestr(_ARRAYS, buf.getvalue())

    return write_atomic(path, write)


def _not_a_fit(path: Path, why: str) -> BayesMixedError:
    return BayesMixedError(f"{str(path)!r} is not a bayesmixed fit file ({why}); write one with fit.save(path)")


def read_manifest(path: str | os.PathLike) -> dict[str, Any]:
    """The manifest of a saved fit, checked: a :class:`BayesMixedError` if the file is not a bayesmixed fit or
    was written by a newer format."""
    path = Path(path)
    if not path.exists():
        raise MissingFileError(f"no such file: {str(path)!r}; check the path (fit.save(path) writes one)")
    if path.is_dir():
        raise BayesMixedError(f"{str(path)!r} is a folder, not a saved fit: give the .bmfit file inside it")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            head = fh.read(8)
        if head.startswith((b"\x89HDF", b"CDF\x01", b"CDF\x02")):  # netCDF-4 (HDF5) or classic netCDF
            sibling = path.with_name("fit.bmfit")
            where = (f"the whole fit is in {str(sibling)!r} beside it: bm.load({str(sibling)!r})" if sibling.exists()
                     else "`bayesmixed fit ... --out DIR` writes the whole fit as DIR/fit.bmfit")
            raise BayesMixedError(
                f"{str(path)!r} is a netCDF file: the posterior alone (read it with arviz.from_netcdf), without the "
                f"formula, data encoding and priors a Fit needs; {where}"
            )
        raise _not_a_fit(path, "not a zip archive")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        if _MANIFEST not in names:
            raise _not_a_fit(path, f"no {_MANIFEST} in the archive")
        try:
            manifest = json.loads(zf.read(_MANIFEST).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise _not_a_fit(path, f"{_MANIFEST} is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != _FORMAT:
        raise _not_a_fit(path, f"{_MANIFEST} does not say format {_FORMAT!r}")
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise _not_a_fit(path, f"format_version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise BayesMixedError(
            f"{str(path)!r} was written by a newer bayesmixed ({manifest.get('bayesmixed_version', '?')}, "
            f"format {version} > {FORMAT_VERSION}); upgrade with pip install -U bayesmixed"
        )
    missing = [m for m in (_IDATA, _ARRAYS) if m not in names]
    if missing:
        raise _not_a_fit(path, f"the archive lacks {', '.join(missing)}")
    return manifest


def read_fit(path: str | os.PathLike) -> dict[str, Any]:
    """The parts of a :class:`~bayesmixed.fit.Fit` written by :meth:`Fit.save <bayesmixed.fit.Fit.save>`:
    ``{"spec", "design", "idata", "sampler_info"}`` (``bayesmixed.load`` wraps them in a ``Fit``).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    BayesMixedError
        The file is not a bayesmixed fit, or was written by a newer bayesmixed (format version above
        ``FORMAT_VERSION``).
    """
    from .priors import Prior
    from .spec import ModelSpec

    from .families import get_family

    path = Path(path)
    manifest = read_manifest(path)
    with zipfile.ZipFile(path) as zf:
        try:  # arrays without pickles; a damaged or edited part is named, not passed on as a raw error
            with np.load(io.BytesIO(zf.read(_ARRAYS)), allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
            raise _not_a_fit(path, f"its arrays ({_ARRAYS}) cannot be read: {type(e).__name__}: {e}") from None
        with tempfile.TemporaryDirectory() as d:
            try:
                nc = zf.extract(_IDATA, d)
                idata = _arviz.from_netcdf(nc)
            except Exception as e:  # noqa: BLE001 - h5py/netCDF raise KeyError, OSError, ValueError, ...
                raise _not_a_fit(path, f"its posterior ({_IDATA}) cannot be read: {type(e).__name__}: {e}") from None
    try:
        design = _dec_design(manifest["design"], arrays)
        get_family(manifest["family"], manifest["link"])  # a family or link this bayesmixed does not know
        if manifest["formula"] != design.formula.text:
            raise ValueError(f"the formula {manifest['formula']!r} is not the design's {design.formula.text!r}")
        spec = ModelSpec(
            formula=manifest["formula"],
            family=manifest["family"],
            link=manifest["link"],
            priors=tuple((str(name), Prior.from_dict(p)) for name, p in manifest["priors"]),
            parameterization=tuple((str(k), str(v)) for k, v in manifest["parameterization"]),
            parameterization_reason=tuple((str(k), str(v)) for k, v in manifest["parameterization_reason"]),
            quadrature_nodes=int(manifest.get("quadrature_nodes", 0)),
            dpars=tuple((str(k), str(v)) for k, v in manifest.get("dpars", [])),
        )
        info = manifest["sampler_info"]
        if not isinstance(info, dict):
            raise TypeError(f"sampler_info is a {type(info).__name__}, not a table")
        _check_consistent(design, spec, idata)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        what = f"missing entry {e}" if isinstance(e, KeyError) else f"{type(e).__name__}: {e}"
        raise _not_a_fit(path, f"its manifest is damaged or was edited ({what})") from None
    return {"spec": spec, "design": design, "idata": idata, "sampler_info": info}


def _check_consistent(design, spec, idata) -> None:
    """The parts of a loaded fit agree: arrays of one length, level codes within their levels, and a posterior
    with the design's coefficients and levels and the spec's terms (ValueError otherwise)."""
    n = len(design.y)
    post = idata.posterior
    for d in design.predictors:
        if d.X.shape[0] != n or len(d.rows) != n or (d.trials is not None and len(d.trials) != n):
            raise ValueError(f"the design's arrays have different lengths ({n} responses)")
        if d.X.shape[1] != len(d.x_names):
            raise ValueError("the fixed-effect matrix and its column names disagree")
        var = N.beta_var(d.dpar)
        if var in post and post[var].shape[2:] != (len(d.x_names),):
            raise ValueError(f"the posterior of {var} does not have the design's coefficients")
    labels = {b.label for b in design.all_blocks}
    if {k for k, _ in spec.parameterization} != labels:
        raise ValueError("the parameterisation names other terms than the design")
    for b in design.all_blocks:
        if b.Z.shape != (n, len(b.coef_names)) or len(b.codes) != n:
            raise ValueError(f"the arrays of the term {b.label!r} have the wrong shape")
        if n and (b.codes.min() < 0 or b.codes.max() >= len(b.levels)):
            raise ValueError(f"the level codes of the term {b.label!r} point outside its levels")
        name = f"r_{b.label}"
        if name in post and post[name].shape[2:] != (len(b.levels), len(b.coef_names)):
            raise ValueError(f"the posterior of {name} does not have the term's levels and coefficients")
