"""Figures that explain a fitted model: caterpillar, shrinkage (1-D and 2-D), effects, PPC, trace and rank.

Every function takes a :class:`~bayesmixed.fit.Fit` and returns a :class:`matplotlib.figure.Figure`; nothing
is fitted here (the no-pooling and complete-pooling references come from :mod:`bayesmixed.pooling`, which
does cheap least-squares / ML fits, never NUTS). Figures are created with :class:`~matplotlib.figure.Figure`
directly, not through ``pyplot``: they are not registered with a GUI backend, so they are shown exactly once
in a notebook (as the value of a cell) and never leak when made in a loop. ``fit.plot.<name>(...)`` is the
same as ``plots.<name>(fit, ...)``; :func:`save_all` writes every applicable figure as PNG (the CLI's
``--out``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import naming as N
from . import pooling as P
from .errors import UnknownTermError
from .families import get_link
from .summaries import draw_index, draws_of, interval

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from .fit import Fit

__all__ = [
    "PlotAccessor",
    "caterpillar",
    "shrinkage",
    "shrinkage2d",
    "effects",
    "ppc",
    "trace",
    "rank",
    "save_all",
]

# Okabe-Ito colours (safe for colour-blind readers and in greyscale print)
BLUE = "#0072B2"
ORANGE = "#D55E00"
GREEN = "#009E73"
GREY = "#8C8C8C"
LIGHT = "#BFBFBF"
BLACK = "#222222"
SKY = "#56B4E9"

_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#E6E6E6",
    "grid.linewidth": 0.6,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.dpi": 100,
}


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **kw) -> tuple[Figure, np.ndarray]:
    import matplotlib as mpl
    from matplotlib.figure import Figure

    with mpl.rc_context(_STYLE):
        fig = Figure(figsize=(width, height), layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
    return fig, axes


def _styled(func):
    """Run a plotting function under the package style (fonts, grids, spines)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        import matplotlib as mpl

        with mpl.rc_context(_STYLE):
            return func(*args, **kwargs)

    return wrapper


def _scale_label(fit: Fit) -> str:
    link = fit.spec.link
    return "" if link == "identity" else f" ({link} scale)"


def _coefs(block, term: str | None) -> list[str]:
    if term is None:
        return list(block.coef_names)
    if term not in block.coef_names:
        raise UnknownTermError(f"term {block.label!r} has no varying coefficient {term!r}; it has {', '.join(block.coef_names)}")
    return [term]


# ----------------------------------------------------------------------------------------- caterpillar
@_styled
def caterpillar(fit: Fit, group: str, term: str | None = None, prob: float = 0.95, max_labels: int = 100) -> Figure:
    """Caterpillar plot of the random effects of one term, sorted, with intervals.

    One panel per varying coefficient: the posterior mean of each level's deviation ``r_j`` from the
    population (dot), its 50 % interval (thick) and ``prob`` interval (thin). Levels whose ``prob`` interval
    excludes zero are drawn in colour and counted in the legend; the others in grey.
    """
    blk = fit.design.block(group)
    coefs = _coefs(blk, term)
    r = draws_of(fit.idata, N.r(blk.label))
    J = blk.n_levels
    height = float(np.clip(0.14 * J + 1.3, 2.6, 16))
    fig, axes = _figure(3.4 * len(coefs) + 0.6, height, 1, len(coefs))
    pct = f"{100 * prob:g}%"
    for ax, c in zip(axes[0], coefs):
        x = r[:, :, blk.coef_names.index(c)]
        m = x.mean(axis=0)
        lo, hi = interval(x, prob)
        lo50, hi50 = interval(x, 0.5)
        order = np.argsort(m)
        ypos = np.arange(J)
        excl = (lo > 0) | (hi < 0)
        col = np.where(excl, BLUE, GREY)[order]
        ax.axvline(0, color=BLACK, lw=0.8, zorder=1)
        ax.hlines(ypos, lo[order], hi[order], color=col, lw=0.9, zorder=2)
        ax.hlines(ypos, lo50[order], hi50[order], color=col, lw=2.6, zorder=3)
        e = excl[order]
        size = 16 if J <= 60 else 9
        ax.scatter(m[order][e], ypos[e], s=size, color=BLUE, zorder=4)
        ax.scatter(m[order][~e], ypos[~e], s=size, facecolor="white", edgecolor=GREY, zorder=4)
        ax.set_ylim(-0.8, J - 0.2)
        if J <= max_labels:
            ax.set_yticks(ypos)
            ax.set_yticklabels(np.asarray(blk.levels, dtype=object)[order], fontsize=7 if J > 30 else 8)
        else:
            ax.set_yticks([])
            ax.set_ylabel(f"{J} levels, sorted")
        ax.grid(axis="y", visible=False)
        head = f"{c}" if len(coefs) > 1 else f"{blk.label}: {c}"
        ax.set_title(f"{head}  ({int(excl.sum())} of {J} exclude 0)")
        ax.set_xlabel(f"deviation from population{_scale_label(fit)}")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=BLUE, marker="o", ms=4, lw=1.2, label=f"{pct} interval excludes 0"),
        Line2D([], [], color=GREY, marker="o", ms=4, mfc="white", lw=1.2, label="includes 0"),
        Line2D([], [], color=GREY, lw=2.6, label="50% interval"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8)
    if len(coefs) > 1:
        fig.suptitle(f"Random effects of {blk.label}: posterior means, 50% and {pct} intervals", fontsize=10)
    return fig


# ----------------------------------------------------------------------------------------- shrinkage
@_styled
def shrinkage(fit: Fit, group: str, term: str | None = None, x: str = "auto", prob: float = 0.95) -> Figure:
    """Shrinkage plot: arrows from each level's no-pooling estimate to its partial-pooling estimate.

    One panel per varying coefficient. The horizontal axis is the level's number of observations (log scale)
    when group sizes differ, else the levels sorted by their own estimate (``x="n"`` or ``x="rank"`` to
    choose). Open circles: no pooling (the level's own fit); filled: partial pooling (posterior mean), with
    size proportional to the group size; the dashed line is complete pooling (the model without the term)
    and the solid line the population value the model pulls toward. Levels without a no-pooling estimate
    (separation, too few rows) are marked with a cross.
    """
    blk = fit.design.block(group)
    coefs = _coefs(blk, term)
    tab = P.shrinkage(fit.idata, fit.design, fit.spec.family, fit.spec.link, blk.label, None, prob)
    n = blk.counts().astype(float)
    mode = x
    if mode == "auto":
        mode = "n" if n.max() >= 2 * max(n.min(), 1) else "rank"
    if mode not in ("n", "rank"):
        raise ValueError(f"x must be 'auto', 'n' or 'rank', got {x!r}")
    fig, axes = _figure(4.6 * len(coefs) + 0.4, 3.9, 1, len(coefs))
    rng = np.random.default_rng(0)
    for ax, c in zip(axes[0], coefs):
        t = tab.loc[c] if len(blk.coef_names) > 1 else tab
        no, pp, cp, pop = (t[k].to_numpy(float) for k in ("no_pooling", "partial_pooling", "complete_pooling", "population"))
        if mode == "n":
            xpos = n * np.exp(rng.uniform(-0.07, 0.07, len(n)))
            ax.set_xscale("log")
            ax.set_xlabel("observations in the level (log scale, jittered)")
        else:
            key = np.where(np.isfinite(no), no, pp)
            xpos = np.empty(len(n))
            xpos[np.argsort(key)] = np.arange(len(n))
            ax.set_xlabel("levels, sorted by their own estimate")
        size = 14 + 60 * (n - n.min()) / max(n.max() - n.min(), 1.0)
        ok = np.isfinite(no)
        for xi, a, b in zip(xpos[ok], no[ok], pp[ok]):
            if abs(b - a) > 0:
                ax.annotate("", xy=(xi, b), xytext=(xi, a),
                            arrowprops=dict(arrowstyle="-|>", color=SKY, lw=0.8, shrinkA=2, shrinkB=2, mutation_scale=7))
        ax.scatter(xpos[ok], no[ok], s=size[ok], facecolor="white", edgecolor=ORANGE, lw=1.0, zorder=3, label="no pooling (own fit)")
        ax.scatter(xpos, pp, s=size, color=BLUE, zorder=4, alpha=0.9, label="partial pooling (posterior mean)")
        if (~ok).any():
            ax.scatter(xpos[~ok], pp[~ok], s=30, marker="x", color=BLACK, zorder=5, label="no own estimate")
        if np.ptp(cp) < 1e-12 * (1 + abs(cp[0])):
            ax.axhline(cp[0], color=GREY, ls="--", lw=1.1, zorder=2, label="complete pooling")
        else:
            ax.scatter(xpos, cp, marker="_", s=60, color=GREY, zorder=2, label="complete pooling")
        if np.ptp(pop) < 1e-12 * (1 + abs(pop[0])):
            ax.axhline(pop[0], color=BLACK, ls="-", lw=0.9, zorder=2, label="population (fitted model)")
        else:
            ax.scatter(xpos, pop, marker="_", s=60, color=BLACK, zorder=2, label="population (fitted model)")
        ax.set_ylabel(f"{c} of {blk.label}{_scale_label(fit)}")
        s = t["shrinkage"].to_numpy(float)
        med = np.nanmedian(s) if np.isfinite(s).any() else np.nan
        ax.set_title(f"{blk.label}: {c}  (median shrinkage {med:.2f})")
        if mode == "rank" and len(n) <= 30:
            ax.set_xticks(xpos)
            ax.set_xticklabels(list(t.index), rotation=90, fontsize=7)
            ax.grid(axis="x", visible=False)
    _uniform_legend(axes[0, 0])
    return fig


# --------------------------------------------------------------------------------------- 2-D shrinkage
@_styled
def shrinkage2d(fit: Fit, group: str, coefs: tuple[str, str] | None = None, levels=(0.5, 0.8, 0.95)) -> Figure:
    """Two-dimensional shrinkage of a term with two (or more) varying coefficients.

    Each level's no-pooling estimate (open) is joined by an arrow to its partial-pooling estimate (filled);
    ellipses are the population distribution ``N(population mean, G)`` at the posterior mean of the SDs and
    the correlation, containing ``levels`` of the population. The complete-pooling estimate is a cross.
    """
    blk = fit.design.block(group)
    if blk.k < 2:
        raise ValueError(f"term {blk.label!r} has one varying coefficient; shrinkage2d needs two (use shrinkage())")
    ca, cb = coefs if coefs is not None else blk.coef_names[:2]
    ia, ib = blk.coef_names.index(ca), blk.coef_names.index(cb)
    d = fit.design
    fam, link = fit.spec.family, fit.spec.link
    npool = P.no_pooling(d, blk.label, fam, link, fit.idata)
    cpool = P.complete_pooling(d, blk.label, fam, link, fit.idata)
    theta = P.partial_pooling_draws(fit.idata, d, blk.label)
    r = draws_of(fit.idata, N.r(blk.label))
    pop = (theta - r).mean(axis=0)
    pp = theta.mean(axis=0)
    sd = draws_of(fit.idata, N.sd(blk.label))
    cname = N.corr(blk.label)
    rho = float(draws_of(fit.idata, cname)[:, ia, ib].mean()) if cname in fit.idata.posterior else 0.0
    sa, sb = float(sd[:, ia].mean()), float(sd[:, ib].mean())
    G = np.array([[sa**2, rho * sa * sb], [rho * sa * sb, sb**2]])
    n = blk.counts().astype(float)
    size = 14 + 60 * (n - n.min()) / max(n.max() - n.min(), 1.0)
    fig, axes = _figure(5.6, 4.9)
    ax = axes[0, 0]
    center = pop.mean(axis=0)[[ia, ib]]
    L = np.linalg.cholesky(G + 1e-12 * np.eye(2))
    tt = np.linspace(0, 2 * np.pi, 200)
    circle = np.stack([np.cos(tt), np.sin(tt)])
    for q, alpha in zip(sorted(levels), np.linspace(0.9, 0.35, len(levels))):
        rad = np.sqrt(-2 * np.log(1 - q))
        e = center[:, None] + rad * L @ circle
        ax.plot(e[0], e[1], color=GREY, lw=0.9, alpha=alpha, zorder=1)
        ax.annotate(f"{100 * q:g}%", xy=(e[0, 25], e[1, 25]), fontsize=7, color=GREY)
    no = npool.estimate[:, [ia, ib]]
    ok = np.all(np.isfinite(no), axis=1)
    for (x0, y0), (x1, y1) in zip(no[ok], pp[ok][:, [ia, ib]]):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color=SKY, lw=0.8, shrinkA=2, shrinkB=2, mutation_scale=7))
    ax.scatter(no[ok, 0], no[ok, 1], s=size[ok], facecolor="white", edgecolor=ORANGE, lw=1.0, zorder=3, label="no pooling (own fit)")
    ax.scatter(pp[:, ia], pp[:, ib], s=size, color=BLUE, alpha=0.9, zorder=4, label="partial pooling (posterior mean)")
    if (~ok).any():
        ax.scatter(pp[~ok, ia], pp[~ok, ib], s=30, marker="x", color=BLACK, zorder=5, label="no own estimate")
    ax.scatter([cpool[:, ia].mean()], [cpool[:, ib].mean()], marker="X", s=90, color=BLACK, edgecolor="white",
               zorder=6, label="complete pooling")
    ax.scatter([center[0]], [center[1]], marker="+", s=110, color=GREEN, lw=1.8, zorder=6, label="population mean")
    ax.set_xlabel(f"{ca}{_scale_label(fit)}")
    ax.set_ylabel(f"{cb}{_scale_label(fit)}")
    ax.set_title(f"{blk.label}: shrinkage of ({ca}, {cb}); correlation {rho:+.2f}")
    _uniform_legend(ax)
    return fig


def _uniform_legend(ax) -> None:
    """A legend whose markers all have one size (scatter sizes encode group size, not category)."""
    leg = ax.legend(loc="best", fontsize=7)
    for h, t in zip(leg.legend_handles, leg.get_texts()):
        if hasattr(h, "set_sizes") and t.get_text().startswith(("no pooling", "partial pooling")):
            h.set_sizes([24])


# --------------------------------------------------------------------------------------------- effects
#: transforms of one variable whose effect is drawn along the variable itself (through the fitted encoding)
_PROFILED = ("poly", "ns", "bs", "scale", "center", "standardize")


def _transform_variable(design, column: str, blk=None) -> str | None:
    """The data variable ``v`` behind a column (fixed, or of ``blk``) made by ``poly(v, ...)``,
    ``ns(v, ...)``, ``bs(v, ...)`` or ``scale(v)`` (a term of that one variable), else ``None``."""
    from .design.evaluate import expr_columns, func_name
    from .formula.ast import Call, expr_to_str

    for t in design.formula.terms + (blk.term.terms if blk is not None else ()):
        if len(t.factors) != 1 or not isinstance(t.factors[0], Call):
            continue
        e = t.factors[0]
        cols = expr_columns(e)
        if func_name(e.func) in _PROFILED and len(set(cols)) == 1 and column.startswith(expr_to_str(e)):
            return cols[0]
    return None


def _variable_values(design, v: str) -> tuple[np.ndarray | None, tuple[float, float]] | None:
    """The values of data variable ``v`` on the fitted rows (recovered from its columns through the stored
    transform state) and its range; ``None`` when no term of ``v`` alone allows it."""
    from .design.evaluate import func_name
    from .design.matrix import model_matrix
    from .formula.ast import Call, Name, expr_to_str

    names = list(design.x_names)
    state = design.encoding.state_dict()
    splines = []
    for t in design.formula.terms:
        if len(t.factors) != 1:
            continue
        e = t.factors[0]
        if e == Name(v) and v in names:
            x = design.X[:, names.index(v)]
            return x, (float(x.min()), float(x.max()))
        if not isinstance(e, Call) or not e.args or e.args[0] != Name(v):
            continue
        label, fname = expr_to_str(e), func_name(e.func)
        st = state.get(label)
        first = label + "1" if fname == "poly" else label
        if fname == "poly" and first in names:
            col = design.X[:, names.index(first)]
            x = col if st is None else col * np.sqrt(st[2][2]) + st[1][0]  # raw, or invert the first polynomial
            return x, (float(x.min()), float(x.max()))
        if fname in ("scale", "center", "standardize") and label in names and st is not None:
            x = design.X[:, names.index(label)] * st[2] + st[1]
            return x, (float(x.min()), float(x.max()))
        if fname in ("ns", "bs") and st is not None:
            splines.append((t, label, st[2]))
    for t, label, (lo, hi) in splines:  # no closed form: the nearest of a fine grid, in the basis columns
        cols = [j for j, c in enumerate(names) if c.startswith(label)]
        if not cols:
            continue
        grid = np.linspace(lo, hi, 1001)
        B, bnames = model_matrix((t,), False, _frame(v, grid), state, False, "the effects plot")
        B = B[:, [bnames.index(names[j]) for j in cols]]
        Xc = design.X[:, cols]
        x = np.empty(len(Xc))
        for i in range(0, len(Xc), 2000):
            dist = ((Xc[i : i + 2000, None, :] - B[None, :, :]) ** 2).sum(axis=2)
            x[i : i + 2000] = grid[np.argmin(dist, axis=1)]
        return x, (float(lo), float(hi))
    return None


def _frame(v: str, values: np.ndarray):
    import pandas as pd

    return pd.DataFrame({v: values})


def _x_choice(fit: Fit, blk, x: str | None) -> tuple[str, Any]:
    """``("numeric", column)``, ``("variable", name)`` (a data variable behind ``poly()``, ``ns()``, ``bs()`` or
    ``scale()`` columns, drawn through the fitted encoding), ``("categorical", (variable, levels, columns))``
    or ``("none", None)``."""
    d = fit.design
    names = list(d.x_names)
    state = d.encoding.state_dict()

    def numeric(col):
        v = _transform_variable(d, col, blk)
        if v is not None and _variable_values(d, v) is not None:
            return ("variable", v)
        return ("numeric", col)

    def categorical(var):
        st = state.get(var)
        if isinstance(st, tuple) and len(st) >= 2 and st[0] == "levels":
            lv = [str(v) for v in st[1]]
            cols = {lv_: f"{var}{lv_}" for lv_ in lv if f"{var}{lv_}" in names}
            if cols:
                return ("categorical", (var, lv, cols))
        return None

    if x is not None:
        if x in names or x in blk.coef_names:
            return numeric(x)
        if any(_transform_variable(d, c, blk) == x for c in names + list(blk.coef_names)) and _variable_values(d, x) is not None:
            return ("variable", x)
        cat = categorical(x)
        if cat:
            return cat
        raise UnknownTermError(f"{x!r} is not a column of the model; choose one of {', '.join(n for n in names if n != 'Intercept')}")
    for c in blk.coef_names:
        if c != "Intercept":
            return numeric(c)
    cat_cols = set()
    for t in d.formula.terms:
        if len(t.factors) == 1:
            c = categorical(t.label)
            if c:
                cat_cols |= set(c[1][2].values())
    for j, c in enumerate(names):
        if c != "Intercept" and c not in cat_cols and len(np.unique(d.X[:, j])) > 2:
            return numeric(c)
    for t in d.formula.terms:
        if len(t.factors) == 1:
            c = categorical(t.label)
            if c:
                return c
    for c in names:
        if c != "Intercept":
            return ("numeric", c)
    return ("none", None)


def _profile(fit: Fit, blk, kind: str, spec: Any, grid_n: int = 40):
    """Rows of X and Z along the chosen x with every other column at its mean; x values of the data."""
    d = fit.design
    names = list(d.x_names)
    Xm = d.X.mean(axis=0) if d.n else np.zeros(len(names))
    Zm = blk.Z.mean(axis=0)
    if kind == "numeric":
        col = spec
        xdata = d.X[:, names.index(col)] if col in names else blk.Z[:, blk.coef_names.index(col)]
        u = np.unique(xdata)
        grid = u if len(u) <= 8 else np.linspace(xdata.min(), xdata.max(), grid_n)
        Xg = np.tile(Xm, (len(grid), 1))
        Zg = np.tile(Zm, (len(grid), 1))
        if col in names:
            Xg[:, names.index(col)] = grid
        if col in blk.coef_names:
            Zg[:, blk.coef_names.index(col)] = grid
        if "Intercept" in blk.coef_names:
            Zg[:, blk.coef_names.index("Intercept")] = 1.0
        return grid, Xg, Zg, xdata, [f"{v:g}" for v in grid] if len(u) <= 8 else None
    if kind == "variable":
        return _variable_profile(fit, blk, spec, Xm, Zm, grid_n)
    if kind == "categorical":
        var, levels, cols = spec
        grid = np.arange(len(levels), dtype=float)
        Xg = np.tile(Xm, (len(levels), 1))
        Zg = np.tile(Zm, (len(levels), 1))
        for i, lv in enumerate(levels):
            for lv2, cname in cols.items():
                val = 1.0 if lv2 == lv else 0.0
                Xg[i, names.index(cname)] = val
                if cname in blk.coef_names:
                    Zg[i, blk.coef_names.index(cname)] = val
        if "Intercept" in blk.coef_names:
            Zg[:, blk.coef_names.index("Intercept")] = 1.0
        xdata = np.zeros(d.n)
        for i, lv in enumerate(levels):
            if lv in cols:
                xdata[d.X[:, names.index(cols[lv])] == 1] = i
        return grid, Xg, Zg, xdata, list(levels)
    raise ValueError(kind)


def _variable_profile(fit: Fit, blk, v: str, Xm: np.ndarray, Zm: np.ndarray, grid_n: int):
    """Rows of X and Z along data variable ``v``: every term of ``v`` alone (``poly(v, 2)``, ``ns(v, 3)``,
    ``v``, ``scale(v)``) re-encoded on a grid of ``v`` with the fitted state, every other column at its mean."""
    from .design.evaluate import expr_columns
    from .design.matrix import model_matrix

    d = fit.design
    names = list(d.x_names)
    state = d.encoding.state_dict()
    xdata, (lo, hi) = _variable_values(d, v)
    u = np.unique(xdata)
    grid = u if len(u) <= 8 else np.linspace(lo, hi, grid_n)
    frame = _frame(v, grid)
    Xg = np.tile(Xm, (len(grid), 1))
    Zg = np.tile(Zm, (len(grid), 1))

    def alone(t) -> bool:
        return all(set(expr_columns(e)) == {v} for e in t.factors)

    for t in d.formula.terms:
        if t.factors and alone(t):
            M, mnames = model_matrix((t,), False, frame, state, False, "the effects plot")
            for j, c in enumerate(mnames):
                if c in names:
                    Xg[:, names.index(c)] = M[:, j]
    for t in blk.term.terms:
        if t.factors and alone(t):
            M, mnames = model_matrix((t,), False, frame, state, False, "the effects plot")
            for j, c in enumerate(mnames):
                if c in blk.coef_names:
                    Zg[:, blk.coef_names.index(c)] = M[:, j]
    if "Intercept" in blk.coef_names:
        Zg[:, blk.coef_names.index("Intercept")] = 1.0
    return grid, Xg, Zg, xdata, [f"{x:g}" for x in grid] if len(u) <= 8 else None


def inverse_link(link: str, eta: np.ndarray) -> np.ndarray:
    """``g⁻¹(η)``."""
    return get_link(link).inverse(eta)


def _success_label(fit: Fit) -> str:
    """Name of the counted successes (``incidence`` for ``cbind(incidence, size - incidence)``)."""
    from .formula.ast import expr_to_str

    r = fit.design.formula.response
    return expr_to_str(r.expr) if r is not None else fit.design.response_label


def _observed(fit: Fit) -> tuple[np.ndarray, str]:
    d = fit.design
    if d.trials is not None:
        t = np.asarray(d.trials, dtype=float)
        return np.divide(d.y, t, out=np.full_like(t, np.nan), where=t > 0), f"{_success_label(fit)} / trials"
    return np.asarray(d.y, dtype=float), d.response_label


@_styled
def effects(
    fit: Fit,
    group: str,
    x: str | None = None,
    facets: bool | None = None,
    prob: float = 0.95,
    max_draws: int = 400,
) -> Figure:
    """Fitted lines per level against the population line (the effects plot).

    Along ``x`` (a column of the model, or a categorical variable such as ``"period"``; by default the term's
    varying slope, else the first numeric predictor, else the first categorical one) with every other column
    at its mean, on the response scale (``g⁻¹``; proportions for binomial models).

    ``facets=True`` (the default for up to 24 levels) draws one panel per level with its data, its
    partial-pooling line (posterior mean), its no-pooling line and the complete-pooling line, as in Gelman &
    Hill's radon figures. ``facets=False`` overlays all levels' partial-pooling lines on the data with the
    population line and its ``prob`` band. With no predictor (``y ~ 1 + (1 | g)``) each level's fitted mean
    and interval are shown against its observed mean.
    """
    fam = fit.spec.family_obj
    if fam.response_kind == "categories":
        from .errors import DataError

        raise DataError(
            f"effects() draws each level's mean response, which family {fam.name!r} does not have (its response "
            "is a category): use fit.conditional_effects(re_formula=...) for category probabilities"
        )
    blk = P._mean_block(fit.design, group)
    d = fit.design
    kind, spec = _x_choice(fit, blk, x)
    J = blk.n_levels
    facets = J <= 24 if facets is None else facets
    idx = draw_index(fit.idata, max_draws)
    beta = draws_of(fit.idata, N.BETA)[idx] if N.BETA in fit.idata.posterior else np.zeros((len(idx), 0))
    r = draws_of(fit.idata, N.r(blk.label))[idx]
    link = fit.spec.link
    yobs, ylabel = _observed(fit)
    off = float(np.mean(d.offset)) if d.offset is not None else 0.0
    if kind == "none":
        return _effects_dots(fit, blk, beta, r, yobs, ylabel, prob, off)
    grid, Xg, Zg, xdata, ticklabels = _profile(fit, blk, kind, spec)
    eta_pop = beta @ Xg.T + off  # (S, G)
    eta_lvl = eta_pop[:, None, :] + np.einsum("sjk,gk->sjg", r, Zg)
    mu_pop = inverse_link(link, eta_pop)
    mu_lvl = inverse_link(link, eta_lvl).mean(axis=0)  # (J, G)
    xname = spec if kind in ("numeric", "variable") else spec[0]
    discrete = ticklabels is not None
    rng = np.random.default_rng(1)
    jit = (rng.uniform(-0.08, 0.08, d.n) * (np.ptp(grid) if len(grid) > 1 else 1)) if discrete else 0.0
    if not facets:
        fig, axes = _figure(6.0, 4.2)
        ax = axes[0, 0]
        keep = rng.choice(d.n, min(d.n, 5000), replace=False) if d.n > 5000 else np.arange(d.n)
        ax.scatter((xdata + jit)[keep] if discrete else xdata[keep], yobs[keep], s=6, color=LIGHT, zorder=1,
                   label="observations", rasterized=d.n > 2000)
        alpha = float(np.clip(6.0 / np.sqrt(J), 0.12, 0.8))
        for j in range(J):
            ax.plot(grid, mu_lvl[j], color=SKY, lw=0.8, alpha=alpha, zorder=2, marker="o" if kind == "categorical" else None,
                    ms=2, label="levels (partial pooling)" if j == 0 else None)
        lo, hi = interval(mu_pop, prob)
        ax.fill_between(grid, lo, hi, color=BLACK, alpha=0.12, lw=0, zorder=3)
        ax.plot(grid, mu_pop.mean(axis=0), color=BLACK, lw=2.2, zorder=4, label=f"population ({100 * prob:g}% band)")
        ax.set_xlabel(xname)
        ax.set_ylabel(ylabel)
        if ticklabels is not None:
            ax.set_xticks(grid)
            ax.set_xticklabels(ticklabels)
        ax.set_title(f"Fitted lines of {J} levels of {blk.label} against the population")
        ax.legend(loc="best")
        return fig
    # facets: data, no pooling, complete pooling, partial pooling per level
    fam = fit.spec.family
    npool = P.no_pooling(d, blk.label, fam, link, fit.idata)
    cfit = P.complete_fit(d, blk.label, fam, link, fit.idata)
    names = list(d.x_names)
    Xcols = {n_: Xg[:, i] for i, n_ in enumerate(names)}
    Xcols.update({c: Zg[:, a] for a, c in enumerate(blk.coef_names) if c not in Xcols})
    eta_cp = sum(cfit[c] * Xcols[c] for c in cfit.index) + off
    mu_cp = inverse_link(link, np.asarray(eta_cp, dtype=float) * np.ones(len(grid)))
    eta_np_shared = sum((npool.shared[c] * Xcols[c] for c in npool.shared.index), np.zeros(len(grid))) + off
    ncol = min(6, J)
    nrow = int(np.ceil(J / ncol))
    fig, axes = _figure(1.75 * ncol + 0.5, 1.55 * nrow + 0.8, nrow, ncol, sharex=True, sharey=True)
    ymin, ymax = np.nanmin(yobs), np.nanmax(yobs)
    for j in range(nrow * ncol):
        ax = axes.flat[j]
        if j >= J:
            ax.set_visible(False)
            continue
        rows = blk.codes == j
        ax.scatter((xdata + jit)[rows] if discrete else xdata[rows], yobs[rows], s=7, color=GREY, zorder=1)
        ax.plot(grid, mu_cp, color=GREY, ls=":", lw=1.2, zorder=2)
        if np.all(np.isfinite(npool.estimate[j])):
            mu_np = inverse_link(link, eta_np_shared + Zg @ npool.estimate[j])
            ax.plot(grid, mu_np, color=ORANGE, ls="--", lw=1.1, zorder=3)
        ax.plot(grid, mu_lvl[j], color=BLUE, lw=1.5, zorder=4)
        ax.set_title(str(blk.levels[j]), fontsize=8, pad=2)
        ax.set_ylim(ymin - 0.05 * (ymax - ymin), ymax + 0.05 * (ymax - ymin))
        ax.tick_params(labelsize=7)
        if ticklabels is not None:
            ax.set_xticks(grid)
            ax.set_xticklabels(ticklabels)
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=BLUE, lw=1.5, label="partial pooling"),
        Line2D([], [], color=ORANGE, ls="--", lw=1.1, label="no pooling (own fit)"),
        Line2D([], [], color=GREY, ls=":", lw=1.2, label="complete pooling"),
        Line2D([], [], color=GREY, marker="o", ls="", ms=3, label="observations"),
    ]
    fig.legend(handles=handles, loc="outside upper center", ncol=4, fontsize=8)
    fig.supxlabel(xname, fontsize=9)
    fig.supylabel(ylabel, fontsize=9)
    return fig


def _effects_dots(fit, blk, beta, r, yobs, ylabel, prob, off) -> Figure:
    """Intercept-only models: each level's fitted mean against its observed mean."""
    d = fit.design
    link = fit.spec.link
    Xm = d.X.mean(axis=0)
    eta_pop = (beta @ Xm if beta.shape[1] else np.zeros(len(beta))) + off
    a = blk.coef_names.index("Intercept") if "Intercept" in blk.coef_names else 0
    mu = inverse_link(link, eta_pop[:, None] + r[:, :, a])  # (S, J)
    m = mu.mean(axis=0)
    lo, hi = interval(mu, prob)
    J = blk.n_levels
    if d.trials is not None:
        obs = np.bincount(blk.codes, d.y, J) / np.maximum(np.bincount(blk.codes, d.trials, J), 1)
    else:
        obs = np.bincount(blk.codes, yobs, J) / np.maximum(blk.counts(), 1)
    order = np.argsort(m)
    fig, axes = _figure(max(4.0, 0.28 * J + 2.0), 3.8)
    ax = axes[0, 0]
    pos = np.arange(J)
    rows_x = np.empty(d.n)
    rank = np.empty(J)
    rank[order] = pos
    rows_x = rank[blk.codes] + np.random.default_rng(1).uniform(-0.12, 0.12, d.n)
    ax.scatter(rows_x, yobs, s=7, color=LIGHT, zorder=1, label="observations")
    ax.vlines(pos, lo[order], hi[order], color=BLUE, lw=1.0, zorder=2)
    ax.scatter(pos, obs[order], s=28, facecolor="white", edgecolor=ORANGE, zorder=3, label="observed mean (no pooling)")
    ax.scatter(pos, m[order], s=22, color=BLUE, zorder=4, label=f"fitted mean, {100 * prob:g}% interval")
    mp = inverse_link(link, eta_pop)
    ax.axhline(float(np.mean(mp)), color=BLACK, lw=1.2, zorder=0, label="population")
    ax.set_xticks(pos)
    ax.set_xticklabels(np.asarray(blk.levels, dtype=object)[order], rotation=90 if J > 12 else 0, fontsize=7 if J > 30 else 8)
    ax.grid(axis="x", visible=False)
    ax.set_xlabel(f"{blk.label} (sorted by fitted mean)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Fitted means of the levels of {blk.label}")
    ax.legend(loc="best")
    return fig


# ------------------------------------------------------------------------------------------------ PPC
def replicates(fit: Fit, n_draws: int = 100, seed: int = 0) -> np.ndarray:
    """Posterior predictive replicates of the response, ``(n_draws, n)`` (thinned posterior draws).

    From :mod:`bayesmixed.predict` (the estimated group effects included); binomial replicates are numbers
    of successes.
    """
    from . import predict

    d = fit.design
    post = fit.idata.posterior
    S = post.sizes["chain"] * post.sizes["draw"]
    idx = draw_index(fit.idata, n_draws, seed)
    if S * d.n <= 2e7 or not hasattr(predict, "predictive_draws"):
        pp = predict.posterior_predictive(fit, seed=seed)
        return np.asarray(pp.posterior_predictive[N.RESPONSE].values).reshape(S, d.n)[idx]
    return predict.predictive_draws(fit, predict._from_design(d, "include"), "include", "response", seed, idx)


@_styled
def ppc(fit: Fit, n_draws: int = 100, group: str | None = None, prob: float = 0.9, seed: int = 0) -> Figure:
    """Posterior predictive check.

    Left: the distribution of the response, observed (black) against replicated data sets (blue): densities
    for continuous responses, frequencies of each value with ``prob`` predictive intervals for counts.
    Right (models with random effects): the mean response of every level of ``group`` (default: the first
    term) against its ``prob`` predictive interval; levels outside their interval are marked.
    """
    d = fit.design
    yrep = replicates(fit, n_draws, seed)
    y = np.asarray(d.y, dtype=float)
    blk = d.block(group) if group is not None else (d.blocks[0] if d.blocks else None)
    fig, axes = _figure(10.0 if blk is not None else 5.2, 3.8, 1, 2 if blk is not None else 1)
    ax = axes[0, 0]
    integer = fit.spec.family_obj.discrete
    if integer and len(np.unique(y)) <= 40 and y.max() <= 60:
        vals = np.arange(0, int(max(y.max(), np.quantile(yrep, 0.99))) + 1)
        obs_f = np.array([(y == v).mean() for v in vals])
        rep_f = np.stack([(yrep == v).mean(axis=1) for v in vals], axis=1)  # (S, V)
        lo, hi = interval(rep_f, prob)
        ax.bar(vals, obs_f, width=0.8, color=LIGHT, edgecolor=GREY, label="observed")
        ax.errorbar(vals, np.median(rep_f, axis=0), yerr=[np.median(rep_f, axis=0) - lo, hi - np.median(rep_f, axis=0)],
                    fmt="o", ms=3, color=BLUE, lw=1.0, capsize=0, label=f"replicated (median, {100 * prob:g}%)")
        ax.set_xlabel(_success_label(fit) + (" (successes)" if d.trials is not None else ""))
        ax.set_ylabel("share of observations")
    else:
        from scipy.stats import gaussian_kde

        lo_, hi_ = np.quantile(np.concatenate([y, yrep[: min(20, len(yrep))].ravel()]), [0.001, 0.999])
        pad = 0.05 * (hi_ - lo_)
        xs = np.linspace(lo_ - pad, hi_ + pad, 256)
        sub = np.random.default_rng(seed).choice(d.n, min(d.n, 4000), replace=False)
        for i, rep in enumerate(yrep[: min(len(yrep), 60)]):
            ax.plot(xs, gaussian_kde(rep[sub])(xs), color=SKY, lw=0.6, alpha=0.35, label="replicated data" if i == 0 else None)
        ax.plot(xs, gaussian_kde(y[sub])(xs), color=BLACK, lw=1.8, label="observed")
        ax.set_xlabel(d.response_label)
        ax.set_ylabel("density")
    ax.set_title("Distribution of the response")
    ax.legend(loc="best")
    if blk is not None:
        ax = axes[0, 1]
        J = blk.n_levels
        if d.trials is not None:
            tot = np.maximum(np.bincount(blk.codes, d.trials, J), 1)
            obs = np.bincount(blk.codes, y, J) / tot
            rep = np.stack([np.bincount(blk.codes, yr, J) for yr in yrep]) / tot
            what = "observed proportion"
        else:
            cnt = np.maximum(blk.counts(), 1)
            obs = np.bincount(blk.codes, y, J) / cnt
            rep = np.stack([np.bincount(blk.codes, yr, J) for yr in yrep]) / cnt
            what = "observed mean"
        lo, hi = interval(rep, prob)
        order = np.argsort(obs)
        pos = np.arange(J)
        out = ((obs < lo) | (obs > hi))[order]
        ax.vlines(pos, lo[order], hi[order], color=SKY, lw=2.0 if J <= 60 else 1.0, label=f"replicated ({100 * prob:g}% interval)")
        ax.scatter(pos[~out], obs[order][~out], s=12 if J <= 60 else 5, color=BLACK, zorder=3, label=what)
        if out.any():
            ax.scatter(pos[out], obs[order][out], s=18 if J <= 60 else 8, color=ORANGE, zorder=4,
                       label=f"outside the interval ({int(out.sum())} of {J})")
        ax.set_xlabel(f"levels of {blk.label}, sorted by {what}")
        ax.set_ylabel(f"{d.response_label} (level mean)" if d.trials is None else f"{_success_label(fit)} / trials (per level)")
        if J <= 30:
            labels = np.asarray(blk.levels, dtype=object)[order]
            short = J <= 12 and max(len(str(v)) for v in labels) <= 4
            ax.set_xticks(pos)
            ax.set_xticklabels(labels, rotation=0 if short else 90, fontsize=8 if short else 7)
        ax.grid(axis="x", visible=False)
        ax.set_title(f"Level means of {blk.label}")
        ax.legend(loc="upper left")
    return fig


# -------------------------------------------------------------------------------------- trace and rank
def _scalar_posterior(fit: Fit, var_names: list[str] | None, max_params: int):
    """Population-level scalars as an ArviZ dataset with readable names (``beta[Days]``, ``corr_S[a,b]``)."""
    from . import _arviz
    from .summaries import population_draws

    post = fit.idata.posterior
    C, D = post.sizes["chain"], post.sizes["draw"]
    out = population_draws(fit.idata)
    if var_names is not None:
        missing = [v for v in var_names if v not in out]
        if missing:
            raise UnknownTermError(f"no parameter(s) {', '.join(map(repr, missing))}; available: {', '.join(out)}")
        out = {k: out[k] for k in var_names}
    elif len(out) > max_params:
        out = dict(list(out.items())[:max_params])
    return _arviz.from_dict(posterior={k: v.reshape(C, D) for k, v in out.items()}), list(out)


@_styled
def trace(fit: Fit, var_names: list[str] | None = None, max_params: int = 12) -> Figure:
    """ArviZ trace plot (marginal densities per chain and traces) of the population-level parameters."""
    from . import _arviz

    data, names = _scalar_posterior(fit, var_names, max_params)
    fig, axes = _figure(9.0, 1.55 * len(names) + 0.4, len(names), 2)
    _arviz.plot_trace(data, axes)
    for ax in axes.flat:
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=7)
    return fig


@_styled
def rank(fit: Fit, var_names: list[str] | None = None, max_params: int = 12) -> Figure:
    """ArviZ rank plot (rank histograms per chain; uniform when chains agree) of the population parameters."""
    from . import _arviz

    data, names = _scalar_posterior(fit, var_names, max_params)
    ncol = min(3, len(names))
    nrow = int(np.ceil(len(names) / ncol))
    fig, axes = _figure(3.2 * ncol, 2.2 * nrow + 0.3, nrow, ncol)
    _arviz.plot_rank(data, axes.ravel()[: len(names)])
    for ax in axes.flat[len(names):]:
        ax.set_visible(False)
    for ax in axes.flat:
        ax.title.set_fontsize(8)
        ax.tick_params(labelsize=7)
    return fig


# ------------------------------------------------------------------------------------ accessor, save_all
class PlotAccessor:
    """``fit.plot``: the figures of this module bound to one fit (``fit.plot.caterpillar("Subject")``)."""

    def __init__(self, fit: Fit):
        self._fit = fit

    def caterpillar(self, group: str, term: str | None = None, prob: float = 0.95, **kw) -> Figure:
        return caterpillar(self._fit, group, term, prob, **kw)

    def shrinkage(self, group: str, term: str | None = None, **kw) -> Figure:
        return shrinkage(self._fit, group, term, **kw)

    def shrinkage2d(self, group: str, coefs: tuple[str, str] | None = None, **kw) -> Figure:
        return shrinkage2d(self._fit, group, coefs, **kw)

    def effects(self, group: str, x: str | None = None, **kw) -> Figure:
        return effects(self._fit, group, x, **kw)

    def ppc(self, **kw) -> Figure:
        return ppc(self._fit, **kw)

    def trace(self, **kw) -> Figure:
        return trace(self._fit, **kw)

    def rank(self, **kw) -> Figure:
        return rank(self._fit, **kw)

    def __repr__(self) -> str:
        return "<fit.plot: caterpillar(group), shrinkage(group), shrinkage2d(group), effects(group, x=None), ppc(), trace(), rank()>"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def save_all(fit: Fit, out_dir, dpi: int = 150) -> list[Path]:
    """Write every applicable figure of ``fit`` as PNG into ``out_dir``; return the paths written.

    Per random-effect term: ``caterpillar_<term>.png``, ``shrinkage_<term>.png``, ``effects_<term>.png``,
    and ``shrinkage2d_<term>.png`` for correlated terms with an intercept and a slope; then ``ppc.png`` and
    ``trace.png``. A figure that fails is skipped with a warning (the posterior is already saved; a plot
    must not lose it).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    jobs: list[tuple[str, Any]] = []
    fam = fit.spec.family_obj
    for b in fit.design.all_blocks:
        lab = _safe(b.label)
        jobs.append((f"caterpillar_{lab}.png", lambda b=b: caterpillar(fit, b.label)))
        if b not in fit.design.blocks or fam.response_kind == "categories":
            continue  # shrinkage and effects are figures of the mean's terms on the response scale
        jobs.append((f"shrinkage_{lab}.png", lambda b=b: shrinkage(fit, b.label)))
        if b.correlated and "Intercept" in b.coef_names and b.k >= 2:
            jobs.append((f"shrinkage2d_{lab}.png", lambda b=b: shrinkage2d(fit, b.label)))
        jobs.append((f"effects_{lab}.png", lambda b=b: effects(fit, b.label)))
    jobs.append(("ppc.png", lambda: ppc(fit)))
    jobs.append(("trace.png", lambda: trace(fit)))
    from .saveload import write_atomic

    written = []
    for name, make in jobs:
        try:
            fig = make()
            path = write_atomic(out / name, lambda p, fig=fig: fig.savefig(p, dpi=dpi, bbox_inches="tight", format="png"))
            written.append(path)
        except Exception as e:  # noqa: BLE001 - report and keep going
            from ._warnings import warn_user

            warn_user(f"could not draw {name}: {type(e).__name__}: {e}", RuntimeWarning)
    return written
