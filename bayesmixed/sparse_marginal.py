"""Gaussian models with every random-effect term integrated out through one sparse Cholesky factor.

For ``y = W γ + Z b + ε`` with ``b = Λ u``, ``u ~ N(0, I)``, ``ε ~ N(0, σ² I)`` (and, when the fixed effects have
normal priors, ``γ = μ₀ + S₀ v``, ``v ~ N(0, I)`` as ``p`` more coefficients whose factor is ``S₀ = diag(s₀)``),
the marginal log-likelihood of ``(θ, σ)`` is (:mod:`bayesmixed.marginal`)::

    ℓ = -½ [ n log 2π + (n − Q) log σ² + log|A| + (rᵀr − uᵀA⁻¹u) / σ² ],
    A = Λᵀ M Λ + σ² I_Q,   u = Λᵀ c,

with ``M`` the cross-product matrix of ``[W | Z]`` (``ZᵀZ`` alone when γ is sampled), ``c = [W | Z]ᵀ r₀`` and
``Q`` the number of integrated coefficients. ``M`` is sparse: a level's coefficients meet only the levels of
other terms that share its rows. ``Λ`` is block diagonal, one ``k × k`` block ``F_t = diag(sd_t) L_t`` per level
of term ``t``, so ``A`` has ``M``'s block pattern, and one sparse Cholesky factorisation of ``A`` per gradient gives
``log|A|`` and ``A⁻¹u`` — what lme4 and MixedModels.jl do for the profiled deviance.

This module holds the numeric side (NumPy, SciPy, numba; no PyTensor):

- :func:`plan` does the symbolic work once per design: the levels as *nodes* of ``k`` coefficients, the nonzero
  ``k_a × k_b`` blocks of ``M`` (*pairs*), a fill-reducing order of the nodes (terms with many levels first, the
  fixed effects last, whichever of a few candidate orders needs the fewest operations), the elimination tree and
  the pattern of the factor ``L`` (``A = L Lᵀ`` in that order).
- :func:`loglik_parts` (numba) evaluates ``log|A|`` and ``uᵀA⁻¹u`` and their exact derivatives with respect to
  every factor ``F_t``, ``σ²`` and ``c``: the left-looking factorisation, two triangular solves, and the
  selected inverse of ``A`` on ``L``'s pattern (Takahashi's recurrences) for the trace terms
  ``∂ log|A| / ∂F_t = 2 Σ_(a∈t) Σ_b M_ab F_b (A⁻¹)_ba``, ``∂ log|A| / ∂σ² = tr A⁻¹``; with ``v = A⁻¹u``,
  ``∂ uᵀA⁻¹u / ∂F_t = 2 Σ_(a∈t) (c_a − (MΛv)_a) v_aᵀ``, ``∂/∂σ² = −vᵀv``, ``∂/∂c = 2Λv``.
- :func:`draw` draws ``(γ, b)`` from their exact conditional Gaussian given each posterior draw of ``(θ, σ)``.

The cost of a gradient is that of the factorisation (``plan.flops``): for nested terms (pupils in classes in
schools) ``L`` has no more nonzeros than ``A``; crossed terms fill in the block of the smaller one.
"""

from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numba import njit
from scipy import sparse

__all__ = ["SparsePlan", "plan", "plan_arrays", "loglik_parts", "draw", "PLAN_FIELDS"]

# the plan's arrays in the order the kernels (and the PyTensor Op) take them
PLAN_FIELDS = (
    "group_k", "group_off", "node_group", "node_off", "pair_a", "pair_b", "pair_voff", "mvals", "mpos",
    "colptr", "rowidx", "rs_ptr", "rs_col", "rs_pos", "iperm",
)


@dataclass(frozen=True)
class SparsePlan:
    """The symbolic analysis of one model's marginal likelihood (a pure function of the design).

    Nodes are the fixed-effect block (node 0, when ``p > 0``) and every level of every term (in design order),
    each with ``k`` coefficients at scalar offset ``node_off``; groups are the fixed block (group 0) and the terms,
    whose ``k × k`` factors lie in one flat vector at ``group_off``. Pairs are the nonzero node blocks of ``M``
    (``pair_a ≥ pair_b``), their values row-major at ``pair_voff`` in ``mvals``, and ``mpos`` the position of each
    value's (unordered) scalar entry in the storage of ``L``. ``colptr``/``rowidx``: ``L``'s pattern (CSC, rows
    sorted, diagonal first) in the fill-reducing order; ``rs_*``: the row structure (for row ``j`` the columns
    ``k < j`` with ``L[j, k] ≠ 0`` and the position of that entry); ``iperm[old] = new``.
    """

    Q: int
    p: int
    group_k: np.ndarray
    group_off: np.ndarray
    node_group: np.ndarray
    node_off: np.ndarray
    pair_a: np.ndarray
    pair_b: np.ndarray
    pair_voff: np.ndarray
    mvals: np.ndarray
    mpos: np.ndarray
    colptr: np.ndarray
    rowidx: np.ndarray
    rs_ptr: np.ndarray
    rs_col: np.ndarray
    rs_pos: np.ndarray
    iperm: np.ndarray
    flops: float
    order: tuple[str, ...]

    @property
    def nnz(self) -> int:
        """Nonzeros of the factor ``L``."""
        return int(self.colptr[-1])

    @property
    def n_lam(self) -> int:
        """Length of the flat vector of factors (``Σ_groups k²``)."""
        return int(np.sum(self.group_k.astype(np.int64) ** 2))


def plan_arrays(pl: SparsePlan) -> tuple[np.ndarray, ...]:
    return tuple(getattr(pl, f) for f in PLAN_FIELDS)


# --------------------------------------------------------------------------------------------- symbolic side


def _cross_products(design, p: int) -> sparse.csr_matrix:
    """``M``: the cross-products of ``[W | Z]`` (``W`` the centred and scaled fixed design of
    :func:`bayesmixed.design.matrices.fixed_design`; only when ``p > 0``), as a sparse matrix."""
    from .design.matrices import fixed_design, sparse_z

    Z = sparse_z(design)
    if p:
        W = fixed_design(design)[0]
        Z = sparse.hstack([sparse.csr_matrix(W), Z], format="csr")
    return (Z.T @ Z).tocsr()


def _node_layout(design, p: int):
    ks, groups, offs = [], [], []
    off = 0
    if p:
        ks.append(p), groups.append(0), offs.append(0)
        off = p
    for t, b in enumerate(design.blocks):
        g = t + (1 if p else 0)
        for _ in range(b.n_levels):
            ks.append(b.k), groups.append(g), offs.append(off)
            off += b.k
    return np.asarray(ks, np.int64), np.asarray(groups, np.int64), np.asarray(offs, np.int64), off


def _candidate_orders(design, p: int) -> dict[str, np.ndarray]:
    """Node orders to try: the terms' levels in blocks, ordered by number of levels (descending: lme4's
    choice, which keeps nested terms free of fill; ascending), the fixed block last."""
    starts, off = [], (1 if p else 0)
    for b in design.blocks:
        starts.append(off)
        off += b.n_levels
    blocks = [np.arange(s, s + b.n_levels) for s, b in zip(starts, design.blocks)]
    by = np.argsort([-b.n_levels for b in design.blocks], kind="stable")
    orders = {
        "terms by levels, descending": [blocks[i] for i in by],
        "terms by levels, ascending": [blocks[i] for i in by[::-1]],
        "terms as written": blocks,
    }
    tail = [np.array([0])] if p else []
    out = {}
    for name, parts in orders.items():
        o = np.concatenate(parts + tail) if parts or tail else np.zeros(0, np.int64)
        if not any(np.array_equal(o, v) for v in out.values()):
            out[name] = o.astype(np.int64)
    return out


@njit(cache=True)
def lower_pattern(Q, ent_i, ent_j):
    """CSR of the strictly lower part (row i: the columns j < i), deduplicated, from scalar entries."""
    cnt = np.zeros(Q + 1, np.int64)
    for t in range(len(ent_i)):
        if ent_i[t] > ent_j[t]:
            cnt[ent_i[t] + 1] += 1
    for i in range(Q):
        cnt[i + 1] += cnt[i]
    cols = np.empty(cnt[Q], np.int64)
    fill = cnt[:-1].copy()
    for t in range(len(ent_i)):
        if ent_i[t] > ent_j[t]:
            cols[fill[ent_i[t]]] = ent_j[t]
            fill[ent_i[t]] += 1
    return cnt, cols

@njit(cache=True)
def symbolic(Q, rptr, rcol, max_nnz):
    """Elimination tree, then the row structures of L (by ``ereach``) and its columns (rows ascending,
    diagonal first). Returns colptr, rowidx, rs_ptr, rs_col, rs_pos, flops; flops = inf (and empty arrays)
    when L would have more than ``max_nnz`` nonzeros off the diagonal."""
    parent = -np.ones(Q, np.int64)
    ancestor = -np.ones(Q, np.int64)
    for k in range(Q):
        for t in range(rptr[k], rptr[k + 1]):
            i = rcol[t]
            while i != -1 and i < k:
                inext = ancestor[i]
                ancestor[i] = k
                if inext == -1:
                    parent[i] = k
                i = inext
    mark = -np.ones(Q, np.int64)
    # first pass: count the row structures
    rcount = np.zeros(Q + 1, np.int64)
    for k in range(Q):
        mark[k] = k
        for t in range(rptr[k], rptr[k + 1]):
            i = rcol[t]
            while mark[i] != k:
                mark[i] = k
                rcount[k + 1] += 1
                i = parent[i]
    for k in range(Q):
        rcount[k + 1] += rcount[k]
    if rcount[Q] > max_nnz:
        e = np.zeros(0, np.int64)
        return e, e, e, e, e, np.inf
    rs_col = np.empty(rcount[Q], np.int64)
    mark[:] = -1
    for k in range(Q):
        mark[k] = k
        pos = rcount[k]
        for t in range(rptr[k], rptr[k + 1]):
            i = rcol[t]
            while mark[i] != k:
                mark[i] = k
                rs_col[pos] = i
                pos += 1
                i = parent[i]
    # column counts, then the columns (appending row k to each column of its row structure, k ascending)
    ccount = np.ones(Q + 1, np.int64)
    ccount[0] = 0
    for t in range(len(rs_col)):
        ccount[rs_col[t] + 1] += 1
    for j in range(Q):
        ccount[j + 1] += ccount[j]
    rowidx = np.empty(ccount[Q], np.int64)
    fill = ccount[:-1].copy()
    rs_pos = np.empty(len(rs_col), np.int64)
    for k in range(Q):
        rowidx[fill[k]] = k  # the diagonal, first in its column
        fill[k] += 1
        for t in range(rcount[k], rcount[k + 1]):
            j = rs_col[t]
            rs_pos[t] = fill[j]
            rowidx[fill[j]] = k
            fill[j] += 1
    flops = 0.0
    for j in range(Q):
        c = ccount[j + 1] - ccount[j]
        flops += c * c
    return ccount, rowidx, rcount, rs_col, rs_pos, flops

@njit(cache=True)
def positions(colptr, rowidx, pi, pj):
    """Position in L's storage of each scalar entry (pi, pj) (either order)."""
    out = np.empty(len(pi), np.int64)
    for t in range(len(pi)):
        r, c = pi[t], pj[t]
        if r < c:
            r, c = c, r
        lo, hi = colptr[c], colptr[c + 1]
        while lo < hi:  # binary search: rows are sorted
            mid = (lo + hi) // 2
            if rowidx[mid] < r:
                lo = mid + 1
            else:
                hi = mid
        out[t] = lo
    return out



_PLANS: dict[int, tuple] = {}  # id(design) -> (weak reference, {(p, max_nnz): plan}): a design is frozen


def plan(design, p: int = 0, max_nnz: int = 50_000_000) -> SparsePlan | None:
    """The symbolic analysis for ``design`` with ``p`` integrated fixed-effect coefficients (0 when β is
    sampled). Tries the candidate node orders and keeps the one whose factorisation needs the fewest operations;
    None when every order's factor would have more than ``max_nnz`` nonzeros. Remembered per design (the policy,
    the model and the draws after sampling ask for the same plan)."""
    import weakref

    if p not in (0, len(design.x_names)):
        raise ValueError(f"the integrated fixed-effect block has all {len(design.x_names)} fixed-effect columns or "
                         f"none, got p={p}")
    entry = _PLANS.get(id(design))
    if entry is None or entry[0]() is not design:
        entry = (weakref.ref(design, lambda _, key=id(design): _PLANS.pop(key, None)), {})
        _PLANS[id(design)] = entry
    known = entry[1].get(int(p))  # (the max_nnz it was made with, plan or None)
    if known is not None and (known[1] is not None or known[0] >= max_nnz):
        pl = known[1]
        return pl if pl is None or pl.nnz - pl.Q <= max_nnz else None
    pl = _plan(design, p, max_nnz)
    entry[1][int(p)] = (int(max_nnz), pl)
    return pl


def _plan(design, p: int, max_nnz: int) -> SparsePlan | None:
    node_k, node_group, node_off, Q = _node_layout(design, p)
    group_k = np.asarray(([p] if p else []) + [b.k for b in design.blocks], np.int64)
    group_off = np.concatenate([[0], np.cumsum(group_k**2)[:-1]]).astype(np.int64)
    M = _cross_products(design, p).tocoo()
    scalar_node = np.repeat(np.arange(len(node_k)), node_k)
    # node pairs (a ≥ b) with a nonzero block, and every diagonal block
    na, nb = scalar_node[M.row], scalar_node[M.col]
    keep = na >= nb
    pairs = np.unique(np.concatenate([
        np.stack([na[keep], nb[keep]], axis=1),
        np.stack([np.arange(len(node_k))] * 2, axis=1),
    ]), axis=0)
    pair_a, pair_b = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    sizes = node_k[pair_a] * node_k[pair_b]
    pair_voff = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    # every scalar entry of every pair block, row-major: (row scalar, col scalar)
    blk_i = np.concatenate([node_off[a] + np.repeat(np.arange(node_k[a]), node_k[b])
                            for a, b in zip(pair_a, pair_b)]) if len(pair_a) else np.zeros(0, np.int64)
    blk_j = np.concatenate([node_off[b] + np.tile(np.arange(node_k[b]), node_k[a])
                            for a, b in zip(pair_a, pair_b)]) if len(pair_a) else np.zeros(0, np.int64)
    Md = M.tocsr()
    mvals = np.asarray(Md[blk_i, blk_j]).ravel().astype(float)

    best = None
    for name, order in _candidate_orders(design, p).items():
        # scalar permutation: nodes in `order`, coefficients within a node in place
        perm = np.concatenate([node_off[a] + np.arange(node_k[a]) for a in order]).astype(np.int64)
        iperm = np.empty(Q, np.int64)
        iperm[perm] = np.arange(Q)
        pi, pj = iperm[blk_i], iperm[blk_j]
        rptr, rcol = lower_pattern(Q, np.maximum(pi, pj), np.minimum(pi, pj))
        # deduplicate each row's columns (a diagonal block lists both (i, j) and (j, i))
        rows = [np.unique(rcol[rptr[r]:rptr[r + 1]]) for r in range(Q)]
        rptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])]).astype(np.int64)
        rcol = np.concatenate(rows).astype(np.int64) if Q else np.zeros(0, np.int64)
        colptr, rowidx, rs_ptr, rs_col, rs_pos, flops = symbolic(Q, rptr, rcol, max_nnz)
        if np.isfinite(flops) and (best is None or flops < best[0]):
            best = (flops, name, iperm, colptr, rowidx, rs_ptr, rs_col, rs_pos, pi, pj)
    if best is None:
        return None
    flops, name, iperm, colptr, rowidx, rs_ptr, rs_col, rs_pos, pi, pj = best
    mpos = positions(colptr, rowidx, pi, pj)
    return SparsePlan(
        Q=int(Q), p=int(p), group_k=group_k, group_off=group_off, node_group=node_group, node_off=node_off,
        pair_a=pair_a, pair_b=pair_b, pair_voff=pair_voff, mvals=mvals, mpos=mpos.astype(np.int64),
        colptr=colptr.astype(np.int64), rowidx=rowidx.astype(np.int64), rs_ptr=rs_ptr.astype(np.int64),
        rs_col=rs_col.astype(np.int64), rs_pos=rs_pos.astype(np.int64), iperm=iperm, flops=float(flops),
        order=(name,),
    )


# --------------------------------------------------------------------------------------------- numeric side


@njit(cache=True)
def node_k_of(group_k, node_group, a):
    return group_k[node_group[a]]

@njit(cache=True)
def assemble(lam, s2, group_k, group_off, node_group, pair_a, pair_b, pair_voff, mvals, mpos, colptr, Lx):
    """A = Λᵀ M Λ + σ² I into L's storage (entries outside A's pattern zero)."""
    Lx[:] = 0.0
    for t in range(len(pair_a)):
        a, b = pair_a[t], pair_b[t]
        ga, gb = node_group[a], node_group[b]
        ka, kb = group_k[ga], group_k[gb]
        fa, fb = group_off[ga], group_off[gb]
        v0 = pair_voff[t]
        for i in range(ka):
            for j in range(kb):
                acc = 0.0
                for r in range(ka):
                    far = lam[fa + r * ka + i]  # F_a[r, i]
                    if far == 0.0:
                        continue
                    inner = 0.0
                    for s in range(kb):
                        inner += mvals[v0 + r * kb + s] * lam[fb + s * kb + j]  # M[r, s] F_b[s, j]
                    acc += far * inner
                Lx[mpos[v0 + i * kb + j]] = acc
    Q = len(colptr) - 1
    for j in range(Q):
        Lx[colptr[j]] += s2

@njit(cache=True)
def factor(colptr, rowidx, rs_ptr, rs_col, rs_pos, Lx, x):
    """Left-looking Cholesky in place on L's pattern; x: a zeroed work vector of length Q. False when A is
    not numerically positive definite."""
    Q = len(colptr) - 1
    for j in range(Q):
        for idx in range(colptr[j], colptr[j + 1]):
            x[rowidx[idx]] = Lx[idx]
        for t in range(rs_ptr[j], rs_ptr[j + 1]):
            k = rs_col[t]
            pos = rs_pos[t]
            ljk = Lx[pos]
            for idx in range(pos, colptr[k + 1]):
                x[rowidx[idx]] -= Lx[idx] * ljk
        d = x[j]
        if not d > 0.0:
            for idx in range(colptr[j], colptr[j + 1]):
                x[rowidx[idx]] = 0.0
            return False
        ljj = np.sqrt(d)
        Lx[colptr[j]] = ljj
        x[j] = 0.0
        for idx in range(colptr[j] + 1, colptr[j + 1]):
            r = rowidx[idx]
            Lx[idx] = x[r] / ljj
            x[r] = 0.0
    return True

@njit(cache=True)
def solve_lower(colptr, rowidx, Lx, y):
    """y ← L⁻¹ y (permuted order)."""
    Q = len(colptr) - 1
    for j in range(Q):
        yj = y[j] / Lx[colptr[j]]
        y[j] = yj
        for idx in range(colptr[j] + 1, colptr[j + 1]):
            y[rowidx[idx]] -= Lx[idx] * yj

@njit(cache=True)
def solve_upper(colptr, rowidx, Lx, y):
    """y ← L⁻ᵀ y (permuted order)."""
    Q = len(colptr) - 1
    for j in range(Q - 1, -1, -1):
        s = y[j]
        for idx in range(colptr[j] + 1, colptr[j + 1]):
            s -= Lx[idx] * y[rowidx[idx]]
        y[j] = s / Lx[colptr[j]]

@njit(cache=True)
def selected_inverse(colptr, rowidx, Lx, Zx, lcol, acc, mark):
    """A⁻¹ on L's pattern (Takahashi): Zx in L's layout; lcol, acc: zeroed work vectors, mark: -1s."""
    Q = len(colptr) - 1
    for j in range(Q - 1, -1, -1):
        p0, p1 = colptr[j], colptr[j + 1]
        ljj = Lx[p0]
        for idx in range(p0 + 1, p1):
            r = rowidx[idx]
            lcol[r] = Lx[idx]
            mark[r] = j
        for idx in range(p0 + 1, p1):
            i = rowidx[idx]
            li = lcol[i]
            acc[i] += Zx[colptr[i]] * li
            for q in range(colptr[i] + 1, colptr[i + 1]):
                k = rowidx[q]
                if mark[k] == j:
                    z = Zx[q]
                    acc[k] += z * li
                    acc[i] += z * lcol[k]
        s = 0.0
        for idx in range(p0 + 1, p1):
            i = rowidx[idx]
            zij = -acc[i] / ljj
            Zx[idx] = zij
            s += lcol[i] * zij
            acc[i] = 0.0
            lcol[i] = 0.0
        Zx[p0] = 1.0 / (ljj * ljj) - s / ljj

@njit(cache=True)
def _loglik_parts(lam, s2, c, group_k, group_off, node_group, node_off, pair_a, pair_b, pair_voff, mvals,
                 mpos, colptr, rowidx, rs_ptr, rs_col, rs_pos, iperm):
    Q = len(colptr) - 1
    nnz = colptr[Q]
    nl = len(lam)
    Lx = np.empty(nnz)
    x = np.zeros(Q)
    g_ld = np.zeros(nl)
    g_q = np.zeros(nl)
    g_c = np.zeros(Q)
    assemble(lam, s2, group_k, group_off, node_group, pair_a, pair_b, pair_voff, mvals, mpos, colptr, Lx)
    if not factor(colptr, rowidx, rs_ptr, rs_col, rs_pos, Lx, x):
        return np.inf, 0.0, g_ld, g_q, 0.0, 0.0, g_c
    logdet = 0.0
    for j in range(Q):
        logdet += 2.0 * np.log(Lx[colptr[j]])
    # u = Λᵀ c (node by node), then v = A⁻¹ u through the permutation
    n_nodes = len(node_group)
    y = np.empty(Q)
    for a in range(n_nodes):
        g = node_group[a]
        k = group_k[g]
        f0, o = group_off[g], node_off[a]
        for i in range(k):
            s = 0.0
            for r in range(k):
                s += lam[f0 + r * k + i] * c[o + r]
            y[iperm[o + i]] = s
    quad_u = y.copy()
    solve_lower(colptr, rowidx, Lx, y)
    solve_upper(colptr, rowidx, Lx, y)
    v = np.empty(Q)
    quad = 0.0
    vv = 0.0
    for i in range(Q):
        v[i] = y[iperm[i]]
        quad += quad_u[iperm[i]] * v[i]
        vv += v[i] * v[i]
    Zx = np.zeros(nnz)
    lcol = np.zeros(Q)
    acc = np.zeros(Q)
    mark = -np.ones(Q, np.int64)
    selected_inverse(colptr, rowidx, Lx, Zx, lcol, acc, mark)
    tr = 0.0
    for j in range(Q):
        tr += Zx[colptr[j]]
    # pair loop: ∂log|A|/∂F (G) and w = M Λ v
    w = np.zeros(Q)
    for t in range(len(pair_a)):
        a, b = pair_a[t], pair_b[t]
        ga, gb = node_group[a], node_group[b]
        ka, kb = group_k[ga], group_k[gb]
        fa, fb = group_off[ga], group_off[gb]
        oa, ob = node_off[a], node_off[b]
        v0 = pair_voff[t]
        # MF_b[r, j] = Σ_s M[r, s] F_b[s, j]  (ka × kb); M_ab F_b (A⁻¹)_ba → G_a (ka × ka)
        for r in range(ka):
            for j in range(kb):
                mf = 0.0
                for s in range(kb):
                    mf += mvals[v0 + r * kb + s] * lam[fb + s * kb + j]
                if mf == 0.0:
                    continue
                w[oa + r] += mf * v[ob + j]
                for i in range(ka):  # (A⁻¹)_ba[j, i] = Z at the entry (b j, a i)
                    g_ld[fa + r * ka + i] += 2.0 * mf * Zx[mpos[v0 + i * kb + j]]
        if a != b:
            # M_ba F_a (A⁻¹)_ab → G_b (kb × kb), M_ba = M_abᵀ; w_b += M_ba F_a v_a
            for s in range(kb):
                for i in range(ka):
                    mf = 0.0
                    for r in range(ka):
                        mf += mvals[v0 + r * kb + s] * lam[fa + r * ka + i]
                    if mf == 0.0:
                        continue
                    w[ob + s] += mf * v[oa + i]
                    for j in range(kb):
                        g_ld[fb + s * kb + j] += 2.0 * mf * Zx[mpos[v0 + i * kb + j]]
    for a in range(n_nodes):
        g = node_group[a]
        k = group_k[g]
        f0, o = group_off[g], node_off[a]
        for r in range(k):
            cr = c[o + r] - w[o + r]
            for i in range(k):
                g_q[f0 + r * k + i] += 2.0 * cr * v[o + i]
            s = 0.0
            for i in range(k):
                s += lam[f0 + r * k + i] * v[o + i]
            g_c[o + r] = 2.0 * s
    return logdet, quad, g_ld, g_q, tr, -vv, g_c

@njit(cache=True)
def _draw(lam_draws, s2_draws, c_draws, eps, group_k, group_off, node_group, node_off, pair_a, pair_b, pair_voff,
         mvals, mpos, colptr, rowidx, rs_ptr, rs_col, rs_pos, iperm):
    """For each draw s: u ~ N(A⁻¹Λᵀc, σ² A⁻¹), returned as Λu (the scaled effects), shape (S, Q)."""
    S = lam_draws.shape[0]
    Q = len(colptr) - 1
    nnz = colptr[Q]
    out = np.empty((S, Q))
    Lx = np.empty(nnz)
    x = np.zeros(Q)
    y = np.empty(Q)
    e = np.empty(Q)
    n_nodes = len(node_group)
    for s_ in range(S):
        lam = lam_draws[s_]
        c = c_draws[s_]
        assemble(lam, s2_draws[s_], group_k, group_off, node_group, pair_a, pair_b, pair_voff, mvals, mpos,
                 colptr, Lx)
        if not factor(colptr, rowidx, rs_ptr, rs_col, rs_pos, Lx, x):
            out[s_, :] = np.nan
            continue
        for a in range(n_nodes):
            g = node_group[a]
            k = group_k[g]
            f0, o = group_off[g], node_off[a]
            for i in range(k):
                acc = 0.0
                for r in range(k):
                    acc += lam[f0 + r * k + i] * c[o + r]
                y[iperm[o + i]] = acc
        solve_lower(colptr, rowidx, Lx, y)
        sd = np.sqrt(s2_draws[s_])
        for i in range(Q):
            e[i] = eps[s_, i]
        # mean = L⁻ᵀ L⁻¹ u; noise = σ L⁻ᵀ ε: one upper solve of (L⁻¹u + σ ε)
        for i in range(Q):
            y[i] += sd * e[i]
        solve_upper(colptr, rowidx, Lx, y)
        for a in range(n_nodes):
            g = node_group[a]
            k = group_k[g]
            f0, o = group_off[g], node_off[a]
            for r in range(k):
                acc = 0.0
                for i in range(k):
                    acc += lam[f0 + r * k + i] * y[iperm[o + i]]
                out[s_, o + r] = acc
    return out



def loglik_parts(lam: np.ndarray, s2: float, c: np.ndarray, pl: SparsePlan):
    """``(log|A|, uᵀA⁻¹u, ∂log|A|/∂λ, ∂uᵀA⁻¹u/∂λ, ∂log|A|/∂σ², ∂uᵀA⁻¹u/∂σ², ∂uᵀA⁻¹u/∂c)`` at the flat factor
    vector ``lam`` (each group's ``k × k`` factor row-major at ``group_off``), ``σ²`` and ``c`` (unpermuted
    order). ``log|A| = inf`` where ``A`` is not numerically positive definite."""
    return _loglik_parts(np.ascontiguousarray(lam, dtype=float), float(s2),
                                 np.ascontiguousarray(c, dtype=float), *plan_arrays(pl))


def draw(lam_draws: np.ndarray, s2_draws: np.ndarray, c, pl: SparsePlan,
         rng: np.random.Generator, max_numbers: int = 4_000_000) -> np.ndarray:
    """Draws of ``Λu`` (the integrated coefficients on their own scale: ``S₀v`` then every term's ``b``), one per
    row of ``lam_draws`` (S, n_lam) and ``s2_draws`` (S,), from the exact conditional Gaussian; shape (S, Q).
    ``c``: the vector ``[W | Z]ᵀ r₀`` (Q,), or a function ``c(lo, hi)`` giving its rows for draws ``lo:hi`` when it
    changes from draw to draw (sampled fixed effects)."""
    kern = _draw
    S = len(s2_draws)
    out = np.empty((S, pl.Q))
    chunk = max(1, max_numbers // max(pl.Q, 1))
    for lo in range(0, S, chunk):
        hi = min(S, lo + chunk)
        eps = rng.standard_normal((hi - lo, pl.Q))
        cs = c(lo, hi) if callable(c) else np.broadcast_to(np.asarray(c, dtype=float), (hi - lo, pl.Q))
        out[lo:hi] = kern(np.ascontiguousarray(lam_draws[lo:hi], dtype=float),
                          np.ascontiguousarray(s2_draws[lo:hi], dtype=float), np.ascontiguousarray(cs, dtype=float),
                          eps, *plan_arrays(pl))
    return out
