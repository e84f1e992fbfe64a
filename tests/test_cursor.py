"""The session paging cursor: round trips, and every way a cursor can be bad."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cross_auth.exceptions import InvalidCursorError

from cross_auth_lite.sessions.cursor import (
    MAX_CURSOR_LENGTH,
    _digest,
    decode_cursor,
    encode_cursor,
)

WHEN = datetime(2026, 6, 6, 12, 30, 15, 123456, tzinfo=UTC)
ORDER = "updated_at_desc"


def craft(payload: object) -> str:
    """A cursor with a valid integrity check around an arbitrary JSON payload."""
    raw = json.dumps(payload).encode()
    return base64.urlsafe_b64encode(_digest(raw) + raw).rstrip(b"=").decode()


def micros(value: datetime) -> int:
    return (value - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


@pytest.mark.parametrize("row_id", [1, 2**63 - 1, -5, "abc", "ünïcode", ""])
def test_round_trip(row_id: int | str) -> None:
    decoded = decode_cursor(encode_cursor(ORDER, WHEN, row_id), order_by=ORDER)

    assert decoded.order_by == ORDER
    assert decoded.value == WHEN
    assert decoded.value.tzinfo == UTC
    assert decoded.row_id == row_id
    assert type(decoded.row_id) is type(row_id)


@pytest.mark.parametrize("order_by", [ORDER, "created_at_asc", "ordre_é", 'with "quotes"'])
@pytest.mark.parametrize("row_id", [0, 7, -5, 2**80, "7", "ünïcode"])
def test_the_payload_is_the_compact_json_of_the_position(order_by: str, row_id: int | str) -> None:
    """Integer ids are written without the JSON encoder: the text must be the encoder's."""
    text = encode_cursor(order_by, WHEN, row_id)
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    expected = json.dumps([1, order_by, micros(WHEN), row_id], separators=(",", ":"))
    assert raw[6:] == expected.encode()
    assert raw[:6] == _digest(raw[6:])


def test_uuid_ids_travel_as_text() -> None:
    row_id = uuid.uuid4()

    assert decode_cursor(encode_cursor(ORDER, WHEN, row_id), order_by=ORDER).row_id == str(row_id)


def test_value_is_kept_as_the_same_instant_in_utc() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=-7, minutes=-30)))

    decoded = decode_cursor(encode_cursor(ORDER, local, 1), order_by=ORDER)

    assert decoded.value == WHEN
    assert decoded.value.utcoffset() == timedelta(0)


def test_cursor_is_compact_urlsafe_text() -> None:
    text = encode_cursor(ORDER, WHEN, 2**63 - 1)

    assert len(text) < 100
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("row_id", [True, None, 1.5, b"id", [1]])
def test_encode_rejects_ids_it_cannot_carry(row_id: object) -> None:
    with pytest.raises(TypeError, match="cannot page by"):
        encode_cursor(ORDER, WHEN, row_id)


def test_encode_refuses_an_id_too_long_to_decode() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_cursor(ORDER, WHEN, "x" * MAX_CURSOR_LENGTH)


def test_cursor_is_bound_to_its_ordering() -> None:
    text = encode_cursor(ORDER, WHEN, 1)

    with pytest.raises(InvalidCursorError, match="another ordering"):
        decode_cursor(text, order_by="updated_at_asc")


@pytest.mark.parametrize("cursor", [None, 12, b"abc", ["abc"], {"o": ORDER}])
def test_non_string_cursors_are_invalid(cursor: object) -> None:
    with pytest.raises(InvalidCursorError, match="is a string"):
        decode_cursor(cursor, order_by=ORDER)


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not a cursor!",
        "abc=",  # padding is never produced
        "ab+/cd",  # standard, not URL-safe, alphabet
        "é" * 8,
        "A" * (MAX_CURSOR_LENGTH + 1),
        base64.urlsafe_b64encode(b"[" * 2000).decode(),  # deep nesting, and oversized
        "A",  # not a whole byte
        base64.urlsafe_b64encode(b"short").rstrip(b"=").decode(),  # shorter than the digest
    ],
)
def test_malformed_text_is_invalid(cursor: str) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, order_by=ORDER)


def test_every_single_character_change_is_detected() -> None:
    text = encode_cursor(ORDER, WHEN, 42)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

    for index, char in enumerate(text):
        for replacement in (alphabet[(alphabet.index(char) + 1) % 64], "A", "_"):
            if replacement == char:
                continue
            tampered = text[:index] + replacement + text[index + 1 :]
            with pytest.raises(InvalidCursorError):
                decode_cursor(tampered, order_by=ORDER)


@pytest.mark.parametrize("cut", [1, 2, 5, 10])
def test_truncated_or_extended_cursors_are_invalid(cut: int) -> None:
    text = encode_cursor(ORDER, WHEN, 42)

    with pytest.raises(InvalidCursorError):
        decode_cursor(text[:-cut], order_by=ORDER)
    with pytest.raises(InvalidCursorError):
        decode_cursor(text + "A" * cut, order_by=ORDER)


def test_edited_payload_without_a_new_digest_is_invalid() -> None:
    raw = base64.urlsafe_b64decode(encode_cursor(ORDER, WHEN, 42) + "==")
    edited = raw.replace(b"42", b"41")
    assert edited != raw

    with pytest.raises(InvalidCursorError, match="altered"):
        decode_cursor(base64.urlsafe_b64encode(edited).rstrip(b"=").decode(), order_by=ORDER)


def test_crafted_payload_with_valid_digest_is_accepted() -> None:
    # The digest is an integrity check, not a signature: this documents it.
    decoded = decode_cursor(craft([1, ORDER, micros(WHEN), 7]), order_by=ORDER)

    assert (decoded.value, decoded.row_id) == (WHEN, 7)


@pytest.mark.parametrize(
    "payload",
    [
        {"o": ORDER, "v": 1, "id": 1},
        [1, ORDER, micros(WHEN)],
        [1, ORDER, micros(WHEN), 1, "extra"],
        [2, ORDER, micros(WHEN), 1],  # unknown version
        [True, ORDER, micros(WHEN), 1],
        [1.0, ORDER, micros(WHEN), 1],
        [1, ORDER, float(micros(WHEN)), 1],
        [1, ORDER, str(micros(WHEN)), 1],
        [1, ORDER, True, 1],
        [1, ORDER, 10**30, 1],  # beyond datetime's range
        [1, ORDER, -(10**30), 1],
        [1, ORDER, micros(WHEN), None],
        [1, ORDER, micros(WHEN), True],
        [1, ORDER, micros(WHEN), 1.5],
        [1, ORDER, micros(WHEN), [1]],
        [1, ORDER, micros(WHEN), {"t": "uuid"}],
        [1, None, micros(WHEN), 1],
        [1, "created_at_desc", micros(WHEN), 1],
        "just a string",
        None,
    ],
)
def test_crafted_payloads_with_bad_fields_are_invalid(payload: object) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(craft(payload), order_by=ORDER)


def test_invalid_utf8_or_json_behind_a_valid_digest_is_invalid() -> None:
    for raw in (b"\xff\xfe\xfd", b"[1, 'single quotes']", b"NaN"):
        text = base64.urlsafe_b64encode(_digest(raw) + raw).rstrip(b"=").decode()
        with pytest.raises(InvalidCursorError):
            decode_cursor(text, order_by=ORDER)
