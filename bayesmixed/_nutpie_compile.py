"""Compile a PyMC model for nutpie once per model structure, not once per process.

``nutpie.compile_pymc_model`` wraps PyTensor's numba functions (the log density with its gradient, and the
expansion of a draw into every traced variable) in two C callbacks whose wrapper (literal unrolling over a record
of shared arrays) numba types and compiles afresh in every process, and cannot cache ("dynamic globals"): 6-12 s
for cbpp or Penicillin, next to a few tenths of a second of sampling. PyTensor already caches the numba code of
its own functions on disk, keyed by their graph.

Here the two callbacks are a short generated wrapper that turns the raw pointers nutpie passes into arrays and
calls the PyTensor function; the shared data travel in a flat ``uint64`` table of (address, size, shape) per
array, so the wrapper has no dynamic globals and numba caches it (with the PyTensor code it calls linked in) in
our cache directory, under a key naming the wrapper's source and the PyTensor graph. A small record per model
structure (``sampling._structure_key`` plus the versions of PyMC, PyTensor, nutpie and bayesmixed's own source)
keeps what nutpie needs besides the callbacks: sizes, names and shapes of the variables, the order of the shared
arrays, the support point. A later process fitting the same structure rebuilds the compiled model from the
record and the cached callbacks without building a PyTensor function at all (cbpp: 0.07 s instead of 6-12 s);
the data are whatever the new model's containers hold. Refitting the same structure on new data in one process
writes new addresses into the table (``with_data``).

The cache lives in ``$BAYESMIXED_CACHE_DIR`` or ``bayesmixed/`` under PyTensor's base compile directory;
``BAYESMIXED_COMPILE_CACHE=0`` turns it off (every process then compiles its callbacks), and
``clear_disk_cache()`` (or ``bayesmixed.sampling.clear_compile_cache(disk=True)``) empties it.

Nothing in the cache is executed or unpickled unless this user's bayesmixed wrote it (``bayesmixed._privatecache``):
the directory is the user's own (``0700``), a record is JSON signed with an HMAC under a per-user key, and it
carries the SHA-256 of numba's cache files for its callbacks (numba unpickles those), which are checked before
numba reads them. The callbacks' source is generated again from the record's numbers, never read from it. A
record names the structure it was made for (a hash of ``sampling._structure_key``) and the model's free
variables; a record of another structure (a copied cache, a renamed file) is ignored. A damaged, truncated,
foreign or stale record or cache file is ignored, its files deleted, and the structure compiled again into new
files (written under temporary names and renamed, so concurrent writers never share a file).

The initial point of each chain is the support point in the unconstrained space plus U(-1, 1) jitter seeded per
chain (PyMC's jitter), computed the same way whether the model was compiled or rebuilt, so a seed gives the same
draws either way.

What it relies on (the versions in ``pyproject.toml`` are those it was tested with): from nutpie
``compile_pymc._make_functions`` (the PyTensor functions and shape information), ``CompiledPyMCModel`` (what
``nutpie.sample`` drives, given the addresses of a logp and an expand callback and of their user data) and
``_prepare_dims_and_coords``; from numba ``CFunc``'s cache, ``CacheImpl._locator_classes`` and
``_CacheLocator``; from PyTensor ``link.numba.cache.CACHED_SRC_FUNCTIONS`` and ``Function.vm.jit_fn``.
:func:`fast_path_probe` checks that they are there; :func:`compile_fast` uses nutpie's public
``nutpie.compile_pymc_model`` instead when they are not, when ``BAYESMIXED_FAST_COMPILE=0``, or when anything in
the fast path fails, and says which path ran (``sampler_info["compile_path"]``: ``"fast"`` or ``"nutpie"``, with
``"compile_fallback"`` saying why).
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import warnings
from hashlib import sha256
from pathlib import Path
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

import numpy as np

from . import _privatecache as pc

__all__ = ["compile_fast", "fast_path_probe", "Compiled", "clear_disk_cache", "disk_cache_enabled"]

_CACHE_VERSION = "bayesmixed-nutpie-callbacks-5"
_LOG = logging.getLogger("bayesmixed")


def _frozen(value, dtype=None) -> np.ndarray:
    """A read-only C-contiguous copy: the callbacks read the arrays by address for as long as the model lives."""
    arr = np.array(value, dtype=dtype, order="C", copy=True)
    arr.flags.writeable = False
    return arr


def _layout(names: list[str], arrays: dict[str, Any]) -> tuple[dict[str, int], int]:
    """Offsets of each array's (address, size, shape...) record in the flat table (``arrays``: anything with
    ``ndim``)."""
    offsets, pos = {}, 0
    for name in names:
        offsets[name] = pos
        pos += 2 + arrays[name].ndim
    return offsets, pos


class _Meta(NamedTuple):
    """What the generated source needs to know of a shared array."""

    dtype: np.dtype
    ndim: int


def _fill(table: np.ndarray, names: list[str], arrays: dict[str, np.ndarray], offsets: dict[str, int]) -> None:
    for name in names:
        arr, o = arrays[name], offsets[name]
        table[o] = arr.ctypes.data
        table[o + 1] = arr.size
        table[o + 2 : o + 2 + arr.ndim] = arr.shape


def _unpack_lines(names, arrays, offsets, prefix: str) -> tuple[list[str], list[str], dict[str, Any]]:
    """Source lines turning table records into arrays, the argument names, and the pointer casts they use."""
    lines, args, glob = [], [], {}
    for i, name in enumerate(names):
        arr, o = arrays[name], offsets[name]
        cast = f"_{prefix}ptr{i}"
        glob[cast] = _pointer_cast(arr.dtype)
        shape = ", ".join(f"int(ud[{o + 2 + k}])" for k in range(arr.ndim))
        # numba.carray from a typed pointer and the full shape: no reshape, no dtype dispatch
        lines.append(f"    {prefix}{i} = numba.carray({cast}(ud[{o}]), ({shape}{',' if arr.ndim == 1 else ''}))")
        args.append(f"{prefix}{i}")
    return lines, args, glob


_CASTS: dict = {}


def _pointer_cast(dtype):
    """An intrinsic turning an address (uint64) into a typed pointer to ``dtype``."""
    import numba
    from numba.np.numpy_support import from_dtype

    key = np.dtype(dtype).str
    if key not in _CASTS:
        elem = from_dtype(np.dtype(dtype))

        @numba.extending.intrinsic
        def cast(typingctx, addr):
            sig = numba.types.CPointer(elem)(addr)

            def codegen(context, builder, signature, args):
                return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

            return sig, codegen

        _CASTS[key] = cast
    return _CASTS[key]


def _callback_source(n_dim: int, n_expanded: int, logp_names: list[str], expand_names: list[str],
                     arrays: dict[str, Any]) -> tuple[str, dict[str, Any], list[str]]:
    """The source of the two callbacks, the pointer casts it uses and the order of the table: a function of
    the dimensions and the shared arrays' dtypes and ranks only (so a record's numbers give it back)."""
    names = list(dict.fromkeys([*logp_names, *expand_names]))
    offsets, n_table = _layout(names, arrays)
    glob: dict[str, Any] = {}
    l_lines, l_args, g1 = _unpack_lines(logp_names, arrays, offsets, "s")
    e_lines, e_args, g2 = _unpack_lines(expand_names, arrays, offsets, "e")
    glob.update(g1)
    glob.update(g2)
    table_ptr = "numba.carray(_u64ptr(ud_), ({n},))".format(n=max(n_table, 1))
    # written with plain loops and math.isfinite: every numpy function or array method used here would be one
    # more numba overload compiled in every process that builds a callback
    src = "\n".join([
        "def logp_cb(dim, x_, out_, logp_, ud_):",
        f"    if dim != {n_dim}:",
        "        return -1",
        f"    ud = {table_ptr}",
        *l_lines,
        f"    x = numba.carray(x_, ({n_dim},))",
        f"    out = numba.carray(out_, ({n_dim},))",
        "    try:",
        f"        value, grad = _logp_inner(x, {', '.join(l_args)})",
        "    except Exception:",
        "        return 1",
        "    lv = value[()]",
        "    logp_[0] = lv",
        "    bad = False",
        f"    for i in range({n_dim}):",
        "        g = grad[i]",
        "        out[i] = g",
        "        if not math.isfinite(g):",
        "            bad = True",
        "    if bad:",
        "        return 3",
        "    if not math.isfinite(lv):",
        "        return 4",
        "    return 0",
        "",
        "def expand_cb(dim, expanded, x_, out_, ud_):",
        f"    if dim != {n_dim} or expanded != {n_expanded}:",
        "        return -1",
        f"    ud = {table_ptr}",
        *e_lines,
        f"    x = numba.carray(x_, ({n_dim},))",
        f"    out = numba.carray(out_, ({n_expanded},))",
        "    try:",
        f"        (values,) = _expand_inner(x, {', '.join(e_args)})",
        "    except Exception:",
        "        return -2",
        f"    for i in range({n_expanded}):",
        "        out[i] = values[i]",
        "    return 0",
    ])
    return src, glob, names


def _callback_keys(src: str, inner_keys: dict[str, str | None]) -> dict[str, str | None]:
    """numba cache keys of the callbacks: they name our source and the graph of the PyTensor function each calls,
    so a cached callback is reused exactly when both are the same."""
    return {fn: (sha256(f"{_CACHE_VERSION}\n{fn}\n{inner}\n{src}".encode()).hexdigest() if inner else None)
            for fn, inner in inner_keys.items()}


def _build_callbacks(n_dim, n_expanded, logp_jit, expand_jit, logp_names, expand_names, arrays, directory):
    import numba
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    src, casts, names = _callback_source(n_dim, n_expanded, logp_names, expand_names, arrays)
    glob: dict[str, Any] = {"__name__": __name__, "numba": numba, "math": math,
                            "_logp_inner": logp_jit, "_expand_inner": expand_jit, **casts}

    @numba.extending.intrinsic
    def _u64ptr(typingctx, src):
        sig = numba.types.CPointer(numba.types.uint64)(src)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(signature.return_type))

        return sig, codegen

    glob["_u64ptr"] = _u64ptr
    inner_keys = {fn: CACHED_SRC_FUNCTIONS.get(getattr(inner, "py_func", None))
                  for fn, inner in (("logp_cb", logp_jit), ("expand_cb", expand_jit))}
    keys = _callback_keys(src, inner_keys)
    cache = directory is not None and all(k is not None for k in keys.values())
    if cache:  # whatever sits under these names was not vouched for by a record: numba must not unpickle it
        _remove_callback_files(directory, keys)
    fns = {fn_name: _function_from_source(src, fn_name, dict(glob), keys[fn_name] if cache else None, directory)
           for fn_name in keys}
    sig_logp, sig_expand = _signatures()["logp_cb"], _signatures()["expand_cb"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        logp_cb = numba.cfunc(sig_logp, cache=cache)(fns["logp_cb"])
        expand_cb = numba.cfunc(sig_expand, cache=cache)(fns["expand_cb"])
    return logp_cb, expand_cb, names, (inner_keys, keys) if cache else None


def _model_class():
    from nutpie.compile_pymc import CompiledPyMCModel

    @dataclasses.dataclass(frozen=True)
    class FastCompiledModel(CompiledPyMCModel):
        """nutpie's compiled PyMC model, with our callbacks and our flat table of shared arrays."""

        _table_names: tuple = ()
        _table_offsets: Any = None

        def with_data(self, **updates):
            shared = dict(self.shared_data)
            for name, value in updates.items():
                if name not in shared:
                    raise KeyError(f"unknown shared variable: {name}")
                old = shared[name]
                new = _frozen(value, old.dtype)
                if new.ndim != old.ndim:
                    raise ValueError(f"shared variable {name} must have rank {old.ndim}")
                shared[name] = new
            table = np.zeros_like(self.user_data)
            _fill(table, list(self._table_names), shared, self._table_offsets)
            return dataclasses.replace(self, shared_data=shared, user_data=table)

    return FastCompiledModel


_FAST_CLASS = None
_SIG = {}


def _signatures():
    import numba

    if not _SIG:
        ptr = numba.types.CPointer(numba.types.double)
        _SIG["logp_cb"] = numba.types.int64(numba.types.uint64, ptr, ptr, ptr, numba.types.voidptr)
        _SIG["expand_cb"] = numba.types.int64(numba.types.uint64, numba.types.uint64, ptr, ptr, numba.types.voidptr)
    return _SIG


def _cache_dir() -> Path:
    """``$BAYESMIXED_CACHE_DIR``, else ``bayesmixed/`` in PyTensor's base compile directory."""
    env = os.environ.get("BAYESMIXED_CACHE_DIR")
    if env:
        return Path(env)
    from pytensor.configdefaults import config

    return Path(config.base_compiledir) / "bayesmixed"


def _private_cache_dir() -> Path | None:
    """The cache directory, checked (ours, ``0700``), or None when the disk cache is off or unusable."""
    if not disk_cache_enabled():
        return None
    return pc.usable_dir(_cache_dir())


_CALLBACK_PREFIX = "bayesmixed_callbacks."


def _callback_files(directory: Path, keys: dict[str, str]) -> list[Path]:
    """numba's index and data files of our callbacks with these cache keys (``<name>-<key>.pyXY[.N].nbi|nbc``)."""
    out = []
    for path in directory.iterdir():
        name = path.name
        if name.startswith(_CALLBACK_PREFIX) and name.endswith((".nbi", ".nbc")) and \
                any(f"-{k}.py" in name for k in keys.values()):
            out.append(path)
    return sorted(out)


def _remove_callback_files(directory: Path, keys: dict[str, str]) -> None:
    for path in _callback_files(directory, keys):
        try:
            path.unlink()
        except OSError:
            pass


_KEYED: "WeakKeyDictionary[Any, tuple[str, Path]]" = WeakKeyDictionary()  # callback function -> (key, directory)
_LOCATOR_REGISTERED = False


def _register_locator() -> None:
    """Point numba's cache for our callbacks (functions made from source, which numba cannot cache by file) at
    our cache directory, under the key we give each (the same scheme as PyTensor's own generated functions)."""
    global _LOCATOR_REGISTERED
    if _LOCATOR_REGISTERED:
        return
    from numba.core.caching import CacheImpl, _CacheLocator

    class _Locator(_CacheLocator):
        def __init__(self, py_func, py_file, key, directory):
            self._py_func, self._py_file, self._key, self._dir = py_func, py_file, key, directory

        def ensure_cache_path(self):
            pc.usable_dir(self._dir)

        def get_cache_path(self):
            return str(self._dir)

        def get_source_stamp(self):
            return 0  # the key already names the source

        def get_disambiguator(self):
            return self._key

        @classmethod
        def from_function(cls, py_func, py_file):
            found = _KEYED.get(py_func)
            return None if found is None else cls(py_func, py_file, *found)

    CacheImpl._locator_classes.insert(0, _Locator)
    _LOCATOR_REGISTERED = True


def _function_from_source(src: str, name: str, glob: dict, key: str | None, directory: Path | None):
    """The function ``name`` of ``src``: source generated by :func:`_callback_source` in this process (never
    read from disk)."""
    namespace: dict[str, Any] = {}
    exec(compile(src, "bayesmixed_callbacks", "exec"), glob, namespace)  # noqa: S102 (generated here)
    fn = namespace[name]
    if key is not None and directory is not None:
        _register_locator()
        _KEYED[fn] = (key, directory)
    return fn


def _code_hash() -> str:
    """Versions of everything that shapes the compiled graph, and a hash of bayesmixed's own source: a record
    written by other code is never reused."""
    global _CODE_HASH
    if _CODE_HASH is None:
        import numba
        import nutpie
        import pymc
        import pytensor

        # the PyTensor flags that change the graph or the numba code it compiles to
        flags = {f: getattr(pytensor.config, f, None) for f in ("floatX", "numba__fastmath", "optimizer")}
        h = sha256(f"{_CACHE_VERSION} pymc {pymc.__version__} pytensor {pytensor.__version__} "
                   f"nutpie {nutpie.__version__} numba {numba.__version__} {sorted(flags.items())}".encode())
        root = Path(__file__).resolve().parent
        for path in sorted(root.rglob("*.py")):
            h.update(path.relative_to(root).as_posix().encode())
            h.update(path.read_bytes())
        _CODE_HASH = h.hexdigest()
    return _CODE_HASH


_CODE_HASH: str | None = None


def disk_cache_enabled() -> bool:
    return os.environ.get("BAYESMIXED_COMPILE_CACHE", "1").lower() not in ("0", "false", "no", "off")


def clear_disk_cache() -> int:
    """Delete the records of compiled structures and their cached callbacks (PyTensor's own numba cache is left
    alone; so is the key); returns how many records went. Records of older bayesmixed versions (``.pkl``, never
    read now) go too."""
    d = _cache_dir()
    n = 0
    if d.is_dir():
        for path in d.iterdir():
            if path.suffix in (".json", ".pkl", ".nbi", ".nbc", ".tmp") or ".tmp." in path.name:
                n += path.suffix in (".json", ".pkl")
                path.unlink(missing_ok=True)
    return n


def _structure_hash(structure_key: str) -> str:
    return sha256(f"{_code_hash()}\n{structure_key}".encode()).hexdigest()


def _record_path(directory: Path, structure_key: str) -> Path:
    return directory / (_structure_hash(structure_key)[:40] + ".json")


def _initial_point_fn(x0: np.ndarray):
    """The support point in the unconstrained space plus U(-1, 1) jitter per coordinate (PyMC's jitter),
    seeded per chain by nutpie."""
    x0 = np.array(x0, dtype="float64", copy=True)

    def initial_point(seed=None):
        return x0 + np.random.default_rng(seed).uniform(-1.0, 1.0, size=x0.shape)

    return initial_point


def _load_cfunc(src: str, name: str, key: str, directory: Path):
    """The callback ``name`` of ``src`` from numba's cache, or None (nothing is compiled here)."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    fn = _function_from_source(src, name, {"__name__": __name__}, key, directory)
    res = CFunc(fn, sigutils.normalize_signature(_signatures()[name]), locals={}, options={})
    res.enable_caching()
    cres = res._cache.load_overload(res._sig, res._targetdescr.target_context)
    if cres is None:
        return None
    res._library = cres.library
    res._wrapper_name = cres.fndesc.llvm_cfunc_wrapper_name
    res._wrapper_address = res._library.get_pointer_to_function(res._wrapper_name)
    res._cache_hits += 1
    return res


_DTYPES = {"<f8", "<f4", "<i8", "<i4", "<i2", "|i1", "<u8", "<u4", "<u2", "|u1", "|b1"}


def _record_payload(structure_key: str, n_dim: int, n_expanded: int, shape_info, x0: np.ndarray,
                    logp_names: list[str], expand_names: list[str], shared: dict[str, np.ndarray],
                    inner_keys: dict[str, str], keys: dict[str, str], files: dict[str, str]) -> dict[str, Any]:
    names, slices, shapes = shape_info
    return {
        "format": _CACHE_VERSION,
        "structure": _structure_hash(structure_key),
        "n_dim": int(n_dim),
        "n_expanded": int(n_expanded),
        "shape_info": [[str(n) for n in names], [[int(s.start), int(s.stop)] for s in slices],
                       [[int(d) for d in shape] for shape in shapes]],
        "x0": [float(v) for v in np.asarray(x0, dtype="float64")],
        "logp_names": list(logp_names),
        "expand_names": list(expand_names),
        "arrays": {name: [shared[name].dtype.str, int(shared[name].ndim)] for name in shared},
        "inner_keys": dict(inner_keys),
        "keys": dict(keys),
        "files": dict(files),
    }


def _record_matches(model, rec: dict, structure_key: str) -> bool:
    """Whether a (verified) record was made for this model's structure: the same structure hash, and its free
    variables and data containers are the model's."""
    if rec.get("format") != _CACHE_VERSION or rec.get("structure") != _structure_hash(structure_key):
        return False
    value_names = [v.name for v in model.value_vars]
    names = rec["shape_info"][0]
    data = {v.name: v.get_value() for v in model.data_vars}
    return (names[: len(value_names)] == value_names
            and all(name in data and np.ndim(data[name]) == ndim for name, (_, ndim) in rec["arrays"].items()))


def _from_record(model, rec: dict, directory: Path):
    """A compiled model from a verified record and numba's cached callbacks (their files checked against the
    record's digests first), without building PyTensor functions; None where anything does not fit."""
    values = {v.name: v.get_value() for v in model.data_vars}
    meta, shared = {}, {}
    for name, (dtype, ndim) in rec["arrays"].items():
        if dtype not in _DTYPES:
            return None
        meta[name] = _Meta(np.dtype(dtype), int(ndim))
        arr = _frozen(values[name], dtype)
        if arr.ndim != ndim:
            return None
        shared[name] = arr
    n_dim, n_expanded = int(rec["n_dim"]), int(rec["n_expanded"])
    logp_names, expand_names = list(rec["logp_names"]), list(rec["expand_names"])
    src, _, names = _callback_source(n_dim, n_expanded, logp_names, expand_names, meta)
    keys = _callback_keys(src, rec["inner_keys"])
    if keys != rec["keys"] or any(k is None for k in keys.values()):
        return None
    files = _callback_files(directory, keys)
    if {p.name for p in files} != set(rec["files"]) or \
            any(pc.file_digest(p) != rec["files"][p.name] for p in files):
        return None  # a cache file changed since the record vouched for it (bit rot, a partial copy, a plant)
    callbacks = {}
    for name in ("logp_cb", "expand_cb"):
        callbacks[name] = _load_cfunc(src, name, keys[name], directory)
        if callbacks[name] is None:
            return None
    sn, sl, sh = rec["shape_info"]
    shape_info = (list(sn), [slice(a, b) for a, b in sl], [tuple(s) for s in sh])
    return _assemble(model, n_dim, n_expanded, shape_info, callbacks, shared, names,
                     np.asarray(rec["x0"], dtype="float64"))


def _assemble(model, n_dim, n_expanded, shape_info, callbacks, shared, names, x0, logp_pt=None, expand_pt=None):
    """The compiled model nutpie samples: our callbacks, the table of the shared arrays' addresses, the rest of
    what nutpie reads (dims, coords, shapes, initial points)."""
    from nutpie.compile_pymc import _prepare_dims_and_coords

    offsets, n_table = _layout(names, shared)
    table = np.zeros(max(n_table, 1), dtype=np.uint64)
    _fill(table, names, shared, offsets)
    dims, coords = _prepare_dims_and_coords(model, shape_info)
    return _FAST_CLASS(
        _n_dim=n_dim, dims=dims, _coords=coords,
        _shapes={name: tuple(shape) for name, _, shape in zip(*shape_info)},
        compiled_logp_func=callbacks["logp_cb"], compiled_expand_func=callbacks["expand_cb"],
        initial_point_func=_initial_point_fn(x0), shared_data=shared, user_data=table,
        n_expanded=n_expanded, shape_info=shape_info, logp_func=logp_pt, expand_func=expand_pt,
        _table_names=tuple(names), _table_offsets=offsets,
    )


def _compile(model, structure_key: str | None, directory: Path | None):
    """Build the PyTensor functions and compile the callbacks (into ``directory``'s numba cache when given);
    returns the model and the payload of its record (None without a directory)."""
    from nutpie.compile_pymc import _make_functions
    from pymc.initial_point import make_initial_point_fn

    support = make_initial_point_fn(model=model, jitter_rvs=set(), default_strategy="support_point",
                                    return_transformed=True)
    n_dim, n_expanded, logp_pt, expand_pt, flat_support, shape_info = _make_functions(
        model, mode="NUMBA", compute_grad=True, join_expanded=True, pymc_initial_point_fn=support)
    x0 = np.asarray(flat_support(None), dtype="float64")
    shared: dict[str, np.ndarray] = {}
    for var in [*logp_pt.get_shared(), *expand_pt.get_shared()]:
        if var.name not in shared:
            shared[var.name] = _frozen(var.get_value())
    logp_names = [v.name for v in logp_pt.get_shared()]
    expand_names = [v.name for v in expand_pt.get_shared()]
    if len(set(logp_names)) != len(logp_names) or len(set(expand_names)) != len(expand_names):
        return None, None
    if any(shared[name].dtype.str not in _DTYPES for name in shared):
        directory = None  # a dtype a record could not name: compile without the disk cache
    directory = directory if structure_key is not None else None
    logp_cb, expand_cb, names, cache_keys = _build_callbacks(
        n_dim, n_expanded, logp_pt.vm.jit_fn, expand_pt.vm.jit_fn, logp_names, expand_names, shared, directory)
    compiled = _assemble(model, n_dim, n_expanded, shape_info, {"logp_cb": logp_cb, "expand_cb": expand_cb}, shared,
                         names, x0, logp_pt, expand_pt)
    record = None
    if cache_keys is not None:
        inner_keys, keys = cache_keys
        files = {}
        for path in _callback_files(directory, keys):
            pc.tighten(path)
            files[path.name] = pc.file_digest(path)
        if files and all(files.values()):
            record = _record_payload(structure_key, n_dim, n_expanded, shape_info, x0, logp_names, expand_names,
                                     {name: shared[name] for name in names}, inner_keys, keys, files)
    return compiled, record


def _nutpie_own(model):
    import nutpie

    return nutpie.compile_pymc_model(model)


class Compiled(NamedTuple):
    """A nutpie compiled model and how it was made.

    ``source``: ``"disk"`` when rebuilt from an earlier process's record, else None. ``path``: ``"fast"``
    (bayesmixed's cacheable callbacks) or ``"nutpie"`` (``nutpie.compile_pymc_model``). ``fallback``: why the
    fast path was not used (None when it was).
    """

    model: Any
    source: str | None
    path: str
    fallback: str | None = None


_PROBE: list = []


def fast_path_probe() -> tuple[bool, str | None]:
    """Whether every internal of nutpie, numba and PyTensor that the fast path uses is there:
    ``(True, None)``, or ``(False, what is missing)``. Checked once per process; ``BAYESMIXED_FAST_COMPILE=0``
    turns the fast path off."""
    if os.environ.get("BAYESMIXED_FAST_COMPILE", "1").lower() in ("0", "false", "no", "off"):
        return False, "turned off by BAYESMIXED_FAST_COMPILE=0"
    if _PROBE:
        return _PROBE[0]
    global _FAST_CLASS
    result: tuple[bool, str | None] = (True, None)
    try:
        import numba
        import numba.core.caching as caching
        import nutpie.compile_pymc as ncp
        from numba.core import sigutils  # noqa: F401
        from numba.core.ccallback import CFunc
        from pymc.initial_point import make_initial_point_fn  # noqa: F401
        from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

        needed = {
            "nutpie.compile_pymc._make_functions": callable(getattr(ncp, "_make_functions", None)),
            "nutpie.compile_pymc._prepare_dims_and_coords": callable(getattr(ncp, "_prepare_dims_and_coords", None)),
            "numba.core.caching.CacheImpl._locator_classes": isinstance(
                getattr(caching.CacheImpl, "_locator_classes", None), list),
            "numba.core.caching._CacheLocator": isinstance(getattr(caching, "_CacheLocator", None), type),
            "numba.core.ccallback.CFunc.enable_caching": callable(getattr(CFunc, "enable_caching", None)),
            "numba.extending.intrinsic": callable(getattr(numba.extending, "intrinsic", None)),
            "pytensor.link.numba.cache.CACHED_SRC_FUNCTIONS": hasattr(CACHED_SRC_FUNCTIONS, "get"),
        }
        fields = {f.name for f in dataclasses.fields(ncp.CompiledPyMCModel)}
        wanted = {"_n_dim", "dims", "_coords", "_shapes", "compiled_logp_func", "compiled_expand_func",
                  "initial_point_func", "shared_data", "user_data", "n_expanded", "shape_info", "logp_func",
                  "expand_func"}
        needed["nutpie.compile_pymc.CompiledPyMCModel fields " + ", ".join(sorted(wanted - fields))] = wanted <= fields
        missing = [name for name, ok in needed.items() if not ok]
        if missing:
            result = (False, "missing: " + "; ".join(missing))
        elif _FAST_CLASS is None:
            _FAST_CLASS = _model_class()
    except Exception as err:  # noqa: BLE001 - an import or a class that changed shape: the public path
        result = (False, f"{type(err).__name__}: {err}")
    _PROBE.append(result)
    return result


def compile_fast(model, structure_key: str | None = None) -> Compiled:
    """A nutpie compiled model for ``model`` (see :class:`Compiled`): through the fast path when
    :func:`fast_path_probe` passes, else, or when anything in it fails, through ``nutpie.compile_pymc_model``.

    ``structure_key`` names what the compiled graph depends on besides the values of the data containers (see
    ``sampling._structure_key``); without it nothing is read from or written to disk.
    """
    ok, why = fast_path_probe()
    if not ok:
        return Compiled(_nutpie_own(model), None, "nutpie", why)
    try:
        return _compile_fast(model, structure_key)
    except (KeyboardInterrupt, MemoryError):
        raise
    except Exception as err:  # noqa: BLE001 - any failure of the internals: nutpie's public path
        _LOG.debug("bayesmixed fast compile path failed; using nutpie.compile_pymc_model", exc_info=True)
        return Compiled(_nutpie_own(model), None, "nutpie", f"the fast path failed: {type(err).__name__}: {err}")


def _compile_fast(model, structure_key: str | None) -> Compiled:
    directory = _private_cache_dir() if structure_key is not None else None
    key = pc.user_key(directory) if directory is not None else None
    if key is None:
        directory = None
    path = _record_path(directory, structure_key) if directory is not None else None
    if path is not None and os.path.lexists(path):
        rec = pc.read_record(path, key)
        compiled = None
        if rec is not None and _record_matches(model, rec, structure_key):
            try:
                compiled = _from_record(model, rec, directory)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                compiled = None
        if compiled is not None:
            return Compiled(compiled, "disk", "fast")
        if rec is not None and rec.get("structure") == _structure_hash(structure_key):
            _remove_callback_files(directory, rec.get("keys", {}))
        try:  # foreign, damaged, stale or of another structure: rebuilt below, into new files
            path.unlink()
        except OSError:
            pass
    compiled, record = _compile(model, structure_key, directory)
    if compiled is None:  # shared variables with clashing names: nutpie's own path handles (or reports) them
        return Compiled(_nutpie_own(model), None, "nutpie", "shared variables with clashing names")
    if path is not None and record is not None:
        try:
            pc.write_record(path, key, record)
        except OSError:  # a read-only cache directory only costs the next process a compilation
            pass
    return Compiled(compiled, None, "fast")
