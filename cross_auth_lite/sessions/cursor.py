"""Opaque keyset cursors for paging through a user's sessions.

A cursor records where a page ended: the ordering it was made for, the
value of the ordering column in the last row, and that row's id (the tie
breaker). ``list_for_user`` resumes strictly after that position, so paging
never skips or repeats a row and costs the same on every page.

The format is private, but stable within a version: unpadded URL-safe base64
of a 6-byte BLAKE2b digest followed by the compact JSON
``[1, order_by, microseconds_since_epoch, id]``. The digest catches
truncated, corrupted and hand-edited cursors. It is not a signature: anyone
who reads this can forge one, and a forged cursor only moves the starting
point within the listing it is used with, which is filtered by user
separately.

Every failure to decode raises Cross-Auth's ``InvalidCursorError`` (a
``ValueError``), which applications map to a 400 response.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cross_auth.exceptions import InvalidCursorError

from cross_auth_lite.database.fields import to_utc

__all__ = ["MAX_CURSOR_LENGTH", "Cursor", "decode_cursor", "encode_cursor"]

#: Longest cursor text accepted. Longer input is rejected before decoding.
MAX_CURSOR_LENGTH = 512

_VERSION = 1
_DIGEST_SIZE = 6
_PERSON = b"cal-session-page"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
#: ``json.dumps(..., separators=(",", ":"))`` without building an encoder per call.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor: the page ended at the row with ``row_id`` and ``value``."""

    order_by: str
    value: datetime
    row_id: int | str


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_DIGEST_SIZE, person=_PERSON).digest()


def _text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def encode_cursor(order_by: str, value: datetime, row_id: object) -> str:
    """The cursor for resuming ``order_by`` after the row ``(value, row_id)``.

    ``row_id`` may be an int, a str or a UUID. Raises ``TypeError`` for
    other ids and ``ValueError`` for a str id too long to fit in a cursor.
    """
    if isinstance(row_id, uuid.UUID):
        row_id = str(row_id)
    if isinstance(row_id, bool) or not isinstance(row_id, int | str):
        raise TypeError(
            f"cannot page by a session id of type {type(row_id).__name__} "
            "(int, str and UUID ids are supported)"
        )
    micros = (to_utc(value) - _EPOCH) // _MICROSECOND
    plain = type(order_by) is str and order_by.isidentifier() and order_by.isascii()
    if type(row_id) is int and plain:
        # The compact JSON of the same list (an ASCII identifier needs no escaping),
        # written directly: a page's cost should be its rows.
        payload = f'[{_VERSION},"{order_by}",{micros},{row_id}]'.encode()
    else:
        payload = _COMPACT_JSON([_VERSION, order_by, micros, row_id]).encode()
    text = _text(_digest(payload) + payload)
    if len(text) > MAX_CURSOR_LENGTH:
        raise ValueError(f"session id {row_id!r} is too long to page by")
    return text


def decode_cursor(cursor: object, *, order_by: str) -> Cursor:
    """Decode ``cursor``, which must have been made for ``order_by``.

    Raises ``InvalidCursorError`` for anything else: a non-string, an
    oversized or malformed text, a failed integrity check, an unknown version
    or a cursor made for another ordering.
    """
    if not isinstance(cursor, str):
        raise InvalidCursorError(f"a session cursor is a string, not {type(cursor).__name__}")
    if len(cursor) > MAX_CURSOR_LENGTH or not _ALPHABET.fullmatch(cursor):
        raise InvalidCursorError("malformed session cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise InvalidCursorError("malformed session cursor") from None
    digest, payload = raw[:_DIGEST_SIZE], raw[_DIGEST_SIZE:]
    # Re-encoding rejects the non-canonical spellings base64 would let through.
    if not payload or _text(raw) != cursor or not hmac.compare_digest(digest, _digest(payload)):
        raise InvalidCursorError("malformed or altered session cursor")
    try:
        fields = json.loads(payload)
    except (ValueError, RecursionError):
        raise InvalidCursorError("malformed session cursor") from None
    if not (isinstance(fields, list) and len(fields) == 4):
        raise InvalidCursorError("malformed session cursor")
    version, ordering, micros, row_id = fields
    if type(version) is not int or version != _VERSION:
        raise InvalidCursorError("unsupported session cursor version")
    if type(micros) is not int or type(row_id) not in (int, str):
        raise InvalidCursorError("malformed session cursor")
    if ordering != order_by:
        raise InvalidCursorError(
            f"this cursor was made for another ordering, not order_by={order_by!r}"
        )
    try:
        value = _EPOCH + micros * _MICROSECOND
    except OverflowError:
        raise InvalidCursorError("malformed session cursor") from None
    return Cursor(order_by=order_by, value=value, row_id=row_id)
