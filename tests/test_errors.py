"""One root for every exception: each is a LiteError, exported, and keeps its usual base."""

from __future__ import annotations

import ast
import inspect
import pickle
import re
import sqlite3
from pathlib import Path

import pytest

import cross_auth_lite as lite
from cross_auth_lite import errors


def exception_classes() -> list[type[BaseException]]:
    return [
        value
        for name in errors.__all__
        if inspect.isclass(value := getattr(errors, name)) and issubclass(value, BaseException)
    ]


def test_every_exception_is_a_lite_error_exported_from_the_package() -> None:
    classes = exception_classes()
    assert len(classes) >= 15
    for cls in classes:
        assert issubclass(cls, lite.LiteError), cls
        assert getattr(lite, cls.__name__) is cls, cls
        assert cls.__name__ in lite.__all__
        assert cls.__doc__, cls


def test_no_exception_class_of_the_core_is_defined_outside_errors() -> None:
    package = Path(lite.__file__).parent
    for module in sorted(package.glob("*.py")):
        if module.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(base) for base in node.bases}
                assert not bases & {"Exception", "ValueError", "OSError", "RuntimeError"}, (
                    f"{module.name}: {node.name}"
                )


@pytest.mark.parametrize(
    ("cls", "base"),
    [
        (lite.StoreLocationError, ValueError),
        (lite.StoreNotFoundError, ValueError),
        (lite.SchemaError, ValueError),
        (lite.StoreUnavailableError, OSError),
        (lite.StoreClosedError, RuntimeError),
        (lite.MissingExtraError, ImportError),
        (lite.EncryptionUnavailableError, ImportError),
        (lite.EncryptionKeyError, ValueError),
        (lite.UnknownUserError, ValueError),
    ],
)
def test_each_keeps_its_conventional_base(cls: type[Exception], base: type[Exception]) -> None:
    assert issubclass(cls, base)


def test_open_errors_are_lite_errors(tmp_path: Path) -> None:
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(lite.StoreLocationError):
        lite.open(file)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / lite.admin.DATABASE_FILENAME).write_bytes(b"not a database\n" * 300)
    with pytest.raises(lite.StoreLocationError, match="not a usable SQLite database"):
        lite.open(corrupt)
    with pytest.raises(lite.UnsupportedURLError, match=re.escape("sqlite:///foo.db")):
        lite.open(tmp_path / "s", database_url="sqlite:///foo.db")
    with pytest.raises(lite.UnsupportedURLError):
        lite.open(tmp_path / "s", secondary_url="memcached://localhost")
    with pytest.raises(lite.StoreNotFoundError):
        lite.open(tmp_path / "missing", create=False)
    assert not (tmp_path / "missing").exists()
    lite.open(tmp_path / "shared", shared_connections=True).close()
    with pytest.raises(lite.SchemaError):
        lite.open(tmp_path / "shared", shared_connections=False)


@pytest.mark.parametrize(
    ("parameter", "url", "shown", "advice"),
    [
        (
            "database_url",
            "mysql://ada:hunter2@db/auth",
            "mysql://ada:***@db/auth",
            "use a postgresql",
        ),
        ("secondary_url", "memcached://ada:hunter2@c:1", "memcached://ada:***@c:1", "use a redis"),
    ],
)
def test_an_unsupported_url_names_its_parameter_without_the_password(
    tmp_path: Path, parameter: str, url: str, shown: str, advice: str
) -> None:
    with pytest.raises(lite.UnsupportedURLError) as raised:
        lite.open(tmp_path / "s", **{parameter: url})

    error = raised.value
    assert (error.parameter, error.url) == (parameter, shown)
    assert error.advice.startswith(advice)
    assert str(error) == f"{parameter} {shown!r} is not supported: {error.advice}"
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.parameter, copied.url, str(copied)) == (parameter, shown, str(error))
    assert "hunter2" not in repr(error) + repr(copied)
    assert not (tmp_path / "s").exists()


def test_a_missing_key_error_says_what_holds_encrypted_tokens(tmp_path: Path) -> None:
    pytest.importorskip("cryptography")
    lite.open(tmp_path / "s", encryption_key=lite.generate_key()).close()
    with pytest.raises(lite.EncryptionKeyError) as raised:
        lite.open(tmp_path / "s")

    error = raised.value
    where = str(tmp_path / "s" / lite.admin.DATABASE_FILENAME)
    assert error.problem == f"{where} holds encrypted provider tokens"
    assert str(error) == (
        f"{error.problem}: pass encryption_key to lite.open() or set "
        f"${lite.admin.ENCRYPTION_KEY_ENV}"
    )
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.problem, str(copied)) == (error.problem, str(error))
    assert lite.EncryptionKeyError("no encryption key given").problem is None


def test_a_connection_mode_error_says_what_the_store_was_created_with(tmp_path: Path) -> None:
    lite.open(tmp_path / "s").close()
    with pytest.raises(lite.ConnectionModeError) as raised:
        lite.open(tmp_path / "s", shared_connections=True)

    error = raised.value
    assert isinstance(error, lite.SchemaError)
    where = str(tmp_path / "s" / lite.admin.DATABASE_FILENAME)
    assert (error.location, error.shared_connections) == (where, False)
    assert str(error) == (
        f"{where} was created with exclusive connections; open it with shared_connections=False"
    )
    copied = pickle.loads(pickle.dumps(error))
    assert (copied.location, copied.shared_connections, str(copied)) == (where, False, str(error))


def test_a_store_not_found_says_where_and_whether_something_else_is_there(
    tmp_path: Path,
) -> None:
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    (tmp_path / "empty").mkdir()
    (tmp_path / "partial" / lite.admin.CACHE_DIRNAME).mkdir(parents=True)
    places = {"missing": False, "empty": False, "partial": False, "other": True}
    for name, occupied in places.items():
        with pytest.raises(lite.StoreNotFoundError) as raised:
            lite.open(tmp_path / name, create=False)
        assert (raised.value.path, raised.value.occupied) == (tmp_path / name, occupied), name
        copied = pickle.loads(pickle.dumps(raised.value))
        assert (copied.path, copied.occupied, str(copied)) == (
            tmp_path / name,
            occupied,
            str(raised.value),
        )
    with pytest.raises(lite.StoreNotFoundError) as checked:
        lite.admin.check_store(tmp_path / "other")
    assert (checked.value.path, checked.value.occupied) == (tmp_path / "other", True)


def test_create_false_opens_an_existing_store_as_created(tmp_path: Path) -> None:
    with lite.open(tmp_path / "s", shared_connections=True) as store:
        assert store.created
    with lite.open(tmp_path / "s", create=False) as store:
        assert not store.created
        assert store.shared_connections


def test_tables_no_store_created_are_refused_untouched(tmp_path: Path) -> None:
    directory = tmp_path / "s"
    directory.mkdir()
    with sqlite3.connect(directory / lite.admin.DATABASE_FILENAME) as connection:
        connection.execute("CREATE TABLE users (name TEXT)")
        connection.execute("INSERT INTO users VALUES ('someone else')")
    connection.close()
    with pytest.raises(lite.SchemaError, match="users"):
        lite.open(directory)
    with sqlite3.connect(directory / lite.admin.DATABASE_FILENAME) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        assert connection.execute("SELECT name FROM users").fetchall() == [("someone else",)]
    connection.close()
    assert tables == {"users"}


def test_an_unavailable_store_error_survives_pickling_with_its_path_and_reason(
    tmp_path: Path,
) -> None:
    """As it crosses a process boundary (a worker pool, multiprocessing)."""
    from cross_auth_lite.errors import unavailable

    where = str(tmp_path / lite.admin.DATABASE_FILENAME)
    error = unavailable(where, sqlite3.OperationalError("database is locked"))
    assert isinstance(error, lite.StoreUnavailableError)

    copied = pickle.loads(pickle.dumps(error))

    assert type(copied) is lite.StoreUnavailableError
    assert (copied.path, copied.reason, str(copied)) == (where, error.reason, str(error))


@pytest.mark.parametrize("value", ["secret", "hunter2 ", "/tmp/cache", "ada:pw"])
def test_a_value_not_shaped_like_a_url_is_never_shown(tmp_path: Path, value: str) -> None:
    for parameter in ("database_url", "secondary_url"):
        with pytest.raises(lite.UnsupportedURLError) as raised:
            lite.open(tmp_path / "s", **{parameter: value})
        error = raised.value
        assert (error.hidden, error.url) == (True, "***")
        assert str(error) == (
            f"{parameter} is not a URL (its value is not shown, in case it is a password): "
            f"{error.advice}"
        )
        copied = pickle.loads(pickle.dumps(error))
        assert str(copied) == str(error)
        assert value.strip() not in str(error) + repr(error) + repr(copied)
        assert not (tmp_path / "s").exists()
