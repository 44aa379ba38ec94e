"""Modules that can be called as their main function: ``bm.compare(...)`` calls
:func:`bayesmixed.compare.compare` while ``import bayesmixed.compare as c`` still gives the module (the package
attribute and the submodule are one object, so neither shadows the other)."""

from __future__ import annotations

import inspect
import sys
import types

__all__ = ["make_callable"]


def make_callable(module_name: str, function_name: str) -> None:
    """Make the module ``module_name`` callable as its function ``function_name`` (same signature)."""
    module = sys.modules[module_name]

    class CallableModule(types.ModuleType):
        def __call__(self, *args, **kwargs):
            return getattr(self, function_name)(*args, **kwargs)

    CallableModule.__name__ = CallableModule.__qualname__ = f"callable module ({function_name})"
    module.__class__ = CallableModule
    module.__signature__ = inspect.signature(getattr(module, function_name))
