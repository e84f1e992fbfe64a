"""A throwaway PostgreSQL server for the test suite.

``PostgresServer.start()`` runs Debian's ``initdb`` and ``pg_ctl`` (found under
``/usr/lib/postgresql/*/bin``, on ``PATH``, or in ``$CROSS_AUTH_LITE_PG_BINDIR``)
in a new temporary directory, on a free loopback port, with durability turned
off: it lives for one test session. PostgreSQL refuses to run as root, so when
the tests run as root (as CI does) the server runs as the ``postgres`` user (or
``nobody``) instead.

Each test gets its own schema in one database (``new_schema``), which is much
faster than a database per test; the store reaches it through the URL's
``options=-csearch_path=...``.

``$CROSS_AUTH_LITE_TEST_POSTGRES_URL`` points the tests at a server you already
run instead (a database they may create and drop schemas in). With
``$CROSS_AUTH_LITE_REQUIRE_SERVERS=1`` a missing server fails the tests that
need it instead of skipping them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

#: Use this PostgreSQL server (a database URL) instead of starting one.
URL_ENV = "CROSS_AUTH_LITE_TEST_POSTGRES_URL"
#: The directory holding ``initdb`` and ``pg_ctl``, if not a Debian default.
BINDIR_ENV = "CROSS_AUTH_LITE_PG_BINDIR"
#: Set to 1 to fail, not skip, the tests whose server cannot run here.
REQUIRE_ENV = "CROSS_AUTH_LITE_REQUIRE_SERVERS"
DATABASE = "cross_auth_lite_tests"

_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "300",
    "shared_buffers": "'64MB'",
    "log_min_messages": "warning",
    "lc_messages": "'C'",
}


def find_bindir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` are, or ``None``."""
    configured = os.environ.get(BINDIR_ENV)
    if configured:  # an explicit choice, used alone
        found = Path(configured)
        return found if (found / "initdb").is_file() and (found / "pg_ctl").is_file() else None
    candidates: list[Path] = []
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda path: _version_key(path.parent.name),
        reverse=True,
    )
    candidates += versions
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    return None


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def driver_missing() -> str | None:
    """Why the PostgreSQL driver cannot be used, or ``None``."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        return "psycopg is not installed (pip install 'cross-auth-lite[postgres]')"
    return None


def unavailable() -> str | None:
    """Why the PostgreSQL tests cannot run here, or ``None`` when they can."""
    missing = driver_missing()
    if missing:
        return missing
    if os.environ.get(URL_ENV):
        return None
    if find_bindir() is None:
        return (
            "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
            f"postgresql package, or set {BINDIR_ENV} or {URL_ENV}"
        )
    return None


def skip_or_fail(reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail it instead when ``$CROSS_AUTH_LITE_REQUIRE_SERVERS``."""
    if os.environ.get(REQUIRE_ENV, "") not in ("", "0"):
        pytest.fail(f"{reason} (and ${REQUIRE_ENV} is set)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_user() -> pwd.struct_passwd | None:
    """The account to run the server as when we are root; ``None`` when not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    raise RuntimeError("running as root, and there is no postgres or nobody user to run as")


class PostgresServer:
    """A PostgreSQL server the tests may create schemas in."""

    def __init__(
        self, base_url: str, *, directory: Path | None = None, bindir: Path | None = None
    ):
        #: URL of the test database, without a schema.
        self.base_url = base_url
        self._directory = directory
        self._bindir = bindir
        self._names = itertools.count(1)
        self._admin: Any = None

    # Starting and stopping

    @classmethod
    def start(cls) -> PostgresServer:
        """Use ``$CROSS_AUTH_LITE_TEST_POSTGRES_URL``, or start a server of our own."""
        external = os.environ.get(URL_ENV)
        if external:
            return cls(external)
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(unavailable() or "no PostgreSQL binaries")
        user = _server_user()
        # The server's own user must reach the directory: under /tmp when we are root.
        parent = "/tmp" if user is not None and Path("/tmp").is_dir() else None
        directory = Path(tempfile.mkdtemp(prefix="cross-auth-lite-pg-", dir=parent))
        try:
            if user is not None:
                os.chown(directory, user.pw_uid, user.pw_gid)
            data = directory / "data"
            log = directory / "server.log"
            cls._run(
                user,
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--no-sync",
                    "--no-locale",
                    "-E",
                    "UTF8",
                ],
            )
            with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.writelines(f"{key} = {value}\n" for key, value in _SETTINGS.items())
            port = cls._start_on_a_free_port(user, bindir, data, log)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
        server = cls(
            f"postgresql://postgres@127.0.0.1:{port}/{DATABASE}",
            directory=directory,
            bindir=bindir,
        )
        try:
            with server._connect(f"postgresql://postgres@127.0.0.1:{port}/postgres") as admin:
                admin.execute(f"CREATE DATABASE {DATABASE}")
        except BaseException:
            server.stop()
            raise
        return server

    @classmethod
    def _start_on_a_free_port(
        cls, user: pwd.struct_passwd | None, bindir: Path, data: Path, log: Path
    ) -> int:
        for attempt in range(3):
            port = free_port()
            try:
                cls._run(
                    user,
                    [
                        str(bindir / "pg_ctl"),
                        "-D",
                        str(data),
                        "-l",
                        str(log),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        f"-p {port}",
                        "start",
                    ],
                )
            except RuntimeError:
                if attempt == 2:
                    raise
                continue  # someone took the port in between: try another
            return port
        raise AssertionError("unreachable")

    @staticmethod
    def _run(user: pwd.struct_passwd | None, command: list[str]) -> None:
        options: dict[str, Any] = {}
        if user is not None:
            options = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd="/",
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            **options,
        )
        if result.returncode != 0:
            log = Path(command[command.index("-l") + 1]) if "-l" in command else None
            server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(
                f"{Path(command[0]).name} failed ({result.returncode}): "
                f"{result.stdout[-2000:]}{result.stderr[-2000:]}{server_log}"
            )

    def stop(self) -> None:
        """Close our connection; stop and remove a server we started."""
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        if self._directory is None or self._bindir is None:
            return
        with contextlib.suppress(Exception):
            self._run(
                _server_user(),
                [
                    str(self._bindir / "pg_ctl"),
                    "-D",
                    str(self._directory / "data"),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                ],
            )
        shutil.rmtree(self._directory, ignore_errors=True)
        self._directory = None

    # Schemas, one per test

    @staticmethod
    def _connect(url: str) -> Any:
        import psycopg

        return psycopg.connect(url, autocommit=True)

    def _admin_connection(self) -> Any:
        if self._admin is None or self._admin.closed:
            self._admin = self._connect(self.base_url)
            self._admin.execute("SET lock_timeout = '10s'")
        return self._admin

    def new_schema(self) -> str:
        """Create an empty schema; return its name."""
        name = f"t{os.getpid()}_{next(self._names)}"
        self._admin_connection().execute(f'CREATE SCHEMA "{name}"')
        return name

    def drop_schema(self, name: str) -> None:
        """Drop a schema and everything in it (left in place if something still locks it)."""
        with contextlib.suppress(Exception):
            self._admin_connection().execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def url(self, schema: str) -> str:
        """The database URL whose tables live in ``schema``."""
        return with_search_path(self.base_url, schema)

    @contextlib.contextmanager
    def schema_url(self) -> Iterator[str]:
        """A new schema's URL for the block; the schema is dropped afterwards."""
        name = self.new_schema()
        try:
            yield self.url(name)
        finally:
            self.drop_schema(name)


def with_search_path(url: str, schema: str) -> str:
    """``url`` with ``options=-csearch_path=schema`` added to its query string."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = [(key, value) for key, value in query if key != "options"]
    query.append(("options", f"-csearch_path={schema}"))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
