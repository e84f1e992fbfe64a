"""A server that answers like an old Redis, or a proxy in front of one, for the refusal tests.

``serve_as_old_redis`` answers PING with PONG, INFO with a Redis 6.0.9
server section and every other command (AUTH, HELLO, SELECT, ...) with
``+OK``: a HELLO answered that way is not the map redis-py 8 expects.
Run as a script (``python -m tests.fake_redis DIRECTORY...``), it imports
cross-auth-lite once, then for each directory (a redis-py release installed
there) serves one connection and opens a store against itself with that
redis-py first on ``sys.path``, in a child forked for it so that each
release is imported afresh; it prints what each ``lite.open`` raised, as a
JSON list: the version test runs every release that way, in one process.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

OLD_VERSION = "6.0.9"
PASSWORD = "hunter2"


def answer_as_old_redis(connection: socket.socket) -> None:
    """Reply to each command on ``connection`` as described above, until it closes."""
    pending = b""
    with connection:
        while data := connection.recv(65536):
            pending += data
            while pending.startswith(b"*"):
                lines = pending.split(b"\r\n")
                count = int(lines[0][1:])
                if len(lines) < 2 * count + 2:
                    break  # the rest of the command is still on its way
                pending = pending[sum(len(line) + 2 for line in lines[: 2 * count + 1]) :]
                command = lines[2].upper()
                if command == b"PING":
                    connection.sendall(b"+PONG\r\n")
                elif command == b"INFO":
                    info = b"# Server\r\nredis_version:%s\r\n" % OLD_VERSION.encode()
                    connection.sendall(b"$%d\r\n%s\r\n" % (len(info), info))
                else:
                    connection.sendall(b"+OK\r\n")


@contextlib.contextmanager
def old_redis(query: str = "") -> Iterator[str]:
    """A URL (with a password, and ``query`` after ``?``) of such a server, while it runs."""
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def serve() -> None:
            with contextlib.suppress(OSError):
                answer_as_old_redis(listener.accept()[0])

        server = threading.Thread(target=serve, daemon=True)
        server.start()
        port = listener.getsockname()[1]
        yield f"redis://:{PASSWORD}@127.0.0.1:{port}/0" + (f"?{query}" if query else "")
    server.join(timeout=10)


def _open_against_old_redis(query: str) -> dict[str, str]:
    import redis

    import cross_auth_lite as lite

    with tempfile.TemporaryDirectory() as directory, old_redis(query) as url:
        try:
            lite.open(Path(directory) / "store", secondary_url=url).close()
        except Exception as error:
            return {
                "redis": redis.__version__,
                "error": type(error).__name__,
                "message": str(error),
            }
    return {"redis": redis.__version__, "error": "", "message": ""}


def _in_child_under(directory: str) -> dict[str, str]:
    """``_open_against_old_redis("")`` with ``directory`` first on the path, in a fresh child.

    Forked where the platform can: cross-auth-lite is imported already and
    redis-py not yet, so the child imports only the release in ``directory``.
    """
    if not hasattr(os, "fork"):
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([directory, *sys.path])}
        ran = subprocess.run(
            [sys.executable, "-c", "import tests.fake_redis as f, json; "
             "print(json.dumps(f._open_against_old_redis('')))"],
            capture_output=True, text=True, timeout=60, check=True, env=env,
        )  # fmt: skip
        result: dict[str, str] = json.loads(ran.stdout)
        return result
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, whatever happens, and leave without cleaning up
        os.close(read)
        try:
            sys.path.insert(0, directory)
            report = _open_against_old_redis("")
        except BaseException as error:
            report = {"redis": "", "error": f"child failed: {type(error).__name__}",
                      "message": str(error)}  # fmt: skip
        with os.fdopen(write, "w") as out:
            out.write(json.dumps(report))
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        text = answer.read()
    os.waitpid(pid, 0)
    forked: dict[str, str] = json.loads(text)
    return forked


if __name__ == "__main__":
    import cross_auth_lite  # noqa: F401  (once, before any redis-py: each child imports its own)

    assert "redis" not in sys.modules, "cross-auth-lite imported redis-py before the children"
    print(json.dumps([_in_child_under(directory) for directory in sys.argv[1:]]))
