"""Provider tokens encrypted at rest: what reaches the file, keys, rotation, errors.

"The file" is checked byte for byte: every file under the store directory
(the SQLite database, its WAL while the store is open, the cache) is read
raw and searched for the plaintext tokens.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import peewee
import pytest
from cryptography.fernet import Fernet, InvalidToken

import cross_auth_lite as lite
from cross_auth_lite.admin.key_rotation import rotate_tokens
from cross_auth_lite.database.models import build_models
from cross_auth_lite.dev import DevIdentity
from cross_auth_lite.encryption import (
    ENCRYPTION_KEY_ENV,
    PREFIX,
    EncryptedTextField,
    EncryptionError,
    EncryptionKeyError,
    EncryptionUnavailableError,
    TokenCipher,
    generate_key,
    store_cipher,
    token_cipher,
)
from tests.factories import connect, signup
from tests.oauth import (
    ALICE,
    SESSION_COOKIE,
    Providers,
    connect_identity,
    make_app,
    mock_providers,
    session_row,
    sign_in,
)

# Fixed test keys: parametrized test ids must be the same in every process.
KEY_A = "Iyn9xP484xb-QVMITOtcbujZv-2DHkue7n4pZWczqyw="
KEY_B = "Tq73Sf9uPn8Bx0u3XoyX54T0j-yyVrFvOHLyNVRYhNM="
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def secret(label: str) -> str:
    """A token that cannot turn up in a file by chance."""
    return f"{label}-{secrets.token_hex(12)}"


def raw_files(directory: Path) -> bytes:
    """Every file under ``directory`` as it is on disk, the -wal file included."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def assert_nowhere_on_disk(directory: Path, *tokens: str) -> None:
    files = sorted(path.name for path in directory.rglob("*") if path.is_file())
    assert "accounts.sqlite3" in files
    raw = raw_files(directory)
    for token in tokens:
        assert token.encode() not in raw, f"{token} is on disk in plaintext ({files})"


def stored(store: lite.LiteStore) -> list[tuple[Any, ...]]:
    """``(id, access_token, refresh_token)`` of every social account, as stored."""
    cursor = store.database.execute_sql(
        "SELECT id, access_token, refresh_token FROM social_accounts ORDER BY id"
    )
    return list(cursor.fetchall())


def under(key: str, value: str) -> bytes | None:
    """The plaintext of a stored ``value`` if ``key`` alone decrypts it, else ``None``."""
    assert value.startswith(PREFIX)
    try:
        return Fernet(key).decrypt(value.removeprefix(PREFIX).encode())
    except InvalidToken:
        return None


def update_tokens(store: lite.LiteStore, account_id: Any, access: str, refresh: str) -> Any:
    return store.accounts.update_social_account(
        account_id,
        access_token=access,
        refresh_token=refresh,
        access_token_expires_at=NOW,
        refresh_token_expires_at=None,
        scope="read:user",
    )


class Filtered(lite.PeeweeAccountsStorage[Any, Any]):
    """Overrides a filter hook, so reads go through peewee's query builder, not compiled SQL."""

    def filter_social_account_query(self, query: Any) -> Any:
        return query.where(self.SocialAccountModel.provider != "hidden")


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "store"


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)


@pytest.fixture
def encrypted(path: Path) -> Iterator[lite.LiteStore]:
    with lite.open(path, encryption_key=KEY_A) as store:
        yield store


# Nothing in plaintext on disk; plaintext through the API


def test_tokens_written_by_every_path_reach_the_file_only_encrypted(
    encrypted: lite.LiteStore, path: Path
) -> None:
    tokens = {name: secret(name) for name in ("a1", "r1", "a2", "r2", "a3", "r3")}
    user, first = signup(
        encrypted.accounts,
        "ada@example.com",
        access_token=tokens["a1"],
        refresh_token=tokens["r1"],
    )
    second = connect(
        encrypted.accounts,
        user.id,
        "gh-2",
        provider="gitlab",
        access_token=tokens["a2"],
        refresh_token=tokens["r2"],
    )
    updated = update_tokens(encrypted, first.id, tokens["a3"], tokens["r3"])

    # What the storage hands back is plaintext...
    assert (first.access_token, first.refresh_token) == (tokens["a1"], tokens["r1"])
    assert (second.access_token, second.refresh_token) == (tokens["a2"], tokens["r2"])
    assert (updated.access_token, updated.refresh_token) == (tokens["a3"], tokens["r3"])
    # ... and every stored value is ciphertext under the key.
    rows = stored(encrypted)
    assert len(rows) == 2
    for _id, *values in rows:
        assert all(value.startswith(PREFIX) and under(KEY_A, value) for value in values)
    assert_nowhere_on_disk(path, *tokens.values())  # the WAL, while the store is open
    encrypted.database.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    assert_nowhere_on_disk(path, *tokens.values())  # and the database file itself


@pytest.mark.parametrize("accounts_kind", ["compiled", "query builder"])
def test_reads_decrypt_on_every_path(encrypted: lite.LiteStore, accounts_kind: str) -> None:
    models = encrypted.models
    accounts = (
        encrypted.accounts
        if accounts_kind == "compiled"
        else Filtered(models.User, models.SocialAccount)
    )
    assert accounts._plain_accounts is (accounts_kind == "compiled")
    access, refresh = secret("access"), secret("refresh")
    user, account = signup(
        encrypted.accounts, "ada@example.com", access_token=access, refresh_token=refresh
    )

    found = [
        accounts.find_social_account(provider="github", provider_user_id="gh-1"),
        accounts.find_social_account(
            provider="github", provider_user_id="gh-1", user_id=user.id, is_login_method=True
        ),
        accounts.find_social_account_by_id(account.id),
        *accounts.list_social_accounts(user_id=user.id),
        models.SocialAccount.get_by_id(account.id),
    ]

    assert [(row.access_token, row.refresh_token) for row in found] == [(access, refresh)] * 5
    (row,) = models.SocialAccount.select().dicts()
    assert (row["access_token"], row["refresh_token"]) == (access, refresh)


def test_encryption_is_randomized_and_none_stays_null(encrypted: lite.LiteStore) -> None:
    _, first = signup(encrypted.accounts, "ada@example.com", access_token="same")
    connect(encrypted.accounts, first.user_id, "gh-2", access_token="same", refresh_token=None)

    (_, a1, _), (_, a2, r2) = stored(encrypted)
    assert a1 != a2  # equal tokens are not recognisable on disk
    assert r2 is None


def test_the_columns_keep_their_type_and_place(encrypted: lite.LiteStore, tmp_path: Path) -> None:
    with lite.open(tmp_path / "plain") as plain:
        expected = plain.database.execute_sql("PRAGMA table_info(social_accounts)").fetchall()
    columns = encrypted.database.execute_sql("PRAGMA table_info(social_accounts)").fetchall()

    assert columns == expected
    access = encrypted.models.SocialAccount._meta.fields["access_token"]
    assert isinstance(access, EncryptedTextField)
    # Not a TextField: compiled statements skip the conversion of those.
    assert not isinstance(access, peewee.TextField)


def test_a_token_may_not_look_encrypted(encrypted: lite.LiteStore, tmp_path: Path) -> None:
    user, _ = signup(encrypted.accounts, "ada@example.com")
    with pytest.raises(ValueError, match="may not start with"):
        connect(encrypted.accounts, user.id, "gh-2", access_token=PREFIX + "x")
    with lite.open(tmp_path / "plain") as plain, pytest.raises(ValueError, match="may not start"):
        signup(plain.accounts, "ada@example.com", refresh_token=PREFIX + "x")


def test_the_cross_auth_flow_writes_tokens_encrypted_and_sessions_as_hashes(
    encrypted: lite.LiteStore, path: Path
) -> None:
    with mock_providers() as providers:
        app = make_app(encrypted, providers)
        alice = sign_in(app.browser(), providers, ALICE)  # create_user_with_identity
        first_session = alice.cookies.get(SESSION_COOKIE)
        sign_in(alice, providers, ALICE)  # update_social_account with fresh tokens
        work = DevIdentity("Alice", "alice@work.example", "alice-work")
        assert connect_identity(alice, providers, work).status_code == 302  # create_social_account
        session_token = alice.cookies.get(SESSION_COOKIE)
        issued = _issued_tokens(providers)

    assert len(issued) == 6
    accounts = encrypted.models.SocialAccount.select().order_by(encrypted.models.SocialAccount.id)
    fake, other = accounts
    assert fake.access_token == issued[2]
    assert fake.refresh_token == issued[3]
    assert other.access_token == issued[4]
    assert other.refresh_token == issued[5]
    # Sessions hold the SHA-256 of their token, never the token.
    assert first_session
    assert session_token
    for token in (first_session, session_token):
        row = session_row(encrypted, token)
        assert row is not None
        assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert_nowhere_on_disk(path, *issued, first_session, session_token)


def _issued_tokens(providers: Providers) -> list[str]:
    """Every access and refresh token the providers issued, in order of issue."""
    issued: list[str] = []
    for idp in (providers.fake, providers.other):
        for granted in idp.issued:
            issued += [granted["access_token"], granted["refresh_token"]]
    return issued


# Keys


def test_generate_key_makes_distinct_fernet_keys() -> None:
    keys = {generate_key() for _ in range(5)}
    assert len(keys) == 5
    for key in keys:
        assert len(key) == 44
        Fernet(key)  # a valid key


@pytest.mark.parametrize(
    "value",
    [f"{KEY_B},{KEY_A}", f" {KEY_B} , {KEY_A}\n", [KEY_B, KEY_A], (KEY_B.encode(), KEY_A)],
    ids=["comma-separated", "with blanks", "list", "bytes and str"],
)
def test_several_keys_first_encrypts_all_decrypt(value: Any) -> None:
    cipher = TokenCipher(value)
    old = TokenCipher(KEY_A).encrypt("old token")

    assert cipher.key_count == 2
    assert cipher.decrypt(old) == "old token"
    assert under(KEY_B, cipher.encrypt("new token")) == b"new token"
    assert KEY_A not in repr(cipher)
    assert KEY_B not in repr(cipher)


@pytest.mark.parametrize("value", ["", " , ", [], "not-a-key", [KEY_A, "x" * 44], KEY_A[:-2]])
def test_malformed_keys_are_refused_without_echoing_them(value: Any, path: Path) -> None:
    with pytest.raises(EncryptionKeyError) as raised:
        lite.open(path, encryption_key=value)
    message = str(raised.value)
    assert "key" in message
    assert "not-a-key" not in message
    assert "x" * 44 not in message
    assert KEY_A[:-2] not in message
    assert not path.exists()  # refused before anything was created


@pytest.mark.parametrize("value", [123, [KEY_A, 5], {"key": KEY_A}])
def test_keys_of_the_wrong_type(value: Any, path: Path) -> None:
    with pytest.raises(TypeError):
        lite.open(path, encryption_key=value)


def test_the_environment_gives_the_keys(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, f"{KEY_B}, {KEY_A}")
    with lite.open(path) as store:
        signup(store.accounts, "ada@example.com", access_token="from-env")
        (_, access, _) = stored(store)[0]
        assert store.accounts.find_social_account_by_id(1).access_token == "from-env"
    assert under(KEY_B, access) == b"from-env"


def test_an_explicit_key_wins_over_the_environment(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, KEY_B)
    with lite.open(path, encryption_key=KEY_A) as store:
        signup(store.accounts, "ada@example.com", access_token="explicit")
        (_, access, _) = stored(store)[0]
    assert under(KEY_A, access) == b"explicit"


def test_an_empty_environment_variable_means_no_key(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, "  ")
    assert token_cipher() is None
    with lite.open(path) as store:
        signup(store.accounts, "ada@example.com", access_token="plain")
        assert stored(store)[0][1] == "plain"
        assert store_cipher(store.models.SocialAccount) is None


def test_a_malformed_environment_variable_is_named(
    monkeypatch: pytest.MonkeyPatch, path: Path
) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, "oops")
    with pytest.raises(EncryptionKeyError, match=ENCRYPTION_KEY_ENV) as raised:
        lite.open(path)
    assert "oops" not in str(raised.value)


def test_the_pytest_marker_passes_the_key(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest
        from cross_auth_lite.encryption import PREFIX

        @pytest.mark.lite_store(encryption_key={KEY_A!r})
        def test_encrypted(lite_store):
            user = lite_store.accounts.create_user(user_info={{}}, email="a@example.com")
            lite_store.accounts.create_social_account(
                user_id=user.id, provider="p", provider_user_id="1", access_token="t"
            )
            (value,) = lite_store.database.execute_sql(
                "SELECT access_token FROM social_accounts"
            ).fetchone()
            assert value.startswith(PREFIX)
        """
    )
    pytester.runpytest_inprocess("-p", "no:randomly").assert_outcomes(passed=1)


# No key, wrong key


def test_opening_an_encrypted_store_without_a_key_fails_at_once(
    encrypted: lite.LiteStore, path: Path
) -> None:
    signup(encrypted.accounts, "ada@example.com")
    encrypted.close()

    with pytest.raises(EncryptionKeyError, match="holds encrypted provider tokens") as raised:
        lite.open(path)
    assert ENCRYPTION_KEY_ENV in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_an_encrypted_store_is_refused_even_before_it_holds_a_token(
    encrypted: lite.LiteStore, path: Path
) -> None:
    # Otherwise a process without the key would write plaintext into it.
    encrypted.close()
    with pytest.raises(EncryptionKeyError):
        lite.open(path)


def test_opening_with_a_wrong_key_fails_at_once(encrypted: lite.LiteStore, path: Path) -> None:
    signup(encrypted.accounts, "ada@example.com")
    encrypted.close()

    with pytest.raises(EncryptionKeyError, match="does not match"):
        lite.open(path, encryption_key=KEY_B)
    with lite.open(path, encryption_key=[KEY_B, KEY_A]) as store:  # the old key still given
        assert store.accounts.find_social_account_by_id(1) is not None


def test_reading_encrypted_tokens_without_the_key_is_a_clear_error(
    encrypted: lite.LiteStore,
) -> None:
    # Models without a cipher (as if lite_meta had lost its record) never show ciphertext.
    signup(encrypted.accounts, "ada@example.com")
    models = build_models(encrypted.database)
    keyless = lite.PeeweeAccountsStorage(models.User, models.SocialAccount)

    with pytest.raises(EncryptionKeyError, match="without an encryption key"):
        keyless.find_social_account_by_id(1)
    with pytest.raises(EncryptionKeyError, match=r"social_accounts\.access_token"):
        models.SocialAccount.get_by_id(1)


def test_reading_tokens_under_an_unknown_key_is_a_clear_error(encrypted: lite.LiteStore) -> None:
    signup(encrypted.accounts, "ada@example.com")
    foreign = TokenCipher(KEY_B).encrypt("foreign")
    encrypted.database.execute_sql("UPDATE social_accounts SET refresh_token = ?", (foreign,))

    for read in (
        lambda: encrypted.accounts.find_social_account_by_id(1),
        lambda: encrypted.accounts.list_social_accounts(user_id=1),
        lambda: Filtered(
            encrypted.models.User, encrypted.models.SocialAccount
        ).find_social_account_by_id(1),
    ):
        with pytest.raises(EncryptionKeyError, match=r"refresh_token.*does not match"):
            read()


def test_a_corrupt_ciphertext_is_an_error_not_a_token(encrypted: lite.LiteStore) -> None:
    signup(encrypted.accounts, "ada@example.com")
    for value in (PREFIX, PREFIX + "garbage", PREFIX + "é"):
        encrypted.database.execute_sql("UPDATE social_accounts SET access_token = ?", (value,))
        with pytest.raises(EncryptionKeyError):
            encrypted.accounts.find_social_account_by_id(1)


# Turning encryption on, rotating keys


def test_legacy_plaintext_reads_with_a_key_and_rotation_encrypts_it(path: Path) -> None:
    tokens = [secret("legacy") for _ in range(4)]
    with lite.open(path) as plain:
        user, _ = signup(
            plain.accounts, "ada@example.com", access_token=tokens[0], refresh_token=tokens[1]
        )
        connect(plain.accounts, user.id, "gh-2", access_token=tokens[2], refresh_token=tokens[3])
        connect(plain.accounts, user.id, "gh-3", access_token=None, refresh_token=None)
    assert tokens[0].encode() in raw_files(path)  # the raw check does see plaintext

    with lite.open(path, encryption_key=KEY_A) as store:
        accounts = store.accounts.list_social_accounts(user_id=user.id)
        assert [(a.access_token, a.refresh_token) for a in accounts] == [
            (tokens[0], tokens[1]),
            (tokens[2], tokens[3]),
            (None, None),
        ]
        result = rotate_tokens(store)
        assert (result.social_accounts, result.reencrypted, result.compacted) == (2, 2, True)
        for _id, *values in stored(store)[:2]:
            assert all(under(KEY_A, value) for value in values)
        assert [a.access_token for a in store.accounts.list_social_accounts(user_id=user.id)] == [
            tokens[0],
            tokens[2],
            None,
        ]
        assert_nowhere_on_disk(path, *tokens)  # compacted: no stale copy in free pages or WAL
    assert_nowhere_on_disk(path, *tokens)
    with pytest.raises(EncryptionKeyError):
        lite.open(path)


@pytest.mark.parametrize("compact", [True, False])
def test_rotation_compacts_away_plaintext_left_in_free_pages(path: Path, compact: bool) -> None:
    # SQLite builds without SECURE_DELETE leave deleted rows' bytes in free
    # pages, out of reach of the rotation: compaction rewrites the file.
    gone = [f"gone-{i:04d}-" + secrets.token_hex(40) for i in range(100)]
    with lite.open(path) as plain:
        plain.database.execute_sql("PRAGMA secure_delete = OFF")
        user, _ = signup(plain.accounts, "ada@example.com", access_token="kept")
        ids = [
            connect(plain.accounts, user.id, f"old-{i}", access_token=token).id
            for i, token in enumerate(gone)
        ]
        for account_id in ids:
            plain.accounts.delete_social_account(account_id)
    before = raw_files(path)
    assert any(token.encode() in before for token in gone)

    with lite.open(path, encryption_key=KEY_A) as store:
        store.database.execute_sql("PRAGMA secure_delete = OFF")
        result = rotate_tokens(store, compact=compact)
    assert (result.reencrypted, result.compacted) == (1, True if compact else None)

    raw = raw_files(path)
    left = [token for token in gone if token.encode() in raw]
    if compact:
        assert left == []
    else:
        assert left  # what compaction is for


def test_rotating_to_a_new_key(path: Path) -> None:
    with lite.open(path, encryption_key=KEY_A) as store:
        user, _ = signup(store.accounts, "ada@example.com", access_token="one", refresh_token="1")

    with lite.open(path, encryption_key=[KEY_B, KEY_A]) as store:
        # Old rows read; new rows are written under the new key.
        assert store.accounts.find_social_account_by_id(1).access_token == "one"
        connect(store.accounts, user.id, "gh-2", access_token="two", refresh_token="2")
        (_, old, _), (_, new, _) = stored(store)
        assert under(KEY_A, old) == b"one"
        assert under(KEY_B, old) is None
        assert under(KEY_B, new) == b"two"
        assert under(KEY_A, new) is None

    with pytest.raises(EncryptionKeyError, match="does not match"):
        lite.open(path, encryption_key=KEY_B)  # the old key is still needed

    with lite.open(path, encryption_key=[KEY_B, KEY_A]) as store:
        result = rotate_tokens(store)
        assert (result.social_accounts, result.reencrypted) == (2, 1)
        assert rotate_tokens(store).reencrypted == 0  # nothing left to do

    with lite.open(path, encryption_key=KEY_B) as store:  # the old key is dropped
        for _id, *values in stored(store):
            assert all(under(KEY_B, value) and under(KEY_A, value) is None for value in values)
        accounts = store.accounts.list_social_accounts(user_id=user.id)
        assert [(a.access_token, a.refresh_token) for a in accounts] == [
            ("one", "1"),
            ("two", "2"),
        ]
    with pytest.raises(EncryptionKeyError):
        lite.open(path, encryption_key=KEY_A)


def test_a_rotation_that_meets_an_unknown_key_changes_nothing(encrypted: lite.LiteStore) -> None:
    user, _ = signup(encrypted.accounts, "ada@example.com")
    connect(encrypted.accounts, user.id, "gh-2")
    encrypted.database.execute_sql(
        "UPDATE social_accounts SET refresh_token = ? WHERE id = 2",
        (TokenCipher(generate_key()).encrypt("lost"),),
    )
    before = stored(encrypted)
    rotating = lite.open(encrypted.path, encryption_key=[KEY_B, KEY_A])

    with rotating, pytest.raises(EncryptionKeyError, match=r"refresh_token of row 2"):
        rotate_tokens(rotating)
    assert stored(encrypted) == before


def test_rotating_needs_a_key(path: Path) -> None:
    with lite.open(path) as store, pytest.raises(EncryptionKeyError, match="without an"):
        rotate_tokens(store)


def test_rotating_inside_an_application_transaction_skips_compaction(
    encrypted: lite.LiteStore,
) -> None:
    signup(encrypted.accounts, "ada@example.com")
    with encrypted.database.atomic():
        result = rotate_tokens(encrypted)
    assert (result.reencrypted, result.compacted) == (0, None)


def test_two_stores_with_their_own_keys(tmp_path: Path) -> None:
    with (
        lite.open(tmp_path / "a", encryption_key=KEY_A) as a,
        lite.open(tmp_path / "b", encryption_key=KEY_B) as b,
        lite.open(tmp_path / "c") as c,
    ):
        for store in (a, b, c):
            signup(store.accounts, "ada@example.com", access_token="t")
        assert under(KEY_A, stored(a)[0][1]) == b"t"
        assert under(KEY_B, stored(b)[0][1]) == b"t"
        assert stored(c)[0][1] == "t"
        # Updates share their SQL across stores too, but each encrypts under its own key.
        for store in (a, b, c):
            update_tokens(store, 1, "u", "r")
        assert [under(KEY_A, value) for value in stored(a)[0][1:3]] == [b"u", b"r"]
        assert [under(KEY_B, value) for value in stored(b)[0][1:3]] == [b"u", b"r"]
        assert stored(c)[0][1:3] == ("u", "r")


# Without the cryptography package


def test_without_cryptography_the_core_works_and_encryption_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [name for name in sys.modules if name.startswith("cryptography")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)

    with lite.open(tmp_path / "plain") as store:
        signup(store.accounts, "ada@example.com", access_token="plain")
        assert store.accounts.find_social_account_by_id(1).access_token == "plain"
    for attempt in (
        lambda: lite.open(tmp_path / "x", encryption_key=KEY_A),
        generate_key,
    ):
        with pytest.raises(EncryptionUnavailableError, match=r"cross-auth-lite\[encryption\]"):
            attempt()
    assert issubclass(EncryptionUnavailableError, ImportError)
    assert issubclass(EncryptionUnavailableError, EncryptionError)
    assert not (tmp_path / "x").exists()


def test_session_tables_hold_hashes_only(encrypted: lite.LiteStore, path: Path) -> None:
    user, _ = signup(encrypted.accounts, "ada@example.com")
    token = secrets.token_urlsafe(32)
    token_hash = hashlib.sha256(token.encode()).hexdigest()
    encrypted.sessions.create(
        token_hash=token_hash,
        user_id=user.id,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    columns = [
        row[1]
        for row in sqlite3.connect(path / "accounts.sqlite3").execute(
            "PRAGMA table_info(sessions)"
        )
    ]

    assert "token_hash" in columns
    assert "token" not in columns
    assert encrypted.database.execute_sql("SELECT token_hash FROM sessions").fetchall() == [
        (token_hash,)
    ]
    assert_nowhere_on_disk(path, token)
