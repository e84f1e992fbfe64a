"""The ``cross-auth-lite`` command: look after a store from the shell.

``main(argv)`` parses the arguments, runs one command and returns the exit
status; it never raises and never prints a traceback. Failures are one line
on stderr, ``cross-auth-lite: error: ...``, with status 1 (2 for a usage
error, 130 when interrupted). Set ``CROSS_AUTH_LITE_DEBUG=1`` to see the
traceback of an unexpected error instead.

Each concern has its module: ``maintenance`` (init, stats, purge),
``check``, ``backup``, ``users`` (with ``passwords``, reading one),
``sessions``, ``transfer`` (export, import), ``copy`` (to PostgreSQL),
``keys`` (generate-key, rotate-key), ``demo``;
``common`` opens stores and finds users, ``output`` prints, ``errors``
reports failures.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from typing import Any, NoReturn

from cross_auth_lite import UnsupportedURLError, __version__
from cross_auth_lite.cli import backup, check, demo, keys, maintenance, sessions, transfer, users
from cross_auth_lite.cli import copy as copy_store
from cross_auth_lite.cli.common import (
    DATA_ENV,
    DATABASE_URL_ENV,
    DEFAULT_DATA_DIR,
    SECONDARY_URL_ENV,
    Commands,
    default_data_dir,
    path_argument,
    read_urls,
    url_error,
)
from cross_auth_lite.cli.errors import (
    DEBUG_ENV,
    PROG,
    CliError,
    UsageError,
    describe,
    report,
)

__all__ = ["DEBUG_ENV", "PROG", "build_parser", "main"]


_DATA_HELP = f"the store's directory (default: ${DATA_ENV}, else ./{DEFAULT_DATA_DIR})"
_JSON_HELP = "print machine-readable JSON on stdout"
_DATABASE_URL_HELP = (
    f"keep accounts and sessions in this PostgreSQL database (default: ${DATABASE_URL_ENV}); "
    "give the password through PGPASSWORD or ~/.pgpass rather than in the URL"
)
_SECONDARY_URL_HELP = (
    f"keep short-lived state in this Redis server (default: ${SECONDARY_URL_ENV})"
)


#: argparse's words for a command (or a command's action) it does not know.
_INVALID_CHOICE = re.compile(
    r"argument (?P<what>[A-Z]+): invalid choice: '(?P<given>.*)' \(choose from (?P<choices>.*)\)$",
    re.DOTALL,
)


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, reported by ``main``.

    Options are never abbreviated: ``--password`` must not quietly stand for
    ``--password-stdin`` and leave the password as a stray argument.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{_unknown_command(message)} (see '{self.prog} --help')")


def _unknown_command(message: str) -> str:
    """argparse's ``message``, unless it is about an unknown command: then ours.

    The word given is never repeated: where a command was expected there
    often stands the value of a mistyped option before it (``--databse-url
    URL stats``), perhaps a password. A near miss is offered instead.
    """
    invalid = _INVALID_CHOICE.match(message)
    if invalid is None:
        return message
    kind = invalid["what"].lower()
    choices = [choice.strip("'") for choice in invalid["choices"].split(", ")]
    close = difflib.get_close_matches(invalid["given"], choices, n=1)
    if close:
        said = f"no such {kind}: did you mean '{close[0]}'?"
    else:
        said = (
            f"no such {kind} (the word is not shown, in case it is a value: "
            "is an option before it mistyped?)"
        )
    return f"{said} {kind.capitalize()}s: {', '.join(choices)}"


def _add_store_options(parser: argparse.ArgumentParser, *, default: Any) -> None:
    """``--data``, ``--database-url`` and ``--secondary-url``: where the store is."""
    parser.add_argument(
        "--data", type=path_argument, metavar="DIR", default=default, help=_DATA_HELP
    )
    parser.add_argument("--database-url", metavar="URL", default=default, help=_DATABASE_URL_HELP)
    parser.add_argument(
        "--secondary-url", metavar="URL", default=default, help=_SECONDARY_URL_HELP
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command.

    The store options (``--data``, ``--database-url``, ``--secondary-url``)
    and ``--json`` are accepted before the command or after it.
    """
    store_options = argparse.ArgumentParser(add_help=False)
    _add_store_options(store_options, default=argparse.SUPPRESS)
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument(
        "--json", action="store_true", default=argparse.SUPPRESS, help=_JSON_HELP
    )
    parser = _Parser(
        prog=PROG,
        description="Look after a cross-auth-lite store: users, sessions, backups, health.",
        epilog=f"Run '{PROG} COMMAND --help' for the options of a command.",
    )
    _add_store_options(parser, default=None)
    parser.add_argument("--json", action="store_true", help=_JSON_HELP)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = Commands(
        parser.add_subparsers(dest="command", metavar="COMMAND", required=True),
        store_options=store_options,
        json_option=json_option,
    )
    for module in (maintenance, check, backup, users, sessions, transfer, copy_store, keys):
        module.add_parsers(commands)
    demo.add_parsers(commands)
    return parser


def _silence_stdout() -> None:
    # The reader went away (`| head`): point stdout at /dev/null so the final
    # flush at exit does not complain again.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


#: Options whose values may begin with "-" (a Fernet key is URL-safe base64).
_VALUES_MAY_LOOK_LIKE_OPTIONS = ("--key",)


def _attach_values(argv: list[str]) -> list[str]:
    """``--key -abc`` as ``--key=-abc``, which argparse would otherwise read as two options."""
    joined: list[str] = []
    arguments = iter(argv)
    for argument in arguments:
        if argument in _VALUES_MAY_LOOK_LIKE_OPTIONS:
            value = next(arguments, None)
            joined.append(argument if value is None else f"{argument}={value}")
        else:
            joined.append(argument)
    return joined


def _unrecognized(words: list[str]) -> str:
    """Names the unknown options, never a value: a mistyped ``--key`` may be followed by one."""
    options = [word.partition("=")[0] for word in words if word.startswith("-")]
    values = len(words) - len(options)
    named = f"unrecognised option{'s' if len(options) > 1 else ''} {' '.join(options)}"
    extra = f"{values} unexpected argument{'s' if values > 1 else ''}"
    if not options:
        return extra
    return f"{named} and {extra}" if values else named


#: The options taken before the command (``build_parser`` and ``_add_store_options``).
_GLOBAL_OPTIONS = frozenset(
    {"--data", "--database-url", "--secondary-url", "--json", "--version", "-h", "--help"}
)


def _mistyped_global_option(words: list[str]) -> str | None:
    """The first option before the command that the command line does not take, if any."""
    for word in words:
        if not word.startswith("-"):
            return None
        name = word.partition("=")[0]
        if name not in _GLOBAL_OPTIONS:
            return name
    return None


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    words = _attach_values(sys.argv[1:] if argv is None else argv)
    try:
        args, unknown = parser.parse_known_args(words)
        if unknown:
            prog = getattr(args, "command_prog", parser.prog)
            hint = getattr(args, "stray_hint", None)
            # Only for words alone: after an unknown option, a word may be its value.
            alone = not any(word.startswith("-") for word in unknown)
            advice = f"; {hint}" if hint and alone else ""
            raise UsageError(f"{_unrecognized(unknown)}{advice} (see '{prog} --help')")
    except UsageError as error:
        message = str(error)
        suspect = _mistyped_global_option(words)
        if message.startswith("no such command") and suspect is not None:
            # Named, since an option's name is no secret; what follows it may be.
            message = (
                f"unrecognised option {suspect} (the words after it are not shown, in case "
                f"one is its value) (see '{PROG} --help')"
            )
        elif "required: COMMAND" in message and suspect is not None:
            message = f"unrecognised option {suspect}, and no command (see '{PROG} --help')"
        report(message)
        return 2
    except SystemExit as done:  # --help, --version
        return done.code if isinstance(done.code, int) else 0 if done.code is None else 2
    if args.data is None:
        # A command may have a default directory of its own (the demo's var/demo).
        args.data = getattr(args, "default_data", None) or default_data_dir()
    read_urls(args)
    try:
        status = int(args.handler(args))
        sys.stdout.flush()
        return status
    except CliError as error:
        report(error.message)
        return error.exit_code
    except UnsupportedURLError as error:  # named as the user gave it, option or variable
        report(url_error(error, args).message)
        return 1
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except Exception as error:
        if os.environ.get(DEBUG_ENV):
            raise
        report(describe(error))
        return 1


def main(argv: list[str] | None = None) -> int:
    """Run the command in ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        return _run(argv)
    except KeyboardInterrupt:
        report("interrupted")
        return 130
