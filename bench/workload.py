"""The data every backend is populated with.

Every backend gets the same population through its own protocol methods
(``create_user_with_identity``, session ``create``, secondary ``set``).
The operations timed on it are in ``bench.operations``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cross_auth import SocialAccountCreate

from bench.backends import Backend, record_id

__all__ = [
    "Population",
    "PopulationSize",
    "Workload",
    "populate",
    "sanity_check",
]

PROVIDER = "github"
TTL_SECONDS = 600
SESSION_DAYS = 30
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
# A typical OAuth state record: JSON of the authorization request.
SECONDARY_VALUE = (
    '{"redirect_uri":"https://app.example.com/auth/callback","code_verifier":'
    '"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk","provider":"github",'
    '"scope":"read:user user:email","created_at":1767225600}'
)


def email(index: int) -> str:
    """The email of populated user ``index``."""
    return f"user{index:07d}@example.com"


def provider_user_id(index: int) -> str:
    """The GitHub id of populated user ``index``."""
    return str(10_000_000 + index)


def token_hash(name: str) -> str:
    """A session token hash as Cross-Auth stores it (hex SHA-256)."""
    return hashlib.sha256(name.encode()).hexdigest()


def secondary_key(index: int) -> str:
    """A populated secondary-storage key."""
    return f"oauth:state:{index:07d}"


def user_create(address: str) -> dict[str, Any]:
    """Cross-Auth's ``UserCreate`` for a signup with ``address``."""
    return {
        "user_info": {"email": address, "login": address.split("@")[0]},
        "email": address,
        "email_verified": True,
        "extra_fields": None,
    }


def identity_for(provider_id: str) -> Callable[[Any], SocialAccountCreate]:
    """The identity callback of a signup: Cross-Auth's ``SocialAccountCreate`` for the user."""

    def identity(user: Any) -> SocialAccountCreate:
        return {
            "user_id": user.id,
            "provider": PROVIDER,
            "provider_user_id": provider_id,
            "access_token": "gho_16C7e42F292c6912E7710c838347Ae178B4a",
            "refresh_token": None,
            "access_token_expires_at": None,
            "refresh_token_expires_at": None,
            "scope": "read:user,user:email",
            "user_info": {"id": provider_id},
            "provider_email": None,
            "provider_email_verified": None,
            "is_login_method": True,
            "extra_fields": None,
        }

    return identity


@dataclass(frozen=True)
class PopulationSize:
    """How much each backend holds before timing starts."""

    users: int = 1000
    heavy_user_sessions: int = 200
    secondary_keys: int = 1000


@dataclass(frozen=True)
class Workload:
    """The population size and the fixed "now" of a run."""

    size: PopulationSize
    now: datetime

    @property
    def expires(self) -> datetime:
        """The expiry given to every session."""
        return self.now + timedelta(days=SESSION_DAYS)


@dataclass
class Population:
    """What populating one backend produced: its ids, in population order."""

    user_ids: list[Any]
    session_ids: list[Any]
    session_tokens: list[str]

    @property
    def heavy_user(self) -> Any:
        """The user with ``heavy_user_sessions`` sessions."""
        return self.user_ids[0]


def populate(backend: Backend, workload: Workload) -> Population:
    """Fill ``backend``: users with identities, a session each (many for user 0), keys."""
    size, now = workload.size, workload.now
    population = Population(user_ids=[], session_ids=[], session_tokens=[])
    if backend.accounts is not None:
        for index in range(size.users):
            user, _ = backend.accounts.create_user_with_identity(
                user=user_create(email(index)), identity=identity_for(provider_user_id(index))
            )
            population.user_ids.append(record_id(user))
    if backend.sessions is not None:
        owners = population.user_ids + [population.heavy_user] * (size.heavy_user_sessions - 1)
        for index, owner in enumerate(owners):
            token = token_hash(f"session:{index}")
            updated = now - timedelta(seconds=index)  # distinct, so listing order is defined
            record = backend.sessions.create(
                token_hash=token,
                user_id=owner,
                created_at=updated,
                updated_at=updated,
                expires_at=workload.expires,
                client_id="web",
                user_agent=USER_AGENT,
                ip="127.0.0.1",
                last_active_at=updated,
            )
            population.session_ids.append(record_id(record))
            population.session_tokens.append(token)
    if backend.secondary is not None:
        for index in range(size.secondary_keys):
            backend.secondary.set(secondary_key(index), SECONDARY_VALUE, TTL_SECONDS)
    return population


def sanity_check(backend: Backend, population: Population, workload: Workload) -> None:
    """Fail loudly if a backend would be timed doing nothing (a lookup that misses)."""
    problems = []
    if backend.accounts is not None:
        if backend.accounts.find_user_by_email(email(1)) is None:
            problems.append("find_user_by_email missed")
        found = backend.accounts.find_social_account(
            provider=PROVIDER, provider_user_id=provider_user_id(1), is_login_method=True
        )
        if found is None:
            problems.append("find_social_account missed")
    if backend.sessions is not None:
        token = population.session_tokens[1]
        if backend.sessions.get(token_hash=token, now=workload.now) is None:
            problems.append("session get missed")
        page = backend.sessions.list_for_user(population.heavy_user, now=workload.now, limit=20)
        records = page[0] if isinstance(page, tuple) else page.records
        if len(records) != min(20, workload.size.heavy_user_sessions):
            problems.append(f"list_for_user returned {len(records)} records")
    if backend.secondary is not None and backend.secondary.get(secondary_key(1)) is None:
        problems.append("secondary get missed")
    if problems:
        raise RuntimeError(f"{backend.label}: {', '.join(problems)}")
