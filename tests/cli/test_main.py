"""The CLI's frame: options, the data directory, init/stats/purge/demo, and how errors look."""

from __future__ import annotations

import argparse
import io
import os
import shlex
import sqlite3
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from cross_auth_lite.cli import build_parser
from cross_auth_lite.cli.output import Progress
from cross_auth_lite.database.schema import SCHEMA_VERSION
from tests.test_cli_support import assert_one_line_error, run, seed

COMMANDS = ("init", "stats", "purge", "check", "users", "sessions", "export", "import", "demo")


# Parsing


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, None, "--help")
    assert result.code == 0
    for command in COMMANDS:
        assert f"    {command} " in result.out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, None, "--version")
    assert result.code == 0
    assert result.out.startswith("cross-auth-lite ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "COMMAND"),
        (("frobnicate",), "no such command (the word is not shown"),
        (("stat",), "no such command: did you mean 'stats'? Commands: init, stats,"),
        (("users", "creat"), "no such action: did you mean 'create'? Actions: list,"),
        (("users",), "ACTION"),
        (("users", "list", "--limit", "0"), "must be at least 1"),
        (("users", "list", "--limit", "ten"), "expected a whole number"),
        (("sessions", "list", "--status", "sleeping"), "invalid choice"),
        (("purge", "--older-than", "-1"), "between 0 and"),
        (("demo", "--port", "70000"), "between 0 and 65535"),
        (("init", "--bogus"), "unrecognised option --bogus (see 'cross-auth-lite init --help')"),
        (
            ("users", "list", "--limt", "5"),
            "unrecognised option --limt and 1 unexpected argument "
            "(see 'cross-auth-lite users list --help')",
        ),
        (
            ("export", "users.json"),
            "1 unexpected argument; to write to a file, give it with --output FILE "
            "(see 'cross-auth-lite export --help')",
        ),
        (("export", "--bogus"), "unrecognised option --bogus (see 'cross-auth-lite export"),
        (
            ("export", "--limit", "5"),
            "unrecognised option --limit and 1 unexpected argument (see 'cross-auth-lite export",
        ),
        (("import", ""), "argument FILE: the path is empty"),
        (("--data", "", "stats"), "argument --data: the path is empty"),
        (("--data", " ", "demo"), "argument --data: the path is empty"),
        (("demo", "--data", ""), "argument --data: the path is empty"),
        (("backup", ""), "argument DEST: the path is empty"),
        (("export", "--output", ""), "argument --output/-o: the path is empty"),
    ],
)
def test_usage_errors_are_one_line_with_status_2(
    capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    assert_one_line_error(run(capsys, None, *args), code=2, contains=message)


def test_a_mistyped_option_is_named_without_its_value(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "kAtLJz3W9qQm0xY8rVbN2cPdEfGhIjKlMnOpQrStUvw="
    for args in (("rotate-key", f"--kye={secret}"), ("stats", "--kye", secret)):
        result = run(capsys, None, *args)
        assert_one_line_error(result, code=2, contains="unrecognised option --kye")
        assert secret not in result.err + result.out


def test_a_mistyped_option_before_the_command_does_not_echo_its_value(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://ada:hunter2@db.example/auth"
    result = run(capsys, None, "--databse-url", url, "stats")

    assert_one_line_error(
        result,
        code=2,
        contains="unrecognised option --databse-url (the words after it are not shown",
    )
    assert "hunter2" not in result.err + result.out


def test_a_mistyped_option_with_no_command_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, None, "--bogus")
    assert_one_line_error(result, code=2, contains="unrecognised option --bogus, and no command")
    alone = run(capsys, None, "--json")  # a known option: only the command is missing
    assert_one_line_error(alone, code=2, contains="required: COMMAND")


def test_a_mistyped_option_abbreviating_another_is_not_taken_for_it(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    """``--password`` is not ``--password-stdin``: the password would be a stray argument."""
    result = run(capsys, data, "users", "create", "ada@example.com", "--password", "S3cret!")
    assert_one_line_error(result, code=2, contains="unrecognised option --password and 1")
    assert "S3cret!" not in result.err + result.out


def test_data_and_json_are_accepted_after_the_command(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    assert run(capsys, data, "init").code == 0
    result = run(capsys, None, "stats", "--data", str(data), "--json")
    assert result.code == 0
    assert result.json()["users"]["total"] == 0


def test_data_comes_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    monkeypatch.setenv("CROSS_AUTH_LITE_DATA", str(data))
    assert run(capsys, None, "init").code == 0
    assert (data / "accounts.sqlite3").is_file()


def test_data_defaults_to_var_auth(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("CROSS_AUTH_LITE_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, None, "init").code == 0
    assert (tmp_path / "var" / "auth" / "accounts.sqlite3").is_file()


URL_OPTIONS = [
    (
        "--database-url",
        "CROSS_AUTH_LITE_DATABASE_URL",
        "mysql://ada:hunter2@db.example/auth",
        "'mysql://ada:***@db.example/auth' is not supported: use a postgresql:// or "
        "postgres:// URL, or leave it out for SQLite in the store's directory",
        (("users", "list"), ("init",), ("check",), ("import", "-")),
    ),
    (
        "--secondary-url",
        "CROSS_AUTH_LITE_SECONDARY_URL",
        "memcached://ada:hunter2@cache.example:11211",
        "'memcached://ada:***@cache.example:11211' is not supported: use a redis://, ",
        (("users", "list"), ("init",), ("stats",)),
    ),
    (  # perhaps a password typed in the wrong place: never shown
        "--database-url",
        "CROSS_AUTH_LITE_DATABASE_URL",
        "hunter2",
        "is not a URL (its value is not shown, in case it is a password): use a postgresql://",
        (("users", "list"), ("init",), ("check",)),
    ),
    (
        "--secondary-url",
        "CROSS_AUTH_LITE_SECONDARY_URL",
        "hunter2",
        "is not a URL (its value is not shown, in case it is a password): use a redis://",
        (("stats",),),
    ),
]


@pytest.mark.parametrize(
    ("option", "variable", "url", "message", "commands"),
    URL_OPTIONS,
    ids=[f"{option}-{url.partition(':')[0]}" for option, _, url, *_ in URL_OPTIONS],
)
def test_an_unsupported_url_is_named_as_the_user_gave_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    option: str,
    variable: str,
    url: str,
    message: str,
    commands: tuple[tuple[str, ...], ...],
) -> None:
    export = '{"format": "cross-auth-lite-export", "version": 1, "users": []}'
    for command in commands:
        for args in ((option, url, *command), (*command, option, url)):
            monkeypatch.setattr(sys, "stdin", io.StringIO(export))
            result = run(capsys, data, *args)
            assert_one_line_error(result, contains=f"cross-auth-lite: error: {option} {message}")
            assert "hunter2" not in result.err
    monkeypatch.setenv(variable, url)
    result = run(capsys, data, *commands[0])
    assert_one_line_error(result, contains=f"cross-auth-lite: error: ${variable} {message}")
    assert not data.exists()


MALFORMED_URLS = [
    (
        "--database-url",
        "postgresql://ada:hunter2@[::1",
        "'postgresql://ada:***@[::1' is malformed: an IPv6 address in it has no closing ']'",
    ),
    (
        "--database-url",
        "postgresql://ada:hun%ZZter2@127.0.0.1:1/auth",
        "'postgresql://ada:***@127.0.0.1:1/auth' is malformed: it has a '%' that starts no "
        "percent-encoded byte (%XX): write a '%' as %25",
    ),
    (
        "--database-url",
        "host=127.0.0.1 port=1 password=hunter2",
        "'host=127.0.0.1 port=1 password=***' is not supported: use a postgresql://",
    ),
    (
        "--secondary-url",
        "redis://:hunter2@127.0.0.1:abc/0",
        "'redis://:***@127.0.0.1:abc/0' is malformed: its port is not a number",
    ),
    (
        "--secondary-url",
        "redis://:hunter2@[::1",
        "'redis://:***@[::1' is malformed: an IPv6 address in it has no closing ']'",
    ),
]


@pytest.mark.parametrize(("option", "url", "message"), MALFORMED_URLS)
def test_a_malformed_url_is_named_with_its_option_and_without_its_password(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    option: str,
    url: str,
    message: str,
) -> None:
    seed(data)
    for args in ((option, url, "stats"), ("users", "list", option, url)):
        result = run(capsys, data, *args)
        assert_one_line_error(result, contains=f"cross-auth-lite: error: {option} {message}")
        assert "hunter2" not in result.err
        assert "ter2" not in result.err
    variable = f"$CROSS_AUTH_LITE_{option[2:].replace('-', '_').upper()}"
    monkeypatch.setenv(variable[1:], url)
    result = run(capsys, data, "stats")
    assert_one_line_error(result, contains=f"cross-auth-lite: error: {variable} {message}")
    assert "ter2" not in result.err


# init


def test_init_creates_a_private_store_and_says_where(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    result = run(capsys, data, "init")
    assert result.code == 0
    assert str(data.absolute()) in result.out
    assert "exclusive connections" in result.out
    assert (data.stat().st_mode & 0o777) == 0o700
    assert ((data / "accounts.sqlite3").stat().st_mode & 0o777) == 0o600


def test_init_twice_changes_nothing(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    assert run(capsys, data, "--json", "init").json()["created"] is True
    again = run(capsys, data, "--json", "init")
    assert again.code == 0
    assert again.json() == {
        "path": str(data.absolute()),
        "created": False,
        "schema_version": SCHEMA_VERSION,
        "connections": "exclusive",
    }


def test_shared_store_is_reopened_shared_without_the_flag(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    result = run(capsys, data, "init", "--shared-connections", "--json")
    assert result.json()["connections"] == "shared"
    # Opening it exclusive would fail with a SchemaError: the CLI reads lite_meta first.
    stats = run(capsys, data, "stats", "--json")
    assert stats.code == 0
    assert stats.json()["connections"] == "shared"


def test_init_refuses_to_change_the_connection_mode(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    run(capsys, data, "init")
    result = run(capsys, data, "init", "--shared-connections")
    assert_one_line_error(result, contains="exclusive connections")


def test_init_names_the_connection_mode_by_its_flag(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    run(capsys, data, "init")
    result = run(capsys, data, "init", "--shared-connections")
    assert_one_line_error(
        result,
        contains=f"{data / 'accounts.sqlite3'} was created without --shared-connections "
        "(exclusive connections), which is fixed when a store is created: run init without "
        "the flag",
    )
    assert "shared_connections=" not in result.err


def test_init_where_no_directory_can_be(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert_one_line_error(run(capsys, blocker / "store", "init"), contains="cannot create")
    assert_one_line_error(run(capsys, blocker, "init"), contains="not a directory")


# Missing and broken stores


@pytest.mark.parametrize(
    "command",
    [
        ("stats",),
        ("purge",),
        ("users", "list"),
        ("users", "show", "1"),
        ("sessions", "list"),
        ("export",),
        ("check",),
    ],
)
def test_commands_other_than_init_need_a_store(
    capsys: pytest.CaptureFixture[str], data: Path, command: tuple[str, ...]
) -> None:
    assert_one_line_error(run(capsys, data, *command), contains="no store at")
    assert not data.exists()  # nothing was created on the way


@pytest.mark.parametrize("name", ["store", "my store", "it's"])
def test_the_init_a_missing_store_points_to_creates_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    name: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    data = Path("nope") / name
    for command in (("stats",), ("check",), ("users", "list")):
        result = run(capsys, data, *command)
        hint = f"create one with: cross-auth-lite --data {shlex.quote(str(data))} init"
        assert_one_line_error(result, contains=hint)
        assert result.err.rstrip().endswith(hint)

    init = shlex.split(result.err.rstrip().rpartition("create one with: ")[2])
    assert init[0] == "cross-auth-lite"
    assert run(capsys, None, *init[1:]).code == 0
    assert run(capsys, data, "stats").code == 0
    assert not (tmp_path / "var").exists()  # not the default directory


def test_a_directory_of_other_files_is_not_offered_to_init(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    directory = tmp_path / "notastore"
    directory.mkdir()
    (directory / "notes.txt").write_text("mine")
    for command in (("stats",), ("check",)):
        result = run(capsys, directory, *command)
        assert_one_line_error(
            result,
            contains=f"{directory} holds something other than a store, so init would not "
            "create one there either: point --data or $CROSS_AUTH_LITE_DATA at the store's "
            "directory, or at a new or empty one",
        )
        assert "create one with" not in result.err
    assert sorted(path.name for path in directory.iterdir()) == ["notes.txt"]


def test_data_dir_that_is_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    assert_one_line_error(run(capsys, file, "stats"), contains="is not a directory")


def test_database_without_meta_is_not_a_store(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    data.mkdir()
    sqlite3.connect(data / "accounts.sqlite3").execute("CREATE TABLE other (x)").connection.close()
    assert_one_line_error(run(capsys, data, "stats"), contains="no lite_meta table")


def test_corrupt_accounts_database_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    seed(data)
    (data / "accounts.sqlite3").write_bytes(b"this is not a database\n" * 200)
    for command in (("stats",), ("users", "list"), ("export",), ("init",)):
        result = run(capsys, data, *command)
        assert_one_line_error(result, contains="not a usable SQLite database")


def test_corrupt_cache_database_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    seed(data)
    (data / "cache" / "cache.db").write_bytes(b"garbage" * 1000)
    assert_one_line_error(run(capsys, data, "stats"), contains="database")


def test_future_schema_is_a_one_line_error(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    seed(data)
    with sqlite3.connect(data / "accounts.sqlite3") as connection:
        connection.execute("UPDATE lite_meta SET value = '99' WHERE key = 'schema_version'")
    connection.close()
    assert_one_line_error(run(capsys, data, "users", "list"), contains="schema version 99")


# stats


def test_stats_counts_everything(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    seed(data)
    stats = run(capsys, data, "stats", "--json").json()
    assert stats["path"] == str(data.absolute())
    assert stats["schema_version"] == SCHEMA_VERSION
    assert stats["users"] == {"total": 3, "email_verified": 1, "with_password": 1}
    assert stats["social_accounts"] == {"total": 3, "by_provider": {"github": 2, "google": 1}}
    assert stats["sessions"] == {"total": 5, "active": 2, "expired": 2, "revoked": 1}
    assert stats["cache"] == {"live_entries": 1, "stored_entries": 2}
    sizes = stats["files"]["bytes"]
    assert sizes["accounts.sqlite3"] > 0
    assert sizes["cache/cache.db"] > 0
    assert stats["files"]["total_bytes"] == sum(sizes.values())


def test_stats_for_people(capsys: pytest.CaptureFixture[str], data: Path) -> None:
    seed(data)
    result = run(capsys, data, "stats")
    assert result.code == 0
    assert "3 (1 verified, 1 with a password)" in result.out
    assert "5 (2 active, 2 expired, 1 revoked)" in result.out
    assert "  github" in result.out
    assert "KiB" in result.out


# purge


def test_purge_removes_expired_cache_entries_and_long_dead_sessions(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    seed(data)
    result = run(capsys, data, "purge", "--json")
    assert result.code == 0
    assert result.json() == {"cache_entries": 1, "sessions": 1, "older_than_days": 30.0}
    stats = run(capsys, data, "stats", "--json").json()
    assert stats["sessions"]["total"] == 4
    assert stats["cache"]["stored_entries"] == 1
    again = run(capsys, data, "purge")
    assert again.out.splitlines() == [
        "purged 0 expired cache entries",
        "purged 0 sessions that ended more than 30 days ago",
    ]


def test_purge_older_than_zero_removes_every_ended_session(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    seed(data)
    result = run(capsys, data, "purge", "--older-than", "0", "--json")
    assert result.json()["sessions"] == 3  # expired, revoked, long dead
    assert run(capsys, data, "stats", "--json").json()["sessions"]["active"] == 2


# demo


def test_demo_without_its_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    monkeypatch.setitem(sys.modules, "cross_auth_lite.demo", None)  # makes the import fail
    result = run(capsys, data, "demo")
    assert_one_line_error(result, contains="pip install 'cross-auth-lite[demo]'")


def test_demo_runs_the_demo_module(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    calls: list[dict[str, Any]] = []
    fake = types.ModuleType("cross_auth_lite.demo")
    fake.run = lambda **kwargs: calls.append(kwargs)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cross_auth_lite.demo", fake)
    assert run(capsys, data, "demo", "--host", "0.0.0.0", "--port", "9000").code == 0
    assert calls == [
        {"data_dir": data, "host": "0.0.0.0", "port": 9000, "base_url": None, "workers": 1}
    ]
    assert run(capsys, data, "demo").code == 0
    assert calls[-1] == {
        "data_dir": data,
        "host": "127.0.0.1",
        "port": 8000,
        "base_url": None,
        "workers": 1,
    }
    args = ("demo", "--data", str(data), "--workers", "3", "--base-url", "https://d.example")
    assert run(capsys, None, *args).code == 0
    assert calls[-1] == {
        "data_dir": data,
        "host": "127.0.0.1",
        "port": 8000,
        "base_url": "https://d.example",
        "workers": 3,
    }
    # The demo's own default directory, as for python -m cross_auth_lite.demo.
    assert run(capsys, None, "demo").code == 0
    assert calls[-1]["data_dir"] == Path("var/demo")


def test_demo_missing_a_package_it_imports_late(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    def run_without_uvicorn(**kwargs: Any) -> None:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    fake = types.ModuleType("cross_auth_lite.demo")
    fake.run = run_without_uvicorn  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cross_auth_lite.demo", fake)
    result = run(capsys, data, "demo")
    assert_one_line_error(result, contains="no module 'uvicorn'")
    assert "pip install 'cross-auth-lite[demo]'" in result.err


# Failures while running


def test_interrupt_exits_130(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    seed(data)

    def interrupted(store: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(lite.admin, "store_stats", interrupted)
    assert_one_line_error(run(capsys, data, "stats"), code=130, contains="interrupted")


def test_unexpected_errors_are_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    seed(data)

    def broken(store: Any) -> Any:
        raise RuntimeError("boom\nand more")

    monkeypatch.setattr(lite.admin, "store_stats", broken)
    result = run(capsys, data, "stats")
    assert_one_line_error(result, contains="unexpected RuntimeError: boom and more")
    monkeypatch.setenv("CROSS_AUTH_LITE_DEBUG", "1")
    with pytest.raises(RuntimeError):
        run(capsys, data, "stats")


def test_a_closed_pipe_ends_quietly(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    seed(data)

    class ClosedPipe(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    code = run(capsys, data, "users", "list").code
    monkeypatch.undo()
    assert code == 141
    assert capsys.readouterr().err == ""


# Progress


def test_progress_is_drawn_on_a_terminal_and_erased(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Progress, "INTERVAL", 0.0)
    stream = io.StringIO()
    with Progress("exporting", total=4, stream=stream, enabled=True) as progress:
        for _ in progress.track(range(4)):
            pass
    text = stream.getvalue()
    assert "exporting [" in text
    assert "4/4" in text
    assert text.endswith("\r\x1b[K")


def test_progress_stays_silent_off_a_terminal(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, data: Path
) -> None:
    monkeypatch.setattr(Progress, "INTERVAL", 0.0)
    seed(data)
    assert run(capsys, data, "export").err == ""
    stream = io.StringIO()
    with Progress("x", total=1, stream=stream) as progress:  # StringIO is no terminal
        progress.advance()
    assert stream.getvalue() == ""


def test_permissions_of_new_files_do_not_depend_on_umask(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    old = os.umask(0o022)
    try:
        assert run(capsys, data, "init").code == 0
    finally:
        os.umask(old)
    assert run(capsys, data, "check").code == 0


def _commands(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield (*words, name), command
                yield from _commands(command, (*words, name))


def test_every_command_is_described_in_sentences_and_every_argument_explained() -> None:
    found = list(_commands(build_parser()))
    assert len(found) > 15
    for words, command in found:
        description = command.description or ""
        assert description[:1].isupper(), (words, description)
        assert description.endswith("."), (words, description)
        for action in command._actions:
            if not action.option_strings and not isinstance(action, argparse._SubParsersAction):
                assert action.help, (words, action.metavar or action.dest)


@pytest.mark.parametrize("existing", [False, True])
def test_a_failed_init_leaves_nothing_it_made_behind(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, existing: bool
) -> None:
    pytest.importorskip("psycopg")
    data = tmp_path / "var" / "auth"
    if existing:
        data.mkdir(parents=True)
    unreachable = "postgresql://ada@127.0.0.1:1/auth"  # nothing listens on port 1
    result = run(capsys, data, "--database-url", unreachable, "init")
    assert_one_line_error(result, contains="cannot use PostgreSQL at")
    if existing:
        assert list(data.iterdir()) == []  # the directory given is kept, cache/ is gone
    else:
        assert list(tmp_path.iterdir()) == []  # var/ and var/auth/ are gone
