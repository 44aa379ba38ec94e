"""Hypotheses about parameters, with brms's ``hypothesis()`` semantics.

A hypothesis is ``left <relation> right`` with the relation ``=``, ``<`` or ``>`` (``==``, ``<=``, ``>=`` read
the same), each side an arithmetic expression (``+ - * / ^``, parentheses, numbers, ``exp log sqrt abs log1p
expm1 inv_logit logit``) of parameters. It is evaluated as ``h = left - right`` draw by draw:

``estimate``, ``est_error``
    Posterior mean and SD of ``h``.
``lower``, ``upper``
    Equal-tailed interval: ``(α/2, 1 - α/2)`` quantiles for ``=``, ``(α, 1 - α)`` for ``<`` and ``>``
    (brms: a one-sided test at level α), with ``α = 1 - prob``.
``evid_ratio``
    ``<``/``>``: posterior odds ``P(h < 0) / P(h >= 0)`` (resp. ``P(h > 0) / P(h <= 0)``); ``inf`` when every
    draw agrees. ``=``: the Savage–Dickey density ratio ``p(h = 0 | y) / p(h = 0)``, the Bayes factor of the
    point hypothesis against the model, where the prior of ``h`` is proper.
``post_prob``
    ``evid_ratio / (1 + evid_ratio)``: the posterior probability of the hypothesis (for ``=``: with prior odds 1).
``star``
    ``"*"`` when the interval excludes 0 (``=``) or the posterior probability exceeds ``1 - α`` (``<``, ``>``).

Densities at the point are Gaussian kernel density estimates with R's default bandwidth (``bw.nrd0``, as
brms's ``density_ratio``) of the posterior draws; the prior density is exact where it is known in closed form —
``h`` affine in one parameter with a scalar prior (a fixed effect, an SD, a correlation's LKJ marginal, an
auxiliary parameter), or affine in fixed effects whose priors are all normal (the intercept included: its prior
is that of the centred intercept minus the slopes times the predictors' means) — and otherwise a kernel density
estimate from draws of the model's prior (:func:`bayesmixed.ppc.sample_prior_predictive`).

Parameter names: ``beta[Days]`` or plainly ``Days`` (also brms's ``b_Days``), ``Intercept``; ``sd_Subject[Days]``
(``sd_Subject__Days``); ``corr_Subject[Intercept,Days]`` (``cor_Subject__Intercept__Days``); ``sigma`` and the
family's auxiliary parameters; ``r_Subject[308,Days]``. A name that is not an identifier (``log(x)``,
``I(x^2)``) is written as it appears in ``fixef()`` or between backticks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np
import pandas as pd

from . import naming as N
from .errors import BayesMixedError
from .priors import Prior
from .summaries import draws_of

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["HypothesisError", "Hypotheses", "hypothesis", "parse_hypothesis", "prior_density", "kde_at"]


class HypothesisError(BayesMixedError):
    """A hypothesis that cannot be read or evaluated."""


_FUNCS = {
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "abs": np.abs,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "inv_logit": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "plogis": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "logit": lambda x: np.log(x) - np.log1p(-x),
    "qlogis": lambda x: np.log(x) - np.log1p(-x),
}
_RELATIONS = {"=": "=", "==": "=", "<": "<", "<=": "<", ">": ">", ">=": ">"}
_IDENT = re.compile(r"[A-Za-z_.][A-Za-z0-9_.:]*")
_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


# ------------------------------------------------------------------------------------------------ parameters
@dataclass(frozen=True)
class _Param:
    """One scalar parameter: its canonical name and where it lives (``kind``, address)."""

    name: str
    kind: str  # "beta", "sd", "corr", "aux", "r", "vec" (element of another vector: thresholds, beta_<dpar>)
    address: tuple


def _parameters(fit) -> tuple[dict[str, _Param], list[str]]:
    """Every name a hypothesis may use -> parameter; and the names tried by longest match (those with
    characters outside identifiers)."""
    d, post = fit.design, fit.idata.posterior
    names: dict[str, _Param] = {}

    def add(p: _Param, *aliases: str) -> None:
        for a in (p.name, *aliases):
            names.setdefault(a, p)

    if "beta" in post and d.dpar == N.MU:
        for j, c in enumerate(d.x_names):
            add(_Param(f"beta[{c}]", "beta", (j,)), c, f"b_{c}")
    if N.THRESHOLDS in post:  # ordinal thresholds: Intercept[1], brms's b_Intercept[1]
        for k, c in enumerate(post[N.THRESHOLDS].coords[N.THRESHOLD_DIM].values):
            add(_Param(f"{N.THRESHOLDS}[{c}]", "vec", (N.THRESHOLDS, k)), f"b_{N.THRESHOLDS}[{c}]")
    for p in d.predictors:  # other predicted parameters: sigma_x (brms's b_sigma_x), beta_sigma[x]
        var = N.beta_var(p.dpar)
        if p.dpar == N.MU or var not in post:
            continue
        for j, c in enumerate(p.x_names):
            add(_Param(f"{var}[{c}]", "vec", (var, j)), N.dpar_coef(p.dpar, c), f"b_{N.dpar_coef(p.dpar, c)}")
    for b in d.all_blocks:
        if b.is_smooth:  # its one SD (sd_s(x)) or sdgp/lscale are scalars: added with the auxiliaries below
            continue
        for a, c in enumerate(b.coef_names):
            add(_Param(f"sd_{b.label}[{c}]", "sd", (b.label, a)), f"sd_{b.label}__{c}")
        if f"corr_{b.label}" in post:
            for i in range(b.k):
                for j in range(i + 1, b.k):
                    ci, cj = b.coef_names[i], b.coef_names[j]
                    add(_Param(f"corr_{b.label}[{ci},{cj}]", "corr", (b.label, i, j)),
                        f"corr_{b.label}[{cj},{ci}]", f"cor_{b.label}__{ci}__{cj}")
    for v in post.data_vars:
        if post[v].ndim == 2 and not v.startswith("_"):
            add(_Param(v, "aux", (v,)))
    special = sorted((n for n in names if not _IDENT.fullmatch(n)), key=len, reverse=True)
    return names, special


def _random_effect(fit, text: str) -> _Param | None:
    m = re.fullmatch(r"r_(.+)\[(.+),(.+)\]", text)
    if m is None:
        return None
    lab, level, coef = m.group(1), m.group(2).strip(), m.group(3).strip()
    for b in fit.design.all_blocks:
        if b.label == lab:
            lv = [str(x) for x in b.levels]
            if level not in lv or coef not in b.coef_names:
                raise HypothesisError(f"{text!r}: the term {lab!r} has levels such as {lv[:5]} and coefficients "
                                      f"{list(b.coef_names)}")
            return _Param(f"r_{lab}[{level},{coef}]", "r", (lab, lv.index(level), b.coef_names.index(coef)))
    return None


# ------------------------------------------------------------------------------------------------ parsing
def _tokens(text: str, names: dict[str, _Param], special: list[str], fit) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch == "`":
            j = text.find("`", i + 1)
            if j < 0:
                raise HypothesisError(f"unclosed backtick in {text!r}")
            out.append(("par", _lookup(text[i + 1 : j], names, fit)))
            i = j + 1
            continue
        hit = next((s for s in special if text.startswith(s, i) and not _IDENT.match(text[i + len(s) : i + len(s) + 1] or " ")), None)
        if hit is not None:
            out.append(("par", names[hit]))
            i += len(hit)
            continue
        m = _NUMBER.match(text, i)
        if m and (ch.isdigit() or ch == "."):
            out.append(("num", float(m.group(0))))
            i = m.end()
            continue
        m = _IDENT.match(text, i)
        if m:
            word, j = m.group(0), m.end()
            if j < n and text[j] == "[":
                k = text.find("]", j)
                if k < 0:
                    raise HypothesisError(f"unclosed '[' in {text!r}")
                word, j = text[i : k + 1], k + 1
            rest = text[j:].lstrip()
            if word in _FUNCS and rest.startswith("(") and word not in names:
                out.append(("func", word))
            else:
                out.append(("par", _lookup(word, names, fit)))
            i = j
            continue
        two = text[i : i + 2]
        if two in ("==", "<=", ">="):
            out.append(("rel", _RELATIONS[two]))
            i += 2
            continue
        if ch in "<>=":
            out.append(("rel", _RELATIONS[ch]))
            i += 1
            continue
        if ch in "+-*/^()":
            out.append(("op", ch))
            i += 1
            continue
        raise HypothesisError(f"cannot read {text[i:]!r} in the hypothesis {text!r}")
    return out


def _lookup(word: str, names: dict[str, _Param], fit) -> _Param:
    word = re.sub(r"\s*,\s*", ",", word.strip())
    if word in names:
        return names[word]
    r = _random_effect(fit, word)
    if r is not None:
        return r
    import difflib

    close = difflib.get_close_matches(word, list(names), n=3, cutoff=0.5)
    hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
    shown = ", ".join(n for n, p in names.items() if n == p.name)
    raise HypothesisError(f"unknown parameter {word!r} in the hypothesis.{hint} Parameters: {shown}")


class _Parser:
    """Recursive descent over the tokens of one side: nodes are tuples ``("num", v)``, ``("par", p)``,
    ``("neg", x)``, ``("bin", op, a, b)``, ``("call", f, x)``."""

    def __init__(self, toks, text):
        self.toks, self.i, self.text = toks, 0, text

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def take(self):
        t = self.peek()
        self.i += 1
        return t

    def error(self, what: str) -> HypothesisError:
        return HypothesisError(f"{what} in the hypothesis {self.text!r}")

    def expr(self):
        node = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            node = ("bin", op, node, self.term())
        return node

    def term(self):
        node = self.unary()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            node = ("bin", op, node, self.unary())
        return node

    def unary(self):
        if self.peek() == ("op", "-"):
            self.take()
            return ("neg", self.unary())
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        node = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            node = ("bin", "^", node, self.unary())
        return node

    def atom(self):
        kind, v = self.take()
        if kind == "num":
            return ("num", v)
        if kind == "par":
            return ("par", v)
        if kind == "func":
            if self.take() != ("op", "("):
                raise self.error(f"'(' expected after {v}")
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise self.error("')' expected")
            return ("call", v, inner)
        if (kind, v) == ("op", "("):
            inner = self.expr()
            if self.take() != ("op", ")"):
                raise self.error("')' expected")
            return inner
        raise self.error("a number, a parameter or '(' expected" if kind is not None else "unexpected end")


def parse_hypothesis(fit, text: str) -> tuple[Any, str, Any]:
    """``(left, relation, right)`` syntax trees of one hypothesis (relation ``"="``, ``"<"`` or ``">"``)."""
    if not isinstance(text, str) or not text.strip():
        raise HypothesisError(f"a hypothesis is a string such as 'Days > 0', got {text!r}")
    names, special = _parameters(fit)
    toks = _tokens(text, names, special, fit)
    rel = [i for i, t in enumerate(toks) if t[0] == "rel"]
    if len(rel) != 1:
        raise HypothesisError(f"every hypothesis must be of the form 'left (= or < or >) right', got {text!r}")
    sides = []
    for part in (toks[: rel[0]], toks[rel[0] + 1 :]):
        p = _Parser(part, text)
        if not part:
            raise HypothesisError(f"a side of the hypothesis {text!r} is empty")
        node = p.expr()
        if p.i != len(part):
            raise p.error(f"unexpected {part[p.i][1]!r}")
        sides.append(node)
    return sides[0], toks[rel[0]][1], sides[1]


def _params_in(node, acc: dict[str, _Param]) -> dict[str, _Param]:
    if node[0] == "par":
        acc[node[1].name] = node[1]
    elif node[0] in ("neg", "call"):
        _params_in(node[-1], acc)
    elif node[0] == "bin":
        _params_in(node[2], acc)
        _params_in(node[3], acc)
    return acc


def _evaluate(node, values: dict[str, np.ndarray]):
    kind = node[0]
    if kind == "num":
        return node[1]
    if kind == "par":
        return values[node[1].name]
    if kind == "neg":
        return -_evaluate(node[1], values)
    if kind == "call":
        with np.errstate(all="ignore"):
            return _FUNCS[node[1]](_evaluate(node[2], values))
    a, b = _evaluate(node[2], values), _evaluate(node[3], values)
    with np.errstate(all="ignore"):
        return {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "^": np.power}[node[1]](a, b)


def _affine(node) -> tuple[dict[str, float], float] | None:
    """``h = Σ a_p p + c`` as ``({p: a_p}, c)``, or None when the expression is not affine in the parameters."""
    kind = node[0]
    if kind == "num":
        return {}, float(node[1])
    if kind == "par":
        return {node[1].name: 1.0}, 0.0
    if kind == "neg":
        r = _affine(node[1])
        return None if r is None else ({k: -v for k, v in r[0].items()}, -r[1])
    if kind == "call":
        r = _affine(node[2])
        if r is None or r[0]:
            return None
        return {}, float(_FUNCS[node[1]](r[1]))
    a, b = _affine(node[2]), _affine(node[3])
    if a is None or b is None:
        return None
    op = node[1]
    if op in "+-":
        s = 1.0 if op == "+" else -1.0
        coefs = dict(a[0])
        for k, v in b[0].items():
            coefs[k] = coefs.get(k, 0.0) + s * v
        return coefs, a[1] + s * b[1]
    if op == "*":
        if a[0] and b[0]:
            return None
        (c, lin) = (a[1], b) if not a[0] else (b[1], a)
        return {k: c * v for k, v in lin[0].items()}, c * lin[1]
    if op == "/":
        if b[0] or b[1] == 0:
            return None
        return {k: v / b[1] for k, v in a[0].items()}, a[1] / b[1]
    if op == "^":
        if a[0] or b[0]:
            return None
        return {}, float(a[1] ** b[1])
    return None


# ------------------------------------------------------------------------------------------------ densities
def kde_at(x: np.ndarray, point: float) -> float:
    """Gaussian kernel density of draws ``x`` at ``point`` with R's default bandwidth ``bw.nrd0``
    (``0.9 min(sd, IQR/1.34) n^(-1/5)``), as brms's ``density_ratio``."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n < 2:
        return float("nan")
    sd = float(np.std(x, ddof=1))
    q1, q3 = np.quantile(x, [0.25, 0.75])
    lo = min(sd, (q3 - q1) / 1.34)
    if not lo > 0:
        lo = sd or abs(x[0]) or 1.0
    bw = 0.9 * lo * n ** (-0.2)
    z = (point - x) / bw
    return float(np.mean(np.exp(-0.5 * z * z)) / (bw * math.sqrt(2 * math.pi)))


def prior_density(p: Prior, x: float, k: int = 1) -> float | None:
    """Density of a scalar prior at ``x`` (``lkj``: the marginal of one correlation of a ``k × k`` matrix,
    ``2 Beta(a, a) - 1`` with ``a = η - 1 + k/2``); ``None`` where it has no closed form here (``decov``,
    ``relative``) and ``nan`` for an improper (flat) prior."""
    from scipy import stats

    if p.relative:
        return None
    kw = {key: float(v) for key, v in p.kwargs.items() if np.ndim(v) == 0}
    d = p.dist
    if d == "flat":
        return float("nan")
    if d == "lkj":
        a = kw.get("eta", 1.0) - 1 + k / 2
        return float(stats.beta(a, a).pdf((x + 1) / 2) / 2)
    half = {"half_normal": stats.halfnorm(scale=kw.get("sigma", 1)),
            "half_cauchy": stats.halfcauchy(scale=kw.get("beta", 1))}
    if d in half:
        return float(half[d].pdf(x))
    table = {
        "normal": lambda: stats.norm(kw["mu"], kw["sigma"]),
        "student_t": lambda: stats.t(kw["nu"], kw["mu"], kw["sigma"]),
        "cauchy": lambda: stats.cauchy(kw["alpha"], kw["beta"]),
        "laplace": lambda: stats.laplace(kw["mu"], kw["b"]),
        "exponential": lambda: stats.expon(scale=1 / kw["lam"]),
        "gamma": lambda: stats.gamma(kw["alpha"], scale=1 / kw["beta"]),
        "inverse_gamma": lambda: stats.invgamma(kw["alpha"], scale=kw["beta"]),
        "beta": lambda: stats.beta(kw["alpha"], kw["beta"]),
        "uniform": lambda: stats.uniform(kw["lower"], kw["upper"] - kw["lower"]),
    }
    if d == "half_student_t":
        return float(2 * stats.t(kw["nu"], 0, kw["sigma"]).pdf(x)) if x >= 0 else 0.0
    if d in table:
        return float(table[d]().pdf(x))
    return None


def _scalar_prior(fit, p: _Param) -> tuple[Prior | None, int]:
    priors = fit.spec.prior_dict()
    d = fit.design
    if p.kind == "beta":
        name = d.x_names[p.address[0]]
        return (None if name == "Intercept" else priors.get(f"beta[{name}]")), 1
    if p.kind == "sd":
        lab, a = p.address
        b = d.block(lab)
        if lab in priors:  # decov
            return None, b.k
        return priors.get(f"sd_{lab}[{b.coef_names[a]}]"), b.k
    if p.kind == "corr":
        lab = p.address[0]
        b = d.block(lab)
        if lab in priors:
            return None, b.k
        return priors.get(f"corr_{lab}", Prior("lkj", eta=1.0)), b.k
    if p.kind == "aux":
        return priors.get(p.address[0]), 1
    return None, 1


def _improper(fit, params) -> bool:
    """Whether a parameter of the hypothesis has an improper (flat) prior (for ``beta[Intercept]``: any fixed
    effect's, since it is the centred intercept minus the slopes times the predictors' means)."""
    priors = fit.spec.prior_dict()
    names = list(fit.design.x_names)
    for p in params:
        if p.kind == "beta":
            n = names[p.address[0]]
            keys = ["Intercept" if m == "Intercept" else f"beta[{m}]" for m in names] if n == "Intercept" else [f"beta[{n}]"]
        elif p.kind == "aux":
            keys = [p.address[0]]
        else:
            continue
        if any(priors.get(k) is not None and priors[k].dist == "flat" for k in keys):
            return True
    return False


def _fixed_normal_prior(fit) -> tuple[np.ndarray, np.ndarray] | None:
    """Mean and covariance of the prior of ``beta`` when every fixed-effect prior is normal (the intercept's
    on the centred predictors: ``β₀ = α - Σ m_j β_j``), else None."""
    from .marginal import fixed_design

    d = fit.design
    names = list(d.x_names)
    priors = fit.spec.prior_dict()
    keys = ["Intercept" if n == "Intercept" else f"beta[{n}]" for n in names]
    ps = [priors.get(k) for k in keys]
    if not names or any(p is None or p.dist != "normal" or p.relative for p in ps):
        return None
    mu = np.array([float(p.kwargs["mu"]) for p in ps])
    var = np.array([float(p.kwargs["sigma"]) ** 2 for p in ps])
    cov = np.diag(var)
    if "Intercept" in names:
        i0 = names.index("Intercept")
        slopes = [j for j in range(len(names)) if j != i0]
        _, means, _ = fixed_design(d)
        T = np.eye(len(names))  # beta = T (alpha, slopes)
        T[i0, slopes] = -means
        mu = T @ mu
        cov = T @ np.diag(var) @ T.T
    return mu, cov


# ------------------------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class Hypotheses:
    """Results of :func:`hypothesis`.

    Attributes
    ----------
    table
        One row per hypothesis: ``hypothesis``, ``estimate``, ``est_error``, ``lower``, ``upper``,
        ``evid_ratio``, ``post_prob``, ``star`` (see the module docstring).
    draws
        ``(S, H)`` posterior draws of ``h = left - right``.
    prior_draws
        ``(N, H)`` prior draws of ``h`` where they were drawn (point hypotheses without a closed-form prior
        density), else NaN.
    details
        Per hypothesis: the relation, the posterior and prior densities at 0 (point hypotheses) and how the
        prior density was obtained (``"closed form"``, ``"normal fixed effects"``, ``"prior draws"``,
        ``"improper prior"``).
    prob
        ``1 - α``.
    """

    table: pd.DataFrame = field(compare=False)
    draws: np.ndarray = field(compare=False)
    prior_draws: np.ndarray = field(compare=False)
    details: pd.DataFrame = field(compare=False)
    prob: float = 0.95

    def __str__(self) -> str:
        alpha = 1 - self.prob
        head = (f"Hypothesis tests (brms semantics; alpha = {alpha:g}: '*' marks a point hypothesis whose "
                f"{100 * self.prob:g}% interval excludes 0, or a one-sided one with posterior probability above "
                f"{1 - alpha:g})")
        return head + "\n" + self.table.to_string(index=False, float_format=lambda v: f"{v:.4g}")

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.table.to_html(index=False, float_format=lambda v: f"{v:.4g}")

    def plot(self) -> Figure:
        """Posterior density of each ``h`` (and its prior density, for point hypotheses), with 0 marked."""
        from scipy.stats import gaussian_kde

        from .plots import BLACK, BLUE, GREY, _figure

        H = self.draws.shape[1]
        fig, axes = _figure(4.2 * min(H, 3), 3.0 * int(np.ceil(H / 3)), int(np.ceil(H / 3)), min(H, 3))
        for j, ax in enumerate(axes.flat):
            if j >= H:
                ax.set_visible(False)
                continue
            x = self.draws[:, j]
            lo, hi = np.quantile(x, [0.001, 0.999])
            span = hi - lo or 1.0
            xs = np.linspace(min(lo, 0) - 0.1 * span, max(hi, 0) + 0.1 * span, 300)
            if np.ptp(x) > 0:
                ax.plot(xs, gaussian_kde(x)(xs), color=BLUE, lw=1.6, label="posterior")
            pr = self.prior_draws[:, j]
            if np.isfinite(pr).sum() > 10:
                ax.plot(xs, gaussian_kde(pr[np.isfinite(pr)])(xs), color=GREY, lw=1.2, ls="--", label="prior")
            ax.axvline(0.0, color=BLACK, lw=0.8)
            ax.set_title(self.table["hypothesis"].iloc[j], fontsize=8)
            ax.set_yticks([])
            ax.legend(loc="best", fontsize=7)
        return fig


def hypothesis(
    fit,
    hypotheses: str | Sequence[str],
    prob: float = 0.95,
    prior_draws: int = 20_000,
    seed: int = 0,
) -> Hypotheses:
    """Test hypotheses about parameters as brms's ``hypothesis()`` does (see the module docstring).

    Parameters
    ----------
    fit
        The :class:`~bayesmixed.fit.Fit`.
    hypotheses
        One hypothesis (``"Days > 5"``, ``"period2 - period3 = 0"``, ``"sd_Subject[Days] > 5"``) or a list.
    prob
        ``1 - α``: the interval probability of point hypotheses (one-sided ones use ``(α, 1 - α)``).
    prior_draws
        Number of prior draws for point hypotheses whose prior density has no closed form here.
    seed
        Seed of those prior draws.

    Returns
    -------
    Hypotheses
        ``.table`` (brms's columns), ``.draws``, ``.details``, ``.plot()``.
    """
    if not 0 < prob < 1:
        raise HypothesisError(f"prob must lie in (0, 1), got {prob}")
    texts = [hypotheses] if isinstance(hypotheses, str) else list(hypotheses)
    if not texts:
        raise HypothesisError("no hypothesis given")
    alpha = 1 - prob
    parsed = [parse_hypothesis(fit, t) for t in texts]
    post_vals = _posterior_values(fit, parsed)
    S = len(next(iter(post_vals.values()))) if post_vals else 1
    prior_cache: dict[str, Any] = {}
    rows, details, draws, pdraws = [], [], [], []
    for text, (left, rel, right) in zip(texts, parsed):
        node = ("bin", "-", left, right)
        h = np.broadcast_to(np.asarray(_evaluate(node, post_vals), dtype=float), (S,))
        probs = (alpha / 2, 1 - alpha / 2) if rel == "=" else (alpha, 1 - alpha)
        lo, hi = np.quantile(h, probs)
        prior_h = np.full(max(prior_draws, 1), np.nan)
        post_d = prior_d = float("nan")
        method = ""
        if rel == "=":
            post_d = kde_at(h, 0.0)
            prior_d, method, ph = _prior_density_at_zero(fit, node, prior_cache, prior_draws, seed)
            if ph is not None:
                prior_h = ph
            er = post_d / prior_d if prior_d and np.isfinite(prior_d) else float("nan")
        else:
            n_yes = int(np.sum(h < 0)) if rel == "<" else int(np.sum(h > 0))
            er = n_yes / (S - n_yes) if n_yes < S else float("inf")
        pp = 1.0 if math.isinf(er) else er / (1 + er) if np.isfinite(er) else float("nan")
        star = ("*" if not (lo <= 0 <= hi) else "") if rel == "=" else ("*" if pp > 1 - alpha else "")
        rows.append(dict(hypothesis=text.strip(), estimate=float(np.mean(h)), est_error=float(np.std(h, ddof=1)),
                         lower=float(lo), upper=float(hi), evid_ratio=float(er), post_prob=float(pp), star=star))
        details.append(dict(hypothesis=text.strip(), relation=rel, posterior_density=post_d, prior_density=prior_d,
                            prior_method=method or None))
        draws.append(h)
        pdraws.append(prior_h)
    n = max(len(p) for p in pdraws)
    pmat = np.stack([np.pad(p, (0, n - len(p)), constant_values=np.nan) for p in pdraws], axis=1)
    return Hypotheses(pd.DataFrame(rows), np.stack(draws, axis=1), pmat, pd.DataFrame(details), prob)


def _value(fit, p: _Param, source) -> np.ndarray:
    """Draws of one parameter from ``source`` (the posterior: None; else a dataset of prior draws)."""
    if source is None:
        get = lambda name: draws_of(fit.idata, name)  # noqa: E731
    else:
        get = lambda name: source[name].values.reshape((-1,) + source[name].shape[2:])  # noqa: E731
    if p.kind == "beta":
        return get("beta")[:, p.address[0]]
    if p.kind == "sd":
        lab, a = p.address
        return get(f"sd_{lab}")[:, a]
    if p.kind == "corr":
        lab, i, j = p.address
        return get(f"corr_{lab}")[:, i, j]
    if p.kind == "r":
        lab, lv, c = p.address
        return get(f"r_{lab}")[:, lv, c]
    if p.kind == "vec":
        var, j = p.address
        return get(var)[:, j]
    return get(p.address[0])


def _posterior_values(fit, parsed) -> dict[str, np.ndarray]:
    params: dict[str, _Param] = {}
    for left, _, right in parsed:
        _params_in(left, params)
        _params_in(right, params)
    return {name: _value(fit, p, None) for name, p in params.items()}


def _prior_density_at_zero(fit, node, cache, n_draws: int, seed: int):
    """``(density, method, prior draws of h or None)`` of the prior of ``h`` at 0."""
    params = _params_in(node, {})
    aff = _affine(node)
    if aff is not None:
        coefs, const = aff
        coefs = {k: v for k, v in coefs.items() if v != 0}
        if not coefs:
            return float("nan"), "constant", None
        ps = [params[k] for k in coefs]
        if all(p.kind == "beta" for p in ps):
            mvn = _fixed_normal_prior(fit)
            if mvn is not None:
                mu, cov = mvn
                a = np.zeros(len(mu))
                for k, v in coefs.items():
                    a[params[k].address[0]] = v
                m, s2 = float(a @ mu + const), float(a @ cov @ a)
                return math.exp(-0.5 * m * m / s2) / math.sqrt(2 * math.pi * s2), "normal fixed effects", None
        if len(ps) == 1:
            prior, k = _scalar_prior(fit, ps[0])
            if prior is not None:
                a = next(iter(coefs.values()))
                dens = prior_density(prior, -const / a, k)
                if dens is not None:
                    if not np.isfinite(dens):
                        return float("nan"), "improper prior", None
                    return dens / abs(a), "closed form", None
    if _improper(fit, params.values()):
        return float("nan"), "improper prior", None
    if "prior" not in cache:
        from .ppc import sample_prior_predictive

        try:
            cache["prior"] = sample_prior_predictive(fit.spec, fit.design, n_draws, seed).prior
        except Exception as e:  # noqa: BLE001 - e.g. an improper (flat) prior cannot be drawn from
            raise HypothesisError(f"cannot draw from the model's prior for the Savage-Dickey ratio: {e}") from e
    prior = cache["prior"]
    values = {name: _value(fit, p, prior) for name, p in params.items()}
    h = np.asarray(_evaluate(node, values), dtype=float)
    return kde_at(h, 0.0), "prior draws", h
