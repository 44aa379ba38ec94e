"""The family registry: names and aliases → :class:`~bayesmixed.families.base.Family` classes."""

from __future__ import annotations

from typing import TypeVar

from ..errors import DataError
from .base import Family
from .links import get_link

__all__ = ["register_family", "unregister_family", "get_family", "as_family", "family_names", "aux_names"]

_FAMILIES: dict[str, type[Family]] = {}
_ALIASES: dict[str, str] = {}

F = TypeVar("F", bound=type)


def _key(name: str) -> str:
    return str(name).lower().replace("-", "_").replace(" ", "_")


def register_family(cls: F) -> F:
    """Register a :class:`Family` subclass under its ``name`` and ``aliases`` (usable as a decorator).

    A name that is already registered is refused, unless it is the same class again."""
    if not (isinstance(cls, type) and issubclass(cls, Family)) or not cls.name or not cls.link_names:
        raise TypeError(f"{cls!r} must be a Family subclass with a name and at least one link")
    for link in cls.link_names:
        get_link(link)
    key = _key(cls.name)
    if key in _FAMILIES and _FAMILIES[key] is not cls:
        raise ValueError(f"a family named {cls.name!r} is already registered")
    _FAMILIES[key] = cls
    for alias in cls.aliases:
        _ALIASES[_key(alias)] = key
    return cls


def unregister_family(name: str) -> None:
    """Remove a family and its aliases (for tests that register their own)."""
    key = _key(name)
    _FAMILIES.pop(key, None)
    for alias in [a for a, k in _ALIASES.items() if k == key]:
        del _ALIASES[alias]


def family_names() -> tuple[str, ...]:
    """Registered family names, in registration order."""
    return tuple(c.name for c in _FAMILIES.values())


def aux_names() -> tuple[str, ...]:
    """Every registered family's auxiliary-parameter names (each once, in registration order)."""
    out: list[str] = []
    for cls in _FAMILIES.values():
        out += [p.name for p in cls.aux if p.name not in out]
    return tuple(out)


def get_family(name: str, link: str | None = None) -> Family:
    """The family called ``name`` (or an alias), bound to ``link`` (its default link when None).

    Raises
    ------
    DataError
        For an unknown family, or a link the family does not have.
    """
    key = _key(name)
    key = _ALIASES.get(key, key)
    if key not in _FAMILIES:
        raise DataError(f"unknown family {name!r}; available: {', '.join(family_names())}")
    cls = _FAMILIES[key]
    link = cls.link_names[0] if link is None else str(link)
    if link not in cls.link_names:
        raise DataError(f"family {cls.name!r} has no link {link!r}; use one of {', '.join(cls.link_names)}")
    return cls(get_link(link))


def as_family(family: str | Family, link: str | None = None) -> Family:
    """``family`` itself if it is a :class:`Family`, else :func:`get_family` of the name and link."""
    return family if isinstance(family, Family) else get_family(family, link)
