"""on_commit: immediate outside a transaction, deferred to the outermost commit inside one."""

from __future__ import annotations

import pytest

import cross_auth_lite as lite
from tests.factories import connect, signup

pytestmark = pytest.mark.all_backends


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
