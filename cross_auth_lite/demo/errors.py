"""Why the demo server could not run: one-line messages for both entry points."""

from __future__ import annotations

__all__ = ["ListenError", "ServeError"]


class ServeError(OSError):
    """The demo server could not start, or stopped with an error."""


class ListenError(ServeError):
    """The demo could not listen on the requested host and port."""
