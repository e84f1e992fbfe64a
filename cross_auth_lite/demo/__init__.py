"""An offline demo app: Cross-Auth sign-in on a cross-auth-lite store.

Run it with ``python -m cross_auth_lite.demo`` (or ``cross-auth-lite demo``;
both take the options of ``options.py``: ``--data`` (default ``var/demo``),
``--host``, ``--port``, ``--base-url``, ``--workers N``), open the printed
URL and click Sign in. The identity provider is a development one the app
hosts itself (``cross_auth_lite.dev``), so nothing leaves the machine. Needs
the ``[demo]`` extra (FastAPI, uvicorn, python-multipart, gunicorn).

- ``run(data_dir=..., host=..., port=..., workers=...)`` serves it: with
  uvicorn in this process, or with gunicorn and N uvicorn worker processes;
- ``create_app(store, base_url=...)`` builds the FastAPI app (for tests or
  your own server).

Both are imported on first use, so that ``options`` (which the CLI needs for
its parser) imports without the extra.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cross_auth_lite.demo.options import INSTALL_HINT

if TYPE_CHECKING:
    from cross_auth_lite.demo.app import create_app
    from cross_auth_lite.demo.server import run

__all__ = ["create_app", "run"]

_LAZY = {"create_app": "cross_auth_lite.demo.app", "run": "cross_auth_lite.demo.server"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        value = getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as error:
        if error.name is None or error.name.startswith("cross_auth_lite"):
            raise
        raise ModuleNotFoundError(
            f"the cross-auth-lite demo needs {error.name!r}: {INSTALL_HINT}", name=error.name
        ) from error
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
