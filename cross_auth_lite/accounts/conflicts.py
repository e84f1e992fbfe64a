"""What the accounts storage reports when the rows refuse a call, as the errors it documents.

A write that meets a unique index or a foreign key fails with peewee's
``IntegrityError``; ``AccountConflicts`` reads the rows again to say which
rule it met: Cross-Auth's ``email_already_registered`` or
``account_already_linked``, ``UnknownUserError``, or, for a connection its
own user retries, the row that is already there. A lookup that finds an
identity connected to several users, or no connection to change, is an
``AmbiguousSocialAccountError`` or a ``SocialAccountNotFoundError``.
"""

from __future__ import annotations

from typing import Any

import peewee

from cross_auth_lite.accounts.rows import AccountRows, SocialAccountT, UserT
from cross_auth_lite.errors import (
    AmbiguousSocialAccountError,
    SocialAccountNotFoundError,
    UnknownUserError,
    account_already_linked,
    email_already_registered,
)

__all__ = ["AccountConflicts"]


class AccountConflicts(AccountRows[UserT, SocialAccountT]):
    """The conflicts under ``PeeweeAccountsStorage``, told from the rows they met."""

    @staticmethod
    def _only(
        rows: list[SocialAccountT], provider: str, provider_user_id: str
    ) -> SocialAccountT | None:
        """The one connection of an identity lookup, ``None``, or the ambiguity, raised."""
        if len(rows) > 1:
            raise AmbiguousSocialAccountError(
                f"{provider}:{provider_user_id} is connected to several users; "
                "pass user_id or is_login_method=True"
            )
        return rows[0] if rows else None

    @staticmethod
    def _missing_account(social_account_id: Any) -> SocialAccountNotFoundError:
        return SocialAccountNotFoundError(f"social account {social_account_id!r} does not exist")

    def _user_conflict(self, error: peewee.IntegrityError, email: str | None) -> Exception:
        email_field = self.UserModel._meta.fields.get("email")
        unique_email = email_field is not None and email_field.unique
        if (
            email is not None
            and unique_email
            and self.UserModel.select().where(email_field == email).exists()
        ):
            return email_already_registered()
        return error

    def _retried_connection(
        self, error: peewee.IntegrityError, values: dict[str, Any]
    ) -> SocialAccountT:
        """The row an insert of ``values`` collided with, when it is the same user's retry.

        Otherwise the conflict, raised: another user owns the identity, or the
        retry would turn a connection into a login method.
        """
        owner = values[self._owner.name]
        provider, provider_user_id = values["provider"], values["provider_user_id"]
        model = self.SocialAccountModel
        existing: SocialAccountT | None = (
            self._accounts()
            .where(
                model.provider == provider,
                model.provider_user_id == provider_user_id,
                self._owner == owner,
            )
            .first()
        )
        if existing is None:
            raise self._attach_conflict(error, owner, provider, provider_user_id) from error
        if values["is_login_method"] and not existing.is_login_method:
            raise account_already_linked(provider, provider_user_id) from error
        return existing

    def _attach_conflict(
        self, error: peewee.IntegrityError, owner: Any, provider: str, provider_user_id: str
    ) -> Exception:
        if not self.UserModel.select().where(self._user_pk == owner).exists():
            return UnknownUserError(f"no user has id {owner!r}")
        if self._identity_exists(provider, provider_user_id):
            return account_already_linked(provider, provider_user_id)
        return error
