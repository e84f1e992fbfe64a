"""``generate-key`` and ``rotate-key``: the keys that encrypt provider tokens at rest.

``generate-key`` prints a new Fernet key. ``rotate-key`` opens the store
with the keys given, the new one first and then the old ones, re-encrypts
every provider token with the first (plaintext ones from before encryption
was turned on included) in one transaction, and compacts the file so that
no copy of the old values remains; the old keys can then be dropped.

Keys come from ``--key`` (repeated), ``--keys-stdin``, or else
``$CROSS_AUTH_LITE_ENCRYPTION_KEY`` (comma-separated). Prefer the last two:
command-line arguments are visible to other local users in the process list.
Both commands need the ``[encryption]`` extra.
"""

from __future__ import annotations

import argparse
import os
import sys

import cross_auth_lite as lite
from cross_auth_lite import EncryptionError, generate_key
from cross_auth_lite.admin import ENCRYPTION_KEY_ENV, parse_keys
from cross_auth_lite.cli.common import Commands, open_existing
from cross_auth_lite.cli.errors import CliError
from cross_auth_lite.cli.output import echo, emit_json

__all__ = ["add_parsers", "generate_key_command", "rotate_key_command"]


def add_parsers(commands: Commands) -> None:
    """Register ``generate-key`` and ``rotate-key``."""
    commands.add(
        "generate-key",
        generate_key_command,
        "print a new key for encrypting provider tokens",
        (
            "Print a new random Fernet key. Give it to lite.open(encryption_key=...) or put "
            f"it in ${ENCRYPTION_KEY_ENV}; keep it secret, and keep it: tokens encrypted "
            "with a lost key are lost."
        ),
        parents=[commands.json_option],
    )

    rotate = commands.add(
        "rotate-key",
        rotate_key_command,
        "re-encrypt every provider token with the first key",
        (
            "Re-encrypt every provider access and refresh token with the first key given, "
            "in one transaction: tokens under the other keys, and plaintext tokens written "
            "before encryption was turned on. The other keys can be dropped afterwards. "
            "On a store whose tokens are not encrypted yet, this turns encryption on (and "
            "says so): from then on the store opens only with the key. "
            f"Keys come from --key, --keys-stdin, or else ${ENCRYPTION_KEY_ENV} "
            "(comma-separated, new key first)."
        ),
    )
    source = rotate.add_mutually_exclusive_group()
    source.add_argument(
        "--key",
        action="append",
        metavar="KEY",
        help=(
            "a key, the new one first; repeat for the old ones (visible in the process "
            "list: prefer the environment or --keys-stdin)"
        ),
    )
    source.add_argument(
        "--keys-stdin",
        action="store_true",
        help="read the keys from standard input, one per line, the new one first",
    )


def generate_key_command(args: argparse.Namespace) -> int:
    """``generate-key``."""
    try:
        key = generate_key()
    except EncryptionError as error:
        raise CliError(str(error)) from None
    if args.json:
        emit_json({"key": key})
    else:
        echo(key)
    return 0


def _keys(args: argparse.Namespace) -> list[str | bytes]:
    if args.key:
        keys = [key for value in args.key for key in parse_keys(value)]
        where = "--key"
    elif args.keys_stdin:
        try:
            text = sys.stdin.read() if sys.stdin is not None else ""
        except UnicodeDecodeError:
            raise CliError("the keys on stdin are not valid text") from None
        keys = parse_keys(",".join(text.splitlines()))
        where = "stdin"
    else:
        keys = parse_keys(os.environ.get(ENCRYPTION_KEY_ENV, ""))
        where = f"${ENCRYPTION_KEY_ENV}"
    if not keys:
        raise CliError(
            f"no encryption key in {where}: pass --key NEW [--key OLD ...], --keys-stdin, "
            f"or set ${ENCRYPTION_KEY_ENV}=NEW,OLD"
        )
    return keys


def rotate_key_command(args: argparse.Namespace) -> int:
    """``rotate-key [--key KEY ... | --keys-stdin]``."""
    keys = _keys(args)
    with open_existing(args, encryption_key=keys) as store:
        try:
            result = lite.admin.rotate_tokens(store)
        except EncryptionError as error:
            raise CliError(f"nothing changed: {error}") from None
        path = store.location
        turned_on = store.encryption_turned_on
    if args.json:
        emit_json(
            {
                "path": str(path),
                "encryption_turned_on": turned_on,
                "keys": len(keys),
                "social_accounts": result.social_accounts,
                "reencrypted": result.reencrypted,
                "compacted": result.compacted,
            }
        )
        return 0
    if turned_on:
        echo(
            f"turned token encryption on for {path}: its provider tokens are encrypted from "
            "now on, and the store opens only with this key (keep it: tokens encrypted with "
            "a lost key are lost)"
        )
    echo(
        f"re-encrypted the tokens of {result.reencrypted} of {result.social_accounts} social "
        f"accounts with the first key in {path}"
    )
    if len(keys) > 1:
        echo("every token is now under the first key: the other keys can be dropped")
    if result.compacted is False:
        echo(
            "note: the database could not be compacted (another process is using it); "
            "copies of the old values may remain in its free pages until it is"
        )
    return 0
