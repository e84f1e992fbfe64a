"""The demo's own routes, one ``APIRouter`` per concern; ``create_app`` includes them.

- ``home``: ``/``, the Sign in button or the signed-in email;
- ``profile``: ``/profile``, the user, linked accounts and active sessions;
- ``accounts``: ``/link`` and ``POST /accounts/{id}/unlink``, linking and
  unlinking identities;
- ``sessions``: ``POST /sessions/{id}/revoke`` and ``/sign-out``.

The handlers are plain ``def``: FastAPI runs them in its threadpool, so the
synchronous SQLite work of the store never blocks the event loop.
"""
