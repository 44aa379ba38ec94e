"""Errors raised by bayesmixed: every one names what is wrong and how to fix it."""

from __future__ import annotations

__all__ = ["BayesMixedError", "FormulaError", "DataError", "PriorError", "ModelFileError"]


class BayesMixedError(ValueError):
    """Base class of the errors bayesmixed raises on bad input."""


class FormulaError(BayesMixedError):
    """The formula text cannot be parsed; the message points at the offending position."""

    def __init__(self, message: str, text: str = "", pos: int = 0):
        self.message = message
        self.text = text
        self.pos = pos
        if text:
            caret = " " * max(pos, 0) + "^"
            full = f"{message}\n  {text}\n  {caret}"
        else:
            full = message
        super().__init__(full)


class DataError(BayesMixedError):
    """The data do not fit the formula or the family (a column, a value, a level)."""


class PriorError(BayesMixedError):
    """A prior specification is unknown, malformed, or names a parameter the model does not have."""


class ModelFileError(BayesMixedError):
    """A model TOML file is malformed."""
