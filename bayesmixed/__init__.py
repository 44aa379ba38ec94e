"""bayesmixed: Bayesian mixed-effects models from lme4 formulas, sampled with NUTS, explained.

``bm.compare``, ``bm.simulate`` and ``bm.calibrate`` are the modules of those names, callable as their main
function: ``bm.compare({...})`` ranks models and ``import bayesmixed.compare as c`` gives the module (``c.kfold``).

>>> import bayesmixed as bm
>>> fit = bm.Model("Reaction ~ Days + (Days | Subject)", bm.datasets.load("sleepstudy")).fit(seed=1)  # doctest: +SKIP
>>> fit.summary()  # doctest: +SKIP
"""

from __future__ import annotations

from . import calibrate, compare, datasets, simulate  # callable modules: bm.compare(...) and bayesmixed.compare.kfold
from .calibrate import Calibration
from .design import Design, GroupBlock, build_design
from .errors import BayesMixedError, DataError, FormulaError, ModelFileError, PriorError
from .fit import Fit
from .fit import load_fit as load
from .formula import BrmsFormula, Formula, bf, parse_formula
from .model import Model
from .priors import Prior
from .spec import ModelSpec, make_spec

from ._version import __version__

__all__ = [
    "BayesMixedError",
    "BrmsFormula",
    "Calibration",
    "DataError",
    "Design",
    "Fit",
    "Formula",
    "FormulaError",
    "GroupBlock",
    "Model",
    "ModelFileError",
    "ModelSpec",
    "Prior",
    "PriorError",
    "bf",
    "build_design",
    "calibrate",
    "compare",
    "datasets",
    "load",
    "make_spec",
    "parse_formula",
    "simulate",
    "__version__",
]
