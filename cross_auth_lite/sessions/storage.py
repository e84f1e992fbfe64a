"""Sessions for Cross-Auth on any peewee database.

``PeeweeSessionStorage`` implements Cross-Auth's ``SessionStorage`` protocol
over a ``PeeweeSession`` model. Only the token's hash is stored. Every write
runs inside ``database.atomic()``, so it joins an application's
``with database.atomic():`` block, and ``on_commit`` waits for that block.

Timestamps may be any aware datetime (naive ones are taken to be UTC); they
are stored as UTC and always come back as aware UTC datetimes. Ids from
outside (HTTP hands over strings) are converted to the column's type; an id
that no row could have finds nothing instead of raising a driver error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Generic

import peewee
from cross_auth import SessionListOrder, SessionStatus
from cross_auth.exceptions import InvalidCursorError

from cross_auth_lite.database.arguments import NUL, indexed_text, optional_text, text_argument
from cross_auth_lite.database.fields import utc_argument
from cross_auth_lite.database.ids import NO_MATCH, coerce_id
from cross_auth_lite.database.model_checks import check_session_model, owner_field
from cross_auth_lite.database.model_checks import primary_key as primary_key_of
from cross_auth_lite.database.models import PeeweeSession
from cross_auth_lite.database.refusals import quoting_no_values
from cross_auth_lite.database.sqlite import bound_database, on_commit, write_transaction
from cross_auth_lite.database.statements import Compiled, StatementCache, insert_row
from cross_auth_lite.errors import UnknownUserError
from cross_auth_lite.sessions.cursor import decode_cursor, encode_cursor
from cross_auth_lite.sessions.page import MAX_LIST_LIMIT, SessionModelT, SessionPage
from cross_auth_lite.sessions.queries import (
    SESSION_ORDERINGS,
    SESSION_STATUSES,
    active_session_query,
    ended_before,
    list_query,
    refresh_query,
    revoke_query,
    session_by_id_query,
    supports_returning,
)

__all__ = ["MAX_LIST_LIMIT", "PeeweeSessionStorage", "SessionPage"]


class PeeweeSessionStorage(Generic[SessionModelT]):
    """Cross-Auth ``SessionStorage`` for a peewee session model.

    Pass the model, ``PeeweeSessionStorage(Session)``, or subclass and
    declare ``SessionModel = Session``. The model must inherit from
    ``PeeweeSession``, be bound to a database, have a single-column primary
    key called ``id`` and a ``user`` foreign key (or a ``user_id`` column),
    and keep the base's ``UTCDateTimeField`` timestamps. Anything else is a
    ``TypeError`` here, not on the first sign-in.
    """

    SessionModel: type[SessionModelT]

    def __init__(self, model: type[SessionModelT] | None = None) -> None:
        if model is not None:
            self.SessionModel = model
        checked = check_session_model(
            type(self).__name__, getattr(self, "SessionModel", None), PeeweeSession
        )
        primary_key = primary_key_of(checked)
        self._pk: peewee.Field = primary_key
        self._owner = owner_field(checked)
        # Decided on first use: a DatabaseProxy may not be initialized yet.
        self._returning: bool | None = None
        self._aborts_on_error: bool | None = None
        self._statements = StatementCache(checked)
        self._get_statement: Compiled[SessionModelT] | None = None

    @property
    def database(self) -> peewee.Database:
        """The peewee database the session model is bound to."""
        database: peewee.Database = self.SessionModel._meta.database
        return database

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` now, or once the application transaction holding the writes commits.

        Dropped if that transaction, or the savepoint holding the write, rolls back.
        """
        if not callable(callback):
            raise TypeError("callback must be callable")
        on_commit(self.database, callback)

    # Reads

    def get(self, *, token_hash: str, now: datetime) -> SessionModelT | None:
        """The session with this token hash if it is active at ``now``, else ``None``.

        Active means not revoked and ``expires_at >= now``: a session is
        still active at its exact expiry instant.
        """
        if type(token_hash) is not str:
            text_argument("token_hash", token_hash)
        if NUL in token_hash:
            return None  # no stored token hash holds one
        if type(now) is not datetime or now.tzinfo is not UTC:  # else already aware UTC
            now = utc_argument("now", now)
        statement = self._get_statement
        if statement is None:
            model = self.SessionModel
            statement = self._get_statement = self._statements.get(
                "get", lambda: active_session_query(model)
            )
        record: SessionModelT | None = statement.first(token_hash=token_hash, now=now)
        return record

    def get_any(self, session_id: Any) -> SessionModelT | None:
        """The session with this id, whatever its status, or ``None``."""
        row_id = coerce_id(self._pk, session_id)
        if row_id is NO_MATCH:
            return None
        model = self.SessionModel
        statement = self._statements.get("get_any", lambda: session_by_id_query(model))
        record: SessionModelT | None = statement.first(id=row_id)
        return record

    def list_for_user(
        self,
        user_id: Any,
        *,
        now: datetime,
        status: SessionStatus | None = None,
        order_by: SessionListOrder = "updated_at_desc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> SessionPage[SessionModelT]:
        """One page of the user's sessions, optionally only those with ``status`` at ``now``.

        ``limit`` must be an int of at least 1; above ``MAX_LIST_LIMIT`` it is
        lowered to that (``next_cursor`` still leads to the rest). Pass the
        ``next_cursor`` of a page as ``cursor`` with the same ``order_by`` to
        get the next one; ties in the ordering column are broken by id.
        Raises ``ValueError`` for an unknown ``order_by`` or ``status`` and
        ``InvalidCursorError`` for a cursor that is malformed or was made for
        another ordering.
        """
        if type(limit) is not int or limit < 1:
            raise ValueError(f"limit must be an int >= 1, not {limit!r}")
        limit = min(limit, MAX_LIST_LIMIT)
        if not isinstance(order_by, str) or order_by not in SESSION_ORDERINGS:
            orderings = list(SESSION_ORDERINGS)
            raise ValueError(f"unknown order_by {order_by!r}; use one of {orderings}")
        if status is not None and status not in SESSION_STATUSES:
            raise ValueError(f"unknown status {status!r}; use one of {list(SESSION_STATUSES)}")
        now = utc_argument("now", now)
        position = None if cursor is None else decode_cursor(cursor, order_by=order_by)
        owner = coerce_id(self._owner, user_id)
        if owner is NO_MATCH:
            return SessionPage(records=[])

        name, descending = SESSION_ORDERINGS[order_by]
        values: dict[str, Any] = {"owner": owner, "now": now, "limit": limit + 1}
        if position is not None:
            values["after"] = position.value
            values["after_id"] = coerce_id(self._pk, position.row_id)
            if values["after_id"] is NO_MATCH:
                raise InvalidCursorError("this cursor names no possible session")
        statement = self._statements.get(
            ("list", name, descending, status, position is not None),
            lambda: list_query(
                self.SessionModel,
                self._owner,
                name,
                descending,
                status,
                paged=position is not None,
            ),
        )
        # One row past the page says whether there is a next one.
        rows: list[SessionModelT]
        rows, more = statement.page(limit, **values)
        if not more:
            return SessionPage(records=rows)
        last = rows[-1]
        next_cursor = encode_cursor(order_by, getattr(last, name), getattr(last, self._pk.name))
        return SessionPage(records=rows, next_cursor=next_cursor)

    # Writes

    @quoting_no_values
    def create(
        self,
        *,
        token_hash: str,
        user_id: Any,
        created_at: datetime,
        updated_at: datetime,
        expires_at: datetime,
        client_id: str | None = None,
        client_name: str | None = None,
        user_agent: str | None = None,
        ip: str | None = None,
        last_active_at: datetime | None = None,
    ) -> SessionModelT:
        """Store a new session and return it.

        Raises ``UnknownUserError`` (a ``ValueError``) when no user has
        ``user_id``; nothing is stored then.
        """
        values: dict[str, Any] = {
            "token_hash": indexed_text("token_hash", token_hash),
            "created_at": utc_argument("created_at", created_at),
            "updated_at": utc_argument("updated_at", updated_at),
            "expires_at": utc_argument("expires_at", expires_at),
            "last_active_at": (
                None if last_active_at is None else utc_argument("last_active_at", last_active_at)
            ),
            "client_id": optional_text("client_id", client_id),
            "client_name": optional_text("client_name", client_name),
            "user_agent": optional_text("user_agent", user_agent),
            "ip": optional_text("ip", ip),
        }
        owner = coerce_id(self._owner, user_id)
        if owner is NO_MATCH:
            raise UnknownUserError(f"no user has id {user_id!r}")
        values[self._owner.name] = owner
        try:
            if self._database_aborts_on_error() and self.database.transaction_depth():
                # PostgreSQL: a failed INSERT would abort the application's
                # whole transaction; a savepoint confines it to this write.
                with self.database.atomic():
                    record: SessionModelT = insert_row(self._statements, self.SessionModel, values)
            else:
                record = insert_row(self._statements, self.SessionModel, values)
        except peewee.IntegrityError as error:
            if not self._user_exists(owner):
                raise UnknownUserError(f"no user has id {user_id!r}") from error
            if (
                self.SessionModel.select()
                .where(self.SessionModel._meta.fields["token_hash"] == values["token_hash"])
                .exists()
            ):
                raise ValueError("a session with this token hash already exists") from error
            raise
        return record

    def _database_aborts_on_error(self) -> bool:
        """Whether a failed statement ends the enclosing transaction (anything but SQLite)."""
        if self._aborts_on_error is None:
            database = bound_database(self.database)
            self._aborts_on_error = not isinstance(database, peewee.SqliteDatabase)
        return self._aborts_on_error

    def _user_exists(self, owner: Any) -> bool:
        if not isinstance(self._owner, peewee.ForeignKeyField):
            return True  # no foreign key, so the failure was something else
        users = self._owner.rel_model
        return bool(users.select().where(self._owner.rel_field == owner).exists())

    @quoting_no_values
    def refresh(
        self,
        session_id: Any,
        *,
        updated_at: datetime,
        expires_at: datetime,
        last_active_at: datetime | None = None,
    ) -> SessionModelT | None:
        """Roll a session forward if it is still active at ``updated_at``; return it.

        One conditional UPDATE (with RETURNING, or on SQLite before 3.35
        followed by a SELECT in the same transaction): a session that is
        missing, revoked, or whose stored ``expires_at`` is before
        ``updated_at`` is left unchanged and ``None`` is returned, even when a
        revocation races this call. When ``last_active_at`` is ``None`` the
        stored value is kept.
        """
        values: dict[str, Any] = {
            "updated_at": utc_argument("updated_at", updated_at),
            "expires_at": utc_argument("expires_at", expires_at),
        }
        if last_active_at is not None:
            values["last_active_at"] = utc_argument("last_active_at", last_active_at)
        values["id"] = coerce_id(self._pk, session_id)
        if values["id"] is NO_MATCH:
            return None
        if self._returning is None:
            self._returning = supports_returning(self.database)
        returning = self._returning
        statement = self._statements.get(
            ("refresh", "last_active_at" in values, returning),
            lambda: refresh_query(self.SessionModel, values, returning=returning),
            self.SessionModel._meta.sorted_fields if returning else None,
        )
        if returning:
            # One statement: atomic on its own, and inside an application
            # transaction it simply joins it.
            return statement.first(**values)
        with write_transaction(self.database):
            if not statement.execute(**values).rowcount:
                return None
            return self.get_any(values["id"])

    @quoting_no_values
    def revoke(self, session_id: Any, *, revoked_at: datetime) -> None:
        """Mark the session revoked at ``revoked_at``; an already revoked one keeps its time."""
        revoked_at = utc_argument("revoked_at", revoked_at)
        row_id = coerce_id(self._pk, session_id)
        if row_id is NO_MATCH:
            return
        model = self.SessionModel
        statement = self._statements.get("revoke", lambda: revoke_query(model))
        statement.execute(id=row_id, revoked_at=revoked_at)

    @quoting_no_values
    def revoke_all_for_user(
        self,
        user_id: Any,
        *,
        revoked_at: datetime,
        except_session_id: Any | None = None,
    ) -> int:
        """Revoke every unrevoked session of the user, expired ones included; return how many.

        ``except_session_id`` (e.g. the current session) is left alone; an id
        no session could have excludes nothing.
        """
        revoked_at = utc_argument("revoked_at", revoked_at)
        owner = coerce_id(self._owner, user_id)
        if owner is NO_MATCH:
            return 0
        column = self.SessionModel._meta.fields["revoked_at"]
        update = self.SessionModel.update({column: revoked_at}).where(
            self._owner == owner, column.is_null()
        )
        keep = coerce_id(self._pk, except_session_id)
        if keep is not NO_MATCH:
            update = update.where(self._pk != keep)
        with self.database.atomic():
            count: int = update.execute()
        return count

    @quoting_no_values
    def purge_expired(
        self, *, now: datetime | None = None, older_than: timedelta = timedelta(days=30)
    ) -> int:
        """Delete sessions expired or revoked more than ``older_than`` before ``now``.

        Returns how many were deleted. ``now`` defaults to the current time.
        Keeping them for a while lets a session listing still show recently
        ended sessions. Runs as one DELETE over the whole table: call it from
        a periodic job, not per request.
        """
        now = datetime.now(UTC) if now is None else utc_argument("now", now)
        if not isinstance(older_than, timedelta):
            raise TypeError(f"older_than must be a timedelta, not {type(older_than).__name__}")
        if older_than < timedelta(0):
            raise ValueError("older_than must not be negative")
        try:
            cutoff = now - older_than
        except OverflowError:
            return 0  # before the earliest datetime: nothing ended that long ago
        with self.database.atomic():
            count: int = (
                self.SessionModel.delete().where(ended_before(self.SessionModel, cutoff)).execute()
            )
        return count
