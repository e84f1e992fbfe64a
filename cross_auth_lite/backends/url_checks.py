"""A database or cache URL's shape, checked before any driver reads it.

psycopg and redis-py quote a URL they cannot parse in their errors, or the
part of it they stumbled on, password included. The URLs they would refuse
are refused here first, each problem said without repeating any of the
URL; ``postgres.py`` and ``redis_cache.py`` raise ``MalformedURLError``
with it.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable

from cross_auth_lite.errors import MalformedURLError, UnsupportedURLError

__all__ = ["checked_url", "postgres_url_problem", "redis_url_problem"]

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_PORT = re.compile(r"[0-9]*")
_IPV6_CHARACTERS = re.compile(r"[0-9A-Fa-f:.]+")

_AT = (
    "it has an '@' that does not end the user name and password: write every other '@' "
    "as %40, and '/', '?' and '#' in the user name and password as %2F, %3F and %23"
)


def checked_url(
    parameter: str,
    url: object,
    *,
    supported: Callable[[str], bool],
    advice: str,
    problem: Callable[[str], str | None],
) -> str:
    """``url``, the value of ``parameter``, once it is a str of a kind and shape we can use.

    ``TypeError`` for a non-str; ``UnsupportedURLError`` (with ``advice``)
    where ``supported`` says no; ``MalformedURLError`` with what ``problem``
    finds wrong in its shape.
    """
    if not isinstance(url, str):
        raise TypeError(f"{parameter} must be a str or None, not {type(url).__name__}")
    if not supported(url):
        raise UnsupportedURLError(parameter, url, advice)
    found = problem(url)
    if found is not None:
        raise MalformedURLError(parameter, url, found)
    return url


def postgres_url_problem(url: str) -> str | None:
    """What keeps libpq from reading the ``postgresql://`` URL ``url``; ``None`` when nothing.

    libpq's URLs may name several hosts (``postgresql://a:5432,b:5433/auth``)
    and take ``NAME=VALUE`` parameters after ``?``.
    """
    problem = _shape_problem(url, several_hosts=True)
    if problem is None and "%00" in url:
        problem = "it holds %00, which libpq does not accept"
    if problem is None:
        _, _, query = url.partition("?")
        for parameter in query.split("&"):
            key, equals, value = parameter.partition("=")
            if parameter and (not key or not equals or "=" in value):
                problem = (
                    "each parameter after '?' must be NAME=VALUE with one '=': write '=' "
                    "and '&' in a value as %3D and %26"
                )
                break
    return problem


def redis_url_problem(url: str) -> str | None:
    """What keeps redis-py from reading the ``redis://`` (or ``unix://``) URL ``url``."""
    problem = _shape_problem(url, several_hosts=False)
    if problem is None:
        try:
            parts = urllib.parse.urlsplit(url)
            _ = (parts.hostname, parts.port)  # each raises for a bad one
        except ValueError:
            problem = "its host or port cannot be read"
    return problem


def _shape_problem(url: str, *, several_hosts: bool) -> str | None:
    """What both drivers refuse, or read otherwise than it looks: ``None`` when nothing."""
    rest = url.partition("://")[2]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if rest.count("@") > 1 or ("@" in rest and "@" not in authority):
        return _AT
    if _SPACE_OR_CONTROL.search(url):
        return "it holds a space or a control character: write a space as %20"
    if _BAD_PERCENT.search(url):
        return "it has a '%' that starts no percent-encoded byte (%XX): write a '%' as %25"
    hosts = authority.rpartition("@")[2]
    for host in hosts.split(",") if several_hosts else [hosts]:
        problem = _host_problem(host)
        if problem is not None:
            return problem
    return None


def _host_problem(host: str) -> str | None:
    """``host[:port]``, the host a name, an IPv4 address or an IPv6 one in brackets."""
    if host.startswith("["):
        address, closed, after = host[1:].partition("]")
        if not closed or "[" in address:
            return "an IPv6 address in it has no closing ']'"
        if after and not after.startswith(":"):
            return "an IPv6 address in brackets must be followed by ':PORT' or nothing"
        port = after[1:]
    else:
        name, _, port = host.partition(":")
        if "[" in name or "]" in name:
            return "it has a '[' or ']' that does not enclose an IPv6 address"
        if ":" in port and _IPV6_CHARACTERS.fullmatch(host):
            return "an IPv6 address in it is not in brackets: write it as [ADDRESS]"
    if not _PORT.fullmatch(port) or (port and int(port) > 65535):
        return "its port is not a number from 0 to 65535"
    return None
