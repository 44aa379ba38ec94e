"""``ELPD``: an estimate of the expected log pointwise predictive density (PSIS-LOO, WAIC or exact k-fold).

bayesmixed's own frozen result type (no ArviZ class): :func:`bayesmixed.compare.loo`, ``waic`` and ``kfold``
return it and :func:`bayesmixed.compare.compare` ranks any of them. :func:`bayesmixed.compare.to_arviz` gives
ArviZ's ``ELPDData`` for ArviZ's own tools. Entries can also be read by ArviZ's names (``est["elpd_loo"]``,
``est["loo_i"]``, ``est["pareto_k"]``, ``est.elpd_waic``; a k-fold estimate answers to ``elpd_kfold`` and, as
ArviZ's comparison reads it, ``elpd_loo``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["ELPD"]

_KINDS = ("loo", "waic", "kfold")


@dataclass(frozen=True)
class ELPD:
    """An ELPD estimate.

    Attributes
    ----------
    kind
        ``"loo"`` (PSIS-LOO), ``"waic"`` or ``"kfold"`` (exact k-fold or leave-one-group-out by refits).
    elpd, se, p
        The estimate, its standard error, and the effective number of parameters (``p_loo``, ``p_waic``,
        ``p_kfold``: NaN for k-fold without the fit's in-sample log-likelihood).
    n_samples, n_data_points
        Posterior draws (per refit for k-fold) and pointwise units (rows, or levels with ``by``).
    warning
        ArviZ's warning flag (PSIS-LOO: some Pareto k above the threshold; WAIC: posterior variance of the log
        density above 0.4; k-fold: some refit diverged or had R-hat above 1.05).
    pointwise
        Pointwise values (``xarray.DataArray`` named ``<kind>_i``; dim ``obs`` or the term label), or None.
    pareto_k
        PSIS-LOO's Pareto k per unit, or None.
    flagged
        PSIS-LOO: the units with Pareto k above 0.7 (a DataFrame with their labels and group levels).
    by
        The term whose levels are the units (leave-one-group-out), or None for rows.
    k, fold, refits
        k-fold: the number of folds (``"logo"`` for one per level), the fold of each unit, per-refit
        diagnostics.
    scale, good_k
        ArviZ's scale (``"log"``) and Pareto-k threshold (PSIS-LOO).
    data
        A fingerprint of the data the estimate was made on (response values and order; with ``by``, the levels):
        :func:`bayesmixed.compare.compare` refuses to rank estimates of different data.
    """

    kind: str
    elpd: float
    se: float
    p: float
    n_samples: int
    n_data_points: int
    warning: bool
    pointwise: Any = None
    pareto_k: Any = None
    flagged: Any = None
    by: str | None = None
    k: int | str | None = None
    fold: Any = None
    refits: Any = None
    scale: str = "log"
    good_k: float | None = None
    data: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {_KINDS}, got {self.kind!r}")

    # ---------------------------------------------------------------- ArviZ's names
    def _aliases(self) -> dict[str, str]:
        kinds = [self.kind] + (["loo"] if self.kind == "kfold" else [])
        out = {}
        for k in kinds:
            out.update({f"elpd_{k}": "elpd", f"p_{k}": "p", f"{k}_i": "pointwise"})
        return out

    def keys(self) -> list[str]:
        """The entries that hold a value, by ArviZ's names and ours."""
        names = list(self._aliases()) + [f.name for f in fields(self)]
        return [n for n in names if self._get(n) is not None]

    def _get(self, key: str):
        attr = self._aliases().get(key, key)
        if attr not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, attr)

    def __getitem__(self, key: str):
        value = self._get(key)
        if value is None and (key.endswith("_i") or key in ("pointwise", "pareto_k")):
            raise KeyError(f"{key!r} is not stored: compute the estimate with pointwise=True")
        return value

    def __contains__(self, key: object) -> bool:
        try:
            return isinstance(key, str) and self._get(key) is not None
        except KeyError:
            return False

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._get(name)
        except KeyError:
            raise AttributeError(f"{type(self).__name__!r} has no attribute {name!r}") from None

    # ---------------------------------------------------------------- conversion and printing
    def __str__(self) -> str:
        unit = f"levels of {self.by!r}" if self.by is not None else "observations"
        if self.kind == "kfold":
            what = "leave-one-group-out" if self.k == "logo" else f"{self.k}-fold"
            head = (f"Computed from {self.n_samples} posterior draws per refit and {self.n_data_points} {unit}: "
                    f"exact {what} cross-validation.")
        else:
            name = "PSIS-LOO" if self.kind == "loo" else "WAIC"
            head = f"{name} computed from {self.n_samples} posterior draws and {self.n_data_points} {unit}."
        p = "-" if self.p != self.p else f"{self.p:8.2f}"
        lines = [head, "", f"{'':12s}Estimate       SE",
                 f"elpd_{self.kind:6s} {self.elpd:9.2f} {self.se:8.2f}", f"p_{self.kind:9s} {p:>9s}        -"]
        if self.kind == "loo" and self.flagged is not None and len(self.flagged):
            lines += ["", f"{len(self.flagged)} of {self.n_data_points} {unit} have Pareto k > 0.7 "
                          "(see ['flagged']); exact k-fold: compare(..., ic='kfold') or fit.kfold()"]
        elif self.warning and self.kind == "kfold":
            lines += ["", "Some refits had divergences or R-hat above 1.05: see ['refits']."]
        elif self.warning:
            lines += ["", "Warning: the estimate may be unreliable (see the warning it was computed with)."]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)
