"""Database engine, sessions and migrations.

Two kinds of transaction (:meth:`Database.session`):

* **write** — on SQLite (the embedded default) ``BEGIN IMMEDIATE``, so two writers queue instead of both
  reading a balance and both spending it; on PostgreSQL the rows a transaction will change are locked
  with ``SELECT … FOR UPDATE`` (:func:`locked`).
* **read** — read-only: SQLite ``PRAGMA query_only`` in a deferred transaction, PostgreSQL ``READ ONLY``.
  A request that only reads (GET) gets one, so readers never wait for the write lock, and a read
  that tries to write fails loudly instead of racing.

SQLite runs in WAL mode (readers and the one writer do not block each other) with foreign keys on; its
writers queue for a single writer connection (:func:`_sqlite_engine`). A write that waits longer than
:data:`WRITE_WAIT` seconds (``Settings.write_wait``) fails with 503 ``database_busy``
(:mod:`fairshare.web.problems`). The schema is created and upgraded only by the Alembic migrations in
``web/migrations`` (:func:`migrate`).
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

__all__ = ["POOL_SIZE", "WRITE_WAIT", "Database", "locked"]

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T", bound=Base)
#: connections kept open for reading (and writing, on PostgreSQL): above the 40 worker threads that run
#: the workbench's endpoints (AnyIO's default), so no request waits for a connection held by one that
#: waits for a thread
POOL_SIZE = 48
#: seconds a SQLite write transaction waits for its turn (the writer connection, then the file's lock)
WRITE_WAIT = 30


def _sqlite_engine(url: str, write: bool, wait: float) -> Engine:
    """A SQLite engine. The writer has one connection: writers queue for it in the pool's FIFO order, in
    this process, instead of polling the file's lock (SQLite's busy handler sleeps and retries, so a
    writer can be overtaken again and again). ``BEGIN IMMEDIATE`` then takes the file's write lock, so a
    transaction never reads a balance another writer is about to change; the busy timeout still covers
    writers in other processes. Readers: read-only (``PRAGMA query_only``) deferred transactions."""
    size = {"pool_size": 1, "max_overflow": 0, "pool_timeout": wait} if write else {"pool_size": POOL_SIZE}
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": wait}, **size)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" below open each transaction
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={round(wait * 1000)}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable at checkpoints, never corrupt
        cur.execute(f"PRAGMA query_only={'OFF' if write else 'ON'}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Database:
    """The engines (a writer and a reader) and their session factories."""

    def __init__(self, url: str, write_wait: float = WRITE_WAIT):
        self.url = url
        if url.startswith("sqlite"):
            path = url.removeprefix("sqlite:///")
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = _sqlite_engine(url, write=True, wait=write_wait)
            self.read_engine = _sqlite_engine(url, write=False, wait=write_wait)
            reader: Engine = self.read_engine
        else:
            self.engine = create_engine(
                url, pool_size=POOL_SIZE, max_overflow=8, pool_timeout=write_wait, pool_pre_ping=True
            )
            self.read_engine = self.engine
            reader = self.engine.execution_options(postgresql_readonly=True)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.readers = sessionmaker(reader, expire_on_commit=False)

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
    def session(self, write: bool = True) -> Iterator[Session]:
        """A session in one transaction: committed when the block ends, rolled back on an error.
        ``write=False``: a read-only transaction."""
        with (self.sessions if write else self.readers).begin() as s:
            yield s

    def new_session(self, write: bool) -> Session:
        """A session whose transactions are write (or read-only) ones; the caller commits and closes it."""
        return (self.sessions if write else self.readers)()

    def dispose(self) -> None:
        self.engine.dispose()
        self.read_engine.dispose()


def locked(s: Session, model: type[T], key: Any) -> T | None:
    """The row ``key`` of ``model``, locked until the transaction ends (FOR UPDATE; SQLite's
    BEGIN IMMEDIATE already holds the write lock)."""
    stmt = select(model).where(model.__mapper__.primary_key[0] == key)
    if s.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    return s.scalars(stmt).first()
