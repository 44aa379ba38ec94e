"""The PyTensor Op of a GLMM's log-likelihood with one term integrated out by adaptive Gauss–Hermite quadrature
(see :mod:`bayesmixed.quadrature`).

:class:`QuadratureLoglik` maps the linear predictor without the term, ``η_rest`` (n,), and the term's SD ``τ`` to
``Σ_j log ∫ exp f_j`` and returns its derivatives in the same pass (a numba kernel per family, level by level:
Newton's method to the mode, then K nodes around it). The derivatives are exact for the rule as evaluated: they
include the motion of the nodes with the mode (implicit in ``f_j'(b̂_j) = 0``) and with the curvature
``σ̂_j = (−f_j''(b̂_j))^(−1/2)``, through the family's third derivative.

Like :mod:`bayesmixed.backends.sparse_op`, the Op runs in PyTensor's Python/C backend (``perform``), numba
(registered, so nutpie calls the kernel directly and numba caches it) and JAX (a host callback).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op

from .. import _quad_kernels as QK  # numba-compiled kernels, imported with the backend
from .sparse_op import _zero_cotangents

__all__ = ["QuadratureLoglik", "quadrature_loglik", "register_jax"]

_N_DATA = 8  # y, trials, row constants, z, level pointers, level rows, nodes, log weights


class QuadratureLoglik(Op):
    """``(η_rest, τ, y, t, c, z, ptr, rows, x, logw) → (log-likelihood, ∂/∂η_rest, ∂/∂τ)`` for one family's
    kernel (:attr:`bayesmixed.families.Family.quadrature_kernel`)."""

    __props__ = ("kernel",)

    def __init__(self, kernel: str):
        self.kernel = kernel

    def make_node(self, eta, tau, *data):
        eta = pt.as_tensor_variable(eta).astype("float64")
        tau = pt.as_tensor_variable(tau).astype("float64")
        data = [pt.as_tensor_variable(d) for d in data]
        if len(data) != _N_DATA:
            raise TypeError(f"QuadratureLoglik takes {_N_DATA} data arrays, got {len(data)}")
        return Apply(self, [eta, tau, *data], [pt.dscalar(), pt.dvector(), pt.dscalar()])

    def perform(self, node, inputs, output_storage):
        eta, tau, *data = inputs
        out = QK.loglik_kernel(self.kernel)(np.ascontiguousarray(eta), float(tau), *data)
        for store, value in zip(output_storage, out):
            store[0] = np.asarray(value, dtype="float64")

    def infer_shape(self, fgraph, node, shapes):
        return [(), shapes[0], ()]

    def connection_pattern(self, node):
        return [[True, True, True]] * 2 + [[False, False, False]] * _N_DATA

    def L_op(self, inputs, outputs, output_grads):
        g = output_grads[0]
        if any(not isinstance(o.type, DisconnectedType) for o in output_grads[1:]):
            raise NotImplementedError("QuadratureLoglik: only the log-likelihood is differentiable")
        if isinstance(g.type, DisconnectedType):
            return [disconnected_type() for _ in inputs]
        return [g * outputs[1], g * outputs[2]] + [disconnected_type() for _ in range(_N_DATA)]


def quadrature_loglik(kernel: str, eta_rest, tau, data_vars):
    """The integrated log-likelihood as a differentiable PyTensor scalar (``data_vars``: y, trials, row constants,
    z, level pointers, level rows, nodes, log weights, as data containers)."""
    return QuadratureLoglik(kernel)(eta_rest, tau, *data_vars)[0]


def _register_numba() -> None:
    try:
        from pytensor.link.numba.dispatch import basic as numba_basic
        from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key
    except ImportError:  # pragma: no cover - numba not installed: perform() is used
        return

    @register_funcify_default_op_cache_key(QuadratureLoglik)
    def _funcify(op, node, **kwargs):
        kind = QK.KIND[op.kernel]
        loglik = QK.loglik

        @numba_basic.numba_njit
        def quadrature_loglik_kernel(eta, tau, y, t, c, z, ptr, rows, x, logw):
            ll, g_eta, g_tau = loglik(kind, eta, tau[()], y, t, c, z, ptr, rows, x, logw)
            return np.array(ll), g_eta, np.array(g_tau)

        return quadrature_loglik_kernel, 1


_JAX_REGISTERED: list = []


def register_jax() -> None:
    """Teach PyTensor's JAX backend the Op (a host callback into the numba kernel); called by the sampling
    module before a JAX sampler compiles a model."""
    if _JAX_REGISTERED:
        return
    from pytensor.link.jax.dispatch import jax_funcify

    _JAX_REGISTERED.append(True)

    @jax_funcify.register(QuadratureLoglik)
    def _funcify(op, node, **kwargs):
        import jax
        import jax.numpy as jnp

        kernel = QK.loglik_kernel(op.kernel)

        def host(eta, tau, *data):
            ll, g_eta, g_tau = kernel(np.asarray(eta, dtype="float64"), float(tau), *(np.asarray(d) for d in data))
            return np.asarray(ll, "float64"), np.asarray(g_eta, "float64"), np.asarray(g_tau, "float64")

        @jax.custom_vjp
        def quadrature_jax(eta, tau, *data):
            shapes = (jax.ShapeDtypeStruct((), jnp.float64), jax.ShapeDtypeStruct(eta.shape, jnp.float64),
                      jax.ShapeDtypeStruct((), jnp.float64))
            return jax.pure_callback(host, shapes, eta, tau, *data, vmap_method="sequential")

        def fwd(eta, tau, *data):
            out = quadrature_jax(eta, tau, *data)
            return out, (out, data)

        def bwd(res, cts):  # the derivatives are outputs of the same call; only the log-likelihood is differentiable
            (_, g_eta, g_tau), data = res
            return (cts[0] * g_eta, cts[0] * g_tau) + _zero_cotangents(data)

        quadrature_jax.defvjp(fwd, bwd)

        return quadrature_jax


_register_numba()
