"""Write the simulated data sets shipped in bayesmixed/datasets/data (run from the repository root):

    python benchmarks/data/make_datasets.py

- ``schools_gpa.csv``: students within schools measured on six occasions (the shape of Hox's GPA data):
  ``gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)``, 20 schools x 10 students
  x 6 occasions = 1,200 rows; sex and highgpa are student-level predictors.
- ``items_bernoulli.csv``: a crossed person x item Bernoulli design (a test or a lexical-decision experiment):
  ``correct ~ freq + type + age + (1 | person) + (1 | item)``, 250 persons x 32 items = 8,000 rows; freq and type
  are item-level attributes, age a person-level one.

The true parameter values are written beside the data in the model cards (models/schools_gpa.toml,
models/items_bernoulli.toml); lme4's estimates there come from benchmarks/r/references_issue16.R.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pandas as pd

import bayesmixed as bm

OUT = Path(__file__).resolve().parents[2] / "bayesmixed" / "datasets" / "data"

GPA_TRUTH = {
    "beta": {"Intercept": 2.60, "occasion": 0.10, "sexmale": -0.12, "highgpa": 0.08},
    "sd": {"school": 0.10, "school:student": {"Intercept": 0.20, "occasion": 0.05}},
    "corr": {"school:student": -0.20},
    "sigma": 0.20,
}
ITEMS_TRUTH = {
    "beta": {"Intercept": -0.10, "freq": 0.40, "typeword": 0.60, "age": -0.25},
    "sd": {"person": 1.00, "item": 0.60},
}


def schools_gpa(seed: int = 20261203) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(1, 21):
        for t in range(1, 11):
            sex = "female" if rng.random() < 0.5 else "male"
            highgpa = round(float(np.clip(rng.normal(3.0, 0.35), 2.0, 4.0)), 1)
            for occ in range(6):
                rows.append((f"S{s:02d}", f"P{t:02d}", occ, sex, highgpa))
    df = pd.DataFrame(rows, columns=["school", "student", "occasion", "sex", "highgpa"])
    df["sex"] = pd.Categorical(df["sex"], categories=["female", "male"])  # R's (alphabetical) order
    out = bm.simulate("gpa ~ occasion + sex + highgpa + (1 | school) + (1 + occasion | school:student)", df,
                      GPA_TRUTH, seed=seed)
    out["gpa"] = out["gpa"].round(3)
    return out


def items_bernoulli(seed: int = 20261204) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"item": [f"I{i:02d}" for i in range(1, 33)],
                          "freq": np.round(rng.normal(0, 1, 32), 2),
                          "type": ["word"] * 16 + ["pseudo"] * 16})
    persons = pd.DataFrame({"person": [f"P{p:03d}" for p in range(1, 251)],
                            "age": np.round(rng.normal(0, 1, 250), 2)})
    df = persons.merge(items, how="cross")
    df["type"] = pd.Categorical(df["type"], categories=["pseudo", "word"])  # R's (alphabetical) order
    return bm.simulate("correct ~ freq + type + age + (1 | person) + (1 | item)", df, ITEMS_TRUTH,
                       family="bernoulli", seed=seed)


if __name__ == "__main__":
    for name, frame in (("schools_gpa", schools_gpa()), ("items_bernoulli", items_bernoulli())):
        frame.to_csv(OUT / f"{name}.csv", index=False, quoting=csv.QUOTE_NONNUMERIC)  # factors quoted
        print(name, frame.shape)
