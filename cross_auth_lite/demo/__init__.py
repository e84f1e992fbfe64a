"""An offline demo app: Cross-Auth sign-in on a cross-auth-lite store.

Run it with ``python -m cross_auth_lite.demo --data var/demo`` (or
``cross-auth-lite demo``), open the printed URL and click Sign in. The
identity provider is a development one the app hosts itself, so nothing
leaves the machine. Needs the ``[demo]`` extra (FastAPI, uvicorn,
python-multipart).

- ``run(data_dir=..., host=..., port=...)`` serves it with uvicorn;
- ``create_app(store, base_url=...)`` builds the FastAPI app (for tests or
  your own server).
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
    import python_multipart  # noqa: F401
except ModuleNotFoundError as error:  # pragma: no cover - depends on the install
    raise ModuleNotFoundError(
        f"the cross-auth-lite demo needs {error.name!r}: pip install 'cross-auth-lite[demo]'",
        name=error.name,
    ) from error

from cross_auth_lite.demo.app import create_app
from cross_auth_lite.demo.server import run

__all__ = ["create_app", "run"]
