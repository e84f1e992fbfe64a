"""Password hashes: the rules, and passlib's bcrypt-version traceback kept out of the log."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import cross_auth_lite as lite

# A new process: passlib probes bcrypt's version once, at its first hash.
LOG_OF_A_HASH = textwrap.dedent(
    """
    import io, logging
    log = io.StringIO()
    logging.basicConfig(stream=log, level=logging.WARNING, format="%(name)s %(message)s")
    import cross_auth_lite as lite
    assert lite.hash_password("correct horse").startswith("$2")
    logging.getLogger("passlib.handlers.bcrypt").warning("another warning")
    print(log.getvalue(), end="")
    """
)


def test_hashing_logs_no_bcrypt_version_traceback_and_keeps_other_records() -> None:
    ran = subprocess.run(
        [sys.executable, "-c", LOG_OF_A_HASH],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert "error reading bcrypt version" not in ran.stdout
    assert ran.stdout == "passlib.handlers.bcrypt another warning\n"


def test_a_hash_verifies_with_cross_auths_own_context() -> None:
    from cross_auth._password import pwd_context

    assert pwd_context.verify("correct horse", lite.hash_password("correct horse"))


@pytest.mark.parametrize(
    ("password", "error", "message"),
    [
        ("", ValueError, "empty"),
        ("é" * 37, ValueError, "longer than bcrypt's limit of 72 bytes"),
        (b"bytes", TypeError, "must be str"),
    ],
)
def test_passwords_breaking_a_rule_are_refused(
    password: object, error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        lite.hash_password(password)  # type: ignore[arg-type]
