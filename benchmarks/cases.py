"""Benchmark cases: one model on one shipped data set, written for every tool.

The lme4 formula is the model; the other formulas are the closest each peer
can express. Where a peer fits a different model (bambi has no correlated
random effects), :attr:`Case.tool_notes` says so and the report prints it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]

#: Where the shipped CSVs live; ``BAYESMIXED_BENCH_DATA`` overrides it.
DATA_DIR = Path(os.environ.get("BAYESMIXED_BENCH_DATA", REPO_ROOT / "bayesmixed" / "datasets" / "data"))

_BAMBI_INDEPENDENT = (
    "bambi cannot express correlated random effects: it fits independent "
    "intercepts and slopes, i.e. `{formula}`"
)


@dataclass(frozen=True)
class Case:
    """One benchmark model.

    Attributes:
        name: case name used on the command line (lower case).
        dataset: CSV stem in :data:`DATA_DIR` (``bm.datasets.load`` name).
        formula: lme4 formula; what bayesmixed and rstanarm fit.
        family: ``"gaussian"``, ``"binomial"``, ...
        factors: columns that are R factors; they are passed to every tool as
            strings, so that e.g. cbpp's ``period`` is categorical everywhere.
        bambi_formula: the formula given to bambi.
        brms_formula: the formula given to brms.
        large: only run when asked for by name or with ``--all``.
        tool_notes: per-tool remarks printed beside the results.
        alt_reference: (reference name, column label) of a second lme4 fit to
            show beside the results -- the independent-effects model that
            bambi fits, where lme4 estimates for it are known.
        tools: the tools that can fit the model (``None``: all); the others
            are reported as not run, with their :attr:`tool_notes`.
    """

    name: str
    dataset: str
    formula: str
    family: str
    factors: tuple[str, ...]
    bambi_formula: str
    brms_formula: str
    large: bool = False
    tool_notes: dict[str, str] = field(default_factory=dict)
    alt_reference: tuple[str, str] | None = None
    tools: tuple[str, ...] | None = None

    @property
    def csv_path(self) -> Path:
        """Path of the data set's CSV file."""
        return DATA_DIR / f"{self.dataset}.csv"

    def formula_for(self, tool: str) -> str:
        """The formula as written for ``tool`` (bayesmixed, bambi*, rstanarm, brms)."""
        if tool.startswith("bambi"):
            return self.bambi_formula
        if tool == "brms":
            return self.brms_formula
        return self.formula

    def note_for(self, tool: str) -> str:
        """The remark for ``tool`` (``bambi-nutpie`` shares ``bambi``'s), or ``""``."""
        return self.tool_notes.get(tool, self.tool_notes.get(tool.split("-")[0], ""))


def _independent_note(formula: str) -> dict[str, str]:
    return {"bambi": _BAMBI_INDEPENDENT.format(formula=formula)}


CASES: dict[str, Case] = {
    c.name: c
    for c in [
        Case(
            name="sleepstudy",
            dataset="sleepstudy",
            formula="Reaction ~ Days + (Days | Subject)",
            family="gaussian",
            factors=("Subject",),
            bambi_formula="Reaction ~ Days + (Days | Subject)",
            brms_formula="Reaction ~ Days + (Days | Subject)",
            tool_notes=_independent_note("Reaction ~ Days + (1 | Subject) + (0 + Days | Subject)"),
            alt_reference=("sleepstudy_uncorrelated", "lme4 (Days || Subject)"),
        ),
        Case(
            name="radon",
            dataset="radon",
            formula="log_radon ~ floor + (floor | county)",
            family="gaussian",
            factors=("county",),
            bambi_formula="log_radon ~ floor + (floor | county)",
            brms_formula="log_radon ~ floor + (floor | county)",
            tool_notes=_independent_note("log_radon ~ floor + (1 | county) + (0 + floor | county)"),
        ),
        Case(
            name="cbpp",
            dataset="cbpp",
            formula="cbind(incidence, size - incidence) ~ period + (1 | herd)",
            family="binomial",
            factors=("herd", "period"),
            bambi_formula="p(incidence, size) ~ period + (1 | herd)",
            brms_formula="incidence | trials(size) ~ period + (1 | herd)",
        ),
        Case(
            name="penicillin",
            dataset="Penicillin",
            formula="diameter ~ 1 + (1 | plate) + (1 | sample)",
            family="gaussian",
            factors=("plate", "sample"),
            bambi_formula="diameter ~ 1 + (1 | plate) + (1 | sample)",
            brms_formula="diameter ~ 1 + (1 | plate) + (1 | sample)",
        ),
        Case(
            name="schools_gpa",
            dataset="schools_gpa",
            formula="gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)",
            family="gaussian",
            factors=("school", "student", "sex"),
            bambi_formula="gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)",
            brms_formula="gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)",
            tool_notes=_independent_note(
                "gpa ~ occasion + sex + highgpa + (1 | school) + (1 | school:student) + (0 + occasion | school:student)"),
        ),
        Case(
            name="pastes",
            dataset="Pastes",
            formula="strength ~ 1 + (1 | batch/cask)",
            family="gaussian",
            factors=("batch", "cask"),
            bambi_formula="strength ~ 1 + (1 | batch) + (1 | batch:cask)",
            brms_formula="strength ~ 1 + (1 | batch/cask)",
        ),
        Case(
            name="grouseticks",
            dataset="grouseticks",
            formula="TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX)",
            family="poisson",
            factors=("YEAR", "BROOD", "LOCATION", "INDEX"),
            bambi_formula="TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX)",
            brms_formula="TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION) + (1 | INDEX)",
        ),
        Case(
            name="epilepsy",
            dataset="epilepsy",
            formula="count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs)",
            family="poisson",
            factors=("patient", "obs", "Trt"),
            bambi_formula="count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs)",
            brms_formula="count ~ zAge + zBase * Trt + (1 | patient) + (1 | obs)",
        ),
        Case(
            name="cbpp_obs",
            dataset="cbpp",
            formula="cbind(incidence, size - incidence) ~ period + (1 | herd) + (1 | obs)",
            family="binomial",
            factors=("herd", "period", "obs"),
            bambi_formula="p(incidence, size) ~ period + (1 | herd) + (1 | obs)",
            brms_formula="incidence | trials(size) ~ period + (1 | herd) + (1 | obs)",
        ),
        Case(
            name="items_bernoulli",
            dataset="items_bernoulli",
            formula="correct ~ freq + type + age + (1 | person) + (1 | item)",
            family="bernoulli",
            factors=("person", "item", "type"),
            bambi_formula="correct ~ freq + type + age + (1 | person) + (1 | item)",
            brms_formula="correct ~ freq + type + age + (1 | person) + (1 | item)",
        ),
        Case(
            name="wine",
            dataset="wine",
            formula="rating ~ temp + contact + (1 | judge)",
            family="cumulative",
            factors=("judge", "temp", "contact"),
            bambi_formula="rating ~ temp + contact + (1 | judge)",
            brms_formula="rating ~ temp + contact + (1 | judge)",
            tools=("bayesmixed", "brms"),
            tool_notes={
                "rstanarm": "rstanarm's stan_polr has no random effects: not run (reference: ordinal::clmm)",
                "bambi": "not run: the case compares brms's cumulative-logit names (Intercept[k])",
            },
        ),
        Case(
            name="salamanders_zip",
            dataset="Salamanders",
            formula="count ~ spp + mined + (1 | site)",
            family="zero_inflated_poisson",
            factors=("spp", "mined", "site"),
            bambi_formula="count ~ spp + mined + (1 | site)",
            brms_formula="count ~ spp + mined + (1 | site)",  # brms: zi ~ 1
            tool_notes={"rstanarm": "rstanarm has no zero-inflated family: not run (pass --skip salamanders_zip:rstanarm)",
                        "bambi": "bambi's zero_inflated_poisson: psi is the probability of the Poisson part (1 - zi)"},
        ),
        Case(
            name="insteval",
            dataset="InstEval",
            formula="y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
            family="gaussian",
            factors=("s", "d", "dept", "service"),
            bambi_formula="y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
            brms_formula="y ~ 1 + service + (1 | s) + (1 | d) + (1 | dept)",
            large=True,
        ),
    ]
}

DEFAULT_CASES = [name for name, case in CASES.items() if not case.large]


def get_case(name: str) -> Case:
    """Look a case up by name, case-insensitively."""
    try:
        return CASES[name.lower()]
    except KeyError:
        raise SystemExit(f"unknown case {name!r}; known: {', '.join(CASES)}") from None


def load_data(case: Case):
    """The case's data as a pandas DataFrame, factor columns as strings.

    Used for the peers; bayesmixed loads through ``bm.datasets.load`` and then
    goes through :func:`as_factors` as well, so every tool sees the same types.
    """
    import pandas as pd

    return as_factors(pd.read_csv(case.csv_path), case.factors)


def as_factors(df, factors):
    """Return ``df`` with the ``factors`` columns as strings (unless already categorical).

    CSV columns such as cbpp's ``period`` ("1".."4") are read as integers by
    pandas; lme4 treats them as factors, so the benchmark does too.
    """
    import pandas as pd

    df = df.copy()
    for col in factors:
        s = df[col]
        if isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(s.dtype):
            continue
        df[col] = s.astype(str)
    return df
