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

The initial point of each chain is the support point in the unconstrained space plus U(-1, 1) jitter seeded per
chain (PyMC's jitter), computed the same way whether the model was compiled or rebuilt, so a seed gives the same
draws either way.

What it relies on from nutpie (``nutpie>=0.16,<0.17`` in ``pyproject.toml``): ``_make_functions`` (the PyTensor
functions and shape information), ``CompiledPyMCModel`` (what ``nutpie.sample`` drives, given the addresses of a
logp and an expand callback and of their user data), ``_prepare_dims_and_coords`` and
``address_as_void_pointer``; and from numba: ``CFunc``'s cache and the cache locator list. ``compile_fast``
falls back to ``nutpie.compile_pymc_model`` when nutpie's internals are not there.
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
import warnings
from hashlib import sha256
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

import numpy as np

__all__ = ["compile_fast"]

_CACHE_VERSION = "bayesmixed-nutpie-callbacks-4"


def _frozen(value, dtype=None) -> np.ndarray:
    """A read-only C-contiguous copy: the callbacks read the arrays by address for as long as the model lives."""
    arr = np.array(value, dtype=dtype, order="C", copy=True)
    arr.flags.writeable = False
    return arr


def _layout(names: list[str], arrays: dict[str, np.ndarray]) -> tuple[dict[str, int], int]:
    """Offsets of each array's (address, size, shape...) record in the flat table."""
    offsets, pos = {}, 0
    for name in names:
        offsets[name] = pos
        pos += 2 + arrays[name].ndim
    return offsets, pos


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


def _build_callbacks(n_dim, n_expanded, logp_jit, expand_jit, logp_names, expand_names, arrays):
    import numba
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    names = list(dict.fromkeys([*logp_names, *expand_names]))
    offsets, n_table = _layout(names, arrays)
    glob: dict[str, Any] = {"__name__": __name__, "numba": numba, "math": math,
                            "_logp_inner": logp_jit, "_expand_inner": expand_jit}
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

    @numba.extending.intrinsic
    def _u64ptr(typingctx, src):
        sig = numba.types.CPointer(numba.types.uint64)(src)

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(signature.return_type))

        return sig, codegen

    glob["_u64ptr"] = _u64ptr
    fns, keys = {}, {}
    for fn_name, inner in (("logp_cb", logp_jit), ("expand_cb", expand_jit)):
        inner_key = CACHED_SRC_FUNCTIONS.get(getattr(inner, "py_func", None))
        # the key names our source and the graph of the PyTensor function it calls, so a cached callback is
        # reused exactly when both are the same
        keys[fn_name] = (sha256(f"{_CACHE_VERSION}\n{fn_name}\n{inner_key}\n{src}".encode()).hexdigest()
                         if inner_key else None)
    cache = disk_cache_enabled() and all(k is not None for k in keys.values())
    for fn_name in keys:
        fns[fn_name] = _function_from_source(src, fn_name, dict(glob), keys[fn_name] if cache else None)
    sig_logp, sig_expand = _signatures()["logp_cb"], _signatures()["expand_cb"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", numba.NumbaWarning)
        logp_cb = numba.cfunc(sig_logp, cache=cache)(fns["logp_cb"])
        expand_cb = numba.cfunc(sig_expand, cache=cache)(fns["expand_cb"])
    return logp_cb, expand_cb, names, src, (keys if cache else None)


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


_KEYED: "WeakKeyDictionary[Any, str]" = WeakKeyDictionary()  # our callbacks' functions -> their cache keys
_LOCATOR_REGISTERED = False


def _register_locator() -> None:
    """Point numba's cache for our callbacks (functions made from source, which numba cannot cache by file) at
    our cache directory, under the key we give each (the same scheme as PyTensor's own generated functions)."""
    global _LOCATOR_REGISTERED
    if _LOCATOR_REGISTERED:
        return
    from numba.core.caching import CacheImpl, _CacheLocator

    class _Locator(_CacheLocator):
        def __init__(self, py_func, py_file, key):
            self._py_func, self._py_file, self._key = py_func, py_file, key

        def ensure_cache_path(self):
            path = _cache_dir()
            path.mkdir(parents=True, exist_ok=True)

        def get_cache_path(self):
            return str(_cache_dir())

        def get_source_stamp(self):
            return 0  # the key already names the source

        def get_disambiguator(self):
            return self._key

        @classmethod
        def from_function(cls, py_func, py_file):
            key = _KEYED.get(py_func)
            return None if key is None else cls(py_func, py_file, key)

    CacheImpl._locator_classes.insert(0, _Locator)
    _LOCATOR_REGISTERED = True


def _function_from_source(src: str, name: str, glob: dict, key: str | None):
    namespace: dict[str, Any] = {}
    exec(compile(src, "bayesmixed_callbacks", "exec"), glob, namespace)  # noqa: S102 (our own source)
    fn = namespace[name]
    if key is not None:
        _register_locator()
        _KEYED[fn] = key
    return fn


def _code_hash() -> str:
    """Versions of everything that shapes the compiled graph, and a hash of bayesmixed's own source: a record
    written by other code is never reused."""
    global _CODE_HASH
    if _CODE_HASH is None:
        import nutpie
        import pymc
        import pytensor

        # the PyTensor flags that change the graph or the numba code it compiles to
        flags = {f: getattr(pytensor.config, f, None) for f in ("floatX", "numba__fastmath", "optimizer")}
        h = sha256(f"{_CACHE_VERSION} pymc {pymc.__version__} pytensor {pytensor.__version__} "
                   f"nutpie {nutpie.__version__} {sorted(flags.items())}".encode())
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
    alone); returns how many records went."""
    d = _cache_dir()
    n = 0
    if d.is_dir():
        for path in d.iterdir():
            if path.suffix in (".pkl", ".nbi", ".nbc", ".tmp"):
                n += path.suffix == ".pkl"
                path.unlink(missing_ok=True)
    return n


def _record_path(structure_key: str) -> Path:
    return _cache_dir() / (sha256(f"{_code_hash()}\n{structure_key}".encode()).hexdigest()[:40] + ".pkl")


def _initial_point_fn(x0: np.ndarray):
    """The support point in the unconstrained space plus U(-1, 1) jitter per coordinate (PyMC's jitter),
    seeded per chain by nutpie."""
    x0 = np.array(x0, dtype="float64", copy=True)

    def initial_point(seed=None):
        return x0 + np.random.default_rng(seed).uniform(-1.0, 1.0, size=x0.shape)

    return initial_point


def _load_cfunc(src: str, name: str, key: str):
    """The callback ``name`` of ``src`` from numba's cache, or None (nothing is compiled here)."""
    from numba.core import sigutils
    from numba.core.ccallback import CFunc

    fn = _function_from_source(src, name, {"__name__": __name__}, key)
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


def _from_record(model, rec: dict):
    """A compiled model from a record and numba's cached callbacks, without building PyTensor functions."""
    values = {v.name: v.get_value() for v in model.data_vars}
    shared = {}
    for name, (dtype, ndim) in rec["arrays"].items():
        if name not in values:
            return None
        arr = _frozen(values[name], dtype)
        if arr.ndim != ndim:
            return None
        shared[name] = arr
    callbacks = {}
    for name in ("logp_cb", "expand_cb"):
        callbacks[name] = _load_cfunc(rec["src"], name, rec["keys"][name])
        if callbacks[name] is None:
            return None
    return _assemble(model, rec["n_dim"], rec["n_expanded"], rec["shape_info"], callbacks, shared,
                     list(rec["arrays"]), rec["x0"])


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


def _compile(model):
    """Build the PyTensor functions, compile (or load) the callbacks; returns the model and its record."""
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
    logp_cb, expand_cb, names, src, keys = _build_callbacks(
        n_dim, n_expanded, logp_pt.vm.jit_fn, expand_pt.vm.jit_fn, logp_names, expand_names, shared)
    compiled = _assemble(model, n_dim, n_expanded, shape_info, {"logp_cb": logp_cb, "expand_cb": expand_cb}, shared,
                         names, x0, logp_pt, expand_pt)
    record = None
    if keys is not None:
        record = {"n_dim": n_dim, "n_expanded": n_expanded, "shape_info": shape_info, "x0": x0, "src": src,
                  "keys": keys, "arrays": {name: (shared[name].dtype.str, shared[name].ndim) for name in names}}
    return compiled, record


def _nutpie_own(model):
    import nutpie

    return nutpie.compile_pymc_model(model)


def compile_fast(model, structure_key: str | None = None):
    """A nutpie compiled model for ``model``; returns ``(compiled, source)`` with source ``"disk"`` when it was
    rebuilt from the record of an earlier process's compilation of the same structure, else None.

    ``structure_key`` names what the compiled graph depends on besides the values of the data containers (see
    ``sampling._structure_key``); without it nothing is read from or written to disk.
    """
    global _FAST_CLASS
    try:
        if _FAST_CLASS is None:
            _FAST_CLASS = _model_class()
    except (ImportError, AttributeError, TypeError):  # a nutpie whose internals moved: its own path
        return _nutpie_own(model), None
    path = _record_path(structure_key) if structure_key is not None and disk_cache_enabled() else None
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                compiled = _from_record(model, pickle.load(fh))
            if compiled is not None:
                return compiled, "disk"
        except Exception:  # noqa: BLE001 (a damaged or foreign record: compile afresh and overwrite it)
            pass
    compiled, record = _compile(model)
    if compiled is None:  # shared variables with clashing names: nutpie's own path handles (or reports) them
        return _nutpie_own(model), None
    if path is not None and record is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with tmp.open("wb") as fh:
                pickle.dump(record, fh)
            os.replace(tmp, path)
        except OSError:  # a read-only cache directory only costs the next process a compilation
            pass
    return compiled, None
