"""The version of bayesmixed (one place: ``pyproject.toml`` repeats it)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
