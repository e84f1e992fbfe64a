"""The demo's own short-lived cookies, for the profile to word what a link or unlink did.

Each holds only what the demo wrote, and each is read back with care: a
value that is not what the demo writes is ignored, and whatever reaches a
page is escaped there.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping

__all__ = ["HAD_COOKIE", "IDS", "UNLINKED_COOKIE", "had", "unlinked", "unlinked_value"]

#: The ids of the identities the user had when a link started (``/link``).
HAD_COOKIE = "cross_auth_lite_demo_had"
#: The identity just unlinked, to name it on the profile: base64url (unpadded)
#: of ``provider``, NUL, provider user id.
UNLINKED_COOKIE = "cross_auth_lite_demo_unlinked"
IDS = re.compile(r"[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,99}")


def had(cookies: Mapping[str, str]) -> frozenset[str] | None:
    """The ids in the ``HAD_COOKIE`` among ``cookies``, or ``None`` when there is none."""
    value = cookies.get(HAD_COOKIE)
    if value is None:
        return None
    if value == "-":  # no identities at all
        return frozenset()
    return frozenset(value.split(".")) if IDS.fullmatch(value) else None


def unlinked_value(provider: str, provider_user_id: str) -> str:
    """The ``UNLINKED_COOKIE`` value naming an identity."""
    raw = f"{provider}\0{provider_user_id}".encode()
    # Without the padding: "=" would have the cookie quoted.
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def unlinked(cookies: Mapping[str, str]) -> tuple[str, str] | None:
    """The provider and provider user id in the ``UNLINKED_COOKIE``, if it holds them."""
    value = cookies.get(UNLINKED_COOKIE)
    if not value or len(value) > 400:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        provider, sub = raw.decode().split("\0")
    except ValueError:  # not base64, not UTF-8, or not two parts
        return None
    return (provider, sub) if provider and sub else None
