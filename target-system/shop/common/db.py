"""SQLAlchemy 2 helpers: engine (SQLite tuned for concurrent use), sessions, ping.

Each service defines its own `DeclarativeBase` and tables, and creates them at start-up.

SQLite notes (why the engine is set up this way): WAL lets readers run beside one writer;
a busy timeout makes writers queue instead of failing; and write transactions start with
`BEGIN IMMEDIATE` (`session_scope(engine, write=True)`), because a deferred transaction that
reads first and then writes can fail at once with "database is locked" under WAL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect, Engine, MetaData, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_SECONDS = 15.0
_IMMEDIATE_OPTION = "shop_sqlite_begin_immediate"


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets WAL, a busy timeout and thread sharing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
    }
    if in_memory:
        kwargs["poolclass"] = StaticPool  # one shared connection, or each gets its own DB
    engine = create_engine(url, echo=echo, **kwargs)
    _configure_sqlite(engine, wal=not in_memory)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (the pysqlite driver's own
        # implicit BEGIN is deferred and cannot be made IMMEDIATE).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(_IMMEDIATE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool), whose transactions take SQLite's write lock up front."""
    return engine.execution_options(**{_IMMEDIATE_OPTION: True})


@contextmanager
def session_scope(engine: Engine, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error.

    `write=True` (SQLite) takes the write lock at BEGIN, so read-then-write transactions
    queue behind each other instead of failing; keep such transactions short.
    """
    bind = write_engine(engine) if write else engine
    with Session(bind=bind, expire_on_commit=False) as session, session.begin():
        yield session


def delete_all_rows(engine: Engine, metadata: MetaData) -> None:
    """Empty every table of `metadata` in one transaction (children first); for test resets."""
    with session_scope(engine, write=True) as session:
        for table in reversed(metadata.sorted_tables):
            session.execute(table.delete())


def ping(engine: Engine) -> bool:
    """True when the database answers `SELECT 1`."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logger.warning("database ping failed", exc_info=True)
        return False
    return True


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    SQLite keeps no offset, so values are stored as naive UTC and read back as aware UTC
    (serialised as `...+00:00`). Naive input is refused: it is ambiguous.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UtcDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)
