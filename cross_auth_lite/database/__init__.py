"""The peewee/SQLite layer the storages stand on.

It owns the SQLite database (``sqlite.py``: every thread's connection,
pragmas, closing, errors), savepoint-aware commit callbacks
(``commit_callbacks.py``), refused writes' errors without the values they
quote (``refusals.py``), the models and their fields (``models.py``,
``fields.py``, ``model_checks.py``), the schema and its numbered upgrade
table (``schema.py``), statements rendered once and run many times with
their row readers (``statements.py``, ``row_readers.py``, once per process
for each shape of store's models: ``shapes.py``), and the checks
on what callers hand in (``arguments.py``, ``ids.py``).

It may import the standard library, peewee, ``cross_auth_lite.adapters``
and the package's foundations (``errors``, ``urls``, ``private_files``,
``encryption``); nothing above it.
"""

from cross_auth_lite.moved import moved_names

# What the module this package replaced exported: still there, with a warning.
_SQLITE = "cross_auth_lite.database.sqlite"
__getattr__ = moved_names(
    __name__,
    {
        "BUSY_TIMEOUT_SECONDS": (_SQLITE, f"{_SQLITE}.BUSY_TIMEOUT_SECONDS"),
        "JOURNAL_SIZE_LIMIT": (_SQLITE, f"{_SQLITE}.JOURNAL_SIZE_LIMIT"),
        "SQLITE_PRAGMAS": (_SQLITE, f"{_SQLITE}.SQLITE_PRAGMAS"),
        "ClosableConnectionsMixin": (_SQLITE, f"{_SQLITE}.ClosableConnectionsMixin"),
        "CommitCallbacksMixin": (_SQLITE, "cross_auth_lite.CommitCallbacksMixin"),
        "LiteSqliteDatabase": (_SQLITE, "cross_auth_lite.LiteSqliteDatabase"),
        "bound_database": (_SQLITE, f"{_SQLITE}.bound_database"),
        "close_database": (_SQLITE, f"{_SQLITE}.close_database"),
        "sqlite_database": (_SQLITE, f"{_SQLITE}.sqlite_database"),
        "on_commit": (_SQLITE, f"{_SQLITE}.on_commit"),
        "open_sqlite": (_SQLITE, f"{_SQLITE}.open_sqlite"),
        "read_snapshot": (_SQLITE, f"{_SQLITE}.read_snapshot"),
        "write_transaction": (_SQLITE, f"{_SQLITE}.write_transaction"),
    },
)
