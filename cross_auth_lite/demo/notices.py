"""What the demo tells a person about a sign-in, link or unlink: its own words, by code.

A ``Flash`` (``cross_auth_lite.dev.browser_errors``) carries only short codes
to the next page; ``outcome_notice`` turns them into the line the page shows,
worded for the state the person is in now (a failed sign-in attempt leaves
someone already signed in signed in, and the line says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cross_auth_lite.dev.browser_errors import Flash

if TYPE_CHECKING:
    from cross_auth_lite.demo.pages import AccountRow

__all__ = ["SESSION_ENDED", "Notice", "outcome_notice"]


@dataclass(frozen=True)
class Notice:
    """A line at the top of a page: a problem, or (``done``) what just succeeded."""

    text: str
    done: bool = False


#: Home's line for a browser whose session cookie no longer signs it in.
SESSION_ENDED = (
    "Your session has ended: it was revoked (perhaps from another browser), or it expired."
)


def _identity(account: AccountRow) -> str:
    return f"the {account.provider} identity \u201c{account.provider_user_id}\u201d"


#: The demo's words for the outcomes it knows, by (flow, outcome).
_OUTCOMES = {
    ("sign-in", "access_denied"): (
        "Not signed in: that identity is linked to an account, but not as a way to "
        "sign in. Sign in the way you usually do."
    ),
    ("sign-in", "needed_for_profile"): "Sign in to see your profile.",
    ("sign-in", "needed_for_link"): "Sign in to link an identity.",
    ("sign-in", "account_not_linked"): (
        "Not signed in: an account with this email already exists, but the provider did "
        "not say the email is verified, so this identity cannot be linked to that account "
        "automatically. To sign in with it, sign in again and tick that the provider "
        "verified the email. (Linking it from your profile only connects it to the "
        "account: signing in with it is still refused.)"
    ),
    ("sign-in", "session_expired"): (
        "Not signed in: that sign-in attempt had expired or was already used. Sign in again."
    ),
    ("link", "account_already_linked"): (
        "Not linked: that identity is already linked to another user. Sign in as that "
        "user and unlink it there to link it here; an identity that is that user's only "
        "way to sign in cannot be unlinked."
    ),
    ("link", "unauthorized"): (
        "Not linked: linking needs you to be signed in. Sign in, then link the identity "
        "from your profile."
    ),
    ("link", "session_expired"): (
        "That link form had already been used or had expired, so nothing changed. To "
        "link an identity, use Link another identity below."
    ),
    ("unlink", "account_not_connected"): (
        "Not unlinked: that identity is not linked to your account."
    ),
}

#: Why a sign-in attempt was not used, for someone who is still signed in.
_UNUSED = {
    "access_denied": "that identity is linked to an account, but not as a way to sign in",
    "account_not_linked": (
        "an account with that email already exists, and the provider did not say the "
        "email is verified"
    ),
}
_UNEXPLAINED = "for a reason this demo has no explanation for"


def _still_signed_in(flash: Flash, email: str | None) -> Notice | None:
    still = f"You are still signed in as {email}." if email else "You are still signed in."
    if flash.outcome == "access_denied" and flash.source == "provider":
        return Notice(f"Sign-in cancelled: you cancelled at the provider. {still}")
    if flash.outcome in ("needed_for_profile", "needed_for_link"):
        return None  # signed in since: nothing left to ask
    if flash.outcome == "session_expired":
        return Notice(
            "That sign-in form had already been used or had expired, so nothing changed: "
            + still[0].lower()
            + still[1:]
        )
    reason = _UNUSED.get(flash.outcome, f"it did not complete, {_UNEXPLAINED}")
    return Notice(f"That sign-in attempt was not used: {reason}. {still}")


def outcome_notice(
    flash: Flash,
    *,
    accounts: Sequence[AccountRow] = (),
    had: frozenset[str] | None = None,
    signed_in: bool = False,
    email: str | None = None,
    unlinked: tuple[str, str] | None = None,
) -> Notice | None:
    """What to tell the person about ``flash``: the demo's own words, never text it carries.

    ``accounts`` are the user's linked identities now (to name the one the
    flash is about); ``had`` the ids of those the user had when the link
    started, when known (to tell a new link from one already there).
    ``signed_in`` says the person is signed in now (as ``email``): a failed
    sign-in attempt is then one that was not used, never "Not signed in".
    ``unlinked`` is the provider and provider user id of the identity just
    unlinked, when known (to name it).
    ``None`` when there is nothing to say.
    """
    flow, outcome = flash.flow, flash.outcome
    if flow == "sign-in" and signed_in:
        return _still_signed_in(flash, email)
    if outcome == "access_denied" and flash.source == "provider":
        if flow == "link":
            return Notice(
                "Linking cancelled: you cancelled at the provider, so no identity was linked."
            )
        return Notice("Sign-in cancelled: you cancelled at the provider, so nothing changed.")
    if (flow, outcome) == ("link", "linked"):
        if had is None:
            return Notice("Identity linked.", done=True)
        new = [a for a in accounts if a.id not in had]
        if not new:
            return Notice(
                "Nothing changed: that identity is already linked to your account.", done=True
            )
        names = ", ".join(_identity(a) for a in new)
        return Notice(f"Identity linked: {names} is now linked to your account.", done=True)
    if (flow, outcome) == ("unlink", "unlinked"):
        if unlinked is None:
            return Notice("Identity unlinked.", done=True)
        provider, sub = unlinked
        return Notice(
            f"Identity unlinked: the {provider} identity \u201c{sub}\u201d is no longer "
            "linked to your account.",
            done=True,
        )
    if (flow, outcome) == ("revoke", "revoked"):
        return Notice(
            "Session revoked: the browser using it is signed out on its next request.",
            done=True,
        )
    if (flow, outcome) == ("unlink", "no_alternative_login_method"):
        named = [a for a in accounts if a.id == flash.account]
        which = _identity(named[0]) if named else "this identity"
        return Notice(
            f"Not unlinked: {which} is your only way to sign in, so unlinking it would lock "
            "you out. Add another way first: sign in with another identity that has the "
            "same verified email."
        )
    known = _OUTCOMES.get((flow, outcome))
    if known is not None:
        return Notice(known)
    what = {"link": "Linking", "unlink": "Unlinking"}.get(flow, "Sign-in")
    return Notice(f"{what} did not complete, {_UNEXPLAINED}. Try again.")
