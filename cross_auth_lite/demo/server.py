"""``run()``: serve the demo on a store in a data directory.

One worker is uvicorn in this process; ``workers > 1`` is gunicorn with that
many uvicorn worker processes (``workers.py``). Either way the port is bound
and listening before the URL is printed, and Ctrl+C or SIGTERM stops the
server cleanly and returns.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

import cross_auth_lite as lite
from cross_auth_lite.demo import access_log
from cross_auth_lite.demo.app import create_app
from cross_auth_lite.demo.errors import ListenError, ServeError
from cross_auth_lite.demo.options import (
    DEFAULT_DATA_DIR,
    DEFAULT_HOST,
    DEFAULT_PORT,
    DEFAULT_WORKERS,
)

__all__ = [
    "CREATED_MARKER",
    "DEFAULT_DATA_DIR",
    "ListenError",
    "ServeError",
    "browser_url",
    "open_data_dir",
    "run",
]

#: The file the demo leaves in a data directory it created itself, so that
#: ``make clean`` removes that directory and never one the user made.
CREATED_MARKER = ".created-by-demo"
_MARKER_TEXT = "This directory was created by the cross-auth-lite demo; `make clean` removes it.\n"


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except OSError as error:
        raise ListenError(f"cannot listen on {host}:{port}: {error}") from error
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        # Listening now means a client that reads the printed URL can connect
        # at once: it waits in the backlog until uvicorn starts accepting.
        sock.listen(128)
    except OSError as error:
        sock.close()
        hint = ""
        if error.errno == errno.EADDRINUSE:
            other = port + 1 if 0 < port < 65535 else 8001
            hint = (
                "; another server is using it: stop it or choose another port with "
                f"--port (make demo PORT={other})"
            )
        raise ListenError(f"cannot listen on {host}:{port}: {error}{hint}") from error
    return sock


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that ``run()`` can clean up and return."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextlib.contextmanager
def _stop_quietly() -> Iterator[None]:
    # uvicorn handles SIGINT/SIGTERM itself: it shuts down gracefully, restores
    # the previous handlers and then raises the signal again. With Python's
    # defaults SIGINT becomes KeyboardInterrupt but SIGTERM kills the process
    # on the spot, before the store is closed. Both become exceptions here,
    # caught once uvicorn is done, so run() closes the store and returns.
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main else None
    try:
        yield
    except (KeyboardInterrupt, _Terminated):
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def open_data_dir(data_dir: str | os.PathLike[str]) -> lite.LiteStore:
    """``lite.open(data_dir)``; a directory this creates gets ``CREATED_MARKER``."""
    new_directory = not Path(data_dir).expanduser().exists()
    store = lite.open(data_dir)
    if new_directory:
        try:
            with lite.private_output(Path(store.location) / CREATED_MARKER) as stream:
                stream.write(_MARKER_TEXT)  # 0600, as `check` wants every file of a store
        except BaseException:
            store.close()
            raise
    return store


def browser_url(host: str, port: int) -> str:
    """The URL to open for a server bound to ``host``: wildcards become loopback."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    try:
        if ipaddress.ip_address(host).version == 6:
            host = f"[{host}]"
    except ValueError:
        pass  # a host name
    return f"http://{host}:{port}"


def _banner(url: str, data: Path, workers: int, out: TextIO) -> None:
    processes = "" if workers == 1 else f"  workers  {workers} processes (gunicorn)\n"
    print(
        f"cross-auth-lite demo\n  open  {url}/\n  data  {data}\n{processes}Press Ctrl+C to stop.",
        file=out,
        flush=True,
    )


def run(
    *,
    data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    base_url: str | None = None,
    workers: int = DEFAULT_WORKERS,
    out: TextIO | None = None,
) -> None:
    """Serve the demo on the store in ``data_dir``; return after Ctrl+C or SIGTERM.

    The directory is created if needed (and then marked with
    ``CREATED_MARKER``) and keeps everything between runs; the
    ``cross-auth-lite`` command reads the same directory. ``port=0``
    picks a free port. The URL to open and the data directory are printed
    to ``out`` (standard output) once the port is listening. ``base_url``
    overrides the URL browsers use (e.g. behind a proxy, or for
    ``--host 0.0.0.0`` reached from another machine). ``workers`` above 1
    serves with gunicorn and that many worker processes, each with its own
    store on ``data_dir``. Raises ``ListenError`` if the port cannot be
    bound, ``ServeError`` if the worker processes fail.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    # The [demo] extra; imported before binding so that a missing one fails first.
    import uvicorn

    if workers > 1:
        from cross_auth_lite.demo.workers import serve_workers

    out = sys.stdout if out is None else out
    sock = _bind(host, port)
    try:
        url = (base_url or browser_url(host, sock.getsockname()[1])).rstrip("/")
        store = open_data_dir(data_dir)  # creates the store once, before any worker opens it
        try:
            data = Path(store.location).resolve()
            if workers > 1:
                store.close()
                _banner(url, data, workers, out)
                with _stop_quietly():  # until gunicorn's master installs its own handlers
                    serve_workers(
                        sock,
                        data_dir=data,
                        base_url=url,
                        client_secret=secrets.token_urlsafe(24),
                        workers=workers,
                    )
                return
            app = create_app(store, base_url=url)
            _banner(url, data, workers, out)
            config = uvicorn.Config(app, log_level="info", timeout_graceful_shutdown=5, workers=1)
            access_log.install()  # after Config, which sets up uvicorn's loggers
            with _stop_quietly():
                uvicorn.Server(config).run(sockets=[sock])
        finally:
            store.close()
    finally:
        sock.close()
