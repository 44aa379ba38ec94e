"""Checks of the sampler settings a user passes (``draws``, ``seed``, ``cores``, ...): a clear
:class:`~bayesmixed.errors.BayesMixedError` naming the argument, the value and what is allowed, before anything
is built or compiled."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .errors import BayesMixedError

__all__ = ["whole_number", "seed", "cores", "probability", "flag_or_auto"]

MAX_SEED = 2**64 - 1


def whole_number(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int when it is a whole number of at least ``minimum`` (not a bool, not 2.0)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < minimum:
        what = "a positive whole number" if minimum == 1 else f"a whole number >= {minimum}"
        raise BayesMixedError(f"{name} must be {what}, got {value!r}")
    return int(value)


def seed(value: Any) -> int | None:
    """``None`` or a whole number from 0 to 2**64 - 1 (what NumPy's and nutpie's generators take)."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_SEED:
        raise BayesMixedError(
            f"seed must be None or a whole number from 0 to 2**64 - 1, got {value!r}"
            + (" (a text: pass a number, e.g. seed=1)" if isinstance(value, str) else "")
        )
    return int(value)


def cores(value: Any) -> int | None:
    """``None`` (one per chain) or a positive whole number."""
    if value is None:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise BayesMixedError(f"cores must be None (one per chain) or a positive whole number, got {value!r}")
    return int(value)


def probability(name: str, value: Any) -> float:
    """A real number strictly between 0 and 1."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not 0 < float(value) < 1:
        raise BayesMixedError(f"{name} must lie in (0, 1), got {value!r}")
    return float(value)


def flag_or_auto(name: str, value: Any) -> bool | str:
    """``True``, ``False`` or ``"auto"``."""
    if value == "auto" and isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise BayesMixedError(f"{name} must be True, False or 'auto', got {value!r}")
