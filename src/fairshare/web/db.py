"""Database engine, sessions and migrations.

SQLite (the embedded default) gets foreign keys on and ``BEGIN IMMEDIATE`` for every transaction, so
two writers queue instead of both reading a balance and both spending it; PostgreSQL locks the rows a
transaction will change (``SELECT … FOR UPDATE``, see :func:`locked`). The schema is created and
upgraded only by the Alembic migrations in ``web/migrations`` (:func:`migrate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from fairshare.web.models import Base

__all__ = ["Database", "locked"]

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T", bound=Base)


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" below open each transaction
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
            _sqlite_pragmas(self.engine)
        else:
            self.engine = create_engine(url, pool_size=20, max_overflow=40, pool_pre_ping=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self) -> None:
        """Bring the schema to the latest migration (creates it in an empty database)."""
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an error."""
        with self.sessions.begin() as s:
            yield s

    def dispose(self) -> None:
        self.engine.dispose()


def locked(s: Session, model: type[T], key: Any) -> T | None:
    """The row ``key`` of ``model``, locked until the transaction ends (FOR UPDATE; SQLite's
    BEGIN IMMEDIATE already holds the write lock)."""
    stmt = select(model).where(model.__mapper__.primary_key[0] == key)
    if s.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return s.scalars(stmt).first()
