"""What the demo is set up with: the address browsers use, the data directory, the session cookie.

``create_app`` builds one ``Settings`` and puts it on ``app.state``; the
routes read it through ``dependencies.SettingsDep``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["SESSION_COOKIE", "SESSION_UPDATE_AGE", "Settings"]

#: The name of the demo's session cookie.
SESSION_COOKIE = "cross_auth_lite_demo_session"
#: Seconds after which a request updates its session's last activity (and expiry).
SESSION_UPDATE_AGE = 60


@dataclass(frozen=True)
class Settings:
    """The demo's address and data directory, checked once when the app is built."""

    #: The address browsers use, without a trailing slash (``http://127.0.0.1:8000``).
    base_url: str
    #: Where the store is, as the pages show it (``LiteStore.location``).
    data_dir: str

    @classmethod
    def of(cls, base_url: str, *, data_dir: str) -> Settings:
        """The settings for ``base_url``; ``ValueError`` unless it is an absolute http(s) URL."""
        base_url = base_url.rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be an absolute http(s) URL, not {base_url!r}")
        return cls(base_url=base_url, data_dir=data_dir)

    @property
    def host(self) -> str:
        """The host (and port) of ``base_url``, as it is written there."""
        return urlsplit(self.base_url).netloc

    @property
    def origin(self) -> str:
        """The origin of ``base_url`` in lower case: what a same-origin request sends."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def secure(self) -> bool:
        """Whether browsers use ``https``: the session cookie is then ``Secure``."""
        return urlsplit(self.base_url).scheme == "https"
