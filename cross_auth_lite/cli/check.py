"""``check``: is the store intact, current, and private? (``lite.admin.check_store``)."""

from __future__ import annotations

import argparse

import cross_auth_lite as lite
from cross_auth_lite.cli.common import Commands, missing_store
from cross_auth_lite.cli.output import echo, emit_json, plural

__all__ = ["add_parsers", "run_check"]


def add_parsers(commands: Commands) -> None:
    """Register ``check``."""
    commands.add(
        "check",
        run_check,
        "check integrity, schema version and permissions",
        (
            "Check the store without changing it: SQLite integrity of both databases, the "
            "schema version, and permissions (directories 0700, files 0600). A store that "
            "cannot be written (a read-only filesystem) is reported as such, and its "
            "databases are still checked, read-only. Exits 1 when something is wrong."
        ),
    )


def run_check(args: argparse.Namespace) -> int:
    """``check``."""
    try:
        report = lite.admin.check_store(args.data, database_url=args.database_url)
    except lite.StoreNotFoundError as error:
        raise missing_store(error, args) from None
    where = lite.redact_url(args.database_url) if args.database_url else str(args.data)
    if args.json:
        schema = report.meta.get("schema_version")
        emit_json(
            {
                "path": lite.redact_url(args.database_url)
                if args.database_url
                else str(args.data.absolute()),
                "ok": not report.problems,
                "schema_version": int(schema) if schema and schema.isdigit() else schema,
                "connections": report.meta.get("connections"),
                "problems": report.problems,
                "passed": report.passed,
            }
        )
    else:
        for line in report.passed:
            echo(f"ok       {line}")
        for line in report.problems:
            echo(f"PROBLEM  {line}")
        if report.problems:
            echo(f"{plural(len(report.problems), 'problem')} found in {where}")
        else:
            echo(f"no problems found in {where}")
    return 1 if report.problems else 0
