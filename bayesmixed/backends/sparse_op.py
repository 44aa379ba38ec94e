"""The PyTensor Op behind the sparse marginal likelihood of multi-term Gaussian models.

:class:`SparseMarginal` wraps :func:`bayesmixed.sparse_marginal.loglik_parts`: from the flat vector of the terms'
factors ``λ``, ``σ²`` and ``c = [W | Z]ᵀ r`` it returns ``log|A|`` and ``uᵀA⁻¹u`` together with their exact
derivatives, computed by the same factorisation (the selected inverse of ``A``). Its gradient is therefore a few
multiplications of outputs that the forward evaluation already produced: PyTensor merges the two uses of the
node and NUTS pays one factorisation per log density and gradient.

The Op runs in every PyTensor backend: ``perform`` (Python/C), numba (registered below, so that nutpie's compiled
model calls the numba kernel directly and numba caches it), and JAX (a host callback, for numpyro/blackjax). The
symbolic plan enters as data inputs rather than constants, so one compiled kernel serves every structure, and a
model compiled once is reused on new data of the same shapes.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from ..sparse_marginal import PLAN_FIELDS, _loglik_parts

__all__ = ["SparseMarginal", "sparse_marginal", "register_jax"]


class SparseMarginal(Op):
    """``(λ, σ², c, *plan) → (log|A|, uᵀA⁻¹u, ∂log|A|/∂λ, ∂uᵀA⁻¹u/∂λ, ∂log|A|/∂σ², ∂uᵀA⁻¹u/∂σ², ∂uᵀA⁻¹u/∂c)``."""

    __props__ = ()

    def make_node(self, lam, s2, c, *plan):
        lam = pt.as_tensor_variable(lam).astype("float64")
        s2 = pt.as_tensor_variable(s2).astype("float64")
        c = pt.as_tensor_variable(c).astype("float64")
        plan = [pt.as_tensor_variable(a) for a in plan]
        if len(plan) != len(PLAN_FIELDS):
            raise TypeError(f"SparseMarginal takes {len(PLAN_FIELDS)} plan arrays, got {len(plan)}")
        outputs = [pt.dscalar(), pt.dscalar(), pt.dvector(), pt.dvector(), pt.dscalar(), pt.dscalar(), pt.dvector()]
        return Apply(self, [lam, s2, c, *plan], outputs)

    def perform(self, node, inputs, output_storage):
        lam, s2, c, *plan = inputs
        out = _loglik_parts(np.ascontiguousarray(lam), float(s2), np.ascontiguousarray(c), *plan)
        for store, value in zip(output_storage, out):
            store[0] = np.asarray(value, dtype="float64")

    def infer_shape(self, fgraph, node, shapes):
        lam_shape, _, c_shape = shapes[:3]
        return [(), (), lam_shape, lam_shape, (), (), c_shape]

    def connection_pattern(self, node):
        n_out = len(node.outputs)
        return [[True] * n_out] * 3 + [[False] * n_out] * len(PLAN_FIELDS)

    def L_op(self, inputs, outputs, output_grads):
        _, _, d_ld, d_q, d_ld_s2, d_q_s2, d_q_c = outputs
        g_ld, g_q = output_grads[0], output_grads[1]
        if any(not isinstance(g.type, DisconnectedType) for g in output_grads[2:]):
            raise NotImplementedError("SparseMarginal: only log|A| and uᵀA⁻¹u are differentiable outputs")
        ld_on = not isinstance(g_ld.type, DisconnectedType)
        q_on = not isinstance(g_q.type, DisconnectedType)
        zero = pt.constant(0.0, dtype="float64")
        g_ld = g_ld if ld_on else zero
        g_q = g_q if q_on else zero
        grads = [g_ld * d_ld + g_q * d_q, g_ld * d_ld_s2 + g_q * d_q_s2, g_q * d_q_c]
        return grads + [disconnected_type() for _ in PLAN_FIELDS]


_op = SparseMarginal()


def sparse_marginal(lam, s2, c, plan_vars):
    """``(log|A|, uᵀA⁻¹u)`` as differentiable PyTensor scalars (``plan_vars``: the plan's arrays in
    :data:`~bayesmixed.sparse_marginal.PLAN_FIELDS` order, as data containers)."""
    out = _op(lam, s2, c, *plan_vars)
    return out[0], out[1]


def _register_numba() -> None:
    try:
        from pytensor.link.numba.dispatch import basic as numba_basic
        from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
    except ImportError:  # pragma: no cover - numba not installed: perform() is used
        return

    @register_funcify_default_op_cache_key(SparseMarginal)
    def _funcify(op, node, **kwargs):
        kernel = _loglik_parts

        @numba_basic.numba_njit
        def sparse_marginal_kernel(lam, s2, c, group_k, group_off, node_group, node_off, pair_a, pair_b,
                                   pair_voff, mvals, mpos, colptr, rowidx, rs_ptr, rs_col, rs_pos, iperm):
            ld, q, g_ld, g_q, ld_s2, q_s2, g_c = kernel(
                lam, s2[()], c, group_k, group_off, node_group, node_off, pair_a, pair_b, pair_voff, mvals, mpos,
                colptr, rowidx, rs_ptr, rs_col, rs_pos, iperm)
            return np.array(ld), np.array(q), g_ld, g_q, np.array(ld_s2), np.array(q_s2), g_c

        return sparse_marginal_kernel, 1


_JAX_REGISTERED = []


def register_jax() -> None:
    """Teach PyTensor's JAX backend the Op (a host callback into the numba kernel); called by the sampling
    module before a JAX sampler compiles a model, so that ``import bayesmixed`` never imports JAX."""
    if _JAX_REGISTERED:
        return
    from pytensor.link.jax.dispatch import jax_funcify

    _JAX_REGISTERED.append(True)

    @jax_funcify.register(SparseMarginal)
    def _funcify(op, node, **kwargs):
        import jax
        import jax.numpy as jnp

        kernel = _loglik_parts

        def host(lam, s2, c, *plan):
            out = kernel(np.asarray(lam, dtype="float64"), float(s2), np.asarray(c, dtype="float64"),
                         *(np.asarray(a) for a in plan))
            return tuple(np.asarray(o, dtype="float64") for o in out)

        @jax.custom_vjp
        def sparse_marginal_jax(lam, s2, c, *plan):
            shapes = (
                jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct((), jnp.float64),
                jax.ShapeDtypeStruct(lam.shape, jnp.float64), jax.ShapeDtypeStruct(lam.shape, jnp.float64),
                jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct((), jnp.float64),
                jax.ShapeDtypeStruct(c.shape, jnp.float64),
            )
            return jax.pure_callback(host, shapes, lam, s2, c, *plan, vmap_method="sequential")

        def fwd(lam, s2, c, *plan):
            out = sparse_marginal_jax(lam, s2, c, *plan)
            return out, (out, plan)

        def bwd(res, cts):  # the derivatives are outputs of the same call; only log|A| and uᵀA⁻¹u are differentiable
            (_, _, d_ld, d_q, d_ld_s2, d_q_s2, d_q_c), plan = res
            ct_ld, ct_q = cts[0], cts[1]
            return (ct_ld * d_ld + ct_q * d_q, ct_ld * d_ld_s2 + ct_q * d_q_s2, ct_q * d_q_c) + _zero_cotangents(plan)

        sparse_marginal_jax.defvjp(fwd, bwd)

        return sparse_marginal_jax


def _zero_cotangents(arrays) -> tuple:
    """JAX cotangents for inputs that take no gradient: float0 zeros for integer arrays, zeros otherwise."""
    import jax
    import jax.numpy as jnp

    return tuple(np.zeros(a.shape, dtype=jax.dtypes.float0) if jnp.issubdtype(a.dtype, jnp.integer)
                 else jnp.zeros_like(a) for a in arrays)


_register_numba()
