"""on_commit: immediate outside a transaction, deferred to the outermost commit inside one.

On the fast paths and in portable mode (``contract``): both run the same
public-API transactions, the fast paths with a direct ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

from typing import Any

import peewee
import pytest

import cross_auth_lite as lite
from cross_auth_lite.database import commit_callbacks
from tests.factories import connect, signup

pytestmark = [pytest.mark.all_backends, pytest.mark.contract]


class Boom(Exception):
    pass


def test_immediate_without_a_transaction(store: lite.LiteStore) -> None:
    ran: list[str] = []
    store.accounts.on_commit(lambda: ran.append("accounts"))
    store.sessions.on_commit(lambda: ran.append("sessions"))
    assert ran == ["accounts", "sessions"]


def test_deferred_until_the_outermost_commit(store: lite.LiteStore) -> None:
    ran: list[str] = []
    with store.database.atomic():
        user, _ = signup(store.accounts, "ada@example.com")
        store.accounts.on_commit(lambda: ran.append("first"))
        with store.database.atomic():
            connect(store.accounts, user.id, "gh-2", is_login_method=False)
            store.accounts.on_commit(lambda: ran.append("second"))
        assert ran == []  # releasing the savepoint is not a commit
    assert ran == ["first", "second"]
    assert len(store.accounts.list_social_accounts(user_id=user.id)) == 2


def test_dropped_on_rollback(store: lite.LiteStore) -> None:
    ran: list[str] = []
    with pytest.raises(Boom), store.database.atomic():
        signup(store.accounts, "ada@example.com")
        store.accounts.on_commit(lambda: ran.append("never"))
        raise Boom
    assert ran == []
    assert store.accounts.find_user_by_email("ada@example.com") is None
    # Nothing is left queued for the next transaction either.
    with store.database.atomic():
        store.accounts.on_commit(lambda: ran.append("next"))
    assert ran == ["next"]


def test_savepoint_rollback_drops_only_its_own_callbacks(store: lite.LiteStore) -> None:
    ran: list[str] = []
    with store.database.atomic():
        user, _ = signup(store.accounts, "ada@example.com")
        store.accounts.on_commit(lambda: ran.append("kept"))
        with pytest.raises(Boom), store.database.atomic():
            connect(store.accounts, user.id, "gh-2", is_login_method=False)
            store.accounts.on_commit(lambda: ran.append("dropped"))
            raise Boom
        store.accounts.on_commit(lambda: ran.append("after"))
    assert ran == ["kept", "after"]
    assert len(store.accounts.list_social_accounts(user_id=user.id)) == 1


def test_a_failing_callback_surfaces_after_the_commit(store: lite.LiteStore) -> None:
    def fail() -> None:
        raise Boom("hook failed")

    with pytest.raises(Boom, match="hook failed"), store.database.atomic():
        signup(store.accounts, "ada@example.com")
        store.accounts.on_commit(fail)
    # The write was committed; only its hook failed.
    assert store.accounts.find_user_by_email("ada@example.com") is not None
    assert not store.database.in_transaction()


def test_callbacks_are_per_thread(store: lite.LiteStore) -> None:
    import threading

    ran: list[str] = []
    with store.database.atomic():
        store.accounts.on_commit(lambda: ran.append("main"))
        worker = threading.Thread(
            target=lambda: store.accounts.on_commit(lambda: ran.append("worker"))
        )
        worker.start()
        worker.join()
        assert ran == ["worker"]  # the worker has no open transaction
    assert ran == ["worker", "main"]


def test_cross_auth_sees_deferred_callbacks(store: lite.LiteStore) -> None:
    """Cross-Auth probes on_commit to refuse sign-ins inside application transactions."""
    from cross_auth._login import require_immediate_commit

    require_immediate_commit(store.accounts.on_commit, "not raised outside")
    with store.database.atomic(), pytest.raises(RuntimeError, match="inside"):
        require_immediate_commit(store.accounts.on_commit, "raised inside")


# peewee's own after_commit shares the queue


def test_peewee_after_commit_runs_after_the_outermost_commit(store: lite.LiteStore) -> None:
    ran: list[str] = []
    with store.database.atomic():
        signup(store.accounts, "ada@example.com")
        store.database.after_commit(lambda: ran.append("peewee"))
        store.accounts.on_commit(lambda: ran.append("cross-auth"))
        with store.database.atomic():
            store.database.after_commit(lambda: ran.append("peewee, nested"))
        assert ran == []
    assert ran == ["peewee", "cross-auth", "peewee, nested"]
    store.database.after_commit(lambda: ran.append("immediate"))
    assert ran[-1] == "immediate"


def test_peewee_after_commit_is_dropped_with_its_savepoint(store: lite.LiteStore) -> None:
    ran: list[str] = []
    with store.database.atomic():
        user, _ = signup(store.accounts, "ada@example.com")
        with pytest.raises(Boom), store.database.atomic():
            connect(store.accounts, user.id, "gh-2", is_login_method=False)
            store.database.after_commit(lambda: ran.append("dropped"))
            raise Boom
        store.database.after_commit(lambda: ran.append("kept"))
    assert ran == ["kept"]
    with pytest.raises(Boom), store.database.atomic():
        store.database.after_commit(lambda: ran.append("rolled back"))
        raise Boom
    with store.database.atomic():
        pass
    assert ran == ["kept"]  # nothing left pending for a later commit


def test_a_failing_after_commit_callback_surfaces_after_the_commit(
    store: lite.LiteStore,
) -> None:
    def fail() -> None:
        raise Boom

    with pytest.raises(Boom), store.database.atomic():
        signup(store.accounts, "ada@example.com")
        store.database.after_commit(fail)
    assert store.accounts.find_user_by_email("ada@example.com") is not None


# Callbacks registered inside the store's own write transaction (a signup)


def _signup_storage(store: lite.LiteStore, during: Any) -> Any:
    """Accounts storage whose ``build_user`` runs ``during(storage)`` inside the signup."""

    class Accounts(lite.PeeweeAccountsStorage[Any, Any]):
        def build_user(self, **kwargs: Any) -> Any:
            user = super().build_user(**kwargs)
            during(self)
            return user

    # With this thread's connection open, a signup runs its own BEGIN
    # IMMEDIATE/COMMIT on it (without peewee's atomic() layers): the case here.
    store.database.connect(reuse_if_open=True)
    return Accounts(store.models.User, store.models.SocialAccount)


def test_callbacks_inside_a_signup_wait_for_its_commit(store: lite.LiteStore) -> None:
    ran: list[str] = []
    outside = lite.PeeweeAccountsStorage(store.models.User, store.models.SocialAccount)

    def during(accounts: Any) -> None:
        accounts.on_commit(lambda: ran.append("on_commit"))
        store.database.after_commit(lambda: ran.append("after_commit"))
        assert ran == []
        top = store.database.top_transaction()
        assert isinstance(top, commit_callbacks.Transaction)
        direct = isinstance(store.database, peewee.SqliteDatabase) and store.database.fast_paths
        assert isinstance(top, commit_callbacks.DirectTransaction) == direct
        with pytest.raises(Boom), store.database.atomic():  # a savepoint inside the signup
            accounts.on_commit(lambda: ran.append("dropped with its savepoint"))
            raise Boom
        with store.database.atomic():
            accounts.on_commit(lambda: ran.append("released savepoint"))

    user, _ = signup(_signup_storage(store, during), "ada@example.com")
    assert ran == ["on_commit", "after_commit", "released savepoint"]
    assert outside.find_user_by_id(user.id) is not None
    assert not store.database.in_transaction()
    store.accounts.on_commit(lambda: ran.append("immediate"))  # nothing left open
    assert ran[-1] == "immediate"


def test_a_failed_signup_drops_its_callbacks(store: lite.LiteStore) -> None:
    ran: list[str] = []

    def during(accounts: Any) -> None:
        accounts.on_commit(lambda: ran.append("never"))
        raise Boom

    with pytest.raises(Boom):
        signup(_signup_storage(store, during), "ada@example.com")
    assert ran == []
    assert store.accounts.find_user_by_email("ada@example.com") is None
    assert not store.database.in_transaction()
    with store.database.atomic():
        store.accounts.on_commit(lambda: ran.append("next"))
    assert ran == ["next"]  # nothing was left queued


def test_a_signup_inside_an_application_transaction_is_a_savepoint(
    store: lite.LiteStore,
) -> None:
    ran: list[str] = []

    def during(accounts: Any) -> None:
        accounts.on_commit(lambda: ran.append("signup"))

    accounts = _signup_storage(store, during)
    with pytest.raises(Boom), store.database.atomic():
        signup(accounts, "ada@example.com")
        assert ran == []
        raise Boom
    assert ran == []
    assert store.accounts.find_user_by_email("ada@example.com") is None
    with store.database.atomic():
        signup(accounts, "bob@example.com")
        assert ran == []
    assert ran == ["signup"]


def test_an_explicit_commit_inside_a_signup_runs_callbacks(store: lite.LiteStore) -> None:
    ran: list[str] = []

    def during(accounts: Any) -> None:
        accounts.on_commit(lambda: ran.append("first"))
        store.database.top_transaction().commit()  # durable now; a new transaction begins
        assert ran == ["first"]
        accounts.on_commit(lambda: ran.append("second"))

    signup(_signup_storage(store, during), "ada@example.com")
    assert ran == ["first", "second"]
    assert store.accounts.find_user_by_email("ada@example.com") is not None
    assert not store.database.in_transaction()
