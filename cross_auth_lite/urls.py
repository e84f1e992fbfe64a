"""Database and cache URLs: their scheme, and how they are shown without a password.

``redact_url`` hides the password of anything it is given: a URL, one that
does not parse (where whatever may be a password is hidden too), or a
libpq ``key=value`` connection string. ``scrub`` takes a URL's password out
of a driver's message about that URL.
"""

from __future__ import annotations

import re
import urllib.parse

__all__ = ["MASK", "is_url_like", "redact_url", "scheme_of", "scrub", "url_secrets"]

#: What stands for a password.
MASK = "***"

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
#: The host part of an authority without credentials: ``host[:port]``, comma-separated.
_HOST = r"(?:\[[^\[\]@]*\]|[^\[\]:,@]*)(?::[0-9]*)?"
_HOSTS = re.compile(rf"{_HOST}(?:,{_HOST})*")
#: libpq's ``key=value`` strings: how they start, and one pair (a value may be quoted).
_KEYWORDS = re.compile(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*=")
#: "password" anywhere but before a hidden value: something was not understood.
_UNHIDDEN = re.compile(r"password(?!\s*=\s*\*\*\*)", re.IGNORECASE)
_PAIR = re.compile(r"\s*([^\s=]+)\s*=\s*('(?:[^'\\]|\\.)*'|(?!')(?:[^\s\\]|\\.|\\\Z)*)", re.DOTALL)


def scheme_of(url: str) -> str:
    """The lower-case scheme of ``url`` (``postgresql``, ``redis``, ...), ``""`` if it has none."""
    scheme, separator, _ = url.partition("://")
    return scheme.lower() if separator else ""


def redact_url(url: str) -> str:
    """``url`` as given, with its password (in the authority or the query) replaced by ``***``.

    Only the password changes: ``sqlite:///foo.db`` stays ``sqlite:///foo.db``.
    Whatever the text, no password comes back: in one that does not parse,
    everything between ``user:`` and the last ``@`` is hidden; in a libpq
    connection string, all from the ``password=`` value on; where it cannot
    tell, all but the scheme.

    ```python
    from cross_auth_lite import redact_url

    assert redact_url("postgresql://ada:pw@db/auth") == "postgresql://ada:***@db/auth"
    assert redact_url("postgresql://ada:p/w@[::1") == "postgresql://ada:***@[::1"
    assert redact_url("host=db password='p w' dbname=auth") == "host=db password=***"
    assert redact_url("postgresql://db:pw/auth") == "postgresql://***"
    ```
    """
    return _redact(url, secrets=[])


def is_url_like(text: str) -> bool:
    """Is ``text`` shaped like a URL (``scheme://...``) or a libpq ``key=value`` string?

    Anything else given as a URL (``secret``, say) may be a password typed in
    the wrong place: errors do not show it at all.
    """
    scheme, separator, _ = text.partition("://")
    return bool(separator and _SCHEME.fullmatch(scheme)) or bool(_KEYWORDS.match(text))


def url_secrets(url: str) -> list[str]:
    """Every text in ``url`` that may be a password, as written and decoded; longest first."""
    secrets: list[str] = []
    _redact(url, secrets)
    found = {text for raw in secrets for text in _decodings(raw)}
    return sorted((text for text in found if text), key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's message about ``url``) with the URL and its password hidden."""
    if url:
        text = text.replace(url, redact_url(url))
    for secret in url_secrets(url):
        text = text.replace(secret, MASK)
    return text


def _decodings(raw: str) -> set[str]:
    """``raw`` and the forms a driver may quote it in: percent-decoded, libpq-unquoted."""
    unquoted = raw[1:-1] if len(raw) > 1 and raw[0] == raw[-1] == "'" else raw
    unescaped = re.sub(r"\\(.)", r"\1", unquoted, flags=re.DOTALL)
    forms = {raw, unquoted, unescaped}
    return forms | {urllib.parse.unquote(form) for form in forms}


def _is_secret_key(key: str) -> bool:
    """``password``, ``sslpassword``, ... (percent-encoded or not)."""
    return any(
        "password" in decoded.strip().lower()
        for decoded in (key, urllib.parse.unquote(key), urllib.parse.unquote_plus(key))
    )


def _redact(text: str, secrets: list[str]) -> str:
    """``redact_url(text)``, adding to ``secrets`` each part it hid."""
    scheme, separator, rest = text.partition("://")
    if separator and _SCHEME.fullmatch(scheme):
        kept = f"{scheme}://"
        shown: str | None = kept + _redact_after_scheme(rest, secrets)
    elif _KEYWORDS.match(text):
        kept, shown = "", _redact_keywords(text, secrets)
    else:
        # Not a URL, nor a connection string: "/tmp/cache", "postgresql:/ada:pw@db", ...
        prefix = _SCHEME.match(text)
        kept = f"{prefix.group()}:" if prefix and text[prefix.end() :].startswith(":") else ""
        shown = None if "@" in text else _redact_query(text, secrets)
    if shown is None or _UNHIDDEN.search(shown):
        secrets.append(text[len(kept) :])
        return kept + MASK
    return shown


def _redact_after_scheme(rest: str, secrets: list[str]) -> str:
    # What any reading takes for a password is hidden: the last "@" may end the
    # credentials (a password with "@", "/" or "?" in it), or be in the query.
    credentials, at, _ = rest.rpartition("@")
    spans: list[tuple[int, int]] = []
    if at:
        colon = credentials.find(":")
        if colon >= 0:
            spans.append((colon + 1, len(credentials)))
        spans += _query_spans(rest, len(credentials) + 1)
    elif not _HOSTS.fullmatch(re.split(r"[/?#]", rest, maxsplit=1)[0]):
        # "db:hunter2" is no host and port: perhaps "user:password" without its "@".
        spans.append((0, len(rest)))
    return _masked(rest, spans + _query_spans(rest, 0), secrets)


def _redact_query(text: str, secrets: list[str]) -> str:
    return _masked(text, _query_spans(text, 0), secrets)


def _query_spans(text: str, start: int) -> list[tuple[int, int]]:
    """Where the values of password parameters are in the query after ``text[start:]``."""
    mark = text.find("?", start)
    if mark < 0:
        return []
    spans = []
    position = mark + 1
    for parameter in text[position:].split("&"):
        key, equals, _ = parameter.partition("=")
        if equals and _is_secret_key(key):
            spans.append((position + len(key) + 1, position + len(parameter)))
        position += len(parameter) + 1
    return spans


def _masked(text: str, spans: list[tuple[int, int]], secrets: list[str]) -> str:
    """``text`` with each of ``spans`` (merged where they overlap) replaced by ``***``."""
    merged: list[list[int]] = []
    for begin, end in sorted(spans):
        if merged and begin <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([begin, end])
    shown: list[str] = []
    position = 0
    for begin, end in merged:
        secrets.append(text[begin:end])
        shown.append(text[position:begin] + MASK)
        position = end
    return "".join(shown) + text[position:]


def _redact_keywords(text: str, secrets: list[str]) -> str:
    """A libpq ``key=value ...`` string up to its first password, the rest hidden.

    Anything after a password may be more of it (``password=pass phrase``),
    and anything unreadable (an unclosed quote, a word without ``=``) too.
    """
    shown: list[str] = []
    position = 0
    while text[position:].strip():
        pair = _PAIR.match(text, position)
        if pair is None or _is_secret_key(pair.group(1)):
            start = position if pair is None else pair.start(2)
            if pair is not None:
                secrets.append(pair.group(2))
                shown.append(text[position:start])
            elif shown:
                shown.append(" ")
            secrets.append(text[start:])
            return "".join(shown) + MASK
        value = pair.group(2)
        shown.append(text[position : pair.start(2)])
        shown.append(_redact(value, secrets) if "@" in value or "?" in value else value)
        position = pair.end()
    return "".join(shown) + text[position:]
