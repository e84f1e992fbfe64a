"""A throwaway ``redis-server`` on loopback for the Redis column.

``local_redis()`` starts the server on a free 127.0.0.1 port with
persistence off (``--save '' --appendonly no``) and its working directory in
a temporary directory, yields its URL, and always stops it and removes the
directory, even when the benchmark fails. It yields ``None`` (and a reason)
when there is no ``redis-server`` binary or no redis-py to talk to it.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LocalRedis", "local_redis"]

START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class LocalRedis:
    """A running server (``url`` set) or the reason there is none (``skipped`` set)."""

    url: str | None = None
    version: str | None = None
    skipped: str | None = None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.5)
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    try:
        while True:
            if process.poll() is not None:
                detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server exited with {process.returncode}: {detail}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT_SECONDS}s")
            time.sleep(0.05)
    finally:
        client.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _version(binary: str) -> str:
    result = subprocess.run([binary, "--version"], capture_output=True, text=True, check=False)
    for part in result.stdout.split():
        if part.startswith("v="):
            return part[2:]
    return result.stdout.strip()


@contextlib.contextmanager
def local_redis() -> Iterator[LocalRedis]:
    """Run a private ``redis-server`` for the duration of the ``with`` block."""
    binary = shutil.which("redis-server")
    if binary is None:
        yield LocalRedis(skipped="no redis-server on PATH")
        return
    try:
        import redis  # noqa: F401
    except ImportError:
        yield LocalRedis(skipped="redis-py is not installed")
        return
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as directory:
        log = Path(directory) / "redis.log"
        process: subprocess.Popen[bytes] | None = None
        try:
            for attempt in range(3):  # another process may take the port first
                port = _free_port()
                args = [binary, "--bind", "127.0.0.1", "--port", str(port)]
                args += ["--save", "", "--appendonly", "no", "--dir", directory]
                args += ["--daemonize", "no", "--logfile", str(log), "--loglevel", "warning"]
                process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
                try:
                    _wait_ready(process, port, log)
                    break
                except RuntimeError:
                    _stop(process)
                    if attempt == 2:
                        raise
            yield LocalRedis(url=f"redis://127.0.0.1:{port}/0", version=_version(binary))
        finally:
            if process is not None:
                _stop(process)
