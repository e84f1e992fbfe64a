"""``run()``: serve the demo with uvicorn on a store in a data directory."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TextIO

import cross_auth_lite
from cross_auth_lite.demo.app import create_app

__all__ = ["DEFAULT_DATA_DIR", "ListenError", "browser_url", "run"]

#: Where the demo keeps its store unless told otherwise.
DEFAULT_DATA_DIR = "var/demo"


class ListenError(OSError):
    """The demo could not listen on the requested host and port."""


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
        raise ListenError(f"cannot listen on {host}:{port}: {error}") from error
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


def run(
    *,
    data_dir: str | os.PathLike[str] = DEFAULT_DATA_DIR,
    host: str = "127.0.0.1",
    port: int = 8000,
    base_url: str | None = None,
    out: TextIO | None = None,
) -> None:
    """Serve the demo on the store in ``data_dir``; return after Ctrl+C or SIGTERM.

    The directory is created if needed and keeps everything between runs;
    the ``cross-auth-lite`` command reads the same directory. ``port=0``
    picks a free port. The URL to open and the data directory are printed
    to ``out`` (standard output) once the port is listening. ``base_url``
    overrides the URL browsers use (e.g. behind a proxy, or for
    ``--host 0.0.0.0`` reached from another machine). Raises
    ``ListenError`` if the port cannot be bound.
    """
    import uvicorn  # the [demo] extra; imported here so create_app works without it

    out = sys.stdout if out is None else out
    sock = _bind(host, port)
    try:
        url = (base_url or browser_url(host, sock.getsockname()[1])).rstrip("/")
        store = cross_auth_lite.open(data_dir)
        try:
            app = create_app(store, base_url=url)
            print(
                "cross-auth-lite demo\n"
                f"  open  {url}/\n"
                f"  data  {Path(store.path).resolve()}\n"
                "Press Ctrl+C to stop.",
                file=out,
                flush=True,
            )
            config = uvicorn.Config(
                app,
                log_level="info",
                timeout_graceful_shutdown=5,
                # One process: the store is opened here and the development
                # provider keeps its codes in memory.
                workers=1,
            )
            with _stop_quietly():
                uvicorn.Server(config).run(sockets=[sock])
        finally:
            store.close()
    finally:
        sock.close()
