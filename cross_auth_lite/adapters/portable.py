"""Portable mode: a store on peewee's and diskcache's public API only.

A store takes it by itself when an adapter's capability check finds that a
dependency's internals are not what the fast paths expect, warning once per
dependency and process; ``CROSS_AUTH_LITE_PORTABLE=1`` in the environment
asks for it on every store (no warning: it was asked for). Either way the
store behaves the same; only its speed differs.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping
from importlib import metadata

__all__ = ["PORTABLE_ENV", "fall_back", "portable_requested"]

#: The environment variable that makes every store portable (``1``, ``true``, ``yes``).
PORTABLE_ENV = "CROSS_AUTH_LITE_PORTABLE"

_TRUE = frozenset({"1", "true", "yes", "on"})
_warned: set[str] = set()
_warned_lock = threading.Lock()


def portable_requested(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``$CROSS_AUTH_LITE_PORTABLE`` asks for portable mode."""
    return environ.get(PORTABLE_ENV, "").strip().lower() in _TRUE


def fall_back(dependency: str, reason: str) -> None:
    """Say once per process that ``dependency``'s fast paths are off, and why.

    ``reason`` names what was missing or behaved otherwise; it never holds
    data of a store.
    """
    with _warned_lock:
        if dependency in _warned:
            return
        _warned.add(dependency)
    try:
        version = metadata.version(dependency)
    except metadata.PackageNotFoundError:
        version = "(version unknown)"
    warnings.warn(
        f"cross-auth-lite runs on {dependency} {version}'s public API only ({reason}): "
        f"correct, but slower; {PORTABLE_ENV}=1 chooses this without a warning",
        RuntimeWarning,
        stacklevel=3,
    )
