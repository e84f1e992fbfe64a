"""``generate-key`` and ``rotate-key``, and the other commands on an encrypted store."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

import cross_auth_lite as lite
from cross_auth_lite.encryption import ENCRYPTION_KEY_ENV, PREFIX, TokenCipher, generate_key
from tests.test_cli_support import assert_one_line_error, run, seed

# Fixed test keys: parametrized test ids must be the same in every process.
KEY_A = "Iyn9xP484xb-QVMITOtcbujZv-2DHkue7n4pZWczqyw="
KEY_B = "Tq73Sf9uPn8Bx0u3XoyX54T0j-yyVrFvOHLyNVRYhNM="
# The tokens seed() gives ada's GitHub identity.
SEEDED_TOKENS = (b"access-secret", b"refresh-secret")


@pytest.fixture(autouse=True)
def _no_key_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)


@pytest.fixture
def encrypted(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> dict[str, Any]:
    """The seeded store with its tokens encrypted under ``KEY_A`` by ``rotate-key``; its ids."""
    assert run(capsys, data, "rotate-key", "--key", KEY_A).code == 0
    return ids


def raw_files(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


def stored_tokens(data: Path, key: str | list[str]) -> list[str]:
    with lite.open(data, encryption_key=key) as store:
        rows = store.database.execute_sql(
            "SELECT access_token, refresh_token FROM social_accounts ORDER BY id"
        ).fetchall()
    return [value for row in rows for value in row if value is not None]


def only_under(key: str, values: list[str]) -> bool:
    fernet = Fernet(key)
    return all(
        value.startswith(PREFIX) and fernet.decrypt(value.removeprefix(PREFIX).encode())
        for value in values
    )


# generate-key


def test_generate_key_prints_a_new_key(capsys: pytest.CaptureFixture[str]) -> None:
    first = run(capsys, None, "generate-key")
    second = run(capsys, None, "generate-key", "--json")

    assert first.code == second.code == 0
    assert first.err == ""
    key = first.out.removesuffix("\n")
    assert "\n" not in key
    assert len(key) == 44
    Fernet(key)
    assert second.json()["key"] != key
    Fernet(second.json()["key"])


def test_generate_key_without_cryptography_names_the_extra(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [name for name in sys.modules if name.startswith("cryptography")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cryptography", None)

    assert_one_line_error(
        run(capsys, None, "generate-key"), contains="pip install 'cross-auth-lite[encryption]'"
    )


def test_help_lists_the_key_commands(capsys: pytest.CaptureFixture[str]) -> None:
    listed = [line.split()[0] for line in run(capsys, None, "--help").out.splitlines() if line]
    assert "generate-key" in listed
    assert "rotate-key" in listed
    rotate_help = run(capsys, None, "rotate-key", "--help").out
    assert "--key" in rotate_help
    assert "--keys-stdin" in rotate_help


# rotate-key: turning encryption on for an existing store


def test_rotate_key_encrypts_a_plaintext_store(
    capsys: pytest.CaptureFixture[str], data: Path, ids: dict[str, Any]
) -> None:
    assert all(token in raw_files(data) for token in SEEDED_TOKENS)

    result = run(capsys, data, "rotate-key", "--key", KEY_A)

    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"turned token encryption on for {data.absolute()}: its provider tokens are "
        "encrypted from now on, and the store opens only with this key (keep it: tokens "
        "encrypted with a lost key are lost)",
        f"re-encrypted the tokens of 1 of 1 social accounts with the first key in "
        f"{data.absolute()}",
    ]
    raw = raw_files(data)
    assert not any(token in raw for token in SEEDED_TOKENS)
    assert only_under(KEY_A, stored_tokens(data, KEY_A))
    with lite.open(data, encryption_key=KEY_A) as store:
        github = store.accounts.find_social_account_by_id(ids["github"])
        assert (github.access_token, github.refresh_token) == ("access-secret", "refresh-secret")


def test_rotate_key_on_a_store_with_no_tokens_says_it_turns_encryption_on(
    capsys: pytest.CaptureFixture[str], data: Path
) -> None:
    assert run(capsys, data, "init").code == 0

    first = run(capsys, data, "--json", "rotate-key", "--key", KEY_A).json()
    assert (first["encryption_turned_on"], first["social_accounts"]) == (True, 0)
    again = run(capsys, data, "rotate-key", "--key", KEY_A)
    assert again.code == 0
    assert "turned token encryption on" not in again.out  # only the first time
    # As it said: the store now needs the key.
    assert_one_line_error(run(capsys, data, "export"), contains="encrypted provider tokens")


def test_commands_that_touch_no_token_run_without_the_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    encrypted: dict[str, Any],
) -> None:
    before = (data / "accounts.sqlite3").read_bytes()

    for command in (
        ("stats",),
        ("users", "list"),
        ("users", "show", "ada@example.com"),
        ("sessions", "list"),
        ("purge",),
        ("check",),
    ):
        result = run(capsys, data, *command, "--json")
        assert result.code == 0, (command, result.err)
        assert "access-secret" not in result.out  # listings never print tokens
    shown = run(capsys, data, "users", "show", "ada@example.com", "--json").json()
    assert shown["identities"][0]["has_access_token"] is True

    # What reads or writes a token still needs the key, and says so at once.
    assert_one_line_error(run(capsys, data, "export"), contains=ENCRYPTION_KEY_ENV)
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, KEY_A)
    assert run(capsys, data, "export").code == 0
    assert b"access-secret" not in before


def test_a_missing_key_is_asked_for_in_the_command_line_s_terms(
    capsys: pytest.CaptureFixture[str], data: Path, encrypted: dict[str, Any]
) -> None:
    result = run(capsys, data, "export")
    advice = f"set ${ENCRYPTION_KEY_ENV} to the store's key"
    assert_one_line_error(result, contains=f"holds encrypted provider tokens: {advice}")
    assert "lite.open" not in result.err


def test_init_on_an_encrypted_store_needs_no_key(
    capsys: pytest.CaptureFixture[str], data: Path, encrypted: dict[str, Any]
) -> None:
    result = run(capsys, data, "init", "--shared-connections")
    assert_one_line_error(result, contains="run init without the flag")
    result = run(capsys, data, "init")
    assert (result.code, result.err) == (0, "")
    assert result.out.startswith("already initialised: store at")
    assert stored_tokens(data, KEY_A)  # still there, still under the key


def test_a_store_opened_without_its_key_refuses_every_token(
    data: Path, encrypted: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(lite.EncryptionKeyError):
        lite.open(data)
    with lite.open(data, without_token_key=True) as store:
        assert store.accounts.find_user_by_email("ada@example.com") is not None
        with pytest.raises(lite.EncryptionKeyError, match="without its encryption key"):
            store.accounts.list_social_accounts(user_id=encrypted["ada"])
        with pytest.raises(lite.EncryptionKeyError):
            store.accounts.create_social_account(
                user_id=encrypted["ada"],
                provider="github",
                provider_user_id="new",
                access_token="t",
            )
        with pytest.raises(lite.EncryptionKeyError):
            lite.admin.rotate_tokens(store)
    with lite.open(data, encryption_key=KEY_A) as store:
        accounts = store.accounts.list_social_accounts(user_id=encrypted["ada"])
        assert [a.provider_user_id for a in accounts] == ["gh-1", "g-1"]  # nothing was added
        assert accounts[0].access_token == "access-secret"


def test_export_and_import_of_an_encrypted_store(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    encrypted: dict[str, Any],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(ENCRYPTION_KEY_ENV, KEY_A)
    exported = run(capsys, data, "export")
    assert exported.code == 0, exported.err
    # The export holds every column decrypted (it is as sensitive as the store).
    github = json.loads(exported.out)["social_accounts"][0]
    assert github["access_token"] == "access-secret"

    target = tmp_path / "copy"
    assert run(capsys, target, "init").code == 0  # opened with the key: encrypted from birth
    document = tmp_path / "export.json"
    document.write_text(exported.out)
    assert run(capsys, target, "import", str(document)).code == 0, capsys.readouterr()

    assert not any(token in raw_files(target) for token in SEEDED_TOKENS)
    assert only_under(KEY_A, stored_tokens(target, KEY_A))


# rotate-key: changing keys


# The new key first, then the old one, given each way rotate-key takes keys; the
# blank line on stdin is skipped.
KEY_SOURCES = {
    "environment": ((), {ENCRYPTION_KEY_ENV: f"{KEY_B},{KEY_A}"}, None),
    "options": (("--key", KEY_B, "--key", KEY_A), {}, None),
    "stdin": (("--keys-stdin",), {}, f"{KEY_B}\n\n{KEY_A}\n"),
}


@pytest.mark.parametrize(("args", "env", "stdin"), KEY_SOURCES.values(), ids=KEY_SOURCES)
def test_rotate_key_moves_every_token_to_the_first_key(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    encrypted: dict[str, Any],
    args: tuple[str, ...],
    env: dict[str, str],
    stdin: str | None,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))

    result = run(capsys, data, "rotate-key", *args, "--json")

    assert result.code == 0, result.err
    assert result.json() == {
        "path": str(data.absolute()),
        "encryption_turned_on": False,
        "keys": 2,
        "social_accounts": 1,
        "reencrypted": 1,
        "compacted": True,
    }
    assert only_under(KEY_B, stored_tokens(data, KEY_B))  # the old key is no longer needed
    monkeypatch.delenv(ENCRYPTION_KEY_ENV, raising=False)
    assert_one_line_error(
        run(capsys, data, "rotate-key", "--key", KEY_A), contains="does not match"
    )


def test_rotate_key_says_when_old_keys_can_go(
    capsys: pytest.CaptureFixture[str], data: Path, encrypted: dict[str, Any]
) -> None:
    result = run(capsys, data, "rotate-key", "--key", KEY_B, "--key", KEY_A)

    assert result.code == 0, result.err
    assert result.out.splitlines()[1:] == [
        "every token is now under the first key: the other keys can be dropped"
    ]
    assert "turned token encryption on" not in result.out
    again = run(capsys, data, "rotate-key", "--key", KEY_B, "--json")
    assert again.json()["reencrypted"] == 0


# rotate-key: errors, one line each, that change nothing and echo no key


# (arguments, stdin, whether a store is there, exit status, what the error says)
REFUSALS = {
    "no-key": ((), None, True, 1, ENCRYPTION_KEY_ENV),
    "blank-stdin": (("--keys-stdin",), "\n", True, 1, "stdin"),
    "malformed-key": (
        ("--key", KEY_A, "--key", "hunter2"),
        None,
        True,
        1,
        "encryption key 2 is not a Fernet key",
    ),
    "exclusive-options": (("--key", KEY_A, "--keys-stdin"), None, False, 2, "not allowed with"),
    "no-store": (("--key", KEY_A), None, False, 1, "no store at"),
}


@pytest.mark.parametrize(
    ("args", "stdin", "seeded", "code", "contains"), REFUSALS.values(), ids=REFUSALS
)
def test_rotate_key_refusals(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    args: tuple[str, ...],
    stdin: str | None,
    seeded: bool,
    code: int,
    contains: str,
) -> None:
    if seeded:
        seed(data)
        before = raw_files(data)
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))

    result = run(capsys, data, "rotate-key", *args)

    assert_one_line_error(result, code=code, contains=contains)
    for value in args[1::2] if args[:1] == ("--key",) else ():
        assert value not in result.err  # no key, good or malformed, is echoed
    if seeded:
        assert raw_files(data) == before  # nothing changed: the tokens are still plaintext
        assert all(token in before for token in SEEDED_TOKENS)
    else:
        assert not data.exists()


def test_rotate_key_meeting_a_token_no_key_decrypts_changes_nothing(
    capsys: pytest.CaptureFixture[str], data: Path, encrypted: dict[str, Any]
) -> None:
    with lite.open(data, encryption_key=KEY_A) as store:
        store.database.execute_sql(
            "UPDATE social_accounts SET refresh_token = ? WHERE id = ?",
            (TokenCipher(generate_key()).encrypt("lost"), encrypted["github"]),
        )
    before = stored_tokens(data, KEY_A)

    result = run(capsys, data, "rotate-key", "--key", KEY_B, "--key", KEY_A)

    assert_one_line_error(result, contains="nothing changed: cannot decrypt")
    assert f"row {encrypted['github']}" in result.err
    assert stored_tokens(data, KEY_A) == before


def test_rotate_key_says_when_the_file_could_not_be_compacted(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    data: Path,
    ids: dict[str, Any],
) -> None:
    monkeypatch.setattr("cross_auth_lite.admin.key_rotation._compact", lambda database: False)

    result = run(capsys, data, "rotate-key", "--key", KEY_A)

    assert result.code == 0, result.err
    assert result.out.splitlines()[-1].startswith("note: the database could not be compacted")


def test_a_key_that_starts_with_a_dash_is_a_key(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """URL-safe base64 keys may begin with "-"; they must not be read as options."""
    dashed = "-" + generate_key()[1:]
    TokenCipher(dashed)  # still a valid Fernet key
    data = tmp_path / "store"
    lite.open(data).close()

    result = run(capsys, data, "rotate-key", "--key", dashed)

    assert result.code == 0, result.err
