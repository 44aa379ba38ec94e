"""Warnings that point at the user's line: the first stack frame outside the bayesmixed package (and outside
the libraries it calls back through), whatever depth inside bayesmixed the warning is raised at."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

__all__ = ["warn_user", "user_stacklevel"]

_PACKAGE = str(Path(__file__).resolve().parent)


def _internal(filename: str) -> bool:
    try:
        path = str(Path(filename).resolve())
    except (OSError, ValueError):
        return False
    return path.startswith(_PACKAGE)


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a ``warnings.warn`` called by the caller of this function point at the first
    frame outside bayesmixed."""
    frame = sys._getframe(1)  # the function that will call warnings.warn
    level = 1
    while frame is not None and _internal(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    return level


def warn_user(message: str, category: type[Warning] = UserWarning) -> None:
    """``warnings.warn(message, category)`` attributed to the user's line."""
    frame = sys._getframe(1)
    level = 2
    while frame is not None and _internal(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
