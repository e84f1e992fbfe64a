"""The peewee/SQLite layer the storages stand on.

It owns the SQLite database (``sqlite.py``: every thread's connection,
pragmas, closing, errors), savepoint-aware commit callbacks
(``commit_callbacks.py``), the models and their fields (``models.py``,
``fields.py``, ``model_checks.py``), the schema and its numbered upgrade
table (``schema.py``), statements rendered once and run many times with
their row readers (``statements.py``, ``row_readers.py``), and the checks
on what callers hand in (``arguments.py``, ``ids.py``).

It may import the standard library, peewee, ``cross_auth_lite.adapters``
and the package's foundations (``errors``, ``urls``, ``private_files``,
``encryption``); nothing above it.
"""
