"""Backends: the only modules that import PyMC, pytensor, nutpie (imported lazily)."""

from __future__ import annotations
