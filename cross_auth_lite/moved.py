"""Names that moved keep working where they were for one release, with a warning.

A package that used to be a module of the same name (``cross_auth_lite.store``
was ``store.py``), and the top level for the names now under
``cross_auth_lite.admin``, get their module ``__getattr__`` from
``moved_names``: the old name still resolves, and a ``DeprecationWarning``
says what to use instead.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names"]


def moved_names(package: str, names: Mapping[str, tuple[str, str | None]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that resolves the names that moved out of it.

    ``names`` maps an old name to the module that holds it now and the name
    to use instead (``None``: it goes in the next release, with nothing in
    its place).
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, instead = names[name]
        value = getattr(importlib.import_module(module), name)
        if _asked_by_import_machinery():
            return value  # ``from package import name`` asks twice: warn once, below
        advice = f"use {instead}" if instead else "it goes in the next release"
        warnings.warn(
            f"{package}.{name} is deprecated: {advice}", DeprecationWarning, stacklevel=2
        )
        return value

    return __getattr__


def _asked_by_import_machinery() -> bool:
    """Whether the caller is the check ``from package import name`` makes before it imports."""
    frame = getattr(sys, "_getframe", None)
    return frame is not None and frame(2).f_code.co_name == "_handle_fromlist"
