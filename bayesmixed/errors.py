"""Errors raised by bayesmixed: every one names what is wrong and how to fix it."""

from __future__ import annotations

__all__ = ["BayesMixedError", "FormulaError", "DataError", "PriorError", "ModelFileError", "UnknownTermError",
           "MissingFileError"]


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


class UnknownTermError(BayesMixedError, KeyError):
    """A random-effect term or coefficient the model does not have (also a ``KeyError``, as a lookup)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MissingFileError(BayesMixedError, FileNotFoundError):
    """A file bayesmixed was asked to read does not exist (also a ``FileNotFoundError``)."""
