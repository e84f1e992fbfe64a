"""Database and cache URLs: their scheme, and how they are shown without a password."""

from __future__ import annotations

import urllib.parse

__all__ = ["redact_url", "scheme_of"]


def scheme_of(url: str) -> str:
    """The lower-case scheme of ``url`` (``postgresql``, ``redis``, ...), ``""`` if it has none."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else ""


def redact_url(url: str) -> str:
    """``url`` as given, with its password (in the authority or the query) replaced by ``***``.

    Only the password changes: ``sqlite:///foo.db`` stays ``sqlite:///foo.db``.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc
    changed = False
    if "@" in netloc:
        credentials, _, host = netloc.rpartition("@")
        user, colon, _password = credentials.partition(":")
        if colon:
            netloc = f"{user}:***@{host}"
            changed = True
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    text = parts.query
    if any(key.lower() == "password" for key, _ in query):
        query = [(key, "***" if key.lower() == "password" else value) for key, value in query]
        text = urllib.parse.urlencode(query, safe="*")
        changed = True
    if not changed:
        return url
    # urlunsplit drops the empty authority of "scheme:///path"; put it back.
    shown = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, text, parts.fragment))
    return shown
