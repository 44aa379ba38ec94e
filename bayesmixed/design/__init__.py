"""Data against formula: validation, encodings that remember their state, :class:`Design`."""

from __future__ import annotations

from .design import (
    Design,
    Encoding,
    GroupBlock,
    ResponseTerms,
    as_pandas,
    build_design,
    check_estimable,
    check_levels_vs_rows,
    used_columns,
)
from .evaluate import evaluate
from .matrix import model_matrix

__all__ = [
    "Design", "Encoding", "GroupBlock", "ResponseTerms", "as_pandas", "build_design", "check_estimable",
    "check_levels_vs_rows", "evaluate", "model_matrix", "used_columns",
]
