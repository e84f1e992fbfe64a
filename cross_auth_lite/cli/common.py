"""What every command shares: the data directory, opening the store, naming users.

Stores are opened through ``lite.open()``: commands other than ``init`` with
``create=False``, so they never create a store by accident, and in the mode
the store was created with, so nobody has to repeat ``--shared-connections``.
"""

from __future__ import annotations

import argparse
import os
import shlex
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import cross_auth_lite as lite
from cross_auth_lite.cli.errors import CliError
from cross_auth_lite.cli.output import echo, note, plural, printable, stream_json, stream_table
from cross_auth_lite.demo.options import number_type, path_argument

__all__ = [
    "DATABASE_URL_ENV",
    "DATA_ENV",
    "DEFAULT_DATA_DIR",
    "SECONDARY_URL_ENV",
    "DEFAULT_LIMIT",
    "URL_OPTIONS",
    "add_paging",
    "Commands",
    "default_data_dir",
    "from_environment",
    "describe_user",
    "missing_store",
    "open_existing",
    "open_or_create",
    "path_argument",
    "positive_int",
    "read_urls",
    "show_page",
    "resolve_user",
    "url_error",
]

T = TypeVar("T")

#: Environment variable naming the data directory when ``--data`` is not given.
DATA_ENV = "CROSS_AUTH_LITE_DATA"
#: Environment variables for ``--database-url`` and ``--secondary-url``.
DATABASE_URL_ENV = "CROSS_AUTH_LITE_DATABASE_URL"
SECONDARY_URL_ENV = "CROSS_AUTH_LITE_SECONDARY_URL"
#: The data directory when neither ``--data`` nor the environment names one.
DEFAULT_DATA_DIR = Path("var/auth")


class Commands:
    """Adds commands to a parser, each with the shared options and a ``handler``.

    ``store_options`` (``--data``, ``--database-url``, ``--secondary-url``)
    and ``json_option`` (``--json``) are parent parsers: every command takes
    both unless it says otherwise, after its name as well as before it.
    """

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[Any],
        *,
        store_options: argparse.ArgumentParser,
        json_option: argparse.ArgumentParser,
    ) -> None:
        self.subparsers = subparsers
        self.store_options = store_options
        self.json_option = json_option

    def add(
        self,
        name: str,
        handler: Callable[[argparse.Namespace], int],
        help: str,
        description: str | None = None,
        *,
        parents: list[argparse.ArgumentParser] | None = None,
    ) -> argparse.ArgumentParser:
        """The command ``name``, run by ``handler``; ``description`` defaults to ``help``."""
        parser: argparse.ArgumentParser = self.subparsers.add_parser(
            name,
            parents=[self.store_options, self.json_option] if parents is None else parents,
            help=help,
            description=description or help,
        )
        # Where a usage error in this command's arguments points for help.
        parser.set_defaults(handler=handler, command_prog=parser.prog)
        return parser

    def group(self, name: str, help: str, description: str) -> Commands:
        """A command with actions of its own (``users list``): add them to the result."""
        parser = self.subparsers.add_parser(name, help=help, description=description)
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        return Commands(actions, store_options=self.store_options, json_option=self.json_option)


def from_environment(name: str) -> str | None:
    """The value of the environment variable ``name``, ``None`` when unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or None


#: Each URL parameter of ``lite.open``, and the option and environment variable giving it.
URL_OPTIONS = {
    "database_url": ("--database-url", DATABASE_URL_ENV),
    "secondary_url": ("--secondary-url", SECONDARY_URL_ENV),
}


def read_urls(args: argparse.Namespace) -> None:
    """Set ``args.database_url`` and ``args.secondary_url``: from the option, else the environment.

    ``args.url_sources`` keeps where each came from (``--database-url`` or
    ``$CROSS_AUTH_LITE_DATABASE_URL``), for ``url_error``.
    """
    sources: dict[str, str] = {}
    for parameter, (option, variable) in URL_OPTIONS.items():
        value, source = getattr(args, parameter, None), option
        if not value:
            value, source = from_environment(variable), f"${variable}"
        setattr(args, parameter, value)
        sources[parameter] = source
    args.url_sources = sources


def url_error(error: lite.UnsupportedURLError, args: argparse.Namespace) -> CliError:
    """``error`` naming the URL as the user gave it: ``--database-url '...' is not supported``.

    The option or environment variable the URL came from stands for the
    library's parameter; a URL the command did not take from either (its
    own option) keeps the library's message.
    """
    source = getattr(args, "url_sources", {}).get(error.parameter)
    given = getattr(args, error.parameter, None)
    if source is None or not given:
        return CliError(str(error))
    shown = lite.UnsupportedURLError(error.parameter, given, error.advice).url
    if shown != error.url:
        return CliError(str(error))
    return CliError(error.message_for(source))


def default_data_dir() -> Path:
    """``$CROSS_AUTH_LITE_DATA`` if set and not empty, else ``./var/auth``."""
    value = from_environment(DATA_ENV)
    return Path(value) if value else DEFAULT_DATA_DIR


#: An argparse type: a whole number of at least 1.
positive_int = number_type(int, "a whole number", 1)

#: How many rows a listing shows unless ``--limit`` says otherwise.
DEFAULT_LIMIT = 100


def show_page(
    args: argparse.Namespace,
    items: Iterable[Any],
    *,
    headers: Sequence[str],
    row: Callable[[Any], Sequence[object]],
    view: Callable[[Any], dict[str, Any]],
    more: Callable[[Any], int],
    noun: str,
) -> None:
    """Print one page of a listing made with ``add_paging`` options, rows as they are read.

    A table (``row`` per item under ``headers``), or JSON (``view`` per item)
    with ``--json``. A page that filled its ``--limit`` ends with a line on
    stderr saying how many more there are after its last id (``more(id)``).
    """
    last: list[Any] = []

    def tracked() -> Iterator[Any]:
        for count, item in enumerate(items, start=1):
            last[:] = [item.id, count]
            yield item

    if args.json:
        stream_json(view(item) for item in tracked())
    elif not stream_table(headers, (row(item) for item in tracked())):
        echo(f"no {noun}s match")
    if last and last[1] == args.limit:
        remaining = more(last[0])
        if remaining:
            note(f"{plural(remaining, f'more {noun}')}: continue with --after {last[0]}")


def add_paging(parser: argparse.ArgumentParser, what: str) -> None:
    """``--limit N`` (default ``DEFAULT_LIMIT``) and ``--after ID`` to continue a listing."""
    parser.add_argument(
        "--limit",
        type=positive_int,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"list at most N {what} (default {DEFAULT_LIMIT})",
    )
    parser.add_argument(
        "--after",
        type=number_type(int, "an id", 0),
        metavar="ID",
        help=f"only {what} after this id (where a listing stopped)",
    )


def _location(args: argparse.Namespace) -> dict[str, Any]:
    # A command is over in moments: the app's own processes do the housekeeping.
    return {
        "database_url": args.database_url,
        "secondary_url": args.secondary_url,
        "housekeeping": False,
    }


def open_existing(
    args: argparse.Namespace, *, tokens: bool = True, **options: Any
) -> lite.LiteStore:
    """Open the store the global options name, as it was created; ``CliError`` if none.

    ``tokens=False`` is for commands that never read or write a provider
    token: they also open a store whose tokens are encrypted when no key is
    given (any access to a token would still fail).
    """
    try:
        return lite.open(
            args.data,
            create=False,
            without_token_key=not tokens,
            **_location(args),
            **options,
        )
    except lite.StoreNotFoundError as error:
        raise missing_store(error, args) from None


def missing_store(error: lite.StoreNotFoundError, args: argparse.Namespace) -> CliError:
    """``error`` with what to do: where to point the options, or the ``init`` that creates it.

    The ``init`` is the one for the store these options name: with their
    ``--data``, and the URL options given on the command line (a password
    in them shown as ``***``). Where something else is in the way (other
    files), ``init`` would refuse too, and the hint says so instead.
    """
    if error.occupied:
        return CliError(
            f"{error}; {error.path} holds something other than a store, so init would not "
            f"create one there either: point --data or ${DATA_ENV} at the store's directory, "
            "or at a new or empty one to create a store with init"
        )
    words = ["cross-auth-lite", "--data", str(args.data)]
    sources = getattr(args, "url_sources", {})
    for parameter, (option, _) in URL_OPTIONS.items():
        given = getattr(args, parameter, None)
        if given and sources.get(parameter) == option:
            words += [option, lite.redact_url(given)]
    command = " ".join(shlex.quote(word) for word in [*words, "init"])
    if "***" in command:
        command += " (with the password in place of ***)"
    where = (
        f"--data or ${DATA_ENV}"
        if error.path is not None
        else sources.get("database_url", URL_OPTIONS["database_url"][0])
    )
    return CliError(f"{error}; point {where} at an existing store, or create one with: {command}")


def open_or_create(args: argparse.Namespace, **options: Any) -> lite.LiteStore:
    """Open the store the global options name, creating it first if needed.

    ``store.created`` says which; ``shared_connections=None`` (the default)
    opens an existing store as it was created and makes a new one exclusive.
    """
    # An existing store is left as it is, so it opens without its token key.
    return lite.open(args.data, without_token_key=True, **_location(args), **options)


def resolve_user(store: lite.LiteStore, reference: str) -> Any:
    """The user whose id or email is ``reference``; ``CliError`` when there is none."""
    user = lite.admin.find_user(store, reference)
    if user is None:
        raise CliError(f"no user has id or email {reference!r}")
    return user


def describe_user(user: Any) -> str:
    """``user 3 <ada@example.com>`` (or just ``user 3`` without an email)."""
    if not user.email:
        return f"user {user.id}"
    return f"user {user.id} <{printable(user.email)}>"
