"""Serve the demo from several processes: gunicorn's master with uvicorn workers.

``serve_workers`` runs gunicorn programmatically (``BaseApplication``) on a
socket that ``run()`` already bound and listens on, handed over as
``fd://N``. The app is not preloaded: each worker, after the fork, opens its
own store on the data directory and builds its own app, and closes the store
when it exits. What the workers must agree on is shared: the store directory
(users, sessions, Cross-Auth's OAuth state and the development provider's
codes, all on disk) and the development provider's client secret, chosen
once by the master. A sign-in may thus start on one worker and finish on
another.

Access lines are prefixed with the worker's pid (which worker served the
request) and go through ``access_log.QueryValuesFilter``.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter

import cross_auth_lite as lite
from cross_auth_lite.demo import access_log
from cross_auth_lite.demo.app import create_app
from cross_auth_lite.demo.errors import ServeError

__all__ = ["serve_workers"]

#: Seconds a worker gets to finish its requests on SIGTERM.
GRACEFUL_TIMEOUT = 5
_ACCESS_FORMAT = "[%(process)d] %(message)s"


class _Arbiter(Arbiter):  # type: ignore[misc]  # gunicorn is untyped
    def handle_int(self) -> None:
        # gunicorn's quick stop on SIGINT sends the workers SIGQUIT, which
        # uvicorn workers only note, so they would be killed after the
        # graceful timeout; stop gracefully (SIGTERM), as uvicorn does on Ctrl+C.
        self.handle_term()


class _DemoApplication(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    def __init__(
        self,
        *,
        fd: int,
        data_dir: Path,
        base_url: str,
        client_secret: str,
        workers: int,
    ) -> None:
        self._settings: dict[str, Any] = {
            "bind": [f"fd://{fd}"],
            "workers": workers,
            "worker_class": "uvicorn_worker.UvicornWorker",
            "graceful_timeout": GRACEFUL_TIMEOUT,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "cross-auth-lite-demo",
            "worker_exit": _close_worker_store,
            # gunicorn >= 24 opens a control socket by default; the demo has no use for it.
            "control_socket_disable": True,
        }
        self._data_dir = data_dir
        self._base_url = base_url
        self._client_secret = client_secret
        self.store: lite.LiteStore | None = None
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._settings.items():
            if name in self.cfg.settings:  # settings newer than the installed gunicorn are skipped
                self.cfg.set(name, value)

    def load(self) -> Any:
        # In the worker, after the fork: a store (and its connections) of its own.
        access_log.install()
        for handler in logging.getLogger(access_log.ACCESS_LOGGER).handlers:
            handler.setFormatter(logging.Formatter(_ACCESS_FORMAT))
        self.store = lite.open(self._data_dir)
        return create_app(self.store, base_url=self._base_url, client_secret=self._client_secret)

    def run(self) -> None:
        _Arbiter(self).run()

    def close_store(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None


def _close_worker_store(server: Any, worker: Any) -> None:
    worker.app.close_store()


def serve_workers(
    sock: socket.socket, *, data_dir: Path, base_url: str, client_secret: str, workers: int
) -> None:
    """Serve on the listening ``sock`` with ``workers`` processes until SIGINT or SIGTERM.

    Takes ownership of ``sock``. Returns after a clean stop; raises
    ``ServeError`` if gunicorn stopped with an error (a worker could not boot).
    """
    fd = sock.detach()  # gunicorn wraps the descriptor, and closes it when done
    application = _DemoApplication(
        fd=fd,
        data_dir=data_dir,
        base_url=base_url,
        client_secret=client_secret,
        workers=workers,
    )
    try:
        application.run()
    except SystemExit as stop:  # gunicorn's master ends with sys.exit(status)
        if stop.code not in (0, None):
            raise ServeError(
                f"the demo's worker processes stopped with status {stop.code} (see the log above)"
            ) from None
