"""Workbench settings: where the database is, the secret that signs nothing but is kept for tokens, cookies.

``FAIRSHARE_DATABASE_URL`` points a shared deployment at PostgreSQL (``postgresql://user@host/db``);
without it the workbench keeps a SQLite file in its data directory. Session cookies are always
``HttpOnly``, ``SameSite=Lax`` and, unless ``FAIRSHARE_INSECURE_COOKIES=1`` (plain-HTTP development on
another host than localhost), ``Secure`` (browsers accept Secure cookies from http://localhost).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

__all__ = ["Settings", "normalise_url"]


def normalise_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` URLs use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".fairshare")
    database_url: str = ""
    secure_cookies: bool = True
    session_lifetime: timedelta = timedelta(hours=12)
    #: seed the demo district, its users and its plans into an empty database
    demo: bool = True
    #: seconds a write waits for its turn before the request fails with 503 ``database_busy``
    write_wait: float = 30.0
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return normalise_url(self.database_url or f"sqlite:///{(self.data_dir / 'fairshare.db').resolve()}")

    @classmethod
    def from_env(cls, data_dir: Path | None = None, demo: bool = True) -> Settings:
        return cls(
            data_dir=data_dir or Path(os.environ.get("FAIRSHARE_DATA_DIR", ".fairshare")),
            database_url=os.environ.get("FAIRSHARE_DATABASE_URL", ""),
            secure_cookies=os.environ.get("FAIRSHARE_INSECURE_COOKIES", "") != "1",
            demo=demo,
        )
