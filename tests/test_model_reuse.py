"""A closed store's model classes serve the next store of its shape, only when nobody holds them.

``LiteStore.close()`` retires its classes; the next ``lite.open()`` with the
same options binds them to its own database (``database/model_reuse.py``).
Here: the reused classes read and write the new store's files and nothing
else; anything still holding a closed store's classes (an instance, a
query, a field...) keeps them bound where they were, and the new store gets
classes of its own; stores of other shapes and encrypted stores never take
them. A weak reference watches the classes without holding them.

The first store of a shape to run a statement lends its fields to the
process's template of that statement, so its classes are never reused:
each test that expects reuse first warms the shape with a store of its own.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import cross_auth_lite as lite
from tests.factories import signup

KEY = "Iyn9xP484xb-QVMITOtcbujZv-2DHkue7n4pZWczqyw="
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _used_and_closed(path: Path, **options: Any) -> tuple[weakref.ref[Any], ...]:
    """Use and close a new store at ``path``; weak references to its classes."""
    store = lite.open(path, **options)
    user, _ = signup(store.accounts, f"{path.name}@example.com", provider_user_id=path.name)
    store.sessions.create(
        token_hash=f"hash-{path.name}",
        user_id=user.id,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    store.secondary.set(f"state-{path.name}", "value", ttl=60)
    assert store.accounts.find_user_by_email(f"{path.name}@example.com") == user
    assert store.sessions.get(token_hash=f"hash-{path.name}", now=NOW) is not None
    assert [model.select().count() for model in store.models.all()] == [1, 1, 1]  # peewee's own
    store.close()
    return tuple(weakref.ref(model) for model in store.models.all())


def _warmed_and_closed(tmp_path: Path, **options: Any) -> tuple[weakref.ref[Any], ...]:
    """A used and closed store's classes, after another store of its shape ran the same paths."""
    _used_and_closed(tmp_path / "warm", **options)
    return _used_and_closed(tmp_path / "first", **options)


def _classes(store: lite.LiteStore) -> list[Any]:
    return store.models.all()


def test_the_next_store_of_a_shape_binds_a_closed_stores_classes_to_its_own_files(
    tmp_path: Path,
) -> None:
    retired = _warmed_and_closed(tmp_path)

    with lite.open(tmp_path / "second") as second:
        assert [ref() for ref in retired] == _classes(second)
        assert all(model._meta.database is second.database for model in _classes(second))
        # Nothing of the first store shows through the classes.
        assert second.accounts.find_user_by_email("first@example.com") is None
        assert second.sessions.get(token_hash="hash-first", now=NOW) is None
        user, _ = signup(second.accounts, "second@example.com", provider_user_id="second")
        assert second.accounts.find_user_by_email("second@example.com") == user
        assert second.models.User.select().count() == 1

    with lite.open(tmp_path / "first", create=False) as first:
        assert [u.email for u in first.models.User.select()] == ["first@example.com"]
        assert first.sessions.get(token_hash="hash-first", now=NOW) is not None
    with lite.open(tmp_path / "second", create=False) as again:
        assert [u.email for u in again.models.User.select()] == ["second@example.com"]


def _instance(store: lite.LiteStore) -> Any:
    return store.accounts.find_user_by_email("held@example.com")


def _session(store: lite.LiteStore) -> Any:
    return store.sessions.get(token_hash="hash-held", now=NOW)


#: What may still hold a closed store's classes, and which class each holds.
HOLDERS: dict[str, tuple[Callable[[lite.LiteStore], Any], str]] = {
    "a user read from it": (_instance, "User"),
    "a session read from it": (_session, "Session"),
    "a query": (lambda store: store.models.SocialAccount.select(), "SocialAccount"),
    "its models": (lambda store: store.models, "User"),
    "its accounts storage": (lambda store: store.accounts, "User"),
    "the store itself": (lambda store: store, "Session"),
    "a field": (lambda store: store.models.User.email, "User"),
    "an accessor": (lambda store: vars(store.models.User)["email"], "User"),
    "a backref accessor": (lambda store: vars(store.models.User)["sessions"], "Session"),
    "a model's _meta": (lambda store: store.models.Session._meta, "Session"),
    "a subclass": (lambda store: type("Mine", (store.models.User,), {}), "User"),
}


@pytest.mark.parametrize("holder", [None, *HOLDERS])
def test_classes_anything_still_holds_stay_where_they_are(
    tmp_path: Path, holder: str | None
) -> None:
    """``None``: the control, where nothing holds the classes and they are reused."""
    hold, name = HOLDERS[holder] if holder else ((lambda store: None), "User")
    _used_and_closed(tmp_path / "warm")  # the paths below, run once for the shape
    first = lite.open(tmp_path / "first")
    signup(first.accounts, "held@example.com")
    first.sessions.create(
        token_hash="hash-held",
        user_id=first.accounts.find_user_by_email("held@example.com").id,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(days=1),
    )
    first.secondary.set("state-first", "value", ttl=60)
    assert first.models.User.select().count() == 1
    held = hold(first)
    database = first.database
    watched = weakref.ref(getattr(first.models, name))
    first.close()
    del first

    with lite.open(tmp_path / "second") as second:
        if holder is None:
            assert watched() is second.models.User
            return
        assert watched() is not getattr(second.models, name)
        assert watched() is not None
        assert watched()._meta.database is database
        if holder == "a user read from it":
            assert type(held)._meta.database is database
            assert second.accounts.find_user_by_email("held@example.com") is None
    del held


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param({}, {"shared_connections": True}, id="exclusive-then-shared"),
        pytest.param({"shared_connections": True}, {}, id="shared-then-exclusive"),
        pytest.param({"encryption_key": KEY}, {"encryption_key": KEY}, id="encrypted"),
        pytest.param({"encryption_key": KEY}, {}, id="encrypted-then-plain"),
        pytest.param({}, {"encryption_key": KEY}, id="plain-then-encrypted"),
    ],
)
def test_stores_of_another_shape_and_encrypted_stores_make_their_own_classes(
    tmp_path: Path, before: dict[str, Any], after: dict[str, Any]
) -> None:
    pytest.importorskip("cryptography")
    retired = _used_and_closed(tmp_path / "first", **before)

    with lite.open(tmp_path / "second", **after) as second:
        assert not any(ref() in _classes(second) for ref in retired)
        assert second.connections == ("shared" if after.get("shared_connections") else "exclusive")
        signup(second.accounts, "second@example.com", provider_user_id="second")
        assert second.accounts.find_user_by_email("second@example.com") is not None


def test_a_shared_store_reusing_classes_keeps_its_own_rules(tmp_path: Path) -> None:
    """A shared store's classes, reused, still let two users connect one identity."""
    retired = _warmed_and_closed(tmp_path, shared_connections=True)

    with lite.open(tmp_path / "second", shared_connections=True) as second:
        assert [ref() for ref in retired] == _classes(second)
        signup(second.accounts, "a@example.com", provider_user_id="same")
        other = second.accounts.create_user(
            user_info={}, email="b@example.com", email_verified=True, extra_fields=None
        )
        second.accounts.create_social_account(
            user_id=other.id,
            provider="github",
            provider_user_id="same",
            access_token="t",
            refresh_token=None,
            access_token_expires_at=None,
            refresh_token_expires_at=None,
            scope=None,
            user_info={},
            provider_email=None,
            provider_email_verified=None,
            is_login_method=False,
            extra_fields=None,
        )
        assert second.models.SocialAccount.select().count() == 2
